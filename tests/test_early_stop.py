from trainer.early_stop import EarlyStopper


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
