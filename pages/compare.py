"""Overlay runs and say which mode won which head, at what cost and why."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import chart_data as cd
from app.story import explain_mrr, moved, validations
from app.datasets_ui import data_label
from app.ui import fmt_duration, fmt_num, get_store, lang_key, line_figure, mode_color, mode_name, run_points, runs_or_stop, status_name, labels, t
from app.heldout import change_words
from trainer import query_ranks, verdict
from trainer import metrics
from trainer.metrics import Metric
from trainer.config import SPLIT
from trainer.store import COMPLETED

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
validated = {i: validations(by_id[i]) for i in picked}        # per-question ranks at each validation, read once
stories = {i: query_ranks.stories(validated[i]) for i in picked}

# The verdict: per head, the runs ranked by their kept model's score (the last validation, never a mid-run
# peak); "won" only when the leader's lead over the next run is larger than its noise (trainer.verdict) ----
def final_ranks(run_id: str, head: str, which: int = -1):
    done = validated[run_id]
    return done[which]["ranks"].get(head) if done else None


def same_questions(a, b) -> bool:
    """Two runs validated on the same questions: the same folder, or the same split of the same file."""
    ca, cb = a.config, b.config
    key = lambda c: (c.eval_data, c.train_data, c.val_fraction, c.test_fraction, c.seed) if c.eval_data == SPLIT \
        else (c.eval_data,)  # noqa: E731
    return key(ca) == key(cb)


def run_label(run_id: str) -> str:
    run = by_id[run_id]
    label = f"{mode_name(run.mode)} (“{run.name}”)"
    return label if run.status == COMPLETED else f"{label} · **{status_name(run.status)}**"


st.subheader(t("compare.verdict"))
lines = []
for h in cd.HEADS:
    scored = {i: s["heads"][h] for i, s in summaries.items() if h in s["heads"]}
    if not scored:
        continue
    order = sorted(scored, key=lambda i: scored[i]["final"], reverse=True)
    win = order[0]
    s, score = summaries[win], scored[win]
    own = verdict.paired(final_ranks(win, h, 0) or [], final_ranks(win, h) or [])
    line = t("compare.verdict.lead", head=t(f"head.{h}"), run=run_label(win), before=fmt_num(score["baseline"]),
             final=fmt_num(score["final"]))
    line += " " + (t("compare.verdict.own", change=change_words(own)) if own else t("compare.verdict.no_ranks"))
    if len(order) > 1:
        other = order[1]
        against = verdict.paired(final_ranks(other, h) or [], final_ranks(win, h) or []) \
            if same_questions(by_id[win], by_id[other]) else None
        if against is None:
            line += " " + t("compare.verdict.other_data", run=run_label(other), final=fmt_num(scored[other]["final"]))
        elif against.word == verdict.BETTER:
            line += " " + t("compare.verdict.won", run=run_label(other), final=fmt_num(scored[other]["final"]),
                            change=change_words(against))
        else:
            line += " " + t("compare.verdict.tie", run=run_label(other), final=fmt_num(scored[other]["final"]),
                            change=change_words(against))
    line += " " + t("compare.verdict.cost", duration=fmt_duration(s["duration_s"]), memory=fmt_num(s["peak_mem_gib"], 2),
                    samples=fmt_num(s["samples_per_s"], 1))
    if own is not None and own.word == verdict.BETTER:
        line += " " + t(f"compare.why.{by_id[win].mode}.{'dense' if h == 'dense' else 'heads'}")
    lines.append("- " + line)
    if h in stories[win]:
        lines.append(f"  - {moved(stories[win][h])}")
st.markdown("\n".join(lines))
st.caption(t("compare.verdict.rule"))
explain_mrr()

# One column per run (a row per run would push the last columns out of sight); every score is
# labelled with its head, and each unit has one rounding ----------------------------------------
names = [s["run"] for s in summaries.values()]
columns = {i: s["run"] if names.count(s["run"]) == 1 else f"{s['run']} · {i}" for i, s in summaries.items()}
table = {t("compare.col.mode"): {i: mode_name(s["mode"]) for i, s in summaries.items()},
         t("compare.col.status"): {i: status_name(s["status"]) for i, s in summaries.items()}}
table[t("compare.col.data")] = {i: data_label(by_id[i].config) for i in picked}
for h in cd.HEADS:
    table[t("compare.col.head", head=t(f"head.{h}"))] = {
        i: f"{s['heads'][h]['baseline']:.3f} → {s['heads'][h]['final']:.3f}" if h in s["heads"] else "–"
        for i, s in summaries.items()}
for h in cd.HEADS:
    table[t("compare.col.test", head=t(f"head.{h}"))] = {
        i: f"{sc.first:.3f} → {sc.final:.3f}" if (sc := stored[i].scores.get(metrics.test(metrics.score(h)))) else "–"
        for i in picked}
table[t("compare.col.duration")] = {i: fmt_duration(s["duration_s"]) for i, s in summaries.items()}
table[t("compare.col.samples")] = {i: fmt_num(s["samples_per_s"], 1) for i, s in summaries.items()}
table[t("compare.col.memory")] = {i: fmt_num(s["peak_mem_gib"], 2) for i, s in summaries.items()}
st.dataframe(pd.DataFrame(table).T.rename(columns=columns), width="stretch")
st.caption(t("compare.note"))

head = st.selectbox(t("compare.head"), cd.HEADS, format_func=labels("head.{}"), key=lang_key("compare_head"))
dashes = ["solid", "dash", "dot", "dashdot", "longdash"]
charts = [(Metric.LOSS, t("chart.loss")), (Metric.LR, t("chart.lr")),
          (metrics.score(head), t("chart.mrr_head", head=t(f"head.{head}"))), (Metric.SAMPLES_PER_S, t("chart.samples"))]
cols = st.columns(2)
for n, (metric, title) in enumerate(charts):
    fig = line_figure(title, title)
    for k, run_id in enumerate(picked):
        run = by_id[run_id]
        s = cd.thin(cd.series(frames[run_id], metric))
        if metric == Metric.LOSS:
            s["value"] = cd.smooth(s["value"], cd.SMOOTHING).to_numpy()
        fig.add_trace(go.Scatter(x=s["step"], y=s["value"], name=run.name, mode="lines+markers" if "mrr" in metric else "lines",
                                 line=dict(color=mode_color(run.mode), dash=dashes[k % len(dashes)])))
    fig.update_xaxes(rangemode="tozero")
    if "mrr" in metric:
        fig.update_yaxes(range=[0, 1.02])
    cols[n % 2].plotly_chart(fig, width="stretch", key=f"cmp_{metric}")
