"""`DirectLink`: adbd reached without an adb server (TCP or USB); adb-shell does the handshake only.

adb-shell (0.4.x) connects and authenticates (CNXN/AUTH, RSA signing, the "Allow USB debugging?"
wait), which is where it shines. After that `_Mux` owns the connection, because adb-shell's
`_AdbIOManager` lets whichever thread waits for a packet hold the transport lock while it reads: a
long shell stream and a `shell()` from another thread then starve each other (the stream could not send
the OKAY that lets adbd go on; seen as a deadlock of prepare() against the telemetry sampler). AdbLink
promises that a stream may run while other calls are made, and direct USB has no second connection to
fall back on, so here ONE reader thread reads every message and hands it to its stream by local id,
and ONE writer thread sends whatever the streams and the reader queue (the reader never blocks on a
write, so a full socket in one direction can never stop the other). Flow control is adb's: one
outstanding WRTE per stream each way; our OKAYs go out at once while a stream has under
`_WINDOW` bytes unread, then as its reader catches up. Sync (push/pull/stat) is `syncproto` over a
stream, writing `max_payload`-sized WRTEs instead of adb-shell's 2 KiB sync packets.

`_FramedTransport` wraps adb-shell's TCP/USB transport: it reads whole messages (so short polling
reads never split a packet), turns EOF into a disconnect instead of a silent timeout, loops partial
socket sends, and remembers adbd's CNXN (adb-shell drops the banner, whose features decide shell_v2
vs old adbd, and its protocol version and max payload, which the mux needs).
"""
from __future__ import annotations

import collections
import itertools
import queue
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from adb_shell import constants as C
from adb_shell import exceptions as X
from adb_shell.adb_device import AdbDevice
from adb_shell.transport.base_transport import BaseTransport
from adb_shell.transport.tcp_transport import TcpTransport

from workbench.core.adb import shellproto, syncproto
from workbench.core.adb.keys import load_signer
from workbench.core.adb.link import AdbLink, LineStream, ProgressFn, RemoteStat, ShellResult
from workbench.core.adb.streaming import ChunkLineStream, collect
from workbench.core.errors import DeviceDisconnected, DeviceError
from workbench.core.types import DeviceState

StatusFn = Callable[[str], None]
_HEADER = struct.Struct("<6I")


def _cmd(name: bytes) -> int:
    return struct.unpack("<I", name)[0]


_CNXN, _OPEN, _OKAY, _CLSE, _WRTE = (_cmd(n) for n in (b"CNXN", b"OPEN", b"OKAY", b"CLSE", b"WRTE"))
_KNOWN = {_CNXN, _OPEN, _OKAY, _CLSE, _WRTE, _cmd(b"AUTH"), _cmd(b"SYNC")}
_VERSION_SKIP_CHECKSUM = 0x01000001
_POLL_S = 0.1  # how long one idle read waits before the reader looks at `closed` again
_MESSAGE_TIMEOUT_S = 30.0  # once a message has started, the rest must arrive within this
_WINDOW = 4 * 1024 * 1024  # unread bytes a stream may hold before we stop acknowledging its WRTEs
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


def checksum(data: bytes) -> int:
    """adbd's payload "crc": the byte sum (numpy: a 1 MiB payload in well under a millisecond)."""
    if len(data) < 4096:
        return sum(data) & 0xFFFFFFFF
    return int(np.frombuffer(data, np.uint8).sum(dtype=np.uint64)) & 0xFFFFFFFF


