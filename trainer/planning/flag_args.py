"""RunConfig -> FlagEmbedding's M3 arguments (trainer.plan completes them into the run's plan, which
feeds both the worker, parsed by FlagEmbedding's own HfArgumentParser dataclasses, and the equivalent
command line), and that command line. No torch."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trainer.core.config import RunConfig
from trainer.core.model_source import resolve_model, run_pooling

M3_MODULE = "FlagEmbedding.finetune.embedder.encoder_only.m3"


def deepspeed_config(stage: int) -> dict[str, Any]:
    """FlagEmbedding's examples/finetune/ds_stage{1,2}.json: "auto" wherever HF's Trainer fills in the
    run's own arguments (precision, batch, clipping). Without their optimizer and scheduler sections,
    so a ZeRO run keeps the run's own (StudioTrainer: the heads' LR groups, warmup from 1/10) and its
    curve matches the same run without ZeRO. Stage 1 shards the optimizer state (and fp32 master
    weights) over the GPUs, stage 2 the gradients too."""
    zero: dict[str, Any] = {"stage": stage, "reduce_bucket_size": 5e8}
    if stage >= 2:
        zero.update(allgather_partitions=True, allgather_bucket_size=5e8, overlap_comm=True, reduce_scatter=True,
                    contiguous_gradients=True)
    return {
        "zero_optimization": zero,
        "fp16": {"enabled": "auto", "loss_scale": 0, "initial_scale_power": 10, "loss_scale_window": 1000,
                 "hysteresis": 2, "min_loss_scale": 1},
        "bf16": {"enabled": "auto"},
        "gradient_accumulation_steps": "auto",
        "gradient_clipping": "auto",
        "steps_per_print": 1000,
        "train_batch_size": "auto",
        "train_micro_batch_size_per_gpu": "auto",
        "wall_clock_breakdown": False,
    }


def deepspeed_path(output_dir: str, stage: int) -> Path:
    """Where a run's ZeRO config lives: its run folder (the parent of its model folder)."""
    return Path(output_dir).parent / f"ds_stage{stage}.json"


def write_deepspeed_config(output_dir: str, stage: int) -> Path:
    path = deepspeed_path(output_dir, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(deepspeed_config(stage), indent=2) + "\n", encoding="utf-8")
    return path


def bucket_arguments(files: list[str], lengths) -> dict[str, Any]:
    """FlagEmbedding's same-dataset-within-batch mode over one file per length bucket (each file's
    rows carry its batch size); passages truncate at the longest bucket's length, each batch pads to
    its own longest; gradient checkpointing available where a bucket needs it (switched per step)."""
    args: dict[str, Any] = {"train_data": files, "same_dataset_within_batch": True,
                            "passage_max_len": lengths.longest,
                            "per_device_train_batch_size": max(b.batch_size for b in lengths.buckets)}
    if lengths.grad_ckpt:
        args.update(gradient_checkpointing=True, gradient_checkpointing_kwargs='{"use_reentrant": false}')
    return args


def flag_arguments(cfg: RunConfig, *, train_file: str, output_dir: str, precision: str, warmup_steps: int,
                   lengths=None, bucket_files: list[str] | None = None) -> dict[str, Any]:
    """RunConfig's fields by their FlagEmbedding names. `precision` is the resolved one: fp32|fp16|bf16;
    `warmup_steps` the run's (trainer.plan.schedule). With length buckets, `lengths` (trainer.sizing.buckets.LengthPlan) and its files. The
    worker's complete arguments add to these: trainer.plan.make."""
    args = {
        # model
        "model_name_or_path": resolve_model(cfg.model),
        # data
        "train_data": [train_file],
        "train_group_size": cfg.group_size,
        "query_max_len": cfg.query_max_len,
        "passage_max_len": cfg.passage_max_len,
        "pad_to_multiple_of": 8,
        "knowledge_distillation": cfg.teacher_scores,
        # M3 module mode
        "unified_finetuning": cfg.mode.unified_finetuning,
        "fix_encoder": cfg.mode.fix_encoder,
        "use_self_distill": cfg.self_distill and cfg.mode.unified_finetuning,
        "self_distill_start_step": cfg.self_distill_start_step,
        "kd_loss_type": "m3_kd_loss",
        # optimisation
        "output_dir": output_dir,
        "learning_rate": cfg.learning_rate,
        "num_train_epochs": cfg.epochs,
        "max_steps": cfg.max_steps,
        "per_device_train_batch_size": cfg.batch_size,
        "warmup_steps": warmup_steps,
        "weight_decay": cfg.weight_decay,
        "max_grad_norm": cfg.max_grad_norm,
        "fp16": precision == "fp16",
        "bf16": precision == "bf16",
        "temperature": cfg.temperature,
        "sentence_pooling_method": run_pooling(cfg),
        "normalize_embeddings": True,
        "negatives_cross_device": cfg.negatives_cross_device,
        "seed": cfg.seed,
        # A checkpoint each epoch (the last one kept) is what an interrupted run resumes from.
        "save_strategy": "epoch",
        "save_total_limit": 1,
        "report_to": cfg.report_to,
        "dataloader_drop_last": False,
        "gradient_checkpointing": cfg.gradient_checkpointing,
        **({"gradient_checkpointing_kwargs": {"use_reentrant": False}} if cfg.gradient_checkpointing else {}),
        **({"deepspeed": str(deepspeed_path(output_dir, cfg.zero_stage))} if cfg.zero_stage else {}),
    }
    if lengths is not None:
        args.update(bucket_arguments(bucket_files or [], lengths))
    return args


NODE_RANK = "$NODE_RANK"      # left to the shell: the same line serves every node


def torchrun_nodes(nnodes: int, endpoint: str, node_rank: int | str = NODE_RANK) -> list[str]:
    """torchrun's flags for several machines: a c10d rendezvous at the first node's HOST:PORT (the node's
    rank left to the shell as "$NODE_RANK" unless given)."""
    return ["--nnodes", str(nnodes), "--node_rank", str(node_rank), "--rdzv_backend", "c10d",
            "--rdzv_endpoint", endpoint] if nnodes > 1 else []


def command_line(args: dict[str, Any], num_gpus: int = 1, nnodes: int = 1, endpoint: str = "MASTER_HOST:29500") -> list[str]:
    """The plain FlagEmbedding command that trains the same run without the dashboard (on `nnodes`
    machines of `num_gpus` GPUs each: run it on every one with NODE_RANK set to 0 … nnodes-1)."""
    argv = ["torchrun", *torchrun_nodes(nnodes, endpoint), "--nproc_per_node", str(num_gpus), "-m", M3_MODULE]
    for key, value in args.items():
        values = value if isinstance(value, list) else [value]
        argv.append(f"--{key}")
        argv.extend(json.dumps(v) if isinstance(v, dict) else str(v) for v in values)
    return argv

