"""Devices dock logic: the device list with states, the selection, and the info panel's text.

Listing and `info()` may block (adb round trips), so the view calls `fetch_*` on a worker thread and
hands the plain results to `set_*` on the GUI thread. The list is polled every couple of seconds, so
`set_devices` reports what changed (a phone went offline, appeared, disappeared) instead of making the
view rebuild everything: the view updates rows in place and the selection stays where the user put it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from workbench.core.devices.base import Device, DeviceInfo
from workbench.core.types import DeviceState


@dataclass(frozen=True)
class DeviceRow:
    serial: str
    kind: str
    state: DeviceState
    detail: str = ""  # adb: model, or why it is not usable ("remembered; not reachable ...")

    @property
    def usable(self) -> bool:
        return self.state == DeviceState.DEVICE

    @property
    def tcp(self) -> bool:
        """A HOST:PORT adb target: the Disconnect action can forget it."""
        from workbench.core.adb.open import is_tcp_serial  # adb stack loads only when adb rows exist

        return self.kind == "adb" and is_tcp_serial(self.serial)

    @property
    def text(self) -> str:
        """'10.0.0.7:5555  (adb, device)  Pixel 6': the model only when usable (else the detail says why
        not, which is too long for a row: it is the row's tooltip and the info panel's text)."""
        model = f"  {self.detail}" if self.usable and self.detail else ""
        return f"{self.serial}  ({self.kind}, {self.state.value}){model}"


@dataclass
class DeviceChanges:
    """What one listing changed, so a poll touches only those rows and says so in the status bar."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    state_changed: list[tuple[str, DeviceState, DeviceState]] = field(default_factory=list)  # serial, old, new
    selection_changed: bool = False

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.state_changed or self.selection_changed)

    @property
    def usable_changed(self) -> bool:
        """The set of devices a run can start on changed (the run panel's device box must follow)."""
        return bool(self.added or self.removed or self.selection_changed
                    or any((old == DeviceState.DEVICE) != (new == DeviceState.DEVICE)
                           for _, old, new in self.state_changed))

    def message(self) -> str:
        """One status-bar line, e.g. '127.0.0.1:5555 is offline; 10.0.0.7:5555 disappeared'; '' for none."""
        parts = [f"{s} is {new.value}" for s, _, new in self.state_changed]
        parts += [f"{s} appeared" for s in self.added]
        parts += [f"{s} disappeared" for s in self.removed]
        return "; ".join(parts)


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
    def set_devices(self, found: list[tuple[Device, DeviceState]]) -> DeviceChanges:
        """Take a listing; the selection stays on its device while that is listed (even offline)."""
        before = {r.serial: r.state for r in self.rows}
        first = not self.rows and self.selected is None
        self.devices = {d.serial: d for d, _ in found}
        self.rows = [DeviceRow(d.serial, d.kind, s, str(getattr(d, "detail", "") or "")) for d, s in found]
        changes = DeviceChanges()
        if not first:
            changes.added = [r.serial for r in self.rows if r.serial not in before]
            changes.removed = [s for s in before if s not in self.devices]
            changes.state_changed = [(r.serial, before[r.serial], r.state) for r in self.rows
                                     if r.serial in before and before[r.serial] != r.state]
        if self.selected not in self.devices:
            usable = [r.serial for r in self.rows if r.usable]
            new = usable[0] if usable else None
            changes.selection_changed = new != self.selected
            self.selected = new
            self.info = None
        return changes

    def row(self, serial: str | None) -> DeviceRow | None:
        return next((r for r in self.rows if r.serial == serial), None)

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
