"""The torchrun launch path on CPU: two processes (gloo) train the embedded model as one run."""
import time
from collections import Counter
from pathlib import Path

import pytest

from trainer import launch
from trainer.config import Mode
from trainer.store import COMPLETED, STOPPED, Store

pytestmark = pytest.mark.slow


def wait(store, run_id, until, deadline):
    while not until():
        run = store.get_run(run_id)
        assert time.time() < deadline, (run.status, run.error, launch.log_tail(Path(run.output_dir) / "worker.log"))
        time.sleep(0.3)


def test_two_ranks_train_one_run_and_stop_reaches_both(tmp_path, tiny_config):
    store = Store(tmp_path / "runs")
    deadline = time.time() + 300
    # 1. A short run to its end: one set of metrics, evaluation once per epoch.
    run_id = launch.start(store, tiny_config(mode=Mode.ALL, epochs=2, num_gpus=2))
    wait(store, run_id, lambda: not store.get_run(run_id).live, deadline)
    run = store.get_run(run_id)
    log = (Path(run.output_dir) / "worker.log").read_text()
    assert run.status == COMPLETED, (run.error, log[-3000:])
    assert "rank 0/2" in log and "rank 1/2" in log
    points = store.metrics(run_id)
    per_name = Counter(p.name for p in points)
    loss_steps = [p.step for p in points if p.name == "loss"]
    # 8 rows, batch 4 per rank, 2 ranks: one step an epoch, each written once.
    assert loss_steps == [1, 2]
    assert per_name["total_steps"] == 1 and per_name["hybrid.mrr@10"] == 3
    assert [p.value for p in points if p.name == "total_steps"] == [2]
    assert (Path(run.output_dir) / "model" / "sparse_linear.pt").is_file()

    # 2. A long run, stopped: rank 0 reads the flag, both ranks end, the run is `stopped`.
    run_id = launch.start(store, tiny_config(mode=Mode.DENSE, epochs=500, eval_data=None, num_gpus=2))
    wait(store, run_id, lambda: any(p.name == "loss" for p in store.metrics(run_id)), deadline)
    launch.request_stop(store, run_id)
    wait(store, run_id, lambda: not store.get_run(run_id).live, deadline)
    run = store.get_run(run_id)
    assert run.status == STOPPED, run.error
    wait(store, run_id, lambda: not launch.pid_alive(run.pid), deadline)   # torchrun and both ranks exit
    steps = [p.step for p in store.metrics(run_id) if p.name == "loss"]
    assert steps == sorted(set(steps)) and max(steps) < 500


def test_a_crash_on_one_rank_fails_the_run_with_that_ranks_message(tmp_path, tiny_config, monkeypatch):
    monkeypatch.setenv("M3_FAULT", "oom@1")
    monkeypatch.setenv("M3_FAULT_RANK", "1")
    store = Store(tmp_path / "runs")
    run_id = launch.start(store, tiny_config(mode=Mode.DENSE, epochs=50, eval_data=None, num_gpus=2))
    wait(store, run_id, lambda: not store.get_run(run_id).live, time.time() + 300)
    run = store.get_run(run_id)
    assert run.status == "failed"
    assert run.error.startswith("rank 1 of 2: Out of memory at batch size 4"), run.error
    wait(store, run_id, lambda: not launch.pid_alive(run.pid), time.time() + 120)   # rank 0 ended too
