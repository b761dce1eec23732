"""Debian's real adb server on a private port and a private HOME, for cross-checks.

The server is a child process we own: `adb -P PORT nodaemon server` (never the daemonizing
`start-server`), with its own HOME and ADB_VENDOR_KEYS (the user's ~/.android is never read or
written). It is stopped by its pid, from `stop()`, from a finalizer at interpreter exit, and, where
util-linux `setpriv` exists, by the kernel when the test process dies (PDEATHSIG), so neither a
failed stop nor a killed pytest leaves servers behind on random ports.

Ports: adb binds -P itself, so a port picked beforehand can be taken by someone else in between;
`start()` notices adb's "Address already in use" abort and retries on another port. Ports that must
refuse connections (a "dead" target, "no server here") come from `closed_port()`, which keeps the
port bound, never listening, for as long as the caller holds the socket.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import weakref
from pathlib import Path

from tests.adbpeer.peer import _EMULATOR_PORTS

START_ATTEMPTS = 8
READY_TIMEOUT_S = 15.0
_IN_USE = "Address already in use"


def _bound_loopback() -> socket.socket:
    """A socket bound to a free loopback port outside the emulator range adb probes (and not 5037)."""
    for _ in range(100):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        if sock.getsockname()[1] not in _EMULATOR_PORTS and sock.getsockname()[1] != 5037:
            return sock
        sock.close()
    raise RuntimeError("no free loopback port outside 5555-5585")


def closed_port() -> socket.socket:
    """A socket bound to a loopback port and never listening: connecting there is refused, and no one
    else can start listening there while the caller keeps it open. The port is `.getsockname()[1]`."""
    return _bound_loopback()


def _candidate_port() -> int:
    """A port that was free a moment ago (adb binds it itself; `start()` retries if it was taken)."""
    with _bound_loopback() as sock:
        return sock.getsockname()[1]


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def listens(pid: int, port: int) -> bool:
    """Whether process `pid` itself holds a socket listening on `port` (not just anybody)."""
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL; always reaps. Safe to call twice."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class AdbServer:
    """Our own `adb nodaemon server` child on a private port; run `adb` commands against it with `adb()`."""

    def __init__(self, home: Path) -> None:
        binary = shutil.which("adb")
        if binary is None:
            raise FileNotFoundError("adb")
        self.binary = binary
        self.home = Path(home)
        (self.home / ".android").mkdir(parents=True, exist_ok=True)
        self.log_path = self.home / "adb-server.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self.env: dict[str, str] = {}

    def _env(self, port: int) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("ANDROID_") and k != "ADB_TRACE"},
            "HOME": str(self.home),
            "ADB_VENDOR_KEYS": str(self.home / ".android"),
            "ANDROID_ADB_SERVER_PORT": str(port),
            "ADB_MDNS": "0",
            "ADB_LIBUSB": "0",
        }

    def adb(self, *args: str, timeout: float = 20, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run the adb client against our server. Refused once the server is gone: the client would
        otherwise start a daemonized server of its own on our port, the very leak this class avoids."""
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"adb server on port {self.port} is not running (see {self.log_path})")
        return subprocess.run([self.binary, "-P", str(self.port), *args], env=self.env, capture_output=True,
                              timeout=timeout, input=input if input is not None else b"", check=False)

    def start(self) -> "AdbServer":
        """Start the server as our child and wait until it listens; retries when its port was taken."""
        prefix = ["setpriv", "--pdeathsig", "KILL"] if shutil.which("setpriv") else []
        for _ in range(START_ATTEMPTS):
            port = _candidate_port()
            env = self._env(port)
            with open(self.log_path, "wb") as log:
                proc = subprocess.Popen([*prefix, self.binary, "-P", str(port), "nodaemon", "server"], env=env,
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            if self._wait_listening(proc, port):
                self.port, self.env, self.proc = port, env, proc
                self._finalizer = weakref.finalize(self, _kill, proc)  # also runs at interpreter exit
                return self
            _kill(proc)
            text = self.log_path.read_text(errors="replace")
            if _IN_USE not in text:
                raise RuntimeError(f"adb nodaemon server on port {port} failed: {text.strip()[-300:]}")
        raise RuntimeError(f"adb server: {START_ATTEMPTS} ports in a row were taken before adb could bind them")

    @staticmethod
    def _wait_listening(proc: subprocess.Popen[bytes], port: int) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            if listens(proc.pid, port):
                return True
            time.sleep(0.01)
        return False

    def wait_state(self, serial: str, state: str, timeout: float = 10) -> str:
        """Poll `adb devices` until `serial` shows `state`; returns the last state seen."""
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            for line in self.adb("devices").stdout.decode().splitlines()[1:]:
                parts = line.split("\t")
                if len(parts) == 2 and parts[0] == serial:
                    seen = parts[1]
            if seen == state:
                return seen
            time.sleep(0.05)
        return seen

    def stop(self) -> None:
        """Kill OUR server, by its pid (never `adb kill-server`, never anybody else's)."""
        if self._finalizer is not None:
            self._finalizer()  # runs _kill(proc) once and detaches the exit hook
