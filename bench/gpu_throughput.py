"""Samples/s of the product's `train` against the plain FlagEmbedding command of the same plan and against
sentence-transformers' trainer, side by side in one run, with model FLOP utilisation (issue 39, points 2-3).

Dense mode, the same BGE-M3-shaped model with random weights (bench/gpu_suite.py `make_model`), batch 8, group 4
(1 positive + 3 negatives), query 64 / passage P tokens, bf16, S steps (fewer than one epoch: no checkpoint inside the timing), no evaluation, on two data sets: SciFact's
first 240 rows (long, varied passages, P = 512) and the demo set (short passages, P = 128).
- product: `python -m trainer train --mode dense ...` (unpadded encoding on, as on every GPU run);
- plain: the run's equivalent command (`trainer.reproduce.run_command`: `torchrun -m FlagEmbedding…m3` with the
  plan's arguments, so the same data loader processes, precision and lengths), padded as FlagEmbedding pads;
- sentence-transformers: `SentenceTransformerTrainer` with MultipleNegativesRankingLoss over (anchor, positive,
  negative_1..3), CLS pooling, one max length P for queries and passages (its one setting), bf16.
samples/s is HF's `train_samples_per_second` for each (S x batch / train_runtime: the same clock for all three; the
first steps included); the product's median step (its own metric) is quoted too. MFU: the FLOPs of the real
(unpadded) tokens of the batches, 6 x the encoder's non-embedding parameters per token plus attention's
12 x layers x hidden x the text's length, over the time, over the bf16 rate of an 8192^3 matrix product measured
in the same run.

    python bench/gpu_throughput.py [--steps 60] [--out bench/results/gpu_throughput_<device>.json] [--tiny]
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import gpu_suite  # noqa: E402

BATCH, GROUP, QUERY = 8, 4, 64


def hf_metrics(text: str) -> dict:
    """HF Trainer's last printed metrics dict ({'train_runtime': …, 'train_samples_per_second': …})."""
    found = re.findall(r"\{'train_runtime'.*?\}", text)
    return ast.literal_eval(found[-1]) if found else {}


def product(model: Path, data: Path, passage: int, steps: int, work: Path) -> tuple[dict, object]:
    from trainer.metrics import Metric
    from trainer.store import Store

    runs = work / "runs"
    done = subprocess.run([sys.executable, "-m", "trainer", "train", "--mode", "dense", "--model", str(model),
                           "--train-data", str(data), "--eval-data", "none", "--max-steps", str(steps),
                           "--batch-size", str(BATCH), "--group-size", str(GROUP), "--query-max-len", str(QUERY),
                           "--passage-max-len", str(passage), "--learning-rate", "1e-5", "--runs-dir", str(runs)],
                          cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    store = Store(runs)
    run = store.get_run(done.stdout.split()[0])
    speed = [p.value for p in store.metrics(run.id) if p.name == Metric.SAMPLES_PER_S][5:]
    peak = [p.value for p in store.metrics(run.id) if p.name == Metric.PEAK_GPU_GIB]
    out = {"status": run.status, **hf_metrics(done.stdout + done.stderr),
           "median_step_samples_per_s": statistics.median(speed) if speed else None,
           "peak_gpu_gib": max(peak, default=None)}
    if run.status != "completed":
        out["error"] = (done.stdout + done.stderr)[-3000:]
    return out, run


def plain(run) -> dict:
    from trainer import reproduce

    argv = reproduce.run_command(run)
    if argv[0] == "torchrun":
        argv = [sys.executable, "-m", "torch.distributed.run", *argv[1:]]
    # The plan's `ddp_find_unused_parameters False` holds for the worker, which freezes the pooler; plain FlagEmbedding
    # trains a model with a pooler that gets no gradient, and DDP then fails at the 2nd step: its default instead.
    if "--ddp_find_unused_parameters" in argv:
        at = argv.index("--ddp_find_unused_parameters")
        del argv[at:at + 2]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    out = {"exit": done.returncode, **hf_metrics(done.stdout + done.stderr)}
    if done.returncode:
        out["error"] = (done.stdout + done.stderr)[-3000:]
    shutil.rmtree(run.folder.reproduced, ignore_errors=True)
    return out


ST_SCRIPT = r"""
import json, sys
import torch
from datasets import Dataset
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments, losses, models
model_dir, data, passage, steps, out, batch, group = sys.argv[1:8]
rows = [json.loads(l) for l in open(data, encoding="utf-8") if l.strip()]
cols = {"anchor": [], "positive": [], **{f"negative_{i}": [] for i in range(1, int(group))}}
for r in rows:
    if len(r.get("neg", [])) < int(group) - 1:
        continue
    cols["anchor"].append(r["query"]); cols["positive"].append(r["pos"][0])
    for i in range(1, int(group)):
        cols[f"negative_{i}"].append(r["neg"][i - 1])
enc = models.Transformer(model_dir, max_seq_length=int(passage))
model = SentenceTransformer(modules=[enc, models.Pooling(enc.get_word_embedding_dimension(), "cls")])
args = SentenceTransformerTrainingArguments(output_dir=out, per_device_train_batch_size=int(batch), max_steps=int(steps),
    learning_rate=1e-5, warmup_ratio=0.1, bf16=torch.cuda.is_available(), logging_steps=50, save_strategy="no",
    report_to="none", dataloader_num_workers=2 if torch.cuda.is_available() else 0, seed=42)
trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=Dataset.from_dict(cols),
    loss=losses.MultipleNegativesRankingLoss(model, scale=50.0))
m = trainer.train().metrics
peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
print("ST_RESULT " + json.dumps({**m, "peak_gpu_gib": peak}))
"""


def sentence_transformers(model: Path, data: Path, passage: int, steps: int, work: Path) -> dict:
    script = work / "st_train.py"
    script.write_text(ST_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(model), str(data), str(passage), str(steps),
                           str(work / "st_out"), str(BATCH), str(GROUP)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONUNBUFFERED="1"))
    found = [line for line in done.stdout.splitlines() if line.startswith("ST_RESULT ")]
    out = json.loads(found[-1][len("ST_RESULT "):]) if found else {"error": (done.stdout + done.stderr)[-3000:]}
    shutil.rmtree(work / "st_out", ignore_errors=True)
    return out


