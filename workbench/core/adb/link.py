"""`AdbLink`: the one interface the rest of the workbench uses to reach an adbd target.

Two implementations: `ServerLink` (through a running adb server, which owns USB when it runs) and
`DirectLink` (adb-shell over TCP or USB when no server runs). Both normalise the difference between
modern adbd (feature `shell_v2`: separate stderr, exit status) and old adbd (PTY: stderr merged into
stdout, CRLF line ends, no exit status -> `exit_code is None`), so callers never see CRLF.

Contract for every implementation:
- remote paths given to `push`/`pull`/`stat` travel in the sync protocol, never through a shell; any
  shell text an implementation builds quotes remote paths with `shlex.quote`.
- nothing blocks forever: `shell` has a deadline, streams end on disconnection, sockets have timeouts.
- a vanished device raises `DeviceDisconnected`; other failures raise `DeviceError`.
"""
from __future__ import annotations

import shlex
import stat as _stat
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from workbench.core.errors import DeviceError
from workbench.core.types import DeviceState

ProgressFn = Callable[[float, float | None], None]  # (bytes done, bytes total)


@dataclass(frozen=True)
class ShellResult:
    """What one shell command produced. `exit_code` is None on old adbd, which does not report it."""

    stdout: str
    stderr: str
    exit_code: int | None

    @property
    def ok(self) -> bool:
        """True unless the target reported a non-zero exit (unknown counts as ok)."""
        return self.exit_code in (0, None)


@dataclass(frozen=True)
class RemoteStat:
    """`stat` of a remote path; `mode == 0` means it does not exist (what sync STAT reports)."""

    path: str
    mode: int
    size: int
    mtime: int

    @property
    def exists(self) -> bool:
        return self.mode != 0

    @property
    def is_dir(self) -> bool:
        return _stat.S_ISDIR(self.mode)

    @property
    def is_file(self) -> bool:
        return _stat.S_ISREG(self.mode)


class LineStream(ABC):
    """Lines of a long-running remote command's stdout, as they are produced; closing it kills it.

    Iterating ends when the command ends (then `exit_code` is set, None on old adbd) and raises
    `DeviceDisconnected` if the link drops first. `stderr` collects stderr text (empty on old adbd,
    where it arrives merged into the lines). Use it as a context manager so it is always closed.
    """

    exit_code: int | None = None
    stderr: str = ""

    @abstractmethod
    def __iter__(self) -> Iterator[str]: ...

    @abstractmethod
    def close(self) -> None:
        """Stop reading and close the remote stream (adbd then kills the command). Idempotent."""

    def __enter__(self) -> "LineStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AdbLink(ABC):
    """A connected adbd target. Thread-safe: a stream may run while other calls are made."""

    serial: str
    via: str  # "server" or "direct"

    @property
    @abstractmethod
    def features(self) -> frozenset[str]:
        """adbd's feature list from its CNXN banner (empty on old adbd)."""

    @property
    def shell_v2(self) -> bool:
        return "shell_v2" in self.features

    @abstractmethod
    def state(self) -> DeviceState:
        """The target's state now (DEVICE while usable)."""

    @abstractmethod
    def shell(self, cmd: str, timeout: float = 30.0) -> ShellResult:
        """Run `cmd` with the target's /system/bin/sh; raise DeviceError if it has not ended within `timeout`."""

    @abstractmethod
    def shell_stream(self, cmd: str, idle_timeout: float | None = None) -> LineStream:
        """Start `cmd` and stream its stdout lines; `idle_timeout` (s) ends a silent stream with DeviceError."""

    @abstractmethod
    def push(self, local: Path | str, remote: str, progress: ProgressFn | None = None, mode: int = 0o644) -> None:
        """Copy a local file to `remote` (parent directories are created by adbd)."""

    @abstractmethod
    def pull(self, remote: str, local: Path | str, progress: ProgressFn | None = None) -> None:
        """Copy a remote file to `local` (written to a temporary name, then renamed)."""

    @abstractmethod
    def stat(self, remote: str) -> RemoteStat: ...

    @abstractmethod
    def close(self) -> None:
        """Release the connection; further calls raise DeviceDisconnected."""

    # ---- small conveniences built on shell(); every remote path is shlex-quoted
    def sha256(self, remote: str, timeout: float = 60.0) -> str | None:
        """The remote file's sha256 (toybox `sha256sum`), or None if it does not exist."""
        res = self.shell(f"sha256sum {shlex.quote(remote)} 2>/dev/null", timeout)
        first = res.stdout.split()
        digest = first[0] if first else ""
        return digest if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest) else None

    def makedirs(self, remote: str, timeout: float = 30.0) -> None:
        res = self.shell(f"mkdir -p {shlex.quote(remote)}", timeout)
        if not res.ok:
            raise DeviceError(self.serial, f"mkdir -p {remote} failed: {(res.stderr or res.stdout).strip()}")

    def remove(self, remote: str, timeout: float = 30.0) -> None:
        """Delete a remote file (no error if it is already gone)."""
        res = self.shell(f"rm -f {shlex.quote(remote)}", timeout)
        if not res.ok:
            raise DeviceError(self.serial, f"rm {remote} failed: {(res.stderr or res.stdout).strip()}")

    def __enter__(self) -> "AdbLink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
