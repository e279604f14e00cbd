"""The mining job the Data page starts: `python -m trainer mine` in a child process (at most MAX_MINING at a time)."""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from trainer.core.children import START_GRACE_S, end, log_tail, pid_alive, start_child
from trainer.jobs.launch import RunBusy
from trainer.store import Store

MAX_MINING = 1


# Mining hard negatives from the Data page: `python -m trainer mine` in a child process whose files
# (progress, summary, log, the mined rows) live in runs/mining/<job id>/, so a refresh, a second
# tab or an app restart finds the job again; the page only reads them.
MINING_DIR = "mining"


@dataclass
class MiningJob:
    folder: Path

    @property
    def output(self) -> Path:
        return self.folder / "mined.jsonl"

    def _read(self, name: str) -> dict:
        try:
            return json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def progress(self) -> dict:
        return self._read("progress.json")

    def summary(self) -> dict:
        return self._read("summary.json")

    def pid(self) -> int | None:
        return self._read("job.json").get("pid")

    def input(self) -> str | None:
        """The file it mines negatives for."""
        return self._read("job.json").get("input")

    @property
    def running(self) -> bool:
        return not self.summary() and pid_alive(self.pid())

    @property
    def watched(self) -> bool:
        """What a page keeps redrawing: a running job, or one started under START_GRACE_S ago without a summary yet
        (the browser journey once saw a job just started read as neither running nor ended)."""
        try:
            young = time.time() - (self.folder / "job.json").stat().st_mtime < START_GRACE_S
        except OSError:
            young = True
        return self.running or (young and not self.summary())

    def error(self) -> str:
        """The child's last words when it ended without a summary (bad input, a crash, a stop)."""
        return "" if self.running or self.summary() else log_tail(self.folder / "mine.log", 1500).strip()

    def stop(self) -> None:
        pid = self.pid()
        if pid and self.running:
            end(pid)


def start_mining(store: Store, input_path: str, model: str, *, negatives: int, range_text: str, margin: float,
                 seed: int, passage_max_len: int, query_max_len: int) -> MiningJob:
    running = [j for j in sorted((store.runs_dir / MINING_DIR).glob("*/job.json")) if MiningJob(j.parent).running]
    if len(running) >= MAX_MINING:
        raise RunBusy(f"{len(running)} mining job is running already (at most {MAX_MINING} at a time): wait for it "
                      "to end")
    folder = store.runs_dir / MINING_DIR / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(3).hex()}"
    folder.mkdir(parents=True)
    job = MiningJob(folder)
    argv = [sys.executable, "-m", "trainer", "mine", "--input", input_path, "--output", str(job.output),
            "--model", model, "--negatives", str(negatives), "--range", range_text, "--margin", str(margin),
            "--seed", str(seed), "--query-max-len", str(query_max_len), "--passage-max-len", str(passage_max_len),
            "--progress", str(folder / "progress.json"), "--json", "--summary", str(folder / "summary.json")]
    pid = start_child(folder, "mine.log", argv[1:])
    (folder / "job.json").write_text(json.dumps({"pid": pid, "input": input_path, "model": model}))
    return job


def latest_mining_job(store: Store) -> MiningJob | None:
    jobs = sorted((store.runs_dir / MINING_DIR).glob("*/job.json"))
    return MiningJob(jobs[-1].parent) if jobs else None
