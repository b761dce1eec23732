"""Cheap, forgiving reads of small kernel files (sysfs, procfs) under a configurable root.

Why a helper: the sampler reads the same few files 10-100 times a second. Keeping the descriptor
open and re-reading with `os.pread(fd, n, 0)` makes the kernel regenerate the text (seq_file restarts
at offset 0) without an open/close per tick. Every read error (EACCES on root-only files, EINVAL or
ENODATA from a sensor that is off, ENODEV after hot-unplug) is "no value this tick", never an exception.
"""
from __future__ import annotations

import glob
import os

_CHUNK = 65536


def under(root: str | os.PathLike[str], path: str) -> str:
    """`path` (absolute, as on a device) relocated under `root` (tests point root at a captured tree)."""
    return os.path.join(os.fspath(root), path.lstrip("/"))


def read_text(path: str) -> str | None:
    """Whole file as text, or None when it is missing or unreadable."""
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


def read_error(path: str) -> OSError | None:
    """The error a read of `path` raises right now (None if it reads); used to explain absences."""
    try:
        with open(path, "rb") as fh:
            fh.read(64)
    except OSError as exc:
        return exc
    return None


def parse_number(text: str | None) -> float | None:
    """First token of `text` as a number (sysfs values are one integer plus a newline)."""
    if not text:
        return None
    parts = text.split()
    if not parts:
        return None
    try:
        value = float(parts[0])
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def read_number(path: str) -> float | None:
    return parse_number(read_text(path))


def sorted_glob(pattern: str) -> list[str]:
    """glob sorted by the trailing integer (policy10 after policy2), then by name."""

    def key(p: str) -> tuple[int, str]:
        base = os.path.basename(p.rstrip("/"))
        digits = ""
        for ch in reversed(base):
            if not ch.isdigit():
                break
            digits = ch + digits
        return (int(digits) if digits else -1, base)

    return sorted(glob.glob(pattern), key=key)


class KernelFile:
    """One kernel file kept open and re-read from offset 0 each tick; reopened after an error."""

    __slots__ = ("path", "_fd")

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def read(self) -> str | None:
        """Current contents, or None if unreadable this tick."""
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            chunks: list[bytes] = []
            offset = 0
            while True:
                data = os.pread(self._fd, _CHUNK, offset)
                chunks.append(data)
                if len(data) < _CHUNK:
                    break
                offset += len(data)
            return b"".join(chunks).decode("utf-8", "replace")
        except OSError:
            self.close()
            return None

    def number(self) -> float | None:
        return parse_number(self.read())

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def __del__(self) -> None:  # descriptors must not leak when a probe is dropped
        self.close()


def slug(name: str, fallback: str) -> str:
    """A channel-key segment from a vendor name ("cpu-thermal", "TCPU", "x86_pkg_temp").

    Dots would break the dotted key scheme and spaces read badly, so anything else becomes `_`.
    """
    out = "".join(ch if (ch.isalnum() and ch.isascii()) or ch in "-_" else "_" for ch in name.strip())
    return out.strip("_") or fallback


def unique(key: str, taken: set[str]) -> str:
    """`key`, or `key_2`, `key_3`... so two zones with the same type both get a channel."""
    candidate, n = key, 2
    while candidate in taken:
        candidate = f"{key}_{n}"
        n += 1
    taken.add(candidate)
    return candidate
