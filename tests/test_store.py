import sqlite3
import threading

import pytest

from trainer.store import runs as store_module      # where create_run draws its ids
from trainer.core.config import Mode, RunConfig
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


def expected_summary(store, run_id):
    """What the run's points say, worked out here from every point (not the store's code)."""
    points = store.metrics(run_id)
    scores = {}
    for name in {p.name for p in points if p.name.endswith("@10")}:
        series = [p for p in points if p.name == name]
        best = max(series, key=lambda p: p.value)                  # the first of equal maxima
        scores[name] = (series[0].value, best.value, best.step, best.time, series[-1].value)
    sps = sorted(p.value for p in points if p.name == "samples_per_s")
    return {"scores": scores, "samples_per_s": (sps[(len(sps) - 1) // 2] + sps[len(sps) // 2]) / 2,
            "peak_mem_gib": max(p.value for p in points if p.name == "peak_rss_gib"), "last_point": points[-1].id}


def write_run(store, run_id, steps, evals):
    """Training points for `steps` and validation (dense, hybrid, a test-split score) at `evals`: {step: mrr}."""
    for step in steps:
        if step in evals:
            store.add_metrics(run_id, step, step / 10, {"dense.mrr@10": evals[step], "hybrid.mrr@10": evals[step] - 0.1,
                                                        "dense.recall@10": 0.9, "test.dense.mrr@10": evals[step] / 2,
                                                        "eval_seconds": 1.0})
        store.add_metrics(run_id, step, step / 10, {"loss": 1.0 / (step + 1), "lr": 1e-5, "grad_norm": 2.0,
                                                    "samples_per_s": 10.0 + step % 7, "peak_rss_gib": 1.0 + step / 100})


def stored_rows(store):
    with sqlite3.connect(store.path) as db:
        return dict(db.execute("SELECT run_id, last_point FROM summaries").fetchall())


def test_a_run_is_summarised_when_it_ends_and_the_summary_equals_its_points(tmp_path):
    store = Store(tmp_path)
    run_id = store.create_run(RunConfig(mode=Mode.ALL))
    store.set_status(run_id, RUNNING)
    write_run(store, run_id, range(0, 31), {0: 0.5, 10: 0.8, 20: 0.8, 30: 0.7})
    assert stored_rows(store) == {}
    store.set_status(run_id, COMPLETED)
    assert stored_rows(store) == {run_id: store.metrics(run_id)[-1].id}      # computed once, at the end
    summary = store.summaries([run_id])[run_id]
    want = expected_summary(store, run_id)
    assert {k: tuple(v) for k, v in summary.scores.items()} == want["scores"]
    assert set(summary.scores) == {"dense.mrr@10", "hybrid.mrr@10", "dense.recall@10", "test.dense.mrr@10"}
    dense = summary.scores["dense.mrr@10"]
    assert (dense.first, dense.best, dense.best_step, dense.final) == (0.5, 0.8, 10, 0.7)
    assert summary.samples_per_s == want["samples_per_s"] and summary.peak_mem_gib == want["peak_mem_gib"]
    run = store.get_run(run_id)
    assert summary.duration_s == run.ended - run.started and summary.last_point == want["last_point"]


def test_an_older_run_is_summarised_on_first_sight_and_one_that_ends_later_again(tmp_path):
    store = Store(tmp_path)
    run_id = store.create_run(RunConfig())
    store.set_status(run_id, RUNNING)
    write_run(store, run_id, range(0, 11), {0: 0.5, 10: 0.6})
    store.set_status(run_id, "interrupted")
    with sqlite3.connect(store.path) as db:      # a store from before summaries: none kept
        db.execute("DELETE FROM summaries")
    assert store.summaries([run_id])[run_id].scores["dense.mrr@10"].best == 0.6
    assert stored_rows(store) == {run_id: store.metrics(run_id)[-1].id}      # kept once seen

    assert store.reopen(run_id, ["interrupted"])                             # resumed: live again
    store.set_status(run_id, RUNNING)
    write_run(store, run_id, range(11, 21), {20: 0.9})
    live = store.summaries([run_id])[run_id]
    assert live.scores["dense.mrr@10"].final == 0.9 and live.ended is None   # a live run's, computed afresh
    store.set_status(run_id, COMPLETED)
    summary = store.summaries([run_id])[run_id]
    want = expected_summary(store, run_id)
    assert {k: tuple(v) for k, v in summary.scores.items()} == want["scores"]
    assert (summary.scores["dense.mrr@10"].best, summary.samples_per_s) == (0.9, want["samples_per_s"])
    assert summary.ended == store.get_run(run_id).ended and stored_rows(store) == {run_id: want["last_point"]}

    store.add_metrics(run_id, 21, 2.1, {"dense.mrr@10": 0.95})               # a point after the end
    assert store.summaries([run_id])[run_id].scores["dense.mrr@10"].best == 0.95
    store.delete(run_id)
    assert stored_rows(store) == {}


def test_run_ids_are_unique_under_a_burst(tmp_path):
    store = Store(tmp_path)
    start = threading.Barrier(8)
    made = []

    def create():
        start.wait()
        made.extend(Store(tmp_path).create_run(RunConfig()) for _ in range(40))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == len(set(made)) == store.count_runs() == 320
    assert len({r.output_dir for r in store.list_runs()}) == 320


def test_a_taken_run_id_is_drawn_again(tmp_path, monkeypatch):
    store = Store(tmp_path)
    draws = iter(["20260101-000000-aaaaaa", "20260101-000000-aaaaaa", "20260101-000000-bbbbbb"])
    monkeypatch.setattr(store_module, "new_run_id", lambda: next(draws))
    assert [store.create_run(RunConfig()) for _ in range(2)] == ["20260101-000000-aaaaaa", "20260101-000000-bbbbbb"]


def test_runs_are_filtered_by_mode_status_and_name_and_paged(tmp_path):
    store = Store(tmp_path)
    ids = {}
    for n, (mode, name) in enumerate([(Mode.DENSE, "sweep 10%"), (Mode.ALL, "sweep 100"), (Mode.DENSE, "baseline"),
                                      (Mode.HEADS, "Sweep_x")]):
        ids[name] = store.create_run(RunConfig(mode=mode, name=name))
        with sqlite3.connect(store.path) as db:   # one creation time each, so the order is known
            db.execute("UPDATE runs SET created = ? WHERE id = ?", (1000.0 + n, ids[name]))
    store.set_status(ids["baseline"], COMPLETED)
    names = lambda **q: [r.name for r in store.list_runs(**q)]  # noqa: E731
    assert names() == ["Sweep_x", "baseline", "sweep 100", "sweep 10%"]
    assert names(mode="dense") == ["baseline", "sweep 10%"]
    assert names(status=[COMPLETED]) == ["baseline"] and names(status=LIVE) == ["Sweep_x", "sweep 100", "sweep 10%"]
    assert names(name="SWEEP") == ["Sweep_x", "sweep 100", "sweep 10%"]
    assert names(name="10%") == ["sweep 10%"] and names(name="p_") == ["Sweep_x"]   # wildcards are plain text
    assert names(name=ids["baseline"][-6:]) == ["baseline"]
    assert names(limit=2, offset=1) == ["baseline", "sweep 100"] and names(mode="dense", offset=1) == ["sweep 10%"]
    assert store.count_runs() == 4 and store.count_runs(mode="dense", name="sweep") == 1
