"""Fixtures shared with tests/plugins: the sample third-party plugin and small real ONNX models."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_HELPERS = Path(__file__).resolve().parents[1] / "plugins" / "helpers.py"
if "wb_test_helpers" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("wb_test_helpers", _HELPERS)
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules["wb_test_helpers"] = _mod
    _spec.loader.exec_module(_mod)
helpers = sys.modules["wb_test_helpers"]


@pytest.fixture(scope="session")
def sample_plugin() -> None:
    """The sample plugin package, pip-installed (editable, no deps) into the test env if missing."""
    helpers.ensure_sample_plugin()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def store(workspace: Path, sample_plugin: None):
    from workbench.core.passes.variants import VariantStore

    return VariantStore(workspace)


@pytest.fixture
def cnn(tmp_path: Path) -> Path:
    return helpers.small_cnn(tmp_path / "cnn.onnx")
