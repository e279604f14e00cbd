"""Chart data shaping: metric points -> thinned, smoothed frames. Pure pandas, no Streamlit."""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
import pandas as pd

from trainer.core.config import Mode
from trainer.core import metrics
from trainer.sizing.estimate import WARM_UP_STEPS
from trainer.core.metrics import Metric

HEADS = ("dense", "sparse", "colbert", "hybrid")
MAX_POINTS = 2000
MODE_COLORS = {"all": "#2563eb", "heads": "#d97706", "dense": "#059669"}
HEAD_COLORS = {"dense": "#059669", "sparse": "#d97706", "colbert": "#7c3aed", "hybrid": "#2563eb"}
COLUMNS = ["id", "step", "epoch", "name", "value", "time"]


def frame(points: Iterable) -> pd.DataFrame:
    """Store points (tuples of id, step, epoch, name, value, time) -> one long DataFrame."""
    return pd.DataFrame.from_records(list(points), columns=COLUMNS)


def series(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """step/value/epoch/time of one metric, ordered by step."""
    out = df.loc[df["name"] == name, ["step", "epoch", "value", "time"]]
    return out.sort_values("step", kind="stable").reset_index(drop=True)


def thin(df: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """At most ~max_points rows, evenly strided; the last row is always kept."""
    if len(df) <= max_points:
        return df
    stride = int(np.ceil(len(df) / max_points))
    keep = np.zeros(len(df), dtype=bool)
    keep[::stride] = True
    keep[-1] = True
    return df.loc[keep].reset_index(drop=True)


SMOOTHING = 0.6     # TensorBoard's default smoothing weight: the Train page's slider starts here, Compare uses it


def smooth(values: pd.Series, weight: float) -> pd.Series:
    """TensorBoard-style exponential moving average (weight 0 = raw), debiased at the start."""
    if weight <= 0 or values.empty:
        return values.astype(float)
    ema = values.astype(float).ewm(alpha=1 - weight, adjust=True).mean()
    return ema


def loss_frame(df: pd.DataFrame, weight: float, max_points: int = MAX_POINTS) -> pd.DataFrame:
    loss = series(df, Metric.LOSS)
    loss["smoothed"] = smooth(loss["value"], weight).to_numpy()
    return thin(loss, max_points)


def mrr_frame(df: pd.DataFrame, metric: str = metrics.MRR) -> pd.DataFrame:
    """One row per evaluation (step), one column per head that the run evaluates."""
    names = [f"{h}.{metric}" for h in HEADS]
    sub = df.loc[df["name"].isin(names), ["step", "epoch", "name", "value"]]
    if sub.empty:
        return pd.DataFrame(columns=["step", "epoch"])
    wide = sub.pivot_table(index=["step"], columns="name", values="value", aggfunc="last")
    wide.columns = [c.split(".")[0] for c in wide.columns]
    epochs = sub.groupby("step")["epoch"].last()
    wide.insert(0, "epoch", epochs)
    return wide.reset_index()[["step", "epoch"] + [h for h in HEADS if h in wide.columns]]


def mrr_range(values: pd.Series) -> list[float]:
    """A y range for one head's MRR@10: its data with some room, at least 0.1 tall, within 0-1."""
    low, high = float(values.min()), float(values.max())
    pad = max(0.05, (high - low) * 0.25)
    low, high = max(0.0, low - pad), min(1.0, high + pad)
    return [low, high] if high > low else [0.0, 1.0]


def latest(df: pd.DataFrame, name: str) -> Optional[float]:
    sub = df.loc[df["name"] == name, "value"]
    return None if sub.empty else float(sub.iloc[-1])


WINDOW_STEPS = 30     # the time left is reckoned at the pace of the run's last steps (the machine's load changes)


def progress(df: pd.DataFrame, total_steps: Optional[int], epochs: Optional[int] = None) -> tuple[float, Optional[float]]:
    """(fraction done, seconds left): the steps left at the pace of the run's last WINDOW_STEPS steps (its first
    WARM_UP_STEPS left out once it has more: allocations make them slow; the validations inside left out of the
    pace), plus, with `epochs`, the epoch ends' validations not made yet, each at its last validation's time (the
    held-out test after the last reuses its passages: seconds; trainer.estimate reckons the same way)."""
    loss = df.loc[df["name"] == Metric.LOSS, ["step", "epoch", "time"]]
    if not total_steps or loss.empty:
        return 0.0, None
    step = int(loss["step"].max())
    fraction = min(1.0, step / total_steps)
    paced = loss.iloc[WARM_UP_STEPS:] if len(loss) > 2 * WARM_UP_STEPS else loss
    paced = paced.iloc[-WINDOW_STEPS - 1:]
    first, last = paced.iloc[0], paced.iloc[-1]
    done_steps = int(last["step"]) - int(first["step"])
    if done_steps <= 0:
        return fraction, None
    evals = df.loc[df["name"] == Metric.EVAL_SECONDS, ["step", "value"]]
    inside = float(evals.loc[(evals["step"] >= first["step"]) & (evals["step"] < last["step"]), "value"].sum())
    pace = max(0.0, float(last["time"]) - float(first["time"]) - inside) / done_steps
    left = (total_steps - step) * pace
    if epochs and not evals.empty:
        left += max(0, epochs - int((evals["step"] > 0).sum())) * float(evals["value"].iloc[-1])
    return fraction, max(0.0, left)


def summary(run, stored) -> dict:
    """A run's row in the Runs and Compare tables from its stored summary (trainer.store.Summary): the
    main head's MRR@10 at step 0, at its best and when that was reached, at the end (the kept model: what
    verdicts compare), duration, throughput, memory."""
    score = stored.scores.get(Mode(run.mode).main_score)
    start = run.started or run.created
    out = {"run": run.name, "id": run.id, "mode": run.mode, "status": run.status,
           "baseline_mrr": score.first if score else None, "best_mrr": score.best if score else None,
           "final_mrr": score.final if score else None,
           "time_to_best_s": max(0.0, score.best_time - start) if score else None,
           "duration_s": stored.duration_s, "samples_per_s": stored.samples_per_s, "peak_mem_gib": stored.peak_mem_gib}
    out["heads"] = {}                 # per head: step-0 and best MRR@10, and when the best came
    for h in HEADS:
        s = stored.scores.get(metrics.score(h))
        if s is not None:
            out["heads"][h] = {"baseline": s.first, "best": s.best, "final": s.final,
                               "time_to_best_s": max(0.0, s.best_time - start)}
    return out


def stacked(breakdowns: dict[str, dict[str, float]]) -> dict[str, list[float]]:
    """{bar: {part: GiB}} -> {part: [GiB per bar]} for a stacked bar chart; parts that are zero in
    every bar are left out."""
    parts = list(dict.fromkeys(p for b in breakdowns.values() for p in b))
    out = {p: [float(b.get(p, 0.0)) for b in breakdowns.values()] for p in parts}
    return {p: v for p, v in out.items() if any(v)}


TEST_METRICS = metrics.AT_K


def test_before_after(df: pd.DataFrame) -> pd.DataFrame:
    """The held-out test split: one row per head and metric with `before` (step 0) and `after` (the
    end of training; NaN while the run goes on), from points named test.<head>.<metric>."""
    rows = []
    sub = df.loc[df["name"].str.startswith(metrics.TEST), ["step", "name", "value"]]
    if sub.empty:
        return pd.DataFrame(columns=["head", "metric", "before", "after"])
    first, last = sub["step"].min(), sub["step"].max()
    for head in HEADS:
        for metric in TEST_METRICS:
            points = sub.loc[sub["name"] == metrics.test(metrics.score(head, metric))].sort_values("step", kind="stable")
            if points.empty:
                continue
            after = points["value"].iloc[-1] if last > first and points["step"].iloc[-1] == last else np.nan
            rows.append({"head": head, "metric": metric, "before": points["value"].iloc[0], "after": after})
    return pd.DataFrame(rows)
