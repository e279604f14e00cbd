"""Shared by the GPU benchmarks: `trainer.engine.vram_probe`'s BGE-M3-shaped model and steps, and a search
for the largest batch that runs."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.engine.vram_probe import build, free, measure, optimizer  # noqa: E402,F401
from trainer.engine.lean_head import LeanSparseM3Model  # noqa: E402,F401
from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model  # noqa: E402,F401


def max_batch(model, opt, limit: int, **shape) -> int:
    """Largest batch that runs: doubling, then bisection."""
    good, b = 0, 1
    while b <= limit and measure(model, opt, b, steps=2, **shape)["status"] == "ok":
        good, b = b, b * 2
    low, high = good, min(b, limit + 1)
    while high - low > 1:
        mid = (low + high) // 2
        if measure(model, opt, mid, steps=2, **shape)["status"] == "ok":
            low = mid
        else:
            high = mid
    return low
