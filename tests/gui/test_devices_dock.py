"""Devices dock against the real test ADB peer (direct TCP, no adb server): Connect over TCP with a
one-line error for a bad target, the polled list showing the phone go offline when it stops answering,
Disconnect forgetting it; and the run panel's runner / cooldown / affinity reaching the BenchmarkJob."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from tests.adbpeer.adb_server import closed_port
from tests.adbpeer.fixtures import adb_key, make_peer  # noqa: F401 - pytest fixtures
from workbench.core.adb import remembered
from workbench.core.types import DeviceState


@pytest.fixture
def adb_window(qtbot, tmp_path: Path, adb_key: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    """The window with the real device registry (adb included), its config, key and server port kept
    inside the test; no adb server can be found (a port held closed), so connects go direct."""
    from workbench.app import create_app
    from workbench.app.main_window import MainWindow

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("ANDROID_USER_HOME", str(adb_key.parent))
    nobody = closed_port()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(nobody.getsockname()[1]))
    create_app()
    w = MainWindow(tmp_path / "ws", settings=QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat),
                   device_poll_ms=300)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.run_panel.device.count() > 0, timeout=10_000)
    yield w
    w.close()
    nobody.close()


def _state(w, serial: str) -> DeviceState | None:
    row = w.devices_vm.row(serial)
    return row.state if row else None


def _item_text(w, serial: str) -> str:
    item = w.devices_panel._item(serial)
    return item.text() if item else ""


def test_connect_poll_offline_disconnect(qtbot, adb_window, make_peer, demo_model) -> None:  # noqa: F811
    w, panel = adb_window, adb_window.devices_panel
    w.open_model(demo_model)
    peer = make_peer()
    dialog = panel.open_connect_dialog()
    dialog.target.setText("127.0.0.1:notaport")
    dialog.try_connect()
    assert "expected HOST:PORT" in dialog.error.text() and "\n" not in dialog.error.text()
    assert dialog.isVisible() and dialog.error.isVisible() and remembered.load() == []

    refused = closed_port()  # nothing listens there: the connect fails, the dialog stays and says why
    dialog.target.setText(f"127.0.0.1:{refused.getsockname()[1]}")
    dialog.try_connect()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    refused.close()
    text = dialog.error.text()
    assert dialog.isVisible() and text and "\n" not in text and not text.startswith("connecting"), text
    assert remembered.load() == []

    dialog.target.setText(f" 127.0.0.1:{peer.port} ")
    with qtbot.waitSignal(dialog.sig_connected, timeout=30_000):
        dialog.try_connect()
    assert not dialog.isVisible()
    assert remembered.load() == [remembered.TcpTarget("127.0.0.1", peer.port)]
    assert f"connected {peer.serial} directly" in w.status_text.text()
    qtbot.waitUntil(lambda: _state(w, peer.serial) == DeviceState.DEVICE, timeout=15_000)
    assert "(adb, device)" in _item_text(w, peer.serial)

    panel.select(peer.serial)
    assert w.run_panel.device.currentText() == peer.serial and panel.disconnect_button.isEnabled()
    runner_items = w.run_panel.runner.model()
    assert runner_items.item(w.run_panel.runner.findData("ort-perf-test")).isEnabled()  # adb: perf_test offered
    qtbot.waitUntil(lambda: "Pixel" in panel.info.toPlainText() or "oriole" in panel.info.toPlainText(),
                    timeout=15_000)
    listed_before = panel.list.count()

    peer.stop()  # the phone stops answering: the next polls see the link lost and nothing listening
    qtbot.waitUntil(lambda: _state(w, peer.serial) == DeviceState.OFFLINE, timeout=15_000)
    assert "(adb, offline)" in _item_text(w, peer.serial)
    assert w.devices_vm.selected == peer.serial and panel.list.currentItem() is panel._item(peer.serial)
    assert panel.list.count() == listed_before  # updated in place, not rebuilt around the selection
    assert f"{peer.serial} is offline" in w.status_text.text()
    assert "not reachable" in panel.info.toPlainText()
    assert w.run_panel.device.currentText() == peer.serial  # still the target, greyed out: Start says why
    w.start_run()
    assert w.last_error is not None and f"{peer.serial} is offline" in w.last_error.text()
    w.last_error.close()

    panel.disconnect_selected()
    qtbot.waitUntil(lambda: _state(w, peer.serial) is None, timeout=15_000)
    assert remembered.load() == []
    assert w.devices_vm.selected == "local" and w.run_panel.device.currentText() == "local"
    assert not panel.disconnect_button.isEnabled()
    assert not runner_items.item(w.run_panel.runner.findData("ort-perf-test")).isEnabled()


def test_run_panel_runner_cooldown_affinity_reach_the_job(qtbot, window, demo_model) -> None:
    w, rp = window, window.run_panel
    w.open_model(demo_model)
    qtbot.waitUntil(lambda: rp.model is not None, timeout=10_000)
    assert rp.device_kind() == "local" and rp.runner.currentData() == "ort-python"
    assert not rp.cooldown_c.isEnabled()
    rp.cooldown.setChecked(True)
    rp.cooldown_c.setValue(4.5)
    rp.cooldown_timeout.setValue(30)
    rp.affinity.setText("0,0")
    assert rp.form_error.isVisibleTo(rp) and "affinity '0,0': expected distinct CPU numbers" in rp.form_error.text()
    w.start_run()  # refused with the same one-line error, no run started
    assert not w.runner.busy and w.last_error is not None and "affinity '0,0'" in w.last_error.text()
    w.last_error.close()
    rp.affinity.setText("0")
    assert not rp.form_error.isVisibleTo(rp)
    job = rp.form().to_job()
    assert (job.runner, job.cooldown_c, job.cooldown_timeout_s, job.affinity) == ("ort-python", 4.5, 30.0, [0])
    rp.cooldown.setChecked(False)
    assert rp.form().to_job().cooldown_c is None


def test_failing_polls_open_one_dialog_per_streak(qtbot) -> None:
    from workbench.app import create_app
    from workbench.app.widgets.devices_dock import DevicesPanel
    from workbench.app.workers import TaskRunner
    from workbench.core.devices.local import LocalDevice
    from workbench.core.errors import WorkbenchError
    from workbench.core.viewmodels.devices import DevicesViewModel

    create_app()
    broken = [False]

    def lister():
        if broken[0]:
            raise WorkbenchError("adb_targets.json: not a remembered-targets file")
        return [LocalDevice()]

    tasks = TaskRunner()
    panel = DevicesPanel(DevicesViewModel(lister), tasks, poll_ms=60_000)
    qtbot.addWidget(panel)
    errors, statuses, listed = [], [], []
    panel.sig_error.connect(errors.append)
    panel.sig_status.connect(statuses.append)
    panel.sig_listed.connect(listed.append)
    with qtbot.waitSignal(panel.sig_listed, timeout=10_000):
        panel.refresh()
    broken[0] = True
    for expected in (1, 1, 1):  # three failing polls: one dialog, then status-bar lines
        panel.poll()
        qtbot.waitUntil(lambda: not panel._listing, timeout=10_000)
        assert len(errors) == expected
    assert len(statuses) == 2 and "listing devices failed again" in statuses[-1]
    panel.refresh()  # asked for by the user: always a dialog
    qtbot.waitUntil(lambda: len(errors) == 2, timeout=10_000)
    broken[0] = False
    panel.poll()
    qtbot.waitUntil(lambda: len(listed) == 2, timeout=10_000)
    broken[0] = True
    panel.poll()  # a new streak after a success: a dialog again
    qtbot.waitUntil(lambda: len(errors) == 3, timeout=10_000)
    panel.shutdown()
    tasks.shutdown()
