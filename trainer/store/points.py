"""The metrics table: a run's points (step, name, value) and one summary per ended run."""
from __future__ import annotations

import json
import sqlite3
import time
from typing import Iterable, Optional

from trainer.core.metrics import MEMORY
from trainer.store.db import Database
from trainer.store.records import FINAL, THROUGHPUT, Point, Summary, summary_from_row, summarize


class Points(Database):
    def add_metrics(self, run_id: str, step: int, epoch: Optional[float],
                    values: dict[str, float]) -> None:
        now = time.time()
        with self._connect() as db:
            db.executemany(
                "INSERT INTO metrics (run_id, step, epoch, name, value, time) VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, step, epoch, k, float(v), now) for k, v in values.items()])

    def add_points(self, run_id: str, rows: Iterable[tuple[int, Optional[float], str, float, float]]) -> None:
        """Many points in one transaction, each with its own (step, epoch, name, value, time): the
        training worker's batched path (trainer.callbacks.PointWriter). Ids follow the order given."""
        with self._connect() as db:
            db.executemany(
                "INSERT INTO metrics (run_id, step, epoch, name, value, time) VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, step, epoch, name, float(value), at) for step, epoch, name, value, at in rows])

    def metrics(self, run_id: str, after_id: int = 0, prefix: str = "") -> list[Point]:
        """Metric points of a run with row id > after_id (and a name starting with `prefix`), in the
        order written."""
        with self._connect() as db:
            db.row_factory = None  # plain tuples: a long run has 100k+ points
            rows = db.execute(
                "SELECT id, step, epoch, name, value, time FROM metrics WHERE run_id = ? AND id > ?"
                + (" AND substr(name, 1, ?) = ?" if prefix else "") + " ORDER BY id",
                (run_id, after_id, len(prefix), prefix) if prefix else (run_id, after_id)).fetchall()
        return list(map(Point._make, rows))

    # summaries ----------------------------------------------------------------------------
    def summaries(self, run_ids: Iterable[str]) -> dict[str, Summary]:
        """The summaries of these runs. An ended run's is read as stored; one that is missing (a run
        from before summaries) or stale (new points, or the run ended again after a resume) is
        computed once and stored; a live run's is computed each time and not stored."""
        run_ids = list(run_ids)
        out: dict[str, Summary] = {}
        with self._connect() as db:
            for chunk in (run_ids[i:i + 500] for i in range(0, len(run_ids), 500)):
                rows = db.execute(
                    "SELECT r.*, s.last_point, s.ended AS summary_ended, s.duration_s, s.samples_per_s,"
                    " s.peak_mem_gib, s.scores,"
                    " (SELECT COALESCE(MAX(m.id), 0) FROM metrics m WHERE m.run_id = r.id) AS last_id"
                    f" FROM runs r LEFT JOIN summaries s ON s.run_id = r.id WHERE r.id IN ({','.join('?' * len(chunk))})",
                    chunk).fetchall()
                for row in rows:
                    fresh = row["scores"] is not None and row["last_point"] == row["last_id"] \
                        and row["summary_ended"] == row["ended"]
                    out[row["id"]] = summary_from_row(row) if fresh else self._summarize(db, row)
        return out

    def _summarize(self, db: sqlite3.Connection, run: sqlite3.Row) -> Summary:
        """Summarise a run from the points that matter (scores, throughput, memory, the last one);
        store it when the run has ended."""
        points = db.execute(
            "SELECT id, step, epoch, name, value, time FROM metrics WHERE run_id = ? AND (name GLOB '*@[0-9]*'"
            f" OR name IN ({','.join('?' * (1 + len(MEMORY)))})"
            " OR id = (SELECT MAX(id) FROM metrics WHERE run_id = ?)) ORDER BY id",
            (run["id"], THROUGHPUT, *MEMORY, run["id"])).fetchall()
        summary = summarize(run, map(Point._make, points))
        if run["status"] in FINAL:
            db.execute("INSERT OR REPLACE INTO summaries VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (summary.run_id, summary.last_point, summary.ended, summary.duration_s,
                        summary.samples_per_s, summary.peak_mem_gib,
                        json.dumps({k: list(v) for k, v in summary.scores.items()})))
        return summary

    def metric_count(self, run_id: str) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()[0]


