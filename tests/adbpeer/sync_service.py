"""adbd's file sync service (`sync:`), per system/core/adb/SYNC.TXT and file_sync_protocol.h.

Requests are [id:4][len:u32][path]; STAT answers mode/size/mtime (zeros when missing), STA2/LST2 the
72-byte stat_v2 with an errno, LIST streams DENTs then a zeroed DONE, SEND takes "path,mode" then DATA
chunks of at most 64 KiB and DONE(mtime) and answers OKAY or FAIL(message), RECV streams DATA then DONE.
The sync payload is a byte stream: message boundaries do not follow WRTE boundaries.
"""
from __future__ import annotations

import errno
import os
import stat
import struct
from pathlib import Path

from tests.adbpeer.sandbox import Sandbox
from tests.adbpeer.streams import Stream

SYNC_DATA_MAX = 64 * 1024
MAX_PATH = 1024
_HDR = struct.Struct("<4sI")
_STAT_V1 = struct.Struct("<4sIII")
_DENT_V1 = struct.Struct("<4sIIII")
_STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")


class _Closed(Exception):
    pass


class SyncSession:
    """Serves sync requests on one stream until QUIT or close."""

    def __init__(self, stream: Stream, sandbox: Sandbox, stat_v2: bool) -> None:
        self.stream = stream
        self.sandbox = sandbox
        self.stat_v2 = stat_v2
        self._buf = bytearray()

    def _exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            data = self.stream.read()
            if data is None:
                raise _Closed
            self._buf += data
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _fail(self, message: str) -> None:
        raw = message.encode()
        self.stream.write(_HDR.pack(b"FAIL", len(raw)) + raw)

    def run(self) -> None:
        try:
            while True:
                ident, length = _HDR.unpack(self._exact(_HDR.size))
                if ident in (b"STAT", b"STA2", b"LST2", b"LIST", b"SEND", b"RECV") and length > MAX_PATH:
                    self._fail(f"path too long: {length}")
                    break
                if ident == b"QUIT":
                    break
                arg = self._exact(length).decode("utf-8", "surrogateescape")
                if ident == b"STAT":
                    self._stat_v1(arg)
                elif ident in (b"STA2", b"LST2") and self.stat_v2:
                    self._stat_v2(arg, follow=ident == b"STA2")
                elif ident == b"LIST":
                    self._list(arg)
                elif ident == b"SEND":
                    self._send(arg)
                elif ident == b"RECV":
                    self._recv(arg)
                else:
                    self._fail(f"unknown sync command {ident!r}")
                    break
        except _Closed:
            return
        self.stream.close()

    def _stat_v1(self, path: str) -> None:
        host, _ = self.sandbox.host_path(path)
        try:
            st = os.lstat(host)
            reply = _STAT_V1.pack(b"STAT", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime))
        except OSError:
            reply = _STAT_V1.pack(b"STAT", 0, 0, 0)
        self.stream.write(reply)

    def _stat_v2(self, path: str, follow: bool) -> None:
        host, _ = self.sandbox.host_path(path)
        ident = b"STA2" if follow else b"LST2"
        try:
            st = os.stat(host) if follow else os.lstat(host)
            reply = _STAT_V2.pack(ident, 0, st.st_dev, st.st_ino, st.st_mode, st.st_nlink, st.st_uid, st.st_gid,
                                  st.st_size, int(st.st_atime), int(st.st_mtime), int(st.st_ctime))
        except OSError as exc:
            reply = _STAT_V2.pack(ident, exc.errno or errno.EIO, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        self.stream.write(reply)

    def _list(self, path: str) -> None:
        host, _ = self.sandbox.host_path(path)
        out = bytearray()
        try:
            names = [".", ".."] + sorted(os.listdir(host))
        except OSError:
            names = []
        for name in names:
            try:
                st = os.lstat(host / name)
            except OSError:
                continue
            raw = name.encode("utf-8", "surrogateescape")
            out += _DENT_V1.pack(b"DENT", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime), len(raw)) + raw
        out += _DENT_V1.pack(b"DONE", 0, 0, 0, 0)
        self.stream.write(bytes(out))

    def _send(self, spec: str) -> None:
        path, sep, mode_text = spec.rpartition(",")
        if not sep:
            path, mode_text = spec, "0644"
        try:
            mode = int(mode_text)
        except ValueError:
            mode = 0o644
        host, writable = self.sandbox.host_path(path)
        problem = None if writable else f"couldn't create file: Read-only file system ({path})"
        tmp: Path | None = None
        handle = None
        if problem is None:
            try:
                host.parent.mkdir(parents=True, exist_ok=True)
                tmp = host.with_name(f".{host.name}.adbpeer-partial")
                handle = open(tmp, "wb")
            except OSError as exc:
                problem = f"couldn't create file: {exc.strerror} ({path})"
        while True:
            ident, size = _HDR.unpack(self._exact(_HDR.size))
            if ident == b"DATA":
                if size > SYNC_DATA_MAX:
                    problem = problem or f"oversize data message: {size}"
                    self._fail(problem)
                    raise _Closed
                data = self._exact(size)
                if handle is not None and problem is None:
                    handle.write(data)
            elif ident == b"DONE":
                mtime = size
                break
            else:
                problem = problem or f"invalid data message: expected DATA or DONE, got {ident!r}"
                self._fail(problem)
                raise _Closed
        if handle is not None:
            handle.close()
        if problem is None and tmp is not None:
            os.chmod(tmp, stat.S_IMODE(mode) or 0o644)
            os.utime(tmp, (mtime, mtime))
            os.replace(tmp, host)
            self.stream.write(_HDR.pack(b"OKAY", 0))
            return
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        self._fail(problem or "push failed")

    def _recv(self, path: str) -> None:
        host, _ = self.sandbox.host_path(path)
        try:
            handle = open(host, "rb")
        except OSError as exc:
            self._fail(f"{exc.strerror}: {path}")
            return
        with handle:
            while True:
                chunk = handle.read(SYNC_DATA_MAX)
                if not chunk:
                    break
                if not self.stream.write(_HDR.pack(b"DATA", len(chunk)) + chunk):
                    raise _Closed
        self.stream.write(_HDR.pack(b"DONE", 0))
