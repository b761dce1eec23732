"""Where a workspace lives: one folder with the run store, pushed-model cache and variants."""
from __future__ import annotations

from pathlib import Path

import platformdirs


def default_workspace_dir() -> Path:
    return Path(platformdirs.user_data_dir("edge-workbench", appauthor=False)) / "default"
