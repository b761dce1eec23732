"""Errors that carry a message fit to show a user as one line.

Every error the CLI or GUI shows comes from here, so both can print `str(err)` and nothing else.
"""
from __future__ import annotations

from pathlib import Path


class WorkbenchError(Exception):
    """Base for errors whose text is meant for the user (no traceback needed)."""


class ModelError(WorkbenchError):
    """A model file is missing, unreadable, corrupt, or uses something we cannot run."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class DeviceError(WorkbenchError):
    """A device is unknown, offline, unauthorized, or a command on it failed."""

    def __init__(self, device: str, problem: str) -> None:
        self.device = device
        self.problem = problem
        super().__init__(f"device {device}: {problem}")


class DeviceDisconnected(DeviceError):
    """The link to a device went away mid-operation (unplugged, adbd restarted, network lost)."""


class RunFailed(WorkbenchError):
    """The runner process failed (crash inside onnxruntime, OOM, bad input)."""


class RunCancelled(WorkbenchError):
    """The user cancelled the run (Ctrl-C, Stop button, window closed)."""


class InputSpecError(WorkbenchError):
    """A --shape/--input option does not match the model's inputs."""


class StoreError(WorkbenchError):
    """The workspace database cannot be opened or is not ours."""
