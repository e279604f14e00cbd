"""History of runs: open, rename, delete, export, merge with the base model, reproduce."""
import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import chart_data as cd, download
from app.datasets_ui import data_label
from app.heldout import show_test_split
from app.nav import page
from app.story import chosen_run, differs, questions, remember, run_headline, sentence
from app.ui import differences, fmt_duration, get_store, line_figure, mode_name, runs_or_stop, status_name, t
from trainer.jobs import tools
from trainer.planning import plan as run_plan, reproduce
from trainer.core import verdict
from trainer.core.config import Mode
from trainer.core import metrics
from trainer.core.metrics import Metric
from trainer.store import COMPLETED, FINAL, LIVE

PAGE_SIZE = 50                      # with more runs than this, the list is filtered and paged through

store = get_store()
st.title(t("runs.title"))
query = {}
if store.count_runs() > PAGE_SIZE:
    f = st.columns([1, 1, 2, 1])
    mode = f[0].selectbox(t("runs.filter.mode"), ["", *(m.value for m in Mode)], key="runs_mode",
                          format_func=lambda m: mode_name(m) if m else t("runs.filter.any"))
    status = f[1].selectbox(t("runs.filter.status"), ["", *LIVE, *FINAL], key="runs_status",
                            format_func=lambda s: status_name(s) if s else t("runs.filter.any"))
    query = dict(mode=mode, status=[status] if status else [], name=f[2].text_input(t("runs.filter.name"), key="runs_name").strip())
    pages = max(1, -(-store.count_runs(**query) // PAGE_SIZE))
    number = f[3].number_input(t("runs.filter.page", n=pages), min_value=1, max_value=pages, key="runs_page")
    query.update(limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
runs = runs_or_stop(store, **query)
summaries = store.summaries(r.id for r in runs)
table = []
for run in runs:
    s = cd.summary(run, summaries[run.id])
    head = run.config.mode.main_head
    final = "–" if s["final_mrr"] is None else f"{s['final_mrr']:.3f} ({t(f'head.{head}')})"
    hl = run_headline(run)          # the change and its verdict, on the questions named (held-out test first)
    if hl is not None and hl.questions == verdict.TEST:        # one story: the held-out test leads the row too
        final = t("runs.final.test", score=f"{hl.change.after:.3f}", head=t(f"head.{head}"))
    change = "–" if hl is None else t("runs.change", diff=f"{hl.change.diff:+.3f}", word=t(f"verdict.word.{hl.mark.word}"),
                                      questions=questions(hl))
    table.append({t("compare.col.run"): run.name, t("compare.col.mode"): mode_name(run.mode),
                  t("compare.col.status"): status_name(run.status), t("compare.col.data"): data_label(run.config),
                  t("compare.col.best"): final, t("runs.col.change"): change,
                  t("compare.col.duration"): fmt_duration(s["duration_s"]), "id": run.id})   # the id last: the rest fits
st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")

by_id = {r.id: r for r in runs}
ids = list(by_id)
# The run picked in this session (the widget's own key is dropped when the page is left), else the newest
# completed one: a run that ends later wins over the one shown before, unless the user picked that one
chosen = chosen_run(ids, next((r.id for r in runs if r.status == COMPLETED), ids[0]), "runs_pick", "runs_picked")
run_id = st.selectbox(t("runs.pick"), ids, index=ids.index(chosen), format_func=lambda i: f"{by_id[i].name} · {i}",
                      key="runs_pick", on_change=remember("runs_pick", "runs_picked"))
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

lead = run_headline(run)
if lead is not None:              # the run's one story: the held-out test where it has one, and why validation differs
    st.markdown(sentence(lead))
    if note := differs(lead):
        st.caption(note)
show_test_split(run, cd.frame(store.metrics(run_id, prefix=metrics.TEST)))

def curve_words(curve: dict) -> str:
    """The merge curve's last word: the weight to use (trainer.merge_choice: a weight beats another only beyond
    the noise) and which language the out-of-domain check measures, or why it was left out."""
    from trainer.core.merge_choice import choose

    choice = choose(curve)
    if choice is None:
        return t("runs.curve.rescore")
    w = lambda x: f"{x:g}"  # noqa: E731
    score = lambda x: f"{x:.3f}"  # noqa: E731
    v, n = choice["validation"], choice["questions"]
    if choice["case"] == "base":
        words = [t("runs.curve.pick.base", n=n, best_w=w(choice["best_weight"]), best=score(v[choice["best_weight"]]),
                   base=score(v[0.0]))]
    else:
        base = choice["base_weight"]
        words = [t(f"runs.curve.pick.{choice['case']}", w=w(choice["weight"]), n=n, v=score(v[choice["weight"]]),
                   base=score(v[base]), base_w=w(base), best_w=w(choice["best_weight"]),
                   best=score(v[choice["best_weight"]]))]
        others = sorted(x for x in choice["within"] if x != choice["weight"])
        if others and choice["general"] is None:
            words.append(t("runs.curve.within", weights=", ".join(map(w, others))))
    languages = curve.get("languages", {})
    general = choice["general"]
    if general is not None and choice["case"] != "base":
        g = general["scores"]
        key = "runs.curve.general.more" if general["more"] else "runs.curve.general.same"
        words.append(t(key, language=t(f"lang.{general['language']}"), m=general["questions"],
                       g=score(g[choice["weight"]]), gb=score(g[general["compared_with"]]),
                       best_w=w(general["compared_with"]), g0=score(g[min(g)])))
    elif "general" not in curve["queries"] and languages:
        words.append(t("runs.curve.general.left_out", language=t(f"lang.{languages['general']}"),
                       data=t(f"lang.{languages['validation']}")))
    return " ".join(words)


# Export, merge and reproduce: heavy work in `python -m trainer export|merge` child processes -----------
st.subheader(t("runs.export"))
has_model = run.folder.has_model()
if not has_model:
    st.caption(t("runs.export.none"))
else:
    left, right = st.columns(2)
    onnx = left.checkbox(t("runs.export.onnx"), key="runs_onnx")
    if left.button(t("runs.export.make"), key="runs_export", disabled=run.live):
        with st.spinner(t("runs.export.running")):
            st.session_state["runs_written"] = (run_id, tools.export_model(
                store, run_id, run.folder.export_dir(run_id), onnx=onnx))
    weight = right.slider(t("runs.merge.weight"), 0.0, 1.0, 0.5, 0.05, key="runs_merge_weight",
                          help=t("runs.merge.help"))
    if right.button(t("runs.merge.make"), key="runs_merge", disabled=run.live):
        with st.spinner(t("runs.merge.running")):
            st.session_state["runs_written"] = (run_id, tools.merge_model(
                store, run_id, weight, run.folder.merged_dir(run_id, weight)))
    validation = run.folder.validation(run.config.eval_data)
    if right.button(t("runs.curve.make"), key="runs_curve", disabled=run.live or not (validation and validation.is_dir()),
                    help=t("runs.curve.help")):
        with st.spinner(t("runs.curve.running")):
            answer = tools.merge_curve(store, run_id)
        if "error" in answer:
            right.error(t("runs.export.failed", detail=answer["error"]))
    curve_file = run.folder.merge_curve
    if curve_file.is_file():
        curve = json.loads(curve_file.read_text(encoding="utf-8"))
        languages = curve.get("languages", {"general": "en"})
        fig = line_figure(t("runs.curve.title", metric=curve["metric"]), "MRR@10")
        fig.update_layout(xaxis_title=t("runs.curve.weight"))
        for name in ("validation", "general"):
            if name in curve["queries"]:       # the out-of-domain check is left out where it does not apply
                fig.add_trace(go.Scatter(x=[p["weight"] for p in curve["points"]], y=[p[name] for p in curve["points"]],
                                         mode="lines+markers", name=t(f"runs.curve.{name}", n=curve["queries"][name],
                                                                      language=t(f"lang.{languages['general']}"))))
        right.plotly_chart(fig, width="stretch", key="runs_curve_chart")
        right.markdown(curve_words(curve))
    shown, written = st.session_state.get("runs_written", (None, {}))
    if shown == run_id and "error" in written:
        st.error(t("runs.export.failed", detail=written["error"]))
    elif shown == run_id:
        st.caption(t("runs.export.where", path=written["folder"]))
        if "heads" in written:
            st.caption(t(f"runs.merge.heads.{written['heads']}", weight=written["weight"]))
        archive = Path(written["zip"])      # streamed from disk by the server (app/download.py)
        st.link_button(t("runs.export.download", mb=archive.stat().st_size / 2**20), download.url(run_id, archive))
with st.expander(t("runs.command")):
    trained_rows = store.metrics(run.id, prefix=Metric.TRAIN_ROWS)       # kept at step 0: no need to count the file
    trained_rows = int(trained_rows[-1].value) if trained_rows else None
    st.code(reproduce.shell(reproduce.run_command(run, rows=trained_rows)), language="bash")   # the run's plan
    st.caption(t("runs.command.files", train=str(reproduce.used_train_file(run))))
    stored = run_plan.of_run(run)
    st.markdown(differences(run.config, stored.studio if stored else None))
    # The same run on several machines: torchrun's c10d rendezvous at the first node
    st.caption(t("runs.command.nodes", gpus=run.config.num_gpus))
    st.code(reproduce.shell(reproduce.run_command(run, nnodes=2, rows=trained_rows)), language="bash")
