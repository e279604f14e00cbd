"""One registry of RunConfig's fields: each field's choices or bounds, and the Configure label it is shown
under. Generated from it: the settings checks (trainer.checks.check_config), the command line's flags
(trainer.__main__: choices in the help) and Configure's widgets (app/fields_ui.py). The descriptions are in
trainer.field_text. `tests/test_checks.py` holds every RunConfig field to an entry here. No torch."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional

from trainer.core.config import MINE_ALL, MINE_MISSING, OFF, Mode, RunConfig


@dataclass(frozen=True)
class Field:
    """`low`/`high`: bounds (None: none); `open_low`/`open_high`: the bound itself is not allowed. `whole`: a
    whole number. `choices`: the allowed values. `label`: Configure's label key (configure.*) where Configure
    shows the field through app/fields_ui.py; `fmt`/`step`: its number format and step there."""
    low: Optional[float] = None
    high: Optional[float] = None
    open_low: bool = False
    open_high: bool = False
    whole: bool = False
    choices: tuple = ()
    label: str = ""
    fmt: Optional[str] = None
    step: Optional[float] = None

    def problem(self, value: Any) -> Optional[str]:
        """Why `value` is not allowed, in the words the checks print; None when it is."""
        if self.choices:
            return None if value in self.choices else \
                f"must be one of {', '.join(map(str, self.choices))}, got {value!r}"
        if self.low is None and self.high is None:
            return None
        number = isinstance(value, int) if self.whole else isinstance(value, (int, float))
        ok = number and not isinstance(value, bool) \
            and (self.low is None or (value > self.low if self.open_low else value >= self.low)) \
            and (self.high is None or (value < self.high if self.open_high else value <= self.high))
        return None if ok else f"must be {self.words()}, got {value!r}"

    def words(self) -> str:
        low, high = (f"{x:g}" if x is not None else None for x in (self.low, self.high))
        if self.whole:
            return f"a whole number ≥ {low}" if high is None else f"a whole number from {low} to {high}"
        if high is None:
            return f"above {low}" if self.open_low else f"at least {low}"
        if self.open_low and not self.open_high:
            return f"above {low} and at most {high}"
        if not self.open_low and not self.open_high:
            return f"between {low} and {high}"
        return f"{'above' if self.open_low else 'at least'} {low} and below {high}"


def whole(low: float, high: Optional[float] = None, label: str = "") -> Field:
    return Field(low=low, high=high, whole=True, label=label)


def pick(*choices, label: str = "") -> Field:
    return Field(choices=tuple(choices), label=label)


FREE = Field()          # text, or a value checked by a rule of its own (trainer.checks)

FIELDS: dict[str, Field] = {
    "mode": pick(*(m for m in Mode)),
    "model": FREE, "train_data": FREE, "eval_data": FREE, "name": FREE,
    "epochs": whole(1, 1000, label="configure.epochs"),     # not checked when max_steps is set (trainer.checks)
    "max_steps": whole(-1),
    "batch_size": whole(1, 4096, label="configure.batch"),
    "group_size": whole(1, 64, label="configure.group"),
    "query_max_len": whole(8, 8192, label="configure.query_len"),
    "passage_max_len": whole(8, 8192, label="configure.passage_len"),
    "learning_rate": Field(low=0, high=1e-2, open_low=True, label="configure.lr", fmt="%.1e", step=1e-6),
    "warmup_steps": whole(-1, label="configure.warmup"),
    "weight_decay": Field(low=0, high=1),
    "max_grad_norm": Field(low=0, high=1e6, open_low=True),
    "temperature": Field(low=0, high=10, open_low=True),
    "precision": pick("auto", "fp32", "fp16", "bf16", label="configure.precision"),
    "pooling": pick("auto", "cls", "mean"),
    "sparse_head": pick("lean", "stock", label="configure.sparse_head"),
    "seed": whole(0),
    "eval_every_steps": whole(0),
    "early_stopping_patience": whole(0, 100, label="configure.patience"),
    "early_stopping_min_epochs": whole(0, 1000, label="configure.min_epochs"),
    "skip_bad_rows": FREE, "held_out_test": FREE,
    "val_fraction": Field(low=0, high=0.5, open_low=True, open_high=True),
    "test_fraction": Field(low=0, high=0.5, open_low=True, open_high=True),
    "mine": pick(MINE_MISSING, MINE_ALL, OFF, label="configure.mine"),
    "mine_negatives": whole(1),
    "mine_range": FREE,                           # A-B: trainer.config.parse_range
    "mine_margin": Field(low=0, high=1, open_high=True),
    "self_distill": Field(label="configure.self_distill"),
    "self_distill_start_step": whole(0),
    "teacher_scores": FREE,
    "heads_lr_scale": Field(low=0.1, high=1000, label="configure.heads_lr_scale"),
    "sparse_init": pick("random", "uniform"),
    "num_gpus": whole(1, label="configure.gpus"),
    "negatives_cross_device": Field(label="configure.cross_device"),
    "zero_stage": pick(0, 1, 2, label="configure.zero_stage"),
    "gradient_checkpointing": Field(label="configure.grad_ckpt"),
    "report_to": pick("none", "tensorboard", "mlflow", label="configure.report_to"),
    "length_buckets": FREE,                       # off | auto | edges: trainer.buckets.check_spec
    "bucket_gpu_gib": Field(low=0),
    "unpadded": FREE,
}

# The choices of the fields that have them (Mode's as its values): the CLI's help, Configure's options.
CHOICES: dict[str, tuple] = {name: tuple(c.value if isinstance(c, Mode) else c for c in f.choices)
                             for name, f in FIELDS.items() if f.choices}


def problems(cfg: RunConfig) -> list[tuple[str, str]]:
    """(field, why) for every field whose value its entry does not allow."""
    found = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        why = FIELDS[f.name].problem(value.value if isinstance(value, Mode) else value) \
            if f.name != "mode" else None       # a Mode is a Mode by construction
        if why:
            found.append((f.name, why))
    return found
