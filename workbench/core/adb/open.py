"""Open an `AdbLink` to a serial the way the user's machine allows: through a running adb server when it
knows the serial (it owns USB and already has the phone's trust), else directly over TCP for `host:port`
serials, else directly over USB. Never starts or kills a server.

Also `connect_tcp` / `disconnect_tcp`: what `workbench connect HOST:PORT` does (remember the target, and
ask the server to connect when one runs, so the plain `adb` tool sees it too).
"""
from __future__ import annotations

from pathlib import Path

from workbench.core.adb import remembered
from workbench.core.adb.direct import DirectLink
from workbench.core.adb.link import AdbLink
from workbench.core.adb.server import ServerClient, ServerError
from workbench.core.errors import DeviceError, WorkbenchError
from workbench.core.types import DeviceState

STATE_HELP = {
    DeviceState.UNAUTHORIZED: "unauthorized: unlock the phone and tap Allow on 'Allow USB debugging?'",
    DeviceState.OFFLINE: "offline: replug the cable or `workbench connect` it again",
    DeviceState.NO_PERMISSIONS: "no permissions: this user may not open the USB device (udev rules, plugdev group)",
    DeviceState.CONNECTING: "still connecting: wait a moment and retry",
}


def split_host_port(text: str, default_port: int = 5555) -> tuple[str, int]:
    """'host:port' / 'host' -> (host, port); a one-line error for anything else."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, str(default_port)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise WorkbenchError(f"{text!r}: expected HOST:PORT, e.g. 192.168.1.20:5555")
    return host, int(port)


def is_tcp_serial(serial: str) -> bool:
    try:
        split_host_port(serial, default_port=-1)
    except WorkbenchError:
        return False
    return ":" in serial


def _resolve_server(server: ServerClient | None | bool) -> ServerClient | None:
    return ServerClient.discover() if server is True else (server or None)


def open_link(serial: str, *, server: ServerClient | None | bool = True, key_path: Path | None = None,
              auth_timeout_s: float = 30.0, io_timeout: float = 20.0) -> AdbLink:
    """A link to `serial`; DeviceError says why not (its state, or that nobody knows it)."""
    client = _resolve_server(server)
    if client is not None:
        try:
            listed = {d.serial: d for d in client.devices()}
        except (OSError, ServerError):
            listed = {}
        dev = listed.get(serial)
        if dev is not None:
            if dev.state is not DeviceState.DEVICE:
                raise DeviceError(serial, STATE_HELP.get(dev.state, f"state {dev.state.value}"))
            return client.link(serial)
    if is_tcp_serial(serial):
        host, port = split_host_port(serial)
        return DirectLink.tcp(host, port, key_path=key_path, auth_timeout_s=auth_timeout_s, io_timeout=io_timeout)
    if client is not None:
        raise DeviceError(serial, "the adb server does not list it (is it plugged in and is USB debugging on?)")
    return DirectLink.usb(serial, key_path=key_path, auth_timeout_s=auth_timeout_s, io_timeout=io_timeout)


def connect_tcp(target: str, *, server: ServerClient | None | bool = True, remembered_path: Path | None = None,
                key_path: Path | None = None, auth_timeout_s: float = 30.0) -> tuple[str, str]:
    """Connect to HOST:PORT and remember it; returns (serial, how) where how says server or direct."""
    host, port = split_host_port(target)
    serial = f"{host}:{port}"
    client = _resolve_server(server)
    if client is not None:
        msg = client.connect(host, port)
        how = f"through the adb server on port {client.port}: {msg}"
    else:
        link = DirectLink.tcp(host, port, key_path=key_path, auth_timeout_s=auth_timeout_s)
        try:
            model = link.props.get("ro.product.model", "")
        finally:
            link.close()
        how = "directly (no adb server running)" + (f": {model}" if model else "")
    remembered.remember(host, port, remembered_path)
    return serial, how


def disconnect_tcp(target: str, *, server: ServerClient | None | bool = True,
                   remembered_path: Path | None = None) -> str:
    """Forget HOST:PORT (and ask a running server to drop it); returns what happened."""
    host, port = split_host_port(target)
    client = _resolve_server(server)
    remembered.forget(host, port, remembered_path)
    if client is not None:
        return f"forgotten; adb server: {client.disconnect(host, port)}"
    return "forgotten"
