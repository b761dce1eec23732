"""A protocol-faithful adbd on a loopback TCP port, run in threads (one reader per connection).

Behaves as adbd does toward both adb-shell and a real adb server: CNXN/AUTH handshake with real RSA
checks, OPEN/OKAY/WRTE/CLSE streams with one outstanding WRTE each, the shell and sync services.
`legacy=True` mimics an old adbd: no features in the banner, 4 KiB payloads, checksummed protocol
version 0x01000000, PTY shells (CRLF, stderr merged, no exit status), no shell_v2 service.
"""
from __future__ import annotations

import os
import socket
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.adbpeer import wire
from tests.adbpeer.auth import BadPublicKey, decode_android_pubkey, verify_token
from tests.adbpeer.sandbox import Sandbox
from tests.adbpeer.shell_service import ShellSession, parse_shell_service
from tests.adbpeer.streams import Stream
from tests.adbpeer.sync_service import SyncSession

MODERN_FEATURES = (
    "shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir", "apex", "abb", "fixed_push_symlink_timestamp",
    "abb_exec", "remount_shell", "track_app", "sendrecv_v2", "sendrecv_v2_brotli", "sendrecv_v2_lz4",
    "sendrecv_v2_zstd", "sendrecv_v2_dry_run_send", "openscreen_mdns",
)
# Features whose services this peer does not implement are not advertised (an honest banner).
DEFAULT_FEATURES = ("shell_v2", "cmd", "stat_v2", "fixed_push_mkdir")
MAX_PAYLOAD = 1024 * 1024
LEGACY_MAX_PAYLOAD = 4096
_EMULATOR_PORTS = range(5555, 5586)  # Debian's adb server probes these as emulators


@dataclass
class PeerConfig:
    """What kind of phone the peer plays."""

    product: str = "oriole"
    model: str = "Pixel_6"
    device: str = "oriole"
    features: tuple[str, ...] = DEFAULT_FEATURES
    legacy: bool = False
    auth_required: bool = True
    authorized_keys: list[str] = field(default_factory=list)  # Android public key texts ("base64 user@host")
    accept_new_keys: bool = True  # the user taps "Allow" on the "Allow USB debugging?" prompt
    prompt_delay_s: float = 0.0  # how long the user takes to tap it
    props: dict[str, str] | None = None
    dumpsys: dict[str, str] | None = None
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port outside 5555-5585


class AdbPeer:
    """Start with `start()`, stop with `stop()`; `drop_connections()` plays an unplugged phone."""

    def __init__(self, sandbox_dir: Path | str, config: PeerConfig | None = None) -> None:
        self.config = config or PeerConfig()
        self.sandbox = Sandbox(Path(sandbox_dir), self.config.props, self.config.dumpsys)
        self.authorized_keys: list[str] = list(self.config.authorized_keys)
        self.prompts: list[str] = []  # comments ("user@host") of keys the user was asked about
        self._lock = threading.Lock()
        self._connections: list[_Connection] = []
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self.port = 0
        self.sessions: list[ShellSession] = []  # every shell started, in order (tests inspect how they ended)

    @property
    def serial(self) -> str:
        """How an adb server names this peer after `adb connect`."""
        return f"{self.config.host}:{self.port}"

    @property
    def version(self) -> int:
        return wire.A_VERSION_MIN if self.config.legacy else wire.A_VERSION_SKIP_CHECKSUM

    @property
    def max_payload(self) -> int:
        return LEGACY_MAX_PAYLOAD if self.config.legacy else MAX_PAYLOAD

    def banner(self) -> bytes:
        c = self.config
        text = f"device::ro.product.name={c.product};ro.product.model={c.model};ro.product.device={c.device};"
        if not c.legacy:
            text += "features=" + ",".join(c.features)
        return text.encode()

    def start(self) -> "AdbPeer":
        for _ in range(50):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.config.host, self.config.port))
            if self.config.port or sock.getsockname()[1] not in _EMULATOR_PORTS:
                break
            sock.close()
        sock.listen(8)
        self._listener = sock
        self.port = sock.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, args=(sock,), name=f"adbpeer-{self.port}",
                                               daemon=True)
        self._accept_thread.start()
        return self

    def _accept_loop(self, listener: socket.socket) -> None:
        # the listener is passed in: stop() clears self._listener while this thread may be between accepts
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(self, sock)
            with self._lock:
                self._connections.append(conn)
            threading.Thread(target=conn.run, name=f"adbpeer-conn-{self.port}", daemon=True).start()

    def drop_connections(self) -> None:
        """Close every host connection abruptly (no CLSE), killing their shells: an unplugged phone."""
        with self._lock:
            conns, self._connections = self._connections, []
        for conn in conns:
            conn.close()

    def stop(self) -> None:
        """Stop listening and drop everything; the port is free afterwards."""
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        self.drop_connections()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=2)

    def reap(self) -> None:
        """SIGKILL every process group a shell of this peer left behind (test hygiene: a phone keeps
        such strays running; a test run must not). Call after `stop()`."""
        with self._lock:
            sessions = list(self.sessions)
        for session in sessions:
            session.reap()

    def _forget(self, conn: "_Connection") -> None:
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)

    def online_connections(self) -> int:
        with self._lock:
            return sum(1 for c in self._connections if c.online)

    def __enter__(self) -> "AdbPeer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.reap()


