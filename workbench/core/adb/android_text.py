"""Shared helpers for reading text captured from an Android shell.

Device text is hostile: files vanish between listing and reading, SELinux denies half of sysfs to the
`shell` user, and toybox, busybox and GNU `cat` word their errors differently. Every parser in this
package therefore goes through these helpers, which never raise and report problems as strings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# errno texts as printed by bionic, glibc and musl; a value ending in one of these is an error, not data.
_ERRNO_TEXTS = (
    "Permission denied",
    "No such file or directory",
    "Is a directory",
    "Invalid argument",
    "No data available",
    "Operation not permitted",
    "Input/output error",
    "I/O error",
    "Resource temporarily unavailable",
    "Try again",
    "No such device",
    "No such device or address",
    "Operation not supported",
    "Function not implemented",
    "Connection timed out",
    "Device or resource busy",
    "Not a directory",
)
_ERROR_RE = re.compile(
    r"^(?:[\w./-]*(?:cat|sh|toybox|busybox|head|grep)[\w./-]*:\s*)?.*?(" + "|".join(map(re.escape, _ERRNO_TEXTS)) + r")\s*$"
)
# A dump line starts with an absolute path followed by ": " (or ":" at end of line for empty files).
_DUMP_LINE_RE = re.compile(r"^(/[^\s:]+):(?: (.*))?$")


@dataclass(frozen=True)
class FileValue:
    """One file's content from a `path: content` dump; exactly one of `text` / `error` is set."""

    path: str
    text: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def error_reason(text: str) -> str | None:
    """The errno text if `text` is a shell/`cat` error message rather than file content, else None."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    if not first:
        return None
    m = _ERROR_RE.match(first)
    if m and ("/" in first or first.startswith(("cat", "sh", "toybox", "busybox"))):
        return m.group(1)
    return None


def parse_path_dump(text: str) -> tuple[dict[str, FileValue], list[str]]:
    """Read the output of `for f in ...; do echo "$f: $(cat $f 2>&1)"; done`.

    Lines that do not start with an absolute path continue the previous file's value (multi-line files
    such as uevent). Returns files by path and the problems met, never raises.
    """
    files: dict[str, list[str]] = {}
    order: list[str] = []
    problems: list[str] = []
    current: str | None = None
    for lineno, raw in enumerate(lines(text), 1):
        line = raw.rstrip("\r")
        m = _DUMP_LINE_RE.match(line)
        if m:
            current = m.group(1)
            if current not in files:
                order.append(current)
            files[current] = [m.group(2) or ""]
        elif current is not None:
            files[current].append(line)
        elif line.strip():
            problems.append(f"line {lineno}: not a 'path: value' line: {clip(line)}")
    out: dict[str, FileValue] = {}
    for path in order:
        value = "\n".join(files[path]).strip()
        reason = error_reason(value)
        out[path] = FileValue(path, None, reason) if reason else FileValue(path, value)
        if reason:
            problems.append(f"{path}: {reason}")
    return out, problems


def to_int(text: str | None) -> int | None:
    """An integer from a sysfs/proc value, or None for anything that is not one (never raises)."""
    if text is None:
        return None
    s = text.strip().split()[0] if text.strip() else ""
    try:
        return int(s)
    except ValueError:
        try:
            f = float(s)
        except ValueError:
            return None
        return int(f) if f == f and abs(f) != float("inf") else None


def to_float(text: str | None) -> float | None:
    """A finite float or None (never raises)."""
    if text is None:
        return None
    s = text.strip().split()[0] if text.strip() else ""
    try:
        f = float(s)
    except ValueError:
        return None
    return f if f == f and abs(f) != float("inf") else None


def lines(text: str) -> list[str]:
    """Split on newlines only: `str.splitlines` also splits on \x1c and \u2028, which values may hold."""
    return text.replace("\r\n", "\n").split("\n") if isinstance(text, str) else []


def clip(s: str, n: int = 60) -> str:
    """Shorten a line quoted in a problem message so reports stay one line each."""
    return s if len(s) <= n else s[: n - 1] + "…"


def is_uint(s: str) -> bool:
    """ASCII digits only: `str.isdigit` accepts '²' and other digits that `int()` rejects."""
    return s.isascii() and s.isdigit()


def files_in_dirs(files: dict[str, FileValue], dir_pattern: re.Pattern[str]):
    """(directory match, directory, file name, value) for each dumped file whose directory matches: the
    common walk of per-object sysfs dumps (cpufreq policies, thermal zones)."""
    for path, fv in files.items():
        directory, _, fname = path.rpartition("/")
        m = dir_pattern.search(directory)
        if m:
            yield m, directory, fname, fv
