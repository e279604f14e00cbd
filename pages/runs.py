"""History of runs: open, rename, delete, export, reproduce."""
from pathlib import Path

import pandas as pd
import streamlit as st

from app import chart_data as cd
from app.nav import page
from app.ui import differences, fmt_duration, get_store, mode_name, run_points, runs_or_stop, status_name, t
from trainer import gpus, reproduce

MAX_DOWNLOAD_BYTES = 500 * 2**20    # larger archives are offered by path: the browser download holds it in memory

store = get_store()
st.title(t("runs.title"))
runs = runs_or_stop(store)
table = []
for run in runs:
    s = cd.summary(run, run_points(store, run.id))
    best = "–" if s["best_mrr"] is None else f"{s['best_mrr']:.3f} ({t(f'head.{run.config.mode.main_metric}')})"
    table.append({t("compare.col.run"): run.name, "id": run.id, t("compare.col.mode"): mode_name(run.mode),
                  t("compare.col.status"): status_name(run.status), t("compare.col.best"): best,
                  t("compare.col.duration"): fmt_duration(s["duration_s"])})
st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")

by_id = {r.id: r for r in runs}
ids = list(by_id)
kept = st.session_state.get("runs_chosen")     # the widget's own key is dropped when the page is left
run_id = st.selectbox(t("runs.pick"), ids, index=ids.index(kept) if kept in ids else 0,
                      format_func=lambda i: f"{by_id[i].name} · {i}", key="runs_pick")
st.session_state["runs_chosen"] = run_id
run = by_id[run_id]
c = st.columns(3)
if c[0].button(t("runs.open"), key="runs_open"):
    st.session_state["run_id"] = run_id
    st.switch_page(page("train"))
new_name = c[1].text_input(t("runs.rename"), value=run.name, key=f"rename_{run_id}")
if new_name.strip() and new_name != run.name:
    store.rename(run_id, new_name.strip())
    st.rerun()
if c[2].button(t("runs.delete"), key="runs_delete", disabled=run.live):
    st.session_state["confirm_delete"] = run_id
if st.session_state.get("confirm_delete") == run_id:
    st.warning(t("runs.confirm", name=run.name))
    yes, no = st.columns(2)
    if yes.button(t("runs.yes"), key="runs_yes"):
        store.delete(run_id)
        st.session_state.pop("confirm_delete")
        st.rerun()
    if no.button(t("runs.no"), key="runs_no"):
        st.session_state.pop("confirm_delete")
        st.rerun()

# Export and reproduce ---------------------------------------------------------------------------
st.subheader(t("runs.export"))
has_model = (Path(run.output_dir) / "model" / "config.json").is_file()
if not has_model:
    st.caption(t("runs.export.none"))
elif st.button(t("runs.export.make"), key="runs_export", disabled=run.live):
    archive = reproduce.export(store, run_id)
    size = archive.stat().st_size
    if size <= MAX_DOWNLOAD_BYTES:
        st.download_button(t("runs.export.download", mb=size / 2**20), archive.read_bytes(), file_name=archive.name,
                           mime="application/zip", key="runs_download")
    st.caption(t("runs.export.where", path=str(archive)))
with st.expander(t("runs.command")):
    st.code(reproduce.shell(reproduce.run_command(run, gpus.planned_precision(run.config.precision))),
            language="bash")
    st.caption(t("runs.command.files", train=str(Path(run.output_dir) / "train.jsonl")))
    st.markdown(differences())
