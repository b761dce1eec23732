"""adbd's shell service: `shell:CMD` (v1) and `shell,v2[,raw|pty]:CMD` (shell protocol).

v1 raw sends stdout and stderr interleaved on the stream and no exit status; pty mode (legacy adbd
always, or the `pty` argument) runs the command on a real pseudo-terminal, so the kernel turns LF into
CRLF and merges stderr exactly as on an old phone. v2 frames every chunk as [id:u8][len:u32 LE][data]
with ids 0 stdin, 1 stdout, 2 stderr, 3 exit (1 byte), 4 close stdin, 5 window size.

When the host closes the stream (or the connection dies) the peer does what adbd does
(system/core adb/daemon/shell_service.cpp, Subprocess::PassDataStreams): SIGHUP to the shell's pid
only, not its process group, then close its ends of the child's sockets, so a child that ignores
SIGHUP gets EPIPE on its next write instead of blocking. A grandchild, or a runner that neither
dies of SIGHUP nor writes, survives, exactly as on a phone. Like adbd, raw sessions talk to the
child over socketpairs (`shutdown` wakes a blocked reader, which closing a pipe would not).
"""
from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import threading
from typing import Callable

from tests.adbpeer.sandbox import Sandbox
from tests.adbpeer.streams import Stream

ID_STDIN, ID_STDOUT, ID_STDERR, ID_EXIT, ID_CLOSE_STDIN, ID_WINDOW = range(6)
_PACKET = struct.Struct("<BI")
_READ_CHUNK = 64 * 1024


def parse_shell_service(name: str) -> tuple[list[str], str] | None:
    """Split "shell[,arg...]:command" into (args, command); None when it is not a shell service."""
    head, sep, command = name.partition(":")
    if not sep:
        return None
    parts = head.split(",")
    if parts[0] != "shell":
        return None
    return parts[1:], command


class ShellSession:
    """One shell command on the peer, alive as long as its stream."""

    def __init__(self, stream: Stream, sandbox: Sandbox, args: list[str], command: str, legacy: bool) -> None:
        self.stream = stream
        self.v2 = "v2" in args
        if legacy:
            self.pty = True
        elif "raw" in args:
            self.pty = False
        elif "pty" in args:
            self.pty = True
        else:
            self.pty = command == ""
        self.sandbox = sandbox
        self.command = sandbox.rewrite_command(command)
        self.proc: subprocess.Popen[bytes] | None = None
        self._stdin_fd: int | None = None  # pty master (pty mode only)
        self._stdin_sock: socket.socket | None = None  # our end of the child's stdin/stdout socketpair
        self._socks: list[socket.socket] = []  # our ends of the child's sockets (raw mode)
        self.hung_up = False  # the host side went away and the shell was sent SIGHUP

    # ---- life cycle
    def start(self) -> None:
        argv = ["/bin/sh", "-c", self.command] if self.command else ["/bin/sh"]
        # adbd: fork(), setsid() in the child, exec /system/bin/sh -c COMMAND
        common = dict(cwd=self.sandbox.root, env=self.sandbox.env(), start_new_session=True, close_fds=True)
        outputs: list[tuple[Callable[[], bytes], int]] = []
        if self.pty:
            master, slave = os.openpty()
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, **common)
            os.close(slave)
            self._stdin_fd = master
            outputs.append((lambda: os.read(master, _READ_CHUNK), ID_STDOUT))
        else:
            ours, theirs = socket.socketpair()
            err_ours, err_theirs = socket.socketpair() if self.v2 else (None, None)
            stderr = err_theirs.fileno() if err_theirs is not None else theirs.fileno()
            try:
                self.proc = subprocess.Popen(argv, stdin=theirs.fileno(), stdout=theirs.fileno(), stderr=stderr,
                                             **common)
            finally:
                theirs.close()
                if err_theirs is not None:
                    err_theirs.close()
            self._stdin_sock = ours
            self._socks = [ours] + ([err_ours] if err_ours is not None else [])
            outputs.append((lambda: ours.recv(_READ_CHUNK), ID_STDOUT))
            if err_ours is not None:
                outputs.append((lambda: err_ours.recv(_READ_CHUNK), ID_STDERR))
        pumps = [threading.Thread(target=self._pump, args=o, daemon=True) for o in outputs]
        for p in pumps:
            p.start()
        threading.Thread(target=self._input, daemon=True).start()
        threading.Thread(target=self._finish, args=(pumps,), daemon=True).start()

    def _frame(self, ident: int, data: bytes) -> bytes:
        return _PACKET.pack(ident, len(data)) + data if self.v2 else data

    def _pump(self, read: Callable[[], bytes], ident: int) -> None:
        """Forward output as it is produced (telemetry loops rely on this)."""
        while True:
            try:
                data = read()
            except OSError:  # EIO: pty slave closed and drained
                data = b""
            if not data:
                return
            if not self.stream.write(self._frame(ident, data)):
                self.kill()
                return

    def _input(self) -> None:
        buf = b""
        while True:
            data = self.stream.read()
            if data is None:
                self.kill()
                return
            if not self.v2:
                self._write_stdin(data)
                continue
            buf += data
            while len(buf) >= _PACKET.size:
                ident, length = _PACKET.unpack_from(buf)
                if len(buf) < _PACKET.size + length:
                    break
                payload, buf = buf[_PACKET.size:_PACKET.size + length], buf[_PACKET.size + length:]
                if ident == ID_STDIN:
                    self._write_stdin(payload)
                elif ident == ID_CLOSE_STDIN:
                    self._close_stdin()

    def _write_stdin(self, data: bytes) -> None:
        try:
            if self._stdin_sock is not None:
                self._stdin_sock.sendall(data)
            elif self._stdin_fd is not None:
                os.write(self._stdin_fd, data)
        except OSError:
            pass

    def _close_stdin(self) -> None:
        """adbd: shutdown(SHUT_WR) of the raw socket; a pty cannot close just its input."""
        if self.pty or self._stdin_sock is None:
            return
        try:
            self._stdin_sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _finish(self, pumps: list[threading.Thread]) -> None:
        for p in pumps:
            p.join()
        assert self.proc is not None
        code = self.proc.wait()
        if self.pty and self._stdin_fd is not None:
            os.close(self._stdin_fd)
            self._stdin_fd = None
        for sock in self._socks:
            sock.close()
        if code < 0:
            code = 128 - code
        if self.v2:
            self.stream.write(_PACKET.pack(ID_EXIT, 1) + bytes([code & 0xFF]))
        self.stream.close()

    def kill(self) -> None:
        """The stream went away (host closed it or the connection died): hang up like adbd does.

        SIGHUP goes to the shell's pid only (a pty hangup, too, signals only the session leader); the
        child's sockets are shut down so its writes fail with EPIPE. Nothing else is killed.
        """
        if self.hung_up:
            return
        self.hung_up = True
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGHUP)
            except ProcessLookupError:
                pass
        for sock in self._socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def reap(self) -> None:
        """Test hygiene, not adbd behaviour: SIGKILL whatever is left of this session's process group."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
