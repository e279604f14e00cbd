"""Length buckets: the training rows grouped by token length, each group with the largest
per-device batch the memory estimator says fits the card. No torch.

FlagEmbedding trains long data the way its `scripts/split_data_by_length.py` prepares it: one file
per length range (edges 0/500/1000/2000/4000/... tokens) and, with `same_dataset_within_batch`,
every batch drawn from one file, at the batch size the file's `batch_size` column gives
(`AbsEmbedderSameDatasetTrainDataset._get_file_batch_size`). The maintainers choose those batch
sizes by trial and error; here `trainer.memory` chooses them.

A row's length is its longest passage (positive or negative) in the model's own tokens, special
tokens included (queries are truncated to the run's query length everywhere). A bucket pads and
truncates to its longest row, rounded up to a multiple of 8 (the collator's pad_to_multiple_of).
Where a bucket would not fit even at batch 1, gradient checkpointing is switched on for it (its
batches only: the trainer switches it per step). Batches are planned padded (rows of different lengths
share them): the estimate counts the attention mask transformers builds for them, which unpadded encoding
(RunConfig.unpadded, trainer.engine.unpadded) keeps a length-times smaller. A bucket with fewer rows than
one batch is merged into its longer neighbour (the last one into its shorter neighbour): FlagEmbedding
drops each file's last partial batch every epoch, so such a bucket would never train.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Optional

from trainer.core.config import Mode, resolve_precision
from trainer.data import DataError, Problem
from trainer.sizing.memory import Setup, Shape, card_gib, estimate, max_batch
from trainer.core.gpus import DEFAULT_CARD_GIB

EDGES = (0, 500, 1000, 2000, 4000, 8192)   # like FlagEmbedding's split_data_by_length
PAD = 8                                    # FlagEmbedding pads to a multiple of 8
BATCH_LIMIT = 4096                         # no cap given: the search stops here
PLAN_MARGIN = 0.05                         # of the card, kept free beyond the estimator's own headroom


@dataclass(frozen=True)
class Bucket:
    min_len: int                 # rows whose longest passage has at least this many tokens ...
    max_len: int                 # ... and at most this many: what the bucket pads and truncates to
    rows: int
    batch_size: int              # per device
    grad_ckpt: bool              # gradient checkpointing on for this bucket's steps
    estimate_gib: float          # the estimator's peak for one step of this bucket
    longest: int                 # the longest row's passage, in tokens
    steps_per_epoch: int = 0     # full batches (FlagEmbedding drops the last partial one)
    dropped_per_epoch: int = 0   # rows left out of each epoch by that (different ones every epoch)
    why: str = ""                # why checkpointing is on / the batch is capped, in words

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LengthPlan:
    buckets: list[Bucket]
    row_bucket: list[int] = field(repr=False)   # the bucket of each input row, in input order
    gpu_gib: float = DEFAULT_CARD_GIB
    mode: str = "all"
    precision: str = "bf16"
    gpus: int = 1
    group_size: int = 8
    query_len: int = 64
    sparse_head: str = "lean"
    edges: tuple = EDGES
    model_max: int = 8192
    notes: list[str] = field(default_factory=list)
    unpadded: bool = False       # planned for unpadded encoding (its smaller attention mask)

    @property
    def steps_per_epoch(self) -> int:
        return sum(b.steps_per_epoch for b in self.buckets)

    @property
    def longest(self) -> int:
        return max(b.max_len for b in self.buckets)

    @property
    def grad_ckpt(self) -> bool:
        return any(b.grad_ckpt for b in self.buckets)

    def to_dict(self) -> dict:
        return {"buckets": [b.to_dict() for b in self.buckets], "rows": sum(b.rows for b in self.buckets),
                "steps_per_epoch": self.steps_per_epoch, "gpu_gib": self.gpu_gib, "mode": self.mode,
                "precision": self.precision, "gpus": self.gpus, "group_size": self.group_size,
                "query_len": self.query_len, "sparse_head": self.sparse_head, "edges": list(self.edges),
                "model_max": self.model_max, "notes": list(self.notes), "unpadded": self.unpadded}


def parse_edges(text: str, model_max: int) -> tuple[tuple[int, ...], bool]:
    """`auto` -> FlagEmbedding's edges up to the model's maximum (empty ranges skipped); `0,500,2000`
    -> those edges, every range required to hold rows. Returns (edges, explicit)."""
    text = (text or "").strip().lower()
    if text == "auto":
        return tuple(e for e in EDGES if e < model_max) + (model_max,), False
    try:
        edges = sorted({int(e) for e in text.split(",") if e.strip()})
    except ValueError:
        raise ValueError(f"length buckets: expected 'off', 'auto' or token edges like 0,500,2000, got {text!r}") \
            from None
    if not edges or edges[0] < 0:
        raise ValueError(f"length buckets: edges must be token counts of 0 or more, got {text!r}")
    if edges[0] != 0:
        edges.insert(0, 0)
    edges = [e for e in edges if e < model_max] + [model_max]
    return tuple(edges), True


def check_spec(text: str) -> Optional[str]:
    """Why a length_buckets value is invalid, or None."""
    if (text or "").strip().lower() in ("off", "auto"):
        return None
    try:
        parse_edges(text, 1 << 30)
    except ValueError as e:
        return str(e)
    return None


def passage_lengths(rows: list[dict], tokenizer_model: str) -> list[int]:
    """Each row's longest passage in the model's tokens (the `tokenizers` library)."""
    from trainer.data.token_lengths import token_lengths

    texts, owner = [], []
    for i, r in enumerate(rows):
        for t in list(r.get("pos") or []) + list(r.get("neg") or []):
            texts.append(t)
            owner.append(i)
    out = [0] * len(rows)
    for i, n in zip(owner, token_lengths(texts, tokenizer_model)):
        out[i] = max(out[i], n)
    return out


def _round_up(n: int, limit: int) -> int:
    return min(limit, PAD * math.ceil(max(1, n) / PAD))


def _sized(setup: Setup, max_len: int, cap: int) -> tuple[int, bool, float, str]:
    """(batch, grad_ckpt, estimate GiB, why) of one bucket; batch 0 when nothing fits."""
    at = replace(setup, passage_len=max_len, grad_ckpt=False)
    batch, ckpt, why = max_batch(at, cap), False, ""
    if batch == 0 and not setup.mode.fix_encoder:
        at = replace(at, grad_ckpt=True)
        batch, ckpt = max_batch(at, cap), True
        why = "gradient checkpointing: batch 1 would not fit without it"
    if batch == 0:
        one = estimate(replace(at, batch=1))
        return 0, ckpt, one.total_gib + one.headroom_gib, f"{one.usable_gib:.1f} GiB usable"
    return batch, ckpt, estimate(replace(at, batch=batch)).total_gib, why


def length_plan(lengths: list[int], *, shape: Shape, mode: Mode, gpu_gib: float, model_max: int,
         precision: str = "bf16", gpus: int = 1, group_size: int = 8, query_len: int = 64,
         sparse_head: str = "lean", spec: str = "auto", max_batch_size: int = 0, source: str = "",
         unpadded: bool = False) -> LengthPlan:
    """Buckets for rows of these token lengths (row i has length lengths[i]). Deterministic: the
    same lengths and settings give the same plan. Raises DataError (file, line, field) for rows
    longer than the model's maximum and ValueError for empty or unfittable buckets."""
    mode = Mode(mode)
    source = source or "training file"
    if not lengths:
        raise DataError([Problem(source, 0, "", "no rows to put in length buckets")])
    too_long = [Problem(source, i + 1, "pos/neg", f"a passage of {n} tokens is longer than the model's maximum "
                        f"of {model_max}: shorten or split it") for i, n in enumerate(lengths) if n > model_max]
    if too_long:
        raise DataError(too_long)
    edges, explicit = parse_edges(spec, model_max)
    # Batches of rows of different lengths are padded: the estimate counts the attention mask that
    # builds, and the plan keeps PLAN_MARGIN of the card free for the allocator's varying shapes.
    planned = card_gib(gpu_gib) * (1 - PLAN_MARGIN)
    planned = planned - 1e-6 if float(planned).is_integer() else planned
    setup = Setup(shape=shape, mode=mode, batch=1, group_size=group_size, query_len=query_len, passage_len=PAD,
                  precision=precision, sparse_head=sparse_head, gpu_gib=planned, num_gpus=gpus, padded=True,
                  unpadded=unpadded)
    cap = max_batch_size if max_batch_size > 0 else BATCH_LIMIT

    def index(n: int) -> int:
        for k in range(len(edges) - 1):
            if n < edges[k + 1]:
                return k
        return len(edges) - 2                     # exactly the model's maximum: the last range
    slot = [index(n) for n in lengths]
    ranges = [[edges[k], edges[k + 1]] for k in range(len(edges) - 1)]
    members = [[i for i, s in enumerate(slot) if s == k] for k in range(len(ranges))]
    if explicit:
        empty = [f"{lo}-{hi}" for (lo, hi), m in zip(ranges, members) if not m]
        if empty:
            raise ValueError(f"{source}: length bucket(s) {', '.join(empty)} tokens hold no rows: "
                             f"drop those edges or use 'auto'")
    groups = [(lo, m) for (lo, _), m in zip(ranges, members) if m]
    notes: list[str] = []

    while True:
        sized = []
        previous = cap
        for lo, m in groups:
            longest = max(lengths[i] for i in m)
            max_len = _round_up(longest, model_max)
            batch, ckpt, est, why = _sized(setup, max_len, previous)
            if batch == 0:
                raise ValueError(
                    f"{source}: the {lo}-{max_len} token bucket ({len(m)} rows) does not fit a {gpu_gib:g} GB "
                    f"card even at batch 1{' with gradient checkpointing' if ckpt else ''} (it needs {est:.1f} GiB "
                    f"with the allocator's headroom, {why}): use a larger card, a smaller group size, or "
                    f"shorter passages")
            if batch == previous and not why:
                why = (f"capped at the batch size {cap}" if previous == cap and cap < BATCH_LIMIT else
                       "capped at the shorter bucket's batch (batch never grows with length)" if previous != cap
                       else "")
            previous = batch
            sized.append((lo, m, longest, max_len, batch, ckpt, est, why))
        tiny = next((k for k, s in enumerate(sized) if len(s[1]) < s[4] * gpus), None)
        if tiny is None or len(groups) == 1:
            break
        into = tiny + 1 if tiny + 1 < len(groups) else tiny - 1
        a, b = sorted((tiny, into))
        notes.append(f"merged the {groups[tiny][0]}+ token bucket ({len(groups[tiny][1])} rows, fewer than one "
                     f"batch of {sized[tiny][4]}) into its neighbour")
        groups[a:b + 1] = [(groups[a][0], sorted(groups[a][1] + groups[b][1]))]

    buckets, row_bucket = [], [0] * len(lengths)
    for k, (lo, m, longest, max_len, batch, ckpt, est, why) in enumerate(sized):
        if len(m) < batch * gpus:                 # one bucket, fewer rows than its batch
            if len(m) < gpus:
                raise ValueError(f"{source}: {len(m)} rows cannot fill a batch on each of {gpus} GPUs")
            batch, why = len(m) // gpus, f"lowered to the {len(m)} rows there are"
            est = estimate(replace(setup, passage_len=max_len, grad_ckpt=ckpt, batch=batch)).total_gib
        steps = len(m) // (batch * gpus)
        buckets.append(Bucket(min_len=lo, max_len=max_len, rows=len(m), batch_size=batch, grad_ckpt=ckpt,
                              estimate_gib=round(est, 2), longest=longest, steps_per_epoch=steps,
                              dropped_per_epoch=len(m) - steps * batch * gpus, why=why))
        for i in m:
            row_bucket[i] = k
    return LengthPlan(buckets=buckets, row_bucket=row_bucket, gpu_gib=gpu_gib, mode=mode.value, precision=precision,
                gpus=gpus, group_size=group_size, query_len=query_len, sparse_head=sparse_head, edges=edges,
                model_max=model_max, notes=notes, unpadded=unpadded)


