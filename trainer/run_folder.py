"""One run's folder (`RUNS_DIR/RUN_ID/`) and what lies in it: the one place that names its files.
Every process uses it — the dashboard reads the folder, the worker writes it. No torch.

    worker.log        the worker's stdout and stderr (trainer.launch)
    train.jsonl       the rows the run trains on, after the split and mining (worker.prepare_data)
    eval_val/         held-out validation queries, BEIR layout (worker, eval_data="split")
    eval_test/        held-out test queries, never used for a decision (worker, eval_data="split")
    model/            FlagEmbedding's output_dir: the final model and checkpoint-N/ folders
    query_ranks.jsonl per validation, the rank of each query's right passage (trainer.query_ranks)
    tensorboard/, mlruns/   opt-in tracking (HF's report_to)
    export/RUN_ID/, merged/RUN_ID-wW/, merge_curve.json   written from the Runs page
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunFolder:
    root: Path

    @property
    def log(self) -> Path:
        return self.root / "worker.log"

    @property
    def train_file(self) -> Path:
        return self.root / "train.jsonl"

    @property
    def eval_val(self) -> Path:
        return self.root / "eval_val"

    @property
    def eval_test(self) -> Path:
        return self.root / "eval_test"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def mlruns(self) -> Path:
        return self.root / "mlruns"

    @property
    def reproduced(self) -> Path:
        """Where the equivalent command's own run would write (it is never run here)."""
        return self.root / "reproduced"

    @property
    def merge_curve(self) -> Path:
        return self.root / "merge_curve.json"

    @property
    def merge_curve_work(self) -> Path:
        """Scratch folder for the curve's merged models, removed when the curve is done."""
        return self.root / "merge_curve"

    def export_dir(self, run_id: str) -> Path:
        return self.root / "export" / run_id

    def merged_dir(self, run_id: str, weight: float) -> Path:
        return self.root / "merged" / f"{run_id}-w{weight:.2f}"

    def has_model(self) -> bool:
        """A final model was saved in model/ (its config.json is there)."""
        return (self.model / "config.json").is_file()

    def last_checkpoint(self) -> Path | None:
        return last_checkpoint(self.model)


def last_checkpoint(model_dir: Path) -> Path | None:
    """The newest complete HF checkpoint (checkpoint-N with its trainer state) under a run's model folder."""
    done = [p for p in model_dir.glob("checkpoint-*") if (p / "trainer_state.json").is_file()
            and p.name.split("-")[-1].isdigit()]
    return max(done, key=lambda p: int(p.name.split("-")[-1]), default=None)
