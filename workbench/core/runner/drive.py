"""Drive a runner's JSON-lines stdout, wherever the process lives, and turn its end into a RunnerOutput.

Shared by the local device (a child process) and adb devices (a remote shell stream): both produce an
iterator of stdout lines and a way to kill the producer. Lines are read in a helper thread so a cancel
is noticed within 0.1 s even while the runner is silent (a long session load on a phone), and an error
of the line source (an unplugged phone: DeviceDisconnected) is re-raised in the caller's thread.
"""
from __future__ import annotations

import json
import queue
import signal
import threading
from typing import Any, Callable, Iterable

from workbench.core.devices.base import RunnerOutput
from workbench.core.errors import RunCancelled, RunFailed
from workbench.core.runner.protocol import RunnerProtocolState
from workbench.core.types import BenchmarkJob

_END = object()


def pump_lines(lines: Iterable[str], state: RunnerProtocolState, cancel: threading.Event,
               kill: Callable[[], None]) -> None:
    """Feed every line to `state` as it arrives until the source ends; cancel -> kill() + RunCancelled."""
    q: queue.Queue[Any] = queue.Queue()

    def reader() -> None:
        try:
            for line in lines:
                q.put(line)
            q.put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            q.put(exc)

    t = threading.Thread(target=reader, name="runner-lines", daemon=True)
    t.start()
    try:
        while True:
            if cancel.is_set():
                raise RunCancelled("run cancelled")
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            state.feed(item)
    except BaseException:
        kill()
        t.join(timeout=5)
        raise
    t.join(timeout=5)


def exit_reason(returncode: int | None) -> str:
    """Words for a runner's non-zero exit (signals get a likely cause)."""
    if returncode is None:
        return "runner ended without reporting an exit status"
    if returncode < 0 or returncode > 128:
        num = -returncode if returncode < 0 else returncode - 128
        try:
            sig = signal.Signals(num).name
        except ValueError:
            sig = f"signal {num}"
        return f"runner process killed by {sig}" + (" (out of memory?)" if sig == "SIGKILL" else
                                                    " (crash inside onnxruntime)")
    return f"runner exited with code {returncode}"


def finish_output(state: RunnerProtocolState, returncode: int | None, stderr_tail: str, job: BenchmarkJob,
                  load_profile: Callable[[str], list[dict[str, Any]]] | None = None) -> RunnerOutput:
    """Turn the runner's end into a RunnerOutput, or a RunFailed with the clearest reason we have.

    `returncode` None means "not reported" (old adbd): then the runner's own `done` line decides.
    `load_profile(path)` reads the profile the runner named (a local open by default; adb pulls it).
    """
    if state.error:
        raise RunFailed(f"{job.model_path}: {state.error}")
    if (returncode not in (0, None)) or state.done is None:
        detail = stderr_tail.splitlines()[-1] if stderr_tail else (state.noise[-1] if state.noise else "")
        raise RunFailed(f"{job.model_path}: {exit_reason(returncode)}" + (f": {detail}" if detail else ""))
    events: list = []
    if state.profile_streamed:
        events = state.profile_events  # already decoded line by line, nothing big to parse here
    elif state.profile_path:  # an older runner (a phone with a cached child) or a partial stream
        if load_profile is None:
            with open(state.profile_path) as f:
                events = json.load(f)
        else:
            events = load_profile(state.profile_path)
    return RunnerOutput(
        iterations=state.iterations,
        session_load_ms=state.load_ms,
        profile_events=events,
        inputs=state.inputs,
        runner_pid=state.pid,
        max_rss_mb=state.done.get("maxrss_mb"),
        rss_after_load_mb=state.rss_after_load_mb,
        outputs_digest=state.done.get("digest", ""),
        runtime=dict(state.done.get("runtime", {}), profile_skip_runs=state.profile_skip_runs,
                     profile_t0=state.profile_t0),
    )
