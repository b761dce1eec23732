"""Take the README/issue screenshots: real runs of the demo model in the real window (not a test).

Run under a virtual display, e.g.:
    Xvfb :99 -screen 0 1600x1000x24 & DISPLAY=:99 python tests/gui/screenshots.py resources/screenshots
It first connects the window to a test phone (the adbpeer from tests/, over direct TCP, with its config,
adb key and remembered targets in a temporary folder, never the user's) through the "Connect over TCP"
dialog, so the Devices dock shows an adb device next to this machine. Then it makes two runs on this
machine (the second with 1 thread), grabs the Live tab mid-run and after, Layers (with a diff), Compare
and History, derives an fp16 variant and tunes base vs fp16 at 64/96 px (Tuner tab), and writes PNGs
into the given folder.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(out: Path) -> None:
    from PySide6.QtCore import QSettings, Qt

    from workbench.app import create_app
    from workbench.app.main_window import MainWindow
    from workbench.core.devices.registry import list_devices
    from workbench.core.models import demo_model_path

    from tests.adbpeer.adb_server import closed_port
    from tests.adbpeer.peer import AdbPeer, PeerConfig

    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    tmp = Path(tempfile.mkdtemp(prefix="wb-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")  # remembered targets: not the user's
    os.environ["ANDROID_USER_HOME"] = str(tmp / "android")  # adb key: not the user's
    nobody = closed_port()  # no adb server is found there: the connect goes direct
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(nobody.getsockname()[1])
    peer = AdbPeer(tmp / "phone", PeerConfig()).start()
    w = MainWindow(tmp / "ws", settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
                   device_lister=lambda: list_devices())
    w.resize(1560, 960)
    w.show()

    def pump(seconds: float, until=lambda: False) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and not until():
            app.processEvents()
            time.sleep(0.005)

    pump(20, lambda: w.run_panel.device.count() > 0 and not w.tasks.pending)
    dialog = w.devices_panel.open_connect_dialog()
    dialog.target.setText(f"127.0.0.1:{peer.port}")
    pump(0.5)
    dialog.grab().save(str(out / "connect-dialog.png"))
    dialog.try_connect()
    pump(30, lambda: not dialog.isVisible())
    pump(20, lambda: w.devices_panel._item(peer.serial) is not None
         and "device)" in w.devices_panel._item(peer.serial).text())
    w.devices_panel.select("local")
    w.open_model(demo_model_path("mobilenet_se"))
    pump(20, lambda: not w.tasks.pending)
    finished: list = []
    w.bridge.sig_run_finished.connect(lambda ev: finished.append(ev.result))

    def run(seconds: float, threads: int, mid_shot: str | None = None) -> None:
        w.run_panel.seconds.setValue(seconds)
        assert w.run_panel.runs.text() == "until duration"  # setting a duration switched the count off
        w.run_panel.threads.setValue(threads)
        w.run_panel.layers.setChecked(True)
        n = len(finished)
        w.start_run()
        if mid_shot:
            pump(seconds * 0.6)
            w.grab().save(str(out / mid_shot))
        pump(120, lambda: len(finished) > n and not w.runner.busy)
        pump(1.0)

    run(12, 0, "live-during-run.png")
    w.grab().save(str(out / "live-after-run.png"))
    run(6, 1)
    a, b = finished[0].run_id, finished[1].run_id
    w.tabs.setCurrentWidget(w.layers_tab)
    w.open_run(a)
    pump(10, lambda: w.current_run_id == a and not w.tasks.pending)
    w.tabs.setCurrentWidget(w.layers_tab)
    w.layers_tab.diff_with.setCurrentIndex(0)
    w._diff_with(b)
    pump(10, lambda: w.layers_tab.diff.rowCount() > 0)
    w.layers_tab.right.setCurrentIndex(0)
    pump(0.5)
    w.grab().save(str(out / "layers.png"))
    w.layers_tab.right.setCurrentIndex(2)
    pump(0.5)
    w.grab().save(str(out / "layers-diff.png"))
    w.compare_runs([a, b])
    pump(10, lambda: w.tabs.currentWidget() is w.compare_tab)
    pump(0.5)
    w.grab().save(str(out / "compare.png"))
    w.tabs.setCurrentWidget(w.history_tab)
    pump(0.5)
    w.grab().save(str(out / "history.png"))

    derived: list = []
    w.sig_variant_derived.connect(derived.append)
    root_id = w.models_panel.tree.topLevelItem(0).data(1, 0x0100)  # Qt.UserRole
    w.derive(root_id, "fp16", {})
    pump(120, lambda: bool(derived) and not w.tasks.pending)
    pump(10, lambda: w.tuner_tab.variant_list.count() >= 2)
    t = w.tuner_tab
    for i in range(t.variant_list.count()):
        t.variant_list.item(i).setCheckState(Qt.CheckState.Checked)
    t.resolutions.setText("64,96,128")
    t.threads.setText("1,2")
    t.runs.setValue(15)
    t.trials.setValue(12)
    t.budget.setValue(4.0)
    t.min_fidelity.setValue(0.999)
    t.strategy.setCurrentText("grid")
    studies: list = []
    t.sig_study_done.connect(studies.append)
    w.tabs.setCurrentWidget(t)
    t.start()
    pump(300, lambda: bool(studies))
    pump(10, lambda: t.trace is not None and not w.tasks.pending)
    pump(0.5)
    w.grab().save(str(out / "tuner.png"))
    w.close()
    peer.stop()
    peer.reap()
    nobody.close()
    print("\n".join(str(p) for p in sorted(out.glob("*.png"))))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots"))
