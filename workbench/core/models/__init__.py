"""ONNX model files: validated loading, inspection reports, and the bundled demo models."""
from __future__ import annotations

from workbench.core.models.inspect import ModelReport, TensorInfo, inspect_model
from workbench.core.models.load import load_model
from workbench.core.models.resources import demo_model_path, list_demo_models, write_demo_models

__all__ = ["ModelReport", "TensorInfo", "inspect_model", "load_model", "demo_model_path", "list_demo_models",
           "write_demo_models"]