class _FramedTransport(BaseTransport):
    """Wraps adb-shell's TCP/USB transport; see the module docstring for why."""

    def __init__(self, inner: BaseTransport) -> None:
        self.inner = inner
        self.is_tcp = isinstance(inner, TcpTransport)
        self._buf = bytearray()
        self.banner: bytes | None = None
        self.version = C.VERSION
        self.max_payload = C.MAX_ADB_DATA
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
            # header and payload may leave in separate sends: without this, Nagle + delayed ACK
            # cost ~40 ms per message (67 s instead of 0.4 s for 3 MB to an old 4 KiB-payload adbd).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        self.inner.close()

    def bulk_write(self, data: bytes, transport_timeout_s: float | None) -> int:
        if self.banner is None and len(data) == _HEADER.size and _HEADER.unpack(data)[:2] == (_CNXN, C.VERSION):
            # adb-shell announces protocol 0x01000000, which makes both sides sum every payload;
            # announce 0x01000001 (adb hosts do since Android 7) so neither has to
            _, _, maxdata, length, crc, magic = _HEADER.unpack(data)
            data = _HEADER.pack(_CNXN, _VERSION_SKIP_CHECKSUM, maxdata, length, crc, magic)
        view = memoryview(data)
        while view:
            try:  # TCP's send takes a memoryview (no copy per partial send); libusb wants bytes
                n = self.inner.bulk_write(view if self.is_tcp else bytes(view), transport_timeout_s)
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
        if not data and self.is_tcp:
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

    def read_message(self) -> tuple[int, int, int, int, bytes] | None:
        """One whole message (command, arg0, arg1, crc, payload), or None if none began within _POLL_S."""
        first = self._read(_HEADER.size, _POLL_S)
        if not first:
            return None
        head = first + self._read_full(_HEADER.size - len(first))
        command, arg0, arg1, length, crc, magic = _HEADER.unpack(head)
        if magic != command ^ 0xFFFFFFFF or command not in _KNOWN:
            self.lost = True
            raise _LinkLost(f"garbled message header from the device ({head[:4]!r})")
        payload = self._read_full(length) if length else b""
        if command == _CNXN:
            self.banner, self.version, self.max_payload = payload, arg0, min(arg1, C.MAX_ADB_DATA)
        return command, arg0, arg1, crc, payload

    def bulk_read(self, numbytes: int, transport_timeout_s: float | None) -> bytes:
        """adb-shell's view during the handshake: whole messages, handed out in the sizes it asks for."""
        if not self._buf:
            msg = self.read_message()
            if msg is None:
                return b""
            command, arg0, arg1, crc, payload = msg
            if payload and not crc:
                crc = checksum(payload)  # adbd skips sums once it knows our version; adb-shell checks them
            self._buf += _HEADER.pack(command, arg0, arg1, len(payload), crc, command ^ 0xFFFFFFFF) + payload
        out = bytes(self._buf[:numbytes])
        del self._buf[:numbytes]
        return out


