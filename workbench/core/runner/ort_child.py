#!/usr/bin/env python3
"""Run one benchmark job with onnxruntime in its own process and report events as JSON lines.

Why a separate, standalone script: a crash or OOM inside onnxruntime must become a failed run, not a dead
workbench; and the very same file is pushed to Linux boards over ADB and run there with their python3. So
it imports only the standard library, numpy and onnxruntime, and speaks a line protocol on stdout:

    {"ev": "hello", "pid", "ort", "providers"}
    {"ev": "inputs", "inputs": {name: {"shape", "dtype", "source"}}}
    {"ev": "loaded", "ms", "rss_mb"}
    {"ev": "iter", "phase": "warmup|measure|profiled", "i", "t" (monotonic s), "ms"}
    {"ev": "profile_events", "events": [compact ORT trace events]}   (in chunks, before "profile")
    {"ev": "profile", "path", "t0" (monotonic s of the first profiled run), "skip_runs", "events" (count sent)}
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
from typing import Any, NamedTuple


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


def peak_rss_mb() -> float | None:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: Linux carries the parent's peak into a child
    across fork+exec, so a runner started by the 300 MB GUI reported 300 MB for every model."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # no /proc: the best there is


# ---------------------------------------------------------------- generated inputs
# The one input generator of the workbench: the runner (here, also on devices), fidelity and calibration
# all call make_feeds, so a benchmark, a fidelity check and an int8 calibration see the very same arrays.
# Pure functions over (name, "tensor(float)"-style type, dims); numpy is imported lazily.

DEFAULT_DIMS = {"batch": 1, "seq": 16, "spatial": 224, "channels": 3, "other": 1}
DEFAULT_VOCAB = 1000  # ids below 1000 exist in every tokenizer we know; used when the model declares none
_BATCH_NAMES = re.compile(r"(batch|^n$|^b$)", re.I)
_SPATIAL_NAMES = re.compile(r"(height|width|^h$|^w$|^y$|^x$|size|spatial|rows|cols)", re.I)
_SEQ_NAMES = re.compile(r"(seq|len|tokens?|^s$|^t$|time|steps?)", re.I)
STATE_NAMES = re.compile(r"(state|hidden|cache|past|memory|^h0$|^c0$|^h_|^c_|^h$|^c$)", re.I)
MASK_NAMES = re.compile(r"mask", re.I)
SEGMENT_NAMES = re.compile(r"(token_type|segment)", re.I)
POSITION_NAMES = re.compile(r"position", re.I)
NP_TYPES = {  # ORT type string -> numpy dtype name (strings, so importing this module needs no numpy)
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
    "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(int16)": "int16", "tensor(int8)": "int8",
    "tensor(uint64)": "uint64", "tensor(uint32)": "uint32", "tensor(uint16)": "uint16", "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
}
_FLOAT_TYPES = {"tensor(float)", "tensor(float16)", "tensor(double)"}
_INT_TYPES = {t for t, np_name in NP_TYPES.items() if "int" in np_name}


class InputPlan(NamedTuple):
    """How one input is generated: concrete shape, value kind and (for ids) the exclusive upper bound."""

    name: str
    ort_type: str
    shape: list[int]
    kind: str  # ones | mask | state | segment | position | ids | uniform
    high: int = 0  # ids are drawn from [0, high)

    @property
    def numpy_dtype(self) -> str:
        return NP_TYPES[self.ort_type]

    def describe(self) -> str:
        return {
            "ones": "ones", "mask": "ones (mask)", "state": "zeros (state)", "segment": "zeros (segment ids)",
            "position": "positions 0..n-1", "ids": f"token ids in [0,{self.high})", "uniform": "uniform [0,1)",
        }[self.kind]


def vocab_from_metadata(meta: dict[str, str]) -> int:
    """The model's declared vocab_size (custom metadata), else DEFAULT_VOCAB."""
    try:
        value = int(str(meta.get("vocab_size", DEFAULT_VOCAB)).strip())
    except ValueError:
        return DEFAULT_VOCAB
    return value if value >= 1 else DEFAULT_VOCAB


def _symbol(dim: Any) -> str:
    return dim if isinstance(dim, str) else ""


def _fixed(dim: Any) -> bool:
    return isinstance(dim, int) and not isinstance(dim, bool) and dim > 0


