"""`AdbDevice`: a phone (or any adbd target) behind the same Device contract as this machine.

Everything the device holds lives under /data/local/tmp/workbench (models by sha256, runner scripts,
the sampler, the run directory) so `clean()` can remove exactly that. Every path that enters shell
text is `shlex.quote`d; names that come from the user (model files, input names) never reach the
device: models are stored as `<sha256>.onnx`, inputs as `inputs/<n>.npy`.

The link is opened lazily and reopened after a drop, so an unplugged and replugged (or reconnected)
phone works again without restarting the workbench.
"""
from __future__ import annotations

import hashlib
import json
import shlex
import tempfile
import threading
from pathlib import Path
from typing import Callable

from workbench.core.adb import discovery
from workbench.core.adb.info import collect_info
from workbench.core.adb.link import AdbLink
from workbench.core.adb.open import STATE_HELP, open_link
from workbench.core.adb.server import ServerClient
from workbench.core.adb.telemetry import PID_FILE_NAME, RUN_DIR, WORK_DIR, AdbTelemetry, push_text
from workbench.core.devices.base import Device, DeviceInfo, ProgressFn, RunnerOutput, TelemetrySource
from workbench.core.errors import DeviceDisconnected, DeviceError, RunFailed
from workbench.core.runner import CHILD_SCRIPT
from workbench.core.runner.drive import finish_output, pump_lines
from workbench.core.runner.protocol import RunnerProtocolState, job_to_spec
from workbench.core.types import BenchmarkJob, ChannelSpec, DeviceState, IterationEvent

MODELS_DIR = f"{WORK_DIR}/models"
BIN_DIR = f"{WORK_DIR}/bin"
NO_PYTHON = "python3 with onnxruntime not found on {serial}: use the ort-perf-test runner for Android"
_SHA_CMD = ("f={f}; if [ ! -f \"$f\" ]; then echo MISSING; "
            "elif command -v sha256sum >/dev/null 2>&1; then sha256sum \"$f\"; "
            "elif toybox sha256sum \"$f\" 2>/dev/null; then :; else echo NOSHA; fi")

LinkOpener = Callable[[], AdbLink]
KILL_TIMEOUT_S = 10.0


