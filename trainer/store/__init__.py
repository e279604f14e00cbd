"""The run store: one SQLite database (WAL) under the runs folder.

The main channel between the dashboard and the worker (docs/DESIGN-NOTES.md lists the others): runs
(status, config, pid, output dir, error), metric points, and one summary per ended run (what the Runs and Compare tables show,
computed once from the points, so a page never reads every point of every run). Every call opens
its own connection, so threads and processes can share one store safely.
"""
from __future__ import annotations

import enum
import json
import os
import re
import secrets
import sqlite3
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Optional

from trainer.core.config import RunConfig
from trainer.core.metrics import MEMORY, Metric
from trainer.store.run_folder import RunFolder

class Status(enum.StrEnum):
    """A run's status, as the store keeps it."""
    WAITING = "waiting"       # in the queue (trainer.launch.enqueue): starts when the device is free, in creation order
    QUEUED = "queued"         # created, its worker starting
    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"   # the worker ended without a final word (an app or machine restart, Ctrl-C)
    PRUNED = "pruned"         # a settings-search trial its study cut short (trainer.sweep): stopped, its scores too low


class ScanStatus(enum.StrEnum):
    """A training file's scan (the scans table)."""
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


QUEUED, RUNNING, COMPLETED, STOPPED, FAILED, INTERRUPTED, WAITING, PRUNED = (
    Status.QUEUED, Status.RUNNING, Status.COMPLETED, Status.STOPPED, Status.FAILED, Status.INTERRUPTED, Status.WAITING,
    Status.PRUNED)
