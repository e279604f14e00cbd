"""Time to build the Train page's charts from a run with 100,000 metric points.

Measures a first load (every point read from the store) and a live refresh (new points only, as
the page's fragment does), each through the same functions the page calls.

    .venv/bin/python bench/ui_refresh.py [--points 100000]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import plotly.graph_objects as go

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import chart_data as cd  # noqa: E402
from trainer.core.config import RunConfig  # noqa: E402
from trainer.store import Store  # noqa: E402


def build_charts(df):
    loss = cd.loss_frame(df, 0.6)
    lr = cd.thin(cd.series(df, "lr"))
    mrr = cd.mrr_frame(df)
    figs = [go.Figure(go.Scatter(x=loss["step"], y=loss["value"])),
            go.Figure(go.Scatter(x=lr["step"], y=lr["value"])),
            go.Figure([go.Scatter(x=mrr["step"], y=mrr[h]) for h in cd.HEADS if h in mrr])]
    cd.progress(df, 25_000)
    return figs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=100_000)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        run_id = store.create_run(RunConfig())
        per_step = 5  # loss, lr, grad_norm, samples/s, peak memory
        steps = ns.points // per_step
        for start in range(1, steps + 1, 1000):
            with store._connect() as db:
                db.executemany("INSERT INTO metrics (run_id, step, epoch, name, value, time) VALUES (?,?,?,?,?,?)",
                               [(run_id, s, s / 1000, n, 1.0 / s, s * 0.1) for s in range(start, min(start + 1000, steps + 1))
                                for n in ("loss", "lr", "grad_norm", "samples_per_s", "peak_rss_gib")])
        for s in range(0, steps + 1, steps // 20):
            store.add_metrics(run_id, s, s / 1000, {f"{h}.mrr@10": 0.5 for h in cd.HEADS})
        total = store.metric_count(run_id)

        first, refresh = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            points = store.metrics(run_id)
            build_charts(cd.frame(points))
            first.append(time.perf_counter() - t0)
        last_id = points[-1].id
        for i in range(5):
            store.add_metrics(run_id, steps + i + 1, None, {"loss": 0.5, "lr": 1e-6})
            t0 = time.perf_counter()
            new = store.metrics(run_id, after_id=last_id)
            points = points + new
            last_id = new[-1].id
            build_charts(cd.frame(points))
            refresh.append(time.perf_counter() - t0)
    print(json.dumps({"points": total, "first_load_ms": round(statistics.median(first) * 1000, 1),
                      "live_refresh_ms": round(statistics.median(refresh) * 1000, 1)}))


if __name__ == "__main__":
    main()
