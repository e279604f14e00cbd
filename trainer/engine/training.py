"""One fine-tuning run through FlagEmbedding's real M3 runner, model and trainer.

What we add, by subclassing: the tokenizer fix for BERT-style models (no EOS token), the lean sparse
head, unpadded encoding (trainer.engine.unpadded), the warmup that starts at 1/10 of the target LR, and
our callbacks.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.optim.lr_scheduler import LambdaLR
from transformers import HfArgumentParser, TrainerCallback

from FlagEmbedding.abc.finetune.embedder import EmbedderTrainerCallbackForDataRefresh
from FlagEmbedding.finetune.embedder.encoder_only.m3 import (
    EncoderOnlyEmbedderM3DataArguments,
    EncoderOnlyEmbedderM3ModelArguments,
    EncoderOnlyEmbedderM3Runner,
    EncoderOnlyEmbedderM3Trainer,
    EncoderOnlyEmbedderM3TrainingArguments,
)

from trainer.core import config, redact
from trainer.engine import faults
from trainer.hooks import accelerate_patch, flagembedding_m3, hf_trainer
from trainer.sizing.advice import lr_at
from trainer.core.model_source import HEAD_MODULES, SPARSE_HEAD
from trainer.engine.callbacks import Stopped
from trainer.engine.lean_head import LeanSparseM3Model
from trainer.engine import unpadded as unpadded_encoding


HEADS = set(HEAD_MODULES)


class BucketSteps(TrainerCallback):
    """Length buckets at training time (trainer.buckets): which bucket a batch belongs to (the first
    whose length holds the batch's padded passage length), gradient checkpointing on for the buckets
    that need it and off for the rest, the queries each step trained on (for samples/s), and each
    bucket's measured peak GPU memory."""

    def __init__(self, buckets: list[dict]):
        self.buckets = sorted(buckets, key=lambda b: b["max_len"])
        self.checkpointing: bool | None = None
        self.current = 0
        self.queries = 0
        self.peaks: dict[int, float] = {}
        self.steps: dict[int, int] = {}

    def bucket_of(self, passage_len: int) -> int:
        return next((k for k, b in enumerate(self.buckets) if passage_len <= b["max_len"]), len(self.buckets) - 1)

    def before(self, model, inputs) -> None:
        passages = inputs["passages"]
        self.current = self.bucket_of(int(passages["input_ids"].shape[-1]))
        self.queries = int(inputs["queries"]["input_ids"].shape[0])
        wanted = bool(self.buckets[self.current]["grad_ckpt"])
        if wanted != self.checkpointing and any(b["grad_ckpt"] for b in self.buckets):
            # HF enabled checkpointing on every layer at the start; a flag per layer turns it on or off.
            for module in model.model.modules():
                if hasattr(module, "gradient_checkpointing"):
                    module.gradient_checkpointing = wanted
            self.checkpointing = wanted
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def on_step_end(self, args, state, control, **kwargs):
        # After the optimizer step: the step's whole peak (AdamW's temporaries included).
        k = self.current
        self.steps[k] = self.steps.get(k, 0) + 1
        if torch.cuda.is_available():
            self.peaks[k] = max(self.peaks.get(k, 0.0), torch.cuda.max_memory_allocated() / 2**30)

    def measured(self) -> list[dict]:
        return [{"max_len": b["max_len"], "steps": self.steps.get(k, 0),
                 **({"measured_peak_gib": round(self.peaks[k], 3)} if k in self.peaks else {})}
                for k, b in enumerate(self.buckets)]


class StudioTrainer(hf_trainer.TrainerHooks, EncoderOnlyEmbedderM3Trainer):
    heads_lr_scale = 1.0     # set by StudioRunner: the sparse/ColBERT heads' LR over the encoder's
    bucket_steps: BucketSteps | None = None
    recorder = None          # callbacks.StoreMetrics: each step's loss and gradient norm, left on the device

    def training_step(self, model, inputs, num_items_in_batch=None):
        if self.bucket_steps is not None:
            self.bucket_steps.before(self.model, inputs)
        loss = super().training_step(model, inputs, num_items_in_batch)
        if self.recorder is not None:
            self.recorder.record_loss(loss)
        return loss

    def after_optimizer_step(self, grad_norm, learning_rate):
        # hf_trainer.TrainerHooks: after every optimizer step with the step's gradient norm and LR; HF's own
        # log (a `.item()`, a wait for the device) runs only every `logging_steps`.
        if self.recorder is not None:
            self.recorder.record_step(self.state, grad_norm, learning_rate)

    def create_optimizer(self):
        """HF's optimizer, with the two heads in groups of their own at a scaled learning rate (a
        model that ships no heads, like MiniLM, starts them at random: they need to move faster)."""
        if self.optimizer is None and self.heads_lr_scale != 1.0:
            decay = set(self.get_decay_parameter_names(self.model))
            groups = []
            for is_head in (False, True):
                for decayed in (True, False):
                    params = [p for n, p in self.model.named_parameters() if p.requires_grad
                              and bool(HEADS & set(n.split("."))) == is_head and (n in decay) == decayed]
                    if params:
                        groups.append({"params": params, "weight_decay": self.args.weight_decay if decayed else 0.0,
                                       "lr": self.args.learning_rate * (self.heads_lr_scale if is_head else 1.0)})
            optimizer_cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, self.model)
            self.optimizer = optimizer_cls(groups, **kwargs)
        return super().create_optimizer()

    def before_save(self):
        faults.check_disk(self.state.global_step)

    def load_checkpoint(self, resume_from_checkpoint, model=None):
        # FlagEmbedding saves the encoder with save_pretrained and the two heads as .pt files; HF's
        # own loader expects one PreTrainedModel, so the parts load the way they were saved.
        from safetensors.torch import load_file

        model = model or self.model
        folder = Path(resume_from_checkpoint)
        model.model.load_state_dict(load_file(folder / "model.safetensors"))
        for head, file in HEAD_MODULES.items():
            if getattr(model, head, None) is not None and (folder / file).is_file():
                getattr(model, head).load_state_dict(torch.load(folder / file, map_location="cpu", weights_only=True))

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        if self.lr_scheduler is None:
            warmup = self.args.get_warmup_steps(num_training_steps)
            self.lr_scheduler = LambdaLR(optimizer or self.optimizer,
                                         lambda step: lr_at(step, 1.0, warmup, num_training_steps))
            hf_trainer.mark_lr_scheduler_created(self)
        return self.lr_scheduler


