"""Samples/s of the same small config through the plain FlagEmbedding command line and through
our worker (evaluation off). Both run as child processes on the same data, alternating.

    .venv/bin/python bench/overhead.py [--steps 30] [--repeats 2] [--mode dense]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer.core.config import Mode, RunConfig  # noqa: E402
from trainer.core.config import DEMO_DIR  # noqa: E402
from trainer.planning.flag_args import M3_MODULE, command_line, flag_arguments  # noqa: E402
from trainer.sizing.advice import schedule  # noqa: E402

SPS = re.compile(r"'train_samples_per_second': ([0-9.]+)")


def samples_per_s(argv: list[str], env_extra: dict) -> float:
    import os
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, **env_extra))
    found = SPS.findall(out.stdout + out.stderr)
    if out.returncode != 0 or not found:
        raise RuntimeError(f"{argv[:4]} failed ({out.returncode}):\n{(out.stdout + out.stderr)[-3000:]}")
    return float(found[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--mode", default="dense", choices=[m.value for m in Mode])
    ns = ap.parse_args()
    cfg = RunConfig(mode=Mode(ns.mode), max_steps=ns.steps, batch_size=8, group_size=4, eval_data=None,
                    learning_rate=1e-5)
    env = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    plain, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(ns.repeats):
            args = flag_arguments(cfg, train_file=str(DEMO_DIR / "train.jsonl"), output_dir=f"{tmp}/plain{i}",
                                  precision="fp32",
                                  warmup_steps=schedule(cfg, 0)[1])   # max_steps fixes the schedule
            flag_cli = command_line(args)[command_line(args).index(M3_MODULE) + 1:]
            plain.append(samples_per_s([sys.executable, "-m", M3_MODULE] + flag_cli, env))
            ours.append(samples_per_s([sys.executable, "-m", "trainer", "train", "--mode", ns.mode, "--eval", "none",
                                       "--max-steps", str(ns.steps), "--batch-size", "8", "--group-size", "4",
                                       "--lr", "1e-5", "--runs-dir", f"{tmp}/runs"], env))
            print(f"repeat {i + 1}: plain FlagEmbedding {plain[-1]:.2f} samples/s, M3 Studio worker {ours[-1]:.2f}",
                  flush=True)
    result = {"mode": ns.mode, "steps": ns.steps, "batch": 8, "group_size": 4,
              "plain_samples_per_s": statistics.median(plain), "ours_samples_per_s": statistics.median(ours)}
    result["ratio"] = result["ours_samples_per_s"] / result["plain_samples_per_s"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
