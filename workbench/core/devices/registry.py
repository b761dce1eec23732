"""Which devices exist right now: this machine, plus whatever adb targets are reachable."""
from __future__ import annotations

from workbench.core.devices.base import Device
from workbench.core.devices.local import LocalDevice
from workbench.core.errors import DeviceError


def list_devices(include_adb: bool = True) -> list[Device]:
    devices: list[Device] = [LocalDevice()]
    if include_adb:
        devices.extend(_adb_devices())
    return devices


def get_device(serial: str) -> Device:
    if serial in ("local", "localhost"):
        return LocalDevice()
    for dev in _adb_devices():
        if dev.serial == serial:
            return dev
    known = ", ".join(d.serial for d in list_devices())
    raise DeviceError(serial, f"no such device (known: {known})")


def _adb_devices() -> list[Device]:
    try:
        from workbench.core.adb.device import adb_devices  # lands with the ADB issue
    except ImportError:
        return []
    return adb_devices()