class _Stream:
    """One OPENed service on the mux: its unread WRTE payloads, and whether our last WRTE was acknowledged."""

    def __init__(self, mux: "_Mux", local_id: int) -> None:
        self.mux = mux
        self.local_id = local_id
        self.remote_id = 0  # adbd's id, set by its OKAY to our OPEN
        self.cond = threading.Condition()
        self.chunks: collections.deque[bytes] = collections.deque()
        self.unread = 0
        self.owe_okay = False  # a WRTE arrived past the window: acknowledge it once the reader catches up
        self.acked = True  # adbd has acknowledged our last WRTE (one may be outstanding)
        self.refused = False
        self.remote_closed = False
        self.local_closed = False

    # ---- called by the mux reader thread (under cond)
    def _deliver(self, data: bytes) -> bool:
        """Queue a WRTE payload; True if it may be acknowledged now."""
        self.chunks.append(data)
        self.unread += len(data)
        if self.unread <= _WINDOW:
            return True
        self.owe_okay = True
        return False

    # ---- called by users of the stream
    def _wait(self, ready: Callable[[], bool], timeout: float | None) -> bool:
        """Wait under cond until ready() or the link ends; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not ready():
            self.mux.check()
            left = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
            if left <= 0:
                return False
            self.cond.wait(left)
        return True

    def read(self, timeout: float | None) -> bytes | None:
        """Next payload adbd wrote; b"" once the stream is closed (either side); None on timeout."""
        with self.cond:
            if not self._wait(lambda: bool(self.chunks) or self.remote_closed or self.local_closed, timeout):
                return None
            if self.local_closed or not self.chunks:
                return b""
            data = self.chunks.popleft()
            self.unread -= len(data)
            okay = self.owe_okay and self.unread <= _WINDOW and not self.remote_closed
            if okay:
                self.owe_okay = False
        if okay:
            self.mux.send(_OKAY, self.local_id, self.remote_id)
        return data

    def write(self, data: bytes, timeout: float) -> bool:
        """Send `data` as WRTEs of at most max_payload, each once adbd has acknowledged the previous one.

        False if the stream closed first (a quick command may end before we close its stdin; a sync
        service that failed says why in what it wrote before closing, so the caller reads that)."""
        view = memoryview(data)
        step = self.mux.max_payload
        for start in range(0, len(view), step):
            with self.cond:
                if not self._wait(lambda: self.acked or self.remote_closed or self.local_closed, timeout):
                    raise DeviceError(self.mux.serial, f"adbd stopped taking data for {timeout:g} s")
                if self.remote_closed or self.local_closed:
                    return False
                self.acked = False
            self.mux.send(_WRTE, self.local_id, self.remote_id, bytes(view[start:start + step]))
        return True

    def close(self) -> None:
        """CLSE to adbd (it kills a shell's command and answers CLSE); wakes a thread blocked in read(). Idempotent."""
        with self.cond:
            if self.local_closed:
                return
            self.local_closed = True
            tell = not self.remote_closed and not self.refused
            self.cond.notify_all()
        if tell:
            try:
                self.mux.send(_CLSE, self.local_id, self.remote_id)
            except DeviceError:
                pass  # closing on a dead link is not an error
        else:
            self.mux.forget(self)


class _Mux:
    """Owns an authenticated connection: a reader thread dispatching by local id, a writer thread sending."""

    def __init__(self, transport: _FramedTransport, serial: str, io_timeout: float) -> None:
        self.transport = transport
        self.serial = serial
        self.io_timeout = io_timeout  # a socket adbd does not drain for this long is a dead link
        self.max_payload = transport.max_payload
        self.crc = transport.version < _VERSION_SKIP_CHECKSUM  # old adbd: we announced 0x01000001
        self.lost: str | None = None
        self.closed = False
        self._streams: dict[int, _Stream] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)  # never reused: late packets for a closed stream find nothing
        self._out: queue.SimpleQueue[bytes | tuple[bytes, bytes] | None] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read_loop, name=f"adb-direct-read-{serial}", daemon=True)
        self._writer = threading.Thread(target=self._write_loop, name=f"adb-direct-write-{serial}", daemon=True)
        self._reader.start()
        self._writer.start()

    # ---- state
    def check(self) -> None:
        if self.lost is not None:
            raise DeviceDisconnected(self.serial, f"the device went away ({self.lost})")
        if self.closed:
            raise DeviceDisconnected(self.serial, "link closed")

    def _fail(self, reason: str) -> None:
        if self.lost is None and not self.closed:
            self.lost = reason
        self.transport.lost = self.transport.lost or not self.closed
        self._out.put(None)  # the writer has nothing left to do
        with self._lock:
            streams = list(self._streams.values())
        for s in streams:
            with s.cond:
                s.cond.notify_all()

    def forget(self, stream: _Stream) -> None:
        with self._lock:
            self._streams.pop(stream.local_id, None)

    # ---- writing
    def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        """Queue one message for the writer thread (never blocks on the socket)."""
        self.check()
        head = _HEADER.pack(command, arg0, arg1, len(data), checksum(data) if self.crc and data else 0,
                            command ^ 0xFFFFFFFF)
        # adbd over USB expects header and payload as separate transfers; over TCP one send is cheaper
        self._out.put(head + data if self.transport.is_tcp or not data else (head, data))

    def _write_loop(self) -> None:
        while True:
            item = self._out.get()
            if item is None or self.lost is not None:
                return
            try:
                for part in (item if isinstance(item, tuple) else (item,)):
                    self.transport.bulk_write(part, self.io_timeout)
            except _LinkLost as exc:
                self._fail(str(exc))
                return

    # ---- reading
    def _read_loop(self) -> None:
        while not self.closed:
            try:
                msg = self.transport.read_message()
            except _LinkLost as exc:
                self._fail(str(exc))
                return
            if msg is None:
                continue
            command, arg0, arg1, crc, payload = msg
            if payload and crc and self.crc and checksum(payload) != crc:
                self._fail("corrupt message (payload checksum mismatch)")
                return
            try:
                self._dispatch(command, arg0, arg1, payload)
            except DeviceError:
                return  # the writer failed or the link was closed meanwhile

    def _dispatch(self, command: int, arg0: int, arg1: int, payload: bytes) -> None:
        with self._lock:
            stream = self._streams.get(arg1)
        if command == _CNXN:
            self._fail("adbd restarted the connection")
            raise DeviceDisconnected(self.serial, "adbd restarted the connection")
        if stream is None or command not in (_OKAY, _WRTE, _CLSE):
            return  # a stream we already forgot, or something a host is not sent
        if stream.remote_id and arg0 not in (stream.remote_id, 0):
            return  # adbd's id does not match: not this stream's packet
        reply: tuple[int, int, int] | None = None
        with stream.cond:
            if command == _OKAY:
                if not stream.remote_id:
                    stream.remote_id = arg0
                stream.acked = True
            elif command == _WRTE:
                if not stream.local_closed and not stream.remote_closed and stream._deliver(payload):
                    reply = (_OKAY, stream.local_id, stream.remote_id)
            else:  # CLSE: answer it unless we closed first (then it is adbd's answer)
                if not stream.remote_id:
                    stream.refused = True
                elif not stream.local_closed:
                    reply = (_CLSE, stream.local_id, stream.remote_id)
                stream.remote_closed = True
            stream.cond.notify_all()
        if command == _CLSE:
            self.forget(stream)
        if reply is not None:
            self.send(*reply)

    # ---- streams
    def open(self, service: bytes, timeout: float) -> _Stream:
        """OPEN `service`; DeviceError if adbd refuses it or does not answer within `timeout`."""
        self.check()
        stream = _Stream(self, next(self._ids))
        with self._lock:
            self._streams[stream.local_id] = stream
        self.send(_OPEN, stream.local_id, 0, service + b"\0")
        with stream.cond:
            ok = stream._wait(lambda: bool(stream.remote_id) or stream.refused, timeout)
        if not ok or stream.refused:
            self.forget(stream)
            what = "refused" if ok else f"did not answer within {timeout:g} s"
            raise DeviceError(self.serial, f"adbd {what}: open {service.split(b':')[0].decode(errors='replace')}")
        return stream

    def close(self) -> None:
        self.closed = True
        self._out.put(None)  # after anything already queued (CLSEs of streams being closed)
        for t in (self._reader, self._writer):
            if t is not threading.current_thread():
                t.join(timeout=2)
        self._fail("link closed")


