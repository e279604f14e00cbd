"""Find settings: a budgeted search over mode, learning rate and epochs (trainer.sweep), judged on validation;
its trials as points, the suggestion as a line, the winner tested once and one click from Configure."""
import math

import plotly.graph_objects as go
import streamlit as st

from app import draft
from app.datasets_ui import data_label
from app.heldout import show_test_split
from app.nav import page
from app.ui import count, fmt_duration, get_store, labels, mode_color, mode_name, run_points, status_name, t
from trainer import sweep
from trainer.config import Mode, RunConfig

store = get_store()
state = st.session_state
st.title(t("sweep.title"))
st.caption(t("sweep.intro", span=f"{sweep.LR_SPAN:g}"))
studies = sweep.names(store)


def new_study() -> None:
    """The form: Configure's settings (data, model, batch, lengths) are the trials' common ground."""
    base_json = state.get("cfg_sweep_base")
    if not base_json:
        st.info(t("sweep.no_base"))
        st.page_link(page("configure"), label=t("sweep.to_configure"), icon="⚙️")
        return
    base = RunConfig.from_json(base_json)
    st.caption(t("sweep.base", data=data_label(base), model=base.model, batch=base.batch_size))
    c = st.columns(4)
    modes = c[0].multiselect(t("sweep.modes"), [m.value for m in Mode], default=[base.mode.value],
                             format_func=mode_name, key="sweep_modes")
    trials = int(c[1].number_input(t("sweep.trials"), 1, 200, 8, key="sweep_trials"))
    budget = float(c[2].number_input(t("sweep.budget"), 1, 100_000, 60, key="sweep_budget"))
    pruner = c[3].selectbox(t("sweep.pruner"), sweep.PRUNERS, format_func=labels("sweep.pruner.{}"), key="sweep_pruner")
    epochs = None
    if base.max_steps > 0:
        st.caption(t("sweep.max_steps", steps=count(base.max_steps, "step")))
    else:
        epochs = st.slider(t("sweep.epochs"), 1, max(10, 2 * base.epochs), (1, base.epochs), key="sweep_epochs")
    if base.eval_data is None:
        st.warning(t("sweep.needs_validation"))
        return
    if st.button(t("sweep.start"), type="primary", disabled=not modes, key="sweep_start"):
        try:
            # Configure's values are the user's: the learning rate is searched around the one it shows.
            given = set(RunConfig.__dataclass_fields__)
            spec = sweep.make_spec(store, base, [Mode(m) for m in modes], trials=trials, budget_minutes=budget,
                                   given=given, epochs=epochs, pruner=pruner)
            problems = sweep.check(store, spec)
        except ValueError as bad:
            st.error(str(bad))
            return
        if problems:
            st.error(t("configure.invalid", count=count(len(problems), "problem")))
            st.code("\n".join(str(p) for p in problems[:20]))
            return
        sweep.start(store, spec)
        state["sweep_study"] = spec.name
        st.rerun()


def trials_figure(result: dict) -> go.Figure:
    """Learning rate × validation score, a colour per mode; pruned trials as crosses, the winner a star."""
    fig = go.Figure()
    best = (result["best"] or {}).get("number")
    for mode in dict.fromkeys(tr["mode"] for tr in result["trials"]):
        for pruned in (False, True):
            pts = [tr for tr in result["trials"] if tr["mode"] == mode and tr["val_score"] is not None
                   and (tr["state"] == "pruned") == pruned]
            if not pts:
                continue
            fig.add_scatter(x=[p["learning_rate"] for p in pts], y=[p["val_score"] for p in pts], mode="markers",
                            name=mode_name(mode) + (f" · {t('sweep.pruned')}" if pruned else ""),
                            marker=dict(color=mode_color(mode), size=[18 if p["number"] == best else 11 for p in pts],
                                        symbol=["x" if pruned else "star" if p["number"] == best else "circle"
                                                for p in pts]),
                            text=[f"#{p['number']} · {status_name(p['status'])}" for p in pts],
                            hovertemplate="%{text}<br>LR %{x:.2e}<br>%{y:.3f}<extra></extra>")
    fig.add_vline(x=result["suggested_learning_rate"], line_dash="dash", line_color="gray",
                  annotation_text=t("sweep.suggested_line", lr=f"{result['suggested_learning_rate']:.1e}"))
    fig.update_layout(template="plotly_white", height=360, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis_title=t("sweep.x"), yaxis_title=t("sweep.y"), legend=dict(orientation="h", y=-0.3))
    low, high = result["learning_rate_range"]           # the range searched, a little wider
    fig.update_xaxes(type="log", range=[math.log10(low / 1.5), math.log10(high * 1.5)])
    return fig


