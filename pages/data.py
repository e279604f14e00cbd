"""Check a training file or evaluation folder before training on it."""
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from app.datasets_ui import dataset_name, language_check, upload_target, use_for_training
from app.mining_ui import mining_section
from app.scan_ui import scan_for
from app.ui import EVAL_FILES, get_store, labels, lang_key, readable, t
from trainer.core.config import DEFAULT_MODEL
from trainer.data import scan
from trainer.data import validate_eval
from trainer.core.config import DEMO_DIR
from trainer.data.token_lengths import token_lengths

store = get_store()
st.title(t("data.title"))
source = st.radio(t("data.source"), ["demo", "upload", "dataset", "path"], horizontal=True,
                  format_func=labels("data.source.{}"), key=lang_key("data_source"))
path = str(DEMO_DIR / "train.jsonl")
if source == "upload":
    upload = st.file_uploader(t("data.upload"), type=["jsonl", "json", "csv", "tsv"], key="data_upload",
                              help=t("data.upload.help"))
    if upload is None:
        st.stop()
    target = upload_target(store.runs_dir, upload.type, upload.file_id, st.session_state.setdefault("upload_names", {}))
    target.parent.mkdir(exist_ok=True)
    if not target.is_file():
        partial = target.with_suffix(target.suffix + ".partial")
        partial.write_bytes(upload.getvalue())
        partial.replace(target)

        # The uploaded name is shown as the dataset's name (in the store), never used as a path.
        store.add_dataset(upload.name, str(target), "upload")
    path = str(target)
elif source == "dataset":
    known = store.datasets()
    if not known:
        st.info(t("configure.no_datasets"))
        st.stop()
    names = {d["path"]: dataset_name(d) for d in known}
    path = st.selectbox(t("configure.dataset"), list(names), format_func=names.get, key="data_dataset")
elif source == "path":
    path = st.text_input(t("data.path"), key="data_path").strip()
    if not path or readable(path) is None:
        st.stop()
dataset = store.dataset_for(path)
if dataset is not None:
    left, right = st.columns([3, 1])
    name = left.text_input(t("data.dataset_name"), value=dataset["name"], key=f"data_name_{dataset['id']}").strip()
    if name and name != dataset["name"]:
        store.add_dataset(name, path, dataset["origin"])
    if right.button(t("data.remove"), key="data_remove", help=t("data.remove.help")):
        store.remove_dataset(dataset["id"])     # an upload's file goes with it (trainer.store)
        st.rerun()
    st.caption(t("data.saved_as", path=path))
group = st.number_input(t("configure.group"), 1, 64, 4, key="data_group")


def histogram(values: list[int], title: str, x_title: str):
    fig = px.histogram(x=values, title=title)
    fig.update_layout(xaxis_title=x_title, yaxis_title=t("data.count"), bargap=0.05)
    return fig


@st.cache_data(max_entries=8, show_spinner=False)
def sample_lengths(scan_id: int, _data: scan.ScanResult) -> tuple[list[int], list[int]]:
    """Token counts of the sample's queries (its first 2,000 rows) and passages (first 500), once per scan."""
    rows = scan.sample_rows(store, _data, 2000)
    return (token_lengths([r["query"] for r in rows]),
            token_lengths([p for r in rows[:500] for p in r["pos"] + r.get("neg", [])]))


