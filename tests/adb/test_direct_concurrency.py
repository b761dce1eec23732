"""One DirectLink, many users at once: a long stream keeps running while shells, pushes and pulls go
through the same adbd connection (AdbLink's contract; direct USB has no second connection to fall
back on). Hangs are caught by join guards (a hang is a failure), never by timing assertions."""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Callable

import pytest

from tests.adbpeer.peer import AdbPeer
from workbench.core.adb.direct import DirectLink
from workbench.core.adb.telemetry import AdbTelemetry
from workbench.core.types import DeviceState, Sample

GUARD_S = 60.0  # generous: only a hang gets anywhere near it
TICKS = 400
LOOP = f"i=0; while [ $i -lt {TICKS} ]; do echo tick $i; i=$((i+1)); sleep 0.01; done"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _direct(peer: AdbPeer, key: Path) -> DirectLink:
    return DirectLink.tcp("127.0.0.1", peer.port, key_path=key, auth_timeout_s=10, io_timeout=10)


def _run_threads(*targets: Callable[[], None]) -> list[BaseException]:
    """Run targets in daemon threads; a thread still alive after the guard is reported as a hang."""
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(GUARD_S)
    hung = [t.name for t in threads if t.is_alive()]
    if hung:
        errors.append(AssertionError(f"deadlock: {len(hung)} thread(s) still running after {GUARD_S:g} s"))
    return errors


@pytest.mark.parametrize("legacy", [False, True], ids=["shell_v2", "legacy"])
def test_stream_runs_while_shells_push_and_pull_share_the_link(make_peer, adb_key: Path, tmp_path: Path,
                                                                legacy: bool) -> None:
    peer = make_peer(legacy=legacy)
    link = _direct(peer, adb_key)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(2 * 1024 * 1024))
    back = tmp_path / "back.bin"
    ticks: list[str] = []
    shells: list[str] = []
    stream_exit: list[int | None] = []

    def stream_reader() -> None:
        with link.shell_stream(LOOP, idle_timeout=30) as lines:
            for line in lines:
                ticks.append(line)
            stream_exit.append(lines.exit_code)

    def caller() -> None:
        for k in range(30):
            shells.append(link.shell(f"echo hi {k}").stdout)
            if k == 10:
                link.push(src, "/data/local/tmp/wb/big.bin")
                link.pull("/data/local/tmp/wb/big.bin", back)

    try:
        errors = _run_threads(stream_reader, caller)
        assert errors == []
        assert ticks == [f"tick {i}" for i in range(TICKS)]
        assert stream_exit == [None if legacy else 0]
        assert shells == [f"hi {k}\n" for k in range(30)]
        assert _sha(back) == _sha(src) == _sha(peer.sandbox.root / "data/local/tmp/wb/big.bin")
        assert link.state() is DeviceState.DEVICE
    finally:
        link.close()


def test_many_streams_and_callers_at_once(make_peer, adb_key: Path) -> None:
    """Three streams and three shell callers on one connection; closing one stream early leaves the rest."""
    peer = make_peer()
    link = _direct(peer, adb_key)
    got: dict[int, list[str]] = {}

    def streamer(n: int) -> Callable[[], None]:
        def run() -> None:
            lines_seen: list[str] = []
            got[n] = lines_seen
            with link.shell_stream(f"i=0; while [ $i -lt 150 ]; do echo s{n} $i; i=$((i+1)); sleep 0.005; done") as s:
                for line in s:
                    lines_seen.append(line)
                    if n == 0 and len(lines_seen) == 20:
                        break  # closed early by the context manager: adbd kills it, others go on
        return run

    def caller(n: int) -> Callable[[], None]:
        def run() -> None:
            for k in range(15):
                res = link.shell(f"echo c{n} {k}; echo e{n} >&2; exit {k % 3}")
                assert (res.stdout, res.stderr, res.exit_code) == (f"c{n} {k}\n", f"e{n}\n", k % 3)
        return run

    try:
        errors = _run_threads(*(streamer(n) for n in range(3)), *(caller(n) for n in range(3)))
        assert errors == []
        assert got[0] == [f"s0 {i}" for i in range(20)]
        for n in (1, 2):
            assert got[n] == [f"s{n} {i}" for i in range(150)]
        assert link.shell("echo still usable").stdout == "still usable\n"
    finally:
        link.close()


def test_telemetry_on_a_shared_link_while_the_link_is_busy(make_peer, adb_key: Path, tmp_path: Path) -> None:
    """The USB path (AdbTelemetry sharing the device's only link), exercised over TCP."""
    peer = make_peer()
    link = _direct(peer, adb_key)
    src = tmp_path / "model.bin"
    src.write_bytes(os.urandom(1024 * 1024))
    samples: list[Sample] = []
    enough = threading.Event()
    tel = AdbTelemetry(link, 50.0, run_dir="/data/local/tmp/workbench/run")

    def on_sample(s: Sample) -> None:
        samples.append(s)  # every sample is a tick: slow readings are merged into the next one
        if len(samples) >= 40:
            enough.set()

    def busy() -> None:
        k = 0
        while not enough.is_set() or k < 20:
            assert link.shell(f"echo busy {k}").stdout == f"busy {k}\n"
            if k % 5 == 0:
                link.push(src, f"/data/local/tmp/wb/m{k}.bin")
                assert link.stat(f"/data/local/tmp/wb/m{k}.bin").size == len(src.read_bytes())
            k += 1

    try:
        assert tel.channels()
        tel.start(on_sample)
        errors = _run_threads(busy)
        tel.stop()
        assert errors == [] and tel.error is None
        assert len(samples) >= 40
        times = [s.t for s in samples]
        assert times == sorted(times), "sampler ticks lost their order on the shared link"  # /proc/uptime: 10 ms steps
        assert link.state() is DeviceState.DEVICE, "a shared link must outlive its telemetry"
        assert link.shell("echo after").stdout == "after\n"
    finally:
        link.close()
