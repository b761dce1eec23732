"""`DirectLink`: adbd reached without an adb server, through the adb-shell library (TCP or USB).

adb-shell does the CNXN/AUTH handshake, stream bookkeeping and sync; around it this module adds what
the workbench needs: a framing transport (`_FramedTransport`) that hands adb-shell only whole
messages, so short polling reads can never split a packet, that turns EOF into a disconnect instead
of a silent timeout, loops partial socket sends, and remembers adbd's CNXN banner (adb-shell drops it,
but the features in it decide shell_v2 vs old adbd). Shell streams use adb-shell's own `_open` /
`_read_until` building blocks (pinned adb-shell 0.4.x) because its public streaming API cannot CLSE
a stream early, which is how adbd is told to kill a long-running command.
"""
from __future__ import annotations

import os
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from adb_shell import constants as C
from adb_shell import exceptions as X
from adb_shell.adb_device import AdbDevice
from adb_shell.adb_message import AdbMessage
from adb_shell.transport.base_transport import BaseTransport
from adb_shell.transport.tcp_transport import TcpTransport

from workbench.core.adb import shellproto
from workbench.core.adb.keys import load_signer
from workbench.core.adb.link import AdbLink, LineStream, ProgressFn, RemoteStat, ShellResult
from workbench.core.adb.streaming import ChunkLineStream, collect
from workbench.core.errors import DeviceDisconnected, DeviceError
from workbench.core.types import DeviceState

StatusFn = Callable[[str], None]
_HEADER = struct.Struct("<6I")
_CNXN = struct.unpack("<I", b"CNXN")[0]
_POLL_S = 0.1  # how long one idle read may hold adb-shell's transport lock
_MESSAGE_TIMEOUT_S = 30.0  # once a message has started, the rest must arrive within this
USB_BUSY = ("an adb server owns this device: use it (workbench uses a running server automatically) "
            "or stop it yourself")
ALLOW_PROMPT = "Allow USB debugging? Unlock the phone and tap Allow"


class _LinkLost(Exception):
    """The transport hit EOF or an I/O error: the device is gone."""


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, X.TcpTimeoutException):
        return True
    usb_error = getattr(exc, "usb_error", None)
    return usb_error is not None and "TIMEOUT" in type(usb_error).__name__.upper()


def parse_banner(banner: bytes) -> tuple[str, dict[str, str], frozenset[str]]:
    """'device::k=v;...;features=a,b' -> ('device', props, features)."""
    text = banner.rstrip(b"\0").decode("utf-8", "replace")
    kind, _, rest = text.partition(":")
    _, _, props_text = rest.partition(":")
    props: dict[str, str] = {}
    for item in props_text.split(";"):
        key, sep, val = item.partition("=")
        if sep:
            props[key] = val
    features = frozenset(f for f in props.pop("features", "").split(",") if f)
    return kind, props, features


class _FramedTransport(BaseTransport):
    """Wraps adb-shell's TCP/USB transport; see the module docstring for why."""

    def __init__(self, inner: BaseTransport) -> None:
        self.inner = inner
        self._buf = bytearray()
        self.banner: bytes | None = None
        self.lost = False

    def connect(self, transport_timeout_s: float | None) -> None:
        self._buf.clear()
        self.banner = None
        self.lost = False
        try:
            self.inner.connect(transport_timeout_s)
        except OSError as exc:
            raise _LinkLost(str(exc)) from exc
        sock = getattr(self.inner, "_connection", None)
        if isinstance(sock, socket.socket):
            # adb-shell writes header and payload separately: without this, Nagle + delayed ACK
            # cost ~40 ms per message (67 s instead of 0.4 s for 3 MB to an old 4 KiB-payload adbd).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        self.inner.close()

    def bulk_write(self, data: bytes, transport_timeout_s: float | None) -> int:
        view = memoryview(bytes(data))
        while view:
            try:
                n = self.inner.bulk_write(bytes(view), transport_timeout_s)
            except BlockingIOError:
                continue
            except (OSError, X.UsbWriteFailedError, X.TcpTimeoutException) as exc:
                self.lost = True
                raise _LinkLost(f"write failed: {exc}") from exc
            view = view[n if isinstance(n, int) and n > 0 else len(view):]
        return len(data)

    def _read(self, n: int, timeout: float) -> bytes:
        try:
            data = self.inner.bulk_read(n, timeout)
        except BlockingIOError:
            return b""
        except Exception as exc:  # noqa: BLE001 - adb-shell raises plain Exceptions for USB/TCP
            if _is_timeout(exc):
                return b""
            self.lost = True
            raise _LinkLost(f"read failed: {exc}") from exc
        if not data and isinstance(self.inner, TcpTransport):
            self.lost = True
            raise _LinkLost("connection closed by the device")
        return bytes(data)

    def _read_full(self, n: int) -> bytes:
        buf = bytearray()
        deadline = time.monotonic() + _MESSAGE_TIMEOUT_S
        while len(buf) < n:
            if time.monotonic() > deadline:
                self.lost = True
                raise _LinkLost("the device stalled in the middle of a message")
            buf += self._read(n - len(buf), _POLL_S)
        return bytes(buf)

    def bulk_read(self, numbytes: int, transport_timeout_s: float | None) -> bytes:
        if not self._buf:
            first = self._read(_HEADER.size, _POLL_S)
            if not first:
                return b""
            head = first + self._read_full(_HEADER.size - len(first))
            command, _a0, _a1, length, _crc, _magic = _HEADER.unpack(head)
            payload = self._read_full(length) if length else b""
            if command == _CNXN:
                self.banner = payload
            self._buf += head + payload
        out = bytes(self._buf[:numbytes])
        del self._buf[:numbytes]
        return out


