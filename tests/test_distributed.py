"""The torchrun launch path on CPU (two processes, gloo): a crash on one rank fails the run with its message,
and rank 0 ends too (no hang). Two ranks training one run until Stop, and the launcher's word for a rank killed
by a signal, are in tests/test_scaleout.py."""
import time
from pathlib import Path

import pytest

from trainer.core import children
from trainer.jobs import launch
from trainer.core.config import Mode
from trainer.store import Store

pytestmark = pytest.mark.slow


def wait(store, run_id, until, deadline):
    while not until():
        run = store.get_run(run_id)
        assert time.time() < deadline, (run.status, run.error, children.log_tail(Path(run.output_dir) / "worker.log"))
        time.sleep(0.3)


def test_a_crash_on_one_rank_fails_the_run_with_that_ranks_message(tmp_path, tiny_config, monkeypatch):
    monkeypatch.setenv("M3_FAULT", "oom@1")
    monkeypatch.setenv("M3_FAULT_RANK", "1")
    store = Store(tmp_path / "runs")
    run_id = launch.start(store, tiny_config(mode=Mode.DENSE, epochs=50, eval_data=None, num_gpus=2))
    wait(store, run_id, lambda: not store.get_run(run_id).live, time.time() + 300)
    run = store.get_run(run_id)
    assert run.status == "failed"
    assert run.error.startswith("rank 1 of 2: Out of memory at batch size 4"), run.error
    wait(store, run_id, lambda: not children.pid_alive(run.pid), time.time() + 120)   # rank 0 ended too
