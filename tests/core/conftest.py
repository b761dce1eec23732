from __future__ import annotations

from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[2] / "resources" / "models"


@pytest.fixture
def demo_cnn() -> Path:
    return MODELS / "mobilenet_se.onnx"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"
