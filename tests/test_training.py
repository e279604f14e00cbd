"""Real FlagEmbedding training of the embedded default model, a few steps in each mode (the all-heads run and
what it records are in tests/test_all_heads_run.py), early stopping, and Stop on a background run."""
import time
from pathlib import Path

import pytest

from conftest import train, wait_for

from trainer import launch, query_ranks
from trainer.config import Mode
from trainer.store import COMPLETED, STOPPED, Store

pytestmark = pytest.mark.slow


def test_frozen_encoder_mode_trains_only_the_two_heads(tmp_path, tiny_config):
    store, run, status, recorder = train(tmp_path / "runs", tiny_config(mode=Mode.HEADS))
    assert status == COMPLETED, run.error
    changed = recorder.changed()
    assert changed == {"colbert_linear.weight", "colbert_linear.bias", "sparse_linear.weight",
                       "sparse_linear.bias"}
    dense = [p.value for p in store.metrics(run.id) if p.name == "dense.mrr@10"]
    assert len(dense) == 2 and dense[0] == pytest.approx(dense[1])   # dense head untouched


def test_dense_only_mode_has_no_sparse_or_colbert_heads(tmp_path, tiny_config):
    store, run, status, recorder = train(tmp_path / "runs", tiny_config(mode=Mode.DENSE))
    assert status == COMPLETED, run.error
    assert not any("linear" in k and not k.startswith("model.") for k in recorder.before)
    assert any(k.startswith("model.encoder") for k in recorder.changed())
    names = {p.name for p in store.metrics(run.id)}
    assert "dense.mrr@10" in names and not any(n.startswith(("sparse.", "colbert.", "hybrid.")) for n in names)
    assert not (Path(run.output_dir) / "model" / "colbert_linear.pt").exists()


def test_early_stopping_fires_on_a_flat_metric_and_not_before_the_minimum(tmp_path, tiny_config):
    # patience 1 runs out at epoch 1 already; the minimum holds the run until epoch 3
    cfg = tiny_config(mode=Mode.DENSE, epochs=5, learning_rate=0.0, early_stopping_patience=1,
                      early_stopping_min_epochs=3)
    store, run, status, _ = train(tmp_path / "runs", cfg)
    assert status == COMPLETED and run.error == "early stopped at epoch 3"
    evals = [p for p in store.metrics(run.id) if p.name == "dense.mrr@10"]
    assert [p.epoch for p in evals] == [0, 1, 2, 3]
    assert len({round(p.value, 9) for p in evals}) == 1


def test_stop_request_ends_a_background_run_as_stopped_with_a_checkpoint(tmp_path, tiny_config):
    from trainer.engine.callbacks import SYNC_INTERVAL_S

    store = Store(tmp_path / "runs")
    run_id = launch.start(store, tiny_config(mode=Mode.DENSE, epochs=200))
    # one run per device: a second start, from another tab (another Store on the same file), is refused
    with pytest.raises(launch.RunBusy, match=f"run {run_id} is still training on this machine"):
        launch.start(Store(tmp_path / "runs"), tiny_config())
    assert [r.id for r in store.list_runs()] == [run_id]
    losses = lambda: [p for p in store.metrics(run_id) if p.name == "loss"]  # noqa: E731
    wait_for(lambda: len(losses()) >= 4 or not store.get_run(run_id).live, 180, "four steps")
    assert store.get_run(run_id).live, store.get_run(run_id).error
    asked = time.time()
    store.request_stop(run_id)
    wait_for(lambda: not store.get_run(run_id).live, 180, "the run to stop")
    run = store.get_run(run_id)
    assert run.status == STOPPED, run.error
    # Rank 0 reads the stop flag when the ranks meet: the last step trained ended no later than one meeting
    # interval (plus the step in flight and the one before the meeting, timed here) after the request.
    points = losses()
    assert [p.step for p in points] == list(range(1, len(points) + 1))
    step = max(b.time - a.time for a, b in zip(points, points[1:]))
    assert points[-1].time - asked <= SYNC_INTERVAL_S + 2 * step + 0.5, (points[-1].time - asked, step)
    assert (Path(run.output_dir) / "model" / "model.safetensors").is_file()
    last = max(p.step for p in store.metrics(run_id))
    assert last < 200 * 2
    # the saved weights were validated, so the scores and per-query ranks describe the model Try it loads
    assert query_ranks.load(Path(run.output_dir))[-1]["step"] == last
    assert max(p.step for p in store.metrics(run_id) if p.name == "dense.mrr@10") == last