def model_max_tokens(model: str) -> int:
    """The longest input the model takes (its position embeddings; BGE-M3's 8192 when built in)."""
    from trainer.sizing.memory import BUILT_IN
    from trainer.core.model_source import max_tokens, model_dir

    folder = model_dir(model) if model not in BUILT_IN else None
    limit = max_tokens(folder) if folder else None
    if limit is None and model in BUILT_IN:
        return BUILT_IN[model].positions - 2
    if limit is None:
        raise ValueError(f"{model}: no config.json with max_position_embeddings to take the longest input from")
    return limit


def length_plan_of_rows(rows: list[dict], *, model: str, tokenizer_model: Optional[str] = None, **settings) -> LengthPlan:
    """`plan` for training rows, their lengths counted with `tokenizer_model` (default: `model`)."""
    settings.setdefault("model_max", model_max_tokens(model))
    lengths = passage_lengths(rows, tokenizer_model or model)
    from trainer.sizing.memory import model_shape
    return length_plan(lengths, shape=model_shape(model), **settings)


def length_plan_for_run(cfg, rows: list[dict], *, gpu_gib: float, precision: str, world: int, source: str = "",
                 model_folder: Optional[str] = None) -> LengthPlan:
    """A run's buckets: its model, mode, group and query length; batches up to its batch size."""
    model = model_folder or cfg.model
    return length_plan_of_rows(rows, model=cfg.model, tokenizer_model=model, mode=cfg.mode, gpu_gib=gpu_gib,
                     precision=resolve_precision(precision, gpu=True), gpus=world,
                     group_size=cfg.group_size, query_len=cfg.query_max_len, sparse_head=cfg.sparse_head,
                     spec=cfg.length_buckets, max_batch_size=cfg.batch_size, source=source,
                     unpadded=getattr(cfg, "unpadded", False))


