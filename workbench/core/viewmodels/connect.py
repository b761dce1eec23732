"""The devices dock's "Connect over TCP..." and "Disconnect" actions, without Qt.

They do exactly what `workbench connect` / `workbench disconnect` do (core's `connect_tcp` /
`disconnect_tcp`: through a running adb server's host:connect when one runs, else a direct connection,
and the target is remembered either way), so the window and the CLI cannot drift apart. `check_target`
runs on the GUI thread (instant one-line feedback in the dialog); `connect` / `disconnect` block on the
network and run on a worker.
"""
from __future__ import annotations

from pathlib import Path

from workbench.core.adb.open import connect_tcp, disconnect_tcp, split_host_port
from workbench.core.devices.base import Device
from workbench.core.errors import WorkbenchError


def check_target(text: str) -> str:
    """'  10.0.0.7:5555 ' -> '10.0.0.7:5555' ('host' alone gets port 5555); a one-line error otherwise."""
    text = text.strip()
    if not text:
        raise WorkbenchError("enter HOST:PORT, e.g. 192.168.1.20:5555 (the phone's IP and its adb tcpip port)")
    host, port = split_host_port(text)
    if any(c.isspace() for c in host) or "/" in host:
        raise WorkbenchError(f"{text!r}: {host!r} is not a host name or IP address")
    return f"{host}:{port}"


def connect(target: str, remembered_path: Path | None = None) -> str:
    """Connect and remember (worker thread); returns the status line to show."""
    serial, how = connect_tcp(check_target(target), remembered_path=remembered_path)
    return f"connected {serial} {how}; remembered for next time"


def disconnect(serial: str, device: Device | None = None, remembered_path: Path | None = None) -> str:
    """Forget the target (and drop it from a running server), and close our own link to it (worker thread)."""
    what = disconnect_tcp(serial, remembered_path=remembered_path)
    close = getattr(device, "close", None)
    if callable(close):
        close()  # else the pooled direct link would keep an adbd connection open to a forgotten phone
    return f"{serial}: {what}"
