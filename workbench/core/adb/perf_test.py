"""Runner "ort-perf-test": ONNX Runtime's own `onnxruntime_perf_test` binary on Android phones.

Phones have no python3, so this runner drives the C++ benchmark tool the user built for the phone's ABI
(see README "Android perf_test"). The user names the binary and its libonnxruntime.so once
(`workbench adb set-perf-test BIN LIB`, stored in the user config dir); both are pushed once per
content (sha256 in the remote directory name) and run with LD_LIBRARY_PATH pointing at the library.

What it yields: perf_test prints only a summary (average, min/max, percentiles), not per-iteration
times, so the measured pass reports that summary in `runtime["perf_test"]` and no `measure`
iterations; with --layers a second, profiled pass (`-p`) gives per-layer timings through the same ORT
profile parser as every other runner, and its per-run `model_run` durations become `profiled` iterations.

Time: profile timestamps count from perf_test's start, so the command first echoes the device clock
(/proc/uptime = CLOCK_BOOTTIME, the sampler's clock) right before it execs perf_test; profiled
iterations and layer events are placed at that reading plus their profile offset. A job with
`seconds` runs perf_test's duration mode (`-m duration -t S`), which counts whole seconds and has no
run cap.
"""
from __future__ import annotations

import json
import shlex
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from platformdirs import user_config_dir

from workbench.core.adb.android_perftest import PerfTestSummary, parse_perf_test
from workbench.core.devices.base import RunnerOutput
from workbench.core.errors import InputSpecError, RunCancelled, RunFailed, WorkbenchError
from workbench.core.runner.ort_profile import first_run_ts_us
from workbench.core.types import BenchmarkJob, IterationEvent

if TYPE_CHECKING:
    from workbench.core.adb.device import AdbDevice

PROFILE_PREFIX = "wbprof"
OPT_LEVEL = 99  # ORT_ENABLE_ALL, what an app ships with
PID_TAG = "wb-pid "
CLOCK_TAG = "wb-clock "  # the device clock (s since boot) just before perf_test starts


@dataclass(frozen=True)
class PerfTestConfig:
    binary: Path
    library: Path


def config_path() -> Path:
    return Path(user_config_dir("edge-workbench")) / "perf_test.json"


def _check_elf(path: Path, what: str) -> None:
    if not path.is_file():
        raise WorkbenchError(f"{path}: no such file ({what})")
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            raise WorkbenchError(f"{path}: not an ELF file ({what} must be built for the phone's ABI)")


def set_perf_test(binary: Path, library: Path, path: Path | None = None) -> PerfTestConfig:
    """Validate and remember the onnxruntime_perf_test binary and its libonnxruntime.so."""
    binary, library = Path(binary).resolve(), Path(library).resolve()
    _check_elf(binary, "onnxruntime_perf_test")
    _check_elf(library, "libonnxruntime.so")
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "binary": str(binary), "library": str(library)}, indent=2))
    return PerfTestConfig(binary, library)


