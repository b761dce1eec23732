"""Devices dock logic: the device list with states, the selection, and the info panel's text.

Listing and `info()` may block (adb round trips), so the view calls `fetch_*` on a worker thread and
hands the plain results to `set_*` on the GUI thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from workbench.core.devices.base import Device, DeviceInfo
from workbench.core.types import DeviceState


@dataclass(frozen=True)
class DeviceRow:
    serial: str
    kind: str
    state: DeviceState

    @property
    def usable(self) -> bool:
        return self.state == DeviceState.DEVICE

    @property
    def text(self) -> str:
        return f"{self.serial}  ({self.kind}, {self.state.value})"


class DevicesViewModel:
    def __init__(self, lister: Callable[[], list[Device]]) -> None:
        self._lister = lister
        self.devices: dict[str, Device] = {}
        self.rows: list[DeviceRow] = []
        self.selected: str | None = None
        self.info: DeviceInfo | None = None

    # worker thread ---------------------------------------------------------------------------
    def fetch_devices(self) -> list[tuple[Device, DeviceState]]:
        out = []
        for dev in self._lister():
            try:
                state = dev.state()
            except Exception:  # noqa: BLE001 - a flaky peer is shown as unknown, not a crash
                state = DeviceState.UNKNOWN
            out.append((dev, state))
        return out

    @staticmethod
    def fetch_info(device: Device) -> DeviceInfo:
        return device.info()

    # GUI thread ------------------------------------------------------------------------------
    def set_devices(self, found: list[tuple[Device, DeviceState]]) -> None:
        self.devices = {d.serial: d for d, _ in found}
        self.rows = [DeviceRow(d.serial, d.kind, s) for d, s in found]
        if self.selected not in self.devices:
            usable = [r.serial for r in self.rows if r.usable]
            self.selected = usable[0] if usable else None
            self.info = None

    def select(self, serial: str | None) -> None:
        if serial != self.selected:
            self.info = None
        self.selected = serial

    def selected_device(self) -> Device | None:
        return self.devices.get(self.selected) if self.selected else None

    def set_info(self, info: DeviceInfo) -> None:
        self.info = info

    def info_lines(self) -> list[tuple[str, str]]:
        """(heading or key, value) pairs: sections, then what the device does not expose, and why."""
        if self.info is None:
            return []
        out: list[tuple[str, str]] = []
        for name, section in self.info.sections.items():
            out.append((f"[{name}]", ""))
            for key, value in section.items():
                out.append((key, _fmt(value)))
        if self.info.absent:
            out.append(("[absent]", ""))
            out.extend(("", reason) for reason in self.info.absent)
        return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value) if len(value) <= 8 else f"{len(value)} items"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in list(value.items())[:6])
    return str(value)
