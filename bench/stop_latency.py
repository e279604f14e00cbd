"""How long Stop takes to end a background run on this machine, and how the run's time compares with the
estimate Configure showed before Start (trainer.estimate).

A pairs file (query, answer: no negatives) trains as a user's own file does from Configure: held-out split,
mined negatives, the data-aware lengths, the embedded model, all heads. The run starts in the background
(trainer.launch.start, the page's path); after --stop-after training steps the script asks it to stop (the
Stop button's store flag) and times until the run is no longer live. A second run of the demo with every
default goes to its end: its duration against the estimate made from the first run's steps, and the Train
page's ETA after its first epoch against the time it really took.

    python bench/stop_latency.py [--rows 400] [--stop-after 3] [--out bench/results/stop_latency_cpu.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import chart_data  # noqa: E402
from trainer.sizing import estimate  # noqa: E402
from trainer.jobs import launch  # noqa: E402
from trainer.core.config import Mode, RunConfig, SPLIT  # noqa: E402
from trainer.store import Store  # noqa: E402
from trainer.sizing.suggest import with_suggestions  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def pairs_csv(rows: int, path: Path) -> Path:
    """CMRC questions and their paragraphs (Chinese) as a question,answer CSV: what a user brings."""
    import csv

    source = [json.loads(x) for x in (SHARED / "cmrc2018" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["question", "answer"])
        for r in source[:rows]:
            out.writerow([r["query"], r["pos"][0]])
    return path


def wait(store: Store, run_id: str, until, limit: float = 3600) -> None:
    deadline = time.time() + limit
    while time.time() < deadline:
        if until(store.get_run(run_id)):
            return
        time.sleep(0.2)
    raise TimeoutError(run_id)


def losses(store: Store, run_id: str) -> list:
    return [p for p in store.metrics(run_id) if p.name == "loss"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--stop-after", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "stop_latency_cpu.json"))
    parser.add_argument("--stop-only", action="store_true", help="only the stop measurement (its log printed)")
    ns = parser.parse_args()
    result: dict = {"device": f"CPU, {os.cpu_count()} cores"}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "runs")
        csv_path = pairs_csv(ns.rows, Path(tmp) / "pairs.csv")
        cfg = with_suggestions(RunConfig(mode=Mode.ALL, train_data=str(csv_path), eval_data=SPLIT), set(), store)
        run_id = launch.start(store, cfg)
        wait(store, run_id, lambda r: len(losses(store, run_id)) >= ns.stop_after or not r.live)
        clicked = time.time()
        store.request_stop(run_id)
        wait(store, run_id, lambda r: not r.live)
        run = store.get_run(run_id)
        result["stop"] = {"rows": ns.rows, "passage_max_len": cfg.passage_max_len, "status": run.status,
                          "steps_before_stop": len(losses(store, run_id)),
                          "seconds_to_end": round(time.time() - clicked, 1), "note": run.error}
        if ns.stop_only:
            print(time.strftime("%H:%M:%S", time.localtime(clicked)), "clicked")
            print(run.folder.log.read_text()[-1500:])
            print(json.dumps(result, indent=1))
            return

        demo = RunConfig(mode=Mode.ALL)
        before = estimate.for_run(store, demo, estimate.training_rows(store, demo)[0])
        run_id = launch.start(store, demo)
        started = time.time()
        eta_after_epoch = None
        while store.get_run(run_id).live:
            points = store.metrics(run_id)
            total = next((p.value for p in points if p.name == "total_steps"), None)
            steps = [p for p in points if p.name == "loss"]
            if eta_after_epoch is None and total and steps and steps[-1].epoch >= 1.0:
                # what the Train page shows at this moment (app.chart_data.progress)
                _, eta = chart_data.progress(chart_data.frame(points), int(total), demo.epochs)
                eta_after_epoch = {"at_s": round(time.time() - started, 1), "eta_s": round(eta, 1)}
            time.sleep(0.5)
        took = time.time() - started
        result["demo"] = {"status": store.get_run(run_id).status, "seconds": round(took, 1),
                          "estimate_s": round(before.seconds, 1) if before else None,
                          "estimate_error": round(before.seconds / took - 1, 3) if before else None,
                          "estimate_from": before.source if before else None,
                          "eta_after_first_epoch": eta_after_epoch,
                          "eta_error": round((eta_after_epoch["at_s"] + eta_after_epoch["eta_s"]) / took - 1, 3)
                          if eta_after_epoch else None}
    Path(ns.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