LIVE = (QUEUED, RUNNING)
FINAL = (COMPLETED, STOPPED, FAILED, INTERRUPTED, PRUNED)

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
    skipped_rows INTEGER NOT NULL DEFAULT 0,
    study TEXT                     -- the settings search (trainer.sweep) this run is a trial of, or NULL
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
CREATE INDEX IF NOT EXISTS runs_created ON runs(created);
CREATE INDEX IF NOT EXISTS runs_mode ON runs(mode, created);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status, created);
CREATE TABLE IF NOT EXISTS summaries (
    run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    last_point INTEGER NOT NULL,   -- the run's last metric row when computed, and its end time:
    ended REAL,                    -- a run that gets new points or ends again is summarised again
    duration_s REAL NOT NULL,
    samples_per_s REAL,
    peak_mem_gib REAL,
    scores TEXT NOT NULL           -- JSON {metric: [first, best, best_step, best_time, final]}
);
-- One streaming scan per version (path, size, mtime) of a training file (trainer.scan): its progress while
-- it runs, then its result (counts, the first problems, the negatives histogram, a checksum) as JSON.
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    status TEXT NOT NULL,          -- running, done, failed
    pid INTEGER,
    started REAL NOT NULL,
    ended REAL,
    bytes_read INTEGER NOT NULL DEFAULT 0,
    lines INTEGER NOT NULL DEFAULT 0,
    rows INTEGER NOT NULL DEFAULT 0,
    problems INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT,
    UNIQUE (path, size, mtime_ns)
);
CREATE TABLE IF NOT EXISTS scan_samples (     -- a bounded reservoir sample of a scan's valid rows
    scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    row TEXT NOT NULL,             -- the row as JSON
    PRIMARY KEY (scan_id, line)
);
CREATE TABLE IF NOT EXISTS scan_lengths (     -- suggested truncation lengths from a scan's sample, per model
    scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    advice TEXT NOT NULL,
    PRIMARY KEY (scan_id, model)
);
-- Named training files (the Data page's uploads and mined files, or a path given a name): offered on Configure.
-- Counts, negatives and the language check come from the file's scan, per version; the file itself lives in
-- the runs folder (uploads/, mining/), so an app restart keeps it.
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL,          -- upload, mined, path
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_files (        -- the training file a run was checked on (trainer.scan)
    run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    checksum TEXT NOT NULL,
    rows INTEGER NOT NULL
);
"""
# Scores at a cut-off (dense.mrr@10, hybrid.ndcg@10, test.dense.mrr@10, ...): higher is better.
SCORE = re.compile(r"@\d+$")
THROUGHPUT = Metric.SAMPLES_PER_S
KEEP_SCANS = 32        # scans of training files kept (the newest); older ones go with their samples


DEFAULT_RUNS_DIR = "runs"     # the run store's folder when none is given (the CLI's --runs-dir, the app's M3_RUNS_DIR)


class DeviceBusy(RuntimeError):
    """Store.create_run found a live run holding the device."""

    def __init__(self, run_ids: list[str]):
        super().__init__(f"run {run_ids[0]} is still training on this machine")
        self.run_ids = run_ids


PRIVATE_UMASK = 0o077


@dataclass
class Run:
    id: str
    name: str
    created: float
    status: str
    mode: str
    config_json: str = field(repr=False)
    error: Optional[str]
    pid: Optional[int]
    output_dir: str
    stop_requested: bool
    started: Optional[float]
    ended: Optional[float]
    skipped_rows: int
    study: Optional[str] = None

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def folder(self) -> RunFolder:
        """The run's folder and the files in it (trainer.run_folder)."""
        return RunFolder(Path(self.output_dir))

    @cached_property
    def config(self) -> RunConfig:
        """Parsed when asked for: a list of a thousand runs needs their names, not their settings."""
        return RunConfig.from_json(self.config_json)


class Point(NamedTuple):
    id: int
    step: int
    epoch: Optional[float]
    name: str
    value: float
    time: float


class Score(NamedTuple):
    first: float
    best: float
    best_step: int
    best_time: float
    final: float


@dataclass
class Summary:
    """What a run's points say, in a few numbers: the median throughput, peak memory, and for every
    score metric its first, best and final value."""
    run_id: str
    last_point: int
    ended: Optional[float]
    duration_s: float
    samples_per_s: Optional[float]
    peak_mem_gib: Optional[float]
    scores: dict[str, Score]


def summarize(run: Mapping[str, Any], points: Iterable[Point]) -> Summary:
    """A run's summary (from its `runs` row: id, created, started, ended) and its points, in the order
    written. Points that are neither scores, throughput nor memory count only for the last one's time."""
    scores: dict[str, Score] = {}
    throughput: list[float] = []
    memory: dict[str, float] = {}
    last = Point(0, 0, None, "", 0.0, 0.0)
    for p in points:
        last = p
        if SCORE.search(p.name):
            old = scores.get(p.name)
            if old is None:
                scores[p.name] = Score(p.value, p.value, p.step, p.time, p.value)
            elif p.value > old.best:
                scores[p.name] = Score(old.first, p.value, p.step, p.time, p.value)
            else:
                scores[p.name] = old._replace(final=p.value)
        elif p.name == THROUGHPUT:
            throughput.append(p.value)
        elif p.name in MEMORY:
            memory[p.name] = max(p.value, memory.get(p.name, p.value))
    start = run["started"] or run["created"]
    end = run["ended"] or (last.time if last.id else start)
    return Summary(run_id=run["id"], last_point=last.id, ended=run["ended"], duration_s=max(0.0, end - start),
                   samples_per_s=statistics.median(throughput) if throughput else None,
                   peak_mem_gib=next((memory[m] for m in MEMORY if m in memory), None), scores=scores)


class Store:
    def __init__(self, runs_dir: str | os.PathLike):
        self.runs_dir = Path(runs_dir).resolve()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        # The runs (data samples, models, logs, uploads) are this user's only: the folder, and every file a process
        # that holds the store writes (and the workers it starts, which inherit the mask)
        os.umask(PRIVATE_UMASK)
        folder = self.runs_dir.stat()
        if folder.st_mode & 0o077 and folder.st_uid == os.getuid():
            self.runs_dir.chmod(0o700)
        self.path = self.runs_dir / "runs.db"
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            if "study" not in {c["name"] for c in db.execute("PRAGMA table_info(runs)")}:   # a store made before it
                db.execute("ALTER TABLE runs ADD COLUMN study TEXT")

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
    def create_run(self, config: RunConfig, status: str = QUEUED, train_file: Optional[Mapping[str, Any]] = None,
                   busy: Optional[Callable[[list[Run]], list[str]]] = None, study: Optional[str] = None) -> str:
        """A new queued run; its id is the creation second plus 6 random hex digits, readable and in
        time order, and made unique in the insert itself: a taken id (a burst of runs in one second)
        draws again. `train_file` (path, size, mtime_ns, checksum, rows: the version the preflight
        checked) is kept with it in the same transaction; the worker refuses a file that changed since.
        With `busy` (the live runs → those still holding the device), "create if the device is idle" is one
        write transaction, like take_waiting: two processes (the command line and the dashboard) never
        both create one; the loser gets DeviceBusy. `study`: the settings search it is a trial of."""
        name = config.name or f"{config.mode.value} {time.strftime('%m-%d %H:%M')}"
        for _ in range(100):
            run_id = new_run_id()
            with self._connect() as db:
                if busy is not None:
                    db.execute("BEGIN IMMEDIATE")          # the write lock first: the check and the insert are one
                    holding = busy([_run(r) for r in db.execute("SELECT * FROM runs WHERE status IN (?, ?)", LIVE)])
                    if holding:
                        raise DeviceBusy(holding)
                if db.execute(
                        "INSERT OR IGNORE INTO runs (id, name, created, status, mode, config, output_dir, study)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (run_id, name, time.time(), status, config.mode.value, config.to_json(),
                         str(self.runs_dir / run_id), study)).rowcount == 1:
                    if train_file:
                        db.execute("INSERT INTO run_files VALUES (?, ?, ?, ?, ?, ?)",
                                   (run_id, *(train_file[k] for k in ("path", "size", "mtime_ns", "checksum", "rows"))))
                    return run_id
        raise RuntimeError(f"no free run id after 100 draws in {self.path}")

    def get_run(self, run_id: str) -> Run:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id!r} in {self.path}")
        return _run(row)

    def list_runs(self, *, mode: Optional[str] = None, status: Iterable[str] = (), name: str = "",
                  limit: int = -1, offset: int = 0) -> list[Run]:
        """Runs, newest first; only those of `mode`, of a status in `status`, whose name or id contains
        `name` (any case) when given; `limit` of them from `offset` (-1: all)."""
        where, args = _filter(mode, status, name)
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM runs {where} ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                              (*args, limit, offset)).fetchall()
        return [_run(r) for r in rows]

    def study_runs(self, study: str) -> list[Run]:
        """The trials of one settings search, oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs WHERE study = ? ORDER BY created, rowid", (study,)).fetchall()
        return [_run(r) for r in rows]

    def count_runs(self, *, mode: Optional[str] = None, status: Iterable[str] = (), name: str = "") -> int:
        where, args = _filter(mode, status, name)
        with self._connect() as db:
            return db.execute(f"SELECT COUNT(*) FROM runs {where}", args).fetchone()[0]

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
            changed = db.execute(sql, args).rowcount == 1
            if changed and status in FINAL:     # the run ended: summarise it once, now
                self._summarize(db, db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())
            return changed

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
                    out[row["id"]] = _summary(row) if fresh else self._summarize(db, row)
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


    # scans of training files (trainer.scan) ------------------------------------------------
    def claim_scan(self, path: str, size: int, mtime_ns: int, pid: Optional[int] = None) -> tuple[int, bool]:
        """The scan row of this file version: (id, True) when this call created it (`running`), (id,
        False) when it was there. Scans of the path's other versions go."""
        with self._connect() as db:
            row = db.execute("INSERT OR IGNORE INTO scans (path, size, mtime_ns, status, pid, started)"
                             " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                             (path, size, mtime_ns, ScanStatus.RUNNING, pid, time.time())).fetchone()
            if row is None:
                return db.execute("SELECT id FROM scans WHERE path = ? AND size = ? AND mtime_ns = ?",
                                  (path, size, mtime_ns)).fetchone()[0], False
            db.execute("DELETE FROM scans WHERE path = ? AND id != ?", (path, row[0]))
            db.execute("DELETE FROM scans WHERE id NOT IN (SELECT id FROM scans ORDER BY id DESC LIMIT ?)", (KEEP_SCANS,))
            return row[0], True

    def running_scans(self) -> list[dict]:
        with self._connect() as db:
            return [dict(r) for r in db.execute("SELECT * FROM scans WHERE status = ?", (ScanStatus.RUNNING,))]

    def find_scan(self, path: str, size: int, mtime_ns: int) -> Optional[dict]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM scans WHERE path = ? AND size = ? AND mtime_ns = ?",
                             (path, size, mtime_ns)).fetchone()
        return dict(row) if row else None

    def get_scan(self, scan_id: int) -> Optional[dict]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM scans WHERE id = ?", (scan_id,)).fetchone()
        return dict(row) if row else None

    def scan_progress(self, scan_id: int, *, pid: Optional[int] = None, bytes_read: int, lines: int, rows: int,
                      problems: int) -> None:
        with self._connect() as db:
            db.execute("UPDATE scans SET pid = COALESCE(?, pid), bytes_read = ?, lines = ?, rows = ?, problems = ?"
                       " WHERE id = ?", (pid, bytes_read, lines, rows, problems, scan_id))

    def finish_scan(self, scan_id: int, result: dict, sample: Iterable[tuple[int, str]],
                    lengths: Optional[tuple[str, dict]] = None) -> None:
        """The scan's result, its sample and (model, suggested lengths), in one transaction."""
        with self._connect() as db:
            if lengths:
                db.execute("INSERT OR REPLACE INTO scan_lengths VALUES (?, ?, ?)",
                           (scan_id, lengths[0], json.dumps(lengths[1])))
            db.execute("DELETE FROM scan_samples WHERE scan_id = ?", (scan_id,))
            db.executemany("INSERT INTO scan_samples (scan_id, line, row) VALUES (?, ?, ?)",
                           ((scan_id, line, row) for line, row in sample))
            db.execute("UPDATE scans SET status = ?, ended = ?, result = ?, bytes_read = ?, lines = ?, rows = ?,"
                       " problems = ?, error = NULL WHERE id = ?",
                       (ScanStatus.DONE, time.time(), json.dumps(result, ensure_ascii=False), result["size"], result["lines"],
                        result["rows"], result["error_count"], scan_id))

    def fail_scan(self, scan_id: int, error: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE scans SET status = ?, ended = ?, error = ? WHERE id = ?",
                       (ScanStatus.FAILED, time.time(), error, scan_id))

    def delete_scan(self, scan_id: int) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM scans WHERE id = ?", (scan_id,))

    def scan_sample(self, scan_id: int, limit: int = -1) -> list[tuple[int, str]]:
        """(line, row JSON) of a scan's sample, in file order; `limit` of them (-1: all)."""
        with self._connect() as db:
            return [tuple(r) for r in db.execute("SELECT line, row FROM scan_samples WHERE scan_id = ? ORDER BY line"
                                                 " LIMIT ?", (scan_id, limit))]

    def scan_lengths(self, scan_id: int, model: str) -> Optional[dict]:
        with self._connect() as db:
            row = db.execute("SELECT advice FROM scan_lengths WHERE scan_id = ? AND model = ?",
                             (scan_id, model)).fetchone()
        return json.loads(row[0]) if row else None

    def set_scan_lengths(self, scan_id: int, model: str, advice: dict) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO scan_lengths VALUES (?, ?, ?)", (scan_id, model, json.dumps(advice)))

    def add_dataset(self, name: str, path: str, origin: str) -> int:
        """A named training file (kept once per path: adding it again renames it); its id."""
        with self._connect() as db:
            db.execute("INSERT INTO datasets (name, path, origin, created) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT(path) DO UPDATE SET name = excluded.name", (name, str(path), origin, time.time()))
            return db.execute("SELECT id FROM datasets WHERE path = ?", (str(path),)).fetchone()["id"]

    def datasets(self) -> list[dict]:
        """Every named training file whose file still exists, newest first."""
        with self._connect() as db:
            rows = [dict(r) for r in db.execute("SELECT * FROM datasets ORDER BY created DESC, id DESC")]
        return [r for r in rows if Path(r["path"]).is_file()]

    def remove_dataset(self, dataset_id: int) -> None:
        """Forget a named training file; the file itself goes too when the dashboard made it (an upload, a mined
        file: inside the runs folder), never a file of the user's own."""
        with self._connect() as db:
            row = db.execute("DELETE FROM datasets WHERE id = ? RETURNING path", (dataset_id,)).fetchone()
        path = Path(row["path"]).resolve() if row else None
        if path is not None and path.is_relative_to(self.runs_dir) and path.is_file():
            path.unlink()

    def dataset_for(self, path: str) -> Optional[dict]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM datasets WHERE path = ?", (str(path),)).fetchone()
        return dict(row) if row else None

    def set_run_file(self, run_id: str, path: str, size: int, mtime_ns: int, checksum: str, rows: int) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO run_files VALUES (?, ?, ?, ?, ?, ?)",
                       (run_id, path, size, mtime_ns, checksum, rows))

    def run_file(self, run_id: str) -> Optional[dict]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM run_files WHERE run_id = ?", (run_id,)).fetchone()
        return dict(row) if row else None


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def _filter(mode: Optional[str], status: Iterable[str], name: str) -> tuple[str, list]:
    clauses, args = [], []
    if mode:
        clauses.append("mode = ?")
        args.append(mode)
    status = tuple(status)
    if status:
        clauses.append(f"status IN ({','.join('?' * len(status))})")
        args.extend(status)
    if name:
        pattern = "%" + re.sub(r"([%_\\])", r"\\\1", name) + "%"
        clauses.append("(name LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\')")
        args.extend([pattern, pattern])
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


def _summary(row: sqlite3.Row) -> Summary:
    return Summary(run_id=row["id"], last_point=row["last_point"], ended=row["summary_ended"],
                   duration_s=row["duration_s"], samples_per_s=row["samples_per_s"], peak_mem_gib=row["peak_mem_gib"],
                   scores={k: Score(*v) for k, v in json.loads(row["scores"]).items()})


def _run(row: sqlite3.Row) -> Run:
    data = dict(row)
    data["config_json"] = data.pop("config")
    data["stop_requested"] = bool(data["stop_requested"])
    return Run(**data)