def card_gib_for(cfg) -> float:
    """The card a run's buckets are sized for: its setting, else this machine's first GPU, else 80 GB."""
    if cfg.bucket_gpu_gib:
        return float(cfg.bucket_gpu_gib)
    from trainer.core import gpus
    return gpus.card_gib()


def from_dict(data: dict) -> LengthPlan:
    """A saved plan (length_plan.json) back as a LengthPlan; the rows' assignment is in the bucket files."""
    known = {f for f in Bucket.__dataclass_fields__}
    buckets = [Bucket(**{k: v for k, v in b.items() if k in known}) for b in data["buckets"]]
    return LengthPlan(buckets=buckets, row_bucket=[], gpu_gib=data["gpu_gib"], mode=data["mode"],
                precision=data["precision"], gpus=data["gpus"], group_size=data["group_size"],
                query_len=data["query_len"], sparse_head=data["sparse_head"], edges=tuple(data["edges"]),
                model_max=data["model_max"], notes=data.get("notes", []), unpadded=data.get("unpadded", False))


def bucket_file(folder: Path, b: Bucket) -> Path:
    return folder / f"len-{b.min_len}-{b.max_len}.jsonl"


def write_bucket_files(plan_: LengthPlan, rows: list[dict], folder: Path) -> list[Path]:
    """One JSONL file per bucket, every row carrying the bucket's `batch_size` (what FlagEmbedding
    reads per file), written atomically."""
    from trainer.data import write_jsonl_atomic

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, b in enumerate(plan_.buckets):
        chosen = [dict(r, batch_size=b.batch_size) for r, s in zip(rows, plan_.row_bucket) if s == k]
        path = bucket_file(folder, b)
        write_jsonl_atomic(path, chosen)
        paths.append(path)
    return paths


def save(plan_: LengthPlan, path: Path, extra: Optional[dict] = None) -> None:
    data = {**plan_.to_dict(), **(extra or {})}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.partial")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    tmp.replace(path)


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
