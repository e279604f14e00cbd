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


# Which questions a verdict is about. Validation questions decided things during training (when to stop early,
# which checkpoint to keep); the held-out test questions were set aside before training and decided nothing.
VALIDATION, TEST = "validation", "test"
# A mode "did not move" when at most this share of its questions changed rank (and the change is no clear one).
STILL_SHARE = 0.05


@dataclass(frozen=True)
class Mark:
    """How a page may draw a change, for every page alike: green and ↑ only for "better", red and ↓ only for
    "worse" (both beyond the noise), grey and no arrow otherwise (no clear difference, or nothing to judge)."""
    word: str                # BETTER, WORSE or UNCLEAR
    color: str               # "green", "red" or "gray"
    arrow: str               # "↑", "↓" or ""

    @property
    def delta_color(self) -> str:
        """st.metric's delta_color: its own green/red only beyond the noise."""
        return "normal" if self.arrow else "off"

    @property
    def delta_arrow(self) -> str:
        """st.metric's delta_arrow: none inside the noise."""
        return "auto" if self.arrow else "off"


def mark(change: Optional[Change]) -> Mark:
    """The one decision every headline, card, table cell and movement mark follows (None: no per-question
    ranks to judge, drawn as no clear difference)."""
    word = change.word if change is not None else UNCLEAR
    return {BETTER: Mark(BETTER, "green", "↑"), WORSE: Mark(WORSE, "red", "↓")}.get(word, Mark(UNCLEAR, "gray", ""))


@dataclass(frozen=True)
class Headline:
    """One head's change in one run, on one set of questions (TEST or VALIDATION), with the other set's
    change when the run has both (`other`): what the page leads with and what it explains next to it."""
    head: str
    questions: str
    change: Change
    other: Optional["Headline"] = None

    @property
    def mark(self) -> Mark:
        return mark(self.change)


def first_last(evaluations: list[dict], head: str) -> Optional[Change]:
    """The first evaluation (step 0, the base model) against the last (the kept model) on one head, from the
    per-question ranks (trainer.query_ranks's lines); None before a second evaluation."""
    if len(evaluations) < 2:
        return None
    first, last = evaluations[0]["ranks"].get(head), evaluations[-1]["ranks"].get(head)
    return paired(first, last) if first is not None and last is not None else None


def headline(validations: list[dict], tests: list[dict], head: str) -> Optional[Headline]:
    """What a page leads with for one head: the held-out test where the run has one (before → after), the
    validation otherwise (step 0 → the last validation); None while neither has two evaluations."""
    val, test = first_last(validations, head), first_last(tests, head)
    val_line = Headline(head, VALIDATION, val) if val is not None else None
    if test is not None:
        return Headline(head, TEST, test, val_line)
    return val_line


def changed(before: Sequence[Optional[int]], after: Sequence[Optional[int]]) -> int:
    """How many questions' right passage moved at all (in rank, whatever the cut-off)."""
    return sum(b != a for b, a in zip(before, after))


def still(before: Sequence[Optional[int]], after: Sequence[Optional[int]]) -> bool:
    """The scores did not move: at most STILL_SHARE of the questions changed rank and no clear change."""
    change = paired(before, after)
    return change is not None and change.word == UNCLEAR and changed(before, after) <= STILL_SHARE * len(before)


@dataclass(frozen=True)
class Contest:
    """Which of several runs won on the same questions: `leader` has the highest MRR@10; `winner` is the
    leader only when its lead over every other run is beyond the noise (paired, per question), else None
    ("none clearly"). `against[k]`: run k's final ranks → the leader's (diff > 0: the leader is ahead)."""
    leader: str
    winner: Optional[str]
    scores: dict
    against: dict

    @property
    def tied(self) -> list:
        """The runs the leader is not clearly ahead of."""
        return [k for k, c in self.against.items() if c.word != BETTER]


def contest(finals: dict, rounds: int = ROUNDS, seed: int = 0) -> Optional[Contest]:
    """`finals`: {run: first-relevant ranks of its kept model, the same questions in the same order}. None
    with fewer than two runs or when they were not scored on the same questions (different counts)."""
    if len(finals) < 2 or len({len(r) for r in finals.values()}) != 1 or not next(iter(finals.values())):
        return None
    scores = {k: float(reciprocal_ranks(r).mean()) for k, r in finals.items()}
    leader = max(scores, key=scores.get)          # the first of equals: the order given
    against = {k: paired(r, finals[leader], rounds, seed) for k, r in finals.items() if k != leader}
    winner = leader if all(c.word == BETTER for c in against.values()) else None
    return Contest(leader, winner, scores, against)
