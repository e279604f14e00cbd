"""Start a run in the background: a thread launches the worker as a child process and watches it.

The worker writes its own final status; the watcher only fills in what a dead worker could not
(a crash, SIGKILL, an OOM kill). Nothing here is kept in memory that the store does not also hold:
a page that reloads asks the store, and `recover` re-attaches after an app restart.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from trainer.planning import checks, plan
from trainer.core import gpus
from trainer.core.children import (PROJECT_ROOT, log_tail, pid_alive, start_child, trainer_command, worker_env)  # noqa: F401 (also launch's)
from trainer.core.config import RunConfig, resolve_precision
from trainer.store import FAILED, INTERRUPTED, LIVE, WAITING, DeviceBusy, Store

_start_lock = threading.Lock()


class RunBusy(RuntimeError):
    """Another run is using the device; one run at a time."""


class QueueFull(RunBusy):
    """The queue holds as many waiting runs as it takes (MAX_WAITING): a click more queues nothing."""


# Limits a shared dashboard needs: how many runs may wait at once, mining jobs and exports at once.
MAX_WAITING = int(os.environ.get("M3_MAX_WAITING", "6"))
MAX_MINING = 1
MAX_EXPORTS = 2


def _room_for(store: Store, n: int) -> None:
    waiting = store.count_runs(status=[WAITING])
    if waiting + n > MAX_WAITING:
        raise QueueFull(f"{waiting} runs are waiting already and the queue takes at most {MAX_WAITING}: let some "
                        "finish or stop them first")


class InvalidRun(ValueError):
    """The settings or data would not train; nothing was stored. Each problem names file, line, field."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems[:20]))


def _worker_args(store: Store, run_id: str, resume: bool = False) -> list[str]:
    return ["-m", "trainer.engine.worker", run_id, "--runs-dir", str(store.runs_dir)] + (["--resume"] if resume else [])


def worker_command(store: Store, run_id: str, num_gpus: int = 1, resume: bool = False) -> list[str]:
    worker = _worker_args(store, run_id, resume)
    if num_gpus > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node", str(num_gpus)] + worker
    return [sys.executable] + worker


def node_command(store: Store, run_id: str, *, nnodes: int, node_rank: int, nproc_per_node: int,
                 endpoint: str) -> list[str]:
    """The worker on one of several machines: run on each node (node_rank 0 … nnodes-1), every node
    reaching `endpoint` (HOST:PORT of node 0) and the run's folder (a shared filesystem). Node 0 is the
    machine that holds the store (SQLite's WAL needs all its processes on one host): its rank 0 prepares
    the data, writes the run's plan (trainer.plan) into the run folder, then status, metrics and
    checkpoints. Every other node's command names only that plan file: it never opens the store. torchrun's
    static rendezvous keeps node 0's first process rank 0."""
    host, port = endpoint.rsplit(":", 1)
    worker = _worker_args(store, run_id) if node_rank == 0 else \
        ["-m", "trainer.engine.worker", run_id, "--plan", str(store.get_run(run_id).folder.plan)]
    return [sys.executable, "-m", "torch.distributed.run", "--nnodes", str(nnodes), "--node_rank", str(node_rank),
            "--master_addr", host, "--master_port", port, "--nproc_per_node", str(nproc_per_node), *worker]


def active_runs(store: Store) -> list[str]:
    return _holding(store.list_runs(status=LIVE))


def _holding(live: list) -> list[str]:
    """Of the live runs, those whose process is still there (a queued run has none yet)."""
    return [r.id for r in live if r.pid is None or pid_alive(r.pid)]


def _refuse_if_busy(store: Store) -> None:
    busy = active_runs(store)
    if busy:
        raise RunBusy(f"run {busy[0]} is still training on this machine; stop it or wait for it to end")


