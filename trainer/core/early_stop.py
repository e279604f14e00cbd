"""Early stopping on validation MRR@10. Pure: fed one evaluation at a time."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EarlyStopper:
    patience: int = 3          # evaluations without improvement before stopping
    min_epochs: float = 5      # never stop before this many epochs
    min_delta: float = 0.0
    best: float = float("-inf")
    best_epoch: float = 0.0
    bad_evals: int = 0

    def update(self, epoch: float, score: float) -> bool:
        """Record one evaluation; True when training should stop now."""
        if score > self.best + self.min_delta:
            self.best, self.best_epoch, self.bad_evals = score, epoch, 0
        else:
            self.bad_evals += 1
        return self.patience > 0 and self.bad_evals >= self.patience and epoch >= self.min_epochs
