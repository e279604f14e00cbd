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
    python bench/padding.py --part probe|diag --out F.json            # where the time goes; losses at equal weights

timing: per data set, padded and unpadded twice each (A B A B) on the same batches, samples/s = 8 x timed
steps / their wall time (synchronised before and after; the warm-up steps left out), the better of the two;
peak = torch's max_memory_allocated over a run, the estimate trainer.memory's for the same step (padded
batches counted as the length-bucket planner counts them). Also: other chunk costs on SciFact (--sweep), a
long-passage memory cell (batch 2, passages of 3,770-4,096 tokens) and packed varlen attention through
transformers 5's attention interface (tried, not the product: see docs/DESIGN-NOTES.md).
exact: dropout off, fp32 (TF32 off), the same initial weights and batches, 50 steps padded and 50 unpadded
(--again: padded a second time, the run-to-run noise): the largest difference between the losses at one step.
--tiny runs a 2-layer model on the CPU: it checks the script (and, being deterministic, the fp32 steps).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA_DIR = ROOT / ".padding_bench"
DATASETS = ("scifact", "cmrc2018")
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

    from trainer.model_source import embedded_model_dir

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


def chunked_work(batch_list, overhead=None) -> float:
    """Positions the unpadded encoder computes, over the padded batch's (passages)."""
    from trainer.engine.unpadded import plan_chunks

    done = whole = 0
    for _, p in batch_list:
        lengths = p["attention_mask"].sum(1).tolist()
        width = p["attention_mask"].shape[1]
        done += sum(len(rows) * w for rows, w in plan_chunks(lengths, width, 6144, overhead))
        whole += len(lengths) * width
    return done / whole


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
    from trainer.engine.lean_head import LeanSparseM3Model

    import torch

    import trainer.engine.unpadded as unpadded

    model.__class__ = LeanSparseM3Model
    torch.backends.cuda.enable_cudnn_sdp(True)          # PyTorch's default, the padded run's
    if variant == "unpadded":
        unpadded.enable(model)                          # the worker's switch (cuDNN SDPA off with it)
    if variant == "varlen":
        model.__class__ = varlen_class()


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
    from trainer.config import Mode
    from trainer.memory import BGE_M3, Setup, estimate

    return round(estimate(Setup(shape=BGE_M3, mode=Mode.ALL, batch=batch, group_size=GROUP, query_len=QLEN,
                                passage_len=plen, precision="bf16", sparse_head="lean", gpu_gib=139.0,
                                padded=padded, unpadded=unpadded)).total_gib, 2)


# --- packed varlen attention: tried, not the product (transformers 5's attention interface, PyTorch's
# --- torch.nn.attention.varlen; flash kernels only, bf16/fp16, no attention dropout)

def varlen_class():
    import torch
    import torch.nn.functional as F
    from torch.nn.attention.varlen import varlen_attn
    from transformers import AttentionInterface

    from trainer.engine.lean_head import LeanSparseM3Model

    def attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs):
        # query [1, heads, tokens, dim] -> [tokens, heads, dim]; back as [1, tokens, heads, dim]
        q, k, v = (t[0].transpose(0, 1) for t in (query, key, value))
        out = varlen_attn(q, k, v, kwargs["cu_seq_lens_q"], kwargs["cu_seq_lens_k"], kwargs["max_length_q"],
                          kwargs["max_length_k"], scale=scaling)
        return out[None], None

    AttentionInterface.register("m3_varlen", attention)

    class VarlenLeanM3Model(LeanSparseM3Model):
        def encode(self, features):
            mask = features["attention_mask"]
            keep = mask.bool()
            lengths = mask.sum(1)
            rows, width = mask.shape
            ids = features["input_ids"][keep][None]
            positions = ((mask.cumsum(1) * mask) + self.model.config.pad_token_id)[keep][None]
            cu = F.pad(lengths.cumsum(0), (1, 0)).to(torch.int32)
            longest = int(lengths.max())
            before = self.model.config._attn_implementation
            self.model.config._attn_implementation = "m3_varlen"
            try:
                hidden = self.model(input_ids=ids, position_ids=positions, cu_seq_lens_q=cu, cu_seq_lens_k=cu,
                                    max_length_q=longest, max_length_k=longest, return_dict=True).last_hidden_state[0]
            finally:
                self.model.config._attn_implementation = before
            last = hidden.new_zeros(rows, width, hidden.shape[-1]).index_put((keep.nonzero(as_tuple=True)), hidden)
            dense = F.normalize(self._dense_embedding(last, mask), dim=-1)
            sparse = self._sparse_embedding(last, features["input_ids"])
            colbert = F.normalize(self._colbert_embedding(last, mask), dim=-1)
            return dense.contiguous(), sparse.contiguous(), colbert.contiguous()

    return VarlenLeanM3Model