def kill_runner(link: AdbLink) -> None:
    """SIGKILL the runner named by the run directory's pid file, before its stream is closed.

    Closing a shell stream is not enough on a phone: adbd only sends SIGHUP to the shell's pid and
    closes its pipes (adb/daemon/shell_service.cpp), so a runner that ignores SIGHUP, or a silent one
    (perf_test prints nothing until its summary), keeps burning CPU and heating the phone for the
    runs measured after it. Killing first, while the stream is still open, also means the runner
    never sees EPIPE halfway. Best effort: a dropped link has already taken the runner with it.
    """
    run, pid = shlex.quote(RUN_DIR), shlex.quote(PID_FILE_NAME)
    cmd = f'cd {run} 2>/dev/null && [ -s {pid} ] && kill -9 "$(cat {pid})" 2>/dev/null; rm -f {run}/{pid}'
    try:
        link.shell(cmd, timeout=KILL_TIMEOUT_S)
    except DeviceError:
        pass


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class AdbDevice(Device):
    """One adb target. `via` is how it is reached ("server", "tcp" or "usb"); `detail` is for listings."""

    kind = "adb"

    def __init__(self, serial: str, via: str, opener: LinkOpener, state: DeviceState = DeviceState.UNKNOWN,
                 detail: str = "", link: AdbLink | None = None) -> None:
        self.serial = serial
        self.via = via
        self.detail = detail
        self._opener = opener
        self._listed_state = state
        self._link_obj = link
        self._lock = threading.Lock()
        self.notes: list[str] = []  # things the user should know (e.g. no sha256 tool: size+name check)
        self.pushes = 0  # files actually pushed by this object (a skipped prepare pushes nothing)
        self._sha_tool: bool | None = None
        self._channel_cache: tuple[AdbLink, list[ChannelSpec]] | None = None

    # ---- link life cycle
    def link(self) -> AdbLink:
        """The open link, reopened if the previous one dropped."""
        with self._lock:
            cur = self._link_obj
            if cur is not None and getattr(cur, "via", "") == "direct" and cur.state() is not DeviceState.DEVICE:
                cur.close()
                cur = None
            if cur is None:
                cur = self._opener()
                self._link_obj = cur
            return cur

    def close(self) -> None:
        with self._lock:
            if self._link_obj is not None:
                self._link_obj.close()
                self._link_obj = None

    # ---- Device
    def state(self) -> DeviceState:
        cur = self._link_obj
        if cur is not None:
            return cur.state()
        return self._listed_state

    def info(self) -> DeviceInfo:
        report = collect_info(self.link())
        if self.detail and "model" not in report.sections.get("device", {}):
            report.sections["device"]["model"] = self.detail
        return report

    def clock(self) -> float:
        """Device seconds since boot (/proc/uptime = CLOCK_BOOTTIME, the sampler's and runner's clock)."""
        out = self.link().shell("cat /proc/uptime", timeout=10).stdout.split()
        try:
            return float(out[0])
        except (IndexError, ValueError):
            raise DeviceError(self.serial, f"/proc/uptime unreadable: {' '.join(out)[:60]!r}") from None

    def telemetry(self, rate_hz: float) -> TelemetrySource:
        # One link for everything: DirectLink's single reader and single writer thread multiplex the
        # sampler stream with the runner's stream, shells and push/pull (tests/adb/test_direct_concurrency),
        # and USB could not be opened twice anyway.
        return AdbTelemetry(self.link(), rate_hz, run_dir=RUN_DIR)

    def channel_specs(self) -> list[ChannelSpec]:
        """The sampler's channels, read once per link: start the loop, parse its header, stop it.

        The header lists what this device lets the shell user read, which does not change while the
        link is up; a reopened link (replugged phone) reads it again. Nothing keeps running on the
        device afterwards, so selecting a device in the GUI leaves no loop distorting later readings.
        """
        link = self.link()
        cached = self._channel_cache
        if cached is not None and cached[0] is link:
            return list(cached[1])
        source = AdbTelemetry(link, 10.0, run_dir=RUN_DIR)
        try:
            specs = source.channels()
        finally:
            source.stop()
        self._channel_cache = (link, specs)
        return list(specs)

    def clean(self) -> None:
        """Remove everything the workbench put on the device (/data/local/tmp/workbench, nothing else)."""
        res = self.link().shell(f"rm -rf {shlex.quote(WORK_DIR)}", timeout=60)
        if not res.ok:
            raise DeviceError(self.serial, f"rm -rf {WORK_DIR} failed: {(res.stderr or res.stdout).strip()}")

    # ---- files
    def remote_sha256(self, remote: str) -> tuple[bool, str | None]:
        """(exists, sha256 or None when the device has no sha256 tool) in one round trip."""
        out = self.link().shell(_SHA_CMD.format(f=shlex.quote(remote)), timeout=120).stdout.strip()
        if out == "MISSING":
            return False, None
        if out.endswith("NOSHA"):
            self._sha_tool = False
            return True, None
        digest = out.split()[0] if out.split() else ""
        self._sha_tool = True
        return True, digest if len(digest) == 64 else None

    def ensure_file(self, local: Path, remote: str, sha: str, progress: ProgressFn | None = None,
                    mode: int = 0o644) -> bool:
        """Push `local` to `remote` unless it is already there; True if it pushed. Temp name, then mv."""
        link = self.link()
        size = local.stat().st_size
        exists, remote_sha = self.remote_sha256(remote)
        if exists:
            if remote_sha == sha:
                return False
            if remote_sha is None and link.stat(remote).size == size:
                note = (f"{self.serial} has no sha256sum: trusted {remote} by name (its sha256) and size only")
                if note not in self.notes:
                    self.notes.append(note)
                return False
        tmp = f"{remote}.part"
        link.push(local, tmp, progress, mode)
        self.pushes += 1
        res = link.shell(f"mv -f {shlex.quote(tmp)} {shlex.quote(remote)}", timeout=60)
        if not res.ok:
            raise DeviceError(self.serial, f"mv {tmp} {remote} failed: {(res.stderr or res.stdout).strip()}")
        return True

    def prepare(self, model: Path, progress: ProgressFn | None = None) -> str:
        model = Path(model)
        if not model.is_file():
            raise DeviceError(self.serial, f"{model}: no such model file")
        sha = file_sha256(model)
        remote = f"{MODELS_DIR}/{sha}.onnx"
        if not self.ensure_file(model, remote, sha, progress) and progress:
            size = model.stat().st_size
            progress(size, size)
        return remote

    # ---- runners
    def run(self, job: BenchmarkJob, device_model_path: str, on_iteration: Callable[[IterationEvent], None],
            on_pid: Callable[[int], None], cancel: threading.Event) -> RunnerOutput:
        if job.runner == "ort-perf-test":
            from workbench.core.adb.perf_test import run_perf_test

            return run_perf_test(self, job, device_model_path, on_iteration, on_pid, cancel)
        if job.runner != "ort-python":
            raise RunFailed(f"{job.model_path}: runner {job.runner!r} does not run on adb devices "
                            "(use ort-python or ort-perf-test)")
        return self._run_ort_python(job, device_model_path, on_iteration, on_pid, cancel)

    def taskset_prefix(self, affinity: list[int] | None) -> str:
        """`taskset <hex mask> ` when the job pins CPUs and the device has taskset, else ''."""
        if not affinity:
            return ""
        res = self.link().shell("command -v taskset >/dev/null 2>&1 && echo yes", timeout=10)
        if res.stdout.strip() != "yes":
            note = f"{self.serial} has no taskset: affinity applied by the runner itself only"
            if note not in self.notes:
                self.notes.append(note)
            return ""
        mask = sum(1 << c for c in affinity)
        return f"taskset {mask:x} "

    def prepare_run_dir(self) -> None:
        """An empty run directory (the sampler may be reading it: files are removed, the dir stays)."""
        run = shlex.quote(RUN_DIR)
        self.link().shell(f"mkdir -p {run}/inputs && rm -f {run}/{PID_FILE_NAME} {run}/*.json {run}/inputs/*",
                          timeout=30)

    def _run_ort_python(self, job: BenchmarkJob, model: str, on_iteration: Callable[[IterationEvent], None],
                        on_pid: Callable[[int], None], cancel: threading.Event) -> RunnerOutput:
        link = self.link()
        child_sha = file_sha256(CHILD_SCRIPT)
        child = f"{BIN_DIR}/ort_child-{child_sha[:16]}.py"
        self.ensure_file(CHILD_SCRIPT, child, child_sha)
        self.prepare_run_dir()
        # The spec names files relative to the run directory (the runner's cwd), so it is valid wherever
        # the device mounts /data/local/tmp; the sampler reads the same relative pid file.
        inputs: dict[str, str] = {}
        for i, (name, path) in enumerate(sorted(job.inputs.items())):
            rel = f"inputs/{i}.npy"
            self.ensure_file(Path(path), f"{RUN_DIR}/{rel}", file_sha256(Path(path)))
            inputs[name] = rel
        model_rel = _relative_to_run_dir(model)
        spec = job_to_spec(job.to_json(), model_rel, ".", pid_file=PID_FILE_NAME, clock="boottime")
        spec["inputs"] = inputs
        push_text(link, json.dumps(spec), f"{RUN_DIR}/job.json")
        prefix = self.taskset_prefix(job.affinity)
        run = shlex.quote(RUN_DIR)
        cmd = (f"cd {run} || exit 97; command -v python3 >/dev/null 2>&1 || "
               f"{{ echo 'wb-runner: python3: not found' >&2; exit 127; }}; "
               f"PYTHONUNBUFFERED=1 exec {prefix}python3 {shlex.quote(child)} job.json")
        state = RunnerProtocolState(on_iteration=on_iteration, on_pid=on_pid)
        stream = link.shell_stream(cmd)

        def stop_runner() -> None:  # cancel, or any failure on our side while the runner still runs
            kill_runner(link)
            stream.close()

        try:
            pump_lines(stream, state, cancel, stop_runner)
        finally:
            stream.close()
        stderr_tail = stream.stderr.strip()
        missing = _missing_python(state, stderr_tail)
        if missing:
            raise RunFailed(f"{NO_PYTHON.format(serial=self.serial)} (device said: {missing})")

        def pull_profile(path: str) -> list:
            remote = f"{RUN_DIR}/{Path(path).name}"  # the runner wrote it in its cwd, the run directory
            with tempfile.TemporaryDirectory(prefix="wb-prof-") as tmp:
                local = Path(tmp) / "profile.json"
                link.pull(remote, local)
                return json.loads(local.read_text())

        try:
            return finish_output(state, stream.exit_code, stderr_tail, job, pull_profile)
        finally:
            try:
                link.shell(f"rm -f {run}/{PID_FILE_NAME}", timeout=10)
            except DeviceError:
                pass


