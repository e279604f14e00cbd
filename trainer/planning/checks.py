"""Everything a run needs, checked before it is created: form fields, training data, validation
folder, model. Problems name the file (or "run settings"), line and field. No torch."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from trainer.core.config import MINE_ALL, SPLIT, RunConfig
from trainer.core import fields
from trainer.data import scan
from trainer.data import Problem, validate_eval
from trainer.core.config import resolve_eval, resolve_train
from trainer.core.config import parse_range
from trainer.data.split import problems as split_problems, split_rows
from trainer.core.model_source import hub_problem, max_tokens, model_dir

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
    from trainer.sizing.buckets import check_spec
    if (why := check_spec(cfg.length_buckets)):
        bad("length_buckets", why)
    if cfg.zero_stage in (1, 2):
        from trainer.core import gpus     # nvidia-smi: no torch
        if not gpus.detect():
            bad("zero_stage", "DeepSpeed ZeRO needs CUDA GPUs and none is visible here: use zero_stage 0")
        elif importlib.util.find_spec("deepspeed") is None:
            bad("zero_stage", "DeepSpeed is not installed: run scripts/setup.sh (requirements.txt pins deepspeed)")
    # a model this machine cannot train is refused before a run is stored, not minutes later in the worker (or
    # ever with an error dump): a hub id not here (the download command, the cache, a copied folder), a path
    # that is not a model folder
    if (unusable := hub_problem(cfg.model)):
        bad("model", unusable)
        return out
    limit = max_tokens(model_dir(cfg.model))
    for fld in ("query_max_len", "passage_max_len"):
        if limit and isinstance(getattr(cfg, fld), int) and getattr(cfg, fld) > limit:
            bad(fld, f"{getattr(cfg, fld)} tokens is above the model's maximum of {limit}")
    return out


def preflight(cfg: RunConfig, store=None, *, memory: bool = True) -> list[Problem]:
    """All problems that must stop a run from starting. Bad training rows do not, when the user
    chose to skip them (and some rows are left). `memory=False`: a run whose memory estimate exceeds the
    machine goes ahead (the page's "start anyway", the CLI's --ignore-memory-estimate)."""
    return check(cfg, store, memory=memory)[0]


def split_check(cfg: RunConfig, store, data: scan.ScanResult) -> list[Problem]:
    """Why the held-out split of the training file cannot be made (too few queries for validation or test, no
    rows left); exact when the scan's sample holds every row, else [] (a bigger file is split and checked by
    the worker)."""
    if cfg.eval_data != SPLIT or not data.rows or data.sample_rows != data.rows:
        return []
    rows = scan.sample_rows(store, data)
    return [Problem(str(data.path), 0, "eval_data", why) for why in
            split_problems(split_rows(rows, cfg.val_fraction, cfg.test_fraction, cfg.seed), len(rows))]


def check(cfg: RunConfig, store=None, *, memory: bool = True) -> tuple[list[Problem], scan.ScanResult]:
    """preflight's problems, and the scan of the training file they were found on (kept in `store`,
    and taken from it while the file is unchanged: a big file is read once, not on every check)."""
    problems = check_config(cfg)
    path = resolve_train(cfg.train_data)
    name = str(path)
    data = scan.ensure(store, path)
    if data.error_count and not (cfg.skip_bad_rows and data.rows):
        problems += data.error_problems()
    if cfg.eval_data == SPLIT:
        problems += split_check(cfg, store, data)
    elif cfg.eval_data:
        _, eval_report = validate_eval(resolve_eval(cfg.eval_data))
        problems += eval_report.errors
    if cfg.short_of_negatives(data.without_negatives):
        problems.append(Problem(name, 0, "neg", f"{data.without_negatives} rows have no negatives and mining is off: "
                                "turn mining on, or use group size 1 (in-batch negatives only)"))
    if cfg.buckets_on and data.rows and not any(
            p.field in ("length_buckets", "bucket_gpu_gib", "model") for p in problems):
        # Planned over the scan's sample: every row up to SAMPLE_ROWS; a bigger file's full plan is the worker's.
        problems += bucket_problems(cfg, scan.sample_rows(store, data), name)
    if cfg.teacher_scores:
        unscored = data.rows - data.scored_rows
        if unscored:
            problems.append(Problem(name, 0, "pos_scores", f"{unscored} rows have no teacher scores (pos_scores and "
                                    "neg_scores): score them first (python -m trainer score) or turn teacher scores off"))
        if cfg.mine == MINE_ALL:
            problems.append(Problem(SETTINGS, 0, "mine", "re-mining every row would drop the teacher's scores: "
                                    "use mine=missing or off with teacher scores"))
    if memory and data.rows and not any(p.field in MEMORY_INPUTS for p in problems):
        short = memory_shortfall(cfg, store)
        if short is not None:
            problems.append(short.problem)
    return problems, data


# Memory: a run the machine cannot hold is refused (or, on the page, started only when the user confirms) -------
MEMORY_INPUTS = ("model", "batch_size", "group_size", "query_max_len", "passage_max_len", "precision", "num_gpus",
                 "length_buckets", "bucket_gpu_gib")
SHORTER_PASSAGES = (256, 128, 64)        # the passage lengths offered when the batch alone is not the way
FIX_FIELDS = ("batch_size", "passage_max_len", "mode", "gradient_checkpointing")   # what a fix may change


@dataclass(frozen=True)
class MemoryShortfall:
    """A run whose memory estimate exceeds the machine: its RAM on the CPU (trainer.estimate.cpu_memory_gib),
    its card's usable memory on a GPU (trainer.memory). `fixes`: changes that fit, each (field, value, need in
    GiB): the largest batch, shorter passages, another mode, gradient checkpointing."""
    need_gib: float
    have_gib: float
    device: str                        # "cpu", or the GPU's name
    fixes: tuple = ()

    @property
    def text(self) -> str:
        if self.device == "cpu":
            head = (f"this run needs about {self.need_gib:.1f} GiB of memory on the CPU (fp32 training) and this "
                    f"machine has {self.have_gib:.1f} GiB: it would run out of memory")
        else:
            head = (f"this run needs about {self.need_gib:.1f} GiB of GPU memory and the {self.device} has "
                    f"{self.have_gib:.1f} GiB usable: it would run out of memory")
        if not self.fixes:
            return head + ". Not even batch 1 fits: use a smaller model, or a machine with more memory"
        return head + ". What fits: " + "; or ".join(fix_words(*fix) for fix in self.fixes)

    @property
    def problem(self) -> Problem:
        return Problem(SETTINGS, 0, "batch_size", self.text)


def is_memory(problem: Problem) -> bool:
    """The memory refusal (which the user may override), among a check's problems."""
    return problem.file == SETTINGS and problem.message.startswith("this run needs about ")


