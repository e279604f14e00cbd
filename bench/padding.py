"""Unpadded encoding (RunConfig.unpadded, trainer/engine/unpadded.py) on one GPU: samples/s with and without,
the padding share, peak memory against the estimator, and the step losses of both in fp32.

BGE-M3's shape with random weights (XLM-RoBERTa large, vocabulary 250,002: nothing is downloaded), in
FlagEmbedding's own M3 model with the lean sparse head, all heads, self-distillation, batch 8 x group 8,
queries up to 64 and passages up to 512 tokens, padded per batch to a multiple of 8 as FlagEmbedding's
collator pads. Steps are the worker's (autocast bf16 over fp32 master weights, AdamW, clipping at 1.0),
run in this process without the Trainer around them. The texts are real (SciFact and CMRC 2018 training
rows: the positive and 7 negatives of 8 rows a step) as token ids of the embedded WordPiece tokenizer
(BGE-M3's own tokenizer cannot be had offline; any ids of real lengths do), plus synthetic passages of a
fixed 512 tokens (no padding at all: the case where unpadded encoding must cost nothing).

    python bench/padding.py --prepare [--data ../shared/data]        # here: tokenize into .padding_bench/
    python bench/padding.py --part timing --out T.json                # on the GPU: bf16 samples/s and memory
    python bench/padding.py --part exact --out E.json                 # on the GPU: 50 fp32 steps each way
    python bench/padding.py --merge T.json E.json --out bench/results/padding_h200.json

timing: dropout on (BGE-M3's 0.1 on hidden states and attention weights); per data set, padded and unpadded
twice each (A B A B) on the same batches, samples/s = 8 x timed steps / their wall time (synchronised before
and after; the warm-up steps left out), the better of the two; peak = torch's max_memory_allocated over a
run, the estimate trainer.memory's for the same step (padded batches counted as the length-bucket planner
counts them). Also: on the synthetic passages every batch packed (`packed`: what packing costs with nothing
to save), on SciFact a few profiled steps of each (wall vs time in kernels: how host-bound the step is),
and a long-passage memory cell (batch 2, passages of 3,770-4,096 tokens; --no-long skips it).
exact: dropout off, fp32 (TF32 off): first each batch's embeddings and loss at equal weights (no training),
then from the same initial weights and batches 50 steps padded and 50 unpadded (--again NAMES: padded a
second time, the GPU's run-to-run noise; --perturbed NAMES: padded from initial weights moved by one float32
rounding step, how far the training itself amplifies rounding): the largest difference between the losses
at one step.
--tiny runs a 2-layer model on the CPU: it checks the script (and, being deterministic, the fp32 steps).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA_DIR = ROOT / ".padding_bench"
DATASETS = ("scifact", "cmrc2018")
DEFAULT_PACK_MIN = None      # trainer.engine.unpadded.PACK_MIN_PADDING as shipped (set in main)
BATCH, GROUP, QLEN, PLEN = 8, 8, 64, 512
ROWS = 480                   # rows kept per data set: 60 steps of 8
# The embedded WordPiece tokenizer's ids: [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102 (SEP plays EOS, as the
# worker sets it for BERT tokenizers).
PAD, UNK, CLS, SEP = 0, 100, 101, 102
TINY = False                 # --tiny: a 2-layer model on the CPU, to check the script itself


def prepare(data: Path, out: Path) -> None:
    """Token ids of each data set's first ROWS rows after a seeded shuffle: query, positive, 7 negatives."""
    import numpy as np
    from tokenizers import Tokenizer

    from trainer.core.model_source import embedded_model_dir

    tok = Tokenizer.from_file(str(embedded_model_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    out.mkdir(parents=True, exist_ok=True)
    for name in DATASETS:
        rows = [json.loads(line) for line in (data / name / "train.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip()]
        random.Random(0).shuffle(rows)
        rows = [r for r in rows if len(r.get("neg") or []) >= GROUP - 1][:ROWS]
        texts = [t for r in rows for t in [r["query"], r["pos"][0], *r["neg"][:GROUP - 1]]]
        ids = [e.ids for e in tok.encode_batch(texts)]
        cut = [x[:QLEN - 1] + [SEP] if i % (GROUP + 1) == 0 and len(x) > QLEN else
               x[:PLEN - 1] + [SEP] if len(x) > PLEN else x for i, x in enumerate(ids)]
        lengths = np.array([len(x) for x in cut], dtype=np.int32)
        np.savez_compressed(out / f"{name}.npz", ids=np.concatenate([np.array(x, dtype=np.int32) for x in cut]),
                            lengths=lengths)
        print(f"{name}: {len(rows)} rows, {len(cut)} texts, {int(lengths.sum()):,} tokens")


def load_texts(name: str):
    """[(query ids, [8 passage ids])] per row."""
    import numpy as np

    if name == "synthetic":
        rnd = random.Random(1)
        text = lambda n: [CLS] + [rnd.randrange(1000, 30000) for _ in range(n - 2)] + [SEP]  # noqa: E731
        return [(text(QLEN), [text(PLEN) for _ in range(GROUP)]) for _ in range(ROWS)]
    data = np.load(DATA_DIR / f"{name}.npz")
    ids, lengths = data["ids"].tolist(), data["lengths"].tolist()
    texts, at = [], 0
    for n in lengths:
        texts.append(ids[at:at + n])
        at += n
    per = GROUP + 1
    return [(texts[i], texts[i + 1:i + per]) for i in range(0, len(texts), per)]


def pad(batch: list[list[int]]):
    import torch

    width = 8 * math.ceil(max(len(x) for x in batch) / 8)
    ids = torch.full((len(batch), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for r, x in enumerate(batch):
        ids[r, :len(x)] = torch.tensor(x)
        mask[r, :len(x)] = 1
    if not TINY:
        ids, mask = ids.pin_memory(), mask.pin_memory()
    return {"input_ids": ids, "attention_mask": mask}


def batches(rows, steps: int):
    out = []
    for s in range(steps):
        chunk = rows[(s * BATCH) % len(rows):][:BATCH]
        if len(chunk) < BATCH:
            chunk = rows[:BATCH]
        out.append((pad([q for q, _ in chunk]), pad([p for _, ps in chunk for p in ps])))
    return out


def pad_share(batch_list) -> float:
    real = sum(int(p["attention_mask"].sum()) for _, p in batch_list)
    whole = sum(p["attention_mask"].numel() for _, p in batch_list)
    return 1 - real / whole


def build(dropout: bool):
    """BGE-M3's shape, random weights, as the worker's StudioRunner sets it up for all heads."""
    from types import SimpleNamespace

    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from trainer.engine.lean_head import LeanSparseM3Model
    from trainer.engine.vram_probe import BGE_M3_CONFIG
    from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model

    cfg = dict(BGE_M3_CONFIG, pad_token_id=PAD)       # the WordPiece ids pad with 0
    if TINY:
        cfg.update(vocab_size=30522, hidden_size=64, num_hidden_layers=2, intermediate_size=128, num_attention_heads=2)
    if not dropout:
        cfg.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    torch.manual_seed(0)
    hidden = cfg["hidden_size"]
    with torch.device(device()):
        encoder = XLMRobertaModel(XLMRobertaConfig(**cfg), add_pooling_layer=False)
        heads = {"colbert_linear": torch.nn.Linear(hidden, hidden), "sparse_linear": torch.nn.Linear(hidden, 1)}
    tokenizer = SimpleNamespace(cls_token_id=CLS, eos_token_id=SEP, pad_token_id=PAD, unk_token_id=UNK,
                                padding_side="right")
    model = EncoderOnlyEmbedderM3Model({"model": encoder, **heads}, tokenizer=tokenizer, temperature=0.02,
                                       sentence_pooling_method="cls", normalize_embeddings=True,
                                       unified_finetuning=True, use_self_distill=True, self_distill_start_step=0)
    model.__class__ = LeanSparseM3Model
    return model.train()


def device() -> str:
    return "cpu" if TINY else "cuda"


def sync() -> None:
    import torch

    if not TINY:
        torch.cuda.synchronize()


def set_variant(model, variant: str) -> None:
    """padded: FlagEmbedding's encode (PyTorch's SDPA backends as they come); unpadded: the worker's switch
    (packed above PACK_MIN_PADDING, else whole with a broadcast mask; cuDNN SDPA off); packed: unpadded with
    every batch packed (PACK_MIN_PADDING 0), what packing costs where there is no padding to save."""
    from trainer.engine.lean_head import LeanSparseM3Model

    import torch

    import trainer.engine.unpadded as unpadded

    model.__class__ = LeanSparseM3Model
    torch.backends.cuda.enable_cudnn_sdp(True)          # PyTorch's default, the padded run's
    unpadded.PACK_MIN_PADDING = DEFAULT_PACK_MIN
    if variant in ("unpadded", "packed"):
        unpadded.enable(model)                          # the worker's switch (cuDNN SDPA off with it)
    if variant == "packed":
        unpadded.PACK_MIN_PADDING = 0.0


def packed_share(batch_list) -> float:
    """The share of encodes (passages and queries) the unpadded variant packs."""
    from trainer.engine.unpadded import PACK_MIN_PADDING, padded_share

    shares = [padded_share(f["attention_mask"].sum(1).tolist(), f["attention_mask"].shape[1])
              for pair in batch_list for f in pair]
    return sum(x >= PACK_MIN_PADDING for x in shares) / len(shares)


def run(model, init, batch_list, *, amp: bool, warmup: int, record_losses: bool = False, deadline: float = 0.0):
    """Steps from the initial weights: (samples/s over the steps after `warmup`, peak GiB, losses)."""
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(init[name])
    model.step = 0
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.01)
    sync()
    if not TINY:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    losses, start = [], None
    for s, (q, p) in enumerate(batch_list):
        if s == warmup:
            sync()
            start = time.perf_counter()
        q = {k: v.to(device(), non_blocking=True) for k, v in q.items()}
        p = {k: v.to(device(), non_blocking=True) for k, v in p.items()}
        with torch.autocast(device(), dtype=torch.bfloat16, enabled=amp and not TINY):
            loss = model(queries=q, passages=p).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if record_losses:
            losses.append(loss.item())
        if deadline and time.time() > deadline:
            break
    sync()
    steps = len(losses) if record_losses else len(batch_list)
    rate = (steps - warmup) * BATCH / (time.perf_counter() - start) if start is not None and steps > warmup else None
    peak = 0.0 if TINY else torch.cuda.max_memory_allocated() / 2**30
    del opt
    if not TINY:
        torch.cuda.empty_cache()
    return rate, peak, losses


def estimate_gib(padded: bool, unpadded: bool, batch: int = BATCH, plen: int = PLEN) -> float:
    from trainer.core.config import Mode
    from trainer.sizing.memory import BGE_M3, Setup, estimate

    return round(estimate(Setup(shape=BGE_M3, mode=Mode.ALL, batch=batch, group_size=GROUP, query_len=QLEN,
                                passage_len=plen, precision="bf16", sparse_head="lean", gpu_gib=139.0,
                                padded=padded, unpadded=unpadded)).total_gib, 2)


def timing(out: Path, steps: int, warmup: int, long: bool = True, busy: bool = True,
           names=("scifact", "cmrc2018", "synthetic")) -> dict:
    import torch

    import trainer.engine.unpadded as unpadded

    model = build(dropout=True)
    # the initial weights, kept off the GPU (they are not part of a step's memory)
    init = {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters()}
    result = {"device": "cpu" if TINY else torch.cuda.get_device_name(), "torch": torch.__version__, "part": "timing",
              "transformers": __import__("transformers").__version__, "batch": BATCH, "group": GROUP,
              "query_len": QLEN, "passage_len": PLEN, "precision": "bf16 autocast", "mode": "all",
              "sparse_head": "lean", "dropout": "hidden 0.1, attention 0.1 (BGE-M3's)", "steps": steps,
              "warmup": warmup, "pack_min_padding": unpadded.PACK_MIN_PADDING, "datasets": []}
    save = lambda: out.write_text(json.dumps(result, indent=1))  # noqa: E731
    for name in names:
        batch_list = batches(load_texts(name), warmup + steps)
        row = {"name": name, "pad_share": round(pad_share(batch_list), 4),
               "packed_share_of_encodes": round(packed_share(batch_list), 3), "runs": []}
        variants = ["padded", "unpadded", "padded", "unpadded"]
        if name == "synthetic" or TINY:
            variants.append("packed")                   # packing forced where there is nothing to save
        for variant in variants:
            set_variant(model, variant)
            rate, peak, _ = run(model, init, batch_list, amp=True, warmup=warmup)
            row["runs"].append({"variant": variant, "samples_per_s": round(rate, 2), "peak_gib": round(peak, 3)})
            print(name, variant, round(rate, 2), "samples/s", round(peak, 2), "GiB", flush=True)
        best = {v: max(r["samples_per_s"] for r in row["runs"] if r["variant"] == v) for v in ("padded", "unpadded")}
        padded_data = name != "synthetic"
        row.update(samples_per_s_padded=best["padded"], samples_per_s_unpadded=best["unpadded"],
                   speedup=round(best["unpadded"] / best["padded"], 3),
                   peak_gib=max(r["peak_gib"] for r in row["runs"] if r["variant"] == "unpadded"),
                   estimate_gib=estimate_gib(padded_data, True),
                   peak_gib_padded=max(r["peak_gib"] for r in row["runs"] if r["variant"] == "padded"),
                   estimate_gib_padded=estimate_gib(padded_data, False))
        if busy and name == "scifact":
            row["device_busy"] = device_busy(model, init, batch_list)
        result["datasets"].append(row)
        save()
    if not long:
        return result
    # Long passages, padded (92-100 % of 4,096 tokens): the estimator's broadcast mask against the measured peak.
    rnd = random.Random(2)
    text = lambda n: [CLS] + [rnd.randrange(1000, 30000) for _ in range(n - 2)] + [SEP]  # noqa: E731
    top = 512 if TINY else 4096
    long_rows = [(text(QLEN), [text(rnd.randint(int(top * 0.92), top)) for _ in range(GROUP)]) for _ in range(16)]
    long_batches = []
    for s in range(4):
        chunk = long_rows[2 * s:2 * s + 2]
        long_batches.append((pad([q for q, _ in chunk]), pad([p for _, ps in chunk for p in ps])))
    cell = {"batch": 2, "passages": "3,770-4,096 tokens", "pad_share": round(pad_share(long_batches), 4), "runs": []}
    for variant in ("padded", "unpadded"):
        set_variant(model, variant)
        try:
            rate, peak, _ = run(model, init, long_batches, amp=True, warmup=1)
            cell["runs"].append({"variant": variant, "samples_per_s": round(rate, 3), "peak_gib": round(peak, 3),
                                 "estimate_gib": estimate_gib(True, variant == "unpadded", batch=2, plen=top)})
        except torch.OutOfMemoryError:
            cell["runs"].append({"variant": variant, "status": "oom"})
            torch.cuda.empty_cache()
        print("long", cell["runs"][-1], flush=True)
    result["long_passages"] = cell
    save()
    return result


def device_busy(model, init, batch_list, steps: int = 3) -> dict:
    """Wall time of a few bf16 steps against the time the device spent in kernels over them (profiler):
    how far the step is the host's rather than the GPU's."""
    from torch.profiler import ProfilerActivity, profile

    out = {}
    for variant in ("padded", "unpadded"):
        set_variant(model, variant)
        run(model, init, batch_list[:2], amp=True, warmup=0)
        activities = [ProfilerActivity.CPU] + ([] if TINY else [ProfilerActivity.CUDA])
        with profile(activities=activities) as prof:
            start = time.perf_counter()
            run(model, init, batch_list[2:2 + steps], amp=True, warmup=0)
            wall = time.perf_counter() - start
        import torch

        events = prof.key_averages()
        # kernels only (an operator's own entry repeats its kernels' device time)
        kernels = sum(e.self_device_time_total for e in events if e.device_type == torch.autograd.DeviceType.CUDA) / 1e6
        launches = sum(e.count for e in events if e.key in ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC",
                                                            "cuLaunchKernelEx"))
        out[variant] = {"steps": steps, "wall_s_per_step": round(wall / steps, 4),
                        "kernel_s_per_step": round(kernels / steps, 4), "launches_per_step": launches // steps,
                        "note": "under the profiler (slower than the timed runs)"}
        print("busy", variant, out[variant], flush=True)
    return out


def same_weights(names=("scifact", "cmrc2018"), count: int = 8) -> dict:
    """fp32 (TF32 off), dropout off, no training: each batch's embeddings and loss padded vs unpadded at the
    same weights (the GPU's varlen kernels against FlagEmbedding's padded forward), and for two batches
    every parameter's gradient (largest difference over the tensor's largest entry, see below)."""
    import torch

    model = build(dropout=False)
    out = {}
    for name in names:
        worst, grads = {"dense": 0.0, "sparse": 0.0, "colbert": 0.0, "loss": 0.0}, []
        for q, p in batches(load_texts(name), count):
            q = {k: v.to(device()) for k, v in q.items()}
            p = {k: v.to(device()) for k, v in p.items()}
            got = {}
            with torch.no_grad():
                for variant in ("padded", "unpadded"):
                    set_variant(model, variant)
                    model.step = 1           # self-distillation on for both (it starts after step 0)
                    got[variant] = (model.encode(p), model(queries=q, passages=p).loss.item())
            (ref, ref_loss), (new, new_loss) = got["padded"], got["unpadded"]
            for key, a, b in zip(("dense", "sparse", "colbert"), ref, new):
                worst[key] = max(worst[key], float((a - b).abs().max()))
            worst["loss"] = max(worst["loss"], abs(ref_loss - new_loss))
            if len(grads) < 2:
                # the backward too (the varlen kernels' own): gradients of one step, padded vs unpadded
                per_variant = []
                for variant in ("padded", "unpadded"):
                    set_variant(model, variant)
                    model.step = 1
                    model.zero_grad(set_to_none=True)
                    model(queries=q, passages=p).loss.backward()
                    per_variant.append({n: t.grad.detach().clone() for n, t in model.named_parameters()
                                        if t.grad is not None})
                    model.zero_grad(set_to_none=True)
                a, b = per_variant
                # per tensor, over its largest entry, with a floor of 1e-3 x the largest gradient of all (the
                # key biases' gradients are zero but for rounding: softmax ignores a constant added to every key)
                top = max(float(t.abs().max()) for t in a.values())
                grads.append(max(float((a[n] - b[n]).abs().max()) / max(float(a[n].abs().max()), 1e-3 * top)
                                 for n in a))
                del per_variant, a, b
        out[name] = {"batches": count, **{f"max_abs_diff_{k}": v for k, v in worst.items()},
                     "max_grad_diff_relative_to_tensor_max": max(grads), "grad_batches": len(grads)}
        print("same weights fp32", name, out[name], flush=True)
    return out


def exact(out: Path, steps: int, budget_s: float, names=("scifact", "cmrc2018", "synthetic"), again=(),
          equal_weights: bool = True, perturbed=(), perturbed_only=(), steps_for: dict | None = None) -> dict:
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    deadline = time.time() + budget_s
    result = {"device": "cpu" if TINY else torch.cuda.get_device_name(), "torch": torch.__version__, "part": "exact",
              "precision": "fp32 (TF32 off), dropout off", "steps": steps, "datasets": []}
    if equal_weights:
        result["same_weights_fp32"] = same_weights(tuple(n for n in names if n != "synthetic" and n not in perturbed_only))
    model = build(dropout=False)
    # the initial weights, kept off the GPU (they are not part of a step's memory)
    init = {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters()}
    for name in names:
        batch_list = batches(load_texts(name), (steps_for or {}).get(name, steps))
        losses, seconds = {}, {}
        variants = ("padded",) + (("unpadded",) if name not in perturbed_only else ()) + (
            ("padded_again",) if name in again else ()) + (("padded_perturbed",) if name in perturbed else ())
        for variant in variants:
            set_variant(model, variant.split("_")[0])
            start_weights = init
            if variant == "padded_perturbed":
                # every initial weight moved by one float32 rounding step (relative 2^-24, random sign)
                gen = torch.Generator().manual_seed(7)
                start_weights = {n: t * (1 + 2.0 ** -24 * (torch.rand(t.shape, generator=gen) < 0.5).mul(2).sub(1))
                                 for n, t in init.items()}
            start = time.perf_counter()
            _, _, losses[variant] = run(model, start_weights, batch_list, amp=False, warmup=0, record_losses=True,
                                        deadline=deadline)
            seconds[variant] = round(time.perf_counter() - start, 1)
            print(name, variant, seconds[variant], "s", [round(x, 6) for x in losses[variant]], flush=True)
        other = losses.get("unpadded", [])
        done = min(len(losses["padded"]), len(other))
        diffs = [abs(a - b) for a, b in zip(losses["padded"], other)]
        row = {"name": name, "steps_compared": done, "losses": losses, "seconds": seconds,
               "max_loss_diff": max(diffs) if diffs else None,
               "max_rel_loss_diff": max((d / abs(a) for d, a in zip(diffs, losses["padded"])), default=None),
               "first_step_diff_over_1e-3": next((i for i, d in enumerate(diffs) if d > 1e-3), None),
               "loss_last": [losses["padded"][done - 1], losses["unpadded"][done - 1]] if done else None}
        for variant in ("padded_again", "padded_perturbed"):
            if variant in losses:
                noise = [abs(a - b) for a, b in zip(losses["padded"], losses[variant])]
                row[variant] = {"steps_compared": len(noise), "max_loss_diff": max(noise) if noise else None,
                                "first_step_diff_over_1e-3": next((i for i, d in enumerate(noise) if d > 1e-3), None)}
        result["datasets"].append(row)
        print(name, {k: v for k, v in row.items() if k != "losses"}, flush=True)
        out.write_text(json.dumps(result, indent=1))
    return result


def merge(parts: list[Path], out: Path) -> None:
    timing_part = next(json.loads(p.read_text()) for p in parts if json.loads(p.read_text())["part"] == "timing")
    exact_parts = [json.loads(p.read_text()) for p in parts if json.loads(p.read_text())["part"] == "exact"]
    exact_part = exact_parts[0] if exact_parts else None
    diffs = {}
    for part in exact_parts:                    # several exact calls: each data set's compared run wins
        for d in part["datasets"]:
            if d.get("max_loss_diff") is not None or d["name"] not in diffs:
                diffs[d["name"]] = {**diffs.get(d["name"], {}), **{k: v for k, v in d.items() if v is not None}}
            else:
                diffs[d["name"]].update({k: v for k, v in d.items() if k.startswith("padded_")})
        for key in ("same_weights_fp32",):
            if key in part:
                exact_part = {**exact_part, key: {**exact_part.get(key, {}), **part[key]}}
    keys = ("name", "pad_share", "samples_per_s_padded", "samples_per_s_unpadded", "speedup", "max_loss_diff",
            "peak_gib", "estimate_gib")
    rows = []
    for d in timing_part["datasets"]:
        row = {**d, "max_loss_diff": diffs.get(d["name"], {}).get("max_loss_diff"),
               "loss_steps_compared": diffs.get(d["name"], {}).get("steps_compared")}
        rows.append({**{k: row.get(k) for k in keys}, **{k: v for k, v in row.items() if k not in keys}})
    merged = {"device": timing_part["device"], "datasets": rows,
              **{k: v for k, v in timing_part.items() if k not in ("datasets", "device", "part")},
              "exact": {k: v for k, v in (exact_part or {}).items() if k != "datasets"},
              "exact_datasets": list(diffs.values())}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(merged, indent=1) + "\n")
    print("| data | padding share | padded samples/s | unpadded samples/s | speed-up | max loss diff (fp32) | "
          "peak / estimate GiB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['pad_share']:.1%} | {r['samples_per_s_padded']} | {r['samples_per_s_unpadded']} | "
              f"{r['speedup']}x | {r['max_loss_diff']} | {r['peak_gib']} / {r['estimate_gib']} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prepare", action="store_true", help="tokenize the shared data sets into .padding_bench/")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--part", choices=("timing", "exact"))
    ap.add_argument("--steps", type=int, default=30, help="timed steps per run (timing)")
    ap.add_argument("--warmup", type=int, default=4)
    ap.add_argument("--exact-steps", type=int, default=50)
    ap.add_argument("--budget-s", type=float, default=520, help="exact: stop comparing where this time runs out")
    ap.add_argument("--merge", nargs="+", type=Path)
    ap.add_argument("--names", default="scifact,cmrc2018,synthetic", help="the data sets")
    ap.add_argument("--again", default="", help="exact: data sets whose padded run is repeated (run-to-run noise)")
    ap.add_argument("--perturbed", default="", help="exact: data sets also run padded from weights moved by one "
                    "rounding step (how far the model itself amplifies rounding)")
    ap.add_argument("--steps-for", default="", help="exact: NAME=STEPS,... other step counts for some data sets")
    ap.add_argument("--perturbed-only", default="", help="exact: data sets run padded and perturbed only")
    ap.add_argument("--no-equal-weights", action="store_true", help="exact: skip the equal-weights check")
    ap.add_argument("--no-long", action="store_true", help="timing: skip the long-passage memory cell")
    ap.add_argument("--no-busy", action="store_true", help="timing: skip the profiled device-busy steps")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "padding.json")
    ap.add_argument("--tiny", action="store_true",
                    help="a 2-layer model on the CPU: checks the script, measures nothing")
    ns = ap.parse_args()
    global TINY, DEFAULT_PACK_MIN
    TINY = ns.tiny
    if ns.prepare:
        prepare(ns.data, DATA_DIR)
        return
    if ns.merge:
        merge(ns.merge, ns.out)
        return
    import trainer.engine.unpadded as unpadded

    DEFAULT_PACK_MIN = unpadded.PACK_MIN_PADDING
    names = tuple(ns.names.split(","))
    if ns.part == "timing":
        timing(ns.out, ns.steps, ns.warmup, not ns.no_long, not ns.no_busy, names)
    elif ns.part == "exact":
        split = lambda text: tuple(x for x in text.split(",") if x)  # noqa: E731
        exact(ns.out, ns.exact_steps, ns.budget_s, names, split(ns.again), not ns.no_equal_weights,
              split(ns.perturbed) + split(ns.perturbed_only), split(ns.perturbed_only),
              {k: int(v) for k, v in (x.split("=") for x in split(ns.steps_for))})
    else:
        ap.error("one of --prepare, --part, --merge")


if __name__ == "__main__":
    main()
