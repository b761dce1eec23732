"""TCP adb targets (`host:port`) the user connected to before, kept across runs in one JSON file.

USB phones announce themselves; TCP ones do not, so discovery lists the remembered ones. The file
is `<user config dir>/edge-workbench/adb_targets.json`: {"version": 1, "targets": [{"host", "port"}]}.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir

from workbench.core.errors import WorkbenchError


@dataclass(frozen=True)
class TcpTarget:
    host: str
    port: int

    @property
    def serial(self) -> str:
        return f"{self.host}:{self.port}"


def default_path() -> Path:
    return Path(user_config_dir("edge-workbench")) / "adb_targets.json"


def load(path: Path | None = None) -> list[TcpTarget]:
    """Remembered targets; a missing file is an empty list, a broken one a one-line error."""
    path = path or default_path()
    if not path.exists():
        return []
    try:
        doc = json.loads(path.read_text())
        return [TcpTarget(str(t["host"]), int(t["port"])) for t in doc["targets"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WorkbenchError(f"{path}: not a remembered-targets file ({type(exc).__name__}: {exc})") from exc


def _save(targets: list[TcpTarget], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": 1, "targets": [{"host": t.host, "port": t.port} for t in targets]}, indent=2))
    os.replace(tmp, path)  # atomic: a crash never leaves half a file


def remember(host: str, port: int, path: Path | None = None) -> list[TcpTarget]:
    path = path or default_path()
    targets = load(path)
    target = TcpTarget(host, int(port))
    if target not in targets:
        targets.append(target)
        _save(targets, path)
    return targets


def forget(host: str, port: int, path: Path | None = None) -> list[TcpTarget]:
    path = path or default_path()
    targets = [t for t in load(path) if t != TcpTarget(host, int(port))]
    _save(targets, path)
    return targets
