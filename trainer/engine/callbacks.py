"""HF Trainer callbacks that connect a FlagEmbedding run to the run store.

They steer the loop only through TrainerControl flags (should_training_stop), the Trainer's own way
to stop, so the final checkpoint is still saved.
"""
from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Optional

import torch
from transformers import TrainerCallback

from .. import query_ranks
from ..data import EvalSet
from ..early_stop import EarlyStopper
from .evaluate import evaluate
from ..store import Store


def peak_memory() -> dict[str, float]:
    if torch.cuda.is_available():
        return {"peak_gpu_mem_gib": torch.cuda.max_memory_allocated() / 2**30}
    return {"peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


class StoreMetrics(TrainerCallback):
    """Loss, LR, gradient norm, throughput and peak memory at every logged step; the stop flag."""

    def __init__(self, store: Store, run_id: str, samples_per_step):
        """`samples_per_step`: queries per optimizer step, or a function giving the last step's
        (length buckets train each bucket at its own batch)."""
        self.store, self.run_id, self.samples_per_step = store, run_id, samples_per_step
        self._samples = 0
        self.stop_requested = False
        # Throughput counts time inside training steps only: evaluation pauses are not training.
        self._step_started = 0.0
        self._busy = 0.0
        self._busy_steps = 0

    def on_step_begin(self, args, state, control, **kwargs):
        self._step_started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.synchronize()     # count the step's GPU work, not only its kernel launches
        self._busy += time.perf_counter() - self._step_started
        self._busy_steps += 1
        self._samples += self.samples_per_step() if callable(self.samples_per_step) else self.samples_per_step
        if state.is_world_process_zero and self.store.stop_requested(self.run_id):
            self.stop_requested = True
            control.should_training_stop = True

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        values = {"loss": logs["loss"], "lr": logs.get("learning_rate", 0.0)}
        if logs.get("grad_norm") is not None:
            values["grad_norm"] = float(logs["grad_norm"])
        if self._busy > 0:
            values["samples_per_s"] = self._samples / self._busy
            self._busy, self._busy_steps, self._samples = 0.0, 0, 0
        values.update(peak_memory())
        self.store.add_metrics(self.run_id, state.global_step, state.epoch, values)


class Validation(TrainerCallback):
    """Per-head validation at step 0, after each epoch (and every N steps); early stopping."""

    def __init__(self, store: Store, run_id: str, evalset: EvalSet, main_head: str,
                 query_max_len: int, passage_max_len: int, stopper: EarlyStopper, every_steps: int = 0):
        self.store, self.run_id, self.evalset = store, run_id, evalset
        self.main_metric = f"{main_head}.mrr@10"
        self.lengths = (query_max_len, passage_max_len)
        self.stopper, self.every_steps = stopper, every_steps
        self.early_stopped = False
        self.run_dir = Path(store.get_run(run_id).output_dir)
        self.last_step: Optional[int] = None

    def _run(self, state, model, tokenizer) -> Optional[float]:
        if not state.is_world_process_zero:
            return None
        started = time.perf_counter()
        ranks: dict = {}
        values = evaluate(model, tokenizer, self.evalset, *self.lengths, ranks=ranks)
        values["eval_seconds"] = time.perf_counter() - started
        self.store.add_metrics(self.run_id, state.global_step, state.epoch or 0.0, values)
        query_ranks.append(self.run_dir, state.global_step, state.epoch or 0.0, ranks)
        self.last_step = state.global_step
        return values[self.main_metric]

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        self._run(state, model, processing_class)

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if self.every_steps and state.global_step % self.every_steps == 0:
            self._run(state, model, processing_class)

    def on_epoch_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        score = self._run(state, model, processing_class)
        if score is not None and self.stopper.update(state.epoch, score):
            self.early_stopped = True
            control.should_training_stop = True

    def on_train_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        # A run stopped mid-epoch: validate the weights it saves, so its scores and per-query ranks
        # describe the model that Try it and the export use.
        if self.last_step != state.global_step:
            self._run(state, model, processing_class)


class HeldOutTest(TrainerCallback):
    """The held-out test split: evaluated before training and once after it, never for a decision
    (early stopping watches validation). Points are named `test.<head>.<metric>`."""

    def __init__(self, store: Store, run_id: str, testset: EvalSet, query_max_len: int, passage_max_len: int):
        self.store, self.run_id, self.testset = store, run_id, testset
        self.lengths = (query_max_len, passage_max_len)

    def _run(self, state, model, tokenizer) -> None:
        values = evaluate(model, tokenizer, self.testset, *self.lengths)
        values = {f"test.{k}": v for k, v in values.items()}
        values["test.queries"] = float(len(self.testset.queries))
        self.store.add_metrics(self.run_id, state.global_step, state.epoch or 0.0, values)

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.is_world_process_zero and state.global_step == 0:     # a resumed run measured it already
            self._run(state, model, processing_class)

    def on_train_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.is_world_process_zero:
            self._run(state, model, processing_class)


class SyncStop(TrainerCallback):
    """Under torchrun, rank 0 alone reads the stop flag and evaluates; its decision to stop goes to
    every rank, or the others would wait for it forever. Added after the callbacks that decide."""

    def _sync(self, args, control):
        if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
            return
        flag = torch.tensor([int(control.should_training_stop)], device=args.device)
        torch.distributed.broadcast(flag, src=0)
        control.should_training_stop = bool(flag.item())

    def on_step_end(self, args, state, control, **kwargs):
        self._sync(args, control)

    def on_epoch_end(self, args, state, control, **kwargs):
        self._sync(args, control)
