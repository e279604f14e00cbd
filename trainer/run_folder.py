"""What a run's folder holds, for every process: the dashboard reads it, the worker writes it. No torch."""
from __future__ import annotations

from pathlib import Path


def last_checkpoint(model_dir: Path) -> Path | None:
    """The newest complete HF checkpoint (checkpoint-N with its trainer state) under a run's model folder."""
    done = [p for p in model_dir.glob("checkpoint-*") if (p / "trainer_state.json").is_file()
            and p.name.split("-")[-1].isdigit()]
    return max(done, key=lambda p: int(p.name.split("-")[-1]), default=None)