def checked_file(data) -> dict | None:
    """What a run records of the training file its preflight checked (trainer.scan.ScanResult)."""
    if not data.size:
        return None
    return {"path": str(Path(data.path).resolve()), "size": data.size, "mtime_ns": data.mtime_ns,
            "checksum": data.checksum, "rows": data.rows}


def create(store: Store, config: RunConfig, *, memory_ok: bool = False) -> str:
    """Check everything and create the run (`queued`, which already counts as busy). Raises InvalidRun
    (nothing stored) or RunBusy (one run per device). The page and the command line both come here.
    `memory_ok`: the user chose to start a run whose memory estimate exceeds the machine."""
    problems, data = checks.check(config, store, memory=not memory_ok)
    if problems:
        raise InvalidRun(problems)
    try:             # "create if the device is idle": one transaction, across processes (the CLI and the app)
        run_id = store.create_run(config, train_file=checked_file(data), busy=_holding)
    except DeviceBusy as busy:
        raise RunBusy(f"{busy}; stop it or wait for it to end") from None
    save_initial_plan(store, run_id, data)
    return run_id


def save_initial_plan(store: Store, run_id: str, data) -> None:
    """The run's plan as this machine sees it at creation (trainer.plan.initial); its worker completes it."""
    run = store.get_run(run_id)
    found = gpus.detect()
    plan.save(plan.initial(run.config, run.folder, run_id, data, cuda=bool(found),
                           precision=resolve_precision(run.config.precision, gpu=bool(found),
                                                       bf16=all(g.bf16 for g in found))), run.folder)


def start(store: Store, config: RunConfig, *, memory_ok: bool = False) -> str:
    """`create`, then launch the worker in the background; returns the run id at once."""
    run_id = create(store, config, memory_ok=memory_ok)
    _launch(store, run_id, config.num_gpus)
    return run_id


def run_in_foreground(store: Store, run_id: str, num_gpus: int = 1) -> int:
    """The command line's `train`: the same worker (torchrun for several GPUs), its progress on this
    terminal, in this session so Ctrl-C reaches it; returns its exit code."""
    return _follow(store, run_id, subprocess.Popen(worker_command(store, run_id, num_gpus) + ["--progress"],
                                                   stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT,
                                                   env=worker_env(num_gpus, hub_token=True)))


def enqueue(store: Store, configs: list[RunConfig], study: str | None = None, *, memory_ok: bool = False,
            start: bool = True) -> list[str]:
    """Queue runs to train one after another (one run per device), in this order, and (with `start`) start the
    first if the device is free. Every config is checked first: one invalid config queues none. `study`: the
    settings search (trainer.sweep) they are trials of; `memory_ok` as for `create`. Without `start` the caller
    runs them (the command line, in the foreground: `run_in_foreground`)."""
    if study is None:                   # a settings search queues one trial at a time, by its own budget
        _room_for(store, len(configs))
    checked = [checks.check(cfg, store, memory=not memory_ok) for cfg in configs]
    problems = [p for found, _ in checked for p in found]
    if problems:
        raise InvalidRun(problems)
    ids = [store.create_run(cfg, status=WAITING, train_file=checked_file(data), study=study)
           for cfg, (_, data) in zip(configs, checked)]
    for run_id, (_, data) in zip(ids, checked):
        save_initial_plan(store, run_id, data)
    if start:
        start_next(store)
    return ids


def start_next(store: Store) -> str | None:
    """Start the first waiting run if no other run is live (the store decides, atomically)."""
    with _start_lock:
        run_id = store.take_waiting()
        if run_id:
            _launch(store, run_id, store.get_run(run_id).config.num_gpus)
    return run_id


def keep_queue(store: Store, every_s: float = 5.0) -> None:
    """The queue goes on without a watcher (an app restarted while a queued run trained): a daemon
    thread asks the store every few seconds."""
    def loop() -> None:
        while store.path.is_file():       # ends with its runs folder
            time.sleep(every_s)
            start_next(store)
    threading.Thread(target=loop, name="queue", daemon=True).start()


