"""Months of use: the Runs, Compare and Train pages against a store of 1,000 runs × 2,000 steps.

Builds a synthetic store through the store's own calls (create_run, set_status: each run is
summarised when it ends), with loss and LR at every step and per-head MRR@10 every --eval-every
steps (dense mode evaluates dense only), then times each page under AppTest: opening it (the page
switch of a session that is already open: main.py and the page script run once) and rerunning it
(the same script run again with nothing changed), medians over --repeats, by the wall clock and
by this process's CPU time. Before that, the Runs page is opened once with every summary removed:
what the first sight of a store from before summaries costs. Prints one JSON object; the store's
size on disk is in it.

    .venv/bin/python bench/many_runs.py [--runs 1000] [--steps 2000] [--eval-every 100]
        [--store DIR (kept, and reused when it is already built)] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from app.chart_data import HEADS  # noqa: E402
from trainer.core.config import Mode, RunConfig  # noqa: E402
from trainer.store import COMPLETED, RUNNING, Store  # noqa: E402

MAIN = str(ROOT / "app" / "main.py")
PAGES = ("runs", "compare", "train")
MODES = (Mode.ALL, Mode.HEADS, Mode.DENSE)


def build(store: Store, runs: int, steps: int, eval_every: int) -> dict:
    """`runs` completed runs; returns the build time and the median time of the summary at a run's end."""
    started = time.perf_counter()
    at_end = []
    for n in range(runs):
        mode = MODES[n % len(MODES)]
        run_id = store.create_run(RunConfig(mode=mode, name=f"{mode.value} sweep {n}"))
        store.set_status(run_id, RUNNING)
        t0 = time.time()
        heads = ("dense",) if mode is Mode.DENSE else HEADS
        rows = [(run_id, 0, 0.0, "total_steps", float(steps), t0)]
        for s in range(steps + 1):
            if s % eval_every == 0 or s == steps:
                rows += [(run_id, s, s / steps, f"{h}.mrr@10", 0.5 + 0.3 * s / steps - 0.05 * k, t0 + s * 0.3)
                         for k, h in enumerate(heads)]
            if s:
                rows += [(run_id, s, s / steps, "loss", 2.0 / (1 + s / 100), t0 + s * 0.3),
                         (run_id, s, s / steps, "lr", 1e-5 * min(1.0, s / 100), t0 + s * 0.3)]
        with sqlite3.connect(store.path) as db:
            db.executemany("INSERT INTO metrics (run_id, step, epoch, name, value, time) VALUES (?, ?, ?, ?, ?, ?)", rows)
        t1 = time.perf_counter()
        store.set_status(run_id, COMPLETED)
        at_end.append(time.perf_counter() - t1)
    with sqlite3.connect(store.path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"build_s": round(time.perf_counter() - started, 1),
            "summary_at_end_ms_median": round(statistics.median(at_end) * 1000, 2)}


def timed(at: AppTest) -> tuple[float, float]:
    """(wall, CPU) seconds of one script run: on a shared machine the CPU time of this process (the
    script thread and AppTest's own work) says what the page costs when the wall clock is stretched."""
    wall, cpu = time.perf_counter(), time.process_time()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return time.perf_counter() - wall, time.process_time() - cpu


def open_and_rerun(page: str, reruns: int) -> tuple[tuple[float, float], list[tuple[float, float]]]:
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.session_state["lang"] = "en"
    at.run()                                  # the session's first page (Configure), not counted
    at.switch_page(f"../pages/{page}.py")
    return timed(at), [timed(at) for _ in range(reruns)]


def measure(store: Store, repeats: int, reruns: int) -> dict:
    with sqlite3.connect(store.path) as db:
        db.execute("DELETE FROM summaries")     # as a store from before summaries
    (wall, cpu), _ = open_and_rerun("runs", 0)
    out = {"runs_first_sight_open_s": round(wall, 3), "runs_first_sight_open_cpu_s": round(cpu, 3)}
    for page in PAGES:
        opens, rerun_times = [], []
        for _ in range(repeats):
            opened, times = open_and_rerun(page, reruns)
            opens.append(opened)
            rerun_times += times
        out[page] = {"open_s_median": round(statistics.median(w for w, _ in opens), 3),
                     "open_s": [round(w, 3) for w, _ in opens],
                     "open_cpu_s_median": round(statistics.median(c for _, c in opens), 3),
                     "rerun_ms_median": round(statistics.median(w for w, _ in rerun_times) * 1000, 1),
                     "rerun_ms_max": round(max(w for w, _ in rerun_times) * 1000, 1),
                     "rerun_cpu_ms_median": round(statistics.median(c for _, c in rerun_times) * 1000, 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3, help="page opens per page")
    ap.add_argument("--reruns", type=int, default=5, help="reruns after each open")
    ap.add_argument("--store", help="keep the store here (reused when it already holds --runs runs)")
    ap.add_argument("--out", help="also write the JSON here")
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(ns.store or tmp)
        store = Store(runs_dir)
        result = {"run_count": ns.runs, "steps": ns.steps, "eval_every": ns.eval_every, "cpus": os.cpu_count(),
                  "load_avg_1m_before": round(os.getloadavg()[0], 2)}
        if store.count_runs() != ns.runs:
            if store.count_runs():
                sys.exit(f"{runs_dir} holds {store.count_runs()} runs, not {ns.runs}: give an empty or new --store")
            result.update(build(store, ns.runs, ns.steps, ns.eval_every))
        with sqlite3.connect(store.path) as db:
            result["points"] = db.execute("SELECT COUNT(*) FROM metrics").fetchone()[0]
        result["store_mib"] = round(sum(p.stat().st_size for p in runs_dir.glob("runs.db*")) / 2**20, 1)
        os.environ["M3_RUNS_DIR"] = str(runs_dir)
        result.update(measure(store, ns.repeats, ns.reruns))
        result["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    text = json.dumps(result)
    print(text)
    if ns.out:
        Path(ns.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
