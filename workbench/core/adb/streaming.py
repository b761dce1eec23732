"""Turn a service's (channel, bytes) chunks into ShellResult or a LineStream, for every link kind.

Links differ in how bytes arrive (smart socket vs adb-shell packets) but not in what they mean:
channel STDOUT/STDERR/EXIT from shellproto; old adbd only ever yields STDOUT (PTY text, CRLF).
"""
from __future__ import annotations

import codecs
from typing import Callable, Iterator

from workbench.core.adb.link import LineStream, ShellResult
from workbench.core.adb.shellproto import EXIT, STDERR, STDOUT, LineSplitter, exit_status, normalize_pty
from workbench.core.errors import DeviceError

Chunks = Iterator[tuple[int, bytes]]


def collect(chunks: Chunks, pty: bool) -> ShellResult:
    """Read a finished command's output completely."""
    out, err = bytearray(), bytearray()
    code: int | None = None
    for ident, data in chunks:
        if ident == STDOUT:
            out += data
        elif ident == STDERR:
            err += data
        elif ident == EXIT:
            code = exit_status(data)
    stdout = out.decode("utf-8", "replace")
    stderr = err.decode("utf-8", "replace")
    if pty:
        stdout, stderr = normalize_pty(stdout), normalize_pty(stderr)
    return ShellResult(stdout, stderr, code)


class ChunkLineStream(LineStream):
    """A LineStream over chunks; `closer` aborts the underlying service (and wakes a blocked reader)."""

    def __init__(self, chunks: Chunks, closer: Callable[[], None], pty: bool) -> None:
        self._chunks = chunks
        self._closer = closer
        self._closed = False
        self._split = LineSplitter(pty)
        self._pty = pty
        self._out = codecs.getincrementaldecoder("utf-8")("replace")
        self._err = codecs.getincrementaldecoder("utf-8")("replace")
        self.exit_code = None
        self.stderr = ""

    def __iter__(self) -> Iterator[str]:
        try:
            for ident, data in self._chunks:
                if self._closed:
                    return
                if ident == STDOUT:
                    yield from self._split.feed(self._out.decode(data))
                elif ident == STDERR:
                    text = self._err.decode(data)
                    self.stderr += normalize_pty(text) if self._pty else text
                elif ident == EXIT:
                    self.exit_code = exit_status(data)
        except DeviceError:
            if self._closed:
                return
            raise
        yield from self._split.feed(self._out.decode(b"", final=True))
        yield from self._split.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._closer()
