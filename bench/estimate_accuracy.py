"""Configure's time estimate against the run's real duration, on data sets and lengths it was not tuned on,
with the run it is scaled from measured on idle cores and while two busy processes shared them.

For each mode used, a source run (the demo, 1 epoch, every default) trains twice: once alone, once beside two
processes that spin a core each. Then each target trains alone, from Start (launch.start, the page's path) to
its end, and its duration (created → ended, what the user waits) is set against the estimate Configure shows
before Start (trainer.estimate.for_run) from either source. The targets' own points replay the Train page's
time left (app.chart_data.progress) at every step past its first minute, against the time they really had
left. Last, a speed check as Configure runs it (stopped once it has stepped estimate.SPEED_BUDGET_S) against
the time the button promises.

    python bench/estimate_accuracy.py [--out bench/results/estimate_accuracy_cpu.json] [--keep DIR]
    python bench/estimate_accuracy.py --reuse DIR --busy 6 --out bench/results/estimate_accuracy_cpu_busy6.json
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import chart_data  # noqa: E402
from trainer.sizing import estimate  # noqa: E402
from trainer.jobs import launch  # noqa: E402
from trainer.core.config import DEMO_DATA, SPLIT, Mode, RunConfig  # noqa: E402
from trainer.core.metrics import Metric  # noqa: E402
from trainer.store import Store  # noqa: E402
from trainer.sizing.suggest import with_suggestions  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def pairs_csv(rows: int, path: Path) -> Path:
    """SciFact claims and their abstracts' first 600 characters as a question,answer CSV (English: the
    embedded model reads it): what a user brings, no negatives (they are mined)."""
    source = [json.loads(x) for x in (SHARED / "scifact" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["question", "answer"])
        for r in source[:rows]:
            out.writerow([r["query"], r["pos"][0][:600]])
    return path


def long_jsonl(rows: int, path: Path) -> Path:
    """SciFact rows with their negatives, whole abstracts (~300 tokens)."""
    lines = (SHARED / "scifact" / "train.jsonl").read_text(encoding="utf-8").splitlines()[:rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def train(store: Store, cfg: RunConfig, limit: float = 3600) -> str:
    run_id = launch.start(store, cfg)
    deadline = time.time() + limit
    while store.get_run(run_id).live and time.time() < deadline:
        time.sleep(0.5)
    run = store.get_run(run_id)
    assert run.status == "completed", (run.status, run.error)
    return run_id


def busy(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def eta_errors(store: Store, run_id: str, cfg: RunConfig) -> dict:
    """The Train page's time left at each training step past the first minute, against the time really left."""
    run = store.get_run(run_id)
    points = store.metrics(run_id)
    df = chart_data.frame(points)
    total = int(chart_data.latest(df, Metric.TOTAL_STEPS))
    errors = []
    for p in points:
        if p.name != Metric.LOSS or p.time - run.created < 60:
            continue
        upto = df.loc[df["time"] <= p.time]
        _, left = chart_data.progress(upto, total, cfg.epochs if cfg.eval_data else None)
        truth = run.ended - p.time
        if left is not None and truth > 5:
            errors.append((left - truth) / truth)
    return {"points": len(errors), "worst": max(errors, key=abs) if errors else None}


