"""Samples/s of the real worker on 1 GPU and on N GPUs (torchrun, DDP), same per-device batch.

A BGE-M3-shaped model with random weights (XLM-RoBERTa large, vocabulary 250,002) is written to a
folder with a WordPiece tokenizer (BGE-M3's own cannot be downloaded offline; token ids only need to
be valid), synthetic training rows long enough to fill every passage, all-heads mode with the lean
sparse head, bf16 AMP, group 8, query 64 / passage 256 tokens, evaluation off. samples/s is the
worker's own metric (time inside training steps, GPU work included), median over the steps after
the first 5, timed by CUDA events around each step (no wait for the device per step);
wall_samples_per_s is the same span by the clock (the times the worker stamped on steps 6 and
last), data loading and logging included. Every GPU count in --gpus is one run, same per-device
batch; speed-ups are against the first count (1). --zero 1,2 adds runs with DeepSpeed ZeRO on the
largest count, --grad-ckpt one with gradient checkpointing, --cross-device one with FlagEmbedding's
negatives_cross_device; each run quotes the memory estimator's peak next to the measured one.

    python bench/multi_gpu.py --tokenizer DIR [--gpus 1,2,4] [--steps 60] [--zero 1,2] [--grad-ckpt]
                              [--cross-device] [--out bench/results/multi_gpu.json]
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer.core import children  # noqa: E402
from trainer.jobs import launch  # noqa: E402
from trainer.core.config import Mode, RunConfig  # noqa: E402
from trainer.store import Store  # noqa: E402

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def make_model(folder: Path, tokenizer: Path) -> None:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from trainer.engine.vram_probe import BGE_M3_CONFIG

    cfg = XLMRobertaConfig(**dict(BGE_M3_CONFIG, pad_token_id=0))   # the WordPiece tokenizer pads with 0
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = XLMRobertaModel(cfg, add_pooling_layer=False)
    model.save_pretrained(folder)
    for name in TOKENIZER_FILES:
        if (tokenizer / name).is_file():
            shutil.copy(tokenizer / name, folder / name)


def make_data(path: Path, rows: int, tokenizer: Path) -> None:
    words = [w for w in (tokenizer / "vocab.txt").read_text().split() if w.isalpha()]
    rnd = random.Random(0)
    text = lambda n: " ".join(rnd.choices(words, k=n))  # noqa: E731
    with path.open("w") as f:
        for _ in range(rows):
            f.write(json.dumps({"query": text(80), "pos": [text(320)], "neg": [text(320) for _ in range(7)]}) + "\n")


def estimated_peak(cfg: RunConfig) -> float:
    from trainer.sizing.memory import BGE_M3, estimate, setup_for

    return round(estimate(setup_for(cfg, BGE_M3, 139.0)).total_gib, 2)


def run(store: Store, cfg: RunConfig) -> dict:
    run_id = store.create_run(cfg)
    done = subprocess.run(launch.worker_command(store, run_id, cfg.num_gpus), cwd=ROOT, env=children.worker_env(cfg.num_gpus),
                          capture_output=True, text=True)
    record = store.get_run(run_id)
    sps = [p.value for p in store.metrics(run_id) if p.name == "samples_per_s"][5:]
    mem = [p.value for p in store.metrics(run_id) if p.name == "peak_gpu_mem_gib"]
    # Wall clock between logged step 6 and the last: data loading, logging and all included.
    loss = [p for p in store.metrics(run_id) if p.name == "loss"][5:]
    wall = (len(loss) - 1) * cfg.batch_size * cfg.num_gpus / (loss[-1].time - loss[0].time) if len(loss) > 1 else None
    out = {"gpus": cfg.num_gpus, "zero_stage": cfg.zero_stage, "cross_device_negatives": cfg.negatives_cross_device,
           "status": record.status, "steps": len(sps) + 5,
           "samples_per_s": statistics.median(sps) if sps else None, "wall_samples_per_s": wall,
           "peak_gpu_mem_gib": max(mem, default=None), "estimated_peak_gib": estimated_peak(cfg),
           "run_seconds": record.ended - (record.started or record.created) if record.ended else None}
    shutil.rmtree(record.folder.model, ignore_errors=True)      # checkpoints: gigabytes each
    if record.status != "completed":
        out["error"] = (record.error or "") + (done.stdout + done.stderr)[-2000:]
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", type=Path, required=True, help="a folder with a WordPiece tokenizer")
    ap.add_argument("--gpus", default="1,2", help="GPU counts, comma-separated, the first the baseline: 1,2,4")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--zero", default="", help="also DeepSpeed ZeRO runs of these stages (1,2) on the most GPUs")
    ap.add_argument("--grad-ckpt", action="store_true", help="also a run with gradient checkpointing on the most GPUs")
    ap.add_argument("--cross-device", action="store_true", help="also a run with negatives_cross_device")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "multi_gpu.json")
    ns = ap.parse_args()
    import torch

    counts = [int(n) for n in ns.gpus.split(",") if n.strip()]
    most = max(counts)
    work = Path(tempfile.mkdtemp(prefix="m3-multi-"))
    make_model(work / "model", ns.tokenizer)
    make_data(work / "train.jsonl", ns.steps * ns.batch * most + 64, ns.tokenizer)
    store = Store(work / "runs")
    base = RunConfig(mode=Mode.ALL, model=str(work / "model"), train_data=str(work / "train.jsonl"), eval_data=None,
                     epochs=1, max_steps=ns.steps, batch_size=ns.batch, group_size=8, query_max_len=64,
                     passage_max_len=256, sparse_head="lean")
    result = {"devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] or ["cpu"],
              "torch": torch.__version__, "per_device_batch": ns.batch, "group_size": 8, "query_len": 64,
              "passage_len": 256, "mode": "all", "sparse_head": "lean", "precision": "bf16 (auto)",
              "steps": ns.steps, "runs": []}
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    save = lambda: ns.out.write_text(json.dumps(result, indent=1))  # noqa: E731  (after each run: a cut-off call keeps what ran)
    for n in counts:
        if n > max(1, torch.cuda.device_count()):
            result["runs"].append({"gpus": n, "status": "not run", "error": f"{torch.cuda.device_count()} GPUs here"})
            continue
        result["runs"].append(run(store, base.replace(num_gpus=n)))
        save()
    first = result["runs"][0]
    for key, value in (("speedup", "samples_per_s"), ("speedup_wall_clock", "wall_samples_per_s")):
        result[key] = {str(r["gpus"]): r[value] / first[value] for r in result["runs"]
                       if r.get(value) and first.get(value)}
    result["wall_over_step"] = {str(r["gpus"]): r["wall_samples_per_s"] / r["samples_per_s"] for r in result["runs"]
                                if r.get("wall_samples_per_s") and r.get("samples_per_s")}
    top = min(most, max(1, torch.cuda.device_count()))
    save()
    for stage in [int(z) for z in ns.zero.split(",") if z.strip()]:
        result.setdefault("zero", []).append(run(store, base.replace(num_gpus=top, zero_stage=stage)))
        save()
    if ns.grad_ckpt:
        result["gradient_checkpointing"] = run(store, base.replace(num_gpus=top, gradient_checkpointing=True))
        save()
    if ns.cross_device and top > 1:
        # FlagEmbedding's negatives_cross_device gathers every rank's passages: more negatives per query.
        result["cross_device_negatives"] = run(store, base.replace(num_gpus=top, negatives_cross_device=True))
    save()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
