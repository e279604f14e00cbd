"""Real FlagEmbedding training of the embedded default model, a few steps in each mode (the all-heads run and
what it records are in tests/test_all_heads_run.py) and early stopping. Stop on a background run: the resumed
run of tests/test_faults.py's restart test."""
from pathlib import Path

import pytest

from conftest import train

from trainer.config import Mode
from trainer.store import COMPLETED

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