def resume(store: Store, run_id: str) -> None:
    """Continue an interrupted or failed run from its last checkpoint, under the same id: its metric
    points so far stay, new ones follow."""
    with _start_lock:
        _refuse_if_busy(store)
        run = store.get_run(run_id)
        if run.folder.last_checkpoint() is None:
            raise FileNotFoundError(f"run {run_id} has no complete checkpoint to resume from")
        if not store.reopen(run_id, (INTERRUPTED, FAILED)):
            raise ValueError(f"run {run_id} is {run.status}; only interrupted or failed runs resume")
        _launch(store, run_id, run.config.num_gpus, resume=True)


def _launch(store: Store, run_id: str, num_gpus: int, resume: bool = False) -> None:
    threading.Thread(target=_watch, args=(store, run_id, num_gpus, resume), name=f"watch-{run_id}",
                     daemon=True).start()


def _watch(store: Store, run_id: str, num_gpus: int, resume: bool = False) -> None:
    folder = store.get_run(run_id).folder
    folder.root.mkdir(parents=True, exist_ok=True)
    log_path = folder.log
    env = worker_env(num_gpus, hub_token=True)
    with open(log_path, "ab") as log:
        # An argument list, never a shell; a new session so a dashboard restart does not kill it.
        proc = subprocess.Popen(worker_command(store, run_id, num_gpus, resume), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT, env=env, start_new_session=True)
    _follow(store, run_id, proc, log_path)
    start_next(store)           # the queue goes on


def _follow(store: Store, run_id: str, proc: subprocess.Popen, log_path: Path | None = None) -> int:
    """Wait for a worker; if it died without writing a final status, write `failed` with the reason."""
    store.set_pid(run_id, proc.pid)
    try:
        code = proc.wait()
    except KeyboardInterrupt:   # Ctrl-C at a terminal reached the worker too: it writes `interrupted` and ends
        code = proc.wait()
    if code != 0:
        tail = log_tail(log_path) if log_path else ""
        # A rank killed by a signal is the root cause even when rank 0 already failed the run with the
        # broken connection it saw first: torchrun's summary names the rank, so its word wins.
        cause = torchrun_root_cause(tail)
        killed = (FAILED,) if cause and cause[1] < 0 else ()
        store.set_status(run_id, FAILED, error=exit_reason(code, tail), only_if=(*LIVE, *killed))
    return code


def torchrun_root_cause(tail: str) -> tuple[int, int] | None:
    """(rank, exit code) of the first rank that failed, from torchrun's closing summary."""
    found = re.search(r"Root Cause.*?rank\s*:\s*(\d+).*?exitcode\s*:\s*(-?\d+)", tail, re.S)
    return (int(found.group(1)), int(found.group(2))) if found else None


def exit_reason(code: int, tail: str) -> str:
    cause = torchrun_root_cause(tail)
    if cause and cause[1] < 0:
        # One rank died (SIGKILL, the OOM killer); torchrun ended the others and exited itself.
        return f"rank {cause[0]}: " + exit_reason(cause[1], "")
    if code < 0:
        name = signal.Signals(-code).name
        hint = " (the system may have run out of memory)" if -code == signal.SIGKILL else ""
        return f"the training worker was killed by {name}{hint}"
    lowered = tail.lower()
    if "out of memory" in lowered:
        return f"out of memory: the worker exited with code {code}.\n{tail[-1500:]}"
    return f"the training worker exited with code {code}.\n{tail[-1500:]}"


def recover(store: Store) -> list[str]:
    """After an app restart: runs still marked live whose worker is gone become `interrupted`."""
    lost = []
    for record in store.list_runs(status=LIVE):
        just_created = record.pid is None and time.time() - record.created < 60
        if not just_created and not pid_alive(record.pid):
            if store.set_status(record.id, INTERRUPTED, error="the worker ended without a final status "
                                "(the app or machine restarted)", only_if=LIVE):
                lost.append(record.id)
    return lost


