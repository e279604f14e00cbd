"""A run's resolved plan: what it trains on, on how many processes, at what precision, for how many
steps, and the complete FlagEmbedding/HF arguments the worker passes. No torch.

`make` is the one function that works these out. It runs when a run is created (`launch.create`: the
dashboard's view, before the data is prepared) and once more in the worker on rank 0 after it prepared the
data (split, mining, length buckets: the facts only known then), which stores the completed plan in the
run folder (`RunFolder.plan`, plan.json) for everyone to read: the other ranks (on other machines too,
which never open the store), the equivalent command (`trainer.reproduce`), the Runs page and the model
card. A resumed run keeps the plan it started with. Configure's preview calls `make` for a run that does not
exist yet.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from trainer.sizing.advice import schedule
from trainer.core.config import SPLIT, RunConfig
from trainer.core.config import resolve_train
from trainer.planning.flag_args import deepspeed_path, flag_arguments, write_deepspeed_config
from trainer.store.run_folder import RunFolder

VERSION = 1
HF_LOG_STEPS = 50          # HF's own log (progress bar, log_history): every N steps; every step with report_to
WAIT_POLL_S = 0.5          # how often a rank waiting for rank 0's plan looks again


@dataclass
class Plan:
    run_id: str
    config: dict                     # the RunConfig (RunConfig.to_json's fields): a rank without the store reads it here
    prepared: bool                   # completed by the worker after preparing the data (else the creation's view)
    train_files: list[str]           # what FlagEmbedding reads: one file, or one per length bucket
    rows: Optional[int]              # training rows after the split and mining (None: not known before preparing)
    validation: Optional[str]        # BEIR folders (RunFolder.validation / .test), or None
    test: Optional[str]
    precision: str                   # fp32 | fp16 | bf16, resolved
    cuda: bool                       # trains on GPUs (else CPU processes, gloo)
    nproc_per_node: int
    nnodes: int
    total_steps: int
    warmup_steps: int
    args: dict[str, Any]             # FlagEmbedding's and HF's arguments, by their names, exactly as the worker passes them
    studio: dict[str, Any]           # the worker's own options beyond FlagEmbedding's (trainer.engine.training.train)
    length_plan: Optional[str] = None   # the length buckets' plan file (trainer.buckets), when bucketed
    made: float = field(default_factory=time.time)
    version: int = VERSION

    @property
    def world(self) -> int:
        return self.nproc_per_node * self.nnodes

    @property
    def run_config(self) -> RunConfig:
        return RunConfig.from_json(json.dumps(self.config))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Plan":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def studio_options(cfg: RunConfig, cuda: bool) -> dict[str, Any]:
    """The worker's own options beyond FlagEmbedding's arguments (trainer.engine.training.train's keywords)."""
    return {"lean_sparse_head": cfg.sparse_head == "lean", "heads_lr_scale": cfg.heads_lr_scale,
            "sparse_init": cfg.sparse_init, "unpadded": cfg.unpadded and cuda}     # GPUs only: measured there


def trains_in_place(cfg: RunConfig, data) -> bool:
    """Whether the run trains on the user's file where it is (a valid JSONL file that needs no split, no
    mining, no conversion; `data` is its trainer.scan.ScanResult), or on rows the worker prepares in the run
    folder (RunFolder.train_file)."""
    return bool(data.direct) and cfg.eval_data != SPLIT and not cfg.mines(data.without_negatives)


def _has_logging_dir() -> bool:
    """Whether this machine's transformers still takes TrainingArguments.logging_dir (dropped in 5.15; the
    package's range admits later ones). Read from its metadata: nothing is imported."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major, minor = (int(x) for x in version("transformers").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return True
    return (major, minor) < (5, 15)


def make(cfg: RunConfig, folder: RunFolder, run_id: str, *, train_file: str, rows: Optional[int], precision: str,
         cuda: bool, nproc_per_node: int, nnodes: int = 1, length_plan=None, bucket_files: Optional[list[str]] = None,
         prepared: bool = False) -> Plan:
    """The plan of run `run_id` (its folder `folder`) on `nnodes` machines of `nproc_per_node` processes:
    `rows` training rows in `train_file`, or, with length buckets, `length_plan` (trainer.buckets.Plan) and its
    `bucket_files`."""
    world = nproc_per_node * nnodes
    total, warmup = schedule(cfg, rows or 0, world, length_plan.steps_per_epoch if length_plan else 0)
    args = flag_arguments(cfg, train_file=train_file, output_dir=str(folder.model), precision=precision,
                          warmup_steps=warmup, lengths=length_plan, bucket_files=bucket_files)
    # With the pooler frozen (training.StudioRunner), every parameter that trains gets a gradient, so DDP can
    # skip its per-step search for unused ones (HF turns it on for non-HF models).
    args["ddp_find_unused_parameters"] = False
    # Nothing waits for the device each step: callbacks.StoreMetrics records every step's loss on its own
    # batched path, so HF's log (an all-gather and `.item()`) runs every HF_LOG_STEPS steps, every step only
    # for the opt-in trackers, and its NaN filter (a `.item()` per step) is off.
    args["logging_steps"] = 1 if cfg.report_to != "none" else HF_LOG_STEPS
    args["logging_nan_inf_filter"] = False
    # Opt-in TensorBoard / MLflow: HF's own callbacks, their files inside the run folder (transformers 5.15+
    # has no logging_dir: there the worker names the folder in TENSORBOARD_LOGGING_DIR instead).
    if _has_logging_dir():
        args["logging_dir"] = str(folder.tensorboard)
    args["run_name"] = run_id
    if world == 1:       # one process has no other devices' negatives (FlagEmbedding would refuse)
        args["negatives_cross_device"] = False
    if cuda:
        # Tokenize the next batches in background processes while the GPU trains (torchrun gives each rank
        # one OpenMP thread, which made in-loop batching the bottleneck on 2 GPUs).
        args["dataloader_num_workers"] = 2
    else:
        # Tells accelerate that several processes without GPUs are one run (gloo), not strangers.
        args["use_cpu"] = True
    validation, test = folder.validation(cfg.eval_data), folder.test(cfg.eval_data)
    return Plan(run_id=run_id, config=json.loads(cfg.to_json()), prepared=prepared,
                train_files=list(args["train_data"]), rows=rows,
                validation=str(validation) if validation else None, test=str(test) if test else None,
                precision=precision, cuda=cuda, nproc_per_node=nproc_per_node, nnodes=nnodes,
                total_steps=total, warmup_steps=warmup, args=args, studio=studio_options(cfg, cuda),
                length_plan=str(folder.length_plan) if length_plan is not None else None)


def for_nodes(plan: Plan, nnodes: int) -> Plan:
    """The same run on `nnodes` machines of the plan's processes each: `make` again with the stored facts
    (the warmup follows the larger world)."""
    if nnodes == plan.nnodes:
        return plan
    folder = RunFolder(Path(plan.args["output_dir"]).parent)
    length_plan = None
    if plan.length_plan:
        from trainer.sizing import buckets
        length_plan = buckets.from_dict(buckets.load(Path(plan.length_plan)))
    cfg = plan.run_config
    return make(cfg, folder, plan.run_id, train_file=plan.train_files[0], rows=plan.rows, precision=plan.precision,
                cuda=plan.cuda, nproc_per_node=plan.nproc_per_node, nnodes=nnodes, length_plan=length_plan,
                bucket_files=plan.train_files if length_plan is not None else None, prepared=plan.prepared)


def save(plan: Plan, folder: RunFolder) -> Path:
    """Into the run folder, atomically (a rank waiting for it never reads half a file). A ZeRO run's
    DeepSpeed config is written next to it: the file its arguments name, read by every rank."""
    folder.root.mkdir(parents=True, exist_ok=True)
    if plan.config.get("zero_stage"):
        write_deepspeed_config(plan.args["output_dir"], plan.config["zero_stage"])
    partial = folder.plan.with_name(f"{folder.plan.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(plan.to_dict(), indent=1) + "\n", encoding="utf-8")
    partial.replace(folder.plan)
    return folder.plan


def load(path: Path | str) -> Optional[Plan]:
    """The stored plan, or None (a run from before plans, or one not yet created)."""
    try:
        return Plan.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def of_run(run) -> Optional[Plan]:
    """A stored run's plan (trainer.store.Run)."""
    return load(run.folder.plan)


def wait_prepared(path: Path | str, timeout_s: float = 0.0) -> Plan:
    """What ranks other than 0 do first: wait for rank 0's completed plan (after the data is prepared, which
    may take minutes of mining), with every file it trains on in place."""
    deadline = time.monotonic() + timeout_s if timeout_s > 0 else None
    while True:
        found = load(path)
        if found is not None and found.prepared and all(Path(f).is_file() for f in found.train_files):
            return found
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"no completed plan at {path} after {timeout_s:.0f} s (rank 0 prepares the data "
                               "and writes it)")
        time.sleep(WAIT_POLL_S)


def initial(cfg: RunConfig, folder: RunFolder, run_id: str, data, *, cuda: bool, precision: str,
            rows: Optional[int] = None, lengths=None, bucket_files: Optional[list[str]] = None) -> Plan:
    """The plan when a run is created (before the worker prepares its data), and Configure's preview of it: the
    training file the run will read, the rows the preflight's scan (`data`) counted when it trains on the file
    where it is (else `rows`, the count after the split where known), with length buckets `lengths` and their
    `bucket_files` where planned."""
    in_place = data is not None and trains_in_place(cfg, data)
    train_file = str(resolve_train(cfg.train_data)) if in_place else str(folder.train_file)
    return make(cfg, folder, run_id, train_file=train_file, rows=data.rows if in_place else rows,
                precision=precision, cuda=cuda, nproc_per_node=cfg.num_gpus, length_plan=lengths,
                bucket_files=bucket_files)


def deepspeed_file(plan: Plan) -> Optional[Path]:
    stage = plan.config.get("zero_stage") or 0
    return deepspeed_path(plan.args["output_dir"], stage) if stage else None
