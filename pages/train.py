"""Live view of one run: status, progress, charts, log tail, Stop."""
import time

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from app import chart_data as cd
from app.heldout import show_test_split
from app.story import cards, headline, queue_of
from app.markdown import Md
from app.ui import (fmt_duration, fmt_num, get_store, head_color, labels, lang_key, line_figure, mode_name, run_points,
                    runs_or_stop, status_name, t)
from trainer.core import children
from trainer.jobs import launch
from trainer.store import COMPLETED, FAILED, INTERRUPTED, query_ranks
from trainer.core.metrics import Metric
from trainer.core.model_source import model_notes

store = get_store()
st.title(t("train.title"))
runs = runs_or_stop(store)

# Which run: the one this session started, else one still training, else the latest. The live view asks to follow
# a queue's next run (below); the picker takes it here, before it is drawn (a widget's value cannot change after).
if "train_follow" in st.session_state:
    st.session_state["run_id"] = st.session_state["train_watched"] = st.session_state.pop("train_follow")
    st.session_state.pop(lang_key("train_pick", carry=False), None)
live = [r.id for r in runs if r.live]
ids = [r.id for r in runs]
wanted = st.session_state.get("run_id") or (live[0] if live else ids[0])
modes = labels("mode.{}.title")     # bound once: a thousand runs, three modes
names = {r.id: f"{r.name} · {modes(r.mode)} · {r.id}" for r in runs}
run_id = st.selectbox(t("train.pick"), ids, index=ids.index(wanted) if wanted in ids else 0,
                      format_func=names.get, key=lang_key("train_pick", carry=False))
st.session_state["run_id"] = run_id
queue = [r.id for r in queue_of(runs, next(r for r in runs if r.id == run_id))]   # "Compare the three modes"
smoothing = st.slider(t("train.smoothing"), 0.0, 0.99, cd.SMOOTHING, 0.01, key="smoothing")
random_heads = any(n.key == "no_heads" for n in model_notes(store.get_run(run_id).config))


def mrr_figure(mrr, x_range) -> go.Figure:
    """One panel per head, each on its own MRR range (within 0-1), so a head near 0.3 does not flatten
    the others; the dotted line is the head's step-0 score."""
    heads = [h for h in cd.HEADS if h in mrr]
    fig = make_subplots(rows=1, cols=len(heads), subplot_titles=[
        f"{t(f'head.{h}')}: {mrr[h].iloc[0]:.3f} → {mrr[h].iloc[-1]:.3f}" for h in heads])
    for n, h in enumerate(heads, start=1):
        fig.add_trace(go.Scatter(x=mrr["step"], y=mrr[h], name=t(f"head.{h}"), mode="lines+markers",
                                 line=dict(color=head_color(h))), row=1, col=n)
        fig.add_hline(y=float(mrr[h].iloc[0]), line_dash="dot", line_color=head_color(h), opacity=0.5, row=1, col=n)
        fig.update_yaxes(range=cd.mrr_range(mrr[h]), row=1, col=n)
        fig.update_xaxes(range=x_range, title_text=t("chart.step"), row=1, col=n)
    fig.update_yaxes(title_text="MRR@10", row=1, col=1)
    fig.update_layout(title=t("chart.mrr"), height=320, margin=dict(l=10, r=10, t=60, b=10), showlegend=False,
                      template="plotly_white")
    return fig


@st.fragment(run_every=2)
def live_view() -> None:
    run = store.get_run(run_id)
    df = run_points(store, run_id)
    status_lines(run)
    total, step, has_loss = progress_bar(run, df)
    mrr = cd.mrr_frame(df)
    numbers(run, df, mrr)
    charts(run, df, mrr, [0, max(total, step, 1)], has_loss)   # steps from 0 to the run's length, from the first point
    show_test_split(run, df)
    with st.expander(t("train.log")):
        st.code(children.log_tail(run.folder.log, 3000) or t("train.log_empty"))
    if not run.live:
        st.caption(t("train.finished", when=time.strftime("%Y-%m-%d %H:%M", time.localtime(run.ended or run.created))))


def status_lines(run) -> None:
    """The run's status and mode, Stop, its error or note, Resume from a checkpoint, and its place in the queue."""
    head = st.columns([3, 1])
    head[0].markdown(f"### {status_name(run.status)} · {mode_name(run.mode)}")
    if run.live and head[1].button(t("train.stop"), key="stop", type="primary", disabled=run.stop_requested):
        store.request_stop(run_id)
        st.toast(t("train.stopping"))
    if run.stop_requested and run.live:
        st.caption(t("train.stopping"))
    if run.error:
        (st.error if run.status == FAILED else st.info)(run.error)
    checkpoint = run.folder.last_checkpoint() if run.status in (INTERRUPTED, FAILED) else None
    if checkpoint is not None and st.button(t("train.resume", checkpoint=checkpoint.name), key="resume"):
        try:
            launch.resume(store, run_id)
        except (launch.RunBusy, ValueError, FileNotFoundError) as refused:
            st.warning(str(refused))
    if run.skipped_rows:
        st.caption(t("train.skipped", n=run.skipped_rows))
    if queue:
        members = [store.get_run(i) for i in queue]
        # the run watched live ended and the queue's next one trains: follow it
        if run.live:
            st.session_state["train_watched"] = run_id
        elif st.session_state.get("train_watched") == run_id:
            following = next((r.id for r in members if r.live), None)
            if following is not None:
                st.session_state["train_follow"] = following
                st.rerun()
        st.caption(t("train.queue", k=queue.index(run_id) + 1, n=len(queue), runs=Md(" → ".join(
            (lambda item: f"**{item}**" if r.id == run_id else item)(
                t("train.queue.item", mode=mode_name(r.mode), status=status_name(r.status))) for r in members))))