def studio_model(tokenizer, model, *, model_path: str, lean_sparse_head: bool, sparse_init: str, unpadded: bool):
    """What the product does to the tokenizer and the M3 model FlagEmbedding loaded (planning.additions lists each
    for the user): SEP as EOS, fp32 weights, the frozen pooler, the sparse head's start, the lean head, unpadded
    encoding. Returns the model (its class may be switched)."""
    if tokenizer.eos_token is None:
        # BERT tokenizers have no EOS; FlagEmbedding masks eos_token_id in the sparse head,
        # and SEP plays that role for them. Saved with the checkpoint, so inference agrees.
        tokenizer.eos_token = tokenizer.sep_token
    # AMP trains fp32 master weights; newer transformers load a half-precision checkpoint as
    # half ("auto" dtype), which the fp32 heads and the optimizer must not see.
    model.float()
    for name, param in model.named_parameters():
        if ".pooler." in name:
            # M3 pools from the last hidden state; the pooler never gets a gradient, and
            # freezing it lets DDP skip its per-step search for unused parameters.
            param.requires_grad = False
    shipped = (Path(model_path) / SPARSE_HEAD).is_file()
    if model.unified_finetuning and not shipped and sparse_init == "uniform":
        # A model that ships no sparse head: every token starts at weight 1 (a plain lexical
        # match) instead of FlagEmbedding's random projection; training then reweights tokens.
        with torch.no_grad():
            model.sparse_linear.weight.zero_()
            model.sparse_linear.bias.fill_(1.0)
    if lean_sparse_head and model.unified_finetuning:
        # Same parameters and state; only the sparse-embedding method differs.
        flagembedding_m3.switch_class(model, LeanSparseM3Model)
    if unpadded:
        # Same parameters and state; only `encode` differs (each batch's real tokens packed, attention per text).
        unpadded_encoding.enable(model)
    return model


class StudioRunner(EncoderOnlyEmbedderM3Runner):
    def __init__(self, model_args, data_args, training_args, *, lean_sparse_head: bool, callbacks=(),
                 heads_lr_scale: float = 1.0, sparse_init: str = "random", bucket_steps: BucketSteps | None = None,
                 unpadded: bool = False):
        self.bucket_steps = bucket_steps
        self.unpadded = unpadded
        self.lean_sparse_head = lean_sparse_head
        self.sparse_init = sparse_init
        self.heads_lr_scale = heads_lr_scale
        self.callbacks = list(callbacks)
        super().__init__(model_args, data_args, training_args)

    def load_tokenizer_and_model(self):
        tokenizer, model = super().load_tokenizer_and_model()
        return tokenizer, studio_model(tokenizer, model, model_path=self.model_args.model_name_or_path,
                                       lean_sparse_head=self.lean_sparse_head, sparse_init=self.sparse_init,
                                       unpadded=self.unpadded)

    def load_trainer(self):
        trainer = StudioTrainer(model=self.model, args=self.training_args, train_dataset=self.train_dataset,
                                data_collator=self.data_collator, processing_class=self.tokenizer)
        trainer.heads_lr_scale = self.heads_lr_scale
        trainer.bucket_steps = self.bucket_steps
        if self.bucket_steps is not None:
            trainer.add_callback(self.bucket_steps)
        if self.data_args.same_dataset_within_batch:
            # FlagEmbedding's own runner adds this: each epoch draws new batches from every bucket.
            trainer.add_callback(EmbedderTrainerCallbackForDataRefresh(self.train_dataset))
        for callback in self.callbacks:
            trainer.add_callback(callback)
            if hasattr(callback, "record_step"):
                trainer.recorder = callback
        return trainer


