"""AdbDevice against the test phone over the real wire protocol, directly and through Debian's adb server."""
from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.adb_device.conftest import Target, wait_gone
from workbench.core.adb.device import MODELS_DIR, AdbDevice, file_sha256
from workbench.core.benchmark import run_benchmark
from workbench.core.errors import RunCancelled, RunFailed
from workbench.core.events import Iteration
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, DeviceState, IterationEvent, RunStatus

SMALL = {"image": [1, 3, 64, 64]}


def _job(model: Path, **kw: object) -> BenchmarkJob:
    base: dict = dict(model_path=model, warmup=1, runs=4, shapes=SMALL, telemetry_hz=20)
    base.update(kw)
    return BenchmarkJob(**base)


def test_listed_with_state_via_and_model(phone, target: Target) -> None:
    peer, dev = phone
    assert isinstance(dev, AdbDevice) and dev.kind == "adb"
    assert dev.state() is DeviceState.DEVICE
    assert dev.via == ("server" if target.kind == "server" else "tcp")
    assert "Pixel" in dev.detail


def test_info_sections_from_one_round_trip(phone) -> None:
    _peer, dev = phone
    info = dev.info()
    d = info.sections["device"]
    assert (d["model"], d["manufacturer"], d["abi"], d["os_release"], d["android_sdk"]) == (
        "Pixel 6", "Google", "arm64-v8a", "13", 33)
    assert d["soc"] == "Google Tensor"
    assert info.sections["memory"]["total_mb"] > 0
    probes = info.sections["probes"]
    assert probes["cpu_load"]["available"] and probes["thermal_status"]["available"]
    # this VM has no cpufreq / thermal zones / battery sysfs: reported as absent, not as zeros
    assert any(a.startswith("cpufreq:") for a in info.absent)
    assert info.sections["battery"]["level"] == 78  # from dumpsys battery
    assert info.fingerprint()["kind"] == "adb"


def test_clock_is_device_uptime(phone) -> None:
    _peer, dev = phone
    with open("/proc/uptime") as f:  # the "device" is this machine
        host = float(f.read().split()[0])
    assert abs(dev.clock() - host) < 5.0


