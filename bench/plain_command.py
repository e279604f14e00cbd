"""Is the equivalent command what the product trains? (issue 37, item 5.) One run of the product on two CPU processes
(gloo, torchrun) on the BGE-M3 look-alike (tests/lookalike.py: XLM-R's tokenizer, M3's head files), all heads, then
its plain `torchrun -m FlagEmbedding…m3` command (trainer.planning.reproduce.run_command: the run's stored plan) on the
same two processes, and their losses step by step. The product's additions (trainer.planning.additions) that change
the numbers are held equal here: warmup 0 (the product starts warmup at 1/10 of the LR, FlagEmbedding at 0), so
every other addition (the lean sparse head, the frozen pooler, fp32 weights, the EOS fix) must leave the losses as
FlagEmbedding's own. The plain command is given `--logging_steps 1` so that HF prints every step's loss.

    python bench/plain_command.py [--steps 6] [--out bench/results/plain_command_cpu.json]
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import lookalike  # noqa: E402
from trainer.core.config import DEMO_DIR  # noqa: E402
from trainer.core.metrics import Metric  # noqa: E402
from trainer.planning import reproduce  # noqa: E402
from trainer.store import Store  # noqa: E402


def env() -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1",
                PYTHONPATH=str(ROOT))


def product(model: Path, data: Path, runs: Path, steps: int) -> tuple[object, list[float], float]:
    t0 = time.time()
    done = subprocess.run([sys.executable, "-m", "trainer", "train", "--mode", "all", "--model", str(model),
                           "--train-data", str(data), "--eval", "none", "--max-steps", str(steps), "--num-gpus", "2",
                           "--warmup-steps", "0", "--batch-size", "4", "--group-size", "2", "--query-max-len", "32",
                           "--passage-max-len", "64", "--learning-rate", "1e-4", "--runs-dir", str(runs)],
                          cwd=ROOT, env=env(), capture_output=True, text=True, timeout=900)
    if done.returncode:
        raise SystemExit(f"the product's run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    run = Store(runs).list_runs()[0]
    losses = [p.value for p in sorted(Store(runs).metrics(run.id, prefix=Metric.LOSS), key=lambda p: p.step)
              if p.name == Metric.LOSS]
    return run, losses, time.time() - t0


def hf_losses(text: str) -> list[float]:
    """The `{'loss': …}` lines HF's Trainer prints (every `logging_steps`), in order."""
    losses = []
    for line in text.splitlines():
        at = line.find("{'loss'")
        if at >= 0:
            losses.append(float(ast.literal_eval(line[at:line.index("}", at) + 1])["loss"]))
    return losses


def plain(run, steps: int) -> tuple[list[float], list[str], float]:
    argv = reproduce.run_command(run)
    argv = [sys.executable, "-m", "torch.distributed.run", *argv[1:], "--logging_steps", "1"]
    t0 = time.time()
    done = subprocess.run(argv, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=900)
    text = done.stdout + done.stderr
    if done.returncode:
        raise SystemExit(f"the plain command failed:\n{text[-4000:]}")
    return hf_losses(text)[:steps], argv, time.time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "plain_command_cpu.json"))
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = lookalike.build(tmp / "model", tmp / "cache").folder
        rows = (DEMO_DIR / "train.jsonl").read_text(encoding="utf-8").splitlines()[:ns.steps * 8]
        data = tmp / "train.jsonl"
        data.write_text("\n".join(rows) + "\n", encoding="utf-8")
        run, ours, our_s = product(model, data, tmp / "runs", ns.steps)
        theirs, argv, their_s = plain(run, ns.steps)
    worst = max((abs(a - b) / max(abs(b), 1e-12) for a, b in zip(ours, theirs)), default=None)
    result = {"what": "losses per step: the product's run vs its plain FlagEmbedding command, 2 CPU processes (gloo), "
                      "the BGE-M3 look-alike, all heads, warmup 0", "device": f"CPU, {os.cpu_count()} cores",
              "steps": ns.steps, "product_losses": ours, "plain_losses": theirs,
              "worst_relative_difference": worst, "product_seconds": round(our_s, 1), "plain_seconds": round(their_s, 1),
              "plain_command": " ".join(a if " " not in a else repr(a) for a in argv[:8]) + " …"}
    Path(ns.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    if len(ours) != ns.steps or len(theirs) != ns.steps:
        raise SystemExit(f"steps: the product logged {len(ours)}, the command {len(theirs)} (asked {ns.steps})")


if __name__ == "__main__":
    main()
