import pytest

from trainer.sizing import advice


def test_lr_follows_dataset_size():
    assert advice.suggest_lr(110e6, 5_000) == pytest.approx(1e-5)
    assert advice.suggest_lr(22.7e6, 100_000) == pytest.approx(5e-6)
    assert 2e-6 <= advice.suggest_lr(22.7e6, 2_000_000) <= 3e-6
    # monotone: more data, smaller LR
    lrs = [advice.suggest_lr(22.7e6, n) for n in (1e3, 3e4, 3e5, 3e6)]
    assert lrs == sorted(lrs, reverse=True)


def test_small_models_on_small_data_take_twice_the_rate():
    assert advice.suggest_lr(22.7e6, 5_000) == pytest.approx(2e-5)
    assert advice.suggest_lr(22.7e6, 20_000) < 1e-5


def test_large_models_stay_in_their_range():
    assert advice.suggest_lr(568e6, 5_000) == pytest.approx(5e-6)
    for n in (1e4, 1e5, 1e6, 1e7):
        assert 1e-6 <= advice.suggest_lr(568e6, int(n)) <= 5e-6


def test_warmup_is_a_tenth_of_short_runs_and_1000_to_2000_for_long_ones():
    assert advice.warmup_steps(100) == 10
    assert advice.warmup_steps(14) == 1
    assert advice.warmup_steps(1) == 0
    assert advice.warmup_steps(10_000) == 1000
    assert advice.warmup_steps(15_000) == 1500
    assert advice.warmup_steps(1_000_000) == 2000


def test_lr_schedule_starts_at_a_tenth_ramps_then_decays_to_zero():
    peak, warm, total = 1e-5, 100, 1000
    assert advice.lr_at(0, peak, warm, total) == pytest.approx(1e-6)
    assert advice.lr_at(50, peak, warm, total) == pytest.approx(0.55e-5)
    assert advice.lr_at(100, peak, warm, total) == pytest.approx(peak)
    assert advice.lr_at(550, peak, warm, total) == pytest.approx(peak / 2)
    assert advice.lr_at(1000, peak, warm, total) == 0.0
    curve = advice.lr_curve(peak, warm, total, points=50)
    assert curve[0] == (0, pytest.approx(1e-6)) and (100, pytest.approx(peak)) in curve
    assert max(v for _, v in curve) == pytest.approx(peak)


def test_total_steps_counts_partial_batches_and_gpus():
    assert advice.total_steps(108, 8, 5) == 14 * 5
    assert advice.total_steps(108, 8, 5, num_gpus=2) == 7 * 5
    assert advice.total_steps(108, 8, 5, max_steps=3) == 3
