"""ort-perf-test runner pieces that can be checked here (no Android binary runs on this VM): config
validation, command assembly, free-dimension mapping, summary and profile parsing of captured output."""
from __future__ import annotations

import shlex
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort

import pytest

from tests.adb_device.conftest import wait_gone
from tests.adb_parsers.adbp_captures import PERF_TEST_ANDROID
from workbench.core.adb.perf_test import (
    PerfTestConfig,
    duration_seconds,
    free_dim_overrides,
    load_config,
    perf_test_command,
    read_pass_lines,
    run_perf_test,
    set_perf_test,
    summary_iterations,
)
from workbench.core.adb.android_perftest import parse_perf_test
from workbench.core.errors import InputSpecError, RunCancelled, RunFailed, WorkbenchError
from workbench.core.runner.ort_profile import parse_profile
from workbench.core.types import BenchmarkJob


def test_config_round_trip_and_errors_name_the_file(tmp_path: Path) -> None:
    cfg_file = tmp_path / "perf_test.json"
    with pytest.raises(RunFailed, match=r"perf_test.json: no onnxruntime_perf_test configured"):
        load_config(cfg_file)
    elf = tmp_path / "onnxruntime_perf_test"
    elf.write_bytes(b"\x7fELF" + b"\0" * 60)
    lib = tmp_path / "libonnxruntime.so"
    lib.write_bytes(b"\x7fELF" + b"\0" * 60)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(WorkbenchError, match=r"notes.txt: not an ELF file"):
        set_perf_test(elf, text, cfg_file)
    with pytest.raises(WorkbenchError, match=r"missing: no such file"):
        set_perf_test(tmp_path / "missing", lib, cfg_file)
    set_perf_test(elf, lib, cfg_file)
    cfg = load_config(cfg_file)
    assert (cfg.binary, cfg.library) == (elf.resolve(), lib.resolve())
    cfg_file.write_text("{broken")
    with pytest.raises(WorkbenchError, match=r"perf_test.json: not a perf_test config"):
        load_config(cfg_file)


def test_command_assembly_quotes_and_maps_job_knobs(demo_cnn: Path) -> None:
    job = BenchmarkJob(model_path=demo_cnn, threads=2, spin=False, shapes={"image": [1, 3, 64, 96]})
    dims = free_dim_overrides(demo_cnn, job.shapes)
    assert dims == {"batch": 1, "height": 64, "width": 96}
    cmd = perf_test_command("/data/local/tmp/workbench/bin/p t/onnxruntime_perf_test",
                            "/data/local/tmp/workbench/bin/p t", "../models/x; rm -rf y.onnx", job, 30, dims,
                            profile=True, taskset="taskset f ")
    env, _, rest = cmd.partition(" exec ")
    assert env == "LD_LIBRARY_PATH='/data/local/tmp/workbench/bin/p t'"
    argv = shlex.split(rest)
    assert argv[:2] == ["taskset", "f"]
    argv = argv[2:]
    assert argv[0].endswith("onnxruntime_perf_test") and argv[-1] == "../models/x; rm -rf y.onnx"
    pairs = dict(zip(argv[1:-1:], argv[2:-1]))
    assert (pairs["-e"], pairs["-m"], pairs["-r"], pairs["-x"], pairs["-o"], pairs["-p"]) == (
        "cpu", "times", "30", "2", "99", "wbprof")
    assert pairs["-C"] == "session.intra_op.allow_spinning|0" and "-I" in argv
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-f"] == ["batch:1", "height:64", "width:96"]
    with pytest.raises(RunFailed, match="rank 4, got 2"):
        free_dim_overrides(demo_cnn, {"image": [1, 3]})


def test_captured_android_summary_and_profile_parse() -> None:
    s = parse_perf_test(PERF_TEST_ANDROID)
    assert s.average_ms == pytest.approx(62.2935) and s.p50_ms == pytest.approx(60.3562)
    assert s.requests == 100 and s.peak_working_set_bytes == 114634752
    # a profile as ORT writes it (the format perf_test -p produces): two runs of two nodes
    events = []
    for run in range(2):
        base = 1000 + run * 10000
        events.append({"cat": "Session", "name": "model_run", "ts": base, "dur": 5000, "args": {}})
        for j, (name, op) in enumerate((("conv1", "Conv"), ("relu1", "Relu"))):
            events.append({"cat": "Node", "name": f"{name}_kernel_time", "ts": base + 10 + j * 2000,
                           "dur": 1500 - j * 1000, "args": {"op_name": op, "provider": "CPUExecutionProvider"}})
    its = summary_iterations(events, 100.0)
    assert [(i.phase, i.latency_ms) for i in its] == [("profiled", 5.0), ("profiled", 5.0)]
    parsed = parse_profile(events, skip_runs=0)
    assert {lt.name: lt.count for lt in parsed.layers} == {"conv1": 2, "relu1": 2}