def test_prepare_pushes_once_by_sha256(phone, demo_cnn: Path) -> None:
    peer, dev = phone
    progress: list[tuple[float, float | None]] = []
    remote = dev.prepare(demo_cnn, lambda done, total: progress.append((done, total)))
    assert remote == f"{MODELS_DIR}/{file_sha256(demo_cnn)}.onnx"
    on_peer = peer.sandbox.root / remote.lstrip("/")
    before = on_peer.stat()
    assert dev.pushes == 1 and progress and progress[-1][0] == demo_cnn.stat().st_size
    assert file_sha256(on_peer) == file_sha256(demo_cnn)
    assert dev.prepare(demo_cnn) == remote
    after = on_peer.stat()
    assert dev.pushes == 1 and (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not list(on_peer.parent.glob("*.part"))


def test_injection_named_model_creates_nothing(phone, demo_cnn: Path, tmp_path: Path) -> None:
    peer, dev = phone
    evil = tmp_path / "a; touch PWNED.onnx"
    shutil.copy(demo_cnn, evil)
    dev.prepare(evil)
    res = run_benchmark(dev, _job(evil, runs=1, warmup=0), RunStore(tmp_path / "ws"), lambda ev: None)
    assert res.status is RunStatus.DONE, res.error
    assert list(peer.sandbox.root.rglob("PWNED*")) == [] and not Path("PWNED.onnx").exists()


def test_profile_with_layers_and_telemetry_into_the_store(phone, demo_cnn: Path, tmp_path: Path) -> None:
    _peer, dev = phone
    store = RunStore(tmp_path / "ws")
    live: list[float] = []
    res = run_benchmark(dev, _job(demo_cnn, layers=True, layer_runs=2), store,
                        lambda ev: live.append(time.monotonic()) if isinstance(ev, Iteration) else None)
    assert res.status is RunStatus.DONE, res.error
    assert res.latency is not None and res.latency.count == 4
    assert res.layers and res.profiled is not None and res.profiled.runs == 2
    assert {lt.op_type for lt in res.layers} >= {"Conv"}
    its = store.iterations(res.run_id)
    assert [it.phase for it in its].count("measure") == 4 and len(live) == len(its)
    keys = {c.key for c in store.channels(res.run_id)}
    assert {"cpu.load.all", "mem.runner.rss", "thermal.status"} <= keys
    samples = list(store.iter_samples(res.run_id))
    assert samples
    # runner and sampler share the device clock (CLOCK_BOOTTIME = /proc/uptime)
    assert samples[0].t - 5 < its[0].t_start < samples[-1].t + 5
    assert res.memory.peak_rss_mb and res.memory.peak_rss_mb > 10


def test_missing_python_is_one_clear_error(phone, demo_cnn: Path) -> None:
    peer, dev = phone
    remote = dev.prepare(demo_cnn)
    (peer.sandbox.bin / "python3").unlink()
    (peer.sandbox.bin / "python3").symlink_to("/nonexistent/python3")  # PATH lookup now fails
    with pytest.raises(RunFailed, match="python3 with onnxruntime not found on .*use the ort-perf-test runner"):
        dev.run(_job(demo_cnn), remote, lambda it: None, lambda pid: None, threading.Event())
    if shutil.which("python3", path="/usr/bin") and os.system("/usr/bin/python3 -c 'import onnxruntime' 2>/dev/null"):
        (peer.sandbox.bin / "python3").unlink()
        (peer.sandbox.bin / "python3").symlink_to("/usr/bin/python3")  # a python3 without onnxruntime
        with pytest.raises(RunFailed, match="python3 with onnxruntime not found.*No module named"):
            dev.run(_job(demo_cnn), remote, lambda it: None, lambda pid: None, threading.Event())


def _cancel_at_first_measured_iteration(dev, demo_cnn: Path) -> int:
    """Start a long run, cancel it as soon as it measures, wait until the runner is gone; its pid."""
    cancel = threading.Event()
    pids: list[int] = []

    def on_iter(it: IterationEvent) -> None:
        if it.phase == "measure":
            cancel.set()

    with pytest.raises(RunCancelled):
        dev.run(_job(demo_cnn, runs=100000), dev.prepare(demo_cnn), on_iter, pids.append, cancel)
    assert len(pids) == 1
    wait_gone(pids[0])
    return pids[0]


def test_cancel_closes_the_stream_and_kills_the_runner(phone, demo_cnn: Path) -> None:
    _peer, dev = phone
    _cancel_at_first_measured_iteration(dev, demo_cnn)
    assert dev.link().shell("echo ok").stdout == "ok\n"


def test_cancel_kills_a_runner_that_ignores_sighup(phone, demo_cnn: Path) -> None:
    """adbd only SIGHUPs the shell's pid when a stream closes; a runner that ignores SIGHUP must still
    end by our explicit kill (SIGKILL via the pid file), not linger until a write fails."""
    peer, dev = phone
    wrapper = peer.sandbox.bin / "python3"
    wrapper.write_text(wrapper.read_text().replace("exec ", "trap '' HUP\nexec ", 1))  # SIG_IGN survives exec
    pid = _cancel_at_first_measured_iteration(dev, demo_cnn)
    runner = [s for s in peer.sessions if s.proc is not None and s.proc.pid == pid]
    assert len(runner) == 1 and runner[0].hung_up
    assert runner[0].proc.wait(timeout=10) == -signal.SIGKILL  # not SIGHUP, not a broken pipe


def test_clean_removes_only_the_workbench_dir(phone, demo_cnn: Path) -> None:
    peer, dev = phone
    keep = peer.sandbox.root / "data/local/tmp/keep.txt"
    keep.write_text("user file")
    dev.prepare(demo_cnn)
    dev.clean()
    assert not (peer.sandbox.root / "data/local/tmp/workbench").exists() and keep.read_text() == "user file"
