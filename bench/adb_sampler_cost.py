"""What the on-device sampler costs: achieved rate and CPU (% of one core) at 10, 50 and 100 Hz.

Runs the generated script for real under a POSIX shell (dash by default, like `sh` on this VM)
against (1) this machine's real /proc and /sys and (2) a phone-sized fake tree (8 CPUs, 3 cpufreq
policies, 40 thermal zones, battery, runner pid) so the per-channel reads are counted too. CPU is
taken from getrusage(RUSAGE_CHILDREN) around each run: the shell plus every `sleep` it forked and
reaped. For comparison it also runs a naive loop that forks one `cat` of all files per tick at 50 Hz.

Runner PSS/USS: a real runner stand-in (a child python holding --ballast-mb of touched memory, so
smaps_rollup has page tables to walk) is sampled at 50 Hz with smaps_rollup off, at the default
cadence (every 25 ticks = 0.5 s) and on every tick, interleaved --repeats times; medians of CPU per
tick give the cost of one smaps_rollup read and what the default cadence adds per tick.

`--baseline REV` compares the sampler script of a git revision with the working tree's, interleaved
on the same configs (medians of --repeats runs): how a change to the script moved the per-tick cost.

    /tmp/wbvenv/bin/python bench/adb_sampler_cost.py [--seconds 3] [--shell dash] [--rates 10,50,100]
                                                     [--ballast-mb 200] [--repeats 3] [--only runner]
                                                     [--baseline REV]
"""
from __future__ import annotations

import argparse
import importlib.util
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench.core.adb import sampler_script as current
from workbench.core.adb.sampler_script import SamplerConfig, build_sampler_script
from workbench.core.adb.telemetry_lines import SamplerLineParser


def phone_tree(root: Path, zones: int = 40) -> Path:
    """A phone-sized tree: what a Pixel-class device exposes to the shell user, minus dumpsys."""
    def w(rel: str, text: str) -> None:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    cpus = "".join(f"cpu{i} {1000 + i} 0 {500 + i} {9000 + i} 0 0 0 0 0 0\n" for i in range(8))
    w("proc/stat", "cpu  9000 0 4000 72000 0 0 0 0 0 0\n" + cpus + "intr " + " 0" * 600 + "\nctxt 1\n")
    w("sys/devices/system/cpu/possible", "0-7\n")
    for pol, rel in (("policy0", "0 1 2 3"), ("policy4", "4 5"), ("policy6", "6 7")):
        w(f"sys/devices/system/cpu/cpufreq/{pol}/scaling_cur_freq", "1803000\n")
        w(f"sys/devices/system/cpu/cpufreq/{pol}/related_cpus", rel + "\n")
    for z in range(zones):
        w(f"sys/class/thermal/thermal_zone{z}/type", f"zone{z}\n")
        w(f"sys/class/thermal/thermal_zone{z}/temp", f"{30000 + z * 100}\n")
    w("sys/class/power_supply/battery/type", "Battery\n")
    w("sys/class/power_supply/battery/current_now", "-612000\n")
    w("sys/class/power_supply/battery/voltage_now", "4012000\n")
    w("sys/class/power_supply/battery/status", "Discharging\n")
    w("sys/class/power_supply/usb/type", "USB\n")
    w("sys/class/power_supply/usb/online", "0\n")
    w("proc/4242/statm", "61234 2560 1200 10 0 3000 0\n")
    w("runner.pid", "4242\n")
    return root / "runner.pid"


def naive_script(cfg: SamplerConfig, files: list[str]) -> str:
    """The obvious alternative: one `cat` of every file per tick and a fixed sleep (for the ratio only)."""
    cats = " ".join(files)
    return (
        f"n=0; while [ $n -lt {cfg.max_ticks} ]; do cat /proc/uptime {cats} >/dev/null 2>&1; "
        f"echo S; sleep {cfg.period_ms / 1000:.3f}; n=$((n+1)); done"
    )


