"""Start a run in the background: a thread launches the worker as a child process and watches it.

The worker writes its own final status; the watcher only fills in what a dead worker could not
(a crash, SIGKILL, an OOM kill). Nothing here is kept in memory that the store does not also hold:
a page that reloads asks the store, and `recover` re-attaches after an app restart.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from trainer.planning import checks, plan
from trainer.core import gpus
from trainer.core.children import START_GRACE_S, log_tail, pid_alive, spawn
from trainer.core.config import RunConfig, resolve_precision
from trainer.store import FAILED, INTERRUPTED, LIVE, WAITING, DeviceBusy, Store

_start_lock = threading.Lock()


class RunBusy(RuntimeError):
    """Another run is using the device; one run at a time."""


class QueueFull(RunBusy):
    """The queue holds as many waiting runs as it takes (MAX_WAITING): a click more queues nothing."""


# A limit a shared dashboard needs: how many runs may wait at once (mining jobs and exports: trainer.jobs.mining, .tools).
MAX_WAITING = int(os.environ.get("M3_MAX_WAITING", "6"))


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
    return _follow(store, run_id, spawn(worker_command(store, run_id, num_gpus) + ["--progress"], num_gpus=num_gpus,
                                        hub_token=True, stdin=subprocess.DEVNULL))


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
    with open(log_path, "ab") as log:
        # A new session, so a dashboard restart does not kill it.
        proc = spawn(worker_command(store, run_id, num_gpus, resume), num_gpus=num_gpus, hub_token=True, stdout=log,
                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
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
        just_created = record.pid is None and time.time() - record.created < START_GRACE_S
        if not just_created and not pid_alive(record.pid):
            if store.set_status(record.id, INTERRUPTED, error="the worker ended without a final status "
                                "(the app or machine restarted)", only_if=LIVE):
                lost.append(record.id)
    return lost
