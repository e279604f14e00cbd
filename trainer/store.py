"""The run store: one SQLite database (WAL) under the runs folder.

It is the only contract between the dashboard and the worker: runs (status, config, pid, output
dir, error) and metric points. Every call opens its own connection, so threads and processes
can share one store safely.
"""
from __future__ import annotations

import os
import secrets
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Optional

from .config import RunConfig

QUEUED, RUNNING, COMPLETED, STOPPED, FAILED, INTERRUPTED = (
    "queued", "running", "completed", "stopped", "failed", "interrupted")
WAITING = "waiting"   # in the queue (trainer.launch.enqueue): starts when the device is free, in creation order
LIVE = (QUEUED, RUNNING)
FINAL = (COMPLETED, STOPPED, FAILED, INTERRUPTED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    status TEXT NOT NULL,
    mode TEXT NOT NULL,
    config TEXT NOT NULL,
    error TEXT,
    pid INTEGER,
    output_dir TEXT NOT NULL,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    started REAL,
    ended REAL,
    skipped_rows INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    epoch REAL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics(run_id, id);
"""


@dataclass
class Run:
    id: str
    name: str
    created: float
    status: str
    mode: str
    config: RunConfig
    error: Optional[str]
    pid: Optional[int]
    output_dir: str
    stop_requested: bool
    started: Optional[float]
    ended: Optional[float]
    skipped_rows: int

    @property
    def live(self) -> bool:
        return self.status in LIVE


class Point(NamedTuple):
    id: int
    step: int
    epoch: Optional[float]
    name: str
    value: float
    time: float


class Store:
    def __init__(self, runs_dir: str | os.PathLike):
        self.runs_dir = Path(runs_dir).resolve()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.runs_dir / "runs.db"
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            with db:  # one transaction per call
                yield db
        finally:
            db.close()

    # runs ---------------------------------------------------------------------------------
    def create_run(self, config: RunConfig, status: str = QUEUED) -> str:
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
        output_dir = self.runs_dir / run_id
        name = config.name or f"{config.mode.value} {time.strftime('%m-%d %H:%M')}"
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id, name, created, status, mode, config, output_dir)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, name, time.time(), status, config.mode.value, config.to_json(),
                 str(output_dir)))
        return run_id

    def get_run(self, run_id: str) -> Run:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id!r} in {self.path}")
        return _run(row)

    def list_runs(self) -> list[Run]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY created DESC").fetchall()
        return [_run(r) for r in rows]

    def set_status(self, run_id: str, status: str, *, error: Optional[str] = None,
                   only_if: Iterable[str] = ()) -> bool:
        """Set a run's status; with `only_if`, only when the current status is one of those.

        Returns whether the row changed, so a watcher never overwrites the worker's final word.
        """
        now = time.time()
        fields = "status = ?, error = COALESCE(?, error)"
        fields += ", started = COALESCE(started, ?)" if status == RUNNING else ""
        fields += ", ended = ?" if status in FINAL else ""
        args: list = [status, error] + ([now] if status == RUNNING or status in FINAL else [])
        sql = f"UPDATE runs SET {fields} WHERE id = ?"
        args.append(run_id)
        only_if = tuple(only_if)
        if only_if:
            sql += f" AND status IN ({','.join('?' * len(only_if))})"
            args.extend(only_if)
        with self._connect() as db:
            return db.execute(sql, args).rowcount == 1

    def take_waiting(self, among: Iterable[str] = ()) -> Optional[str]:
        """The first waiting run (of `among`, if given), now queued to start; None while another run is
        queued or running, or none waits. One transaction, so two callers never start two runs."""
        among = tuple(among)
        pick = f" AND id IN ({','.join('?' * len(among))})" if among else ""
        with self._connect() as db:
            row = db.execute(
                f"UPDATE runs SET status = ? WHERE id = (SELECT id FROM runs WHERE status = ?{pick}"
                f" ORDER BY created, rowid LIMIT 1) AND NOT EXISTS (SELECT 1 FROM runs WHERE status IN (?, ?))"
                f" RETURNING id", (QUEUED, WAITING, *among, *LIVE)).fetchone()
        return row[0] if row else None

    def reopen(self, run_id: str, from_statuses: Iterable[str]) -> bool:
        """Queue an ended run again (to resume it); its metric points stay as they are."""
        from_statuses = tuple(from_statuses)
        with self._connect() as db:
            return db.execute(
                f"UPDATE runs SET status = ?, error = NULL, ended = NULL, pid = NULL, stop_requested = 0"
                f" WHERE id = ? AND status IN ({','.join('?' * len(from_statuses))})",
                (QUEUED, run_id, *from_statuses)).rowcount == 1

    def set_pid(self, run_id: str, pid: Optional[int]) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET pid = ? WHERE id = ?", (pid, run_id))

    def set_skipped_rows(self, run_id: str, count: int) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET skipped_rows = ? WHERE id = ?", (count, run_id))

    def rename(self, run_id: str, name: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    def delete(self, run_id: str) -> None:
        run = self.get_run(run_id)
        if run.live:
            raise ValueError(f"run {run_id} is still {run.status}; stop it first")
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def request_stop(self, run_id: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET stop_requested = 1 WHERE id = ?", (run_id,))

    def stop_requested(self, run_id: str) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT stop_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row[0])

    # metrics ------------------------------------------------------------------------------
    def add_metrics(self, run_id: str, step: int, epoch: Optional[float],
                    values: dict[str, float]) -> None:
        now = time.time()
        with self._connect() as db:
            db.executemany(
                "INSERT INTO metrics (run_id, step, epoch, name, value, time) VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, step, epoch, k, float(v), now) for k, v in values.items()])

    def metrics(self, run_id: str, after_id: int = 0) -> list[Point]:
        """Metric points of a run with row id > after_id, in the order written."""
        with self._connect() as db:
            db.row_factory = None  # plain tuples: a long run has 100k+ points
            rows = db.execute(
                "SELECT id, step, epoch, name, value, time FROM metrics"
                " WHERE run_id = ? AND id > ? ORDER BY id", (run_id, after_id)).fetchall()
        return list(map(Point._make, rows))

    def metric_count(self, run_id: str) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()[0]


def _run(row: sqlite3.Row) -> Run:
    data = dict(row)
    data["config"] = RunConfig.from_json(data["config"])
    data["stop_requested"] = bool(data["stop_requested"])
    return Run(**data)
