"""HF Trainer callbacks that connect a FlagEmbedding run to the run store.

They steer the loop through TrainerControl flags (should_training_stop), the Trainer's own way to stop,
so the final checkpoint is still saved. One exception: StopWatch, on one process, abandons the step in
flight when the user presses Stop (training.train then saves the model the last finished step left).
"""
from __future__ import annotations

import glob
import os
import queue
import re
import resource
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional

import torch
from transformers import TrainerCallback

from trainer.core import metrics
from trainer.store import query_ranks
from trainer.data import EvalSet
from trainer.core.early_stop import EarlyStopper
from trainer.engine.evaluate import PassageCache, evaluate
from trainer.core.metrics import Metric
from trainer.store import Store


def peak_memory() -> dict[str, float]:
    if torch.cuda.is_available():
        return {Metric.PEAK_GPU_GIB: torch.cuda.max_memory_allocated() / 2**30}
    return {Metric.PEAK_RSS_GIB: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


SYNC_INTERVAL_S = 1.0      # the ranks meet (losses read, stop flag shared) about this often


class PointWriter:
    """Rank 0's metric points go to the store from a thread of their own, a batch per transaction,
    in the order they were put; the training loop never waits for SQLite."""

    def __init__(self, store: Store, run_id: str):
        self.store, self.run_id = store, run_id
        self._queue: "queue.Queue[Optional[list]]" = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=f"points-{run_id}", daemon=True)
        self._thread.start()

    def put(self, rows: list) -> None:
        if rows:
            self._queue.put(list(rows))

    def _loop(self) -> None:
        done = False
        while not done:
            rows = self._queue.get()
            done = rows is None
            rows = rows or []
            while not done:            # whatever queued meanwhile goes in the same transaction
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                done = more is None
                rows.extend(more or [])
            if rows:
                self._write(rows)

    def _write(self, rows: list) -> None:
        for attempt in range(5):
            try:
                self.store.add_points(self.run_id, rows)
                return
            except sqlite3.Error as exc:    # a locked store: the dashboard or a test is writing
                print(f"metric points not written yet ({exc}); retrying", flush=True)
                time.sleep(0.2 * (attempt + 1))
        print(f"{len(rows)} metric points could not be written", flush=True)

    def close(self, timeout: float = 60) -> None:
        """Every point put so far is in the store when this returns."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)


def cpu_wait_seconds() -> Optional[float]:
    """The seconds this process's threads have spent ready to run but waiting for a core (the kernel's
    run-queue wait, /proc/self/task/*/schedstat): other work sharing the cores. None where Linux does not say."""
    total = None
    for path in glob.glob("/proc/self/task/*/schedstat"):
        try:
            with open(path) as f:
                total = (total or 0.0) + int(f.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            continue
    return total


@dataclass
class _Step:
    step: int
    epoch: float
    time: float          # the wall clock when the step's work was queued
    begin: Any           # CUDA events on a GPU (read once the ranks have met), perf_counter on a CPU
    end: Any
    samples: float = 0.0  # queries in this step, over all ranks
    loss: Any = None     # a tensor on the device until the ranks meet
    grad_norm: Any = None
    lr: Optional[float] = None
    cpu: Optional[float] = None  # on a CPU: the process's CPU seconds at the step's end (load does not inflate it)
    wait: Optional[float] = None  # on a CPU: its threads' seconds waiting for a core so far (cpu_wait_seconds)
    optimizer: Optional[float] = None  # on a CPU: the optimizer updates' CPU seconds so far


class StoreMetrics(TrainerCallback):
    """Loss, LR, gradient norm, samples/s of every step, peak memory, and the stop flag, with no
    synchronisation per step: the step's loss and gradient norm stay on the device (StudioTrainer
    hands them over), its time is a pair of CUDA events, and every ~`interval_s` the ranks meet
    once (`sync`, called by SyncStop): one all-reduce carries the losses of the steps since the last
    meeting, rank 0's stop decision and the number of steps until the next meeting; rank 0 then
    queues the points to a writer thread. Every step's point arrives, in order, about a second late."""

    def __init__(self, store: Store, run_id: str, samples_per_step, interval_s: Optional[float] = None):
        """`samples_per_step`: queries per optimizer step, or a function giving the last step's
        (length buckets train each bucket at its own batch)."""
        self.store, self.run_id, self.samples_per_step = store, run_id, samples_per_step
        # M3_METRICS_INTERVAL_S: the tests' lever (a huge value: the ranks meet only at epoch ends)
        self.interval_s = interval_s or float(os.environ.get("M3_METRICS_INTERVAL_S", SYNC_INTERVAL_S))
        self.stop_requested = False
        self.writer: Optional[PointWriter] = None
        self.next_sync = 1             # the global step at whose end the ranks meet next
        self.syncs = 0
        self._steps: list[_Step] = []  # ended steps whose loss, gradient norm and LR are known
        self._current: Optional[_Step] = None
        self._losses: list = []
        self._begin: Any = None
        self._window = (time.monotonic(), 0)
        self._pending_stop = False
        self._cuda = torch.cuda.is_available()
        self._optimizer_cpu, self._optimizer_from = 0.0, None

    # the trainer's side (training.StudioTrainer) ----------------------------------------------
    def record_loss(self, loss) -> None:
        self._losses.append(loss.detach())

    def record_step(self, state, grad_norm, learning_rate) -> None:
        step = self._current
        if step is None or step.step != state.global_step:      # HF calls again after an epoch's end
            return
        step.loss = self._losses[0] if len(self._losses) == 1 else torch.stack(self._losses).sum()
        step.grad_norm, step.lr = grad_norm, learning_rate
        self._losses, self._current = [], None
        self._steps.append(step)

    def _mark(self):
        if self._cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    # callbacks ------------------------------------------------------------------------------------
    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self.writer is None:
            self.writer = PointWriter(self.store, self.run_id)
        self._window = (time.monotonic(), 0)

    def on_step_begin(self, args, state, control, **kwargs):
        self._begin = self._mark()

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        if not self._cuda:
            self._optimizer_from = time.process_time()

    def on_step_end(self, args, state, control, **kwargs):
        if self._optimizer_from is not None:      # the update, the scheduler and zeroing the gradients
            self._optimizer_cpu += time.process_time() - self._optimizer_from
            self._optimizer_from = None
        samples = self.samples_per_step() if callable(self.samples_per_step) else self.samples_per_step
        self._current = _Step(state.global_step, state.epoch or 0.0, time.time(), self._begin, self._mark(), samples,
                              cpu=None if self._cuda else time.process_time(),
                              wait=None if self._cuda else cpu_wait_seconds(),
                              optimizer=None if self._cuda else self._optimizer_cpu)
        self._window = (self._window[0], self._window[1] + 1)

    # the meeting ------------------------------------------------------------------------------
    def defer_stop(self, control) -> None:
        """Under torchrun, a stop that rank 0 alone decided between meetings waits for the next one."""
        if control.should_training_stop:
            self._pending_stop, control.should_training_stop = True, False

    def sync(self, args, state, control, final: bool = False) -> None:
        steps, self._steps = self._steps, []
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        world = torch.distributed.get_world_size() if distributed else 1
        main = state.is_world_process_zero
        stop, pace = float(control.should_training_stop or self._pending_stop), 0.0
        if main:
            started, count = self._window
            if count:
                pace = max(1.0, min(1000.0, float(int(self.interval_s * count / max(time.monotonic() - started, 1e-6)))))
            if not final and not stop and self.store.stop_requested(self.run_id):
                stop, self.stop_requested = 1.0, True
        device = args.device
        parts = [torch.tensor([stop, pace], dtype=torch.float32, device=device)]
        if steps:
            parts.append(torch.stack([s.loss.float().reshape(()) for s in steps]).to(device))
            parts.append(torch.stack([torch.as_tensor(float("nan") if s.grad_norm is None else s.grad_norm,
                                                      dtype=torch.float32, device=device).reshape(())
                                      for s in steps]))
        payload = torch.cat(parts)
        if distributed:
            torch.distributed.all_reduce(payload)     # sum: losses and norms averaged below
        values = payload.tolist()                     # the one wait for the device in this window
        self.syncs += 1
        control.should_training_stop = values[0] > 0
        self._pending_stop = False
        self.next_sync = state.global_step + max(1, int(values[1]))
        self._window = (time.monotonic(), 0)
        if not main or self.writer is None:
            return
        n = len(steps)
        rows = []
        for s, loss, norm in zip(steps, values[2:2 + n], values[2 + n:2 + 2 * n]):
            rows.append((s.step, s.epoch, Metric.LOSS, loss / world, s.time))
            rows.append((s.step, s.epoch, Metric.LR, float(s.lr or 0.0), s.time))
            if norm == norm:         # not NaN: clipping was on
                rows.append((s.step, s.epoch, Metric.GRAD_NORM, norm / world, s.time))
            seconds = s.begin.elapsed_time(s.end) / 1000 if self._cuda else s.end - s.begin
            if seconds > 0:
                rows.append((s.step, s.epoch, Metric.SAMPLES_PER_S, s.samples / seconds, s.time))
            if s.cpu is not None:
                rows.append((s.step, s.epoch, Metric.CPU_SECONDS, s.cpu, s.time))
            if s.wait is not None:
                rows.append((s.step, s.epoch, Metric.CPU_WAIT_SECONDS, s.wait, s.time))
            if s.optimizer is not None:
                rows.append((s.step, s.epoch, Metric.OPTIMIZER_CPU_SECONDS, s.optimizer, s.time))
        if steps:
            last = steps[-1]
            rows.extend((last.step, last.epoch, name, value, last.time) for name, value in peak_memory().items())
        self.writer.put(rows)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class Validation(TrainerCallback):
    """Per-head validation at step 0, after each epoch (and every N steps); early stopping."""

    def __init__(self, store: Store, run_id: str, evalset: EvalSet, main_score: str,
                 query_max_len: int, passage_max_len: int, stopper: EarlyStopper, every_steps: int = 0,
                 passages: PassageCache | None = None, watch: Optional[StopWatch] = None):
        self.store, self.run_id, self.evalset, self.passages = store, run_id, evalset, passages
        self.main_score = main_score
        self.lengths = (query_max_len, passage_max_len)
        self.stopper, self.every_steps = stopper, every_steps
        self.early_stopped = False
        self.run_dir = store.get_run(run_id).folder.root
        self.last_step: Optional[int] = None
        self.seconds = 0.0                        # the last validation's time
        self.watch = watch                        # after Stop, a slow validation is skipped

    def _run(self, state, model, tokenizer) -> Optional[float]:
        if not state.is_world_process_zero:
            return None
        started, cpu = time.perf_counter(), time.process_time()
        ranks: dict = {}
        values = evaluate(model, tokenizer, self.evalset, *self.lengths, ranks=ranks, passages=self.passages,
                          step=state.global_step)
        values[Metric.EVAL_SECONDS] = self.seconds = time.perf_counter() - started
        if not torch.cuda.is_available():
            values[Metric.EVAL_CPU_SECONDS] = time.process_time() - cpu
        self.store.add_metrics(self.run_id, state.global_step, state.epoch or 0.0, values)
        query_ranks.append(self.run_dir, state.global_step, state.epoch or 0.0, ranks)
        self.last_step = state.global_step
        return values[self.main_score]

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
        # describe the model that Try it and the export use; after Stop, only when that is quick.
        if self.last_step != state.global_step and not (self.watch and self.watch.skip(self.seconds)):
            self._run(state, model, processing_class)


def record_test(store: Store, run_id: str, run_dir, step: int, epoch: float, values: dict, ranks: dict,
                testset: EvalSet) -> dict:
    """One evaluation of the held-out test, stored as every page reads it: `test.<head>.<metric>` points with
    the test's size, and the per-question ranks (query_ranks.TEST_FILE). Returns the points."""
    points = {metrics.test(k): v for k, v in values.items()}
    points[Metric.TEST_QUERIES] = float(len(testset.queries))
    points[Metric.TEST_PASSAGES] = float(len(testset.docs))
    store.add_metrics(run_id, step, epoch, points)
    query_ranks.append(run_dir, step, epoch, ranks, query_ranks.TEST_FILE)
    return points


class HeldOutTest(TrainerCallback):
    """The held-out test split: evaluated before training and once after it, never for a decision
    (early stopping watches validation). Points are named `test.<head>.<metric>`."""

    def __init__(self, store: Store, run_id: str, testset: EvalSet, query_max_len: int, passage_max_len: int,
                 passages: PassageCache | None = None, watch: Optional[StopWatch] = None):
        self.store, self.run_id, self.testset, self.passages = store, run_id, testset, passages
        self.lengths = (query_max_len, passage_max_len)
        self.run_dir = store.get_run(run_id).folder.root
        self.seconds = 0.0
        self.watch = watch

    def _run(self, state, model, tokenizer) -> None:
        started = time.perf_counter()
        ranks: dict = {}
        values = evaluate(model, tokenizer, self.testset, *self.lengths, ranks=ranks, passages=self.passages,
                          step=state.global_step)
        record_test(self.store, self.run_id, self.run_dir, state.global_step, state.epoch or 0.0, values, ranks,
                    self.testset)
        self.seconds = time.perf_counter() - started

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.is_world_process_zero and state.global_step == 0:     # a resumed run measured it already
            self._run(state, model, processing_class)

    def on_train_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.is_world_process_zero and not (self.watch and self.watch.skip(self.seconds)):
            self._run(state, model, processing_class)


class Stopped(Exception):
    """Raised inside a training step when the user pressed Stop (StopWatch)."""


class StopWatch(TrainerCallback):
    """Stop within seconds on one process, however long a step takes (a CPU step at 512 tokens takes most of
    a minute): a thread reads the store's stop flag twice a second; once it is set, the next encoder layer to
    run in training mode, forward or backward (a hook on its output's gradient), raises Stopped, abandoning
    the step in flight before its optimizer update, and training.train saves the weights the last finished
    step left. Evaluations (eval mode) are never cut. The
    final validation and held-out test then run only if each took under QUICK_S last time: the run ends
    within about ten seconds of the click, and says when its saved model was not scored again."""

    QUICK_S = 4.0
    POLL_S = 0.5

    def __init__(self, store: Store, run_id: str):
        self.store, self.run_id = store, run_id
        self.stop_requested = False          # training.train's Outcome reads it, as StoreMetrics'
        self.skipped = False                 # an evaluation was left out after the stop
        self._done = threading.Event()
        self._hooks: list = []

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        layers = [m for name, m in model.named_modules() if re.search(r"\.layer\.\d+$", name)] or [model]
        self._hooks = [m.register_forward_pre_hook(self._check) for m in layers]
        self._hooks += [m.register_forward_hook(self._check_backward) for m in layers]
        threading.Thread(target=self._poll, daemon=True, name="stop-watch").start()

    def _poll(self) -> None:
        while not self._done.wait(self.POLL_S):
            try:
                if self.store.stop_requested(self.run_id):
                    self.stop_requested = True
                    print(f"{time.strftime('%H:%M:%S')} stop asked: the step in flight is abandoned", flush=True)
                    return
            except sqlite3.Error:
                continue

    def _check(self, module, inputs) -> None:
        if self.stop_requested and module.training:
            raise Stopped()

    def _check_backward(self, module, inputs, output) -> None:
        hidden = output[0] if isinstance(output, tuple) else output
        if module.training and isinstance(hidden, torch.Tensor) and hidden.requires_grad:
            hidden.register_hook(self._check_gradient)

    def _check_gradient(self, grad):
        if self.stop_requested:
            raise Stopped()
        return grad

    def skip(self, seconds: float) -> bool:
        """After a stop: leave out an evaluation that took `seconds` last time, if that is not quick, and the
        held-out test after a validation left out (alone it would encode the corpus they share)."""
        slow = self.stop_requested and (self.skipped or seconds > self.QUICK_S)
        self.skipped |= slow
        return slow

    def on_train_end(self, args, state, control, **kwargs):
        self._done.set()
        for hook in self._hooks:
            hook.remove()


class DropPassages(TrainerCallback):
    """The passages' encoding that validation and the held-out test shared at a step (evaluate.PassageCache)
    is freed when training resumes: the next evaluation is at another step and encodes them anew."""

    def __init__(self, passages: PassageCache):
        self.passages = passages

    def on_step_begin(self, args, state, control, **kwargs):
        self.passages.clear()


class SyncStop(TrainerCallback):
    """Added after the callbacks that decide (Validation's early stop, the user's stop flag): the
    ranks meet at the step StoreMetrics scheduled (about once a second), at each epoch's end (the
    early-stop decision) and at the end; rank 0's decision to stop reaches every rank at that
    meeting, or the others would wait for it forever."""

    def __init__(self, metrics: StoreMetrics):
        self.metrics = metrics

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.metrics.next_sync:
            self.metrics.sync(args, state, control)
        elif (control.should_training_stop and state.global_step < state.max_steps
              and torch.distributed.is_available() and torch.distributed.is_initialized()):
            self.metrics.defer_stop(control)

    def on_epoch_end(self, args, state, control, **kwargs):
        self.metrics.sync(args, state, control)

    def on_train_end(self, args, state, control, **kwargs):
        self.metrics.sync(args, state, control, final=True)
        self.metrics.close()
