"""The shell protocol (shell_v2) packet codec and old-adbd output normalisation. Pure: no I/O.

Packets are [id:u8][length:u32 LE][data]; ids 0 stdin, 1 stdout, 2 stderr, 3 exit (1 byte status),
4 close stdin, 5 window size. Packets do not line up with transport writes, hence the decoder.
"""
from __future__ import annotations

import struct

STDIN, STDOUT, STDERR, EXIT, CLOSE_STDIN, WINDOW_SIZE = range(6)
_HEAD = struct.Struct("<BI")


def encode(ident: int, data: bytes = b"") -> bytes:
    return _HEAD.pack(ident, len(data)) + data


class ShellV2Decoder:
    """Feed raw stream bytes, get whole (id, payload) packets back."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        out: list[tuple[int, bytes]] = []
        while len(self._buf) >= _HEAD.size:
            ident, length = _HEAD.unpack_from(self._buf)
            end = _HEAD.size + length
            if len(self._buf) < end:
                break
            out.append((ident, bytes(self._buf[_HEAD.size:end])))
            del self._buf[:end]
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)


def exit_status(payload: bytes) -> int:
    return payload[0] if payload else 0


def normalize_pty(text: str) -> str:
    """Undo a PTY's ONLCR translation (old adbd): CRLF -> LF."""
    return text.replace("\r\n", "\n")


class LineSplitter:
    """Turns decoded text chunks into complete lines (without line ends), keeping the tail."""

    def __init__(self, pty: bool) -> None:
        self._pty = pty
        self._tail = ""

    def feed(self, text: str) -> list[str]:
        text = self._tail + text
        lines = text.split("\n")
        self._tail = lines.pop()
        return [ln[:-1] if self._pty and ln.endswith("\r") else ln for ln in lines]

    def flush(self) -> list[str]:
        tail, self._tail = self._tail, ""
        if self._pty and tail.endswith("\r"):
            tail = tail[:-1]
        return [tail] if tail else []
