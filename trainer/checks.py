"""Everything a run needs, checked before it is created: form fields, training data, validation
folder, model. Problems name the file (or "run settings"), line and field. No torch."""
from __future__ import annotations

from pathlib import Path

from .config import DEFAULT_MODEL, RunConfig
from .data import Problem, resolve_eval, resolve_train, validate_eval, validate_train
from .models import read_config, resolve_model

SETTINGS = "run settings"
CHOICES = {"precision": ("auto", "fp32", "fp16", "bf16"), "pooling": ("auto", "cls", "mean"),
           "sparse_head": ("lean", "stock"), "report_to": ("none", "tensorboard", "mlflow")}


def max_tokens(model_path: str) -> int | None:
    """The longest input the model's position embeddings allow (RoBERTa-style models keep 2 for padding)."""
    cfg = read_config(model_path)
    positions = cfg.get("max_position_embeddings")
    if not isinstance(positions, int):
        return None
    return positions - 2 if "roberta" in str(cfg.get("model_type", "")) else positions


def check_config(cfg: RunConfig) -> list[Problem]:
    out: list[Problem] = []

    def bad(fld: str, msg: str) -> None:
        out.append(Problem(SETTINGS, 0, fld, msg))

    for fld, low in (("batch_size", 1), ("group_size", 1), ("query_max_len", 1), ("passage_max_len", 1),
                     ("num_gpus", 1), ("early_stopping_patience", 0), ("early_stopping_min_epochs", 0),
                     ("warmup_steps", -1), ("eval_every_steps", 0)):
        value = getattr(cfg, fld)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            bad(fld, f"must be a whole number ≥ {low}, got {value!r}")
    if cfg.max_steps <= 0 and cfg.epochs < 1:
        bad("epochs", f"must be at least 1 (or set max_steps), got {cfg.epochs!r}")
    for fld, high in (("learning_rate", 1e-2), ("temperature", 10.0), ("max_grad_norm", 1e6)):
        value = getattr(cfg, fld)
        if not isinstance(value, (int, float)) or not 0 < value <= high:
            bad(fld, f"must be above 0 and at most {high:g}, got {value!r}")
    if not 0 <= cfg.weight_decay <= 1:
        bad("weight_decay", f"must be between 0 and 1, got {cfg.weight_decay!r}")
    for fld, allowed in CHOICES.items():
        if getattr(cfg, fld) not in allowed:
            bad(fld, f"must be one of {', '.join(allowed)}, got {getattr(cfg, fld)!r}")
    model_path = resolve_model(cfg.model)
    limit = max_tokens(model_path)
    for fld in ("query_max_len", "passage_max_len"):
        if limit and isinstance(getattr(cfg, fld), int) and getattr(cfg, fld) > limit:
            bad(fld, f"{getattr(cfg, fld)} tokens is above the model's maximum of {limit}")
    if cfg.model != DEFAULT_MODEL and not Path(model_path).exists() and cfg.model.count("/") != 1:
        bad("model", f"{cfg.model!r} is neither a folder on this machine nor a hub id like 'BAAI/bge-m3'")
    return out


def preflight(cfg: RunConfig) -> list[Problem]:
    """All problems that must stop a run from starting. Bad training rows do not, when the user
    chose to skip them (and some rows are left)."""
    problems = check_config(cfg)
    report = validate_train(resolve_train(cfg.train_data), max(cfg.group_size, 1))
    if report.errors and not (cfg.skip_bad_rows and report.rows):
        problems += report.errors
    if cfg.eval_data:
        _, eval_report = validate_eval(resolve_eval(cfg.eval_data))
        problems += eval_report.errors
    return problems
