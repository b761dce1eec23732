"""Client for a running adb server (smart-socket protocol, adb's SERVICES.TXT) and `ServerLink`.

Requests are "%04x<text>"; answers "OKAY" or "FAIL%04x<message>". host:* queries answer with a
length-prefixed payload; host:transport:SERIAL turns the socket into a pipe to the device, on which
one device service (shell, shell,v2, sync) is then requested. We never start a server: `discover()`
only looks for one at ANDROID_ADB_SERVER_PORT or 5037.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from workbench.core.adb import shellproto, syncproto
from workbench.core.adb.link import AdbLink, LineStream, ProgressFn, RemoteStat, ShellResult
from workbench.core.adb.streaming import ChunkLineStream, collect
from workbench.core.errors import DeviceDisconnected, DeviceError, WorkbenchError
from workbench.core.types import DeviceState

DEFAULT_PORT = 5037
_STATES = {s.value: s for s in DeviceState}


class ServerError(WorkbenchError):
    """The adb server answered FAIL or broke the protocol (for host:* requests)."""


@dataclass(frozen=True)
class ServerDevice:
    """One line of `host:devices-l`: e.g. serial 'emulator-5554', state DEVICE, details {'model': 'Pixel_6'}."""

    serial: str
    state: DeviceState
    details: dict[str, str] = field(default_factory=dict)


def parse_devices_l(text: str) -> list[ServerDevice]:
    """Parse `adb devices -l` / host:devices-l output, including 'no permissions (...)' states."""
    out: list[ServerDevice] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("List of devices", "*")):
            continue
        serial, _, rest = line.partition("\t") if "\t" in line else line.partition(" ")
        rest = rest.strip()
        details: dict[str, str] = {}
        if rest.startswith("no permissions"):
            state = DeviceState.NO_PERMISSIONS
            reason, _, tail = rest[len("no permissions"):].partition(";")
            details["reason"] = reason.strip(" ()") + (";" + tail if tail and "]" in tail else "")
            tokens = tail.split()
        else:
            word, _, tail = rest.partition(" ")
            state = _STATES.get(word, DeviceState.UNKNOWN)
            if state is DeviceState.UNKNOWN:
                details["adb_state"] = word
            tokens = tail.split()
        for tok in tokens:
            key, sep, val = tok.partition(":")
            if sep and key.isidentifier():
                details[key] = val
        out.append(ServerDevice(serial.strip(), state, details))
    return out


class _SockChannel:
    """A socket with exact reads, deadline-aware timeouts and disconnect -> DeviceDisconnected."""

    def __init__(self, sock: socket.socket, serial: str) -> None:
        self.sock = sock
        self.serial = serial

    def sendall(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except socket.timeout as exc:
            raise DeviceError(self.serial, f"timed out sending to the adb server ({exc})") from exc
        except OSError as exc:
            raise DeviceDisconnected(self.serial, f"connection lost ({exc})") from exc

    def recv_some(self, n: int = 256 * 1024) -> bytes:
        try:
            return self.sock.recv(n)
        except socket.timeout as exc:
            raise TimeoutError from exc
        except OSError as exc:
            raise DeviceDisconnected(self.serial, f"connection lost ({exc})") from exc

    def recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.recv_some(n - len(buf))
            except TimeoutError as exc:
                raise DeviceError(self.serial, "no answer from the device in time") from exc
            if not chunk:
                raise DeviceDisconnected(self.serial, "the device went away (connection closed mid-transfer)")
            buf += chunk
        return bytes(buf)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class ServerClient:
    """Talks to one adb server; every call opens its own short-lived socket (as adb itself does)."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, timeout: float = 5.0) -> None:
        self.host = host
        self.port = port if port is not None else server_port()
        self.timeout = timeout

    @classmethod
    def discover(cls, timeout: float = 2.0) -> "ServerClient | None":
        """The running server at ANDROID_ADB_SERVER_PORT or 5037, or None (we never start one)."""
        client = cls(timeout=timeout)
        try:
            client.version()
        except (OSError, ServerError):
            return None
        return client

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    @staticmethod
    def _send_request(sock: socket.socket, text: str) -> None:
        raw = text.encode("utf-8")
        sock.sendall(b"%04x" % len(raw) + raw)

    @staticmethod
    def _read_exact(sock: socket.socket, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ServerError("adb server closed the connection mid-answer")
            buf += chunk
        return bytes(buf)

    def _status(self, sock: socket.socket, what: str) -> None:
        status = self._read_exact(sock, 4)
        if status == b"OKAY":
            return
        if status == b"FAIL":
            length = int(self._read_exact(sock, 4), 16)
            raise ServerError(f"adb server refused {what}: {self._read_exact(sock, length).decode(errors='replace')}")
        raise ServerError(f"adb server sent {status!r} to {what}")

    def query(self, text: str) -> str:
        """A host:* request whose answer is a length-prefixed string."""
        with self._open() as sock:
            self._send_request(sock, text)
            self._status(sock, text)
            length = int(self._read_exact(sock, 4), 16)
            return self._read_exact(sock, length).decode("utf-8", "replace")

    def version(self) -> int:
        return int(self.query("host:version"), 16)

    def devices(self) -> list[ServerDevice]:
        return parse_devices_l(self.query("host:devices-l"))

    def features(self, serial: str) -> frozenset[str]:
        try:
            text = self.query(f"host-serial:{serial}:features")
        except ServerError as exc:
            raise DeviceError(serial, str(exc)) from exc
        return frozenset(f for f in text.strip().split(",") if f)

    def connect(self, host: str, port: int = 5555) -> str:
        """host:connect; returns the server's message, raises DeviceError when it could not connect."""
        msg = self.query(f"host:connect:{host}:{port}").strip()
        if msg.startswith(("failed", "unable", "cannot")) and "authenticate" not in msg:
            raise DeviceError(f"{host}:{port}", msg)
        return msg

    def disconnect(self, host: str, port: int = 5555) -> str:
        return self.query(f"host:disconnect:{host}:{port}").strip()

    def open_service(self, serial: str, service: str, timeout: float | None) -> _SockChannel:
        """A socket piped to `service` on the device `serial` (host:transport then the service)."""
        try:
            sock = self._open()
        except OSError as exc:
            raise DeviceDisconnected(serial, f"adb server on port {self.port} is gone ({exc})") from exc
        try:
            self._send_request(sock, f"host:transport:{serial}")
            self._status(sock, "host:transport")
            self._send_request(sock, service)
            self._status(sock, service.partition(":")[0])
        except ServerError as exc:
            sock.close()
            text = str(exc)
            if "not found" in text or "offline" in text or "closed" in text:
                raise DeviceDisconnected(serial, text) from exc
            raise DeviceError(serial, text) from exc
        except OSError as exc:
            sock.close()
            raise DeviceDisconnected(serial, f"connection lost ({exc})") from exc
        sock.settimeout(timeout)
        return _SockChannel(sock, serial)

    def link(self, serial: str) -> "ServerLink":
        return ServerLink(self, serial)


def server_port() -> int:
    raw = os.environ.get("ANDROID_ADB_SERVER_PORT", "")
    return int(raw) if raw.isdigit() else DEFAULT_PORT


class ServerLink(AdbLink):
    """An AdbLink through a running adb server; every operation is its own service socket."""

    via = "server"

    def __init__(self, client: ServerClient, serial: str, io_timeout: float = 20.0) -> None:
        self.client = client
        self.serial = serial
        self.io_timeout = io_timeout
        self._features: frozenset[str] | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def features(self) -> frozenset[str]:
        if self._features is None:
            self._features = self.client.features(self.serial)
        return self._features

    def state(self) -> DeviceState:
        try:
            for dev in self.client.devices():
                if dev.serial == self.serial:
                    return dev.state
        except (OSError, ServerError):
            return DeviceState.OFFLINE
        return DeviceState.OFFLINE

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceDisconnected(self.serial, "link closed")

    def _shell_service(self, cmd: str) -> str:
        return ("shell,v2,raw:" if self.shell_v2 else "shell:") + cmd

    def _chunks(self, ch: _SockChannel, deadline: float | None, idle: float | None) -> Iterator[tuple[int, bytes]]:
        """Decode the service socket into (channel, bytes); v2 EOF before the exit packet = disconnect."""
        v2 = self.shell_v2
        decoder = shellproto.ShellV2Decoder()
        if v2:
            ch.sendall(shellproto.encode(shellproto.CLOSE_STDIN))
        got_exit = False
        while True:
            wait = idle
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DeviceError(self.serial, "shell command timed out")
                wait = left if wait is None else min(wait, left)
            ch.sock.settimeout(wait)
            try:
                data = ch.recv_some()
            except TimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise DeviceError(self.serial, "shell command timed out") from None
                raise DeviceError(self.serial, f"no output for {idle:g} s") from None
            if not data:
                break
            if not v2:
                yield shellproto.STDOUT, data
                continue
            for ident, payload in decoder.feed(data):
                if ident == shellproto.EXIT:
                    got_exit = True
                yield ident, payload
        if v2 and not got_exit:
            raise DeviceDisconnected(self.serial, "the device went away before the command finished")
        if not v2 and self.state() is not DeviceState.DEVICE:
            raise DeviceDisconnected(self.serial, "the device went away (no exit status on old adbd)")

    def shell(self, cmd: str, timeout: float = 30.0) -> ShellResult:
        self._check_open()
        deadline = time.monotonic() + timeout
        ch = self.client.open_service(self.serial, self._shell_service(cmd), timeout)
        try:
            result = collect(self._chunks(ch, deadline, None), pty=not self.shell_v2)
        except DeviceError as exc:
            if "timed out" in exc.problem:
                raise DeviceError(self.serial, f"shell command timed out after {timeout:g} s: {cmd[:80]}") from None
            raise
        finally:
            ch.close()
        return result

    def shell_stream(self, cmd: str, idle_timeout: float | None = None) -> LineStream:
        self._check_open()
        ch = self.client.open_service(self.serial, self._shell_service(cmd), None)
        return ChunkLineStream(self._chunks(ch, None, idle_timeout), ch.close, pty=not self.shell_v2)

    def _sync(self) -> _SockChannel:
        self._check_open()
        return self.client.open_service(self.serial, "sync:", self.io_timeout)

    def push(self, local: Path | str, remote: str, progress: ProgressFn | None = None, mode: int = 0o644) -> None:
        local = Path(local)
        try:
            src = open(local, "rb")
        except OSError as exc:
            raise DeviceError(self.serial, f"cannot read {local}: {exc.strerror}") from exc
        ch = self._sync()
        try:
            with src:
                syncproto.send_file(ch, src, remote, mode, os.fstat(src.fileno()).st_size, progress)
            syncproto.quit(ch)
        except syncproto.SyncError as exc:
            raise DeviceError(self.serial, f"push {local} -> {remote} failed: {exc}") from exc
        finally:
            ch.close()

    def pull(self, remote: str, local: Path | str, progress: ProgressFn | None = None) -> None:
        ch = self._sync()
        try:
            syncproto.pull_to_path(ch, remote, Path(local), progress)
            syncproto.quit(ch)
        except syncproto.SyncError as exc:
            raise DeviceError(self.serial, f"pull {remote} failed: {exc}") from exc
        except OSError as exc:
            raise DeviceError(self.serial, f"cannot write {local}: {exc.strerror}") from exc
        finally:
            ch.close()

    def stat(self, remote: str) -> RemoteStat:
        ch = self._sync()
        try:
            info = syncproto.stat(ch, remote)
            syncproto.quit(ch)
            return info
        except syncproto.SyncError as exc:
            raise DeviceError(self.serial, f"stat {remote} failed: {exc}") from exc
        finally:
            ch.close()

    def close(self) -> None:
        self._closed = True
