"""Which NVIDIA GPUs this machine has, from nvidia-smi (no torch: the dashboard asks too)."""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import NamedTuple


class Gpu(NamedTuple):
    name: str
    memory_gib: float


def detect() -> list[Gpu]:
    """Visible GPUs; empty without a driver. Honors CUDA_VISIBLE_DEVICES like the worker will."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = {}
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3 and parts[2].replace(".", "").isdigit():
            gpus[parts[0]] = Gpu(parts[1], float(parts[2]) / 1024)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [gpus[i] for i in visible.split(",") if i.strip() in gpus]
    return list(gpus.values())


def cpu_facts() -> tuple[int, float]:
    """CPU cores and RAM (GiB) of this machine: what a run without a GPU trains on."""
    return os.cpu_count() or 1, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def planned_precision(requested: str) -> str:
    """What 'auto' will mean for a run started on this machine: bf16 AMP on a GPU, fp32 on CPU."""
    return requested if requested != "auto" else ("bf16" if detect() else "fp32")
