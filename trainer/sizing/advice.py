"""Learning-rate and warmup advice. Pure functions: no torch, no I/O."""
from __future__ import annotations

import math

from trainer.core.config import RunConfig

# (examples, learning rate) anchors from fine-tuning practice for BGE-style embedders.
_DATA_ANCHORS = [(1e4, 1e-5), (1e5, 5e-6), (1e6, 2.5e-6)]
BGE_M3_PARAMS = 568e6        # BGE-M3 (XLM-RoBERTa large with its pooler): assumed where a model's shape is unknown
LARGE_MODEL_PARAMS = 300e6   # BGE-M3 (568M) is "large"; MiniLM (22.7M) is not
LARGE_MODEL_RANGE = (1e-6, 5e-6)
# Small models (MiniLM, 22.7M) on small data (< 10k examples, where it was measured) take twice the rate:
# on held-out CMRC test queries 2e-5 beat 1e-5 on every head (dense +0.29 vs +0.27 MRR@10, two seeds;
# bench/results/recipe_h200_run2.json). Larger data keeps the anchors.
SMALL_MODEL_PARAMS = 100e6
SMALL_MODEL_FACTOR = 2.0
SMALL_DATA_EXAMPLES = 10_000
WARMUP_START_FACTOR = 0.1    # the ramp starts at 1/10 of the target LR
WARMUP_FRACTION = 0.1        # short runs: warm up over at most ~10 % of the steps
WARMUP_MAX_STEPS = 2000      # long runs: 1000-2000 steps


def suggest_lr(num_params: float, num_examples: int) -> float:
    """A peak learning rate for a model of `num_params` on `num_examples` training rows."""
    if num_examples <= 0:
        raise ValueError("num_examples must be positive")
    # 1. Interpolate on log(examples) between the anchors; flat outside them.
    xs = [math.log10(n) for n, _ in _DATA_ANCHORS]
    ys = [math.log10(lr) for _, lr in _DATA_ANCHORS]
    x = min(max(math.log10(num_examples), xs[0]), xs[-1])
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if x <= x1:
            y = y0 + (y1 - y0) * (x - x0) / (x1 - x0)
            break
    lr = 10 ** y            # under 10k ≈ 1e-5, ~100k ≈ 5e-6, 1M+ ≈ 2e-6–3e-6
    # 2. Large models forget what they knew faster: keep them in 1e-6..5e-6; small ones take more.
    if num_params < SMALL_MODEL_PARAMS and num_examples < SMALL_DATA_EXAMPLES:
        lr *= SMALL_MODEL_FACTOR            # measured better on held-out data (see SMALL_MODEL_FACTOR)
    elif num_params >= LARGE_MODEL_PARAMS:
        low, high = LARGE_MODEL_RANGE
        lr = min(max(lr, low), high)
    return float(f"{lr:.2g}")


def warmup_steps(total_steps: int) -> int:
    """Warmup length: ~10 % of a short run, 1000-2000 steps for a long one."""
    if total_steps <= 1:
        return 0
    return max(1, min(WARMUP_MAX_STEPS, round(WARMUP_FRACTION * total_steps)))


def lr_at(step: int, peak_lr: float, warmup: int, total_steps: int) -> float:
    """The LR schedule the trainer uses (and the Configure page draws).

    1. Warmup: linear from peak/10 to peak over `warmup` steps.
    2. Then linear decay from peak to 0 at `total_steps`.
    """
    if warmup > 0 and step < warmup:
        return peak_lr * (WARMUP_START_FACTOR + (1 - WARMUP_START_FACTOR) * step / warmup)
    if total_steps <= warmup:
        return peak_lr
    remaining = max(0.0, (total_steps - step) / (total_steps - warmup))
    return peak_lr * remaining


def lr_curve(peak_lr: float, warmup: int, total_steps: int, points: int = 400) -> list[tuple[int, float]]:
    """(step, lr) pairs for a chart, thinned to about `points` points; always includes the warmup peak."""
    stride = max(1, total_steps // points)
    steps = sorted(set(range(0, total_steps + 1, stride)) | {min(warmup, total_steps), total_steps})
    return [(s, lr_at(s, peak_lr, warmup, total_steps)) for s in steps]


def total_steps(num_examples: int, batch_size: int, epochs: int, num_gpus: int = 1,
                max_steps: int = -1) -> int:
    """Optimizer steps of a run, as HF Trainer counts them (last partial batch kept)."""
    if max_steps > 0:
        return max_steps
    per_epoch = math.ceil(num_examples / max(1, batch_size * num_gpus))
    return per_epoch * epochs


def schedule(cfg: RunConfig, rows: int, world: int = 1, steps_per_epoch: int = 0) -> tuple[int, int]:
    """A run's optimizer steps and warmup steps (the configured warmup, or the advised one): the one
    place that works them out (the plan, Configure's preview). `steps_per_epoch`: length buckets' full
    batches (trainer.sizing.buckets.LengthPlan), one step each."""
    if steps_per_epoch and cfg.max_steps <= 0:
        total = steps_per_epoch * cfg.epochs
    else:
        total = total_steps(rows, cfg.batch_size, cfg.epochs, world, cfg.max_steps)
    return total, cfg.warmup_steps if cfg.warmup_steps >= 0 else warmup_steps(total)
