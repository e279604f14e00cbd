"""Everything a run needs, checked before it is created: form fields, training data, validation
folder, model. Problems name the file (or "run settings"), line and field. No torch."""
from __future__ import annotations

import importlib.util

from .config import SPLIT, RunConfig
from . import fields, scan
from .data import Problem, resolve_eval, resolve_train, validate_eval
from .config import parse_range
from .split import problems as split_problems, split_rows
from .model_source import hub_problem, is_hub_id, max_tokens, model_dir

SETTINGS = "run settings"


def check_config(cfg: RunConfig) -> list[Problem]:
    out: list[Problem] = []

    def bad(fld: str, msg: str) -> None:
        out.append(Problem(SETTINGS, 0, fld, msg))

    for fld, why in fields.problems(cfg):        # choices and bounds: trainer.fields, one entry per field
        if fld == "epochs":
            if cfg.max_steps > 0:                  # max_steps decides the run's length
                continue
            why = why.replace(", got", " (or set max_steps), got")
        bad(fld, why)
    try:
        parse_range(cfg.mine_range)
    except ValueError as e:
        bad("mine_range", str(e))
    from .buckets import check_spec
    if (why := check_spec(cfg.length_buckets)):
        bad("length_buckets", why)
    if cfg.zero_stage in (1, 2):
        from . import gpus     # nvidia-smi: no torch
        if not gpus.detect():
            bad("zero_stage", "DeepSpeed ZeRO needs CUDA GPUs and none is visible here: use zero_stage 0")
        elif importlib.util.find_spec("deepspeed") is None:
            bad("zero_stage", "DeepSpeed is not installed: run scripts/setup.sh (requirements.txt pins deepspeed)")
    folder = model_dir(cfg.model)
    limit = max_tokens(folder)
    for fld in ("query_max_len", "passage_max_len"):
        if limit and isinstance(getattr(cfg, fld), int) and getattr(cfg, fld) > limit:
            bad(fld, f"{getattr(cfg, fld)} tokens is above the model's maximum of {limit}")
    if folder is None and not is_hub_id(cfg.model):
        bad("model", f"{cfg.model!r} is neither a folder on this machine nor a hub id like 'BAAI/bge-m3'")
    elif folder is None and (unreachable := hub_problem(cfg.model)):
        bad("model", unreachable)     # refused before a run is stored, not minutes later in the worker
    return out


def preflight(cfg: RunConfig, store=None) -> list[Problem]:
    """All problems that must stop a run from starting. Bad training rows do not, when the user
    chose to skip them (and some rows are left)."""
    return check(cfg, store)[0]


def check(cfg: RunConfig, store=None) -> tuple[list[Problem], scan.ScanResult]:
    """preflight's problems, and the scan of the training file they were found on (kept in `store`,
    and taken from it while the file is unchanged: a big file is read once, not on every check)."""
    problems = check_config(cfg)
    path = resolve_train(cfg.train_data)
    name = str(path)
    data = scan.ensure(store, path)
    if data.error_count and not (cfg.skip_bad_rows and data.rows):
        problems += data.error_problems()
    if cfg.eval_data == SPLIT:
        # Exact when the sample holds every row; a bigger file is split (and checked) by the worker.
        if data.rows and data.sample_rows == data.rows:
            rows = scan.sample_rows(store, data)
            problems += [Problem(name, 0, "eval_data", why) for why in
                         split_problems(split_rows(rows, cfg.val_fraction, cfg.test_fraction, cfg.seed), len(rows))]
    elif cfg.eval_data:
        _, eval_report = validate_eval(resolve_eval(cfg.eval_data))
        problems += eval_report.errors
    if cfg.mine == "off" and cfg.group_size > 1 and data.without_negatives:
        problems.append(Problem(name, 0, "neg", f"{data.without_negatives} rows have no negatives and mining is off: "
                                "turn mining on, or use group size 1 (in-batch negatives only)"))
    if cfg.length_buckets.strip().lower() != "off" and data.rows and not any(
            p.field in ("length_buckets", "bucket_gpu_gib", "model") for p in problems):
        # Planned over the scan's sample: every row up to SAMPLE_ROWS; a bigger file's full plan is the worker's.
        problems += bucket_problems(cfg, scan.sample_rows(store, data), name)
    if cfg.teacher_scores:
        unscored = data.rows - data.scored_rows
        if unscored:
            problems.append(Problem(name, 0, "pos_scores", f"{unscored} rows have no teacher scores (pos_scores and "
                                    "neg_scores): score them first (python -m trainer score) or turn teacher scores off"))
        if cfg.mine == "all":
            problems.append(Problem(SETTINGS, 0, "mine", "re-mining every row would drop the teacher's scores: "
                                    "use mine=missing or off with teacher scores"))
    return problems, data


def bucket_problems(cfg: RunConfig, rows: list[dict], name: str) -> list[Problem]:
    """Length buckets that cannot be planned: rows longer than the model takes, an empty bucket of
    explicit edges, a bucket that fits the card at no batch."""
    from .buckets import card_gib_for, plan_for_run
    from .data import DataError
    from .gpus import planned_precision

    try:
        plan_for_run(cfg, rows, gpu_gib=card_gib_for(cfg), precision=planned_precision(cfg.precision),
                     world=cfg.num_gpus, source=name)
    except DataError as e:
        return list(e.problems)
    except (ValueError, OSError) as e:
        return [Problem(name, 0, "length_buckets", str(e).removeprefix(f"{name}: "))]
    return []
