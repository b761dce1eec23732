"""The trial log: every finished trial is written at once, so a crash or unplugged phone loses nothing.

One SQLite file per workspace (`tuning.sqlite`). Re-running a study with the same name reads its
finished trials back and skips them; a study name reused with a different space is refused.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import StoreError, WorkbenchError
from workbench.core.tuner.measurement import TrialMeasurement
from workbench.core.tuner.space import TrialConfig

_SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    name TEXT PRIMARY KEY, space_digest TEXT NOT NULL, strategy TEXT NOT NULL,
    space_json TEXT NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    study TEXT NOT NULL REFERENCES studies(name), number INTEGER NOT NULL, config_key TEXT NOT NULL,
    status TEXT NOT NULL, measurement TEXT, error TEXT, finished REAL NOT NULL,
    PRIMARY KEY (study, config_key)
);
"""


@dataclass
class LoggedTrial:
    number: int
    config: TrialConfig
    status: str  # done | failed
    measurement: TrialMeasurement | None
    error: str = ""


class TrialLog:
    """SQLite-backed log of trials keyed by (study, config)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a tuning log ({exc})") from exc

    def close(self) -> None:
        self._db.close()

    def open_study(self, name: str, space_digest: str, strategy: str, space_json: str) -> list[LoggedTrial]:
        """Create the study or resume it; returns the trials already finished."""
        row = self._db.execute("SELECT space_digest FROM studies WHERE name=?", (name,)).fetchone()
        if row is None:
            with self._db:
                self._db.execute("INSERT INTO studies VALUES (?,?,?,?,?)",
                                 (name, space_digest, strategy, space_json, time.time()))
            return []
        if row[0] != space_digest:
            raise WorkbenchError(f"{self.path}: study {name!r} was run with a different search space or "
                                 f"constraints; pick a new study name to start over")
        return self.trials(name)

    def trials(self, study: str) -> list[LoggedTrial]:
        rows = self._db.execute(
            "SELECT number, config_key, status, measurement, error FROM trials WHERE study=? ORDER BY number",
            (study,)).fetchall()
        return [LoggedTrial(n, TrialConfig.from_dict(json.loads(k)), s,
                            TrialMeasurement.from_json(json.loads(m)) if m else None, e or "")
                for n, k, s, m, e in rows]

    def record(self, study: str, number: int, config: TrialConfig, measurement: TrialMeasurement | None,
               error: str = "") -> None:
        status = "done" if measurement is not None else "failed"
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO trials VALUES (?,?,?,?,?,?,?)",
                (study, number, config.key(), status,
                 json.dumps(measurement.to_json()) if measurement else None, error, time.time()))

    def studies(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM studies ORDER BY created")]
