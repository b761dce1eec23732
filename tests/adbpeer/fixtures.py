"""pytest fixtures: a fresh peer per test, Debian's adb server per module, an isolated adb key."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.adbpeer.adb_server import AdbServer
from tests.adbpeer.peer import AdbPeer, PeerConfig


@pytest.fixture
def make_peer(tmp_path: Path) -> Iterator[Callable[..., AdbPeer]]:
    """make_peer(legacy=True, ...) -> a started peer (PeerConfig fields as keywords); all stopped after."""
    peers: list[AdbPeer] = []

    def _make(**kw: object) -> AdbPeer:
        peer = AdbPeer(tmp_path / f"device{len(peers)}", PeerConfig(**kw)).start()  # type: ignore[arg-type]
        peers.append(peer)
        return peer

    yield _make
    for peer in peers:
        peer.stop()
        peer.reap()


@pytest.fixture(scope="session")
def adb_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where DirectLink keeps its key in tests (never the user's ~/.android/adbkey); one per session
    because 2048-bit key generation is the slowest step of a connect."""
    return tmp_path_factory.mktemp("hostkeys") / "adbkey"


@pytest.fixture(scope="module")
def adb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdbServer]:
    """Debian's adb server on a free port with its own HOME; killed (by its port) afterwards."""
    if shutil.which("adb") is None:
        pytest.skip("Debian's adb binary is not installed")
    server = AdbServer(tmp_path_factory.mktemp("adbhome")).start()
    try:
        yield server
    finally:
        server.stop()