class _SyncChannel:
    """syncproto's ByteChannel over a stream: sends batched into max_payload WRTEs, exact reads."""

    def __init__(self, stream: _Stream, timeout: float) -> None:
        self.stream = stream
        self.timeout = timeout
        self._out = bytearray()
        self._in = bytearray()
        self._refused = False  # adbd closed the stream: drop what we send, read what it said

    def sendall(self, data: bytes) -> None:
        if self._refused:
            return
        self._out += data
        step = self.stream.mux.max_payload
        if len(self._out) >= step:
            full = len(self._out) - len(self._out) % step
            self._refused = not self.stream.write(bytes(self._out[:full]), self.timeout)
            del self._out[:full]

    def flush(self) -> None:
        if self._out and not self._refused:
            self._refused = not self.stream.write(bytes(self._out), self.timeout)
        self._out.clear()

    def recv_exact(self, n: int) -> bytes:
        self.flush()
        while len(self._in) < n:
            chunk = self.stream.read(self.timeout)
            if chunk is None:
                raise DeviceError(self.stream.mux.serial, f"sync: no answer from adbd within {self.timeout:g} s")
            if not chunk:
                raise DeviceError(self.stream.mux.serial, "sync: adbd closed the stream mid-transfer")
            self._in += chunk
        out = bytes(self._in[:n])
        del self._in[:n]
        return out


