"""Upgrade older profile documents to the current schema, one version step at a time (as napari
does for its settings): a profile written by any released workbench keeps loading.

v1 (workbench 0.0.x) was flat: `version: 1`, `model`, `variant`, `threads`, `resolution`,
`expected: {p50_ms, p90_ms, peak_rss_mb}`, `thermal_switch: {heavy, light, at_c, back_c}`.
v2 nests device/model/runtime/expectations, records the full lineage and allows several policies.
"""
from __future__ import annotations

from typing import Any, Callable

Doc = dict[str, Any]


class MigrationError(ValueError):
    """A document cannot be upgraded; the message names the JSON path that is missing or wrong."""

    def __init__(self, json_path: str, problem: str) -> None:
        self.json_path = json_path
        super().__init__(problem)


def _need(doc: Doc, key: str) -> Any:
    if key not in doc:
        raise MigrationError(f"$.{key}", "required by a version 1 profile")
    return doc[key]


def v1_to_v2(doc: Doc) -> Doc:
    expected = dict(_need(doc, "expected"))
    variant_id = str(doc.get("variant", "base"))
    model_sha = _need(doc, "model_sha256")
    variant_sha = doc.get("variant_sha256", model_sha)
    lineage = [{"id": "base", "parent": None, "pass": None, "params": {}, "sha256": model_sha}]
    if variant_id != "base":  # v1 only knew the last pass; keep what it said
        lineage.append({"id": variant_id, "parent": "base", "pass": doc.get("pass"),
                        "params": doc.get("pass_params", {}), "sha256": variant_sha})
    out: Doc = {
        "schema_version": 2,
        "name": doc.get("name") or f"{doc.get('model', 'model')} on {doc.get('device', {}).get('model', 'device')}",
        "device": {"fingerprint": dict(_need(doc, "device"))},
        "model": {"name": str(_need(doc, "model")), "sha256": model_sha,
                  "variant": {"id": variant_id, "sha256": variant_sha, "lineage": lineage}},
        "runtime": {"threads": doc.get("threads"), "batch": doc.get("batch", 1), "resolution": doc.get("resolution")},
        "budgets": {"p90_ms": doc.get("budget_p90_ms")},
        "switching": [],
        "expectations": {"p50_ms": expected.get("p50_ms"), "p90_ms": expected.get("p90_ms"),
                         "peak_memory_mb": expected.get("peak_rss_mb")},
        "provenance": {"workbench_version": doc.get("workbench_version", "0.0.0"),
                       "created": _need(doc, "created"), "run_ids": doc.get("run_ids", [])},
    }
    if "kind" not in out["device"]["fingerprint"]:
        out["device"]["fingerprint"]["kind"] = "adb" if "abi" in out["device"]["fingerprint"] else "local"
    ts = doc.get("thermal_switch")
    if ts:
        out["switching"].append({"kind": "thermal", "channel": ts.get("channel", "thermal.soc"), "unit": "C",
                                 "heavy": ts["heavy"], "light": ts["light"],
                                 "switch_at": ts["at_c"], "switch_back_at": ts["back_c"],
                                 "budget_p90_ms": doc.get("budget_p90_ms")})
    return out


MIGRATIONS: dict[int, Callable[[Doc], Doc]] = {1: v1_to_v2}


def document_version(doc: Doc) -> Any:
    return doc.get("schema_version", doc.get("version"))


def migrate(doc: Doc, current: int) -> tuple[Doc, list[int]]:
    """Return the document at `current` and the versions it passed through."""
    version = document_version(doc)
    if not isinstance(version, int) or isinstance(version, bool):
        raise MigrationError("$.schema_version", f"missing or not an integer ({version!r})")
    if version > current:
        raise MigrationError("$.schema_version", f"version {version} is newer than this workbench "
                                                 f"understands ({current}); upgrade edge-workbench")
    steps = []
    while version < current:
        step = MIGRATIONS.get(version)
        if step is None:
            raise MigrationError("$.schema_version", f"no migration from version {version}")
        steps.append(version)
        doc = step(doc)
        version = document_version(doc)
    return doc, steps