def timing(out: Path, steps: int, warmup: int, sweep: tuple = (512, 1024, 4096), varlen: bool = True,
           long: bool = True) -> dict:
    import torch

    import trainer.engine.unpadded as unpadded

    model = build(dropout=True)
    # the initial weights, kept off the GPU (they are not part of a step's memory)
    init = {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters()}
    result = {"device": "cpu" if TINY else torch.cuda.get_device_name(), "torch": torch.__version__, "part": "timing",
              "transformers": __import__("transformers").__version__, "batch": BATCH, "group": GROUP,
              "query_len": QLEN, "passage_len": PLEN, "precision": "bf16 autocast", "mode": "all",
              "sparse_head": "lean", "steps": steps, "warmup": warmup,
              "chunk_overhead_tokens": unpadded.CHUNK_OVERHEAD_TOKENS, "datasets": []}
    save = lambda: out.write_text(json.dumps(result, indent=1))  # noqa: E731
    for name in ("scifact", "cmrc2018", "synthetic"):
        batch_list = batches(load_texts(name), warmup + steps)
        row = {"name": name, "pad_share": round(pad_share(batch_list), 4),
               "unpadded_work_share": round(chunked_work(batch_list), 4), "runs": []}
        for variant in ("padded", "unpadded", "padded", "unpadded"):
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
        if name == "scifact" and sweep and not TINY:
            # The chunk cost: what other values would have given on the same batches.
            swept = []
            default = unpadded.CHUNK_OVERHEAD_TOKENS
            for overhead in sweep:
                unpadded.CHUNK_OVERHEAD_TOKENS = overhead
                set_variant(model, "unpadded")
                rate, peak, _ = run(model, init, batch_list, amp=True, warmup=warmup)
                swept.append({"chunk_overhead_tokens": overhead, "samples_per_s": round(rate, 2),
                              "work_share": round(chunked_work(batch_list, overhead), 4), "peak_gib": round(peak, 3)})
                print(name, "overhead", overhead, round(rate, 2), flush=True)
            unpadded.CHUNK_OVERHEAD_TOKENS = default
            row["chunk_overhead_sweep"] = swept
        try:
            if not varlen:
                raise RuntimeError("not run (--no-varlen)")
            set_variant(model, "varlen")
            rate, peak, _ = run(model, init, batch_list, amp=True, warmup=warmup)
            row["varlen"] = {"samples_per_s": round(rate, 2), "peak_gib": round(peak, 3),
                             "note": "packed varlen attention: no attention dropout (flash varlen has none)"}
            print(name, "varlen", round(rate, 2), flush=True)
        except Exception as exc:  # noqa: BLE001 - an experiment; record why it did not run
            row["varlen"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            print(name, "varlen failed", exc, flush=True)
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


def probe(out: Path, steps: int = 4) -> dict:
    """Where the host time of unpadded steps on shapes not seen before goes: torch.profiler over a few steps."""
    from torch.profiler import ProfilerActivity, profile

    model = build(dropout=True)
    init = {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters()}
    batch_list = batches(load_texts("scifact"), 12)
    set_variant(model, "unpadded")
    run(model, init, batch_list[:2], amp=True, warmup=0)              # kernels loaded, optimizer state made
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        start = time.perf_counter()
        run(model, init, batch_list[2:2 + steps], amp=True, warmup=0)
        seconds = time.perf_counter() - start
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18, max_name_column_width=40)
    cuda_table = prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=8, max_name_column_width=40)
    print(table, cuda_table, f"{steps} steps {seconds:.2f} s", sep="\n", flush=True)
    out.write_text(json.dumps({"part": "probe", "seconds": seconds, "cpu_table": table, "cuda_table": cuda_table}))
    return {}


