"""Length buckets on one GPU: a BGE-M3-shaped model (random weights, XLM-RoBERTa large, the
embedded WordPiece tokenizer: token ids only need to be valid) trained by the real worker in
all-heads mode (lean sparse head, bf16 AMP, group 8, query 64 tokens) on rows whose passages are
~500, ~2,000 and ~8,000 tokens long:

- bucketed (`length_buckets=auto`, sized for this GPU): each bucket's measured peak (torch's
  max_memory_allocated over its steps) against its estimate, and whether anything ran out of memory;
- one batch size for every row (the largest the estimator fits at the longest bucket's length,
  the plan's own choice for that bucket), passages truncated at that length;
- samples/s over the whole file for both: queries trained / wall time of the training loop
  (checkpoint saving switched off inside the loop; the final save is outside the timing).

    python bench/length_buckets.py --tokenizer DIR [--out bench/results/length_buckets_h200.json]
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from trainer.store.run_folder import LENGTH_PLAN  # noqa: E402
from trainer.core.config import Mode, RunConfig  # noqa: E402
from trainer.store import Store  # noqa: E402

LENGTHS = {490: 128, 1990: 24, 7990: 6}      # longest passage tokens -> rows (inside FlagEmbedding's edges)
SPREAD = 0.08                                 # passages are 92-100 % of that: batches are padded
GROUP, QLEN = 8, 64


def make_data(path: Path, tokenizer: Path, lengths: dict[int, int]) -> None:
    """Rows whose passages have between (1 - SPREAD) x n and n tokens (ASCII single-token words + CLS/SEP),
    queries 40-64 tokens: real batches are padded, so the encoder builds an attention mask."""
    words = [w for w in (tokenizer / "vocab.txt").read_text().split() if w.isascii() and w.isalpha() and w.islower()]
    rnd = random.Random(0)
    text = lambda n: " ".join(rnd.choices(words, k=n - 2))  # noqa: E731
    some = lambda n: text(rnd.randint(int(n * (1 - SPREAD)), n))  # noqa: E731
    rows = [{"query": text(rnd.randint(40, QLEN)), "pos": [some(n)], "neg": [some(n) for _ in range(GROUP - 1)]}
            for n, count in lengths.items() for _ in range(count)]
    rnd.shuffle(rows)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def clock():
    import torch
    from transformers import TrainerCallback

    class Clock(TrainerCallback):
        """Wall time of the training loop; no checkpoint saved inside it."""
        steps, start, end = 0, 0.0, 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.steps += 1
            control.should_save = False

        def on_epoch_end(self, args, state, control, **kwargs):
            control.should_save = False

        def on_train_end(self, args, state, control, **kwargs):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.end = time.perf_counter()
    return Clock()


def train(store: Store, cfg: RunConfig) -> dict:
    """One run in a child process of its own (a failed run leaves nothing behind on the GPU)."""
    import subprocess

    run_id = store.create_run(cfg)
    done = subprocess.run([sys.executable, __file__, "--one", run_id, "--runs", str(store.runs_dir)],
                          capture_output=True, text=True)
    sys.stdout.write(done.stdout[-3000:] + done.stderr[-3000:])
    line = next((ln for ln in done.stdout.splitlines()[::-1] if ln.startswith("RESULT ")), None)
    return json.loads(line[7:]) if line else {"status": "crashed", "returncode": done.returncode,
                                              "tail": (done.stdout + done.stderr)[-2000:]}


def one(store: Store, run_id: str) -> dict:
    from trainer.engine import worker

    watch = clock()
    status = worker.run(store, run_id, extra_callbacks=[watch])
    record = store.get_run(run_id)
    points = store.metrics(run_id)
    out = {"status": status, "error": (record.error or "")[:600] or None, "steps": watch.steps,
           "loop_s": round(watch.end - watch.start, 3) if watch.end else None,
           "peak_gpu_mem_gib": max((p.value for p in points if p.name == "peak_gpu_mem_gib"), default=None),
           "oom": "out of memory" in (record.error or "").lower()}
    plan_path = record.folder.root / LENGTH_PLAN
    if plan_path.is_file():
        out["plan"] = json.loads(plan_path.read_text())
    shutil.rmtree(record.folder.model, ignore_errors=True)
    print("RESULT " + json.dumps(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", type=Path, help="a folder with a WordPiece tokenizer")
    ap.add_argument("--max-batch", type=int, default=64, help="the run's batch size: no bucket gets more")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--also-gpu-gib", type=float, default=0,
                    help="also train buckets planned for a smaller card (say 48): checkpointing where it needs it")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "length_buckets.json")
    ap.add_argument("--one", help=argparse.SUPPRESS)       # child process: train this run
    ap.add_argument("--runs", help=argparse.SUPPRESS)
    ap.add_argument("--bucketed-only", action="store_true", help="skip the single-batch run")
    ap.add_argument("--tiny", action="store_true", help="CPU smoke test: a 2-layer model, passages a tenth as long")
    ns = ap.parse_args()
    if ns.one:
        one(Store(ns.runs), ns.one)
        return
    import torch

    from multi_gpu import make_model
    from trainer.sizing.buckets import card_gib_for, length_plan_for_run

    work = Path(tempfile.mkdtemp(prefix="m3-buckets-"))
    try:
        lengths = {n // 10: max(4, c // 8) for n, c in LENGTHS.items()} if ns.tiny else LENGTHS
        if ns.tiny:
            from transformers import XLMRobertaConfig, XLMRobertaModel
            from trainer.engine.vram_probe import BGE_M3_CONFIG
            cfg = dict(BGE_M3_CONFIG, pad_token_id=0, vocab_size=30522, hidden_size=64, num_hidden_layers=2,
                       intermediate_size=128, num_attention_heads=2)
            XLMRobertaModel(XLMRobertaConfig(**cfg), add_pooling_layer=False).save_pretrained(work / "model")
            for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
                shutil.copy(ns.tokenizer / name, work / "model" / name)
        else:
            make_model(work / "model", ns.tokenizer)
        make_data(work / "train.jsonl", ns.tokenizer, lengths)
        store = Store(work / "runs")
        base = RunConfig(mode=Mode.ALL, model=str(work / "model"), train_data=str(work / "train.jsonl"), eval_data=None,
                         epochs=ns.epochs, batch_size=ns.max_batch, group_size=GROUP, query_max_len=QLEN,
                         passage_max_len=8192, sparse_head="lean", mine="off", length_buckets="auto")
        rows = [json.loads(line) for line in (work / "train.jsonl").read_text().splitlines()]
        plan = length_plan_for_run(base, rows, gpu_gib=card_gib_for(base), precision="bf16", world=1,
                            model_folder=str(work / "model"))
        longest = plan.buckets[-1]
        cuda = torch.cuda.is_available()
        result = {"device": torch.cuda.get_device_name() if cuda else "cpu",
                  "device_total_gib": torch.cuda.mem_get_info()[1] / 2**30 if cuda else None,
                  "torch": torch.__version__, "mode": "all", "sparse_head": "lean", "precision": "bf16 (auto)",
                  "group_size": GROUP, "query_len": QLEN, "rows_by_longest_passage_tokens": lengths, "length_spread": SPREAD, "epochs": ns.epochs,
                  "max_batch": ns.max_batch, "card_gib_planned_for": plan.gpu_gib}
        # One batch for every row: what fits the longest bucket (checkpointing as the plan has it there).
        single = base.replace(length_buckets="off", batch_size=longest.batch_size, passage_max_len=longest.max_len)
        if longest.grad_ckpt:
            result["single_batch_note"] = "the longest bucket needs checkpointing; the single-batch run has none"
        if not ns.bucketed_only:
            result["single_batch"] = {"batch_size": longest.batch_size, **train(store, single)}
        else:
            result["single_batch"] = {}
        result["bucketed"] = train(store, base)
        for name in ("single_batch", "bucketed"):
            r = result[name]
            if name == "bucketed" and "plan" in r:
                queries = sum(b["steps_per_epoch"] * b["batch_size"] for b in r["plan"]["buckets"]) * ns.epochs
            else:
                queries = len(rows) * ns.epochs
            r["queries_trained"] = queries
            r["samples_per_s"] = round(queries / r["loop_s"], 3) if r.get("loop_s") else None
        if ns.also_gpu_gib:
            result["bucketed_smaller_card"] = train(store, base.replace(bucket_gpu_gib=ns.also_gpu_gib))
        checks = []
        for name in ("bucketed", "bucketed_smaller_card"):
            plan_out = result.get(name, {}).get("plan", {})
            for b, m in zip(plan_out.get("buckets", []), plan_out.get("measured", [])):
                peak = m.get("measured_peak_gib")
                checks.append({"run": name, "card_gib": plan_out["gpu_gib"], "bucket": f"{b['min_len']}-{b['max_len']}",
                               "batch_size": b["batch_size"], "grad_ckpt": b["grad_ckpt"],
                               "estimate_gib": b["estimate_gib"], "measured_peak_gib": peak, "steps": m["steps"],
                               "error": None if peak is None else round((b["estimate_gib"] - peak) / peak, 4)})
        result["bucket_checks"] = checks
        result["all_within_10_percent"] = bool(checks) and all(c["error"] is not None and abs(c["error"]) <= 0.10
                                                                for c in checks)
        s, b = result["single_batch"].get("samples_per_s"), result["bucketed"].get("samples_per_s")
        if s and b:
            result["speedup"] = round(b / s, 3)
        ns.out.parent.mkdir(parents=True, exist_ok=True)
        ns.out.write_text(json.dumps(result, indent=1))
        print(json.dumps(result, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
