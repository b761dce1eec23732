"""Edge Workbench: profile, optimize and tune ONNX models on phones and on this machine."""

__version__ = "0.1.0"