def winner(result: dict) -> None:
    best = result["best"]
    if best is None:
        return
    st.subheader(t("sweep.winner"))
    head = best["metric"].split(".")[0]
    run = store.get_run(best["run_id"])
    length = count(best["epochs"], "epoch") if best["epochs"] else count(run.config.max_steps, "step")
    st.markdown(t("sweep.winner_line", n=best["number"], mode=mode_name(best["mode"]), lr=f"{best['learning_rate']:.2e}",
                  epochs=length, head=t(f"head.{head}"),
                  score=f"{best['val_score']:.3f}"))
    low, high = result["best_range"]
    words = "sweep.suggestion_within" if result["suggestion_within"] else "sweep.suggestion_outside"
    st.markdown(t(words, lr=f"{result['suggested_learning_rate']:.1e}",
                  range=f"{low:.1e}" if low == high else f"{low:.1e} – {high:.1e}"))
    st.caption(t("sweep.range_rule", trials=", ".join(f"#{n}" for n in result["best_range_trials"])))
    if best["test_score"] is None:
        st.caption(t("sweep.untested"))
    else:
        show_test_split(run, run_points(store, run.id))
    left, right = st.columns([1, 2])
    if left.button(t("sweep.use"), type="primary", key="sweep_use"):
        state["cfg_mode"] = best["mode"]
        state["cfg_learning_rate"] = best["learning_rate"]
        if best["epochs"]:
            state["cfg_epochs"] = best["epochs"]
        draft.save()
        st.switch_page(page("configure"))
    right.caption(t("sweep.use_help", run=run.name))
    right.page_link(page("runs"), label=t("sweep.export"))


def study_view(name: str, was_running: bool) -> None:
    result = sweep.summary(store, name)
    if was_running and not result["running"]:
        st.rerun()                 # the search ended: the whole page again, without the refresh
    ended = sum(tr["state"] != "running" for tr in result["trials"])
    st.markdown(t("sweep.status", done=ended, total=result["max_trials"], spent=fmt_duration(result["spent_s"]),
                  budget=fmt_duration(result["budget_minutes"] * 60),
                  state=t("sweep.running" if result["running"] else "sweep.done" if sweep.finished(result)
                          else "sweep.paused")))
    if result["running"]:
        if st.button(t("sweep.stop"), key="sweep_stop"):
            sweep.stop(store, name)
            st.rerun()
    elif not sweep.finished(result):
        if st.button(t("sweep.resume"), key="sweep_resume"):
            sweep.resume(store, name)
            st.rerun()
        tail = sweep.log_tail(store, name).strip()
        if "error" in tail.lower():
            st.code(tail[-1500:])
    scored = [tr for tr in result["trials"] if tr["val_score"] is not None]
    if scored:
        st.plotly_chart(trials_figure(result), key=f"sweep_chart_{name}")
    if result["trials"]:
        st.dataframe([{t("sweep.col.trial"): f"#{tr['number']}", t("compare.col.mode"): mode_name(tr["mode"]),
                       t("sweep.col.lr"): f"{tr['learning_rate']:.2e}" if tr["learning_rate"] else "–",
                       t("sweep.col.epochs"): tr["epochs"] or "–", t("sweep.col.status"): status_name(tr["status"])
                       if tr["status"] in sweep.RUN_STATUSES else t("sweep.running"),
                       t("sweep.col.score"): "–" if tr["val_score"] is None else f"{tr['val_score']:.3f}",
                       "id": tr["run_id"] or "–"} for tr in result["trials"]], hide_index=True, width="stretch")
    if not result["running"]:
        winner(result)


with st.expander(t("sweep.new"), expanded=not studies):
    new_study()
if studies:
    chosen = state.get("sweep_study")
    name = st.selectbox(t("sweep.pick"), studies, index=studies.index(chosen) if chosen in studies else 0,
                        key="sweep_pick")
    running = sweep.driver_pid(store, name) is not None
    st.fragment(run_every=3.0 if running else None)(study_view)(name, running)