def guess_dim(symbol: str, axis: int, dims: list, ort_type: str, name: str,
              defaults: dict[str, int] | None = None) -> int:
    """Value for one dynamic axis: by the dim's symbol first, then by the input's rank, type and name."""
    d = {**DEFAULT_DIMS, **(defaults or {})}
    if symbol:
        if _BATCH_NAMES.search(symbol):
            return d["batch"]
        if _SPATIAL_NAMES.search(symbol):
            return d["spatial"]
        if _SEQ_NAMES.search(symbol):
            return d["seq"]
    rank = len(dims)
    if axis == 0:
        return d["batch"]
    if rank == 3 and axis == 1 and STATE_NAMES.search(name):
        return d["batch"]  # recurrent state is [layers*directions, batch, hidden] (ONNX RNN/GRU/LSTM)
    image_like = rank == 4 and ort_type in _FLOAT_TYPES | {"tensor(uint8)"} and not STATE_NAMES.search(name)
    if image_like:
        nhwc = _fixed(dims[3]) and dims[3] in (1, 3, 4) and axis in (1, 2)  # [N, H, W, C] with C pinned
        return d["channels"] if axis == 1 and not nhwc else d["spatial"]
    if ort_type in _INT_TYPES or MASK_NAMES.search(name) or (rank in (2, 3) and axis == 1):
        return d["seq"]
    return d["other"]


def resolve_shape(name: str, shape: list, dtype: str, fixed: dict[str, list[int]], named: dict[str, int],
                  defaults: dict[str, int] | None = None) -> list[int]:
    """Concrete shape for one input: a given shape wins; named dims are shared across inputs via `named`."""
    if name in fixed:
        user = [int(d) for d in fixed[name]]
        if len(user) != len(shape):
            raise ValueError(f"--shape {name}: model input has rank {len(shape)}, got {len(user)} dims")
        for axis, (want, have) in enumerate(zip(user, shape)):
            if _fixed(have) and have != want:
                raise ValueError(f"--shape {name}: axis {axis} is fixed at {have} in the model, got {want}")
            if _symbol(have):
                named.setdefault(have, want)
        return user
    out = []
    for axis, dim in enumerate(shape):
        sym = _symbol(dim)
        if _fixed(dim):
            out.append(dim)
        elif sym and sym in named:
            out.append(named[sym])
        else:
            value = guess_dim(sym, axis, shape, dtype, name, defaults)
            if sym:
                named[sym] = value
            out.append(value)
    return out


def resolve_shapes(inputs: list[tuple[str, str, list]], shapes: dict[str, list[int]] | None = None,
                   defaults: dict[str, int] | None = None) -> dict[str, list[int]]:
    """Concrete shapes for all inputs. Given shapes are applied first, so a symbol they bind ('batch',
    'sequence') has the same value in every other input, whatever the input order."""
    fixed = shapes or {}
    named: dict[str, int] = {}
    out = {name: resolve_shape(name, dims, t, fixed, named, defaults) for name, t, dims in inputs if name in fixed}
    for name, t, dims in inputs:
        if name not in out:
            out[name] = resolve_shape(name, dims, t, fixed, named, defaults)
    return {name: out[name] for name, _, _ in inputs}


def input_kind(name: str, ort_type: str) -> str:
    """What values an input gets, from its type and name (see InputPlan.kind)."""
    if ort_type not in NP_TYPES:
        raise ValueError(f"input {name}: cannot generate values of type {ort_type}; pass --input {name}=FILE.npy")
    if ort_type == "tensor(bool)":
        return "ones"
    if MASK_NAMES.search(name):
        return "mask"
    if ort_type in _INT_TYPES and POSITION_NAMES.search(name):
        return "position"
    if ort_type in _INT_TYPES and SEGMENT_NAMES.search(name):
        return "segment"
    if STATE_NAMES.search(name):
        return "state"
    return "ids" if ort_type in _INT_TYPES else "uniform"


def plan_inputs(inputs: list[tuple[str, str, list]], vocab: int, shapes: dict[str, list[int]] | None = None,
                vocab_hints: dict[str, int] | None = None,
                defaults: dict[str, int] | None = None) -> list[InputPlan]:
    """Shapes, kinds and id bounds for (name, ort_type, dims) inputs. Ids stay below the model's vocab,
    below a hint (the rows of the Gather table an input indexes) and inside the dtype's range."""
    import numpy as np

    resolved = resolve_shapes(inputs, shapes, defaults)
    hints = vocab_hints or {}
    plans = []
    for name, ort_type, _ in inputs:
        kind = input_kind(name, ort_type)
        high = 0
        if kind == "ids":
            high = min(vocab, int(hints.get(name) or vocab), int(np.iinfo(NP_TYPES[ort_type]).max) + 1)
            high = max(1, high)
        plans.append(InputPlan(name, ort_type, resolved[name], kind, high))
    return plans


