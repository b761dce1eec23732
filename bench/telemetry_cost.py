"""What local telemetry costs: achieved rate, tick jitter and the sampler thread's own CPU time.

Runs the real ProbeSampler with local_probes() at each rate while watching a real child process
(a Python process holding 64 MB, standing in for the runner), then times each probe's read() alone.

    /tmp/wbvenv/bin/python bench/telemetry_cost.py [--seconds 3] [--rates 10,50,100]

Figures depend on the machine and on whatever else it is running; nothing here asserts.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from workbench.core.telemetry.local_probes import local_probes
from workbench.core.telemetry.memory import MemoryProbe
from workbench.core.telemetry.probe import Probe
from workbench.core.telemetry.sampler import ProbeSampler
from workbench.core.stats import percentile
from workbench.core.types import Sample

CHILD = ("import sys; b = bytearray(64 << 20); b[::4096] = b'x' * len(b[::4096]); "
         "print('ready', flush=True); sys.stdin.read()")


def run_rate(rate: float, seconds: float, pid: int) -> dict[str, float]:
    sampler = ProbeSampler(local_probes(), rate)
    sampler.watch_pid(pid)
    got: list[Sample] = []
    wall0 = time.monotonic()
    sampler.start(got.append)
    time.sleep(seconds)
    sampler.stop()
    wall = time.monotonic() - wall0
    ts = [s.t for s in got]
    period = 1.0 / rate
    dev_ms = [abs((b - a) - period) * 1e3 for a, b in zip(ts, ts[1:])]
    st = sampler.stats
    span = (ts[-1] - ts[0]) if len(ts) > 1 else float("nan")
    return {
        "rate": rate,
        "samples": len(got),
        "achieved_hz": (len(ts) - 1) / span if len(ts) > 1 else float("nan"),
        "jitter_p50_ms": percentile(dev_ms, 50),
        "jitter_p99_ms": percentile(dev_ms, 99),
        "skipped": st.skipped,
        "cpu_pct": 100.0 * st.thread_cpu_s / wall,
        "us_per_tick": 1e6 * st.thread_cpu_s / max(1, st.ticks),
        "channels": len(sampler.channels()),
        "disabled": len(sampler.disabled),
        "rss_mb": got[-1].values.get("mem.runner.rss", float("nan")) if got else float("nan"),
    }


def probe_costs(pid: int, reads: int = 500) -> list[tuple[str, int, float]]:
    """(probe, channels, CPU µs per read()) for each available local probe, read alone in a loop.

    The loop is faster than the PSS interval, so `memory` here is mostly statm + meminfo; the extra
    row reads smaps_rollup every time, which is what PSS/USS cost per read.
    """
    probes: list[tuple[str, Probe]] = [(p.id, p) for p in local_probes()]
    probes.append(("memory, PSS every read", MemoryProbe(pss_interval_s=0.0)))
    out = []
    for name, probe in probes:
        specs = probe.channels()
        if not specs:
            continue
        probe.watch_pid(pid)
        probe.read()
        c0 = time.thread_time()
        for _ in range(reads):
            probe.read()
        out.append((name, len(specs), 1e6 * (time.thread_time() - c0) / reads))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rates", default="10,50,100")
    args = ap.parse_args()
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        rows = [run_rate(float(r), args.seconds, child.pid) for r in args.rates.split(",")]
        costs = probe_costs(child.pid)
    finally:
        child.kill()
        child.wait()
    print(f"ProbeSampler with local_probes(), {args.seconds:g} s per rate, watching pid {child.pid} "
          f"(64 MB child), {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.2f}")
    head = f"{'rate Hz':>8} {'samples':>8} {'achieved':>9} {'jit p50 ms':>11} {'jit p99 ms':>11} " \
           f"{'skipped':>8} {'thread CPU %':>13} {'µs/tick':>8} {'chans':>6} {'child RSS':>10}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['rate']:>8g} {r['samples']:>8d} {r['achieved_hz']:>9.2f} {r['jitter_p50_ms']:>11.3f} "
              f"{r['jitter_p99_ms']:>11.3f} {r['skipped']:>8d} {r['cpu_pct']:>13.2f} {r['us_per_tick']:>8.0f} "
              f"{r['channels']:>6d} {r['rss_mb']:>9.1f}M")
    print()
    print(f"{'probe':>24} {'channels':>9} {'CPU µs/read':>12}")
    for name, n, us in costs:
        print(f"{name:>24} {n:>9d} {us:>12.1f}")
    if rows:
        r = rows[-1]
        print(f"\nat {r['rate']:g} Hz the sampler thread uses {r['cpu_pct']:.2f}% of one core "
              f"({r['achieved_hz'] / r['rate'] * 100:.1f}% of the requested rate achieved)")


if __name__ == "__main__":
    main()
