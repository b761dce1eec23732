"""This machine as a device: onnxruntime in a child process, psutil/sysfs probes on the same clock."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from workbench.core.devices.base import Device, DeviceInfo, ProgressFn, RunnerOutput, TelemetrySource
from workbench.core.runner import CHILD_SCRIPT
from workbench.core.runner.drive import finish_output, pump_lines
from workbench.core.runner.protocol import RunnerProtocolState, job_to_spec
from workbench.core.types import BenchmarkJob, ChannelSpec, DeviceState, IterationEvent


class LocalDevice(Device):
    serial = "local"
    kind = "local"

    def __init__(self, sysfs_root: str = "/", python: str = sys.executable) -> None:
        self.sysfs_root = sysfs_root
        self.python = python

    def state(self) -> DeviceState:
        return DeviceState.DEVICE

    def info(self) -> DeviceInfo:
        from workbench.core.devices.local_info import local_device_info

        return local_device_info(self.sysfs_root)

    def clock(self) -> float:
        return time.monotonic()  # CLOCK_MONOTONIC: the child's timestamps use the same system-wide clock

    def prepare(self, model: Path, progress: ProgressFn | None = None) -> str:
        if progress:
            progress(1, 1)
        return str(Path(model).resolve())

    def telemetry(self, rate_hz: float) -> TelemetrySource:
        from workbench.core.telemetry.local_probes import local_probes
        from workbench.core.telemetry.sampler import ProbeSampler

        return ProbeSampler(local_probes(self.sysfs_root), rate_hz, clock=self.clock)

    def channel_specs(self) -> list[ChannelSpec]:
        """The probes' channels: a ProbeSampler discovers them without starting its thread."""
        return self.telemetry(1.0).channels()

    def run(
        self,
        job: BenchmarkJob,
        device_model_path: str,
        on_iteration: Callable[[IterationEvent], None],
        on_pid: Callable[[int], None],
        cancel: threading.Event,
    ) -> RunnerOutput:
        with tempfile.TemporaryDirectory(prefix="wb-run-") as work:
            spec = job_to_spec(job.to_json(), device_model_path, work)
            spec_path = Path(work) / "job.json"
            spec_path.write_text(json.dumps(spec))
            state = RunnerProtocolState(on_iteration=on_iteration, on_pid=on_pid)
            returncode, stderr_tail = _drive_child([self.python, str(CHILD_SCRIPT), str(spec_path)], state, cancel)
            return finish_output(state, returncode, stderr_tail, job)


def _drive_child(argv: list[str], state: RunnerProtocolState, cancel: threading.Event) -> tuple[int, str]:
    """Run the child, feed its stdout lines to `state` as they come, kill it on cancel."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    stderr_lines: list[str] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                          start_new_session=True, env=env) as proc:  # closes both pipes, reaps the child

        def pump_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                stderr_lines.append(line.rstrip())
                del stderr_lines[:-40]

        err_thread = threading.Thread(target=pump_stderr, daemon=True)
        err_thread.start()
        assert proc.stdout is not None
        pump_lines(proc.stdout, state, cancel, lambda: _kill(proc))
        proc.wait()
        err_thread.join(timeout=2)
    return proc.returncode, "\n".join(stderr_lines[-8:])


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=2)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
