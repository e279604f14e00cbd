"""Does the settings search (trainer.sweep, issue 30) beat the suggestion? For each data set: one run at the
suggested settings (Configure's defaults: the suggested learning rate, 5 epochs, all heads) and one study over
mode, learning rate and epochs, both on the same held-out split (the same seed splits the same way); the
winner's held-out test score against the single run's, on the dense head (both have it) and on each one's main
head, with the paired-bootstrap verdict over the test questions (trainer.verdict), and the wall times.

    python bench/sweep.py --data scifact=../shared/data/scifact/train.jsonl \\
        --data cmrc2018=../shared/data/cmrc2018/train.jsonl --trials 6 --budget-minutes 6 \\
        --out bench/results/sweep_h200.json

Everything goes through the command line (`python -m trainer train` and `python -m trainer sweep --json`), as a
user would run it; each data set gets a fresh runs folder under --work."""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer.store import query_ranks  # noqa: E402
from trainer.core import verdict  # noqa: E402
from trainer.store import Store  # noqa: E402


def trainer(args: list[str], log: Path) -> tuple[int, str, float]:
    started = time.perf_counter()
    with open(log, "a") as err:
        done = subprocess.run([sys.executable, "-m", "trainer", *args], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=err, text=True)
    return done.returncode, done.stdout, time.perf_counter() - started


def test_scores(store: Store, run_id: str) -> dict:
    """The run's held-out test after training: {metric: value} at its last step, and the per-question ranks."""
    points = [p for p in store.metrics(run_id, prefix="test.") if p.name.endswith("mrr@10")]
    last = max(p.step for p in points)
    ranks = query_ranks.load(store.get_run(run_id).folder.root, query_ranks.TEST_FILE)
    return {"after": {p.name: round(p.value, 4) for p in points if p.step == last},
            "before": {p.name: round(p.value, 4) for p in points if p.step == 0}, "ranks": ranks[-1]["ranks"]}


def one_set(name: str, path: str, ns, work: Path) -> dict:
    runs = work / name
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    log = runs / "bench.log"
    common = ["--train-data", path, "--eval-data", "split", "--model", ns.model, "--runs-dir", str(runs)]
    if ns.max_steps > 0:             # a quick check of the bench itself
        common += ["--max-steps", str(ns.max_steps)]
    code, out, single_s = trainer(["train", *common, "--mode", "all"], log)
    store = Store(runs)
    single = store.list_runs()[0]
    if code != 0:
        return {"name": name, "error": f"single run {single.status}: {single.error}"}
    study_args = ["sweep", *common, "--modes", ns.modes, "--trials", str(ns.trials), "--budget-minutes",
                  str(ns.budget_minutes), "--study", "bench", "--json"]
    code, out, sweep_s = trainer(study_args, log)
    if code != 0:
        return {"name": name, "error": f"sweep exited {code}", "log": log.read_text()[-2000:]}
    study = json.loads(out.strip().splitlines()[-1])
    best = study["best"]
    a, b = test_scores(store, single.id), test_scores(store, best["run_id"])
    dense = verdict.paired(a["ranks"]["dense"], b["ranks"]["dense"])
    cfg = single.config
    return {
        "name": name, "rows": sum(1 for _ in open(path, encoding="utf-8")),
        "single": {"run_id": single.id, "mode": cfg.mode.value, "learning_rate": cfg.learning_rate, "epochs": cfg.epochs,
                   "status": single.status, "wall_s": round(single_s, 1), "test_before": a["before"],
                   "test_after": a["after"]},
        "sweep": {"trials": [{k: t[k] for k in ("number", "mode", "learning_rate", "epochs", "status", "val_score")}
                             for t in study["trials"]],
                  "best": {k: best[k] for k in ("number", "run_id", "mode", "learning_rate", "epochs", "val_score",
                                                "metric", "test_score", "test_score_before")},
                  "best_test_after": b["after"], "suggested_learning_rate": study["suggested_learning_rate"],
                  "best_range": study.get("best_range"), "suggestion_within": study.get("suggestion_within"),
                  "wall_s": round(sweep_s, 1), "spent_s": study["spent_s"]},
        "dense_test_single": a["after"].get("test.dense.mrr@10"), "dense_test_best": b["after"].get("test.dense.mrr@10"),
        "dense_verdict": None if dense is None else {"word": dense.word, "diff": round(dense.diff, 4),
                                                     "low": round(dense.low, 4), "high": round(dense.high, 4),
                                                     "questions": dense.questions},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", action="append", required=True, help="NAME=PATH of a training file (repeatable)")
    parser.add_argument("--model", default="default")
    parser.add_argument("--modes", default="all,dense")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--budget-minutes", type=float, default=6.0)
    parser.add_argument("--max-steps", type=int, default=-1, help="every run this many steps (a quick check)")
    parser.add_argument("--work", default="/tmp/bench-sweep")
    parser.add_argument("--out", required=True)
    ns = parser.parse_args()
    try:
        import torch
        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    except ImportError:
        device = "unknown"
    result = {"device": device, "model": ns.model, "modes": ns.modes, "trials": ns.trials,
              "budget_minutes": ns.budget_minutes, "datasets": []}
    out = Path(ns.out)
    if out.is_file():                    # one data set per call: the file gathers them
        result["datasets"] = [d for d in json.loads(out.read_text())["datasets"]
                              if d["name"] not in {x.split("=")[0] for x in ns.data}]
    out.parent.mkdir(parents=True, exist_ok=True)
    for item in ns.data:
        name, path = item.split("=", 1)
        result["datasets"].append(one_set(name, path, ns, Path(ns.work)))
        print(json.dumps(result["datasets"][-1], indent=1), flush=True)
        out.write_text(json.dumps(result, indent=1))      # after each data set: a call cut short keeps what ended


if __name__ == "__main__":
    main()
