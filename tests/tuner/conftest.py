from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.tuner.recorded import RecordedSpace

RECORDED = Path(__file__).resolve().parents[2] / "bench" / "data" / "mobilenet_se_space.json"


@pytest.fixture
def recorded() -> RecordedSpace:
    """84 configurations of resources/models/mobilenet_se.onnx measured on the dev VM (real runs)."""
    return RecordedSpace.load(RECORDED)
