"""`AdbTelemetry`: the on-device sampler loop in ONE long-lived shell, its lines parsed on the host.

The benchmark needs the channel list before it starts the run, so `channels()` starts the stream and
reads the sampler's header (it lists exactly what this device lets the shell user read); `start()` then
consumes ticks in a thread. Because `channels()` leaves the loop running, whoever calls it must `stop()`
the source; to learn the channels alone use `AdbDevice.channel_specs()`, which does. The runner's memory is sampled through the pid file the runner writes:
both run with the run directory (`RUN_DIR`) as their working directory and name the file relative to it
(`PID_FILE_NAME`), so the two agree by construction wherever the device mounts it, and `watch_pid`
has nothing to do. A dropped link
ends the thread quietly (the benchmark learns about the drop from the runner's stream) and `stop()`
still returns at once.
"""
from __future__ import annotations

import hashlib
import os
import shlex
import tempfile
import threading
import time
from typing import Callable

from workbench.core.adb.link import AdbLink, LineStream
from workbench.core.adb.sampler_script import DEFAULT_PID_FILE, SamplerConfig, build_sampler_script
from workbench.core.adb.telemetry_lines import SamplerLineParser
from workbench.core.devices.base import TelemetrySource
from workbench.core.errors import DeviceError
from workbench.core.types import ChannelSpec, Sample

WORK_DIR = "/data/local/tmp/workbench"
RUN_DIR = f"{WORK_DIR}/run"
PID_FILE_NAME = "runner.pid"
assert DEFAULT_PID_FILE == f"{RUN_DIR}/{PID_FILE_NAME}"  # the sampler's documented default is this file
HEADER_TIMEOUT_S = 15.0


def push_text(link: AdbLink, text: str, remote: str) -> None:
    """Write `text` to a remote file through sync (no shell quoting involved)."""
    fd, tmp = tempfile.mkstemp(prefix="wb-", suffix=".txt")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        link.push(tmp, remote)
    finally:
        os.unlink(tmp)


class AdbTelemetry(TelemetrySource):
    """Sampler stream of one device; a TelemetrySource like the local ProbeSampler."""

    def __init__(self, link: AdbLink, rate_hz: float, run_dir: str = RUN_DIR, dumpsys: str = "dumpsys",
                 root: str = "/") -> None:
        self.link = link
        self.run_dir = run_dir
        self.cfg = SamplerConfig(hz=rate_hz, pid_file=PID_FILE_NAME, dumpsys=dumpsys, root=root)
        self.parser = SamplerLineParser()
        self.error: str | None = None  # why sampling ended early (link dropped)
        self.samples = 0
        self._stream: LineStream | None = None
        self._lines = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def _start_stream(self) -> None:
        script = build_sampler_script(self.cfg)
        name = hashlib.sha256(script.encode()).hexdigest()[:12]
        remote = f"{WORK_DIR}/bin/sampler-{name}.sh"
        if not self.link.stat(remote).exists:
            push_text(self.link, script, remote)
        run = shlex.quote(self.run_dir)
        self._stream = self.link.shell_stream(f"mkdir -p {run} && cd {run} && exec sh {shlex.quote(remote)}",
                                              idle_timeout=max(HEADER_TIMEOUT_S, 4.0 / self.cfg.hz))
        self._lines = iter(self._stream)

    def channels(self) -> list[ChannelSpec]:
        if self._stream is None:
            self._start_stream()
            deadline = time.monotonic() + HEADER_TIMEOUT_S
            assert self._lines is not None
            while not self.parser.header_complete:
                try:
                    line = next(self._lines)
                except StopIteration:
                    raise DeviceError(self.link.serial, "telemetry sampler ended before its header: "
                                      + (self._stream.stderr.strip() or "no output")) from None
                self.parser.feed(line)
                if time.monotonic() > deadline:
                    self.close_stream()
                    raise DeviceError(self.link.serial, f"telemetry sampler header incomplete after "
                                      f"{HEADER_TIMEOUT_S:g} s")
        return list(self.parser.channels)

    def start(self, on_sample: Callable[[Sample], None]) -> None:
        self.channels()

        def loop() -> None:
            try:
                for line in self._lines:  # type: ignore[union-attr]
                    sample = self.parser.feed(line)
                    if sample is not None:
                        self.samples += 1
                        on_sample(sample)
            except DeviceError as exc:
                if not self._stopping.is_set():
                    self.error = str(exc)

        self._thread = threading.Thread(target=loop, name=f"adb-telemetry-{self.link.serial}", daemon=True)
        self._thread.start()

    def watch_pid(self, pid: int | None) -> None:
        """Nothing to do: the sampler reads the runner's pid file itself (see PID_FILE_NAME)."""

    def close_stream(self) -> None:
        self._stopping.set()
        if self._stream is not None:
            self._stream.close()

    def stop(self) -> None:
        self.close_stream()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def problems(self) -> list[str]:
        return list(self.parser.problems) + ([f"sampling ended early: {self.error}"] if self.error else [])