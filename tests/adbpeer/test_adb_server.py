"""The private adb server helper: our own child, stopped by pid, nothing left on random ports."""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.adbpeer import adb_server as mod
from tests.adbpeer.adb_server import AdbServer, closed_port, listens

pytestmark = [pytest.mark.adb_server,
              pytest.mark.skipif(shutil.which("adb") is None, reason="Debian's adb binary is not installed")]


def _alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _wait_dead(pid: int) -> None:
    for _ in range(500):
        if not _alive(pid):
            return
        time.sleep(0.02)
    pytest.fail(f"adb server {pid} still running")


def test_started_as_our_child_and_stopped_by_pid(tmp_path: Path) -> None:
    server = AdbServer(tmp_path / "home").start()
    assert server.proc is not None and server.proc.args[-2:] == ["nodaemon", "server"]
    pid, port = server.proc.pid, server.port
    assert listens(pid, port)
    assert server.adb("devices").stdout.startswith(b"List of devices attached")
    server.stop()
    assert server.proc.returncode is not None  # reaped: it was ours, not a daemon
    assert not listens(pid, port) and not _alive(pid)
    with pytest.raises(RuntimeError, match="not running"):  # no client call may autostart a daemon now
        server.adb("devices")
    server.stop()  # idempotent


def test_port_taken_before_adb_binds_it_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race free_port() had: somebody listens on the picked port before adb binds it."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    picks = [taken.getsockname()[1]]
    real = mod._candidate_port
    monkeypatch.setattr(mod, "_candidate_port", lambda: picks.pop(0) if picks else real())
    try:
        server = AdbServer(tmp_path / "home").start()
        try:
            assert server.port != taken.getsockname()[1] and server.adb("devices").returncode == 0
        finally:
            server.stop()
    finally:
        taken.close()
    assert picks == []  # the taken port was tried first and given up


def test_a_killed_test_process_takes_its_server_along(tmp_path: Path) -> None:
    """SIGKILL leaves no finalizer a chance: the kernel ends the server (PDEATHSIG via setpriv)."""
    if shutil.which("setpriv") is None:
        pytest.skip("util-linux setpriv is not installed")
    root = Path(__file__).resolve().parents[2]
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(root)!r})
        from tests.adbpeer.adb_server import AdbServer
        s = AdbServer({str(tmp_path / 'home')!r}).start()
        print(s.proc.pid, s.port, flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        pid, port = (int(x) for x in child.stdout.readline().split())
        assert listens(pid, port)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    _wait_dead(pid)
    assert not listens(pid, port)


def test_closed_port_refuses_and_stays_ours() -> None:
    with closed_port() as dead:
        port = dead.getsockname()[1]
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
        other = socket.socket()
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with pytest.raises(OSError):
            other.bind(("127.0.0.1", port))
        other.close()
