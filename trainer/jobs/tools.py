"""The dashboard's one-off tools, each `python -m trainer ...` in a child process (the dashboard never loads torch):
the GPU memory probe, and writing a run's model (export, merge with the base model, the merge curve) — at most
MAX_EXPORTS at a time and one per run."""
from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path

from trainer.core.children import trainer_command
from trainer.store import Store

MAX_EXPORTS = 2        # models being written at once (each a copy of the model on disk and a process)


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
