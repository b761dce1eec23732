"""A pass's parameter form, derived from its pydantic Params JSON schema (no per-pass GUI code).

`form_fields` turns the schema into typed fields a view can render with stock widgets; `collect`
turns what the user typed back into validated Params, with the registry's one-line error naming the
pass and the parameter when something does not fit.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from workbench.core.passes.base import Pass, PassParams
from workbench.core.passes.registry import InvalidParams, validate_params


@dataclass
class FormField:
    name: str
    title: str
    kind: str  # bool | int | float | enum | list | json | text
    default: Any = None
    required: bool = False
    nullable: bool = False  # blank means None
    minimum: float | None = None
    maximum: float | None = None
    choices: list[Any] = field(default_factory=list)
    description: str = ""


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return {**schema.get("$defs", {}).get(ref.split("/")[-1], {}), **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def form_fields(schema: dict[str, Any]) -> list[FormField]:
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(schema, prop)
        nullable = False
        body = prop
        options = prop.get("anyOf") or prop.get("oneOf")
        if options:
            non_null = [_resolve(schema, o) for o in options if o.get("type") != "null"]
            nullable = len(non_null) < len(options)
            body = {**non_null[0], **{k: v for k, v in prop.items() if k not in ("anyOf", "oneOf")}} \
                if len(non_null) == 1 else {"type": "json"}
        f = FormField(name=name, title=prop.get("title", name), kind="json", default=prop.get("default"),
                      required=name in required, nullable=nullable, description=prop.get("description", ""))
        t = body.get("type")
        if "enum" in body:
            f.kind, f.choices = "enum", list(body["enum"])
        elif t == "boolean":
            f.kind = "bool"
        elif t in ("integer", "number"):
            f.kind = "int" if t == "integer" else "float"
            f.minimum = body.get("minimum", body.get("exclusiveMinimum"))
            f.maximum = body.get("maximum", body.get("exclusiveMaximum"))
        elif t == "array" and body.get("items", {}).get("type") in ("string", "integer", "number"):
            f.kind = "list"
        elif t == "string":
            f.kind = "text"
        out.append(f)
    return out


def pass_form_fields(pass_cls: type[Pass]) -> list[FormField]:
    """Fields with defaults from the Params model itself: `default_factory` values (lists such as
    op_types) are absent from the JSON schema, and a blank field would silently mean 'none'."""
    fields = form_fields(pass_cls.params_schema())
    try:
        defaults = pass_cls.Params().model_dump(mode="json")
    except ValueError:  # some parameter is required: no complete default set
        defaults = {}
    for f in fields:
        if f.default is None and defaults.get(f.name) is not None:
            f.default = defaults[f.name]
    return fields


def parse_value(pass_id: str, f: FormField, value: Any) -> Any:
    """Text from a line edit (or a widget's typed value) -> the JSON value the schema expects."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text == "" and (f.nullable or not f.required) and f.kind not in ("list", "text"):
        return None if f.nullable else f.default
    try:
        if f.kind == "int":
            return int(text)
        if f.kind == "float":
            return float(text)
        if f.kind == "list":
            return [s.strip() for s in text.split(",") if s.strip()]
        if f.kind == "json":
            return json.loads(text)
    except ValueError:
        raise InvalidParams(f"{pass_id}: {f.name}: {text!r} is not a valid {f.kind} value") from None
    return value


def collect(pass_cls: type[Pass], fields: list[FormField], values: dict[str, Any]) -> PassParams:
    """Validated Params from the form's values; unset (None for non-nullable) fields keep defaults."""
    raw: dict[str, Any] = {}
    for f in fields:
        if f.name not in values:
            continue
        v = parse_value(pass_cls.id, f, values[f.name])
        if v is None and not f.nullable:
            continue
        raw[f.name] = v
    return validate_params(pass_cls, raw)


def display_value(f: FormField, value: Any) -> str:
    """A default as a line edit shows it (lists comma-separated, dicts as JSON, None as blank)."""
    if value is None:
        return ""
    if f.kind == "list":
        return ", ".join(str(v) for v in value)
    if f.kind == "json":
        return json.dumps(value)
    return str(value)
