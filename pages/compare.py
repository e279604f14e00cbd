"""Overlay runs and say, in one sentence, which mode won: on the same questions, by the same noise rule as every
other page (trainer.verdict), only for runs trained on the same data; then each run's own change, at what cost
and why, and why a mode whose scores did not move did not."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import chart_data as cd
from app.story import (change_words, data_key, explain_mrr, moved, other_set, queue_of, run_headline, same_data,
                       sentence, tests, validations)
from app.datasets_ui import data_label
from app.markdown import Md, plain
from app.ui import fmt_duration, fmt_num, get_store, lang_key, line_figure, mode_color, mode_name, run_points, runs_or_stop, status_name, labels, t
from trainer.store import query_ranks
from trainer.core import verdict
from trainer.core import metrics
from trainer.core.metrics import Metric
from trainer.store import COMPLETED

store = get_store()
st.title(t("compare.title"))
runs = runs_or_stop(store)
by_id = {r.id: r for r in runs}
modes = labels("mode.{}.title")     # bound once: a thousand runs, three modes


def default_pick() -> list[str]:
    """The newest completed run's "Compare the three modes" queue, else the newest run of each mode trained on
    its data and evaluated on its questions (a completed one where there is one): never runs on other data."""
    anchor = next((r for r in runs if r.status == COMPLETED), runs[0])
    queue = queue_of(runs, anchor)
    if queue and same_data(queue, store):
        return [r.id for r in queue]
    newest = {}
    for r in runs:                    # newest first; the file's checksum asked only of a run that would be picked
        settled = r.mode in newest and (newest[r.mode].status == COMPLETED or r.status != COMPLETED)
        if not settled and data_key(r) == data_key(anchor) and same_data([anchor, r], store):
            newest[r.mode] = r
    return [r.id for r in runs if newest.get(r.mode) is r]


picked = st.multiselect(t("compare.pick"), list(by_id), default=default_pick(),
                        format_func={i: f"{r.name} · {modes(r.mode)}" for i, r in by_id.items()}.get,
                        key=lang_key("compare_pick", carry=False))
if not picked:
    st.stop()

frames = {i: run_points(store, i) for i in picked}
stored = store.summaries(picked)
summaries = {i: cd.summary(by_id[i], stored[i]) for i in picked}
validated = {i: validations(by_id[i]) for i in picked}        # per-question ranks at each evaluation, read once
tested = {i: tests(by_id[i]) for i in picked}
stories = {i: query_ranks.stories(validated[i]) for i in picked}


def run_label(run_id: str) -> str:
    run = by_id[run_id]
    label = f"{mode_name(run.mode)} (“{plain(run.name)}”)"
    return Md(label if run.status == COMPLETED else f"{label} · **{status_name(run.status)}**")


def head_of(run_id: str) -> str:
    return by_id[run_id].config.mode.main_head


# Which mode won: one sentence, the verdict rule's (trainer.verdict.contest) -----------------------------------
st.subheader(t("compare.verdict"))
chosen = [by_id[i] for i in picked]
# the held-out test where every run has one (no decision used it), else the validation's kept models
which = verdict.TEST if all(len(tested[i]) >= 2 for i in picked) else verdict.VALIDATION
done = {i: (tested if which == verdict.TEST else validated)[i] for i in picked}
finals = {i: done[i][-1]["ranks"].get(head_of(i)) if len(done[i]) >= 2 else None for i in picked}
if len(picked) < 2:
    st.markdown(t("compare.one"))
elif not same_data(chosen, store):
    st.warning(t("compare.different_data", runs=Md("; ".join(f"{run_label(i)}: {plain(data_label(by_id[i].config))}"
                                                              for i in picked))))
elif missing := [i for i in picked if finals[i] is None]:
    st.markdown(t("compare.no_ranks", runs=Md(t("list.sep").join(run_label(i) for i in missing))))
elif (won := verdict.contest(finals)) is None:
    st.warning(t("compare.different_data", runs=Md("; ".join(f"{run_label(i)}: {t(f'questions.{which}', n=len(finals[i]))}"
                                                              for i in picked))))
else:
    n = len(finals[won.leader])
    questions = t(f"questions.{which}", n=n)
    lead = won.leader
    others = Md("; ".join(t("compare.won.other" if won.winner else "compare.none.other", run=run_label(k),
                         head=t(f"head.{head_of(k)}"), score=f"{won.scores[k]:.3f}", change=change_words(c))
                          for k, c in won.against.items() if won.winner or c.word != verdict.BETTER))
    words = t("compare.won" if won.winner else "compare.none", run=run_label(lead), questions=questions,
              head=t(f"head.{head_of(lead)}"), score=f"{won.scores[lead]:.3f}", others=others)
    ahead = [k for k, c in won.against.items() if c.word == verdict.BETTER]
    if not won.winner and ahead:
        words += " " + t("compare.none.ahead", others=Md("; ".join(
            t("compare.ahead.other", run=run_label(k), head=t(f"head.{head_of(k)}"), score=f"{won.scores[k]:.3f}")
            for k in ahead)))
    own = verdict.first_last(done[lead], head_of(lead))
    if own is not None and own.word != verdict.BETTER:
        words += " " + t("compare.no_gain", change=change_words(own))
    st.markdown(words)
st.caption(t("compare.main"))

# A mode whose scores did not move: say so, why, and what to try ---------------------------------------------
CEILING = 0.9      # this share of the questions at rank 1 before training: no room to move, not a learning rate
for i in picked:
    run, head = by_id[i], head_of(i)
    evaluations = tested[i] if len(tested[i]) >= 2 else validated[i]
    if len(evaluations) < 2 or head not in evaluations[0]["ranks"] or head not in evaluations[-1]["ranks"]:
        continue
    before, after = evaluations[0]["ranks"][head], evaluations[-1]["ranks"][head]
    if not verdict.still(before, after):
        continue
    change = verdict.paired(before, after)
    cfg = run.config
    steps = int(cd.latest(frames[i], Metric.TOTAL_STEPS) or 0) or "?"
    first = sum(r == 1 for r in before)
    if first >= CEILING * len(before):        # nothing to move: the base model already ranked them first
        reason = t("compare.still.ceiling", first=first, n=len(before))
    elif run.mode == "heads":
        reason = t("compare.still.heads", lr=f"{cfg.learning_rate:.1e}", scale=f"{cfg.heads_lr_scale:g}", steps=steps)
    else:
        reason = t("compare.still.other", lr=f"{cfg.learning_rate:.1e}", steps=steps)
    st.info(t("compare.still", run=run_label(i), head=t(f"head.{head}"), before=f"{change.before:.3f}",
              after=f"{change.after:.3f}", changed=verdict.changed(before, after), n=len(before)) + " " + reason)

# Each run's own change, per head, on the questions it leads with; its cost and why --------------------------
lines = []
for i in picked:
    s = summaries[i]
    lines.append(f"- **{run_label(i)}** · " + t("compare.verdict.cost", duration=fmt_duration(s["duration_s"]),
                                                  memory=fmt_num(s["peak_mem_gib"], 2),
                                                  samples=fmt_num(s["samples_per_s"], 1)))
    main = head_of(i)
    told = [hl for h in (main, *(h for h in cd.HEADS if h != main)) if (hl := run_headline(by_id[i], h))]
    for hl in told:
        h = hl.head
        words = sentence(hl, why=h == main)
        if hl.mark.word == verdict.BETTER:
            words += " " + t(f"compare.why.{by_id[i].mode}.{'dense' if h == 'dense' else 'heads'}")
        lines.append(f"  - {words}")
        if h == main and hl.questions == verdict.TEST and hl.other is not None:     # the validation's, beside it
            lines.append(f"  - {other_set(hl)}")
    if main in stories[i]:
        lines.append(f"  - {t(f'head.{main}')}: {moved(stories[i][main])}")
    if not told:
        lines.append(f"  - {t('compare.verdict.no_ranks')}")
st.markdown("\n".join(lines))
if any(len(tested[i]) >= 2 for i in picked):
    st.caption(t("headline.why_differ"))
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
    table[t("compare.col.test", head=t(f"head.{h}"))] = {
        i: f"{sc.first:.3f} → {sc.final:.3f}" if (sc := stored[i].scores.get(metrics.test(metrics.score(h)))) else "–"
        for i in picked}
for h in cd.HEADS:
    table[t("compare.col.head", head=t(f"head.{h}"))] = {
        i: f"{s['heads'][h]['baseline']:.3f} → {s['heads'][h]['final']:.3f}" if h in s["heads"] else "–"
        for i, s in summaries.items()}
table[t("compare.col.duration")] = {i: fmt_duration(s["duration_s"]) for i, s in summaries.items()}
table[t("compare.col.samples")] = {i: fmt_num(s["samples_per_s"], 1) for i, s in summaries.items()}
table[t("compare.col.memory")] = {i: fmt_num(s["peak_mem_gib"], 2) for i, s in summaries.items()}
st.dataframe(pd.DataFrame(table).T.rename(columns=columns), width="stretch", height="content")   # every row shown
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