def test_cancel_kills_a_silent_perf_test_that_outlives_sighup(phone, demo_cnn: Path, tmp_path: Path) -> None:
    """perf_test prints nothing until its summary, so after adbd's SIGHUP (shell pid only) a copy that
    ignores it would never even hit EPIPE: only the explicit kill through runner.pid ends it. The
    stand-in is the third-party binary's behaviour (silent, SIGHUP ignored), not our code."""
    _peer, dev = phone
    fake = tmp_path / "onnxruntime_perf_test"
    fake.write_text("#!/bin/sh\ntrap '' HUP\nexec sleep 600\n")  # SIG_IGN for HUP survives the exec
    lib = tmp_path / "libonnxruntime.so"
    lib.write_bytes(b"\x7fELF" + b"\0" * 60)
    cancel = threading.Event()
    pids: list[int] = []

    def on_pid(pid: int) -> None:
        pids.append(pid)
        cancel.set()

    job = BenchmarkJob(model_path=demo_cnn, runs=5, runner="ort-perf-test")
    with pytest.raises(RunCancelled):
        run_perf_test(dev, job, dev.prepare(demo_cnn), lambda it: None, on_pid, cancel,
                      config=PerfTestConfig(fake, lib))
    assert len(pids) == 1
    wait_gone(pids[0])


def test_seconds_map_to_duration_mode_or_a_one_line_error(demo_cnn: Path) -> None:
    job = BenchmarkJob(model_path=demo_cnn, runs=50, seconds=3)
    assert duration_seconds(job) == 3
    argv = shlex.split(perf_test_command("/b/onnxruntime_perf_test", "/b", "m.onnx", job, 50, {}, profile=False,
                                         seconds=duration_seconds(job)).partition(" exec ")[2])
    pairs = dict(zip(argv[1:-1], argv[2:-1]))
    assert (pairs["-m"], pairs["-t"]) == ("duration", "3") and "-r" not in argv
    assert duration_seconds(BenchmarkJob(model_path=demo_cnn)) is None
    for bad in (2.5, 0.5):
        with pytest.raises(InputSpecError, match=rf"mobilenet_se.onnx: --seconds {bad:g}: .*whole seconds") as err:
            duration_seconds(BenchmarkJob(model_path=demo_cnn, seconds=bad))
        assert "\n" not in str(err.value)


def test_captured_pass_output_puts_profiled_runs_on_the_device_clock() -> None:
    """What the shell prints before perf_test (pid, /proc/uptime) + a captured Android summary."""
    pids: list[int] = []
    text, clock = read_pass_lines(["wb-pid 4242", "wb-clock 81234.56", *PERF_TEST_ANDROID.splitlines()], pids.append)
    assert pids == [4242] and clock == pytest.approx(81234.56)
    assert "wb-" not in "\n".join(text) and parse_perf_test("\n".join(text)).average_ms == pytest.approx(62.2935)
    events = [{"cat": "Session", "name": "model_run", "ts": 250_000 + k * 10_000, "dur": 5000} for k in range(3)]
    its = summary_iterations(events, clock)
    assert [round(i.t_start, 3) for i in its] == [81234.81, 81234.82, 81234.83]


def _ort_profile(model: Path, tmp: Path, runs: int) -> Path:
    """A real ONNX Runtime profile (the format perf_test -p writes), made with this machine's onnxruntime."""
    opts = ort.SessionOptions()
    opts.enable_profiling = True
    opts.profile_file_prefix = str(tmp / "real")
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    feed = {i.name: np.zeros([d if isinstance(d, int) else s for d, s in zip(i.shape, (1, 3, 32, 32))],
                             dtype=np.float32) for i in sess.get_inputs()}
    for _ in range(runs):
        sess.run(None, feed)
    return Path(sess.end_profiling())


def test_profiled_pass_on_a_device_lands_between_two_clock_readings(phone, demo_cnn: Path, tmp_path: Path) -> None:
    """Through the real shell on the test phone: the head reads /proc/uptime, a stand-in perf_test prints
    the captured summary and leaves a real ORT profile; iterations and profile_t0 are device-clock times."""
    peer, dev = phone
    profile = _ort_profile(demo_cnn, tmp_path, runs=3)
    summary = tmp_path / "summary.txt"
    summary.write_text(PERF_TEST_ANDROID)
    fake = tmp_path / "onnxruntime_perf_test"
    fake.write_text("#!/bin/sh\nprintf '%s\\n' \"$*\" >> args.txt\n"
                    f"case \" $* \" in *' -p '*) cp {shlex.quote(str(profile))} wbprof_1.json ;; esac\n"
                    f"cat {shlex.quote(str(summary))}\n")
    lib = tmp_path / "libonnxruntime.so"
    lib.write_bytes(b"\x7fELF" + b"\0" * 60)
    job = BenchmarkJob(model_path=demo_cnn, runs=50, seconds=2, layers=True, layer_runs=3, runner="ort-perf-test")
    remote = dev.prepare(demo_cnn)
    got: list = []
    before = dev.clock()
    out = run_perf_test(dev, job, remote, got.append, lambda pid: None, threading.Event(), PerfTestConfig(fake, lib))
    after = dev.clock()
    assert len(out.iterations) == 3 and got == out.iterations
    offsets_s = [e["ts"] / 1e6 for e in out.profile_events if e.get("name") == "model_run"]
    started = out.iterations[0].t_start - offsets_s[0]  # the device clock at perf_test's start
    assert before - 0.02 <= started <= after  # /proc/uptime ticks in 10 ms
    assert [it.t_start - started for it in out.iterations] == pytest.approx(offsets_s, abs=1e-6)
    assert out.runtime["profile_t0"] == pytest.approx(out.iterations[0].t_start)
    assert out.runtime["perf_test"]["average_ms"] == pytest.approx(62.2935) and out.runtime["mode"] == "duration 2 s"
    args = (peer.sandbox.root / "data/local/tmp/workbench/run/args.txt").read_text().splitlines()
    assert "-m duration -t 2" in args[0] and "-p" not in args[0].split()
    assert "-m times -r 3" in args[1] and "-p wbprof" in args[1]