class DirectLink(AdbLink):
    """An AdbLink over one adbd connection. Build with `DirectLink.tcp(...)` or `DirectLink.usb(...)`."""

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
        self._mux = _Mux(self._transport, serial, io_timeout)

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
        if self._closed or self._mux.lost is not None:
            return DeviceState.OFFLINE
        return DeviceState.DEVICE

    def _guard(self) -> None:
        if self._closed:
            raise DeviceDisconnected(self.serial, "link closed")
        self._mux.check()

    def _service_chunks(self, service: bytes, deadline: float | None, idle: float | None,
                        holder: list[_Stream]) -> Iterator[tuple[int, bytes]]:
        """Open `service` and yield decoded (channel, bytes) until adbd closes it (or we do)."""
        v2 = service.startswith(b"shell,v2")
        stream = self._mux.open(service, self.io_timeout)
        holder.append(stream)
        try:
            if v2:
                stream.write(shellproto.encode(shellproto.CLOSE_STDIN), self.io_timeout)  # False: it already ended
            decoder = shellproto.ShellV2Decoder()
            last = time.monotonic()
            got_exit = False
            while True:
                now = time.monotonic()
                if deadline is not None and now > deadline:
                    raise DeviceError(self.serial, "shell command timed out")
                if idle is not None and now - last > idle:
                    raise DeviceError(self.serial, f"no output for {idle:g} s")
                waits = [] if deadline is None else [deadline - now]
                if idle is not None:
                    waits.append(last + idle - now)
                data = stream.read(max(min(waits), 0.001) if waits else None)
                if data is None:
                    continue
                if not data:
                    break
                last = time.monotonic()
                if not v2:
                    yield shellproto.STDOUT, data
                    continue
                for ident, payload in decoder.feed(data):
                    got_exit = got_exit or ident == shellproto.EXIT
                    yield ident, payload
            if v2 and not got_exit and not stream.local_closed:
                raise DeviceDisconnected(self.serial, "the stream closed before the command finished")
        finally:
            stream.close()

    def _shell_service(self, cmd: str) -> bytes:
        return (b"shell,v2,raw:" if self.shell_v2 else b"shell:") + cmd.encode("utf-8")

    def shell(self, cmd: str, timeout: float = 30.0) -> ShellResult:
        self._guard()
        holder: list[_Stream] = []
        try:
            return collect(self._service_chunks(self._shell_service(cmd), time.monotonic() + timeout, None, holder),
                           pty=not self.shell_v2)
        except DeviceError as exc:
            if exc.problem == "shell command timed out":
                raise DeviceError(self.serial, f"shell command timed out after {timeout:g} s: {cmd[:80]}") from None
            raise

    def shell_stream(self, cmd: str, idle_timeout: float | None = None) -> LineStream:
        self._guard()
        holder: list[_Stream] = []
        chunks = self._service_chunks(self._shell_service(cmd), None, idle_timeout, holder)

        def closer() -> None:
            if holder:
                holder[0].close()  # adbd kills the command; a thread blocked in read() sees the end
            try:
                chunks.close()
            except ValueError:
                pass  # another thread is inside it; it will see the close and stop

        return ChunkLineStream(chunks, closer, pty=not self.shell_v2)

    def _sync(self) -> _SyncChannel:
        self._guard()
        return _SyncChannel(self._mux.open(b"sync:", self.io_timeout), self.io_timeout)

    def push(self, local: Path | str, remote: str, progress: ProgressFn | None = None, mode: int = 0o644) -> None:
        local = Path(local)
        if not local.is_file():
            raise DeviceError(self.serial, f"cannot read {local}: not a file")
        try:
            src = open(local, "rb")
        except OSError as exc:
            raise DeviceError(self.serial, f"cannot read {local}: {exc.strerror}") from exc
        with src:
            ch = self._sync()
            try:
                syncproto.send_file(ch, src, remote, mode, local.stat().st_size, progress)
                syncproto.quit(ch)
                ch.flush()
            except syncproto.SyncError as exc:
                raise DeviceError(self.serial, f"push {local} -> {remote} failed: {exc}") from exc
            finally:
                ch.stream.close()

    def pull(self, remote: str, local: Path | str, progress: ProgressFn | None = None) -> None:
        ch = self._sync()
        try:
            syncproto.pull_to_path(ch, remote, Path(local), progress)
            syncproto.quit(ch)
            ch.flush()
        except syncproto.SyncError as exc:
            raise DeviceError(self.serial, f"pull {remote} failed: {exc}") from exc
        except OSError as exc:
            raise DeviceError(self.serial, f"cannot write {local}: {exc.strerror}") from exc
        finally:
            ch.stream.close()

    def stat(self, remote: str) -> RemoteStat:
        ch = self._sync()
        try:
            info = syncproto.stat(ch, remote)
            syncproto.quit(ch)
            ch.flush()
            return info
        except syncproto.SyncError as exc:
            raise DeviceError(self.serial, f"stat {remote} failed: {exc}") from exc
        finally:
            ch.stream.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._mux.close()
            self._dev.close()