class DirectLink(AdbLink):
    """An AdbLink over adb-shell. Build with `DirectLink.tcp(...)` or `DirectLink.usb(...)`."""

    via = "direct"

    def __init__(self, serial: str, transport: BaseTransport, *, key_path: Path | None = None,
                 auth_timeout_s: float = 30.0, on_status: StatusFn | None = None, io_timeout: float = 20.0) -> None:
        self.serial = serial
        self.io_timeout = io_timeout
        self._transport = _FramedTransport(transport)
        self._dev = AdbDevice(self._transport, default_transport_timeout_s=io_timeout)
        self._features: frozenset[str] = frozenset()
        self.props: dict[str, str] = {}
        self._closed = False
        self._connect(key_path, auth_timeout_s, on_status)

    @classmethod
    def tcp(cls, host: str, port: int = 5555, **kw: Any) -> "DirectLink":
        """Connect to adbd listening on host:port (`adb tcpip`, emulators, Linux boards, the test peer)."""
        return cls(f"{host}:{port}", TcpTransport(host, port), **kw)

    @classmethod
    def usb(cls, serial: str | None = None, port_path: list[int] | None = None, **kw: Any) -> "DirectLink":
        """Claim a USB phone ourselves; fails with USB_BUSY's advice when an adb server holds it."""
        try:
            from adb_shell.transport.usb_transport import UsbTransport
        except ImportError as exc:
            raise DeviceError(serial or "usb", f"USB needs libusb and the usb1 package ({exc})") from exc
        try:
            transport = UsbTransport.find_adb(serial, port_path, default_transport_timeout_s=kw.get("io_timeout", 20.0))
        except X.UsbDeviceNotFoundError as exc:
            raise DeviceError(serial or "usb", "no USB device with adb enabled found") from exc
        return cls(serial or transport.serial_number, transport, **kw)

    def _connect(self, key_path: Path | None, auth_timeout_s: float, on_status: StatusFn | None) -> None:
        signer = load_signer(key_path)
        prompted = threading.Event()

        def _prompt(_dev: object) -> None:
            prompted.set()
            if on_status is not None:
                on_status(f"{ALLOW_PROMPT} (waiting up to {auth_timeout_s:g} s)")

        try:
            self._dev.connect(rsa_keys=[signer], transport_timeout_s=self.io_timeout, auth_timeout_s=auth_timeout_s,
                              read_timeout_s=auth_timeout_s, auth_callback=_prompt)
        except X.AdbTimeoutError as exc:
            self._dev.close()
            if prompted.is_set():
                raise DeviceError(self.serial, f"unauthorized: nobody tapped Allow on 'Allow USB debugging?' within "
                                  f"{auth_timeout_s:g} s; unlock the phone, tap Allow and retry") from exc
            raise DeviceError(self.serial, f"adbd did not answer the connection ({exc})") from exc
        except _LinkLost as exc:
            self._dev.close()
            raise DeviceDisconnected(self.serial, f"cannot connect: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - libusb errors arrive as assorted types
            self._dev.close()
            if "BUSY" in f"{type(exc).__name__} {exc}".upper():
                raise DeviceError(self.serial, USB_BUSY) from exc
            raise DeviceError(self.serial, f"cannot connect: {exc}") from exc
        if self._transport.banner is not None:
            _kind, self.props, self._features = parse_banner(self._transport.banner)

    # ---- AdbLink
    @property
    def features(self) -> frozenset[str]:
        return self._features

    def state(self) -> DeviceState:
        if self._closed or self._transport.lost or not self._dev.available:
            return DeviceState.OFFLINE
        return DeviceState.DEVICE

    def _guard(self) -> None:
        if self._closed or self._transport.lost:
            raise DeviceDisconnected(self.serial, "link lost" if self._transport.lost else "link closed")

    def _translate(self, exc: BaseException, what: str) -> DeviceError:
        if isinstance(exc, _LinkLost) or self._transport.lost:
            return DeviceDisconnected(self.serial, f"{what}: the device went away ({exc})")
        return DeviceError(self.serial, f"{what} failed: {exc}")

    def _service_chunks(self, service: bytes, deadline: float | None, idle: float | None,
                        holder: list[Any]) -> Iterator[tuple[int, bytes]]:
        """Open `service` and yield decoded (channel, bytes) until adbd closes it."""
        v2 = service.startswith(b"shell,v2")
        dev = self._dev
        try:
            info = dev._open(service, self.io_timeout, self.io_timeout, None)
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc, "open shell") from exc
        info.read_timeout_s = _POLL_S * 3
        holder.append(info)
        if v2:
            dev._io_manager.send(AdbMessage(C.WRTE, info.local_id, info.remote_id, shellproto.encode(shellproto.CLOSE_STDIN)), info)
        decoder = shellproto.ShellV2Decoder()
        last = time.monotonic()
        got_exit = False
        while True:
            if self._closed or self._transport.lost:
                raise DeviceDisconnected(self.serial, "the device went away" if self._transport.lost else "link closed")
            now = time.monotonic()
            if deadline is not None and now > deadline:
                self._close_stream(info)
                raise DeviceError(self.serial, "shell command timed out")
            if idle is not None and now - last > idle:
                self._close_stream(info)
                raise DeviceError(self.serial, f"no output for {idle:g} s")
            try:
                cmd, data = dev._read_until([C.CLSE, C.WRTE, C.OKAY], info)
            except X.AdbTimeoutError:
                continue
            except Exception as exc:  # noqa: BLE001
                raise self._translate(exc, "shell") from exc
            if cmd == C.OKAY:
                continue
            if cmd == C.CLSE:
                dev._io_manager.send(AdbMessage(C.CLSE, info.local_id, info.remote_id), info)
                break
            last = time.monotonic()
            if not v2:
                yield shellproto.STDOUT, data
                continue
            for ident, payload in decoder.feed(data):
                got_exit = got_exit or ident == shellproto.EXIT
                yield ident, payload
        if v2 and not got_exit:
            raise DeviceDisconnected(self.serial, "the stream closed before the command finished")

    def _close_stream(self, info: Any) -> None:
        try:
            self._dev._io_manager.send(AdbMessage(C.CLSE, info.local_id, info.remote_id), info)
        except Exception:  # noqa: BLE001 - closing a dead link is not an error
            pass

    def _shell_service(self, cmd: str) -> bytes:
        return (b"shell,v2,raw:" if self.shell_v2 else b"shell:") + cmd.encode("utf-8")

    def shell(self, cmd: str, timeout: float = 30.0) -> ShellResult:
        self._guard()
        holder: list[Any] = []
        try:
            return collect(self._service_chunks(self._shell_service(cmd), time.monotonic() + timeout, None, holder),
                           pty=not self.shell_v2)
        except DeviceError as exc:
            if exc.problem == "shell command timed out":
                raise DeviceError(self.serial, f"shell command timed out after {timeout:g} s: {cmd[:80]}") from None
            raise

    def shell_stream(self, cmd: str, idle_timeout: float | None = None) -> LineStream:
        self._guard()
        holder: list[Any] = []
        chunks = self._service_chunks(self._shell_service(cmd), None, idle_timeout, holder)

        def closer() -> None:
            if holder:
                self._close_stream(holder[0])  # adbd kills the command and answers CLSE
            try:
                chunks.close()
            except ValueError:
                pass  # another thread is inside it; it will see the CLSE and stop

        return ChunkLineStream(chunks, closer, pty=not self.shell_v2)

    def push(self, local: Path | str, remote: str, progress: ProgressFn | None = None, mode: int = 0o644) -> None:
        self._guard()
        local = Path(local)
        if not local.is_file():
            raise DeviceError(self.serial, f"cannot read {local}: not a file")
        total = local.stat().st_size
        done = [0]

        def _cb(_path: str, n: int, _total: int) -> None:
            done[0] += n
            if progress is not None:
                progress(done[0], total)

        try:
            self._dev.push(str(local), remote, st_mode=0o100000 | (mode & 0o7777), progress_callback=_cb,
                           read_timeout_s=self.io_timeout)
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc, f"push {local} -> {remote}") from exc

    def pull(self, remote: str, local: Path | str, progress: ProgressFn | None = None) -> None:
        self._guard()
        local = Path(local)
        tmp = local.with_name(f".{local.name}.partial-{os.getpid()}")

        done = [0]

        def _cb(_path: str, n: int, total: int) -> None:
            done[0] += n  # adb-shell reports each chunk, not the running total
            if progress is not None:
                progress(done[0], total)

        try:
            self._dev.pull(remote, str(tmp), progress_callback=_cb, read_timeout_s=self.io_timeout)
            os.replace(tmp, local)
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc, f"pull {remote}") from exc
        finally:
            tmp.unlink(missing_ok=True)

    def stat(self, remote: str) -> RemoteStat:
        self._guard()
        try:
            mode, size, mtime = self._dev.stat(remote, read_timeout_s=self.io_timeout)
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc, f"stat {remote}") from exc
        return RemoteStat(remote, mode, size, mtime)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._dev.close()
