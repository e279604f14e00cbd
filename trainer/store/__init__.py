"""The run store: one SQLite database (WAL) under the runs folder.

The main channel between the dashboard and the worker (docs/DESIGN-NOTES.md lists the others): runs
(status, config, pid, output dir, error), metric points, and one summary per ended run (what the Runs and Compare tables show,
computed once from the points, so a page never reads every point of every run). Every call opens
its own connection, so threads and processes can share one store safely.
"""
from trainer.store.datasets import Datasets
from trainer.store.db import DEFAULT_RUNS_DIR, PRIVATE_UMASK  # noqa: F401 (the store's public names)
from trainer.store.points import Points
from trainer.store.records import (COMPLETED, FAILED, FINAL, INTERRUPTED, LIVE, PRUNED, QUEUED, RUNNING,  # noqa: F401
                                   SCORE, STOPPED, THROUGHPUT, WAITING, DeviceBusy, Point, Run, ScanStatus, Score,
                                   Status, Summary, new_run_id, summarize)
from trainer.store.runs import Runs
from trainer.store.scans import KEEP_SCANS, Scans  # noqa: F401


class Store(Runs, Points, Scans, Datasets):
    """The run store: each table's calls (trainer.store.runs, .points, .scans, .datasets) on the one database
    (trainer.store.db.Database, which owns the connection). Every call opens its own connection."""
