"""Shared GUI fixtures: a window on a temporary workspace and settings file, closed cleanly after."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from workbench.core.devices.registry import list_devices
from workbench.core.models import demo_model_path


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, tmp_path, settings):
    from workbench.app import create_app
    from workbench.app.main_window import MainWindow

    create_app()
    w = MainWindow(tmp_path / "ws", settings=settings, device_lister=lambda: list_devices(include_adb=False))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitUntil(lambda: w.run_panel.device.count() > 0, timeout=10_000)
    yield w
    w.close()
    assert not w.runner.busy


@pytest.fixture(scope="session")
def demo_model():
    return demo_model_path("mobilenet_se")
