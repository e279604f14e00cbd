import sqlite3
import threading

import pytest

from trainer.config import Mode, RunConfig
from trainer.store import COMPLETED, FAILED, LIVE, QUEUED, RUNNING, Store


def test_run_lifecycle_and_config_round_trip(tmp_path):
    store = Store(tmp_path)
    cfg = RunConfig(mode=Mode.HEADS, learning_rate=3e-6, name="first")
    run_id = store.create_run(cfg)
    run = store.get_run(run_id)
    assert run.status == QUEUED and run.config == cfg and run.name == "first" and run.mode == "heads"
    assert run.output_dir.startswith(str(tmp_path))
    store.set_status(run_id, RUNNING)
    assert store.get_run(run_id).started is not None
    store.set_status(run_id, COMPLETED)
    # a watcher's late word does not overwrite the worker's final status
    assert not store.set_status(run_id, FAILED, error="late", only_if=LIVE)
    run = store.get_run(run_id)
    assert run.status == COMPLETED and run.error is None and run.ended is not None


def test_store_uses_wal(tmp_path):
    Store(tmp_path)
    db = sqlite3.connect(tmp_path / "runs.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_metrics_are_read_incrementally_by_row_id(tmp_path):
    store = Store(tmp_path)
    run_id = store.create_run(RunConfig())
    store.add_metrics(run_id, 1, 0.1, {"loss": 2.0, "lr": 1e-6})
    first = store.metrics(run_id)
    assert [(p.step, p.name, p.value) for p in first] == [(1, "loss", 2.0), (1, "lr", 1e-6)]
    store.add_metrics(run_id, 2, 0.2, {"loss": 1.5})
    new = store.metrics(run_id, after_id=first[-1].id)
    assert [(p.step, p.name) for p in new] == [(2, "loss")]


def test_concurrent_writers_lose_nothing(tmp_path):
    store = Store(tmp_path)
    run_id = store.create_run(RunConfig())

    def write(offset):
        for step in range(100):
            Store(tmp_path).add_metrics(run_id, offset + step, None, {"loss": step})

    threads = [threading.Thread(target=write, args=(i * 1000,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.metric_count(run_id) == 400


def test_stop_flag_rename_and_delete(tmp_path):
    store = Store(tmp_path)
    run_id = store.create_run(RunConfig())
    assert not store.stop_requested(run_id)
    store.request_stop(run_id)
    assert store.stop_requested(run_id)
    store.rename(run_id, "renamed")
    assert store.get_run(run_id).name == "renamed"
    with pytest.raises(ValueError):
        store.delete(run_id)  # still queued
    store.add_metrics(run_id, 1, None, {"loss": 1.0})
    store.set_status(run_id, COMPLETED)
    store.delete(run_id)
    assert store.list_runs() == [] and store.metrics(run_id) == []
    with pytest.raises(KeyError):
        store.get_run(run_id)
