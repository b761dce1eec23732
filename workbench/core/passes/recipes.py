"""Recipes: a named chain of passes in YAML or JSON, applied step by step through the variant cache.

    # recipe.yaml (a bare list works too)
    name: mobile-fp16
    steps:
      - pass: fold-batchnorm
      - pass: fp16
        params: {keep_io_types: true}

Every step is `VariantStore.derive`, so re-running a recipe on the same model is all cache hits and
ends at the same sha256.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from workbench.core.errors import WorkbenchError
from workbench.core.passes.base import PassContext
from workbench.core.passes.registry import get_pass, validate_params
from workbench.core.passes.variants import Variant, VariantStore
from workbench.core.plugins import PluginRegistry


class RecipeError(WorkbenchError):
    """A recipe file is unreadable or a step is malformed; the message names the file and the step."""


@dataclass
class RecipeStep:
    pass_id: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Recipe:
    steps: list[RecipeStep]
    name: str = ""
    source: str = ""


def parse_recipe(data: Any, source: str = "<recipe>") -> Recipe:
    """Validate the recipe's structure (not yet the pass params; see `check_recipe`)."""
    name = ""
    if isinstance(data, dict):
        unknown = set(data) - {"name", "steps", "description"}
        if unknown:
            raise RecipeError(f"{source}: unknown key(s) {', '.join(sorted(unknown))} (expected name, steps)")
        name = str(data.get("name", ""))
        data = data.get("steps")
    if not isinstance(data, list) or not data:
        raise RecipeError(f"{source}: expected a non-empty list of steps ({{pass: ID, params: {{...}}}})")
    steps = []
    for i, item in enumerate(data, 1):
        if isinstance(item, str):
            item = {"pass": item}
        if not isinstance(item, dict) or not isinstance(item.get("pass"), str):
            raise RecipeError(f"{source}: step {i}: needs a 'pass' id, got {item!r}")
        extra = set(item) - {"pass", "params"}
        if extra:
            raise RecipeError(f"{source}: step {i}: unknown key(s) {', '.join(sorted(extra))} (expected pass, params)")
        params = item.get("params") or {}
        if not isinstance(params, dict):
            raise RecipeError(f"{source}: step {i}: params must be a mapping, got {type(params).__name__}")
        steps.append(RecipeStep(item["pass"], dict(params)))
    return Recipe(steps=steps, name=name, source=source)


def load_recipe(path: Path) -> Recipe:
    """Read a .yaml/.yml/.json recipe file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecipeError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise RecipeError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'} "
                          f"({str(exc).splitlines()[0]})") from exc
    return parse_recipe(data, str(path))


def check_recipe(recipe: Recipe, registry: PluginRegistry | None = None) -> None:
    """Fail before any work when a pass is unknown or its params are invalid."""
    for i, step in enumerate(recipe.steps, 1):
        try:
            validate_params(get_pass(step.pass_id, registry), step.params)
        except WorkbenchError as exc:
            raise RecipeError(f"{recipe.source}: step {i}: {exc}") from exc


def apply_recipe(store: VariantStore, model: Variant, recipe: Recipe,
                 make_ctx: Callable[[int, RecipeStep], PassContext] | None = None,
                 on_step: Callable[[int, Variant, bool], None] | None = None,
                 registry: PluginRegistry | None = None, **derive_kw: Any) -> list[tuple[Variant, bool]]:
    """Derive each step from the previous result; returns [(variant, cache_hit)] in order."""
    check_recipe(recipe, registry)
    out: list[tuple[Variant, bool]] = []
    current = model
    for i, step in enumerate(recipe.steps, 1):
        ctx = make_ctx(i, step) if make_ctx else None
        current, hit = store.derive(current, step.pass_id, step.params, ctx, registry=registry, **derive_kw)
        out.append((current, hit))
        if on_step:
            on_step(i, current, hit)
    return out
