"""Chart data shaping: metric points -> thinned, smoothed frames. Pure pandas, no Streamlit."""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
import pandas as pd

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


def smooth(values: pd.Series, weight: float) -> pd.Series:
    """TensorBoard-style exponential moving average (weight 0 = raw), debiased at the start."""
    if weight <= 0 or values.empty:
        return values.astype(float)
    ema = values.astype(float).ewm(alpha=1 - weight, adjust=True).mean()
    return ema


def loss_frame(df: pd.DataFrame, weight: float, max_points: int = MAX_POINTS) -> pd.DataFrame:
    loss = series(df, "loss")
    loss["smoothed"] = smooth(loss["value"], weight).to_numpy()
    return thin(loss, max_points)


def mrr_frame(df: pd.DataFrame, metric: str = "mrr@10") -> pd.DataFrame:
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


def progress(df: pd.DataFrame, total_steps: Optional[int]) -> tuple[float, Optional[float]]:
    """(fraction done, seconds left estimated from the pace so far)."""
    loss = df.loc[df["name"] == "loss", ["step", "time"]]
    if not total_steps or loss.empty:
        return 0.0, None
    step = int(loss["step"].max())
    fraction = min(1.0, step / total_steps)
    first, last = loss.iloc[0], loss.iloc[-1]
    done_steps = step - int(first["step"])
    if done_steps <= 0:
        return fraction, None
    pace = (float(last["time"]) - float(first["time"])) / done_steps
    return fraction, max(0.0, (total_steps - step) * pace)


def summary(run, df: pd.DataFrame) -> dict:
    """Best main-head MRR@10, when it was reached, duration, throughput and peak memory of a run."""
    main = "dense" if run.mode == "dense" else "hybrid"
    mrr = series(df, f"{main}.mrr@10")
    start = run.started or run.created
    end = run.ended or (float(df["time"].max()) if not df.empty else start)
    out = {"run": run.name, "id": run.id, "mode": run.mode, "status": run.status,
           "baseline_mrr": None, "best_mrr": None, "time_to_best_s": None,
           "duration_s": max(0.0, end - start), "samples_per_s": None, "peak_mem_gib": None}
    if not mrr.empty:
        best = mrr.loc[mrr["value"].idxmax()]
        out.update(baseline_mrr=float(mrr["value"].iloc[0]), best_mrr=float(best["value"]),
                   time_to_best_s=max(0.0, float(best["time"]) - start))
    out["heads"] = {}                 # per head: step-0 and best MRR@10, and when the best came
    for h in HEADS:
        s = series(df, f"{h}.mrr@10")
        if not s.empty:
            best = s.loc[s["value"].idxmax()]
            out["heads"][h] = {"baseline": float(s["value"].iloc[0]), "best": float(best["value"]),
                               "time_to_best_s": max(0.0, float(best["time"]) - start)}
    sps = series(df, "samples_per_s")
    if not sps.empty:
        out["samples_per_s"] = float(sps["value"].median())
    for name in ("peak_gpu_mem_gib", "peak_rss_gib"):
        mem = series(df, name)
        if not mem.empty:
            out["peak_mem_gib"] = float(mem["value"].max())
    return out


def stacked(breakdowns: dict[str, dict[str, float]]) -> dict[str, list[float]]:
    """{bar: {part: GiB}} -> {part: [GiB per bar]} for a stacked bar chart; parts that are zero in
    every bar are left out."""
    parts = list(dict.fromkeys(p for b in breakdowns.values() for p in b))
    out = {p: [float(b.get(p, 0.0)) for b in breakdowns.values()] for p in parts}
    return {p: v for p, v in out.items() if any(v)}
