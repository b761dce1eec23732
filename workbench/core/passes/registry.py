"""Find passes by id and turn user-given parameters into a validated, canonical Params object.

Pass classes come from the `workbench.passes` entry point group through the plugin registry, so the
CLI, GUI, recipes and tuner all see the same set, bundled or third-party.
"""
from __future__ import annotations

import json
from typing import Any

import yaml
from pydantic import ValidationError

from workbench.core.errors import WorkbenchError
from workbench.core.passes.base import Pass, PassParams
from workbench.core.plugins import PluginRegistry, PluginStatus, default_registry


class UnknownPass(WorkbenchError):
    """No working pass with this id is installed."""


class InvalidParams(WorkbenchError):
    """Parameters do not match the pass's schema."""


def pass_statuses(registry: PluginRegistry | None = None) -> list[PluginStatus]:
    """Every registered pass, loaded (import errors recorded, not raised)."""
    return (registry or default_registry()).load_all("passes")


def get_pass(pass_id: str, registry: PluginRegistry | None = None) -> type[Pass]:
    """The pass class registered as `pass_id`; UnknownPass with the known ids or the load error."""
    return (registry or default_registry()).require("passes", pass_id, "pass", UnknownPass)


def _one_line(pass_id: str, exc: ValidationError, known: list[str]) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "params"
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown parameter '{loc}' (known: {', '.join(known) or 'none'})")
        else:
            parts.append(f"{loc}: {e['msg']}")
    return f"{pass_id}: " + "; ".join(parts)


def validate_params(pass_cls: type[Pass], raw: dict[str, Any] | PassParams | None) -> PassParams:
    """Validate a dict against the pass's Params; InvalidParams is one line naming each bad key."""
    if isinstance(raw, pass_cls.Params):
        return raw
    if isinstance(raw, PassParams):
        raw = raw.model_dump()
    try:
        return pass_cls.Params.model_validate(raw or {})
    except ValidationError as exc:
        raise InvalidParams(_one_line(pass_cls.id, exc, list(pass_cls.Params.model_fields))) from None


def parse_cli_params(pass_cls: type[Pass], items: list[str]) -> PassParams:
    """Parse `k=v` strings (values read as YAML scalars/lists: 0.5, true, [1,2], fp16) and validate."""
    raw: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidParams(f"{pass_cls.id}: parameter '{item}' is not of the form key=value")
        try:
            raw[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            raw[key.strip()] = value
    return validate_params(pass_cls, raw)


def canonical_params(params: PassParams) -> str:
    """JSON with sorted keys and defaults filled in: equal settings give equal text (and cache keys)."""
    return json.dumps(params.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def schema_summary(pass_cls: type[Pass]) -> str:
    """'name=default' per parameter ('name: type (required)' without default), for `workbench passes`."""
    out = []
    for name, f in pass_cls.Params.model_fields.items():
        if f.is_required():
            ann = getattr(f.annotation, "__name__", None) or str(f.annotation).replace("typing.", "")
            out.append(f"{name}: {ann} (required)")
            continue
        default = repr(f.get_default(call_default_factory=True))
        out.append(f"{name}={default if len(default) <= 24 else default[:21] + '...'}")
    return ", ".join(out) or "(no parameters)"
