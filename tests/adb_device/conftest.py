"""Fixtures: a test phone (the adbpeer) with python3 + onnxruntime on its PATH, reached as an AdbDevice
either directly over TCP (remembered target, no server) or through Debian's adb server."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.adbpeer.adb_server import AdbServer, closed_port
from tests.adbpeer.fixtures import adb_key, adb_server, make_peer  # noqa: F401 - pytest fixtures
from tests.adbpeer.peer import AdbPeer
from workbench.core.adb import remembered
from workbench.core.adb.device import AdbDevice, adb_devices
from workbench.core.adb.server import ServerClient

MODELS = Path(__file__).resolve().parents[2] / "resources" / "models"


def give_python(peer: AdbPeer) -> None:
    """The "device" runs commands with this machine's /bin/sh: put the test interpreter on its PATH as
    python3, like a Linux board that has python3 and onnxruntime installed."""
    wrapper = peer.sandbox.bin / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)


def wait_gone(pid: int) -> None:
    """Poll until `pid` (a process of the test phone, i.e. of this machine) no longer exists."""
    for _ in range(250):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    pytest.fail(f"runner {pid} still alive after the run was cancelled")


def wait_no_process(marker: str) -> None:
    """Poll until no process of this machine (the test phone's processes are ours) has `marker` in
    its command line."""
    for _ in range(250):
        alive = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
                with open(f"/proc/{entry}/stat") as f:
                    zombie = f.read().rpartition(")")[2].split()[0] == "Z"
            except OSError:
                continue
            if marker in cmdline and not zombie:
                alive.append(entry)
        if not alive:
            return
        time.sleep(0.02)
    pytest.fail(f"still running on the test phone: pids {alive} ({marker})")


class Target:
    """How a test reaches peers: `device(peer)` lists devices the way `workbench devices` does and picks it."""

    def __init__(self, kind: str, tmp_path: Path, key: Path, server: AdbServer | None) -> None:
        self.kind = kind
        self.targets_file = remembered.default_path()  # under the test's XDG_CONFIG_HOME
        self.key = key
        self.server = server
        self.client = ServerClient(port=server.port) if server else None
        self.connected: list[str] = []

    def connect(self, peer: AdbPeer) -> None:
        if self.client is not None:
            self.client.connect("127.0.0.1", peer.port)
            assert self.server is not None and self.server.wait_state(peer.serial, "device") == "device"
            self.connected.append(peer.serial)
        else:
            remembered.remember("127.0.0.1", peer.port, self.targets_file)

    def devices(self) -> list[AdbDevice]:
        return adb_devices(server=self.client if self.client is not None else False,
                           remembered_path=self.targets_file, usb=False, key_path=self.key, connect_timeout_s=5)

    def device(self, peer: AdbPeer) -> AdbDevice:
        for dev in self.devices():
            if dev.serial == peer.serial:
                return dev
        raise AssertionError(f"{peer.serial} not listed")

    def close(self) -> None:
        if self.server is not None:
            for serial in self.connected:
                self.server.adb("disconnect", serial)


@pytest.fixture(params=["direct", pytest.param("server", marks=pytest.mark.adb_server)])
def target(request: pytest.FixtureRequest, tmp_path: Path, adb_key: Path,
           monkeypatch: pytest.MonkeyPatch) -> Target:
    # The CLI uses the defaults: keep them inside the test (config dir, adb key, server port).
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("ANDROID_USER_HOME", str(adb_key.parent))
    server = request.getfixturevalue("adb_server") if request.param == "server" else None
    # direct: no adb server may be found (a port held closed for the whole test); server: ours
    if server is None:
        nobody = closed_port()
        request.addfinalizer(nobody.close)
    port = server.port if server else nobody.getsockname()[1]
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(port))
    t = Target(request.param, tmp_path, adb_key, server)
    request.addfinalizer(t.close)
    return t


@pytest.fixture
def phone(make_peer: Callable[..., AdbPeer], target: Target) -> tuple[AdbPeer, AdbDevice]:
    peer = make_peer()
    give_python(peer)
    target.connect(peer)
    return peer, target.device(peer)


@pytest.fixture
def demo_cnn() -> Path:
    return MODELS / "mobilenet_se.onnx"
