"""ServerLink against Debian's adb server, cross-checked with the `adb` client; devices list states."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.adbpeer.adb_server import AdbServer, closed_port
from workbench.core.adb import remembered
from workbench.core.adb.discovery import discover, list_adb_devices
from workbench.core.adb.server import ServerClient
from workbench.core.types import DeviceState

pytestmark = pytest.mark.adb_server


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_devices_list_shows_device_and_unauthorized(make_peer, adb_server: AdbServer, tmp_path: Path) -> None:
    ok, locked = make_peer(), make_peer(accept_new_keys=False)
    client = ServerClient(port=adb_server.port)
    dead = closed_port()
    try:
        for peer in (ok, locked):
            client.connect("127.0.0.1", peer.port)
        assert adb_server.wait_state(ok.serial, "device") == "device"
        assert adb_server.wait_state(locked.serial, "unauthorized") == "unauthorized"
        states = {d.serial: d for d in client.devices()}
        assert states[ok.serial].state is DeviceState.DEVICE and states[ok.serial].details["model"] == "Pixel_6"
        assert states[locked.serial].state is DeviceState.UNAUTHORIZED
        offline = dead.getsockname()[1]
        remembered.remember("127.0.0.1", offline, tmp_path / "targets.json")
        remembered.remember("127.0.0.1", ok.port, tmp_path / "targets.json")
        found = discover(server=client, remembered_path=tmp_path / "targets.json")
        by_serial = {t.serial: t for t in found.targets}
        assert by_serial[ok.serial].via == "server"  # not listed twice
        assert by_serial[f"127.0.0.1:{offline}"] == ("127.0.0.1:" + str(offline), DeviceState.OFFLINE, "tcp",
                                                     {"remembered": "yes", "reachable": "no"})
        assert any("server owns USB" in n for n in found.notes)
        assert {t.serial for t in list_adb_devices(server=client, remembered_path=tmp_path / "none.json")} >= {
            ok.serial, locked.serial}
    finally:
        dead.close()
        for peer in (ok, locked):
            adb_server.adb("disconnect", peer.serial)


def test_our_results_match_the_adb_client(make_peer, adb_server: AdbServer, tmp_path: Path) -> None:
    peer = make_peer()
    client = ServerClient(port=adb_server.port)
    client.connect("127.0.0.1", peer.port)
    try:
        assert adb_server.wait_state(peer.serial, "device") == "device"
        link = client.link(peer.serial)
        cmd = "echo out; echo err >&2; exit 5"
        theirs = adb_server.adb("-s", peer.serial, "shell", cmd)
        ours = link.shell(cmd)
        assert (ours.stdout.encode(), ours.stderr.encode(), ours.exit_code) == (theirs.stdout, theirs.stderr,
                                                                               theirs.returncode)
        # our push, their pull; their push, our pull
        src = tmp_path / "a.bin"
        src.write_bytes(os.urandom(300_000))
        link.push(src, "/data/local/tmp/a.bin")
        assert adb_server.adb("-s", peer.serial, "pull", "/data/local/tmp/a.bin", str(tmp_path / "a2.bin")).returncode == 0
        assert _sha(tmp_path / "a2.bin") == _sha(src)
        assert adb_server.adb("-s", peer.serial, "push", str(src), "/data/local/tmp/b.bin").returncode == 0
        link.pull("/data/local/tmp/b.bin", tmp_path / "b2.bin")
        assert _sha(tmp_path / "b2.bin") == _sha(src)
    finally:
        adb_server.adb("disconnect", peer.serial)


def test_discover_without_a_server_does_not_start_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with closed_port() as nobody:
        monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(nobody.getsockname()[1]))
        assert ServerClient.discover() is None
        found = discover(usb=False, remembered_path=tmp_path / "none.json")
        assert found.targets == [] and "no adb server running" in found.notes[0]
        assert ServerClient.discover() is None  # still none: discovery never starts a server