def run(shell: str, script: str) -> tuple[str, float, float]:
    """stdout, wall seconds, CPU seconds (user+sys of the shell and all children it reaped)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run([*shell.split(), "-c", script], capture_output=True, text=True, timeout=120, check=True).stdout
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, wall, cpu


def measure(shell: str, cfg: SamplerConfig, label: str) -> None:
    out, wall, cpu = run(shell, build_sampler_script(cfg))
    show(cfg, label, out, wall, cpu)


def show(cfg: SamplerConfig, label: str, out: str, wall: float, cpu: float) -> None:
    parser = SamplerLineParser()
    parser.feed_text(out)
    ticks = [line for line in out.splitlines() if line.startswith("S ")]
    ts = [float(line.split()[1]) for line in ticks]
    span = ts[-1] - ts[0] if len(ts) > 1 else float("nan")
    rate = (len(ticks) - 1) / span if span and span == span else float("nan")
    dts = [b - a for a, b in zip(ts, ts[1:])]
    jitter = statistics.pstdev(dts) * 1000 if len(dts) > 1 else float("nan")
    # the 0.2 s sleep probe and discovery run once; they are part of the cost but not of the rate
    print(
        f"{label:<10} {cfg.hz:6.0f} Hz  achieved {rate:7.2f} Hz ({rate / cfg.hz:5.3f} of target)  "
        f"dt sd {jitter:5.1f} ms  channels {len(parser.channels):3d}  "
        f"cpu {100 * cpu / wall:5.2f} % of one core ({1000 * cpu / max(1, len(ticks)):.2f} ms/tick)"
    )


RUNNER = """
import sys, time
ballast = bytes(range(256)) * (int(sys.argv[1]) * 4096)  # touched pages, as a loaded model holds
open(sys.argv[2], "w").write(str(__import__("os").getpid()))
print("ready", flush=True)
sys.stdin.read()  # until the bench closes our stdin
"""


def runner_rows(shell: str, seconds: float, ballast_mb: int, repeats: int, tmp: str) -> None:
    """CPU per tick with the runner's smaps_rollup off / at the default cadence / every tick (50 Hz)."""
    pid_file = Path(tmp) / "ballast.pid"
    child = subprocess.Popen([sys.executable, "-c", RUNNER, str(ballast_mb), str(pid_file)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        rss = next(line.split()[1] for line in Path(f"/proc/{child.pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))
        hz = 50.0
        n = max(2, int(hz * seconds))
        variants = {"pss off": 0, "pss default": None, "pss every tick": 1}
        per_tick: dict[str, list[float]] = {k: [] for k in variants}
        reads: dict[str, int] = {}
        for _ in range(repeats):
            for label, every in variants.items():
                cfg = SamplerConfig(hz=hz, max_ticks=n, dumpsys="", pid_file=str(pid_file), pss_every=every)
                out, wall, cpu = run(shell, build_sampler_script(cfg))
                per_tick[label].append(1000 * cpu / n)
                reads[label] = sum(1 for line in out.splitlines() if line.startswith("P "))
        print(f"runner stand-in: pid {child.pid}, VmRSS {int(rss) / 1024:.0f} MB; {hz:.0f} Hz, {n} ticks, "
              f"median of {repeats} interleaved runs (each includes the one-off 0.2 s sleep probe)")
        med = {k: statistics.median(v) for k, v in per_tick.items()}
        for label in variants:
            print(f"  {label:<15} {med[label]:.3f} ms/tick  ({reads[label]:3d} smaps_rollup reads)  "
                  f"runs: {' '.join(f'{x:.3f}' for x in per_tick[label])}")
        one = (med["pss every tick"] - med["pss off"]) * n / max(1, reads["pss every tick"])
        print(f"  one smaps_rollup read by the shell: {one:.3f} ms; default cadence adds "
              f"{med['pss default'] - med['pss off']:+.3f} ms/tick "
              f"({100 * (med['pss default'] - med['pss off']) / med['pss off']:+.1f} %)")
    finally:
        child.stdin.close()  # type: ignore[union-attr]
        child.wait(timeout=10)


def load_revision(rev: str, tmp: str):  # noqa: ANN201 - a module object
    """workbench/core/adb/sampler_script.py as of git revision `rev`, imported under its own name."""
    repo = Path(__file__).resolve().parents[1]
    text = subprocess.run(["git", "show", f"{rev}:workbench/core/adb/sampler_script.py"], cwd=repo,
                          capture_output=True, text=True, check=True).stdout
    path = Path(tmp) / "baseline_sampler_script.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("baseline_sampler_script", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def baseline_rows(shell: str, rev: str, rates: list[float], seconds: float, repeats: int, tmp: str,
                  pid_file: Path) -> None:
    """Per-tick CPU of the script at `rev` against the working tree's, interleaved run by run."""
    old = load_revision(rev, tmp)
    print(f"before = {rev}, after = working tree; CPU ms/tick, median of {repeats} interleaved runs")
    for label, kw in (("real /", {}), ("phone tree", {"root": tmp, "pid_file": str(pid_file)})):
        for hz in rates:
            n = max(2, int(hz * seconds))
            res: dict[str, list[float]] = {"before": [], "after": []}
            for _ in range(repeats):
                for name, mod in (("before", old), ("after", current)):
                    _, _, cpu = run(shell, mod.build_sampler_script(mod.SamplerConfig(hz=hz, max_ticks=n, dumpsys="", **kw)))
                    res[name].append(1000 * cpu / n)
            mb, ma = statistics.median(res["before"]), statistics.median(res["after"])
            print(f"  {label:<10} {hz:5.0f} Hz  before {mb:.3f}  after {ma:.3f}  after/before {ma / mb:.3f}  "
                  f"(before {' '.join(f'{x:.2f}' for x in res['before'])} | after {' '.join(f'{x:.2f}' for x in res['after'])})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--shell", default="dash", help="e.g. dash, mksh, \"busybox sh\"")
    ap.add_argument("--rates", default="10,50,100")
    ap.add_argument("--ballast-mb", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", choices=["runner", "baseline"], help="only the runner PSS/USS or --baseline rows")
    ap.add_argument("--baseline", metavar="REV", help="also compare with the sampler script at git revision REV")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        pid_file = phone_tree(Path(tmp))
        if args.baseline:
            baseline_rows(args.shell, args.baseline, rates, args.seconds, args.repeats, tmp, pid_file)
        if args.only != "baseline":
            runner_rows(args.shell, args.seconds, args.ballast_mb, args.repeats, tmp)
        if args.only:
            return
        print(f"shell: {args.shell}; {args.seconds:g} s per run; device clock = /proc/uptime (10 ms resolution)")
        for hz in rates:
            ticks = max(2, int(hz * args.seconds))
            measure(args.shell, SamplerConfig(hz=hz, max_ticks=ticks, dumpsys=""), "real /")
            measure(args.shell, SamplerConfig(hz=hz, max_ticks=ticks, dumpsys="", root=tmp, pid_file=str(pid_file)), "phone tree")
        hz = 50.0
        cfg = SamplerConfig(hz=hz, max_ticks=int(hz * args.seconds), root=tmp)
        files = [str(p) for p in Path(tmp).rglob("*") if p.is_file() and "intr" not in p.name]
        _, wall, cpu = run(args.shell, naive_script(cfg, files))
        _, wall2, cpu2 = run(args.shell, build_sampler_script(SamplerConfig(hz=hz, max_ticks=cfg.max_ticks, dumpsys="", root=tmp, pid_file=str(pid_file))))
        n = cfg.max_ticks
        print(
            f"naive `cat` loop, phone tree, {hz:.0f} Hz target: {1000 * cpu / n:.2f} ms/tick, achieved "
            f"{n / wall:5.1f} Hz | sampler: {1000 * cpu2 / n:.2f} ms/tick, {n / wall2:5.1f} Hz | "
            f"CPU per tick ratio naive/sampler {cpu / cpu2 if cpu2 else float('nan'):.2f}x"
        )
        _, wall3, cpu3 = run(args.shell, f"n=0; while [ $n -lt {n} ]; do sleep {1 / hz:.3f}; n=$((n+1)); done")
        print(f"floor: a loop that only forks `sleep` costs {1000 * cpu3 / n:.2f} ms/tick on this machine")


if __name__ == "__main__":
    main()
