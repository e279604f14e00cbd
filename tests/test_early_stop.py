"""Early stopping: the rule (EarlyStopper), and a real run it ends (a few steps of the embedded model)."""
import pytest

from conftest import train

from trainer.core.config import Mode
from trainer.core.early_stop import EarlyStopper
from trainer.store import COMPLETED


def test_flat_metric_stops_after_patience_but_not_before_min_epochs():
    s = EarlyStopper(patience=3, min_epochs=5)
    decisions = [s.update(epoch, 0.5) for epoch in range(1, 9)]
    # epoch 1 sets the best; epochs 2-4 are three bad evaluations, but epoch 4 < 5
    assert decisions == [False, False, False, False, True, True, True, True]


def test_improvement_resets_patience():
    s = EarlyStopper(patience=2, min_epochs=0)
    assert not s.update(1, 0.5)
    assert not s.update(2, 0.5)
    assert not s.update(3, 0.6)
    assert not s.update(4, 0.6)
    assert s.update(5, 0.55)
    assert s.best == 0.6 and s.best_epoch == 3


def test_patience_zero_disables():
    s = EarlyStopper(patience=0, min_epochs=0)
    assert not any(s.update(e, 0.1) for e in range(1, 20))


@pytest.mark.slow
def test_a_run_stops_early_on_a_flat_metric_and_not_before_the_minimum(tmp_path, tiny_config):
    # patience 1 runs out at epoch 1 already; the minimum holds the run until epoch 3
    cfg = tiny_config(mode=Mode.DENSE, epochs=5, learning_rate=0.0, early_stopping_patience=1,
                      early_stopping_min_epochs=3)
    store, run, status, _ = train(tmp_path / "runs", cfg)
    assert status == COMPLETED and run.error == "early stopped at epoch 3"
    evals = [p for p in store.metrics(run.id) if p.name == "dense.mrr@10"]
    assert [p.epoch for p in evals] == [0, 1, 2, 3]
    assert len({round(p.value, 9) for p in evals}) == 1
