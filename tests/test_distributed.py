"""The torchrun launch path on CPU: two processes (gloo) train the embedded model as one run."""
import time
from pathlib import Path

import pytest

from trainer import launch
from trainer.config import Mode
from trainer.store import STOPPED, Store

pytestmark = pytest.mark.slow


def wait(store, run_id, until, deadline):
    while not until():
        run = store.get_run(run_id)
        assert time.time() < deadline, (run.status, run.error, launch.log_tail(Path(run.output_dir) / "worker.log"))
        time.sleep(0.3)


def test_two_ranks_train_one_run_and_stop_reaches_both(tmp_path, tiny_config):
    store = Store(tmp_path / "runs")
    deadline = time.time() + 300
    # 8 rows, batch 4 per rank, 2 ranks: one step and one validation an epoch, until Stop.
    run_id = launch.start(store, tiny_config(mode=Mode.ALL, epochs=500, early_stopping_patience=0, num_gpus=2))
    evals = lambda: [p.step for p in store.metrics(run_id) if p.name == "hybrid.mrr@10"]  # noqa: E731
    wait(store, run_id, lambda: len(evals()) >= 2 or not store.get_run(run_id).live, deadline)  # step 0, epoch 1
    store.request_stop(run_id)      # rank 0 reads the flag; both ranks end
    wait(store, run_id, lambda: not store.get_run(run_id).live, deadline)
    run = store.get_run(run_id)
    log = (Path(run.output_dir) / "worker.log").read_text()
    assert run.status == STOPPED, (run.error, log[-3000:])
    assert "rank 0/2" in log and "rank 1/2" in log
    points = store.metrics(run_id)
    loss_steps = [p.step for p in points if p.name == "loss"]
    assert loss_steps == list(range(1, len(loss_steps) + 1)) and len(loss_steps) < 500  # each step written once
    assert evals()[:2] == [0, 1] and evals() == sorted(set(evals()))                    # each validation once
    assert [p.value for p in points if p.name == "total_steps"] == [500]                # 1 step × 500 epochs
    assert (Path(run.output_dir) / "model" / "sparse_linear.pt").is_file()              # saved at the stop
    wait(store, run_id, lambda: not launch.pid_alive(run.pid), deadline)   # torchrun and both ranks exit


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
