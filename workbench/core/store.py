"""The run store: one SQLite database per workspace, written as data arrives.

Every sample and iteration is committed when it comes in (WAL, synchronous=NORMAL: a commit costs tens of
microseconds and survives the process being killed), so a crash, SIGKILL or unplugged phone loses nothing
already measured. A run left `running` by a process that no longer exists is marked `interrupted` the next
time any store opens the database.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import psutil

from workbench.core.errors import StoreError
from workbench.core.types import (
    BenchmarkJob,
    BenchmarkResult,
    ChannelSpec,
    IterationEvent,
    LatencyStats,
    LayerTiming,
    MemoryStats,
    ProfiledSummary,
    RunStatus,
    Sample,
)

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL, model TEXT NOT NULL, label TEXT DEFAULT '',
    status TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL,
    owner_pid INTEGER, owner_started REAL,
    job_json TEXT, result_json TEXT, error TEXT DEFAULT ''
);
CREATE TABLE IF NOT EXISTS channels (run_id INTEGER, key TEXT, unit TEXT, grp TEXT, label TEXT,
    PRIMARY KEY (run_id, key));
CREATE TABLE IF NOT EXISTS samples (run_id INTEGER, t REAL, data TEXT);
CREATE INDEX IF NOT EXISTS samples_run ON samples (run_id, t);
CREATE TABLE IF NOT EXISTS iterations (run_id INTEGER, idx INTEGER, phase TEXT, t REAL, ms REAL);
CREATE INDEX IF NOT EXISTS iterations_run ON iterations (run_id);
CREATE TABLE IF NOT EXISTS layers (run_id INTEGER, pos INTEGER, name TEXT, op_type TEXT, provider TEXT,
    count INTEGER, mean_us REAL, p50_us REAL, p90_us REAL, total_us REAL, share REAL);
CREATE INDEX IF NOT EXISTS layers_run ON layers (run_id);
CREATE TABLE IF NOT EXISTS layer_events (run_id INTEGER, run INTEGER, name TEXT, op_type TEXT, t REAL, dur_us REAL);
CREATE INDEX IF NOT EXISTS layer_events_run ON layer_events (run_id);
"""


def _process_started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