def _relative_to_run_dir(remote: str) -> str:
    if remote.startswith(WORK_DIR + "/"):
        return "../" + remote[len(WORK_DIR) + 1:]
    return remote


def _missing_python(state: RunnerProtocolState, stderr_tail: str) -> str | None:
    """The device's own words when python3 or its onnxruntime/numpy is missing, else None."""
    if state.error and "No module named" in state.error and ("onnxruntime" in state.error or "numpy" in state.error):
        return state.error
    if state.pid is None and state.done is None:
        for line in (stderr_tail.splitlines() + state.noise)[::-1]:
            if "python3" in line and ("not found" in line or "No such file" in line):
                return line.strip()
    return None


# ---------------------------------------------------------------- listing

_POOL: dict[str, AdbDevice] = {}
_POOL_LOCK = threading.Lock()


def _detail(target: discovery.AdbTarget) -> str:
    if target.state is DeviceState.DEVICE:
        return target.details.get("model", "").replace("_", " ") or target.details.get("product", "")
    if target.via == "tcp":
        return ("remembered; reachable, not connected yet" if target.details.get("reachable") == "yes"
                else "remembered; not reachable (phone off, other network, or adbd stopped)")
    return STATE_HELP.get(target.state, target.details.get("note", target.state.value))


def adb_devices(server: ServerClient | None | bool = True, remembered_path: Path | None = None, usb: bool = True,
                key_path: Path | None = None, connect_timeout_s: float = 5.0) -> list[AdbDevice]:
    """Every adb target we can see (server devices in any state, remembered TCP targets, direct USB).

    Never starts or kills an adb server. Reachable remembered TCP targets are connected to (short auth
    timeout) so the list shows their real state and model; the open link is kept for reuse.
    """
    client = ServerClient.discover() if server is True else (server or None)
    found = discovery.discover(server=client if client is not None else False, remembered_path=remembered_path,
                               usb=usb)
    out: list[AdbDevice] = []
    for t in found.targets:
        opener = _opener(t.serial, client, key_path, connect_timeout_s)
        with _POOL_LOCK:
            pooled = _POOL.get(t.serial)
        state, detail, link = t.state, _detail(t), None
        if pooled is not None and pooled.via == t.via and pooled._link_obj is not None:
            link = pooled._link_obj
            if link.state() is not DeviceState.DEVICE:
                link.close()
                link = None
        if t.via == "tcp" and t.details.get("reachable") == "yes" and link is None:
            try:
                link = opener()
            except DeviceDisconnected:
                state, detail = DeviceState.OFFLINE, "remembered; connection refused or dropped"
            except DeviceError as exc:
                state = DeviceState.UNAUTHORIZED if "unauthorized" in exc.problem else DeviceState.OFFLINE
                detail = exc.problem
        if link is not None:
            state = link.state() if t.via != "server" else t.state
            props = getattr(link, "props", {})
            detail = props.get("ro.product.model", "").replace("_", " ") or detail
            if t.via == "tcp" and detail.startswith("remembered"):
                detail = "connected"
        dev = AdbDevice(t.serial, t.via, opener, state, detail, link)
        with _POOL_LOCK:
            _POOL[t.serial] = dev
        out.append(dev)
    return out


def _opener(serial: str, client: ServerClient | None, key_path: Path | None, timeout_s: float) -> LinkOpener:
    def _open() -> AdbLink:
        return open_link(serial, server=client if client is not None else False, key_path=key_path,
                         auth_timeout_s=timeout_s, io_timeout=max(timeout_s, 10.0))
    return _open
