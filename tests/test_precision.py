"""Precision "auto" is one rule (trainer.config.resolve_precision) for the worker, the memory
estimate and the equivalent command: on a GPU without bf16 all three say fp16."""
import os
import stat

import pytest
import torch

from trainer.core import gpus
from trainer.sizing import memory
from trainer.planning import reproduce
from trainer.core.config import RunConfig, resolve_precision
from trainer.engine import training

V100 = gpus.Gpu("Tesla V100-SXM2-32GB", 32.0, bf16=False)
H100 = gpus.Gpu("NVIDIA H100 80GB HBM3", 79.6, bf16=True)


def command_precision(cfg: RunConfig) -> str:
    """What the equivalent command (as Configure and Runs show it) trains in."""
    argv = reproduce.command_for(cfg, train_file="train.jsonl", output_dir="out",
                                 precision=gpus.planned_precision(cfg.precision))
    flags = {flag: argv[argv.index(f"--{flag}") + 1] == "True" for flag in ("fp16", "bf16")}
    assert not all(flags.values())
    return next((flag for flag, on in flags.items() if on), "fp32")


@pytest.mark.parametrize("found, torch_sees, expected", [([V100], (True, False), "fp16"),
                                                         ([H100], (True, True), "bf16"),
                                                         ([], (False, False), "fp32")])
def test_worker_estimate_and_command_agree_on_auto(monkeypatch, found, torch_sees, expected):
    monkeypatch.setattr(gpus, "detect", lambda: found)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: torch_sees[0])
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: torch_sees[1])
    cfg = RunConfig(precision="auto")
    assert training.resolve_precision("auto") == expected                      # the worker
    assert command_precision(cfg) == expected                                  # the equivalent command
    if found:                                                                  # the estimate for this GPU
        assert memory.setup_for(cfg, memory.BGE_M3, found[0].memory_gib, found[0].bf16).precision == expected
    # an explicit choice is kept everywhere
    assert training.resolve_precision("fp32") == "fp32" and command_precision(cfg.replace(precision="fp32")) == "fp32"


def test_the_rule_itself():
    assert [resolve_precision("auto", gpu=g, bf16=b) for g, b in ((False, True), (True, True), (True, False))] == \
        ["fp32", "bf16", "fp16"]
    assert resolve_precision("fp16", gpu=False, bf16=False) == "fp16"


def fake_nvidia_smi(tmp_path, monkeypatch, body: str) -> None:
    exe = tmp_path / "nvidia-smi"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def test_detect_reads_bf16_from_the_compute_capability(tmp_path, monkeypatch):
    fake_nvidia_smi(tmp_path, monkeypatch, 'echo "0, Tesla V100-SXM2-32GB, 32768, 7.0"\n'
                                           'echo "1, NVIDIA A100-SXM4-80GB, 81920, 8.0"\n')
    assert gpus.detect() == [gpus.Gpu("Tesla V100-SXM2-32GB", 32.0, False), gpus.Gpu("NVIDIA A100-SXM4-80GB", 80.0, True)]
    assert gpus.planned_precision("auto") == "fp16"           # one GPU without bf16: the run trains in fp16


def test_detect_on_a_driver_without_compute_cap(tmp_path, monkeypatch):
    fake_nvidia_smi(tmp_path, monkeypatch, 'case "$1" in *compute_cap*) echo "Field is not valid" >&2; exit 2;; esac\n'
                                           'echo "0, NVIDIA A10, 23028"\n')
    assert gpus.detect() == [gpus.Gpu("NVIDIA A10", 23028 / 1024, True)]
