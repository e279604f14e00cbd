"""Hard-negative mining at size: Q queries over P passages with the embedded model (or --model),
through `python -m trainer mine` itself (a child process, as the Data page runs it). Synthetic but
real text: passages are two consecutive sentences of the shared SciFact abstracts, each query the
first words of its passage's second sentence; the rest of the P passages come as --corpus.

    python bench/mine.py --queries 10000 --passages 100000 --out bench/results/mine_cpu.json

Prints: encoding texts/s, total seconds, the child's peak RSS, and the mining summary.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("M3_SHARED_DATA", ROOT.parent / "shared" / "data"))


def passages(count: int) -> list[str]:
    sentences = []
    for line in (DATA / "scifact" / "eval_val" / "corpus.jsonl").open(encoding="utf-8"):
        sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", json.loads(line)["text"]) if len(s.split()) > 5]
    out, stride = [], 1
    while len(out) < count:         # pairs of sentences at growing distance: as many distinct passages as asked
        out += [f"{sentences[i]} {sentences[(i + stride) % len(sentences)]}" for i in range(len(sentences))]
        stride += 1
    return out[:count]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--model", default="default")
    parser.add_argument("--out")
    ns = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mine-bench-"))
    texts = passages(ns.passages)
    rows = [{"query": " ".join(p.split(". ", 1)[-1].split()[:8]), "pos": [p]} for p in texts[:ns.queries]]
    with open(work / "pairs.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    with open(work / "corpus.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"text": t}) + "\n" for t in texts[ns.queries:])
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "trainer", "mine", "--input", str(work / "pairs.jsonl"),
                           "--corpus", str(work / "corpus.jsonl"), "--output", str(work / "mined.jsonl"),
                           "--model", ns.model, "--json"], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(done.stderr[-3000:])
    summary = json.loads(done.stdout)
    summary.pop("preview")
    result = {"queries": ns.queries, "passages": ns.passages, "model": ns.model, "cpus": os.cpu_count(),
              "device": "cpu", "total_seconds": round(seconds, 1),
              "child_peak_rss_gib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20, 2),
              "summary": summary}
    try:
        import torch  # noqa: F401  (only to name the device; the child did the work)

        if torch.cuda.is_available():
            result["device"] = torch.cuda.get_device_name()
    except ImportError:
        pass
    print(json.dumps(result, indent=1))
    if ns.out:
        Path(ns.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
