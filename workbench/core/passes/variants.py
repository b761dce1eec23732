"""Variants: ONNX files with lineage (parent, pass, params), content-addressed in the workspace.

A root variant is a user's model file; every other variant is `derive(parent, pass, params)`. The
output of a derivation is cached under sha256(parent sha256 + pass id + pass version + canonical
params [+ calibration data digest]): asking again returns the stored file without running the pass.
Files live at <workspace>/variants/<sha[:2]>/<sha>.onnx; lineage, metrics and fidelity in
<workspace>/variants.sqlite (its own small database, independent of the run store).
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import onnx
import onnxruntime as ort

from workbench.core.errors import ModelError, StoreError, WorkbenchError
from workbench.core.passes import fidelity as fid
from workbench.core.passes.base import PassContext, PassParams, PassRefused
from workbench.core.passes.onnx_helpers import (
    FLOAT_TYPES, has_low_precision_weights, iter_weights, load_model, model_bytes, weight_dtype_bytes,
)
from workbench.core.passes.registry import canonical_params, get_pass, validate_params
from workbench.core.plugins import PluginRegistry, default_registry

SCHEMA_VERSION = 1
DB_NAME = "variants.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS variants (
    id TEXT PRIMARY KEY,
    cache_key TEXT,
    parent_id TEXT REFERENCES variants(id),
    root_id TEXT NOT NULL,
    pass_id TEXT,
    pass_version TEXT,
    params_json TEXT NOT NULL DEFAULT '{}',
    calib_sha256 TEXT,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '[]',
    warnings TEXT NOT NULL DEFAULT '[]',
    metrics TEXT NOT NULL DEFAULT '{}',
    fidelity TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS variants_cache ON variants(cache_key);
CREATE INDEX IF NOT EXISTS variants_parent ON variants(parent_id);
CREATE INDEX IF NOT EXISTS variants_sha ON variants(sha256);
"""
_COLUMNS = ("id", "cache_key", "parent_id", "root_id", "pass_id", "pass_version", "params_json", "calib_sha256",
            "sha256", "size", "created_at", "name", "source", "notes", "warnings", "metrics", "fidelity")


class VariantRejected(WorkbenchError):
    """The pass ran but its output must not become a variant (does not load, kept fp32 weights...)."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_dir(path: Path) -> str:
    """Digest of a folder's files (relative names + contents): calibration data is part of the cache key."""
    h = hashlib.sha256()
    files = sorted(p for p in Path(path).rglob("*") if p.is_file())
    if not files:
        raise WorkbenchError(f"{path}: calibration folder is empty or missing")
    for p in files:
        h.update(p.relative_to(path).as_posix().encode() + b"\0" + sha256_file(p).encode() + b"\n")
    return h.hexdigest()


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass
class Variant:
    """One ONNX file plus where it came from. Roots have no parent and no pass."""

    id: str
    root_id: str
    sha256: str
    size: int
    path: Path
    created_at: str
    parent_id: str | None = None
    cache_key: str | None = None
    pass_id: str | None = None
    pass_version: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    calib_sha256: str | None = None
    name: str = ""
    source: str = ""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    fidelity: dict[str, Any] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def short(self) -> str:
        return self.id[:10]

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in (
            "id", "parent_id", "root_id", "pass_id", "pass_version", "params", "calib_sha256", "sha256", "size",
            "created_at", "name", "source", "notes", "warnings", "metrics", "fidelity", "cache_key")}
        d["path"] = str(self.path)
        return d