class _Connection:
    """One host (adb server or adb-shell) connected to the peer."""

    def __init__(self, peer: AdbPeer, sock: socket.socket) -> None:
        self.peer = peer
        self.sock = sock
        self.version = peer.version
        self.max_payload = peer.max_payload
        self.online = False
        self.token: bytes | None = None
        self._send_lock = threading.Lock()
        self._streams: dict[int, Stream] = {}
        self._sessions: dict[int, ShellSession] = {}
        self._next_id = 1
        self._closed = False

    # ---- io
    def send(self, name: str, arg0: int, arg1: int, data: bytes = b"") -> bool:
        msg = wire.Message(struct.unpack("<I", name.encode())[0], arg0, arg1, data)
        raw = msg.pack(with_checksum=self.version < wire.A_VERSION_SKIP_CHECKSUM)
        try:
            with self._send_lock:
                self.sock.sendall(raw)
        except OSError:
            self.close()
            return False
        return True

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return bytes(buf)

    def run(self) -> None:
        try:
            while True:
                head = self._recv_exact(wire.HEADER.size)
                command, arg0, arg1, length, crc = wire.parse_header(head, max(self.max_payload, MAX_PAYLOAD))
                data = self._recv_exact(length) if length else b""
                version = arg0 if command == wire.A_CNXN else self.version
                if data:
                    wire.verify_payload(data, crc, min(version, self.peer.version))
                self._dispatch(wire.Message(command, arg0, arg1, data))
        except (OSError, EOFError, wire.ProtocolViolation):
            pass
        finally:
            self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.online = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for stream in list(self._streams.values()):
            stream.abort()
        for session in list(self._sessions.values()):
            session.kill()
        self._streams.clear()
        self.peer._forget(self)

    # ---- protocol
    def _dispatch(self, msg: wire.Message) -> None:
        if msg.command == wire.A_CNXN:
            self._on_cnxn(msg)
        elif msg.command == wire.A_AUTH:
            self._on_auth(msg)
        elif not self.online:
            return  # adbd ignores stream traffic before the transport is online
        elif msg.command == wire.A_OPEN:
            self._on_open(msg)
        elif msg.command == wire.A_WRTE:
            stream = self._streams.get(msg.arg1)
            if stream is not None and stream.remote_id == msg.arg0:
                stream.deliver(msg.data)
        elif msg.command == wire.A_OKAY:
            stream = self._streams.get(msg.arg1)
            if stream is not None and stream.remote_id == msg.arg0:
                stream.on_okay()
        elif msg.command == wire.A_CLSE:
            stream = self._streams.pop(msg.arg1, None)
            if stream is not None and (msg.arg0 == 0 or stream.remote_id == msg.arg0):
                stream.on_remote_close()
                session = self._sessions.pop(msg.arg1, None)
                if session is not None:
                    session.kill()

    def _on_cnxn(self, msg: wire.Message) -> None:
        for stream in list(self._streams.values()):
            stream.abort()
        self._streams.clear()
        self.version = min(msg.arg0, self.peer.version)
        self.max_payload = min(msg.arg1, self.peer.max_payload)
        self.online = False
        if self.peer.config.auth_required:
            self._send_token()
        else:
            self._go_online()

    def _send_token(self) -> None:
        self.token = os.urandom(wire.TOKEN_SIZE)
        self.send("AUTH", wire.AUTH_TOKEN, 0, self.token)

    def _go_online(self) -> None:
        self.online = True
        self.token = None
        self.send("CNXN", self.peer.version, self.peer.max_payload, self.peer.banner())

    def _on_auth(self, msg: wire.Message) -> None:
        if self.online or self.token is None:
            return
        if msg.arg0 == wire.AUTH_SIGNATURE:
            for text in list(self.peer.authorized_keys):
                key, _ = decode_android_pubkey(text)
                if verify_token(key, self.token, msg.data):
                    self._go_online()
                    return
            self._send_token()
        elif msg.arg0 == wire.AUTH_RSAPUBLICKEY:
            try:
                decode_android_pubkey(msg.data)
            except BadPublicKey:
                return
            text = msg.data.rstrip(b"\0").decode("ascii", "replace").strip()
            self.peer.prompts.append(text.partition(" ")[2])
            if not self.peer.config.accept_new_keys:
                return  # the dialog stays up; the host sees the device as unauthorized
            timer = threading.Timer(self.peer.config.prompt_delay_s, self._accept_key, args=(text,))
            timer.daemon = True
            timer.start()

    def _accept_key(self, text: str) -> None:
        if self._closed or self.online:
            return
        self.peer.authorized_keys.append(text)
        self._go_online()

    def _on_open(self, msg: wire.Message) -> None:
        name = msg.data.rstrip(b"\0").decode("utf-8", "surrogateescape")
        if msg.arg0 == 0:
            return
        local_id = self._next_id
        self._next_id += 1
        stream = Stream(local_id, msg.arg0, self.max_payload, self.send)
        cfg = self.peer.config
        shell = parse_shell_service(name)
        if shell is not None and (not cfg.legacy or name.startswith("shell:")):
            args, command = shell
            if "v2" in args and "shell_v2" not in cfg.features:
                self.send("CLSE", 0, msg.arg0)
                return
            session = ShellSession(stream, self.peer.sandbox, args, command, cfg.legacy)
            self._streams[local_id] = stream
            self._sessions[local_id] = session
            with self.peer._lock:
                self.peer.sessions.append(session)
            self.send("OKAY", local_id, msg.arg0)
            session.start()
        elif name == "sync:":
            self._streams[local_id] = stream
            self.send("OKAY", local_id, msg.arg0)
            sync = SyncSession(stream, self.peer.sandbox, stat_v2="stat_v2" in cfg.features and not cfg.legacy)
            threading.Thread(target=sync.run, daemon=True).start()
        else:
            self.send("CLSE", 0, msg.arg0)  # adbd: service not found