def diag(out: Path) -> dict:
    """At the same weights (no training): each batch's loss padded and unpadded in fp32; then where an
    unpadded bf16 step's time goes (host vs device)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.backends.cuda.matmul.allow_tf32 = False
    model = build(dropout=False)
    batch_list = batches(load_texts("scifact"), 40)
    diffs = []
    with torch.no_grad():
        for q, p in batch_list:
            q = {k: v.to(device()) for k, v in q.items()}
            p = {k: v.to(device()) for k, v in p.items()}
            losses = []
            for variant in ("padded", "unpadded"):
                set_variant(model, variant)
                model.step = 1           # self-distillation on for both (it starts after step 0)
                losses.append(model(queries=q, passages=p).loss.item())
            diffs.append(abs(losses[0] - losses[1]))
    print("same weights, fp32, 40 batches: max loss diff", max(diffs), "median", statistics.median(diffs), flush=True)
    init = {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters()}
    result = {"part": "diag", "same_weight_max_loss_diff": max(diffs), "diffs": diffs}
    for variant in ("padded", "unpadded"):
        set_variant(model, variant)
        run(model, init, batch_list[:3], amp=True, warmup=0)
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            start = time.perf_counter()
            run(model, init, batch_list[:3], amp=True, warmup=0)
            wall = time.perf_counter() - start
        averages = prof.key_averages()
        cuda = sum(e.self_device_time_total for e in averages) / 1e6
        table = averages.table(sort_by="self_cpu_time_total", row_limit=10, max_name_column_width=36)
        print(variant, f"wall {wall:.2f} s device {cuda:.2f} s", table, sep="\n", flush=True)
        result[variant] = {"wall_s": wall, "device_s": cuda, "table": table}
    out.write_text(json.dumps(result))
    return result


def exact(out: Path, steps: int, budget_s: float, names=("scifact", "cmrc2018", "synthetic"), again=False) -> dict:
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    model = build(dropout=False)
    # the initial weights, kept off the GPU (they are not part of a step's memory)
    init = {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters()}
    deadline = time.time() + budget_s
    result = {"device": "cpu" if TINY else torch.cuda.get_device_name(), "torch": torch.__version__, "part": "exact",
              "precision": "fp32 (TF32 off), dropout off", "steps": steps, "datasets": []}
    for name in names:
        batch_list = batches(load_texts(name), steps)
        losses = {}
        for variant in ("padded", "unpadded") + (("padded_again",) if again else ()):
            set_variant(model, variant.split("_")[0])
            _, _, losses[variant] = run(model, init, batch_list, amp=False, warmup=0, record_losses=True,
                                        deadline=deadline)
            print(name, variant, [round(x, 6) for x in losses[variant]], flush=True)
        done = min(len(losses["padded"]), len(losses["unpadded"]))
        diffs = [abs(a - b) for a, b in zip(losses["padded"], losses["unpadded"])]
        row = {"name": name, "steps_compared": done, "losses": losses, "max_loss_diff": max(diffs) if diffs else None,
               "max_rel_loss_diff": max((d / abs(a) for d, a in zip(diffs, losses["padded"])), default=None),
               "loss_first": losses["padded"][:1],
               "loss_last": [losses["padded"][done - 1], losses["unpadded"][done - 1]]
               if done else None}
        result["datasets"].append(row)
        print(name, row, flush=True)
        out.write_text(json.dumps(result, indent=1))
    return result


def merge(parts: list[Path], out: Path) -> None:
    timing_part = next(json.loads(p.read_text()) for p in parts if json.loads(p.read_text())["part"] == "timing")
    exact_part = next((json.loads(p.read_text()) for p in parts if json.loads(p.read_text())["part"] == "exact"), None)
    diffs = {d["name"]: d for d in (exact_part or {}).get("datasets", [])}
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
              "exact_datasets": (exact_part or {}).get("datasets", [])}
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
    ap.add_argument("--part", choices=("timing", "exact", "probe", "diag"))
    ap.add_argument("--steps", type=int, default=30, help="timed steps per run (timing)")
    ap.add_argument("--warmup", type=int, default=4)
    ap.add_argument("--exact-steps", type=int, default=50)
    ap.add_argument("--budget-s", type=float, default=520, help="exact: stop comparing where this time runs out")
    ap.add_argument("--merge", nargs="+", type=Path)
    ap.add_argument("--names", default="scifact,cmrc2018,synthetic", help="exact: the data sets")
    ap.add_argument("--again", action="store_true", help="exact: also the padded run a second time (run-to-run noise)")
    ap.add_argument("--sweep", default="512,1024,4096", help="timing: other chunk costs tried on SciFact")
    ap.add_argument("--no-varlen", action="store_true", help="timing: skip the packed varlen attention try")
    ap.add_argument("--no-long", action="store_true", help="timing: skip the long-passage memory cell")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "padding.json")
    ap.add_argument("--tiny", action="store_true",
                    help="a 2-layer model on the CPU: checks the script, measures nothing")
    ns = ap.parse_args()
    global TINY
    TINY = ns.tiny
    if ns.prepare:
        prepare(ns.data, DATA_DIR)
    elif ns.merge:
        merge(ns.merge, ns.out)
    elif ns.part == "timing":
        timing(ns.out, ns.steps, ns.warmup, tuple(int(x) for x in ns.sweep.split(",") if x), not ns.no_varlen,
               not ns.no_long)
    elif ns.part == "exact":
        exact(ns.out, ns.exact_steps, ns.budget_s, tuple(ns.names.split(",")), ns.again)
    elif ns.part == "probe":
        probe(ns.out)
    elif ns.part == "diag":
        diag(ns.out)
    else:
        ap.error("one of --prepare, --part, --merge")


if __name__ == "__main__":
    main()
