"""Soak: start/stop cycles of short real runs, with a refresh storm of the Train page (AppTest)
while each run trains. Counts lost runs (not ended as stopped/completed, or missing) and lost
metric points (gaps in the per-step loss, or fewer points later than when the run ended).

    .venv/bin/python bench/soak.py [--cycles 20] [--refreshes 10] [--out bench/results/soak.json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer.jobs import launch  # noqa: E402
from trainer.core.config import Mode, RunConfig  # noqa: E402
from trainer.core.config import DEMO_DIR  # noqa: E402
from trainer.store import Store  # noqa: E402


def wait(until, seconds: float) -> bool:
    deadline = time.time() + seconds
    while not until():
        if time.time() > deadline:
            return False
        time.sleep(0.2)
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--refreshes", type=int, default=10, help="Train page reruns while each run trains")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    ns = ap.parse_args()
    from streamlit.testing.v1 import AppTest

    runs_dir = Path(tempfile.mkdtemp(prefix="m3-soak-")) / "runs"
    os.environ["M3_RUNS_DIR"] = str(runs_dir)
    store = Store(runs_dir)
    train = Path(runs_dir.parent / "train.jsonl")
    train.write_text("\n".join((DEMO_DIR / "train.jsonl").read_text().splitlines()[:16]) + "\n")
    cfg = RunConfig(mode=Mode.DENSE, train_data=str(train), eval_data=None, epochs=500, batch_size=4, group_size=2,
                    query_max_len=32, passage_max_len=64)
    rnd = random.Random(0)
    ended_counts, refresh_ms, page_errors, started = {}, [], 0, time.time()
    for cycle in range(ns.cycles):
        run_id = launch.start(store, cfg.replace(name=f"soak {cycle}"))
        want = rnd.randint(1, 4)
        wait(lambda: sum(p.name == "loss" for p in store.metrics(run_id)) >= want, 120)
        at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
        at.session_state["lang"] = "en"
        at.session_state["run_id"] = run_id
        at.run()
        at.switch_page("../pages/train.py")
        for _ in range(ns.refreshes):                    # a browser refresh storm: full reruns
            t0 = time.perf_counter()
            at.run()
            refresh_ms.append((time.perf_counter() - t0) * 1000)
            page_errors += len(at.exception)
        store.request_stop(run_id)
        wait(lambda: not store.get_run(run_id).live, 120)
        ended_counts[run_id] = len(store.metrics(run_id))
        print(f"cycle {cycle + 1}: {store.get_run(run_id).status}, {ended_counts[run_id]} points", flush=True)

    runs = {r.id: r for r in Store(runs_dir).list_runs()}          # a fresh reader, as after a restart
    lost_runs = [i for i in ended_counts if i not in runs or runs[i].status not in ("stopped", "completed")]
    lost_points, gaps = 0, 0
    for run_id, count in ended_counts.items():
        points = store.metrics(run_id)
        lost_points += max(0, count - len(points))
        steps = [p.step for p in points if p.name == "loss"]
        gaps += int(steps != list(range(1, len(steps) + 1)))
    result = {"cycles": ns.cycles, "runs_found": len(runs), "lost_runs": len(lost_runs), "lost_points": lost_points,
              "runs_with_step_gaps": gaps, "points_total": sum(len(store.metrics(i)) for i in ended_counts),
              "train_page_reruns": len(refresh_ms), "train_page_errors": page_errors,
              "rerun_ms_median": sorted(refresh_ms)[len(refresh_ms) // 2] if refresh_ms else None,
              "wall_s": round(time.time() - started, 1)}
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    ns.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
