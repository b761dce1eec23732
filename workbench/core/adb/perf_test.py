"""Runner "ort-perf-test": ONNX Runtime's own `onnxruntime_perf_test` binary on Android phones.

Phones have no python3, so this runner drives the C++ benchmark tool the user built for the phone's ABI
(see README "Android perf_test"). The user names the binary and its libonnxruntime.so once
(`workbench adb set-perf-test BIN LIB`, stored in the user config dir); both are pushed once per
content (sha256 in the remote directory name) and run with LD_LIBRARY_PATH pointing at the library.

What it yields: perf_test prints only a summary (average, min/max, percentiles), not per-iteration
times, so the measured pass reports that summary in `runtime["perf_test"]` and no `measure`
iterations; with --layers a second, profiled pass (`-p`) gives per-layer timings through the same ORT
profile parser as every other runner, and its per-run `model_run` durations become `profiled` iterations.
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
from workbench.core.errors import RunCancelled, RunFailed, WorkbenchError
from workbench.core.types import BenchmarkJob, IterationEvent

if TYPE_CHECKING:
    from workbench.core.adb.device import AdbDevice

PROFILE_PREFIX = "wbprof"
OPT_LEVEL = 99  # ORT_ENABLE_ALL, what an app ships with


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


def perf_test_command(binary: str, lib_dir: str, model: str, job: BenchmarkJob, runs: int,
                      free_dims: dict[str, int], profile: bool, taskset: str = "") -> str:
    """The shell line for one perf_test invocation (every path quoted; -I: generated inputs)."""
    args = ["-e", "cpu", "-m", "times", "-r", str(max(1, runs)), "-I", "-o", str(OPT_LEVEL)]
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


def summary_iterations(events: list[dict[str, Any]], t0: float) -> list[IterationEvent]:
    """`model_run` events of a profile -> profiled IterationEvents (profile-relative start times)."""
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    out = []
    for i, e in enumerate(runs):
        out.append(IterationEvent(i, "profiled", t0 + float(e.get("ts", 0)) / 1e6, float(e.get("dur", 0)) / 1e3))
    return out


def _stream_run(dev: "AdbDevice", cmd: str, on_pid: Callable[[int], None], cancel: threading.Event) -> tuple[str, int | None, str]:
    """Run one perf_test command; returns (stdout text, exit code, stderr)."""
    from workbench.core.adb.device import kill_runner

    link = dev.link()
    stream = link.shell_stream(cmd)
    lines: list[str] = []
    done = threading.Event()
    error: list[BaseException] = []

    def reader() -> None:
        try:
            for line in stream:
                if line.startswith("wb-pid "):
                    on_pid(int(line.split()[1]))
                else:
                    lines.append(line)
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
    return "\n".join(lines), stream.exit_code, stream.stderr


def run_perf_test(dev: "AdbDevice", job: BenchmarkJob, model: str, on_iteration: Callable[[IterationEvent], None],
                  on_pid: Callable[[int], None], cancel: threading.Event,
                  config: PerfTestConfig | None = None) -> RunnerOutput:
    """Measured pass (summary), then with job.layers a profiled pass whose profile is pulled and parsed."""
    from workbench.core.adb.device import BIN_DIR, file_sha256
    from workbench.core.adb.telemetry import PID_FILE_NAME, RUN_DIR

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
    head = f"cd {run} || exit 97; echo $$ > {PID_FILE_NAME}; echo \"wb-pid $$\"; "

    def one(runs: int, profile: bool) -> PerfTestSummary:
        cmd = head + perf_test_command(rbin, rdir, model, job, runs, free_dims, profile, taskset)
        text, code, stderr = _stream_run(dev, cmd, on_pid, cancel)
        summary = parse_perf_test(text)
        if code not in (0, None) or (summary.average_ms is None and not summary.percentiles_ms):
            last = (stderr.strip().splitlines() or text.strip().splitlines() or ["no output"])[-1]
            raise RunFailed(f"{job.model_path}: onnxruntime_perf_test failed (exit {code}): {last}")
        return summary

    measured = one(job.runs or 50, False)
    events: list[dict[str, Any]] = []
    iterations: list[IterationEvent] = []
    if job.layers:
        one(job.layer_runs or min(job.runs or 20, 20), True)
        name = dev.link().shell(f"cd {run} && ls -t {PROFILE_PREFIX}*.json 2>/dev/null | head -n 1").stdout.strip()
        if not name:
            raise RunFailed(f"{job.model_path}: onnxruntime_perf_test wrote no profile in {RUN_DIR}")
        with tempfile.TemporaryDirectory(prefix="wb-prof-") as tmp:
            dev.link().pull(f"{RUN_DIR}/{name}", Path(tmp) / "p.json")
            events = json.loads((Path(tmp) / "p.json").read_text())
        iterations = summary_iterations(events, 0.0)
        for it in iterations:
            on_iteration(it)
    return RunnerOutput(
        iterations=iterations, session_load_ms=measured.session_creation_ms, profile_events=events, inputs={},
        runner_pid=None, max_rss_mb=(measured.peak_working_set_bytes / 2**20) if measured.peak_working_set_bytes
        else None, rss_after_load_mb=None, outputs_digest="",
        runtime={"runner": "ort-perf-test", "perf_test": asdict(measured), "profile_skip_runs": 0,
                 "profile_t0": None, "threads": job.threads},
    )
