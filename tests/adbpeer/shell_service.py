"""adbd's shell service: `shell:CMD` (v1) and `shell,v2[,raw|pty]:CMD` (shell protocol).

v1 raw sends stdout and stderr interleaved on the stream and no exit status; pty mode (legacy adbd
always, or the `pty` argument) runs the command on a real pseudo-terminal, so the kernel turns LF into
CRLF and merges stderr exactly as on an old phone. v2 frames every chunk as [id:u8][len:u32 LE][data]
with ids 0 stdin, 1 stdout, 2 stderr, 3 exit (1 byte), 4 close stdin, 5 window size.
"""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import threading

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
        self._stdin_fd: int | None = None

    # ---- life cycle
    def start(self) -> None:
        argv = ["/bin/sh", "-c", self.command] if self.command else ["/bin/sh"]
        common = dict(cwd=self.sandbox.root, env=self.sandbox.env(), start_new_session=True, close_fds=True)
        if self.pty:
            master, slave = os.openpty()
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, **common)
            os.close(slave)
            self._stdin_fd = master
            outputs = [(master, ID_STDOUT)]
        else:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if self.v2 else subprocess.STDOUT,
                **common,
            )
            assert self.proc.stdin and self.proc.stdout
            self._stdin_fd = self.proc.stdin.fileno()
            outputs = [(self.proc.stdout.fileno(), ID_STDOUT)]
            if self.v2:
                assert self.proc.stderr
                outputs.append((self.proc.stderr.fileno(), ID_STDERR))
        pumps = [threading.Thread(target=self._pump, args=o, daemon=True) for o in outputs]
        for p in pumps:
            p.start()
        threading.Thread(target=self._input, daemon=True).start()
        threading.Thread(target=self._finish, args=(pumps,), daemon=True).start()

    def _frame(self, ident: int, data: bytes) -> bytes:
        return _PACKET.pack(ident, len(data)) + data if self.v2 else data

    def _pump(self, fd: int, ident: int) -> None:
        """Forward output as it is produced (telemetry loops rely on this)."""
        while True:
            try:
                data = os.read(fd, _READ_CHUNK)
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
        if self._stdin_fd is None:
            return
        try:
            os.write(self._stdin_fd, data)
        except OSError:
            pass

    def _close_stdin(self) -> None:
        if self.pty or self.proc is None or self.proc.stdin is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self._stdin_fd = None

    def _finish(self, pumps: list[threading.Thread]) -> None:
        for p in pumps:
            p.join()
        assert self.proc is not None
        code = self.proc.wait()
        if self.pty and self._stdin_fd is not None:
            os.close(self._stdin_fd)
            self._stdin_fd = None
        if code < 0:
            code = 128 - code
        if self.v2:
            self.stream.write(_PACKET.pack(ID_EXIT, 1) + bytes([code & 0xFF]))
        self.stream.close()

    def kill(self) -> None:
        """The stream went away (host closed it or the connection died): end the whole process group."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
