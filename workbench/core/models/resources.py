"""Find the demo models in resources/models/, generating any that are missing.

The generator lives in resources/make_models.py (a script, so it can run without the package installed);
resources/ sits beside the workbench package in the source tree, which editable installs keep.
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

from workbench.core.errors import ModelError, WorkbenchError

RESOURCES_DIR = Path(__file__).resolve().parents[3] / "resources"
DEMO_MODELS_DIR = RESOURCES_DIR / "models"
GENERATOR = RESOURCES_DIR / "make_models.py"


@functools.cache
def demo_generator() -> ModuleType:
    """The resources/make_models.py module (BUILDERS, build(name), write(name, out_dir))."""
    if not GENERATOR.is_file():
        raise WorkbenchError(f"{GENERATOR}: demo-model generator not found (demo models need the source checkout)")
    spec = importlib.util.spec_from_file_location("workbench_demo_make_models", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def list_demo_models() -> list[str]:
    """Names of the demo models (from the generator, else from the .onnx files present)."""
    if GENERATOR.is_file():
        return list(demo_generator().BUILDERS)
    return sorted(p.stem for p in DEMO_MODELS_DIR.glob("*.onnx"))


def demo_model_path(name: str, generate: bool = True) -> Path:
    """Path of resources/models/<name>.onnx; generated on first use when missing and `generate` is set."""
    path = DEMO_MODELS_DIR / f"{name}.onnx"
    if path.is_file():
        return path
    known = list_demo_models()
    if name not in known:
        raise ModelError(path, f"no demo model named '{name}' (known: {', '.join(known) or 'none'})")
    if not generate:
        raise ModelError(path, "demo model not generated yet (run `workbench demo-models`)")
    return write_demo_models(DEMO_MODELS_DIR, [name])[0]


def write_demo_models(out_dir: str | Path, names: list[str] | None = None) -> list[Path]:
    """(Re)generate demo models into `out_dir`; byte-identical to the committed ones."""
    gen = demo_generator()
    chosen = names or list(gen.BUILDERS)
    unknown = [n for n in chosen if n not in gen.BUILDERS]
    if unknown:
        raise WorkbenchError(f"unknown demo model(s) {', '.join(unknown)} (known: {', '.join(gen.BUILDERS)})")
    try:
        return [gen.write(n, Path(out_dir)) for n in chosen]
    except OSError as exc:
        raise WorkbenchError(f"{out_dir}: cannot write demo models ({exc.strerror or exc})") from None
