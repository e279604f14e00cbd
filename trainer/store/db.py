"""The run store's one connection owner: the SQLite database (WAL) under the runs folder, its schema and its
private folder. The tables' calls (runs, metrics, scans, datasets) are mixed into trainer.store.Store."""
from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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

DEFAULT_RUNS_DIR = "runs"     # the run store's folder when none is given (the CLI's --runs-dir, the app's M3_RUNS_DIR)


PRIVATE_UMASK = 0o077


class Database:
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

