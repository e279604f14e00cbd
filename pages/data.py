"""Check a training file or evaluation folder before training on it."""
import secrets

import pandas as pd
import plotly.express as px
import streamlit as st

from app.mining_ui import mining_section
from app.ui import get_store, labels, lang_key, t
from trainer.data import DEMO_DIR, validate_eval, validate_train
from trainer.token_lengths import token_lengths

store = get_store()
st.title(t("data.title"))
source = st.radio(t("data.source"), ["demo", "upload", "path"], horizontal=True,
                  format_func=labels("data.source.{}"), key=lang_key("data_source"))
path = str(DEMO_DIR / "train.jsonl")
if source == "upload":
    upload = st.file_uploader(t("data.upload"), type=["jsonl", "json", "csv", "tsv"], key="data_upload")
    if upload is None:
        st.stop()
    # The uploaded name is never used as a path: the file gets a fresh name in the runs folder.
    # Only the kind of file is kept (by its MIME type), never any part of the uploaded name.
    suffix = {"text/csv": "csv", "text/tab-separated-values": "tsv"}.get(upload.type, "jsonl")
    target = store.runs_dir / "uploads" / f"{secrets.token_hex(8)}.{suffix}"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(upload.getvalue())
    path = str(target)
    st.caption(t("data.saved_as", path=path))
elif source == "path":
    path = st.text_input(t("data.path"), key="data_path").strip()
    if not path:
        st.stop()
group = st.number_input(t("configure.group"), 1, 64, 4, key="data_group")

report = validate_train(path, int(group))
# Problems about the whole file (missing, empty, not JSONL) once, in words; row problems in the table.
for p in report.problems:
    if not p.line:
        (st.warning if p.warning else st.error)(t("data.file_problem", file=p.file, message=p.message))
rows_problems = [p for p in report.problems if p.line]
if report.rows or rows_problems:
    c = st.columns(3)
    c[0].metric(t("data.rows_ok"), len(report.rows))
    c[1].metric(t("data.rows_bad"), report.bad_rows)
    c[2].metric(t("data.warnings"), sum(p.warning for p in report.problems))
if rows_problems:
    st.dataframe(pd.DataFrame([{t("data.col.line"): p.line, t("data.col.field"): p.field,
                                t("data.col.kind"): t("data.kind.warning") if p.warning else t("data.kind.error"),
                                t("data.col.message"): p.message} for p in rows_problems[:500]]),
                 hide_index=True, width="stretch")


def histogram(values: list[int], title: str, x_title: str):
    fig = px.histogram(x=values, title=title)
    fig.update_layout(xaxis_title=x_title, yaxis_title=t("data.count"), bargap=0.05)
    return fig


if report.rows:
    st.subheader(t("data.preview"))
    st.dataframe(pd.DataFrame([{"query": r["query"], "pos": r["pos"][0][:120], "neg": len(r.get("neg", []))}
                               for r in report.rows[:50]]), hide_index=True, width="stretch")
    st.subheader(t("data.distributions"))
    q_len = token_lengths([r["query"] for r in report.rows[:2000]])
    p_len = token_lengths([p for r in report.rows[:500] for p in r["pos"] + r.get("neg", [])])
    cols = st.columns(3)
    cols[0].plotly_chart(histogram([len(r.get("neg", [])) for r in report.rows], t("data.hist.neg"), t("data.hist.neg")),
                         width="stretch")
    cols[1].plotly_chart(histogram(q_len, t("data.hist.query"), t("data.tokens")), width="stretch")
    cols[2].plotly_chart(histogram(p_len, t("data.hist.passage"), t("data.tokens")), width="stretch")

if report.rows:
    mining_section(store, path, report)

st.subheader(t("data.eval"))
folder = st.text_input(t("data.eval_path"), value=str(DEMO_DIR / "eval"), key="data_eval")
if folder:
    evalset, eval_report = validate_eval(folder)
    if evalset is not None:
        st.success(t("data.eval_ok", queries=len(evalset.queries), docs=len(evalset.docs)))
    for p in eval_report.problems[:50]:
        (st.warning if p.warning else st.error)(str(p))
