"""When a page may say "better": a paired bootstrap over the questions. No torch.

Every score the pages compare is MRR@10, the mean over questions of 1/rank of the right passage (0 past
rank 10). Two models scored on the same questions differ by the mean of the per-question differences; a
paired bootstrap resamples the questions (with replacement) and reads the 2.5th and 97.5th percentiles of
that mean. "Better" or "worse" only when the whole 95 % interval lies on one side of zero; otherwise
"no clear difference". With a few dozen questions a change of a few hundredths is usually inside the noise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

K = 10
ROUNDS = 2000
BETTER, WORSE, UNCLEAR = "better", "worse", "unclear"
# The absolute level: below this MRR@10 the right answer is rarely near the top, whatever the gain.
USEFUL_MRR = 0.3


def reciprocal_ranks(ranks: Sequence[Optional[int]], k: int = K) -> np.ndarray:
    """Per question: 1/rank of its first relevant passage, 0 beyond rank k (or when none was found)."""
    return np.array([1.0 / r if r is not None and 0 < r <= k else 0.0 for r in ranks])


@dataclass(frozen=True)
class Change:
    before: float            # MRR@10 of the first model
    after: float             # of the second
    low: float               # 95 % interval of after - before
    high: float
    questions: int

    @property
    def diff(self) -> float:
        return self.after - self.before

    @property
    def word(self) -> str:
        if self.low > 0:
            return BETTER
        if self.high < 0:
            return WORSE
        return UNCLEAR


def paired(before: Sequence[Optional[int]], after: Sequence[Optional[int]], rounds: int = ROUNDS,
           seed: int = 0) -> Optional[Change]:
    """The change from `before` to `after` (first-relevant ranks of the same questions, in the same order);
    None when they are not the same questions (different lengths) or there are none."""
    if len(before) != len(after) or not before:
        return None
    a, b = reciprocal_ranks(before), reciprocal_ranks(after)
    d = b - a
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(rounds, len(d)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Change(float(a.mean()), float(b.mean()), float(low), float(high), len(d))


def median_rank(ranks: Sequence[Optional[int]], corpus: Optional[int] = None) -> Optional[float]:
    """The median rank of the right passage (a question whose passage was not ranked counts as last)."""
    known = [r if r is not None else (corpus or 10**6) for r in ranks]
    return float(np.median(known)) if known else None
