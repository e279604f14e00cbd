"""Faults on purpose, for the fault tests: the environment variable M3_FAULT (unset in normal use)
names them, comma-separated — 'oom@3' raises CUDA's out-of-memory error after step 3, 'enospc@4'
fails the checkpoint save at step 4 the way a full disk does. M3_FAULT_RANK=N limits them to one
torchrun rank."""
from __future__ import annotations

import errno
import os

import torch
from transformers import TrainerCallback


def _at(kind: str) -> int | None:
    rank = os.environ.get("M3_FAULT_RANK")
    if rank is not None and rank != os.environ.get("RANK", "0"):
        return None
    for part in os.environ.get("M3_FAULT", "").split(","):
        name, _, step = part.strip().partition("@")
        if name == kind and step.isdigit():
            return int(step)
    return None


class InjectedOutOfMemory(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == _at("oom"):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 12.00 GiB (injected by M3_FAULT)")


def check_disk(step: int) -> None:
    if step == _at("enospc"):
        raise OSError(errno.ENOSPC, "No space left on device (injected by M3_FAULT)")


def active() -> bool:
    return bool(os.environ.get("M3_FAULT"))