def parse_arguments(args: dict):
    parser = HfArgumentParser((EncoderOnlyEmbedderM3ModelArguments, EncoderOnlyEmbedderM3DataArguments,
                               EncoderOnlyEmbedderM3TrainingArguments))
    return parser.parse_dict(args)


def parse_command(argv: list[str]):
    """FlagEmbedding's own parsing of a command line's arguments (what `torchrun -m …m3 ARGS` does)."""
    parser = HfArgumentParser((EncoderOnlyEmbedderM3ModelArguments, EncoderOnlyEmbedderM3DataArguments,
                               EncoderOnlyEmbedderM3TrainingArguments))
    return parser.parse_args_into_dataclasses(args=argv)


def parsed_arguments(model_args, data_args, training_args) -> dict:
    """What FlagEmbedding's parser made of a run's arguments, as JSON: the run folder's arguments.json. Without
    `local_rank`, the one field that differs between the processes of one run."""
    training = {k: v for k, v in training_args.to_dict().items() if k != "local_rank"}
    return redact.redact_json(json.loads(json.dumps(
        {"model": asdict(model_args), "data": asdict(data_args), "training": training}, sort_keys=True, default=str)))


def resolve_precision(requested: str) -> str:
    """config.resolve_precision with torch's view of this process's device."""
    gpu = torch.cuda.is_available()
    return config.resolve_precision(requested, gpu=gpu, bf16=gpu and torch.cuda.is_bf16_supported())


def _without_deepspeed() -> None:
    """A run without a ZeRO config: accelerate imports DeepSpeed (1.1-1.5 s on two CPU cores) only to ask
    whether the model it unwraps is a DeepSpeed engine, which it then never is."""
    accelerate_patch.skip_deepspeed_check()


@dataclass
class Outcome:
    stopped_by_user: bool
    early_stopped: bool
    epoch: float


def train(args: dict, *, lean_sparse_head: bool, callbacks=(), progress: bool = False,
          heads_lr_scale: float = 1.0, sparse_init: str = "random", bucket_steps: BucketSteps | None = None,
          unpadded: bool = False, record: Path | None = None) -> Outcome:
    """One run with `args`, the run's plan's arguments as they are (trainer.plan.make: use_cpu, the data
    loader's processes and every other argument are decided there); the rest are the plan's `studio` options."""
    if not args.get("deepspeed"):
        _without_deepspeed()
    # The progress bar (planning.additions.RUN_TIME_ARGUMENTS): set before the record, so arguments.json is what ran.
    model_args, data_args, training_args = parse_arguments({**args, "disable_tqdm": not progress})
    parsed = json.dumps(parsed_arguments(model_args, data_args, training_args), sort_keys=True)
    # Every rank says what it parsed (the same plan: the same digest); rank 0 keeps it (`record`).
    print(f"rank {training_args.process_index}: arguments sha256 {hashlib.sha256(parsed.encode()).hexdigest()}",
          flush=True)
    if record is not None:
        record.write_text(parsed + "\n", encoding="utf-8")
    runner = StudioRunner(model_args, data_args, training_args, lean_sparse_head=lean_sparse_head,
                          callbacks=callbacks, heads_lr_scale=heads_lr_scale, sparse_init=sparse_init,
                          bucket_steps=bucket_steps, unpadded=unpadded)
    if faults.active():
        runner.trainer.add_callback(faults.InjectedOutOfMemory())
    try:
        runner.run()  # trains, then saves the final checkpoint (also after a stop)
    except Stopped:
        # callbacks.StopWatch cut a step short: what the Trainer does after its loop, then the model as the
        # last finished step left it.
        trainer = runner.trainer
        trainer.control.should_training_stop = True
        trainer.model.eval()
        hf_trainer.call_train_end(trainer)
        print(f"{time.strftime('%H:%M:%S')} stopped at step {trainer.state.global_step}: saving the model", flush=True)
        trainer.save_model()
        print(f"{time.strftime('%H:%M:%S')} saved", flush=True)
    state = runner.trainer.state
    return Outcome(
        stopped_by_user=any(getattr(c, "stop_requested", False) for c in callbacks),
        early_stopped=any(getattr(c, "early_stopped", False) for c in callbacks),
        epoch=state.epoch or 0.0)
