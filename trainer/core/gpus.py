"""Which NVIDIA GPUs this machine has, from nvidia-smi (no torch: the dashboard asks too)."""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import NamedTuple

from trainer.core.config import resolve_precision

DEFAULT_CARD_GIB = 80.0     # the card sized for where none is visible (and none is named): an 80 GB A100/H100
BF16_COMPUTE_CAPABILITY = 8.0      # bf16 tensor cores: Ampere (8.0) and later


class Gpu(NamedTuple):
    name: str
    memory_gib: float
    bf16: bool = True              # unknown (a driver without compute_cap): taken as a current GPU


def _query(exe: str, fields: str) -> str:
    return subprocess.run([exe, f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
                          capture_output=True, text=True, timeout=10, check=True).stdout


def detect() -> list[Gpu]:
    """Visible GPUs; empty without a driver. Honors CUDA_VISIBLE_DEVICES like the worker will."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        try:
            out = _query(exe, "index,name,memory.total,compute_cap")
        except subprocess.CalledProcessError:          # drivers before R510 do not know compute_cap
            out = _query(exe, "index,name,memory.total")
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = {}
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) in (3, 4) and parts[2].replace(".", "").isdigit():
            cap = parts[3] if len(parts) == 4 else ""
            bf16 = float(cap) >= BF16_COMPUTE_CAPABILITY if cap.replace(".", "").isdigit() else True
            gpus[parts[0]] = Gpu(parts[1], float(parts[2]) / 1024, bf16)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [gpus[i] for i in visible.split(",") if i.strip() in gpus]
    return list(gpus.values())


def cpu_facts() -> tuple[int, float]:
    """CPU cores and RAM (GiB) of this machine: what a run without a GPU trains on."""
    return os.cpu_count() or 1, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def planned_precision(requested: str) -> str:
    """What 'auto' will mean for a run started on this machine (config.resolve_precision)."""
    found = detect()
    return resolve_precision(requested, gpu=bool(found), bf16=all(g.bf16 for g in found))


def card_gib() -> float:
    """The card a GPU estimate is for: this machine's first GPU, else DEFAULT_CARD_GIB."""
    found = detect()
    return found[0].memory_gib if found else DEFAULT_CARD_GIB