def reuse(folder: Path, busy_n: int, out: Path) -> None:
    """Sources measured beside `busy_n` busy processes, then the estimates of the targets a --keep run left in
    `folder` (trained alone) against their actual durations: a heavier load without training the targets again."""
    store = Store(folder / f"loaded{busy_n}")
    rows = []
    for mode in (Mode.DENSE, Mode.ALL):
        cfg = with_suggestions(RunConfig(mode=mode, train_data=DEMO_DATA, epochs=1), set(), store)
        spinners = busy(busy_n)
        try:
            run_id = train(store, cfg)
        finally:
            for s in spinners:
                s.kill()
                s.wait()
        m = estimate.measure(store, store.get_run(run_id))
        print(json.dumps({"source": mode.value, "busy": busy_n, "step_s": round(m.step_s, 3),
                          "slowed": round(m.slowed, 2)}), flush=True)
    targets = Store(folder / "targets")
    for run in targets.list_runs(status=("completed",)):
        cfg = run.config
        guess = estimate.for_run(store, cfg, estimate.training_rows(store, cfg)[0])
        actual = run.ended - run.created
        rows.append({"mode": run.mode, "train_data": Path(cfg.train_data).name, "passage_max_len": cfg.passage_max_len,
                     "epochs": cfg.epochs, "actual_s": round(actual, 1), "estimate_s": round(guess.seconds, 1),
                     "error": round(guess.seconds / actual - 1, 3), "source_slowed": round(guess.slowed, 2)})
        print(json.dumps(rows[-1]), flush=True)
    out.write_text(json.dumps({"device": f"CPU, {os.cpu_count()} cores", "busy": busy_n, "targets": rows}, indent=1)
                   + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "estimate_accuracy_cpu.json"))
    parser.add_argument("--busy", type=int, default=2, help="busy processes beside the loaded source")
    parser.add_argument("--keep", help="keep the runs (the stores) in this folder")
    parser.add_argument("--reuse", help="a --keep folder: only measure sources beside --busy processes and "
                                        "estimate its targets again")
    ns = parser.parse_args()
    if ns.reuse:
        return reuse(Path(ns.reuse), ns.busy, Path(ns.out))
    result: dict = {"device": f"CPU, {os.cpu_count()} cores", "load_before": os.getloadavg()[0], "sources": [],
                    "targets": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(ns.keep or tmp)
        stores = {"idle": Store(tmp / "idle"), "loaded": Store(tmp / "loaded")}
        target_store = Store(tmp / "targets")
        csv_path, long_path = pairs_csv(300, tmp / "pairs.csv"), long_jsonl(100, tmp / "scifact100.jsonl")
        # the sources: the demo, 1 epoch, as Configure starts it
        for mode in (Mode.DENSE, Mode.ALL):
            for load, store in stores.items():
                cfg = with_suggestions(RunConfig(mode=mode, train_data=DEMO_DATA, epochs=1), set(), store)
                spinners = busy(ns.busy) if load == "loaded" else []
                try:
                    run_id = train(store, cfg)
                finally:
                    for s in spinners:
                        s.kill()
                        s.wait()
                run = store.get_run(run_id)
                m = estimate.measure(store, run)
                result["sources"].append({"mode": mode.value, "load": load, "seconds": round(run.ended - run.created, 1),
                                          "step_s": round(m.step_s, 3), "slowed": round(m.slowed, 2),
                                          "load_1min_at_end": os.getloadavg()[0]})
                print(json.dumps(result["sources"][-1]), flush=True)
        targets = [
            ("demo, 2 epochs", Mode.DENSE, RunConfig(train_data=DEMO_DATA, epochs=2)),
            ("300 pairs CSV, held-out split", Mode.DENSE, RunConfig(train_data=str(csv_path), eval_data=SPLIT, epochs=1)),
            ("300 pairs CSV, held-out split", Mode.ALL, RunConfig(train_data=str(csv_path), eval_data=SPLIT, epochs=1)),
            ("SciFact 100 rows with negatives, held-out split, 256-token passages", Mode.DENSE,
             RunConfig(train_data=str(long_path), eval_data=SPLIT, epochs=1, passage_max_len=256)),
        ]
        for name, mode, base in targets:
            cfg = with_suggestions(base.replace(mode=mode), {"passage_max_len"} if base.passage_max_len != 128 else set(),
                                   target_store)
            guesses = {}
            for load, store in stores.items():
                rows = estimate.training_rows(store, cfg)[0]
                guesses[load] = estimate.for_run(store, cfg, rows)
            run_id = train(target_store, cfg)
            run = target_store.get_run(run_id)
            actual = run.ended - run.created
            row = {"data": name, "mode": mode.value, "passage_max_len": cfg.passage_max_len, "epochs": cfg.epochs,
                   "actual_s": round(actual, 1), "started_after_s": round((run.started or run.created) - run.created, 1),
                   "eta": eta_errors(target_store, run_id, cfg), "load_1min_at_end": os.getloadavg()[0],
                   # the target's own clock over its compute (trainer.estimate): 1 = it had the cores alone
                   "target_slowed": round(estimate.measure(target_store, run).slowed, 2)}
            for load, g in guesses.items():
                row[f"estimate_{load}_source_s"] = round(g.seconds, 1)
                row[f"error_{load}_source"] = round(g.seconds / actual - 1, 3)
            result["targets"].append(row)
            print(json.dumps(row), flush=True)
        # the speed check as Configure runs it, against what its button promises
        cfg = with_suggestions(RunConfig(mode=Mode.DENSE, train_data=str(csv_path), eval_data=SPLIT), set(), target_store)
        promised = estimate.speed_check_seconds(target_store, cfg)
        speed = Store(target_store.runs_dir / estimate.SPEED_DIR)
        started = time.time()
        run_id = launch.start(speed, estimate.speed_check_config(cfg))
        while speed.get_run(run_id).live:
            if estimate.speed_check_done(speed, run_id):
                speed.request_stop(run_id)
            time.sleep(0.5)
        result["speed_check"] = {"promised_s": round(promised, 1), "took_s": round(time.time() - started, 1),
                                 "status": speed.get_run(run_id).status,
                                 "promised_next_s": round(estimate.speed_check_seconds(target_store, cfg), 1)}
        print(json.dumps(result["speed_check"]), flush=True)
    result["load_after"] = os.getloadavg()[0]
    Path(ns.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"written {ns.out}")


if __name__ == "__main__":
    main()