# One streaming scan per version of the file (trainer.scan), kept in the store: counts from it, the
# preview and the length histograms from its bounded sample; the page never reads every row.
data = scan_for(store, path, "data")
if data is not None:
    problems = data.problems_for(int(group))
    # Problems about the whole file (missing, empty, not JSONL) once, in words; row problems in the table.
    for p in problems:
        if not p.line:
            (st.warning if p.warning else st.error)(t("data.file_problem", file=p.file, message=p.message))
    rows_problems = [p for p in problems if p.line]
    if data.rows or rows_problems:
        c = st.columns(3)
        c[0].metric(t("data.rows_ok"), f"{data.rows:,}")
        c[1].metric(t("data.rows_bad"), f"{data.bad_rows:,}")
        c[2].metric(t("data.warnings"), f"{sum(p.warning for p in problems) + data.warning_count - sum(p.warning for p in data.problems):,}")
    if rows_problems:
        st.dataframe(pd.DataFrame([{t("data.col.line"): p.line, t("data.col.field"): p.field,
                                    t("data.col.kind"): t("data.kind.warning") if p.warning else t("data.kind.error"),
                                    t("data.col.message"): p.message} for p in rows_problems]),
                     hide_index=True, width="stretch")
    if data.more:
        st.caption(t("scan.more", n=f"{data.more:,}"))

    def use(skip_bad_rows: bool = False) -> None:
        if dataset is None and source != "demo":
            store.add_dataset(Path(path).name, path, "path")
        if skip_bad_rows:
            st.session_state["cfg_skip_bad_rows"] = True      # Configure's "skip bad rows" box, ticked
        use_for_training(None if source == "demo" else path)

    if not data.rows and rows_problems:
        st.error(t("data.use.no_rows"))          # why "Use this file for training" is not offered
    if data.rows:
        language_check(st, data, DEFAULT_MODEL, t("configure.model.default"))
        blocked = bool(data.error_count)
        columns = st.columns([1, 3])
        if columns[0].button(t("data.use"), key="data_use", type="primary", disabled=blocked,
                             help=t("data.use.blocked_help") if blocked else None):
            use()
        columns[1].caption(t("data.use.help"))
        if blocked:
            # Why the button is off, and the way on from here: train on the valid rows, the bad ones skipped.
            st.warning(t("data.use.blocked", bad=f"{data.bad_rows:,}", good=f"{data.rows:,}"))
            if data.bad_rows and st.button(t("data.use.skip", bad=f"{data.bad_rows:,}", good=f"{data.rows:,}"),
                                           key="data_use_skip"):
                use(skip_bad_rows=True)
        sample = scan.sample_lines(store, data, 50)
        st.subheader(t("data.preview"))
        if data.sample_rows < data.rows:
            st.caption(t("data.sampled", sample=f"{data.sample_rows:,}", rows=f"{data.rows:,}"))
        st.dataframe(pd.DataFrame([{t("data.col.line"): line, "query": r["query"], "pos": r["pos"][0][:120],
                                    "neg": len(r.get("neg", []))} for line, r in sample]),
                     hide_index=True, width="stretch")
        st.subheader(t("data.distributions"))
        q_len, p_len = sample_lengths(data.scan_id, data)
        negs = sorted((int(k), v[0]) for k, v in data.neg_counts.items())     # every row's, counted by the scan
        neg_fig = px.bar(x=[k for k, _ in negs], y=[n for _, n in negs], title=t("data.hist.neg"))
        neg_fig.update_layout(xaxis_title=t("data.hist.neg"), yaxis_title=t("data.count"), bargap=0.05)
        cols = st.columns(3)
        cols[0].plotly_chart(neg_fig, width="stretch")
        cols[1].plotly_chart(histogram(q_len, t("data.hist.query"), t("data.tokens")), width="stretch")
        cols[2].plotly_chart(histogram(p_len, t("data.hist.passage"), t("data.tokens")), width="stretch")
        mining_section(store, path, data)

st.subheader(t("data.eval"))
st.caption(t("data.eval.help"))
folder = st.text_input(t("data.eval_path"), key="data_eval", placeholder=t("data.eval.placeholder")).strip()
if folder and readable(folder, "folder", EVAL_FILES):
    evalset, eval_report = validate_eval(folder)
    if evalset is not None:
        st.success(t("data.eval_ok", queries=len(evalset.queries), docs=len(evalset.docs)))
    for p in eval_report.problems[:50]:
        (st.warning if p.warning else st.error)(str(p))
