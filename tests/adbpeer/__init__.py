"""A protocol-faithful adbd peer for tests and benches (see peer.py); `python -m tests.adbpeer --port N`."""
from tests.adbpeer.peer import AdbPeer, PeerConfig

__all__ = ["AdbPeer", "PeerConfig"]