class VariantStore:
    """The variants of one workspace. Opens a short-lived SQLite connection per call, so one store
    may be used from worker threads (CLI progress, GUI workers) and by several processes."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = Path(workspace)
        self.db_path = self.workspace / DB_NAME
        self.files_dir = self.workspace / "variants"
        try:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as con, con:
                con.executescript(_SCHEMA)
                row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if row is None:
                    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                elif int(row[0]) > SCHEMA_VERSION:
                    raise StoreError(f"{self.db_path}: schema version {row[0]} is newer than this workbench ({SCHEMA_VERSION})")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.db_path}: not a variants database ({exc})") from exc
        except OSError as exc:
            raise StoreError(f"{self.workspace}: cannot create workspace ({exc.strerror})") from exc

    # ------------------------------------------------------------ storage

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.db_path, timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        return con

    def file_for(self, sha: str) -> Path:
        return self.files_dir / sha[:2] / f"{sha}.onnx"

    def _store_bytes(self, data: bytes) -> tuple[str, Path]:
        sha = hashlib.sha256(data).hexdigest()
        dest = self.file_for(sha)
        if not dest.exists() or dest.stat().st_size != len(data):
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, dest)  # atomic: a crash never leaves a half-written variant under its sha
        return sha, dest

    def _row_to_variant(self, row: tuple) -> Variant:
        r = dict(zip(_COLUMNS, row))
        return Variant(
            id=r["id"], root_id=r["root_id"], sha256=r["sha256"], size=r["size"], path=self.file_for(r["sha256"]),
            created_at=r["created_at"], parent_id=r["parent_id"], cache_key=r["cache_key"], pass_id=r["pass_id"],
            pass_version=r["pass_version"], params=json.loads(r["params_json"]), calib_sha256=r["calib_sha256"],
            name=r["name"], source=r["source"], notes=json.loads(r["notes"]), warnings=json.loads(r["warnings"]),
            metrics=json.loads(r["metrics"]), fidelity=json.loads(r["fidelity"]),
        )

    def _insert(self, v: Variant, params_json: str) -> None:
        vals = (v.id, v.cache_key, v.parent_id, v.root_id, v.pass_id, v.pass_version, params_json, v.calib_sha256,
                v.sha256, v.size, v.created_at, v.name, v.source, json.dumps(v.notes), json.dumps(v.warnings),
                json.dumps(v.metrics, sort_keys=True), json.dumps(v.fidelity, sort_keys=True))
        with closing(self._connect()) as con, con:
            con.execute(f"INSERT OR REPLACE INTO variants ({','.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})", vals)

    def _query(self, where: str = "", args: tuple = ()) -> list[Variant]:
        with closing(self._connect()) as con:
            rows = con.execute(f"SELECT {','.join(_COLUMNS)} FROM variants {where} ORDER BY created_at, id", args).fetchall()
        return [self._row_to_variant(r) for r in rows]

    # ------------------------------------------------------------ lookups

    def all(self) -> list[Variant]:
        return self._query()

    def roots(self) -> list[Variant]:
        return self._query("WHERE parent_id IS NULL")

    def children(self, variant_id: str) -> list[Variant]:
        return self._query("WHERE parent_id = ?", (variant_id,))

    def tree(self, root_id: str) -> list[Variant]:
        return self._query("WHERE root_id = ?", (root_id,))

    def get(self, ref: str) -> Variant:
        """By full id or a unique id prefix (>= 4 hex chars), as the CLI prints them."""
        if len(ref) < 4 or any(c not in "0123456789abcdef" for c in ref.lower()):
            raise WorkbenchError(f"'{ref}' is neither a model file nor a variant id")
        found = self._query("WHERE id LIKE ?", (ref.lower() + "%",))
        if not found:
            raise WorkbenchError(f"no variant with id '{ref}' in {self.db_path}")
        if len(found) > 1:
            raise WorkbenchError(f"variant id '{ref}' is ambiguous ({len(found)} match); give more characters")
        return found[0]

    def resolve(self, ref: str | Path) -> Variant:
        """A model file path (registered as a root) or a variant id."""
        p = Path(ref)
        if p.exists():
            return self.register_root(p)
        if p.suffix.lower() == ".onnx" or len(p.parts) > 1:
            raise ModelError(p, "no such file")
        return self.get(str(ref))

    def lineage(self, v: Variant) -> list[Variant]:
        """Root first, `v` last."""
        chain = [v]
        while chain[-1].parent_id:
            chain.append(self.get(chain[-1].parent_id))
        return chain[::-1]

    # ------------------------------------------------------------ roots

    def register_root(self, model_path: Path, name: str = "") -> Variant:
        """Add a user model as a root (idempotent: same bytes, same root). External data is inlined."""
        model_path = Path(model_path)
        proto = load_model(model_path, load_external_data=False)
        external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in iter_weights(proto))
        if external:
            full = load_model(model_path, load_external_data=True)
            data = model_bytes(full)
        else:
            data = model_path.read_bytes()
        sha, dest = self._store_bytes(data)
        existing = self._query("WHERE id = ?", (sha,))
        if existing:
            return existing[0]
        v = Variant(id=sha, root_id=sha, sha256=sha, size=len(data), path=dest, created_at=_now(),
                    name=name or model_path.name, source=str(model_path.resolve()),
                    notes=["external data inlined"] if external else [])
        self._insert(v, "{}")
        return v

    # ------------------------------------------------------------ derive

    def derive(self, parent: Variant, pass_id: str, params: dict[str, Any] | PassParams | None = None,
               ctx: PassContext | None = None, *, samples: int = 3, inputs_dir: Path | None = None,
               registry: PluginRegistry | None = None) -> tuple[Variant, bool]:
        """Apply a pass to `parent`; returns (variant, cache_hit). Raises PassRefused, VariantRejected."""
        pass_cls = get_pass(pass_id, registry or default_registry())
        p = validate_params(pass_cls, params)
        canon = canonical_params(p)
        version = str(pass_cls.version)
        calib = sha256_dir(ctx.calibration_dir) if ctx and ctx.calibration_dir else None
        vid = _key("variant", parent.id, pass_id, version, canon, calib or "")
        ckey = _key("cache", parent.sha256, pass_id, version, canon, calib or "")
        same = self._query("WHERE id = ?", (vid,))
        if same and same[0].path.exists():
            return same[0], True
        cached = [c for c in self._query("WHERE cache_key = ?", (ckey,)) if c.path.exists()]
        if cached:  # same bytes derived along another lineage: reuse the file, record our own lineage
            c = cached[0]
            v = Variant(id=vid, root_id=parent.root_id, sha256=c.sha256, size=c.size, path=c.path, created_at=_now(),
                        parent_id=parent.id, cache_key=ckey, pass_id=pass_id, pass_version=version,
                        params=json.loads(canon), calib_sha256=calib, notes=c.notes, warnings=c.warnings,
                        metrics=c.metrics, fidelity=c.fidelity)
            self._insert(v, canon)
            return v, True

        with tempfile.TemporaryDirectory(prefix="derive-", dir=self.workspace) as tmp:
            if ctx is None:
                ctx = PassContext(work_dir=Path(tmp))
            ctx.work_dir.mkdir(parents=True, exist_ok=True)
            data, out, parent_model = self._run_pass(pass_cls, parent, p, ctx)
        ctx.progress(0, None, "checking the result")
        _check_precision_claim(pass_cls.id, pass_cls.precision, parent_model, out.model)
        _check_loads(pass_id, data)
        ctx.check_cancelled(pass_id)
        sha, dest = self._store_bytes(data)
        ctx.progress(0, None, "measuring fidelity")
        root = parent if parent.is_root else self.get(parent.root_id)
        warnings = list(ctx.warnings)
        try:
            report = fid.measure(dest, parent.path, root.path if root.id != parent.id else parent.path,
                                 samples=samples, inputs_dir=inputs_dir).to_dict()
        except WorkbenchError as exc:
            report = {"error": str(exc)}
            warnings.append(f"fidelity not measured: {exc}")
        v = Variant(id=vid, root_id=parent.root_id, sha256=sha, size=len(data), path=dest, created_at=_now(),
                    parent_id=parent.id, cache_key=ckey, pass_id=pass_id, pass_version=version,
                    params=json.loads(canon), calib_sha256=calib, notes=list(out.notes), warnings=warnings,
                    metrics=dict(out.metrics), fidelity=report)
        self._insert(v, canon)
        return v, False

    def _run_pass(self, pass_cls: type, parent: Variant, params: PassParams,
                  ctx: PassContext) -> tuple[bytes, Any, onnx.ModelProto]:
        parent_model = load_model(parent.path)
        ctx.progress(0, None, f"{pass_cls.id}: running")
        try:
            out = pass_cls().apply(parent_model, params, ctx)
        except (PassRefused, WorkbenchError):
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin bug becomes one line, not a crash
            line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WorkbenchError(f"pass {pass_cls.id} failed on {parent.path.name}: {type(exc).__name__}: {line}") from exc
        ctx.check_cancelled(pass_cls.id)
        if not isinstance(getattr(out, "model", None), onnx.ModelProto):
            raise VariantRejected(f"pass {pass_cls.id} returned {type(out).__name__}, not a PassOutput with a model")
        try:
            data = model_bytes(out.model)
        except ValueError as exc:  # protobuf refuses > 2 GB
            raise VariantRejected(f"pass {pass_cls.id}: output cannot be serialized ({exc})") from exc
        return data, out, load_model(parent.path)

    # ------------------------------------------------------------ evaluation

    def evaluate(self, v: Variant, evaluator: str, dataset_dir: Path, ctx: fid.EvalContext | None = None,
                 registry: PluginRegistry | None = None) -> dict[str, Any]:
        """Task accuracy from an evaluator plugin, stored in the variant's fidelity under 'task'."""
        evaluator_cls = (registry or default_registry()).require("evaluators", evaluator, "evaluator", WorkbenchError)
        metrics = evaluator_cls().evaluate(v.path, Path(dataset_dir), ctx or fid.EvalContext())
        v.fidelity = dict(v.fidelity, task={"evaluator": evaluator, "dataset": str(dataset_dir), "metrics": metrics})
        self._insert(v, json.dumps(v.params, sort_keys=True, separators=(",", ":")))
        return metrics