def probe_memory(model: str, mode: str, batch: int, group_size: int, query_len: int, passage_len: int,
                 precision: str, sparse_head: str, timeout: float = 600) -> dict:
    """A few real training steps on this machine's GPU in a child process (so the dashboard never
    holds GPU memory), with the estimate: `python -m trainer vram --measure --json`."""
    answer = trainer_command(["vram", "--model", model, "--mode", mode, "--batch", str(batch),
                              "--group-size", str(group_size), "--query-len", str(query_len), "--passage-len",
                              str(passage_len), "--precision", precision, "--sparse-head", sparse_head, "--measure",
                              "--json"], timeout)
    return {"measured": {"status": "error", "detail": answer["error"]}} if "error" in answer else answer


def _lock_one(candidates: list[Path]):
    """The first of these lock files no process holds, locked (an open file), or None."""
    for path in candidates:
        f = open(path, "a")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            f.close()
    return None


@contextmanager
def _export_slot(store: Store, run_id: str):
    """Held while a run's model is written (export, merge, the merge curve): one at a time per run (a second
    would clear the first one's folder under it) and MAX_EXPORTS at a time in all; yields whether it got both.
    Advisory locks on files in the runs folder, so every dashboard process and the command line agree."""
    locks = store.runs_dir / ".locks"
    locks.mkdir(exist_ok=True)
    run_lock = _lock_one([locks / f"export-{run_id}.lock"])
    slot = _lock_one([locks / f"export-slot-{i}.lock" for i in range(MAX_EXPORTS)]) if run_lock else None
    try:
        yield slot is not None
    finally:
        for f in (slot, run_lock):
            if f is not None:
                f.close()


def _written(store: Store, run_id: str, argv: list[str], timeout: float) -> dict:
    with _export_slot(store, run_id) as free:
        if not free:
            return {"error": f"another export of this run, or {MAX_EXPORTS} exports in all, are being written: "
                             "try again when they end"}
        return trainer_command(argv, timeout)


def export_model(store: Store, run_id: str, out: Path, *, onnx: bool = False, timeout: float = 1800) -> dict:
    """`python -m trainer export RUN_ID --zip [--onnx]` into `out`; the paths written, or {"error": ...}."""
    return _written(store, run_id, ["export", run_id, "--runs-dir", str(store.runs_dir), "--out", str(out), "--zip"]
                    + (["--onnx"] if onnx else []), timeout)


def merge_curve(store: Store, run_id: str, timeout: float = 3600) -> dict:
    """`python -m trainer merge-curve RUN_ID`: the curve (also kept in the run folder), or {"error": ...}."""
    return _written(store, run_id, ["merge-curve", run_id, "--runs-dir", str(store.runs_dir)], timeout)


def merge_model(store: Store, run_id: str, weight: float, out: Path, timeout: float = 1800) -> dict:
    """`python -m trainer merge RUN_ID --weight W --zip` into `out`; the paths written, or {"error": ...}."""
    return _written(store, run_id, ["merge", run_id, "--runs-dir", str(store.runs_dir), "--weight", str(weight),
                                    "--out", str(out), "--zip"], timeout)


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
        """What a page keeps redrawing: a running job, or one started under 30 s ago without a summary yet
        (the browser journey once saw a job just started read as neither running nor ended)."""
        try:
            young = time.time() - (self.folder / "job.json").stat().st_mtime < 30
        except OSError:
            young = True
        return self.running or (young and not self.summary())

    def error(self) -> str:
        """The child's last words when it ended without a summary (bad input, a crash, a stop)."""
        return "" if self.running or self.summary() else log_tail(self.folder / "mine.log", 1500).strip()

    def stop(self) -> None:
        pid = self.pid()
        if pid and self.running:
            os.killpg(pid, signal.SIGTERM)


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
