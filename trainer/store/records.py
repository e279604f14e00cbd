"""What the run store hands out: a run's status, the run record, metric points and a run's summary (no SQL here)."""
from __future__ import annotations

import enum
import json
import re
import secrets
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Optional

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

# Scores at a cut-off (dense.mrr@10, hybrid.ndcg@10, test.dense.mrr@10, ...): higher is better.
SCORE = re.compile(r"@\d+$")
THROUGHPUT = Metric.SAMPLES_PER_S


class DeviceBusy(RuntimeError):
    """Store.create_run found a live run holding the device."""

    def __init__(self, run_ids: list[str]):
        super().__init__(f"run {run_ids[0]} is still training on this machine")
        self.run_ids = run_ids


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


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def summary_from_row(row: sqlite3.Row) -> Summary:
    return Summary(run_id=row["id"], last_point=row["last_point"], ended=row["summary_ended"],
                   duration_s=row["duration_s"], samples_per_s=row["samples_per_s"], peak_mem_gib=row["peak_mem_gib"],
                   scores={k: Score(*v) for k, v in json.loads(row["scores"]).items()})


def run_from_row(row: sqlite3.Row) -> Run:
    data = dict(row)
    data["config_json"] = data.pop("config")
    data["stop_requested"] = bool(data["stop_requested"])
    return Run(**data)