def fix_words(field: str, value, need: float) -> str:
    """One change that fits, in English (the page words it in its language from the same triple)."""
    if field == "batch_size":
        return f"batch {value} (about {need:.1f} GiB)"
    if field == "passage_max_len":
        return f"passages of {value} tokens (about {need:.1f} GiB)"
    if field == "mode":
        return f"the {value} mode (about {need:.1f} GiB)"
    return f"gradient checkpointing on (about {need:.1f} GiB)"


def memory_shortfall(cfg: RunConfig, store=None) -> MemoryShortfall | None:
    """None when the run's memory estimate fits this machine (or cannot be made: a model of unknown shape,
    length buckets, which size each bucket's batch themselves); else what it needs, what there is, and what fits."""
    from trainer.core import gpus
    from trainer.core.config import Mode
    from trainer.sizing.memory import model_shape

    if cfg.buckets_on:
        return None
    try:
        shape = model_shape(cfg.model)
    except (ValueError, OSError):
        return None
    found = gpus.detect()
    if found:
        from trainer.sizing import memory

        card, bf16 = found[0], all(g.bf16 for g in found)

        def need(c: RunConfig) -> float:
            est = memory.estimate(memory.setup_for(c, shape, card.memory_gib, bf16))
            return est.total_gib + est.headroom_gib

        have = memory.card_gib(card.memory_gib)
        device = card.name or "GPU"
        largest = memory.estimate(memory.setup_for(cfg, shape, card.memory_gib, bf16)).max_batch
    else:
        from trainer.sizing import estimate

        have = gpus.cpu_facts()[1]

        def need(c: RunConfig) -> float:
            return estimate.cpu_memory_gib(store, c, shape, have)

        device, largest = "cpu", None
    wanted = need(cfg)
    if wanted <= have:
        return None
    fixes = []
    if largest is None:         # on the CPU: memory grows with the batch, so the largest that fits is bisected
        low, high = 0, cfg.batch_size            # batch `low` fits (0: none known), batch `high` does not
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if need(cfg.replace(batch_size=middle)) <= have else (low, middle)
        largest = low
    if 1 <= largest < cfg.batch_size:
        fixes.append(("batch_size", largest, need(cfg.replace(batch_size=largest))))
    for length in SHORTER_PASSAGES:
        if length < cfg.passage_max_len and (n := need(cfg.replace(passage_max_len=length))) <= have:
            fixes.append(("passage_max_len", length, n))
            break
    for mode in (Mode.DENSE, Mode.HEADS):
        if mode is not cfg.mode and (n := need(cfg.replace(mode=mode))) <= have:
            fixes.append(("mode", mode.value, n))
            break
    if found and not cfg.gradient_checkpointing and (n := need(cfg.replace(gradient_checkpointing=True))) <= have:
        fixes.append(("gradient_checkpointing", True, n))
    return MemoryShortfall(round(wanted, 1), round(have, 1), device, tuple(fixes))


def bucket_problems(cfg: RunConfig, rows: list[dict], name: str) -> list[Problem]:
    """Length buckets that cannot be planned: rows longer than the model takes, an empty bucket of
    explicit edges, a bucket that fits the card at no batch."""
    from trainer.sizing.buckets import card_gib_for, length_plan_for_run
    from trainer.data import DataError
    from trainer.core.gpus import planned_precision

    try:
        length_plan_for_run(cfg, rows, gpu_gib=card_gib_for(cfg), precision=planned_precision(cfg.precision),
                     world=cfg.num_gpus, source=name)
    except DataError as e:
        return list(e.problems)
    except (ValueError, OSError) as e:
        return [Problem(name, 0, "length_buckets", str(e).removeprefix(f"{name}: "))]
    return []
