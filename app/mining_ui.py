"""The Data page's hard-negative mining: settings, Start/Stop, a live progress bar and a preview of
what was mined. The work runs in a child process (trainer.mining.start_mining); this only reads it."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from app.datasets_ui import use_for_training
from app.ui import t
from trainer.jobs import mining
from trainer.core.model_source import model_refusal
from trainer.jobs import launch
from trainer.core.config import DEFAULT_MODEL, RunConfig, parse_range
from trainer.data.scan import ScanResult
from trainer.store import Store

PHASES = ("model", "queries", "passages", "search")
SEARCH_SHARE = 0.05          # of the bar: the search after encoding (matrix products, fast next to the encoder)


def mining_section(store: Store, path: str, data: ScanResult) -> None:
    st.subheader(t("mine.title"))
    st.caption(t("mine.explain"))
    job = mining.latest_mining_job(store)
    if job is not None and job.input() != path:
        job = None                  # the last job mined another file: not this one's to show
    if data.without_negatives and not (job is not None and job.summary()):
        # once mined, the mined file (below) has the negatives: the note would say what is no longer so
        st.info(t("mine.missing", n=f"{data.without_negatives:,}", total=f"{data.rows:,}"))
    c = st.columns(5)
    model = c[0].text_input(t("mine.model"), value=DEFAULT_MODEL, key="mine_model").strip() or DEFAULT_MODEL
    d = RunConfig()                   # the same defaults as a run's own mining (RunConfig's mine_* fields)
    negatives = c[1].number_input(t("mine.negatives"), 1, 100, d.mine_negatives, key="mine_negatives")
    low, high = c[2].slider(t("mine.range"), 0, 500, parse_range(d.mine_range), key="mine_range",
                            help=t("mine.range.help"))
    margin = c[3].number_input(t("mine.margin"), 0.0, 1.0, d.mine_margin, 0.01, key="mine_margin",
                               help=t("mine.margin.help"))
    seed = c[4].number_input(t("mine.seed"), 0, 2**31 - 1, d.seed, key="mine_seed")
    busy = job is not None and job.running
    refusal = model_refusal(model, store.runs_dir)
    if refusal is not None:
        st.error(t(f"note.{refusal.key}", **refusal.params))
    if st.button(t("mine.start"), key="mine_start", type="primary",
                 disabled=busy or not data.rows or refusal is not None):
        try:
            job = mining.start_mining(store, path, model, negatives=int(negatives), range_text=f"{low}-{high}",
                                      margin=float(margin), seed=int(seed), query_max_len=64, passage_max_len=256)
        except launch.RunBusy as refused:
            st.warning(t("mine.busy", detail=str(refused)))
    if job is not None and job.watched:
        _job_progress(job)
    elif job is not None:
        _job_result(store, job)


@st.fragment(run_every=1)
def _job_progress(job: mining.MiningJob) -> None:
    """The running job's progress, redrawn every second; when it has ended, the whole page reruns once and
    shows the result (no timer left running, and its buttons act on the whole page)."""
    job = mining.MiningJob(job.folder)
    if not job.watched:
        st.rerun(scope="app")
    st.progress(*progress_bar(job.progress()))
    if st.button(t("mine.stop"), key="mine_stop"):
        job.stop()


def progress_bar(progress: dict) -> tuple[float, str]:
    """The bar's share and words from the child's progress file: the rows being mined and, per phase, the real
    count of its texts; the share follows the texts encoded (questions, then passages), the search last."""
    phase = progress.get("phase")
    if phase not in PHASES and phase != "done":
        return 0.0, t("mine.starting")                    # the child has not written yet (Python is starting)
    if phase == "done":
        return 1.0, t("mine.finishing")
    if phase == "model":
        return 0.0, t("mine.loading", rows=f"{progress.get('rows', 0):,}")
    done, total = progress.get("done", 0), progress.get("total", 0)
    texts_total = progress.get("texts_total") or 0
    if phase == "search":
        share = 1 - SEARCH_SHARE + SEARCH_SHARE * done / max(1, total)
    else:
        share = (1 - SEARCH_SHARE) * progress.get("texts_done", 0) / max(1, texts_total)
    return min(1.0, share), t("mine.progress", rows=f"{progress.get('rows', 0):,}", phase=t(f"mine.phase.{phase}"),
                              done=f"{done:,}", total=f"{total:,}")


def _job_result(store: Store, job: mining.MiningJob) -> None:
    summary = job.summary()
    if not summary:
        error = job.error()
        if error:
            st.error(t("mine.failed") + "\n\n" + error)
        return
    st.success(t("mine.done", rows=summary["mined_rows"], pool=summary["pool"], seconds=summary["seconds"],
                 output=summary["output"]))
    if summary.get("short_rows"):
        st.warning(t("mine.short", n=summary["short_rows"], empty=summary["empty_rows"]))
    if summary.get("dropped_rows"):
        st.warning(t("mine.dropped", n=summary["dropped_rows"]))
    high = summary.get("settings", {}).get("range_max", 0)
    if summary["pool"] < high:
        st.warning(t("mine.small_pool", pool=summary["pool"], high=high))
    st.markdown(f"**{t('mine.preview')}**")
    for item in summary.get("preview", []):
        rows = [{t("mine.col.kind"): t("mine.kind.pos"), t("mine.col.score"): item["pos_score"],
                 t("mine.col.text"): item["pos"][:200]}]
        rows += [{t("mine.col.kind"): t("mine.kind.neg"), t("mine.col.score"): n["score"],
                  t("mine.col.text"): n["text"][:200]} for n in item["neg"]]
        st.caption(item["query"])
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    # The mined file is a dataset of its own (in the runs folder, kept across restarts), one click from Configure.
    if store.dataset_for(summary["output"]) is None:
        source = store.dataset_for(job.input() or "")
        name = source["name"] if source else Path(job.input() or "pairs").name
        store.add_dataset(t("mine.dataset_name", name=name), summary["output"], "mined")
    if st.button(t("mine.use"), key="mine_use", type="primary"):
        use_for_training(summary["output"])
