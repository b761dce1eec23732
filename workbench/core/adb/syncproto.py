"""The file sync protocol (`sync:` service), host side, over any reliable byte channel. No sockets here.

Requests are [id:4][len:u32 LE][payload]; SEND's payload is "path,mode", then DATA chunks of at most
64 KiB and DONE carrying the mtime, answered by OKAY or FAIL(message); RECV is answered by DATA chunks
then DONE; STAT by mode/size/mtime (all zero when the path does not exist). Paths are not shell text.
"""
from __future__ import annotations

import os
import struct
import time
from pathlib import Path
from typing import BinaryIO, Protocol

from workbench.core.adb.link import ProgressFn, RemoteStat

SYNC_DATA_MAX = 64 * 1024
MAX_PATH = 1024
_HDR = struct.Struct("<4sI")
_STAT = struct.Struct("<III")


class SyncError(Exception):
    """adbd answered FAIL, or said something the protocol does not allow."""


class ByteChannel(Protocol):
    def sendall(self, data: bytes) -> None: ...
    def recv_exact(self, n: int) -> bytes: ...


def _request(ch: ByteChannel, ident: bytes, path: str) -> None:
    raw = path.encode("utf-8")
    if len(raw) > MAX_PATH:
        raise SyncError(f"remote path longer than {MAX_PATH} bytes: {path[:60]}...")
    ch.sendall(_HDR.pack(ident, len(raw)) + raw)


def _fail_text(ch: ByteChannel, length: int) -> str:
    return ch.recv_exact(length).decode("utf-8", "replace") if length else "unknown failure"


def stat(ch: ByteChannel, path: str) -> RemoteStat:
    _request(ch, b"STAT", path)
    ident, mode = _HDR.unpack(ch.recv_exact(_HDR.size))
    if ident != b"STAT":
        raise SyncError(f"expected STAT reply, got {ident!r}")
    size, mtime = struct.unpack("<II", ch.recv_exact(8))
    return RemoteStat(path, mode, size, mtime)


def send_file(ch: ByteChannel, src: BinaryIO, remote: str, mode: int, total: int | None,
              progress: ProgressFn | None = None, mtime: int | None = None) -> None:
    """Push an open file; raises SyncError with adbd's message on FAIL."""
    _request(ch, b"SEND", f"{remote},{0o100000 | (mode & 0o7777)}")
    done = 0
    while True:
        chunk = src.read(SYNC_DATA_MAX)
        if not chunk:
            break
        ch.sendall(_HDR.pack(b"DATA", len(chunk)) + chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    ch.sendall(_HDR.pack(b"DONE", int(time.time() if mtime is None else mtime)))
    ident, length = _HDR.unpack(ch.recv_exact(_HDR.size))
    if ident == b"OKAY":
        return
    if ident == b"FAIL":
        raise SyncError(_fail_text(ch, length))
    raise SyncError(f"expected OKAY or FAIL after push, got {ident!r}")


def recv_file(ch: ByteChannel, remote: str, dst: BinaryIO, total: int | None = None,
              progress: ProgressFn | None = None) -> int:
    """Pull into an open file; returns the byte count."""
    _request(ch, b"RECV", remote)
    done = 0
    while True:
        ident, length = _HDR.unpack(ch.recv_exact(_HDR.size))
        if ident == b"DONE":
            return done
        if ident == b"FAIL":
            raise SyncError(_fail_text(ch, length))
        if ident != b"DATA" or length > SYNC_DATA_MAX:
            raise SyncError(f"bad sync reply {ident!r} ({length} bytes) during pull")
        dst.write(ch.recv_exact(length))
        done += length
        if progress is not None:
            progress(done, total)


def quit(ch: ByteChannel) -> None:  # noqa: A001 - the protocol's word
    ch.sendall(_HDR.pack(b"QUIT", 0))


def pull_to_path(ch: ByteChannel, remote: str, local: Path, progress: ProgressFn | None = None) -> int:
    """Pull to a temporary sibling and rename, so a failed pull never leaves a truncated file."""
    info = stat(ch, remote)
    tmp = local.with_name(f".{local.name}.partial-{os.getpid()}")
    try:
        with open(tmp, "wb") as dst:
            n = recv_file(ch, remote, dst, info.size if info.exists else None, progress)
        os.replace(tmp, local)
    finally:
        tmp.unlink(missing_ok=True)
    return n
