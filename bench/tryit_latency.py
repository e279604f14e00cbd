"""Try-it latency on CPU: a demo run's checkpoint and the base model through the search child
process, as the page asks: the first query (models load, corpus encoded) and then warm queries.

    .venv/bin/python bench/tryit_latency.py [--queries 10] [--out bench/results/tryit_latency.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.search_client import SearchClient  # noqa: E402
from trainer.engine import worker  # noqa: E402
from trainer.core.config import Mode, RunConfig  # noqa: E402
from trainer.data import load_eval  # noqa: E402
from trainer.core.config import DEMO_DIR  # noqa: E402
from trainer.core.model_source import resolve_model  # noqa: E402
from trainer.store import Store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=10)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tryit_latency.json")
    ns = ap.parse_args()
    store = Store(Path(tempfile.mkdtemp(prefix="m3-tryit-")) / "runs")
    run_id = store.create_run(RunConfig(mode=Mode.ALL, epochs=1))
    assert worker.run(store, run_id) == "completed"
    run = store.get_run(run_id)
    evalset = load_eval(DEMO_DIR / "eval")
    client = SearchClient(store.runs_dir / "search.log")
    common = dict(pooling="mean", unified=True, corpus=str(DEMO_DIR / "eval"), query_max_len=64, passage_max_len=128)
    models = [resolve_model("default"), str(run.folder.model)]

    def both(i: int) -> float:
        start = time.perf_counter()
        for model_dir in models:
            answer = client.ask(dict(common, model_dir=model_dir, query=evalset.queries[i], query_index=i))
            assert "error" not in answer, answer
        return time.perf_counter() - start

    first = both(0)
    warm = [both(i % len(evalset.queries)) for i in range(1, ns.queries + 1)]
    client.close()
    result = {"corpus_docs": len(evalset.docs), "first_query_s": round(first, 2),
              "warm_query_s_median": round(statistics.median(warm), 3), "warm_query_s_max": round(max(warm), 3),
              "queries": ns.queries, "note": "base and fine-tuned answered one after the other, as the page does"}
    ns.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
