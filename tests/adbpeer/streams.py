"""One ADB stream (an OPENed service) on the peer: ids, flow control and close handshake.

adbd sends one WRTE per stream and waits for the host's OKAY before the next; it acknowledges a host
WRTE once the data has been taken by the service, so a slow service pushes back on the host.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable

_OKAY_POLL_S = 0.2


class Stream:
    """The peer's half of a stream: `local_id` is ours, `remote_id` the host's."""

    def __init__(self, local_id: int, remote_id: int, max_payload: int, send: Callable[[str, int, int, bytes], bool]) -> None:
        self.local_id = local_id
        self.remote_id = remote_id
        self.max_payload = max_payload
        self._send = send
        self._inbox: queue.Queue[bytes | None] = queue.Queue()
        self._acked = threading.Event()
        self._acked.set()
        self._write_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self.closed = threading.Event()

    # ---- host -> peer
    def deliver(self, data: bytes) -> None:
        """A WRTE arrived; the OKAY goes out when the service reads it."""
        self._inbox.put(data)

    def on_okay(self) -> None:
        self._acked.set()

    def read(self) -> bytes | None:
        """Next chunk the host wrote, or None once the stream is closed."""
        if self.closed.is_set() and self._inbox.empty():
            return None
        item = self._inbox.get()
        if item is None:
            self._inbox.put(None)  # keep later readers from blocking
            return None
        if not self.closed.is_set():
            self._send("OKAY", self.local_id, self.remote_id, b"")
        return item

    # ---- peer -> host
    def write(self, data: bytes) -> bool:
        """Send `data` in max_payload WRTEs, each after the previous one's OKAY; False if closed."""
        view = memoryview(data)
        with self._write_lock:
            for start in range(0, max(len(view), 1), self.max_payload):
                chunk = bytes(view[start:start + self.max_payload])
                if not chunk:
                    return True
                while not self._acked.wait(_OKAY_POLL_S):
                    if self.closed.is_set():
                        return False
                if self.closed.is_set():
                    return False
                self._acked.clear()
                if not self._send("WRTE", self.local_id, self.remote_id, chunk):
                    return False
        return True

    # ---- closing
    def close(self) -> bool:
        """Close from our side (service finished); the host answers with its own CLSE. True if we closed it."""
        with self._close_lock:
            if self.closed.is_set():
                return False
            self.closed.set()
        self._send("CLSE", self.local_id, self.remote_id, b"")
        self._inbox.put(None)
        return True

    def on_remote_close(self) -> None:
        """The host closed: answer CLSE (both sides close) unless we already did, and wake the service."""
        self.close()

    def abort(self) -> None:
        """The connection died: no more packets, just wake everything up."""
        self.closed.set()
        self._inbox.put(None)
        self._acked.set()
