"""Debian's real adb server on a private port and a private HOME, for cross-checks.

The server gets its own HOME and ADB_VENDOR_KEYS (so the user's ~/.android is never read or
written) and its own port; `stop()` kills only this server, by its port.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.adbpeer.peer import _EMULATOR_PORTS


def free_port() -> int:
    """A free loopback port outside the emulator range adb probes."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _EMULATOR_PORTS and port != 5037:
            return port


class AdbServer:
    """`adb -P PORT start-server` with an isolated HOME; run `adb` commands against it with `adb()`."""

    def __init__(self, home: Path) -> None:
        self.binary = shutil.which("adb")
        if self.binary is None:
            raise FileNotFoundError("adb")
        self.home = Path(home)
        (self.home / ".android").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ANDROID_") and k != "ADB_TRACE"},
            "HOME": str(self.home),
            "ADB_VENDOR_KEYS": str(self.home / ".android"),
            "ANDROID_ADB_SERVER_PORT": str(self.port),
            "ADB_MDNS": "0",
            "ADB_LIBUSB": "0",
        }

    def adb(self, *args: str, timeout: float = 20, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([self.binary, "-P", str(self.port), *args], env=self.env, capture_output=True,
                              timeout=timeout, input=input if input is not None else b"", check=False)

    def start(self) -> "AdbServer":
        out = self.adb("start-server")
        if out.returncode != 0:
            raise RuntimeError(f"adb start-server failed: {out.stderr.decode(errors='replace')}")
        return self

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
        """Kill OUR server (by its port), never anybody else's."""
        try:
            self.adb("kill-server", timeout=10)
        except subprocess.TimeoutExpired:
            pass
