"""Which adb targets are there: the adb server's devices, USB phones we could claim, remembered TCP targets.

A running adb server owns USB, so direct USB is only scanned when none runs; without libusb that
scan is skipped and the reason reported in `Discovery.notes` instead of failing.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from workbench.core.adb import remembered
from workbench.core.adb.server import ServerClient
from workbench.core.errors import WorkbenchError
from workbench.core.types import DeviceState


class AdbTarget(NamedTuple):
    serial: str
    state: DeviceState
    via: str  # "server", "usb" (direct) or "tcp" (direct, remembered)
    details: dict[str, str]


@dataclass
class Discovery:
    targets: list[AdbTarget] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why a source was skipped


def _usb_targets(notes: list[str]) -> list[AdbTarget]:
    try:
        import usb1  # noqa: F401 - probing that libusb is usable
        from adb_shell.transport.usb_transport import UsbTransport
    except (ImportError, OSError) as exc:
        notes.append(f"direct USB skipped: libusb not usable ({exc})")
        return []
    out: list[AdbTarget] = []
    try:
        for transport in UsbTransport.find_all_adb_devices():
            out.append(AdbTarget(transport.serial_number, DeviceState.UNKNOWN, "usb",
                                 {"usb": transport.usb_info or "", "note": "connect to learn its state"}))
    except Exception as exc:  # noqa: BLE001 - libusb enumeration errors come in many types
        notes.append(f"direct USB skipped: {exc}")
    return out


def _reachable(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def discover(server: ServerClient | None | bool = True, remembered_path: Path | None = None,
             usb: bool = True, probe_timeout: float = 0.3) -> Discovery:
    """Combine all sources; `server=True` looks for a running one, a client uses that one, False skips it."""
    found = Discovery()
    client = ServerClient.discover() if server is True else (server or None)
    if client is not None:
        try:
            found.targets += [AdbTarget(d.serial, d.state, "server", d.details) for d in client.devices()]
        except (OSError, WorkbenchError) as exc:
            found.notes.append(f"adb server on port {client.port} did not list devices: {exc}")
        if usb:
            found.notes.append("direct USB skipped: the adb server owns USB devices (listed above)")
    else:
        if server is not False:
            found.notes.append("no adb server running (not starting one)")
        if usb:
            found.targets += _usb_targets(found.notes)
    known = {t.serial for t in found.targets}
    try:
        targets = remembered.load(remembered_path)
    except WorkbenchError as exc:
        found.notes.append(str(exc))
        targets = []
    for t in targets:
        if t.serial in known:
            continue
        up = _reachable(t.host, t.port, probe_timeout)
        found.targets.append(AdbTarget(t.serial, DeviceState.UNKNOWN if up else DeviceState.OFFLINE, "tcp",
                                       {"remembered": "yes", "reachable": "yes" if up else "no"}))
    return found


def list_adb_devices(**kw: object) -> list[AdbTarget]:
    """[(serial, state, via, details)] from every source; see `discover` for the options and notes."""
    return discover(**kw).targets  # type: ignore[arg-type]
