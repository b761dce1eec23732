"""Runner PSS/USS from smaps_rollup: read every Q ticks by the on-device sampler, one P line each.

The script runs for real (dash, busybox sh, mksh) against a fake tree whose runner appears, is denied
(a directory stands in for SELinux's refusal: the read fails even for root), is replaced by a new
runner and turns into a zombie while the script runs. The pid file is a FIFO that the test writes once
per tick, so the script and the test move in lock step: the tree is in state n exactly while the script
takes tick n, however loaded the machine is (no sleeps, no timing assumptions).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.adb_parsers import adbp_captures as cap
from tests.adb_parsers.test_adbp_sampler import SHELLS, _unreadable, _write, run_sampler
from workbench.core.adb.sampler_script import SamplerConfig, build_sampler_script
from workbench.core.adb.telemetry_lines import SamplerLineParser
from workbench.core.errors import WorkbenchError
from workbench.core.types import Sample

PSS_MB = 150112 / 1024
USS_MB = (29600 + 120400) / 1024


def _rollup(pss_kb: int) -> str:
    return cap.SMAPS_ROLLUP.replace("150112", str(pss_kb))


def _kernel_tree(root: Path, rollup: bool = True) -> None:
    """Only what runner memory needs: /proc/self/smaps_rollup when the kernel has it (4.14+)."""
    root.mkdir(parents=True, exist_ok=True)
    if rollup:
        _write(root / "proc/self/smaps_rollup", cap.SMAPS_ROLLUP)


def _runner(root: Path, pid: int, smaps: str | None, statm: str = "9000 2560 1200 10 0 3000 0") -> int:
    """A runner process in the fake /proc: statm always, smaps_rollup as text, or denied when None."""
    _write(root / f"proc/{pid}/statm", statm + "\n")
    if smaps is None:
        _unreadable(root / f"proc/{pid}/smaps_rollup")
    else:
        _write(root / f"proc/{pid}/smaps_rollup", smaps)
    return pid


def _lockstep(shell: list[str], cfg: SamplerConfig, fifo: Path, tick: Callable[[int], int | None]) -> str:
    """Run the sampler with a FIFO as its pid file; before tick n, `tick(n)` sets the tree up and returns
    the pid the pid file names this tick (None: no runner). Tick n+1's pid is written only once tick n's
    S line is out, and without a newline, so the script's `read` returns at EOF, i.e. only after this
    writer closed: a next tick's open can never meet the previous writer, each write meets one read."""
    os.mkfifo(fifo)
    go = threading.Semaphore(1)
    done = threading.Event()

    def feed() -> None:
        for n in range(cfg.max_ticks):
            go.acquire()
            if done.is_set():
                return
            pid = tick(n)
            with open(fifo, "w") as f:  # blocks until the script opens it for tick n
                f.write("" if pid is None else str(pid))

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    proc = subprocess.Popen([*shell, "-c", build_sampler_script(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    try:
        assert proc.stdout is not None and proc.stderr is not None
        for line in proc.stdout:
            out.append(line)
            if line.startswith("S "):
                go.release()
        err = proc.stderr.read()
        assert proc.wait(timeout=30) == 0, err
        assert err == "", err
    finally:
        done.set()
        go.release()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if writer.is_alive():  # the script ended early: let the writer's open() return
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=5)
    return "".join(out)


def _with(samples: list[Sample], key: str) -> list[int]:
    return [i for i, s in enumerate(samples) if key in s.values]


@pytest.mark.parametrize("shell", list(SHELLS))
def test_runner_appears_is_denied_is_replaced_and_dies(shell: str, tmp_path: Path) -> None:
    if shutil.which(SHELLS[shell][0]) is None:
        pytest.skip(f"{SHELLS[shell][0]} is not installed (apt install {SHELLS[shell][0]})")
    root = tmp_path / "dev"
    _kernel_tree(root)

    def tick(n: int) -> int | None:
        # ticks 0-2: no runner yet; 3-8: runner 4242 denied; 9-14: runner 4343 readable; then a zombie
        if n < 3:
            return None
        if n < 9:
            return _runner(root, 4242, None)
        return _runner(root, 4343, cap.SMAPS_ROLLUP, statm="9000 2560 1200 10 0 3000 0" if n < 15 else "0 0 0 0 0 0 0")

    cfg = SamplerConfig(hz=50, pss_every=2, root=str(root), pid_file=str(tmp_path / "runner.pid"), dumpsys="",
                        max_ticks=20)
    out = _lockstep(SHELLS[shell], cfg, tmp_path / "runner.pid", tick)
    parser = SamplerLineParser()
    samples = parser.feed_text(out)
    assert len(samples) == 20
    assert [c.key for c in parser.channels] == ["mem.runner.rss", "mem.runner.pss", "mem.runner.uss"]
    assert parser.header.config["pss"] == "2"
    # the denied runner is tried once (one P line, one problem), not on each of its 3 due ticks
    assert [line.split()[2:] for line in out.splitlines() if line.startswith("P ") and " - " in line] == [["-", "4242"]]
    assert len(parser.problems) == 1 and "/proc/4242/smaps_rollup" in parser.problems[0]
    assert "SELinux" in parser.problems[0]
    assert _with(samples, "mem.runner.rss") == list(range(3, 15))  # a zombie's zero statm is no reading
    pss = _with(samples, "mem.runner.pss")
    assert pss == [10, 12, 14]  # readable runner 4343 on due (even) ticks; none before, none as a zombie
    assert pss == _with(samples, "mem.runner.uss")
    for i in pss:
        assert samples[i].values["mem.runner.pss"] == pytest.approx(PSS_MB)
        assert samples[i].values["mem.runner.uss"] == pytest.approx(USS_MB)


def test_readings_ride_on_their_own_tick_at_the_configured_cadence(tmp_path: Path) -> None:
    root = tmp_path / "dev"
    _kernel_tree(root)

    def tick(n: int) -> int:  # the runner grows by 100 kB PSS per tick
        return _runner(root, 4242, _rollup(1000 + 100 * n))

    out = _lockstep(["dash"], SamplerConfig(hz=50, pss_every=3, root=str(root), pid_file=str(tmp_path / "pid"),
                                            dumpsys="", max_ticks=12), tmp_path / "pid", tick)
    lines = out.splitlines()
    p_at = [i for i, line in enumerate(lines) if line.startswith("P ")]
    assert len(p_at) == 4  # ticks 0, 3, 6, 9
    for i in p_at:  # printed just before its own S line, with the same uptime
        assert lines[i + 1].startswith("S ") and lines[i].split()[1] == lines[i + 1].split()[1]
    parser = SamplerLineParser()
    samples = parser.feed_text(out)
    assert parser.problems == []
    assert _with(samples, "mem.runner.pss") == [0, 3, 6, 9]
    assert [samples[i].values["mem.runner.pss"] * 1024 for i in (0, 3, 6, 9)] == pytest.approx([1000, 1300, 1600, 1900])


def test_no_pss_channels_without_smaps_rollup_or_when_switched_off(tmp_path: Path) -> None:
    """A pre-4.14 kernel (no /proc/self/smaps_rollup) or pss_every=0: RSS only, no P lines at all."""
    for name, has_rollup, every in (("old", False, None), ("off", True, 0)):
        root = tmp_path / name
        _kernel_tree(root, rollup=has_rollup)
        _runner(root, 4242, cap.SMAPS_ROLLUP)  # even a readable runner file is not read
        _write(root / "runner.pid", "4242\n")
        out = run_sampler(["dash"], SamplerConfig(hz=50, pss_every=every, root=str(root),
                                                   pid_file=str(root / "runner.pid"), dumpsys="", max_ticks=4))
        parser = SamplerLineParser()
        samples = parser.feed_text(out)
        assert [c.key for c in parser.channels] == ["mem.runner.rss"]
        assert not [line for line in out.splitlines() if line.startswith("P ")]
        assert all("mem.runner.rss" in s.values for s in samples) and parser.problems == []


def test_default_cadence_is_about_half_a_second() -> None:
    assert [SamplerConfig(hz=hz).pss_ticks for hz in (1, 2, 10, 20, 50, 100)] == [1, 1, 5, 10, 25, 50]
    assert SamplerConfig(hz=10, pss_every=0).pss_ticks == 0
    with pytest.raises(WorkbenchError, match="pss_every"):
        build_sampler_script(SamplerConfig(pss_every=-1))


# -- parser only: the line format ------------------------------------------------------------------

HEADER = ["H wb-sampler 1", "H cfg period_ms=100 slow=10 therm=1 sleep=frac pss=5", "H mem 4", "H pss", "H end"]


def _parser(header: list[str] = HEADER) -> SamplerLineParser:
    p = SamplerLineParser()
    for line in header:
        assert p.feed(line) is None
    return p


def test_p_line_merges_into_the_next_tick_and_denial_is_one_problem() -> None:
    p = _parser()
    assert p.feed("P 5.00 150112 29600 120400") is None  # never a sample of its own
    tick = p.feed("S 5.00 m 2560")
    assert tick is not None and tick.t == 5.0
    assert tick.values == pytest.approx({"mem.runner.rss": 10.0, "mem.runner.pss": PSS_MB, "mem.runner.uss": USS_MB})
    later = p.feed("S 5.10 m 2560")
    assert later is not None and "mem.runner.pss" not in later.values  # a reading is not repeated
    for _ in range(3):
        p.feed("P 5.20 - 4242")
    denied = p.feed("S 5.20 m 2560")
    assert denied is not None and set(denied.values) == {"mem.runner.rss"}
    assert len(p.problems) == 1 and "/proc/4242/smaps_rollup" in p.problems[0]


def test_partial_and_bad_p_lines() -> None:
    p = _parser()
    p.feed("P 1.00 2048 - 7")  # no Private_Clean line: PSS only, no made-up USS
    tick = p.feed("S 1.00 m 0")  # a zombie's statm: no RSS reading
    assert tick is not None and tick.values == {"mem.runner.pss": 2.0}
    for bad in ("P nope 1 2 3", "P 1.00", "P 1.00 lots 1 2"):
        p.feed(bad)
    assert len(p.problems) == 3 and all("bad P line" in x for x in p.problems)
    no_pss = _parser([line for line in HEADER if line != "H pss"])
    no_pss.feed("P 1.00 2048 1 1")  # a P line the header did not announce adds no channel's value
    tick = no_pss.feed("S 1.00 m 10")
    assert tick is not None and set(tick.values) == {"mem.runner.rss"}
