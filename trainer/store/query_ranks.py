"""Per-query ranks of the right passage at each validation, and the story they tell (which queries
search got better or worse for). The worker appends one JSON line per validation to the run folder;
pages read them without loading a model. No torch."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from trainer.store.run_folder import QUERY_RANKS, TEST_RANKS

FILE, TEST_FILE = QUERY_RANKS, TEST_RANKS     # validation's, the held-out test's (their names: trainer.run_folder)


def append(run_dir: Path, step: int, epoch: float, ranks: dict[str, list[Optional[int]]], file: str = FILE) -> None:
    """One evaluation's ranks: {head: [rank of the first relevant passage, per query]}."""
    with open(Path(run_dir) / file, "a", encoding="utf-8") as f:
        f.write(json.dumps({"step": step, "epoch": epoch, "ranks": ranks}) + "\n")


def load(run_dir: Path, file: str = FILE) -> list[dict]:
    """The evaluations in the order written; a line still being written is left out."""
    path = Path(run_dir) / file
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return out


@dataclass(frozen=True)
class Story:
    """How the right passage moved between two validations, for one head."""
    queries: int
    improved: int
    worse: int
    mean_before: float
    mean_after: float

    @property
    def unchanged(self) -> int:
        return self.queries - self.improved - self.worse


def story(before: Sequence[Optional[int]], after: Sequence[Optional[int]]) -> Story:
    pairs = [(b, a) for b, a in zip(before, after) if b is not None and a is not None]
    n = max(1, len(pairs))
    return Story(len(pairs), sum(a < b for b, a in pairs), sum(a > b for b, a in pairs),
                 sum(b for b, _ in pairs) / n, sum(a for _, a in pairs) / n)


def stories(validations: list[dict]) -> dict[str, Story]:
    """Per head: the first validation (step 0, the base model) against the last one."""
    if len(validations) < 2:
        return {}
    first, last = validations[0]["ranks"], validations[-1]["ranks"]
    return {h: story(first[h], last[h]) for h in first if h in last}


def moves(validations: list[dict], head: str) -> list[tuple[Optional[int], Optional[int]]]:
    """Per validation query: (rank at the first validation, rank at the last) on one head."""
    if not validations or head not in validations[0]["ranks"]:
        return []
    return list(zip(validations[0]["ranks"][head], validations[-1]["ranks"][head]))
