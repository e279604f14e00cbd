"""Faults during a run, with real training: SIGKILL and an app restart (worker processes; the resumed run is
also the suite's test of Stop on a background run), out of memory and a full disk (the worker's code in this
process).
Each checks the final status, the message, and that every metric point written before is kept."""
import os
import signal
import sqlite3
import statistics
import subprocess
import time
from pathlib import Path

import pytest
from conftest import train, wait_for

from trainer.core import children
from trainer.jobs import launch
from trainer.core.config import Mode
from trainer.store import FAILED, INTERRUPTED, STOPPED, Store

pytestmark = pytest.mark.slow


def points(store, run_id):
    return [(p.id, p.step, p.name, p.value) for p in store.metrics(run_id)]


def steps(store, run_id):
    return [p.step for p in store.metrics(run_id) if p.name == "loss"]


def summarised_at_its_end(store, run_id) -> bool:
    """The summary the store kept when the run ended (read from its table, so nothing computes it
    now) covers every point, and its median throughput is the points' own."""
    with sqlite3.connect(store.path) as db:
        kept = db.execute("SELECT last_point, samples_per_s FROM summaries WHERE run_id = ?", (run_id,)).fetchone()
    every = store.metrics(run_id)
    return kept == (every[-1].id, statistics.median(p.value for p in every if p.name == "samples_per_s"))


def test_sigkill_mid_run_fails_it_in_words_and_keeps_every_point(tmp_path, tiny_config):
    store = Store(tmp_path / "runs")
    run_id = launch.start(store, tiny_config(mode=Mode.DENSE, epochs=300, eval_data=None))
    wait_for(lambda: len(steps(store, run_id)) >= 3, 180, "three steps")
    before = points(store, run_id)
    os.kill(store.get_run(run_id).pid, signal.SIGKILL)
    wait_for(lambda: not store.get_run(run_id).live, 60, "the watcher to notice")
    run = store.get_run(run_id)
    assert run.status == FAILED
    assert run.error == "the training worker was killed by SIGKILL (the system may have run out of memory)"
    after = points(store, run_id)
    assert after[:len(before)] == before                        # nothing written before the kill is lost
    assert steps(store, run_id) == list(range(1, len(steps(store, run_id)) + 1))
    assert summarised_at_its_end(store, run_id)                 # by the watcher's final word


def test_out_of_memory_ends_failed_with_the_largest_batch_the_estimator_fits(tmp_path, tiny_config, monkeypatch):
    monkeypatch.setenv("M3_FAULT", "oom@3")
    # the worker's code in this process: the failure is the worker's to word (a dying process: the SIGKILL test)
    store, run, status, _ = train(tmp_path / "runs", tiny_config(mode=Mode.ALL, epochs=5, eval_data=None))
    run_id = run.id
    assert status == FAILED
    assert run.status == FAILED
    assert run.error.startswith("Out of memory at batch size 4, group size 2, passage length 64 (all mode). "
                                "The memory estimator puts this step at ")
    assert "the largest batch that fits" in run.error and "Lower the batch size" in run.error
    assert steps(store, run_id) == [1, 2]                      # every step before the failing one is kept


