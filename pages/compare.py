"""Overlay runs and say which mode won which head, at what cost and why."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import chart_data as cd
from app.story import explain_mrr, moved, validations
from app.ui import fmt_duration, fmt_num, get_store, lang_key, line_figure, mode_color, mode_name, run_points, runs_or_stop, status_name, labels, t
from trainer import query_ranks

store = get_store()
st.title(t("compare.title"))
runs = runs_or_stop(store)
by_id = {r.id: r for r in runs}
modes = labels("mode.{}.title")     # bound once: a thousand runs, three modes
latest_per_mode = list({r.mode: r.id for r in reversed(runs)}.values())  # runs are newest first
picked = st.multiselect(t("compare.pick"), list(by_id), default=latest_per_mode,
                        format_func={i: f"{r.name} · {modes(r.mode)}" for i, r in by_id.items()}.get,
                        key=lang_key("compare_pick", carry=False))
if not picked:
    st.stop()

frames = {i: run_points(store, i) for i in picked}
stored = store.summaries(picked)
summaries = {i: cd.summary(by_id[i], stored[i]) for i in picked}
stories = {i: query_ranks.stories(validations(by_id[i])) for i in picked}

# The verdict: per head, the run that reached the best score, its cost, and why -------------------
st.subheader(t("compare.verdict"))
lines = []
for h in cd.HEADS:
    scored = {i: s["heads"][h] for i, s in summaries.items() if h in s["heads"]}
    if not scored:
        continue
    win = max(scored, key=lambda i: (scored[i]["best"], scored[i]["best"] - scored[i]["baseline"]))
    s, score, mode = summaries[win], scored[win], by_id[win].mode
    if score["best"] <= score["baseline"]:
        lines.append(f"- {t('compare.verdict.none', head=t(f'head.{h}'))}")
        continue
    lines.append("- " + t("compare.verdict.line", head=t(f"head.{h}"), mode=mode_name(mode), run=s["run"],
                          before=fmt_num(score["baseline"]), best=fmt_num(score["best"]),
                          when=fmt_duration(score["time_to_best_s"]), duration=fmt_duration(s["duration_s"]),
                          memory=fmt_num(s["peak_mem_gib"], 2), samples=fmt_num(s["samples_per_s"], 1))
                 + " " + t(f"compare.why.{mode}.{'dense' if h == 'dense' else 'heads'}"))
    if h in stories[win]:
        lines.append(f"  - {moved(stories[win][h])}")
st.markdown("\n".join(lines))
explain_mrr()

# One column per run (a row per run would push the last columns out of sight); every score is
# labelled with its head, and each unit has one rounding ----------------------------------------
names = [s["run"] for s in summaries.values()]
columns = {i: s["run"] if names.count(s["run"]) == 1 else f"{s['run']} · {i}" for i, s in summaries.items()}
table = {t("compare.col.mode"): {i: mode_name(s["mode"]) for i, s in summaries.items()},
         t("compare.col.status"): {i: status_name(s["status"]) for i, s in summaries.items()}}
for h in cd.HEADS:
    table[t("compare.col.head", head=t(f"head.{h}"))] = {
        i: f"{s['heads'][h]['baseline']:.3f} → {s['heads'][h]['best']:.3f}" if h in s["heads"] else "–"
        for i, s in summaries.items()}
table[t("compare.col.duration")] = {i: fmt_duration(s["duration_s"]) for i, s in summaries.items()}
table[t("compare.col.samples")] = {i: fmt_num(s["samples_per_s"], 1) for i, s in summaries.items()}
table[t("compare.col.memory")] = {i: fmt_num(s["peak_mem_gib"], 2) for i, s in summaries.items()}
st.dataframe(pd.DataFrame(table).T.rename(columns=columns), width="stretch")
st.caption(t("compare.note"))

head = st.selectbox(t("compare.head"), cd.HEADS, format_func=labels("head.{}"), key=lang_key("compare_head"))
dashes = ["solid", "dash", "dot", "dashdot", "longdash"]
charts = [("loss", t("chart.loss")), ("lr", t("chart.lr")), (f"{head}.mrr@10", t("chart.mrr_head", head=t(f"head.{head}"))),
          ("samples_per_s", t("chart.samples"))]
cols = st.columns(2)
for n, (metric, title) in enumerate(charts):
    fig = line_figure(title, title)
    for k, run_id in enumerate(picked):
        run = by_id[run_id]
        s = cd.thin(cd.series(frames[run_id], metric))
        if metric == "loss":
            s["value"] = cd.smooth(s["value"], cd.SMOOTHING).to_numpy()
        fig.add_trace(go.Scatter(x=s["step"], y=s["value"], name=run.name, mode="lines+markers" if "mrr" in metric else "lines",
                                 line=dict(color=mode_color(run.mode), dash=dashes[k % len(dashes)])))
    fig.update_xaxes(rangemode="tozero")
    cols[n % 2].plotly_chart(fig, width="stretch", key=f"cmp_{metric}")
