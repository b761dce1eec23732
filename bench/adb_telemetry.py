"""On-device telemetry over ONE adb shell to the test phone: achieved sample rate and the sampler's CPU.

Starts a test peer (tests/adbpeer) on loopback, connects with DirectLink (ours, TCP) and runs
the real sampler through AdbTelemetry at each asked rate for --seconds, printing achieved Hz (ticks /
device-clock span). Then at 10 Hz it reads the CPU time of the peer's shell process tree from
/proc/<pid>/stat (utime+stime of the sampler shell plus its reaped children, i.e. every `sleep` it
forked), since the "device" is this machine: that is the device-side cost of sampling.

    /tmp/wbvenv/bin/python bench/adb_telemetry.py [--seconds 4] [--rates 10,50,100,200]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.adbpeer.peer import AdbPeer  # noqa: E402
from workbench.core.adb.direct import DirectLink  # noqa: E402
from workbench.core.adb.telemetry import AdbTelemetry  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid: int) -> float:
    """utime+stime+cutime+cstime of `pid` (children reaped by it are included by the kernel)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICK


def sampler_pid(peer: AdbPeer) -> int | None:
    """The newest sampler shell of THIS peer (a global /proc scan could find another test's sampler)."""
    shells = [x for x in peer.sessions if "sampler-" in x.command and x.proc is not None]
    return shells[-1].proc.pid if shells else None


def run_rate(peer: AdbPeer, link: DirectLink, hz: float, seconds: float) -> tuple[float, int, float | None]:
    got: list[float] = []
    tel = AdbTelemetry(link, hz)
    tel.channels()
    # every Sample is one tick (slow E/T readings ride on the next tick since the parser merges them)
    tel.start(lambda s: got.append(s.t))
    pid = sampler_pid(peer)
    cpu0 = tree_cpu_s(pid) if pid else None
    w0 = time.monotonic()
    time.sleep(seconds)
    cpu1 = tree_cpu_s(pid) if pid else None
    wall = time.monotonic() - w0
    tel.stop()
    ticks = list(got)
    span = (ticks[-1] - ticks[0]) if len(ticks) > 1 else 0.0
    achieved = (len(ticks) - 1) / span if span > 0 else 0.0
    cpu_pct = ((cpu1 - cpu0) / wall * 100) if cpu0 is not None and cpu1 is not None else None
    return achieved, len(ticks), cpu_pct


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--rates", default="10,50,100,200")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        peer = AdbPeer(Path(tmp) / "dev").start()
        link = DirectLink.tcp("127.0.0.1", peer.port, key_path=Path(tmp) / "adbkey", auth_timeout_s=10)
        try:
            print(f"one shell to the peer over DirectLink, {args.seconds:g} s per rate, {os.cpu_count()} CPUs (shared)")
            print(f"{'asked Hz':>9} {'achieved Hz':>12} {'ratio':>6} {'ticks':>6} {'sampler CPU % of a core':>24}")
            for hz in (float(r) for r in args.rates.split(",")):
                achieved, n, cpu = run_rate(peer, link, hz, args.seconds)
                cpu_txt = f"{cpu:.1f}" if cpu is not None else "-"
                print(f"{hz:9g} {achieved:12.1f} {achieved / hz:6.2f} {n:6d} {cpu_txt:>24}")
        finally:
            link.close()
            peer.stop()
            peer.reap()


if __name__ == "__main__":
    main()
