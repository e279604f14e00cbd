"""CPU latency of one query through an exported model: sentence-transformers on torch vs on its
ONNX backend (onnx/model.onnx written by `python -m trainer export --onnx`), and their agreement.

    .venv/bin/python bench/onnx_latency.py [--folder EXPORTED] [--queries 36] [--out bench/results/onnx_latency.json]

Without --folder it trains a one-step all-heads run of the embedded model and exports it first.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer.engine import worker  # noqa: E402
from trainer.core.config import Mode, RunConfig  # noqa: E402
from trainer.data import load_eval  # noqa: E402
from trainer.core.config import DEMO_DIR  # noqa: E402
from trainer.engine.onnx import write_onnx  # noqa: E402
from trainer.models.export import export  # noqa: E402
from trainer.store import Store  # noqa: E402


def exported_folder() -> Path:
    store = Store(Path(tempfile.mkdtemp(prefix="m3-onnx-")) / "runs")
    run_id = store.create_run(RunConfig(mode=Mode.ALL, max_steps=1, eval_data=None))
    assert worker.run(store, run_id) == "completed", store.get_run(run_id).error
    return Path(export(store, run_id, store.runs_dir / "export", onnx=write_onnx)["folder"])


def per_query(model, queries: list[str]) -> list[float]:
    model.encode(queries[:2])                         # warm-up: first calls allocate
    times = []
    for q in queries:
        start = time.perf_counter()
        model.encode([q])
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", type=Path, help="an export with onnx/model.onnx (default: train and export one)")
    ap.add_argument("--queries", type=int, default=36)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "onnx_latency.json")
    ns = ap.parse_args()
    folder = ns.folder or exported_folder()
    queries = load_eval(DEMO_DIR / "eval").queries[:ns.queries]
    result = {"model": json.loads((folder / "config.json").read_text()).get("_name_or_path", str(folder)),
              "queries": len(queries), "cpu": platform.processor() or platform.machine(),
              "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    vectors = {}
    for backend in ("torch", "onnx"):
        model = SentenceTransformer(str(folder), backend=backend, device="cpu")
        times = per_query(model, queries)
        vectors[backend] = model.encode(queries)
        result[backend] = {"median_ms": round(1000 * statistics.median(times), 2),
                           "p90_ms": round(1000 * sorted(times)[int(0.9 * (len(times) - 1))], 2)}
    a, b = vectors["torch"], vectors["onnx"]
    result["min_cosine"] = float(((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min())
    result["speedup"] = round(result["torch"]["median_ms"] / result["onnx"]["median_ms"], 2)
    ns.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
