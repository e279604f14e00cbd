"""Overlay runs: loss, LR, MRR per head, throughput and memory, one colour per mode."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import chart_data as cd
from app.ui import fmt_duration, get_store, line_figure, mode_color, mode_name, run_points, runs_or_stop, status_name, labels, t

store = get_store()
st.title(t("compare.title"))
runs = runs_or_stop(store)
by_id = {r.id: r for r in runs}
modes = labels("mode.{}.title")     # bound once: a thousand runs, three modes
latest_per_mode = list({r.mode: r.id for r in reversed(runs)}.values())  # runs are newest first
picked = st.multiselect(t("compare.pick"), list(by_id), default=latest_per_mode,
                        format_func={i: f"{r.name} · {modes(r.mode)}" for i, r in by_id.items()}.get, key="compare_pick")
head = st.selectbox(t("compare.head"), cd.HEADS, index=0, format_func=labels("head.{}"), key="compare_head")
if not picked:
    st.stop()

frames = {i: run_points(store, i) for i in picked}
dashes = ["solid", "dash", "dot", "dashdot", "longdash"]
charts = [("loss", t("chart.loss")), ("lr", t("chart.lr")), (f"{head}.mrr@10", t("chart.mrr_head", head=t(f"head.{head}"))),
          ("samples_per_s", t("train.samples_per_s"))]
cols = st.columns(2)
for n, (metric, title) in enumerate(charts):
    fig = line_figure(title, title)
    for k, run_id in enumerate(picked):
        run = by_id[run_id]
        s = cd.thin(cd.series(frames[run_id], metric))
        if metric == "loss":
            s["value"] = cd.smooth(s["value"], 0.6).to_numpy()
        fig.add_trace(go.Scatter(x=s["step"], y=s["value"], name=run.name, mode="lines+markers" if "mrr" in metric else "lines",
                                 line=dict(color=mode_color(run.mode), dash=dashes[k % len(dashes)])))
    cols[n % 2].plotly_chart(fig, width="stretch", key=f"cmp_{metric}")

rows = []
summaries = store.summaries(picked)
for run_id in picked:
    s = cd.summary(by_id[run_id], summaries[run_id])
    rows.append({t("compare.col.run"): s["run"], t("compare.col.mode"): mode_name(s["mode"]),
                 t("compare.col.status"): status_name(s["status"]),
                 t("compare.col.baseline"): s["baseline_mrr"], t("compare.col.best"): s["best_mrr"],
                 t("compare.col.time_to_best"): fmt_duration(s["time_to_best_s"]),
                 t("compare.col.duration"): fmt_duration(s["duration_s"]),
                 t("compare.col.samples"): s["samples_per_s"], t("compare.col.memory"): s["peak_mem_gib"]})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
st.caption(t("compare.note"))
