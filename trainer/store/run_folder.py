"""One run's folder (`RUNS_DIR/RUN_ID/`) and what lies in it: the one place that names its files.
Every process uses it — the dashboard reads the folder, the worker writes it. No torch."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from trainer.core.config import DEMO_DATA, SPLIT
from trainer.core.config import DEMO_DIR, resolve_eval

# Files in a run folder that another module reads and writes (it owns their format; their names live here)
QUERY_RANKS = "query_ranks.jsonl"    # validation ranks per question: step 0, each evaluation, the end (query_ranks)
TEST_RANKS = "test_ranks.jsonl"      # the held-out test's: before training and after it
LENGTH_PLAN = "length_plan.json"     # the length buckets' plan and measured peaks (trainer.buckets)
BUCKETS = "buckets"                  # one training file per length bucket


class RunFolder:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.log = self.root / "worker.log"                # the worker's stdout and stderr (trainer.launch)
        self.plan = self.root / "plan.json"                # the run's resolved plan (trainer.plan owns its format)
        self.arguments = self.root / "arguments.json"      # what FlagEmbedding's parser made of the plan's (rank 0)
        self.train_file = self.root / "train.jsonl"        # the rows it trains on, split and mined (worker)
        self.eval_val = self.root / "eval_val"             # held-out validation queries, BEIR (eval_data="split")
        self.eval_test = self.root / "eval_test"           # held-out test queries, never used for a decision
        self.model = self.root / "model"                   # FlagEmbedding's output_dir: model + checkpoint-N/
        self.tensorboard = self.root / "tensorboard"       # opt-in tracking (HF's report_to)
        self.mlruns = self.root / "mlruns"
        self.merge_curve = self.root / "merge_curve.json"  # the Runs page's merge curve (trainer.engine.merge)
        self.reproduced = self.root / "reproduced"         # the equivalent command's output_dir (never run here)
        self.length_plan = self.root / LENGTH_PLAN
        self.buckets = self.root / BUCKETS

    def validation(self, eval_data: Optional[str]) -> Optional[Path]:
        """Where a run's validation set is (the one place that says it): the split held out into this
        folder, the demo's, the user's folder, or None for a run without evaluation. The worker writes
        a split there; Try it, the merge curve and every page read it from here."""
        return self.eval_val if eval_data == SPLIT else resolve_eval(eval_data)

    def test(self, eval_data: Optional[str]) -> Optional[Path]:
        """The held-out test set: the split's, or the demo's (asked in words neither training nor
        validation uses); a folder of the user's own has none."""
        if eval_data == SPLIT:
            return self.eval_test
        if eval_data == DEMO_DATA and (DEMO_DIR / "test").is_dir():
            return DEMO_DIR / "test"
        return None

    def export_dir(self, run_id: str) -> Path:
        return self.root / "export" / run_id

    def merged_dir(self, run_id: str, weight: float) -> Path:
        return self.root / "merged" / f"{run_id}-w{weight:.2f}"

    def has_model(self) -> bool:
        """A final model was saved in model/ (its config.json is there)."""
        return (self.model / "config.json").is_file()

    def last_checkpoint(self) -> Path | None:
        """The newest complete HF checkpoint (checkpoint-N with its trainer state) in model/."""
        done = [p for p in self.model.glob("checkpoint-*") if (p / "trainer_state.json").is_file()
                and p.name.split("-")[-1].isdigit()]
        return max(done, key=lambda p: int(p.name.split("-")[-1]), default=None)
