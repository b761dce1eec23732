"""Fixtures shared by tests/plugins, tests/variants and tests/fidelity: the sample plugin, small real models."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins import helpers


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