def determinism_check(store: VariantStore, parent: Variant, pass_id: str, params: dict[str, Any] | None = None,
                      calibration_dir: Path | None = None) -> tuple[bool, str, str]:
    """Run a pass twice on the same input (outside the cache); (same bytes?, sha of run 1, sha of run 2)."""
    pass_cls = get_pass(pass_id)
    p = validate_params(pass_cls, params)
    shas = []
    for _ in range(2):
        with tempfile.TemporaryDirectory(prefix="determinism-", dir=store.workspace) as tmp:
            ctx = PassContext(work_dir=Path(tmp), calibration_dir=calibration_dir)
            data, _, _ = store._run_pass(pass_cls, parent, p, ctx)
            shas.append(hashlib.sha256(data).hexdigest())
    return shas[0] == shas[1], shas[0], shas[1]


def _check_precision_claim(pass_id: str, claim: str | None, before: onnx.ModelProto, after: onnx.ModelProto) -> None:
    """Reject a pass that promised fp16/int8 weights but left every weight in fp32."""
    if not claim:
        return
    had_float = any(t.data_type in FLOAT_TYPES and len(t.dims) and _numel(t) >= 16 for t in iter_weights(before))
    if had_float and not has_low_precision_weights(after):
        kb = sum(v for k, v in weight_dtype_bytes(after).items() if k in ("FLOAT", "DOUBLE")) / 1024
        raise VariantRejected(f"pass {pass_id} claims {claim} weights but its output keeps all weights in fp32 "
                              f"({kb:,.1f} KiB); variant rejected")