def load_config(path: Path | None = None) -> PerfTestConfig:
    path = path or config_path()
    if not path.exists():
        raise RunFailed(f"{path}: no onnxruntime_perf_test configured; run `workbench adb set-perf-test BIN LIB` "
                        "with a binary built for the phone (see README, Android perf_test)")
    try:
        doc = json.loads(path.read_text())
        return PerfTestConfig(Path(doc["binary"]), Path(doc["library"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WorkbenchError(f"{path}: not a perf_test config ({type(exc).__name__}: {exc})") from exc


def free_dim_overrides(model: Path, shapes: dict[str, list[int]]) -> dict[str, int]:
    """perf_test overrides free dimensions by dim_param name (-f name:value); map our per-input shapes."""
    if not shapes:
        return {}
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    out: dict[str, int] = {}
    for inp in graph.input:
        if inp.name not in shapes:
            continue
        dims = inp.type.tensor_type.shape.dim
        want = shapes[inp.name]
        if len(dims) != len(want):
            raise RunFailed(f"{model}: --shape {inp.name}: model input has rank {len(dims)}, got {len(want)} dims")
        for d, v in zip(dims, want):
            if d.dim_param:
                out[d.dim_param] = int(v)
    return out


def duration_seconds(job: BenchmarkJob) -> int | None:
    """`job.seconds` as perf_test's `-t` (whole seconds), or None when the job counts runs."""
    if job.seconds is None:
        return None
    seconds = float(job.seconds)
    if not (seconds >= 1 and seconds.is_integer()):
        raise InputSpecError(f"{job.model_path}: --seconds {job.seconds:g}: onnxruntime_perf_test's duration "
                             "mode (-t) takes whole seconds, 1 or more; use e.g. --seconds "
                             f"{max(1, round(seconds))} or --runs")
    return int(seconds)


def perf_test_command(binary: str, lib_dir: str, model: str, job: BenchmarkJob, runs: int,
                      free_dims: dict[str, int], profile: bool, taskset: str = "",
                      seconds: int | None = None) -> str:
    """The shell line for one perf_test invocation (every path quoted; -I: generated inputs).

    `seconds` selects duration mode (`-m duration -t S`, no run cap), else `runs` times (`-m times -r N`).
    """
    mode = ["-m", "duration", "-t", str(seconds)] if seconds else ["-m", "times", "-r", str(max(1, runs))]
    args = ["-e", "cpu", *mode, "-I", "-o", str(OPT_LEVEL)]
    if job.threads:
        args += ["-x", str(job.threads)]
    if job.spin is not None:
        args += ["-C", f"session.intra_op.allow_spinning|{1 if job.spin else 0}"]
    for name, value in sorted(free_dims.items()):
        args += ["-f", f"{name}:{value}"]
    if profile:
        args += ["-p", PROFILE_PREFIX]
    argv = " ".join(shlex.quote(a) for a in [binary, *args, model])
    return f"LD_LIBRARY_PATH={shlex.quote(lib_dir)} exec {taskset}{argv}"


def head_command(run_dir: str, pid_file: str) -> str:
    """What runs before perf_test in the same shell: cd, pid file and `wb-pid`, then the device clock.

    The clock is read with the `read` builtin (no fork) as the last step before the exec, so it is the
    device time of perf_test's start, which is where its profile's timestamps count from.
    """
    run, pid = shlex.quote(run_dir), shlex.quote(pid_file)
    return (f"cd {run} || exit 97; echo $$ > {pid}; echo \"{PID_TAG}$$\"; "
            f"read -r wbup wbidle < /proc/uptime; echo \"{CLOCK_TAG}$wbup\"; ")


def summary_iterations(events: list[dict[str, Any]], t0: float) -> list[IterationEvent]:
    """`model_run` events of a profile -> profiled IterationEvents.

    `t0` is the device clock at the profile's time zero (perf_test's start, see `head_command`), so
    start times land on the clock the sampler and the other runners use.
    """
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    out = []
    for i, e in enumerate(runs):
        out.append(IterationEvent(i, "profiled", t0 + float(e.get("ts", 0)) / 1e6, float(e.get("dur", 0)) / 1e3))
    return out


@dataclass
class PassOutput:
    """One perf_test invocation as the device reported it."""

    text: str  # stdout without our tag lines
    exit_code: int | None
    stderr: str
    clock_s: float | None  # device clock just before perf_test started (CLOCK_TAG), None if not printed


def read_pass_lines(lines: list[str], on_pid: Callable[[int], None] | None = None) -> tuple[list[str], float | None]:
    """Split our tag lines (pid, clock) from perf_test's own output."""
    out: list[str] = []
    clock: float | None = None
    for line in lines:
        if line.startswith(PID_TAG):
            if on_pid is not None:
                on_pid(int(line.split()[1]))
        elif line.startswith(CLOCK_TAG) and clock is None:
            try:
                clock = float(line[len(CLOCK_TAG):].strip())
            except ValueError:
                out.append(line)
        else:
            out.append(line)
    return out, clock


def _stream_run(dev: "AdbDevice", cmd: str, on_pid: Callable[[int], None], cancel: threading.Event) -> PassOutput:
    """Run one perf_test command, kill it on cancel; returns what it printed."""
    from workbench.core.adb.device import kill_runner

    link = dev.link()
    stream = link.shell_stream(cmd)
    lines: list[str] = []
    clock: list[float] = []
    done = threading.Event()
    error: list[BaseException] = []

    def reader() -> None:
        try:
            for line in stream:
                kept, at = read_pass_lines([line], on_pid)
                lines.extend(kept)
                if at is not None and not clock:
                    clock.append(at)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            error.append(exc)
        finally:
            done.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        while not done.wait(0.1):
            if cancel.is_set():
                kill_runner(link)  # perf_test is silent until its summary: SIGHUP alone may not end it
                raise RunCancelled("run cancelled")
    finally:
        stream.close()
        t.join(timeout=5)
    if error:
        raise error[0]
    return PassOutput("\n".join(lines), stream.exit_code, stream.stderr, clock[0] if clock else None)


def run_perf_test(dev: "AdbDevice", job: BenchmarkJob, model: str, on_iteration: Callable[[IterationEvent], None],
                  on_pid: Callable[[int], None], cancel: threading.Event,
                  config: PerfTestConfig | None = None) -> RunnerOutput:
    """Measured pass (summary), then with job.layers a profiled pass whose profile is pulled and parsed."""
    from workbench.core.adb.device import BIN_DIR, file_sha256
    from workbench.core.adb.telemetry import PID_FILE_NAME, RUN_DIR

    seconds = duration_seconds(job)  # before anything is pushed: a bad --seconds is the user's to fix
    cfg = config or load_config()
    bin_sha = file_sha256(cfg.binary)
    rdir = f"{BIN_DIR}/perf_test-{bin_sha[:16]}"
    rbin, rlib = f"{rdir}/onnxruntime_perf_test", f"{rdir}/{cfg.library.name}"
    dev.ensure_file(cfg.binary, rbin, bin_sha, mode=0o755)
    dev.ensure_file(cfg.library, rlib, file_sha256(cfg.library))
    dev.prepare_run_dir()
    free_dims = free_dim_overrides(Path(job.model_path), job.shapes)
    taskset = dev.taskset_prefix(job.affinity)
    run = shlex.quote(RUN_DIR)
    head = head_command(RUN_DIR, PID_FILE_NAME)

    def one(runs: int, profile: bool, secs: int | None = None) -> tuple[PerfTestSummary, float | None]:
        cmd = head + perf_test_command(rbin, rdir, model, job, runs, free_dims, profile, taskset, secs)
        out = _stream_run(dev, cmd, on_pid, cancel)
        summary = parse_perf_test(out.text)
        if out.exit_code not in (0, None) or (summary.average_ms is None and not summary.percentiles_ms):
            last = (out.stderr.strip().splitlines() or out.text.strip().splitlines() or ["no output"])[-1]
            raise RunFailed(f"{job.model_path}: onnxruntime_perf_test failed (exit {out.exit_code}): {last}")
        return summary, out.clock_s

    measured, _ = one(job.runs or 50, False, seconds)
    events: list[dict[str, Any]] = []
    iterations: list[IterationEvent] = []
    profile_t0: float | None = None
    if job.layers:
        _, started = one(job.layer_runs or min(job.runs or 20, 20), True)
        if started is None:
            raise RunFailed(f"{job.model_path}: {dev.serial} printed no /proc/uptime before onnxruntime_perf_test "
                            "(profiled iterations cannot be placed on the device clock)")
        name = dev.link().shell(f"cd {run} && ls -t {PROFILE_PREFIX}*.json 2>/dev/null | head -n 1").stdout.strip()
        if not name:
            raise RunFailed(f"{job.model_path}: onnxruntime_perf_test wrote no profile in {RUN_DIR}")
        with tempfile.TemporaryDirectory(prefix="wb-prof-") as tmp:
            dev.link().pull(f"{RUN_DIR}/{name}", Path(tmp) / "p.json")
            events = json.loads((Path(tmp) / "p.json").read_text())
        iterations = summary_iterations(events, started)
        first = first_run_ts_us(events)
        profile_t0 = started + first / 1e6 if first is not None else None
        for it in iterations:
            on_iteration(it)
    return RunnerOutput(
        iterations=iterations, session_load_ms=measured.session_creation_ms, profile_events=events, inputs={},
        runner_pid=None, max_rss_mb=(measured.peak_working_set_bytes / 2**20) if measured.peak_working_set_bytes
        else None, rss_after_load_mb=None, outputs_digest="",
        runtime={"runner": "ort-perf-test", "perf_test": asdict(measured), "profile_skip_runs": 0,
                 "profile_t0": profile_t0, "threads": job.threads,
                 "mode": f"duration {seconds} s" if seconds else f"times {job.runs or 50}"},
    )
