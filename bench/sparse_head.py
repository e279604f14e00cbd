"""Stock vs lean sparse head on a GPU: largest per-device batch that fits, and step time at batch 8.

A BGE-M3-shaped model (XLM-RoBERTa large, vocabulary 250,002) with random weights inside
FlagEmbedding's own M3 model (`bench/m3_gpu.py`), all-heads mode, bf16 AMP, full AdamW steps, group
size 8, query 64 / passage 256 tokens. Dense-only step time is measured too: it is the floor that
no sparse head can go below.

    python bench/sparse_head.py [--out bench/results/sparse_head.json] [--max-batch 128] [--grad-ckpt]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import m3_gpu as g
from trainer.core.config import Mode

SHAPE = dict(group=8, qlen=64, plen=256, precision="bf16")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench/results/sparse_head.json")
    ap.add_argument("--max-batch", type=int, default=128)
    ap.add_argument("--grad-ckpt", action="store_true", help="gradient checkpointing in the encoder")
    ns = ap.parse_args()
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, **SHAPE,
              "gradient_checkpointing": ns.grad_ckpt, "heads": {}}
    for mode, head in ((Mode.ALL, "stock"), (Mode.ALL, "lean"), (Mode.DENSE, "none")):
        model = g.build(mode, head, ns.grad_ckpt)
        opt = g.optimizer(model)
        at8 = g.measure(model, opt, 8, steps=7, **SHAPE)
        biggest = g.max_batch(model, opt, ns.max_batch, **SHAPE)
        result["heads"][head] = {"step_s_at_batch_8": at8.get("step_s"), "peak_gib_at_batch_8": at8.get("peak_gib"),
                                 "max_batch": biggest}
        print(head, result["heads"][head], flush=True)
        del model, opt
        g.free()
    stock, lean = result["heads"]["stock"], result["heads"]["lean"]
    result["max_batch_ratio"] = lean["max_batch"] / max(1, stock["max_batch"])
    if stock["step_s_at_batch_8"] and lean["step_s_at_batch_8"]:
        result["speedup_at_batch_8"] = stock["step_s_at_batch_8"] / lean["step_s_at_batch_8"]
    Path(ns.out).parent.mkdir(parents=True, exist_ok=True)
    Path(ns.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