def _numel(t: onnx.TensorProto) -> int:
    n = 1
    for d in t.dims:
        n *= d
    return n


def _check_loads(pass_id: str, data: bytes) -> None:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.intra_op_num_threads = 1
    try:
        ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001
        raise VariantRejected(f"pass {pass_id} produced a model onnxruntime cannot load: "
                              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}") from exc


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def iter_tree(store: VariantStore, root: Variant) -> Iterator[tuple[int, Variant]]:
    """(depth, variant) in depth-first order for tree views."""
    members = store.tree(root.id)
    kids: dict[str | None, list[Variant]] = {}
    for m in members:
        kids.setdefault(m.parent_id, []).append(m)
    stack = [(0, root)]
    while stack:
        depth, v = stack.pop()
        yield depth, v
        stack.extend((depth + 1, c) for c in reversed(kids.get(v.id, [])))


@dataclass
class ModelArg:
    """What a MODEL argument named: a file, and the variant id when it was given as one."""

    path: Path
    variant_id: str | None = None


def resolve_model_arg(workspace: Path, text: str | Path) -> ModelArg:
    """A model file path as is, else a variant id (or unique prefix) of `workspace`'s variant store.

    An existing file wins, so a file that happens to be named like a hex prefix still works; a missing
    path that looks like a path (a folder part or .onnx) is a missing file, not an unknown id. The
    variant store is only opened (and never created) when the text can be an id.
    """
    p = Path(text)
    if p.exists():
        return ModelArg(p)
    if p.suffix.lower() == ".onnx" or len(p.parts) > 1:
        raise ModelError(p, "no such file")
    if not (Path(workspace) / DB_NAME).is_file():
        raise WorkbenchError(f"'{text}' is neither a model file nor a variant id "
                             f"(no variants in workspace {workspace})")
    v = VariantStore(workspace).get(str(text))
    if not v.path.is_file():
        raise ModelError(v.path, f"file of variant {v.short} is missing from the workspace")
    return ModelArg(v.path, v.id)
