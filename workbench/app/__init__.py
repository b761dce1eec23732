"""The workbench window (PySide6 + pyqtgraph). Entry point: `workbench-gui` -> `main()`.

Only shows and wires: all measurement, parsing and optimization is in `workbench.core`.
"""
from __future__ import annotations

import sys
from pathlib import Path


def create_app(argv: list[str] | None = None):
    """The QApplication with pyqtgraph's options and our style sheet applied (idempotent)."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Edge Workbench")
    app.setOrganizationName("edge-workbench")
    pg.setConfigOptions(antialias=False, foreground="#c8c8c8")
    from workbench.app.style import apply_style

    apply_style(app)
    return app


def run_gui(workspace: str | Path | None = None, model: str | Path | None = None, demo: bool = False,
            demo_seconds: float = 20.0) -> int:
    """Open the window; with `demo`, open the demo model and start a run on this machine."""
    from workbench.app.main_window import MainWindow
    from workbench.core.workspace import default_workspace_dir

    app = create_app()
    window = MainWindow(Path(workspace) if workspace else default_workspace_dir())
    window.show()
    if demo and model is None:
        from workbench.core.models import demo_model_path

        model = demo_model_path("mobilenet_se")
    if model is not None:
        window.open_model(model)
    if demo:
        window.run_panel.seconds.setValue(demo_seconds)
        window.run_panel.layers.setChecked(True)
        window.run_panel.device.setCurrentText("local")
        window.devices_panel.sig_devices_changed.connect(_start_once(window))
    return app.exec()


def _start_once(window):
    done = []

    def start() -> None:
        if not done:
            done.append(True)
            window.run_panel.device.setCurrentText("local")
            window.start_run()

    return start


def main() -> None:
    """`workbench-gui [MODEL]`: the gui-script entry point."""
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    sys.exit(run_gui(model=args[0] if args else None, demo="--demo" in sys.argv[1:]))
