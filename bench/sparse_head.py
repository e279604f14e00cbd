"""Stock vs lean sparse head on a GPU: largest per-device batch that fits, and step time at batch 8.

A BGE-M3-shaped model (XLM-RoBERTa large, vocabulary 250,002) with random weights (memory and speed
do not depend on the weights) inside FlagEmbedding's own M3 model, all-heads mode, bf16 AMP, full
AdamW steps, group size 8, query 64 / passage 256 tokens.

    python bench/sparse_head.py [--out bench/results/sparse_head.json] [--max-batch 128]
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model  # noqa: E402
from transformers import XLMRobertaConfig, XLMRobertaModel  # noqa: E402

from trainer.lean_head import LeanSparseM3Model  # noqa: E402

BGE_M3 = dict(vocab_size=250002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
              intermediate_size=4096, max_position_embeddings=8194, type_vocab_size=1, pad_token_id=1)
TOKENIZER = SimpleNamespace(cls_token_id=0, pad_token_id=1, eos_token_id=2, unk_token_id=3, padding_side="right")
GROUP, QLEN, PLEN = 8, 64, 256


def build(head: str, grad_ckpt: bool):
    torch.manual_seed(0)
    base = XLMRobertaModel(XLMRobertaConfig(**BGE_M3), add_pooling_layer=False)
    model = EncoderOnlyEmbedderM3Model(
        {"model": base, "colbert_linear": torch.nn.Linear(1024, 1024), "sparse_linear": torch.nn.Linear(1024, 1)},
        tokenizer=TOKENIZER, temperature=0.02, sentence_pooling_method="cls", normalize_embeddings=True,
        unified_finetuning=True)
    if head == "lean":
        model.__class__ = LeanSparseM3Model
    if grad_ckpt:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = model.cuda().train()
    return model, torch.optim.AdamW(model.parameters(), lr=1e-5)


def inputs(batch: int):
    def text(rows, length):
        ids = torch.randint(5, 250000, (rows, length), device="cuda")
        ids[:, 0], ids[:, -1] = 0, 2
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    return text(batch, QLEN), text(batch * GROUP, PLEN)


def step(model, opt, batch: int) -> None:
    q, p = inputs(batch)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = model(queries=q, passages=p).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)


def fits(model, opt, batch: int) -> tuple[bool, float]:
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    try:
        for _ in range(2):
            step(model, opt, batch)
        torch.cuda.synchronize()
        return True, torch.cuda.max_memory_allocated() / 2**30
    except torch.OutOfMemoryError:
        opt.zero_grad(set_to_none=True)
        gc.collect()
        torch.cuda.empty_cache()
        return False, float("nan")


def max_batch(model, opt, limit: int) -> tuple[int, dict]:
    peaks, good, b = {}, 0, 1
    while b <= limit:                                   # doubling ...
        ok, peak = fits(model, opt, b)
        print(f"  batch {b}: {'fits, peak %.1f GiB' % peak if ok else 'out of memory'}", flush=True)
        if not ok:
            break
        peaks[b], good, b = peak, b, b * 2
    low, high = good, min(b, limit + 1)                 # ... then bisection
    while high - low > 1:
        mid = (low + high) // 2
        ok, peak = fits(model, opt, mid)
        print(f"  batch {mid}: {'fits, peak %.1f GiB' % peak if ok else 'out of memory'}", flush=True)
        if ok:
            peaks[mid], low = peak, mid
        else:
            high = mid
    return low, peaks


def step_time(model, opt, batch: int, repeats: int = 6) -> float:
    step(model, opt, batch)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        step(model, opt, batch)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench/results/sparse_head.json")
    ap.add_argument("--max-batch", type=int, default=128)
    ap.add_argument("--grad-ckpt", action="store_true", help="gradient checkpointing in the encoder")
    ns = ap.parse_args()
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "group_size": GROUP,
              "query_len": QLEN, "passage_len": PLEN, "precision": "bf16 autocast, fp32 AdamW", "gradient_checkpointing": ns.grad_ckpt, "heads": {}}
    for head in ("stock", "lean"):
        print(head, flush=True)
        model, opt = build(head, ns.grad_ckpt)
        try:
            seconds = step_time(model, opt, 8)
        except torch.OutOfMemoryError:
            opt.zero_grad(set_to_none=True)
            seconds = float("nan")
        biggest, peaks = max_batch(model, opt, ns.max_batch)
        result["heads"][head] = {"step_s_at_batch_8": seconds, "max_batch": biggest,
                                 "peak_gib_by_batch": {str(k): v for k, v in sorted(peaks.items())}}
        print(f"  {head}: step at batch 8 {seconds:.3f} s, max batch {biggest}", flush=True)
        del model, opt
        gc.collect()
        torch.cuda.empty_cache()
    stock, lean = result["heads"]["stock"], result["heads"]["lean"]
    result["max_batch_ratio"] = lean["max_batch"] / max(1, stock["max_batch"])
    result["speedup_at_batch_8"] = stock["step_s_at_batch_8"] / lean["step_s_at_batch_8"]
    Path(ns.out).parent.mkdir(parents=True, exist_ok=True)
    Path(ns.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