def test_app_restart_reattaches_a_live_worker_resumes_one_that_died_and_stop_ends_it(tmp_path, tiny_config):
    """An app restart with the worker alive, then with it dead; the resumed run in the background, a second
    start refused while it trains, and Stop: the run ends stopped, soon, with its model saved and validated."""
    from trainer.store import query_ranks
    from trainer.engine.callbacks import SYNC_INTERVAL_S

    store = Store(tmp_path / "runs")
    # A worker started by an app that is no longer there: its own session, no watcher thread.
    run_id = store.create_run(tiny_config(mode=Mode.DENSE, epochs=400))
    worker = subprocess.Popen(launch.worker_command(store, run_id), env=children.worker_env(),
                              cwd=children.PROJECT_ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    model_dir = Path(store.get_run(run_id).output_dir) / "model"
    wait_for(lambda: any(model_dir.glob("checkpoint-*/trainer_state.json")), 180, "a first epoch checkpoint")
    # The app restarts: a new store object, recover() — the run is still live, left alone.
    restarted = Store(tmp_path / "runs")
    assert launch.recover(restarted) == [] and restarted.get_run(run_id).live
    # Now the worker dies with the machine: the next restart marks the run interrupted.
    worker.kill()
    worker.wait()
    before = points(store, run_id)
    assert launch.recover(Store(tmp_path / "runs")) == [run_id]
    run = store.get_run(run_id)
    assert run.status == INTERRUPTED and "restarted" in run.error
    assert summarised_at_its_end(store, run_id)                 # by recover's
    # ... and it resumes from its last checkpoint under the same id, points kept.
    store.request_stop(run_id)                  # a stale flag must not survive the resume
    resumed_from = int(run.folder.last_checkpoint().name.split("-")[1])
    launch.resume(store, run_id)
    assert not store.get_run(run_id).stop_requested
    # one run per device: a second start, from another tab (another Store on the same file), is refused
    with pytest.raises(launch.RunBusy, match=f"run {run_id} is still training on this machine"):
        launch.start(Store(tmp_path / "runs"), tiny_config())
    assert [r.id for r in store.list_runs()] == [run_id]
    done_before = len([p for p in before if p[2] == "loss"])
    new_losses = lambda: [p for p in store.metrics(run_id) if p.name == "loss"][done_before:]  # noqa: E731
    wait_for(lambda: len(new_losses()) >= 4 or not store.get_run(run_id).live, 180, "four new steps")
    assert store.get_run(run_id).live, store.get_run(run_id).error
    asked = time.time()
    store.request_stop(run_id)
    wait_for(lambda: not store.get_run(run_id).live, 180, "the resumed run to stop")
    run = store.get_run(run_id)
    assert run.status == STOPPED, run.error
    assert run.ended - asked <= 10, run.ended - asked          # Stop ends a CPU run within 10 s of the click
    assert points(store, run_id)[:len(before)] == before
    assert summarised_at_its_end(store, run_id)                 # by the worker's own, with the new points
    # The resumed worker went on from the checkpoint's step, not from 0.
    resumed = steps(store, run_id)[done_before:]
    assert resumed == list(range(resumed_from + 1, resumed_from + 1 + len(resumed)))
    # Rank 0 reads the stop flag when the ranks meet: the last step trained ended no later than one meeting
    # interval (plus the step in flight and the one before the meeting, timed here) after the request.
    trained = new_losses()
    step = max(b.time - a.time for a, b in zip(trained, trained[1:]))
    assert trained[-1].time - asked <= SYNC_INTERVAL_S + 2 * step + 0.5, (trained[-1].time - asked, step)
    # the saved weights were validated, so the scores and per-query ranks describe the model Try it loads
    assert (model_dir / "model.safetensors").is_file()
    last = max(p.step for p in store.metrics(run_id))
    assert last < 400 * 2
    assert query_ranks.load(Path(run.output_dir))[-1]["step"] == last
    assert max(p.step for p in store.metrics(run_id) if p.name == "dense.mrr@10") == last


def test_disk_full_on_checkpoint_fails_clearly_and_keeps_the_previous_checkpoint(tmp_path, tiny_config, monkeypatch):
    monkeypatch.setenv("M3_FAULT", "enospc@4")                  # 2 steps an epoch: the second save fails
    store, run, status, _ = train(tmp_path / "runs", tiny_config(mode=Mode.DENSE, epochs=3, eval_data=None))
    run_id = run.id
    assert status == FAILED
    kept = Path(run.output_dir) / "model" / "checkpoint-2"
    assert run.status == FAILED
    assert run.error == (f"Disk full while saving a checkpoint: [Errno 28] No space left on device (injected by "
                         f"M3_FAULT). The last complete checkpoint, {kept}, is intact: free some space, then "
                         f"resume the run.")
    assert (kept / "trainer_state.json").is_file() and (kept / "model.safetensors").is_file()
    assert steps(store, run_id) == [1, 2, 3, 4]