class RunStore:
    """Thread-safe access to one workspace database (`runs.sqlite` in the workspace folder)."""

    def __init__(self, workspace: str | Path) -> None:
        self.workspace = Path(workspace)
        try:
            self.workspace.mkdir(parents=True, exist_ok=True)
            self.path = self.workspace / "runs.sqlite"
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise StoreError(f"{self.workspace}: cannot open the run store ({exc})") from exc
        self._lock = threading.Lock()
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self.mark_interrupted()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, args: tuple | list = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    def _query(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- writing -----------------------------------------------------------------------------------
    def create_run(self, device: str, model: str, job: BenchmarkJob) -> int:
        me = os.getpid()
        cur = self._exec(
            "INSERT INTO runs (device, model, label, status, started_at, owner_pid, owner_started, job_json)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (device, model, job.label, RunStatus.RUNNING.value, time.time(), me, _process_started(me),
             json.dumps(job.to_json())),
        )
        return int(cur.lastrowid)

    def add_channels(self, run_id: int, channels: list[ChannelSpec]) -> None:
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO channels VALUES (?,?,?,?,?)",
                                 [(run_id, c.key, c.unit, c.group, c.label) for c in channels])

    def add_sample(self, run_id: int, sample: Sample) -> None:
        self._exec("INSERT INTO samples VALUES (?,?,?)", (run_id, sample.t, json.dumps(sample.values)))

    def add_iteration(self, run_id: int, it: IterationEvent) -> None:
        self._exec("INSERT INTO iterations VALUES (?,?,?,?,?)", (run_id, it.index, it.phase, it.t_start, it.latency_ms))

    def add_layers(self, run_id: int, layers: list[LayerTiming], events: list[tuple[int, str, str, float, float]]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT INTO layers VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [(run_id, i, lt.name, lt.op_type, lt.provider, lt.count, lt.mean_us, lt.p50_us, lt.p90_us,
                      lt.total_us, lt.share) for i, lt in enumerate(layers)])
                self._db.executemany("INSERT INTO layer_events VALUES (?,?,?,?,?,?)",
                                     [(run_id, *ev) for ev in events])
            except BaseException:
                self._db.execute("ROLLBACK")  # never leave the shared connection inside an open transaction
                raise
            self._db.execute("COMMIT")

    def finish_run(self, result: BenchmarkResult) -> None:
        payload = asdict(result)
        payload.pop("layers")  # in their own table
        self._exec("UPDATE runs SET status=?, ended_at=?, result_json=?, error=? WHERE id=?",
                   (result.status.value, time.time(), json.dumps(payload, default=str), result.error, result.run_id))

    def mark_interrupted(self) -> int:
        """Runs still `running` whose owning process is gone were killed: say so, keep their data."""
        stale = []
        for run_id, pid, started in self._query("SELECT id, owner_pid, owner_started FROM runs WHERE status=?",
                                                (RunStatus.RUNNING.value,)):
            alive = pid is not None and _process_started(pid) is not None and (
                started is None or abs((_process_started(pid) or 0) - started) < 1.0)
            if not alive:
                stale.append(run_id)
        for run_id in stale:
            self._exec("UPDATE runs SET status=?, error=? WHERE id=? AND status=?",
                       (RunStatus.INTERRUPTED.value, "the workbench process ended during the run",
                        run_id, RunStatus.RUNNING.value))
        return len(stale)

    # -- reading -----------------------------------------------------------------------------------
    def list_runs(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT r.id, r.device, r.model, r.label, r.status, r.started_at, r.ended_at, r.result_json,"
            " (SELECT COUNT(*) FROM samples s WHERE s.run_id=r.id),"
            " (SELECT COUNT(*) FROM iterations i WHERE i.run_id=r.id AND i.phase='measure')"
            " FROM runs r ORDER BY r.id DESC LIMIT ?", (limit,))
        out = []
        for rid, device, model, label, status, started, ended, result_json, n_samples, n_iters in rows:
            result = json.loads(result_json) if result_json else {}
            p50 = ((result.get("latency") or {}).get("p50_ms"))
            out.append(dict(id=rid, device=device, model=model, label=label, status=status, started_at=started,
                            ended_at=ended, samples=n_samples, iterations=n_iters, p50_ms=p50))
        return out

    def run_row(self, run_id: int) -> dict[str, Any]:
        rows = self._query("SELECT id, device, model, label, status, started_at, ended_at, job_json, result_json,"
                           " error FROM runs WHERE id=?", (run_id,))
        if not rows:
            raise StoreError(f"no run {run_id} in {self.path}")
        keys = ("id", "device", "model", "label", "status", "started_at", "ended_at", "job_json", "result_json",
                "error")
        return dict(zip(keys, rows[0]))

    def get_result(self, run_id: int) -> BenchmarkResult:
        row = self.run_row(run_id)
        data = json.loads(row["result_json"]) if row["result_json"] else {}
        result = BenchmarkResult(run_id=run_id, status=RunStatus(row["status"]), device=row["device"],
                                 model=row["model"], error=row["error"] or "")
        if data:
            result.latency = LatencyStats(**data["latency"]) if data.get("latency") else None
            result.first_run_ms = data.get("first_run_ms")
            result.session_load_ms = data.get("session_load_ms")
            result.profiled = ProfiledSummary(**data["profiled"]) if data.get("profiled") else None
            result.memory = MemoryStats(**data.get("memory", {}))
            result.conditions = data.get("conditions", {})
            result.inputs = data.get("inputs", {})
            result.outputs_digest = data.get("outputs_digest", "")
        elif result.status in (RunStatus.INTERRUPTED, RunStatus.RUNNING):
            from workbench.core.stats import latency_stats

            result.latency = latency_stats([it.latency_ms for it in self.iterations(run_id) if it.phase == "measure"])
        result.layers = self.layers(run_id)
        return result

    def job(self, run_id: int) -> BenchmarkJob | None:
        row = self.run_row(run_id)
        return BenchmarkJob.from_json(json.loads(row["job_json"])) if row["job_json"] else None

    def idle_temperatures(self, device: str, limit: int = 50) -> dict[str, float]:
        """Per thermal channel, the coolest start temperature of this device's recent finished runs."""
        idle: dict[str, float] = {}
        for (result_json,) in self._query("SELECT result_json FROM runs WHERE device=? AND status=? AND result_json"
                                          " IS NOT NULL ORDER BY id DESC LIMIT ?",
                                          (device, RunStatus.DONE.value, limit)):
            temps = (json.loads(result_json).get("conditions") or {}).get("temp_start_c") or {}
            for key, value in temps.items():
                idle[key] = min(value, idle.get(key, value))
        return idle

    def channels(self, run_id: int) -> list[ChannelSpec]:
        return [ChannelSpec(k, u, g, lab) for k, u, g, lab in
                self._query("SELECT key, unit, grp, label FROM channels WHERE run_id=? ORDER BY rowid", (run_id,))]

    def iter_samples(self, run_id: int) -> Iterator[Sample]:
        for t, data in self._query("SELECT t, data FROM samples WHERE run_id=? ORDER BY t", (run_id,)):
            yield Sample(t, json.loads(data))

    def samples(self, run_id: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Samples as a time array and one array per channel (NaN where a tick lacked the value)."""
        rows = list(self.iter_samples(run_id))
        t = np.array([s.t for s in rows], dtype=float)
        keys = [c.key for c in self.channels(run_id)] or sorted({k for s in rows for k in s.values})
        series = {k: np.array([s.values.get(k, np.nan) for s in rows], dtype=float) for k in keys}
        return t, series

    def iterations(self, run_id: int) -> list[IterationEvent]:
        return [IterationEvent(idx, phase, t, ms) for idx, phase, t, ms in
                self._query("SELECT idx, phase, t, ms FROM iterations WHERE run_id=? ORDER BY rowid", (run_id,))]

    def layers(self, run_id: int) -> list[LayerTiming]:
        return [LayerTiming(*row) for row in self._query(
            "SELECT name, op_type, provider, count, mean_us, p50_us, p90_us, total_us, share FROM layers"
            " WHERE run_id=? ORDER BY pos", (run_id,))]

    def layer_events(self, run_id: int) -> list[tuple[int, str, str, float, float]]:
        return self._query("SELECT run, name, op_type, t, dur_us FROM layer_events WHERE run_id=? ORDER BY t",
                           (run_id,))
