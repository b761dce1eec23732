"""Load, validate and save tuning profiles with errors that name the file and the JSON path.

Validation runs in two layers: the shipped JSON Schema (what other tools can also check) and then the
pydantic model (cross-field rules such as hysteresis order). Either way the user sees one line:
`profile.json: $.runtime.threads: 0 is less than the minimum of 1`.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import ValidationError

from workbench.core.errors import WorkbenchError
from workbench.core.profiles.migrations import MigrationError, migrate
from workbench.core.profiles.model import SCHEMA_VERSION, TuningProfile, profile_json_schema


class ProfileError(WorkbenchError):
    """A profile file is unreadable, malformed, or does not match the schema."""

    def __init__(self, path: str | Path, json_path: str, problem: str) -> None:
        self.path, self.json_path, self.problem = Path(path), json_path, problem
        super().__init__(f"{self.path}: {json_path}: {problem}")


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = profile_json_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _json_path(parts: Any) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def validate_document(doc: Any, source: str | Path = "<profile>") -> TuningProfile:
    """Migrate (if older), schema-check and parse a profile document already read from JSON."""
    if not isinstance(doc, dict):
        raise ProfileError(source, "$", "a profile must be a JSON object")
    try:
        doc, _ = migrate(doc, SCHEMA_VERSION)
    except MigrationError as exc:
        raise ProfileError(source, exc.json_path, str(exc)) from exc
    errors = sorted(_validator().iter_errors(doc), key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path)))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        raise ProfileError(source, _json_path(err.absolute_path), err.message)
    try:
        return TuningProfile.model_validate(doc)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = [x for x in e["loc"] if x not in ("thermal", "latency", "cascade")]  # drop union tags
        raise ProfileError(source, _json_path(loc), e["msg"].removeprefix("Value error, ")) from exc


def load_profile(path: str | Path) -> TuningProfile:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ProfileError(p, "$", f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise ProfileError(p, "$", "not a text file (a tuning profile is JSON)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(p, "$", f"not valid JSON: {exc.msg}, line {exc.lineno} column {exc.colno}") from exc
    return validate_document(doc, p)


def profile_to_json(profile: TuningProfile) -> dict[str, Any]:
    return profile.model_dump(mode="json", by_alias=True)


def save_profile(profile: TuningProfile, path: str | Path) -> Path:
    """Write the profile (validated again on the way out, so we never ship a document we would reject)."""
    p = Path(path)
    doc = profile_to_json(profile)
    validate_document(doc, p)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(p)
    return p