def progress_bar(run, df) -> tuple[int, int, bool]:
    """Steps done of the run's total, with the time left; returns (total steps, last step, whether a loss came)."""
    total = int(cd.latest(df, Metric.TOTAL_STEPS) or 0)
    cfg = run.config
    fraction, eta = cd.progress(df, total or None, cfg.epochs if cfg.max_steps <= 0 and cfg.eval_data else None)
    has_loss = (df["name"] == Metric.LOSS).any()
    step = int(df.loc[df["name"] == Metric.LOSS, "step"].max()) if has_loss else 0
    if not total:
        text = t("train.starting") if run.live else status_name(run.status)
    elif run.live:
        text = t("train.progress", step=step, total=total, eta=fmt_duration(eta)) if eta is not None \
            else t("train.progress_first", step=step, total=total)
    else:
        text = t("train.progress_ended", status=status_name(run.status), step=step, total=total)
    st.progress(1.0 if run.status == COMPLETED else fraction, text=text)
    return total, step, has_loss


def numbers(run, df, mrr) -> None:
    """The headline first: the main head before → after on the questions the run leads with (its held-out test
    where it has one), green ↑ only beyond the noise (app.story.cards, trainer.core.verdict.mark); then speed,
    memory and the sparse head's active tokens."""
    main = run.config.mode.main_head
    if main in mrr or run.folder.root.joinpath(query_ranks.TEST_FILE).is_file():
        # "after" only from a validation after step 0 (a run stopped before its model was scored again has none)
        scored = main in mrr and len(mrr) > 1
        cards(run, float(mrr[main].iloc[0]) if main in mrr else None, float(mrr[main].iloc[-1]) if scored else None)
    m = st.columns(3)
    sps = cd.series(df, Metric.SAMPLES_PER_S)
    m[0].metric(t("train.samples_per_s"), fmt_num(float(sps["value"].median()) if not sps.empty else None, 1))
    mem = cd.latest(df, Metric.PEAK_GPU_GIB)
    m[1].metric(t("train.peak_gpu") if mem is not None else t("train.peak_rss"),
                fmt_num(mem if mem is not None else cd.latest(df, Metric.PEAK_RSS_GIB), 2))
    m[2].metric(t("train.active_tokens"), fmt_num(cd.latest(df, Metric.ACTIVE_TOKENS), 1))
    headline(run)


def charts(run, df, mrr, x_range: list[int], has_loss: bool) -> None:
    """Loss and learning rate side by side, then validation MRR@10 per head."""
    left, right = st.columns(2)
    if has_loss:
        loss = cd.loss_frame(df, smoothing)
        fig = line_figure(t("chart.loss"), t("chart.loss"))
        mode = "lines+markers" if len(loss) < 30 else "lines"  # a young run's few points stay visible
        fig.add_trace(go.Scatter(x=loss["step"], y=loss["value"], name=t("chart.raw"), mode=mode,
                                 line=dict(color="#94a3b8", width=1)))
        fig.add_trace(go.Scatter(x=loss["step"], y=loss["smoothed"], name=t("chart.smoothed"), mode=mode,
                                 line=dict(color="#2563eb", width=2)))
        fig.update_xaxes(range=x_range)
        left.plotly_chart(fig, width="stretch", key="loss_chart")
        lr = cd.thin(cd.series(df, Metric.LR))
        fig = line_figure(t("chart.lr"), t("chart.lr"))
        fig.add_trace(go.Scatter(x=lr["step"], y=lr["value"], name=t("chart.lr"), mode=mode))
        # The schedule never exceeds the target LR; a fixed axis keeps a young run's first point (1/10 of
        # the target) from sitting on plotly's default ±1 range, where it reads as 0.
        fig.update_yaxes(range=[0, run.config.learning_rate * 1.1], exponentformat="e")
        fig.update_xaxes(range=x_range)
        right.plotly_chart(fig, width="stretch", key="lr_chart")
    elif run.live:
        left.info(t("train.waiting_loss"))
    if len(mrr):
        st.plotly_chart(mrr_figure(mrr, x_range), width="stretch", key="mrr_chart")
        st.caption(t("train.baseline_note") + (" " + t("train.random_heads") if random_heads else ""))
    else:
        st.info(t("train.waiting_mrr") if run.config.eval_data else t("train.no_eval"))

live_view()
