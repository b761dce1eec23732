#!/usr/bin/env python3
"""Run one benchmark job with onnxruntime in its own process and report events as JSON lines.

Why a separate, standalone script: a crash or OOM inside onnxruntime must become a failed run, not a dead
workbench; and the very same file is pushed to Linux boards over ADB and run there with their python3. So
it imports only the standard library, numpy and onnxruntime, and speaks a line protocol on stdout:

    {"ev": "hello", "pid", "ort", "providers"}
    {"ev": "inputs", "inputs": {name: {"shape", "dtype", "source"}}}
    {"ev": "loaded", "ms", "rss_mb"}
    {"ev": "iter", "phase": "warmup|measure|profiled", "i", "t" (monotonic s), "ms"}
    {"ev": "profile", "path", "t0" (monotonic s of the first profiled run)}
    {"ev": "done", "maxrss_mb", "digest", "runtime"}
    {"ev": "error", "message"}

Latency is measured with profiling OFF; per-layer timings come from a second session with profiling ON,
because ORT's profiler adds ~10 us per kernel event and would distort end-to-end latency.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from typing import Any

DEFAULT_DIMS = {"batch": 1, "seq": 16, "spatial": 224, "other": 1}
_SEQ_NAMES = re.compile(r"(seq|sequence|len|length|tokens?|^s$|^t$|time|steps?)", re.I)
_SPATIAL_NAMES = re.compile(r"(height|width|^h$|^w$|size|spatial|rows|cols)", re.I)
_BATCH_NAMES = re.compile(r"(batch|^n$|^b$|unk__)", re.I)


def _boottime() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


# Timestamps use the clock the device's telemetry uses: CLOCK_MONOTONIC locally (same as the host sampler),
# CLOCK_BOOTTIME on adb targets (the sampler reads /proc/uptime, which keeps counting through suspend).
now = time.monotonic


def send(ev: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"ev": ev, **fields}) + "\n")
    sys.stdout.flush()


def rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def guess_dim(dim_name: str, axis: int, rank: int, is_int: bool) -> int:
    """Default for an unnamed or named dynamic axis, by name first, then by position."""
    if dim_name:
        if _BATCH_NAMES.search(dim_name):
            return DEFAULT_DIMS["batch"]
        if _SPATIAL_NAMES.search(dim_name):
            return DEFAULT_DIMS["spatial"]
        if _SEQ_NAMES.search(dim_name):
            return DEFAULT_DIMS["seq"]
    if axis == 0:
        return DEFAULT_DIMS["batch"]
    if rank == 4 and axis >= 2 and not is_int:
        return DEFAULT_DIMS["spatial"]
    if (rank == 2 and axis == 1) or (rank == 3 and axis == 1):
        return DEFAULT_DIMS["seq"]
    return DEFAULT_DIMS["other"]


def resolve_shape(name: str, shape: list, dtype: str, fixed: dict[str, list[int]],
                  named: dict[str, int]) -> list[int]:
    """Concrete shape for one input: user --shape wins; named dims are shared across inputs."""
    if name in fixed:
        user = [int(d) for d in fixed[name]]
        if len(user) != len(shape):
            raise ValueError(f"--shape {name}: model input has rank {len(shape)}, got {len(user)} dims")
        for axis, (want, have) in enumerate(zip(user, shape)):
            if isinstance(have, int) and have > 0 and have != want:
                raise ValueError(f"--shape {name}: axis {axis} is fixed at {have} in the model, got {want}")
            if isinstance(have, str) and have:
                named.setdefault(have, want)
        return user
    out = []
    for axis, dim in enumerate(shape):
        if isinstance(dim, int) and dim > 0:
            out.append(dim)
        elif isinstance(dim, str) and dim in named:
            out.append(named[dim])
        else:
            value = guess_dim(dim if isinstance(dim, str) else "", axis, len(shape), "int" in dtype)
            if isinstance(dim, str) and dim:
                named[dim] = value
            out.append(value)
    return out


def make_input(name: str, dtype: str, shape: list[int], rng, vocab: int):
    """Generated input by dtype and name: images in [0,1], token ids in [0, vocab), masks of ones, zero state."""
    import numpy as np

    lname = name.lower()
    np_dtype = {
        "tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
        "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int8)": np.int8,
        "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_,
    }.get(dtype)
    if np_dtype is None:
        raise ValueError(f"input {name}: cannot generate values of type {dtype}; pass --input {name}=FILE.npy")
    if np_dtype == np.bool_:
        return np.ones(shape, dtype=np.bool_), "ones"
    if "mask" in lname:
        return np.ones(shape, dtype=np_dtype), "ones (mask)"
    if re.search(r"(state|hidden|^h0$|^c0$|^h_|^c_|cache|past)", lname):
        return np.zeros(shape, dtype=np_dtype), "zeros (state)"
    if np.issubdtype(np_dtype, np.integer):
        if "type" in lname or "segment" in lname:
            return np.zeros(shape, dtype=np_dtype), "zeros (segment ids)"
        high = min(vocab, int(np.iinfo(np_dtype).max))
        return rng.integers(0, high, size=shape, dtype=np_dtype), f"token ids in [0,{high})"
    return rng.random(shape, dtype=np.float32).astype(np_dtype), "uniform [0,1)"


def build_inputs(sess, spec: dict[str, Any]):
    import numpy as np

    rng = np.random.default_rng(spec.get("seed", 0))
    meta = sess.get_modelmeta().custom_metadata_map or {}
    try:
        vocab = int(meta.get("vocab_size", 1000))
    except ValueError:
        vocab = 1000
    feeds, described, named = {}, {}, {}
    files = spec.get("inputs", {})
    for inp in sess.get_inputs():
        if inp.name in files:
            arr = np.load(files[inp.name])
            feeds[inp.name] = arr
            described[inp.name] = {"shape": list(arr.shape), "dtype": str(arr.dtype), "source": files[inp.name]}
            continue
        shape = resolve_shape(inp.name, list(inp.shape), inp.type, spec.get("shapes", {}), named)
        arr, how = make_input(inp.name, inp.type, shape, rng, vocab)
        feeds[inp.name] = arr
        described[inp.name] = {"shape": shape, "dtype": str(arr.dtype), "source": f"generated: {how}"}
    unknown = set(spec.get("shapes", {})) | set(files)
    unknown -= {i.name for i in sess.get_inputs()}
    if unknown:
        names = ", ".join(i.name for i in sess.get_inputs())
        raise ValueError(f"no model input named {', '.join(sorted(unknown))} (inputs: {names})")
    return feeds, described


def session_options(spec: dict[str, Any], profile_prefix: str | None):
    import onnxruntime as ort

    so = ort.SessionOptions()
    if spec.get("threads"):
        so.intra_op_num_threads = int(spec["threads"])
    if spec.get("spin") is not None:
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spec["spin"] else "0")
    so.log_severity_level = 3
    if profile_prefix:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    return so


def timed_run(sess, feeds, phase: str, i: int):
    t = now()
    t0 = time.perf_counter()
    outputs = sess.run(None, feeds)
    ms = (time.perf_counter() - t0) * 1e3
    send("iter", phase=phase, i=i, t=t, ms=ms)
    return outputs


def digest(outputs) -> str:
    h = hashlib.sha256()
    for out in outputs:
        h.update(memoryview(out.tobytes() if hasattr(out, "tobytes") else repr(out).encode()))
    return h.hexdigest()[:16]


def main(argv: list[str]) -> int:
    global now
    with open(argv[1]) as f:
        spec = json.load(f)
    if spec.get("clock") == "boottime" and hasattr(time, "CLOCK_BOOTTIME"):
        now = _boottime
    import numpy as np  # noqa: F401 - fail early and clearly if numpy is missing on a device
    import onnxruntime as ort

    send("hello", pid=os.getpid(), ort=ort.__version__, providers=ort.get_available_providers())
    if spec.get("pid_file"):
        with open(spec["pid_file"], "w") as f:
            f.write(str(os.getpid()))
    if spec.get("affinity"):
        os.sched_setaffinity(0, spec["affinity"])
    providers = spec.get("providers") or ["CPUExecutionProvider"]
    model = spec["model_path"]

    t0 = time.perf_counter()
    sess = ort.InferenceSession(model, session_options(spec, None), providers=providers)
    load_ms = (time.perf_counter() - t0) * 1e3
    feeds, described = build_inputs(sess, spec)
    send("inputs", inputs=described)
    send("loaded", ms=load_ms, rss_mb=rss_mb())

    for i in range(int(spec.get("warmup", 0))):
        timed_run(sess, feeds, "warmup", i)
    runs_cap = spec.get("runs")
    seconds = spec.get("seconds")
    out_digest = ""
    start = time.monotonic()
    i = 0
    while True:
        if seconds is not None:
            if time.monotonic() - start >= float(seconds) or (runs_cap and i >= int(runs_cap)):
                break
        elif i >= int(runs_cap or 0):
            break
        outputs = timed_run(sess, feeds, "measure", i)
        if i == 0:
            out_digest = digest(outputs)
        i += 1

    if spec.get("layers"):
        del sess
        prefix = os.path.join(spec.get("work_dir") or os.path.dirname(os.path.abspath(argv[1])), "ort_profile")
        psess = ort.InferenceSession(model, session_options(spec, prefix), providers=providers)
        profile_warmup = int(spec.get("profile_warmup", 2))
        layer_runs = int(spec.get("layer_runs") or min(max(i, 1), 20))
        t_first = None
        for j in range(profile_warmup + layer_runs):
            t = now()
            t_first = t if t_first is None else t_first
            timed_run(psess, feeds, "profiled" if j >= profile_warmup else "profile-warmup", j)
        path = psess.end_profiling()
        send("profile", path=os.path.abspath(path), t0=t_first, skip_runs=profile_warmup)

    maxrss = None
    try:
        import resource

        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    except ImportError:
        pass
    send("done", maxrss_mb=maxrss, digest=out_digest,
         runtime={"ort": ort.__version__, "providers": providers, "threads": spec.get("threads"),
                  "spin": spec.get("spin")})
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except MemoryError:
        send("error", message="out of memory while running the model")
        sys.exit(3)
    except Exception as exc:  # noqa: BLE001 - everything becomes one clear line for the host
        msg = str(exc).strip().splitlines()
        send("error", message=f"{type(exc).__name__}: {msg[0] if msg else ''}"[:500])
        sys.exit(1)