def useful_flops_per_sample(model: Path, data: Path, passage: int) -> tuple[float, dict]:
    """Mean training FLOPs of one sample's real tokens (its query and group passages, truncated as trained)."""
    from tokenizers import Tokenizer

    cfg = json.loads((model / "config.json").read_text())
    h, layers, ff = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    per_token = 6 * layers * (4 * h * h + 2 * h * ff)          # Q, K, V, O and the feed-forward, forward + backward
    tok = Tokenizer.from_file(str(model / "tokenizer.json"))
    tok.no_truncation()
    rows = [json.loads(line) for line in data.open(encoding="utf-8") if line.strip()]
    total, tokens = 0.0, []
    for r in rows:
        texts = [(r["query"], QUERY)] + [(t, passage) for t in (r["pos"][:1] + r["neg"][:GROUP - 1])]
        for text, cap in texts:
            n = min(cap, len(tok.encode(text).ids))
            tokens.append(n)
            total += n * per_token + 12 * layers * h * n * n        # attention scores and weighted sum, fwd + bwd
    return total / len(rows), {"mean_tokens_per_text": statistics.mean(tokens), "flops_per_token_linear": per_token}


def matmul_tflops() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        a @ b
    end.record()
    torch.cuda.synchronize()
    return 2 * 8192 ** 3 * 20 / (start.elapsed_time(end) / 1000) / 1e12


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--tiny", action="store_true", help="a 2-layer model (a CPU check of the bench)")
    ap.add_argument("--only", default="long,short")
    ns = ap.parse_args()
    from trainer.data import DEMO_DIR

    work = Path(tempfile.mkdtemp(prefix="m3-throughput-"))
    model = work / "model"
    shape = gpu_suite.make_model(model, gpu_suite.tokenizer_dir(), tiny=ns.tiny)
    source = gpu_suite.data_dir()
    long = work / "scifact.jsonl"
    long.write_text("".join(source.joinpath("train.jsonl").read_text(encoding="utf-8").splitlines(True)[:240]))
    sets = {"long": (long, 512, "SciFact, first 240 rows"), "short": (DEMO_DIR / "train.jsonl", 128, "demo set")}
    peak_tflops = matmul_tflops()
    result = {"device": gpu_suite.device(), "versions": gpu_suite.versions(), "model": shape, "batch": BATCH,
              "group_size": GROUP, "query_len": QUERY, "steps": ns.steps, "mode": "dense", "precision": "bf16",
              "bf16_matmul_tflops": peak_tflops, "sets": {}}
    out = ns.out or ROOT / "bench" / "results" / f"gpu_throughput_{gpu_suite.device_slug(result['device'])}.json"
    for name in ns.only.split(","):
        data, passage, label = sets[name]
        rows = sum(1 for line in data.open(encoding="utf-8") if line.strip())
        # under one epoch: HF saves a checkpoint at each epoch's end (the product and the plain command alike; 7 GB
        # of weights and AdamW state here), inside train_runtime; sentence-transformers is run without saving
        steps = min(ns.steps, rows // BATCH - 1)
        flops, counts = useful_flops_per_sample(model, data, passage)
        entry = {"data": label, "passage_len": passage, "steps": steps, **counts, "useful_gflops_per_sample": flops / 1e9}
        t0 = time.time()
        entry["product"], run = product(model, data, passage, steps, work / name)
        entry["plain_flagembedding"] = plain(run)
        shutil.rmtree(run.folder.model, ignore_errors=True)
        entry["sentence_transformers"] = sentence_transformers(model, data, passage, steps, work / name)
        entry["seconds"] = round(time.time() - t0, 1)
        for system in ("product", "plain_flagembedding", "sentence_transformers"):
            sps = entry[system].get("train_samples_per_second")
            if sps and peak_tflops:
                entry[system]["mfu"] = sps * flops / (peak_tflops * 1e12)
        step = entry["product"].get("median_step_samples_per_s")
        if step and peak_tflops:
            entry["product"]["median_step_mfu"] = step * flops / (peak_tflops * 1e12)
        base = entry["product"].get("train_samples_per_second")
        entry["ratios"] = {f"product_over_{k}": base / entry[k]["train_samples_per_second"]
                           for k in ("plain_flagembedding", "sentence_transformers")
                           if base and entry[k].get("train_samples_per_second")}
        result["sets"][name] = entry
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps({name: {**{k: entry[k].get("train_samples_per_second")
                                    for k in ("product", "plain_flagembedding", "sentence_transformers")},
                                 "mfu": {k: entry[k].get("mfu") for k in ("product", "plain_flagembedding", "sentence_transformers")},
                                 **entry["ratios"]}}), flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
