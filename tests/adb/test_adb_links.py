"""AdbLink end to end on the adbd peer, through both paths: DirectLink (adb-shell over TCP) and
ServerLink (Debian's real adb server, `adb connect`-ed to the peer), cross-checked with `adb` itself."""
from __future__ import annotations

import hashlib
import os
import shlex
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.adbpeer.adb_server import AdbServer
from tests.adbpeer.peer import AdbPeer
from workbench.core.adb.direct import ALLOW_PROMPT, DirectLink
from workbench.core.adb.link import AdbLink
from workbench.core.adb.server import ServerClient
from workbench.core.errors import DeviceDisconnected, DeviceError
from workbench.core.types import DeviceState

OpenLink = Callable[[AdbPeer], AdbLink]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=["direct", pytest.param("server", marks=pytest.mark.adb_server)])
def open_link(request: pytest.FixtureRequest, adb_key: Path) -> OpenLink:
    """A function connecting to a peer the way this parameter says; links are closed after the test."""
    links: list[AdbLink] = []
    if request.param == "direct":
        def _open(peer: AdbPeer) -> AdbLink:
            link = DirectLink.tcp("127.0.0.1", peer.port, key_path=adb_key, auth_timeout_s=10, io_timeout=10)
            links.append(link)
            return link
    else:
        server: AdbServer = request.getfixturevalue("adb_server")
        client = ServerClient(port=server.port)

        def _open(peer: AdbPeer) -> AdbLink:
            client.connect("127.0.0.1", peer.port)
            assert server.wait_state(peer.serial, "device") == "device"
            link = client.link(peer.serial)
            links.append(link)
            request.addfinalizer(lambda: server.adb("disconnect", peer.serial))
            return link
    request.addfinalizer(lambda: [link.close() for link in links])
    return _open


def test_shell_v2_exit_code_and_separate_stderr(make_peer, open_link: OpenLink) -> None:
    link = open_link(make_peer())
    assert link.shell_v2
    res = link.shell("echo out; echo err >&2; getprop ro.product.model; exit 3")
    assert (res.stdout, res.stderr, res.exit_code) == ("out\nPixel 6\n", "err\n", 3)
    assert "  level: 78" in link.shell("dumpsys battery").stdout.splitlines()


def test_legacy_adbd_merges_stderr_strips_crlf_and_has_no_exit_code(make_peer, open_link: OpenLink) -> None:
    link = open_link(make_peer(legacy=True))
    assert not link.shell_v2 and link.features == frozenset()
    res = link.shell("echo out; echo err >&2; exit 3")
    assert (res.stdout, res.stderr, res.exit_code) == ("out\nerr\n", "", None)
    with link.shell_stream("echo a; echo b") as lines:
        assert list(lines) == ["a", "b"] and lines.exit_code is None


def test_push_pull_stat_round_trip(make_peer, open_link: OpenLink, tmp_path: Path) -> None:
    peer = make_peer()
    link = open_link(peer)
    src = tmp_path / "model.onnx"
    src.write_bytes(os.urandom(700_000))
    seen: list[float] = []
    link.push(src, "/data/local/tmp/wb/model.onnx", progress=lambda done, total: seen.append(done))
    on_device = peer.sandbox.root / "data/local/tmp/wb/model.onnx"
    assert _sha(on_device) == _sha(src) and seen[-1] == 700_000
    st = link.stat("/data/local/tmp/wb/model.onnx")
    assert st.is_file and st.size == 700_000
    assert not link.stat("/data/local/tmp/wb/absent").exists
    assert link.sha256("/data/local/tmp/wb/model.onnx") == _sha(src)
    back = tmp_path / "back.onnx"
    link.pull("/data/local/tmp/wb/model.onnx", back)
    assert _sha(back) == _sha(src)
    with pytest.raises(DeviceError, match="Read-only"):
        link.push(src, "/system/model.onnx")


def test_injection_named_file_creates_nothing(make_peer, open_link: OpenLink, tmp_path: Path) -> None:
    peer = make_peer()
    link = open_link(peer)
    name = "a; touch PWNED.onnx"
    src = tmp_path / name
    src.write_bytes(b"payload")
    remote = f"/data/local/tmp/{name}"
    link.push(src, remote)
    link.makedirs("/data/local/tmp/d; touch PWNED.onnx")
    assert link.sha256(remote) == _sha(src)
    link.remove(remote)
    assert not link.stat(remote).exists
    assert list(peer.sandbox.root.rglob("PWNED*")) == [] and not Path("PWNED.onnx").exists()


def test_stream_lines_arrive_live_and_close_kills_the_command(make_peer, open_link: OpenLink) -> None:
    peer = make_peer()
    link = open_link(peer)
    pidfile = "/data/local/tmp/loop.pid"
    stream = link.shell_stream(f"echo $$ > {shlex.quote(pidfile)}; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done")
    got = []
    for line in stream:
        got.append(line)
        if len(got) == 3:
            break
    stream.close()
    assert got == ["tick 1", "tick 2", "tick 3"]
    pid = int((peer.sandbox.root / "data/local/tmp/loop.pid").read_text())
    for _ in range(200):  # the peer kills the process group when the stream closes
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        pytest.fail("closing the stream left the device command running")
    assert link.shell("echo still usable").stdout == "still usable\n"


def test_peer_dropped_mid_stream_raises_disconnected(make_peer, open_link: OpenLink) -> None:
    peer = make_peer()
    link = open_link(peer)
    stream = link.shell_stream("while true; do echo tick; sleep 0.05; done")
    outcome: list[BaseException | str] = []

    def consume() -> None:
        try:
            for _ in stream:
                pass
            outcome.append("ended without error")
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    time.sleep(0.3)
    peer.drop_connections()
    t.join(timeout=15)  # a hang guard, not a speed assertion
    stream.close()
    assert not t.is_alive(), "stream hung after the device went away"
    assert isinstance(outcome[0], DeviceDisconnected), outcome


def test_direct_auth_asks_once_then_reuses_the_key(make_peer, adb_key: Path) -> None:
    peer = make_peer(prompt_delay_s=0.2)
    status: list[str] = []
    with DirectLink.tcp("127.0.0.1", peer.port, key_path=adb_key, on_status=status.append, auth_timeout_s=10):
        pass
    assert len(peer.prompts) == 1 and ALLOW_PROMPT in status[0]
    assert peer.authorized_keys[-1].split()[0] == adb_key.with_name("adbkey.pub").read_text().split()[0]
    status.clear()
    with DirectLink.tcp("127.0.0.1", peer.port, key_path=adb_key, on_status=status.append) as link:
        assert link.state() is DeviceState.DEVICE and link.shell("echo ok").stdout == "ok\n"
    assert status == [] and len(peer.prompts) == 1


def test_direct_unanswered_prompt_is_reported_as_unauthorized(make_peer, adb_key: Path) -> None:
    peer = make_peer(accept_new_keys=False)
    with pytest.raises(DeviceError, match="unauthorized: nobody tapped Allow"):
        DirectLink.tcp("127.0.0.1", peer.port, key_path=adb_key, auth_timeout_s=1)


def test_direct_refused_port_is_disconnected(adb_key: Path) -> None:
    from tests.adbpeer.adb_server import closed_port
    with closed_port() as dead, pytest.raises(DeviceDisconnected):
        DirectLink.tcp("127.0.0.1", dead.getsockname()[1], key_path=adb_key, io_timeout=2)