def draw_feeds(plans: list[InputPlan], seed: int, samples: int = 1) -> list[dict[str, Any]]:
    """Arrays for the plans; sample s uses the generator seeded [seed, s], so sample 0 is the same
    whether one sample (a benchmark) or many (fidelity, calibration) are drawn."""
    import numpy as np

    out = []
    for s in range(samples):
        rng = np.random.default_rng([seed, s])
        feed = {}
        for p in plans:
            dt = np.dtype(NP_TYPES[p.ort_type])
            if p.kind in ("ones", "mask"):
                arr = np.ones(p.shape, dtype=dt)
            elif p.kind in ("state", "segment"):
                arr = np.zeros(p.shape, dtype=dt)
            elif p.kind == "position":
                arr = (np.broadcast_to(np.arange(p.shape[-1]), p.shape).astype(dt) if p.shape
                       else np.zeros(p.shape, dtype=dt))
            elif p.kind == "ids":
                arr = rng.integers(0, p.high, size=p.shape, dtype=np.int64).astype(dt)
            else:
                arr = rng.random(p.shape, dtype=np.float32).astype(dt)
            feed[p.name] = arr
        out.append(feed)
    return out


def make_feeds(inputs: list[tuple[str, str, list]], vocab: int, shapes: dict[str, list[int]] | None, seed: int,
               samples: int = 1, vocab_hints: dict[str, int] | None = None,
               defaults: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """Generated feeds for (name, ort_type, dims) inputs: images uniform in [0,1), token ids in [0, vocab),
    position ids 0..n-1, masks and booleans all ones, recurrent state and segment ids zeros."""
    return draw_feeds(plan_inputs(inputs, vocab, shapes, vocab_hints, defaults), seed, samples)


def build_inputs(sess, spec: dict[str, Any]):
    """Feeds for a session: user .npy files where given, the rest generated (sample 0 of make_feeds)."""
    import numpy as np

    meta = sess.get_modelmeta().custom_metadata_map or {}
    files = spec.get("inputs") or {}
    shapes = spec.get("shapes") or {}
    sig = [(i.name, i.type, list(i.shape)) for i in sess.get_inputs()]
    unknown = (set(shapes) | set(files)) - {name for name, _, _ in sig}
    if unknown:
        names = ", ".join(name for name, _, _ in sig)
        raise ValueError(f"no model input named {', '.join(sorted(unknown))} (inputs: {names})")
    feeds, described = {}, {}
    for name, _, _ in sig:
        if name in files:
            arr = np.load(files[name])
            feeds[name] = arr
            described[name] = {"shape": list(arr.shape), "dtype": str(arr.dtype), "source": files[name]}
    plans = plan_inputs([s for s in sig if s[0] not in files], vocab_from_metadata(meta), shapes,
                        spec.get("vocab_hints"))
    generated = draw_feeds(plans, int(spec.get("seed") or 0), 1)[0]
    for p in plans:
        arr = generated[p.name]
        feeds[p.name] = arr
        described[p.name] = {"shape": list(p.shape), "dtype": str(arr.dtype), "source": f"generated: {p.describe()}"}
    return {name: feeds[name] for name, _, _ in sig}, {name: described[name] for name, _, _ in sig}


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


PROFILE_CHUNK = 256


def compact_profile(path: str) -> list[dict[str, Any]]:
    """The profile events the host's parser reads (run windows, kernel times), without ORT's bulky args.

    Why here: a 1.4 MB profile parsed by one json.load on the host holds the GIL for ~50-90 ms and
    freezes the GUI thread; the child parses it in its own process and streams ~1/10 of the bytes.
    """
    with open(path) as f:
        raw = json.load(f)
    if isinstance(raw, dict):
        raw = raw.get("traceEvents", [])
    out = []
    for e in raw:
        if not isinstance(e, dict) or "ts" not in e:
            continue
        cat, name = e.get("cat"), str(e.get("name", ""))
        if cat == "Session" and name == "model_run":
            out.append({"cat": cat, "name": name, "ts": e["ts"], "dur": e.get("dur", 0)})
        elif cat == "Node" and name.endswith("_kernel_time"):
            args = e.get("args") or {}
            out.append({"cat": cat, "name": name, "ts": e["ts"], "dur": e.get("dur", 0),
                        "args": {"op_name": args.get("op_name", "?"), "provider": args.get("provider", "?")}})
    return out


def send_profile_events(events: list[dict[str, Any]]) -> None:
    """Stream compact events in small lines, so the host decodes them a few hundred at a time."""
    for k in range(0, len(events), PROFILE_CHUNK):
        send("profile_events", events=events[k:k + PROFILE_CHUNK])


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
        events = compact_profile(path)
        send_profile_events(events)
        send("profile", path=os.path.abspath(path), t0=t_first, skip_runs=profile_warmup, events=len(events))

    send("done", maxrss_mb=peak_rss_mb(), digest=out_digest,
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
