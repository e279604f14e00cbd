"""Find settings: a budgeted search over mode, learning rate and epochs (trainer.sweep), judged on validation;
its trials as points, the suggestion as a line, the winner tested once and one click from Configure."""
import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import draft
from app.datasets_ui import data_label
from app.heldout import change_words, changes, show_test_split
from app.nav import page
from app.chart_data import mrr_range
from app.ui import count, fmt_duration, get_store, labels, lang_key, mode_color, mode_name, run_points, t
from trainer.store import query_ranks
from trainer.jobs import sweep
from trainer.core.config import DEFAULT_MODEL, Mode, RunConfig

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
    model = t("configure.model.default") if base.model == DEFAULT_MODEL else base.model
    st.caption(t("sweep.base", data=data_label(base), model=model, batch=base.batch_size))
    c = st.columns([2, 1, 1, 1])
    modes_key = lang_key("sweep_modes")
    state.setdefault(modes_key, [base.mode.value])            # Configure's mode, until the user chooses
    modes = c[0].multiselect(t("sweep.modes"), [m.value for m in Mode], format_func=labels("mode.{}.title"),
                             key=modes_key, placeholder=t("sweep.modes_placeholder"),
                             help=t("sweep.modes_help"))
    trials = int(c[1].number_input(t("sweep.trials"), 1, 200, sweep.Spec.trials, key="sweep_trials", help=t("sweep.trials_help")))
    budget = float(c[2].number_input(t("sweep.budget"), 1.0, 100_000.0, sweep.Spec.budget_minutes, key="sweep_budget",
                                     help=t("sweep.budget_help")))
    pruner = c[3].selectbox(t("sweep.pruner"), sweep.PRUNERS, format_func=labels("sweep.pruner.{}"),
                            key=lang_key("sweep_pruner"), help=t("sweep.pruner_help"))
    epochs = None
    if base.max_steps > 0:
        st.caption(t("sweep.max_steps", steps=count(base.max_steps, "step")))
    else:
        epochs = st.slider(t("sweep.epochs"), 1, max(10, 2 * base.epochs), (1, base.epochs), key="sweep_epochs",
                           help=t("sweep.epochs_help"))
    if base.eval_data is None:
        st.warning(t("sweep.needs_validation"))
        return
    low, high = base.learning_rate / sweep.LR_SPAN, base.learning_rate * sweep.LR_SPAN
    st.caption(t("sweep.lr_range", low=f"{low:.1e}", high=f"{high:.1e}", lr=f"{base.learning_rate:.1e}"))
    if modes:
        budget_note(base, modes, trials, budget, epochs, pruner)
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
        state["sweep_study"] = state["sweep_pick"] = spec.name
        st.rerun()


def budget_note(base: RunConfig, modes: list[str], trials: int, budget: float, epochs, pruner: str) -> None:
    """Before Start: whether the budget fits the trials asked, from each trial's time estimate (trainer.sweep)."""
    try:
        spec = sweep.make_spec(store, base, [Mode(m) for m in modes], trials=trials, budget_minutes=budget,
                               given=set(RunConfig.__dataclass_fields__), epochs=epochs, pruner=pruner, name="preview")
        fit = sweep.budget_check(store, spec)
    except (ValueError, OSError):
        return                     # Start says what is wrong with the settings
    if fit is None:
        st.caption(t("sweep.budget_unknown"))
        return
    words = dict(budget=f"{budget:g}", fits=fit["fits"], trials=trials, per=fmt_duration(fit["trial_s"]),
                 source=fit["source"], need=math.ceil(fit["needed_minutes"]))
    if fit["fits"] < trials:
        st.warning(t("sweep.budget_short", **words))
    else:
        st.caption(t("sweep.budget_fits", **words))


def trials_figure(result: dict) -> go.Figure:
    """Learning rate × validation score, a colour per mode; pruned trials as crosses, the winner a star."""
    fig = go.Figure()
    best = (result["best"] or {}).get("number")
    baselines = {tr["mode"]: tr["val_before"] for tr in result["trials"] if tr["val_before"] is not None}
    for mode, value in baselines.items():        # each mode's untrained score: modes are judged on their own head
        fig.add_hline(y=value, line_dash="dot", line_color=mode_color(mode), opacity=0.6)
        fig.add_scatter(x=[None], y=[None], mode="lines", line=dict(color=mode_color(mode), dash="dot"),
                        name=t("sweep.untrained", mode=mode_name(mode)))
    for mode in dict.fromkeys(tr["mode"] for tr in result["trials"]):
        for pruned in (False, True):
            pts = [tr for tr in result["trials"] if tr["mode"] == mode and tr["val_score"] is not None
                   and (tr["state"] == "pruned") == pruned]
            if not pts:
                continue
            fig.add_scatter(x=[p["learning_rate"] for p in pts], y=[p["val_score"] for p in pts], mode="markers",
                            name=mode_name(mode) + (f" · {t('sweep.pruned')}" if pruned else ""), showlegend=True,
                            marker=dict(color=mode_color(mode), size=[18 if p["number"] == best else 11 for p in pts],
                                        symbol=["x" if pruned else "star" if p["number"] == best else "circle"
                                                for p in pts]),
                            text=[f"{trial_label(p)} · {outcome_words(p)}" for p in pts],
                            hovertemplate="%{text}<br>LR %{x:.2e}<br>%{y:.3f}<extra></extra>")
    fig.add_vline(x=result["suggested_learning_rate"], line_dash="dash", line_color="gray")
    fig.add_scatter(x=[None], y=[None], mode="lines", line=dict(color="gray", dash="dash"),
                    name=t("sweep.suggested_line", lr=f"{result['suggested_learning_rate']:.1e}"))
    if best is not None:
        fig.add_scatter(x=[None], y=[None], mode="markers", marker=dict(symbol="star", color="gray", size=14),
                        name=t("sweep.winner_mark"))
    fig.update_layout(template="plotly_white", height=360, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis_title=t("sweep.x"), yaxis_title=t("sweep.y"), legend=dict(orientation="h", y=-0.3))
    low, high = result["learning_rate_range"]           # the range searched, a little wider
    fig.update_xaxes(type="log", range=[math.log10(low / 1.5), math.log10(high * 1.5)], tickformat=".0e")
    values = [tr["val_score"] for tr in result["trials"] if tr["val_score"] is not None] + list(baselines.values())
    fig.update_yaxes(range=mrr_range(pd.Series(values)))
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
                  epochs=length, head=t(f"head.{head}"), before=f"{best['val_before']:.3f}",
                  score=f"{best['val_score']:.3f}"))
    same = [tr for tr in result["trials"] if tr["state"] == "complete" and tr["metric"] == best["metric"]]
    if len(same) >= 3:
        low, high = result["best_range"]
        words = "sweep.suggestion_within" if result["suggestion_within"] else "sweep.suggestion_outside"
        st.markdown(t(words, lr=f"{result['suggested_learning_rate']:.1e}",
                      range=f"{low:.1e}" if low == high else f"{low:.1e} – {high:.1e}"))
        st.caption(t("sweep.range_rule", trials=", ".join(f"#{n}" for n in result["best_range_trials"])))
    else:
        st.caption(t("sweep.too_few", n=count(len(same), "trial"), mode=mode_name(best["mode"])))
    suggested_line(result.get("suggested"))
    if best["test_score"] is None:
        st.caption(t("sweep.untested" if sweep.finished(result) else "sweep.untested_stopped"))
    else:
        moved = changes(query_ranks.load(run.folder.root, query_ranks.TEST_FILE)).get(head)
        if moved is not None:
            st.markdown(t("sweep.test_line", head=t(f"head.{head}"), before=f"{moved.before:.3f}",
                          after=f"{moved.after:.3f}", words=change_words(moved)))
        show_test_split(run, run_points(store, run.id))
    left, right = st.columns([1, 2])
    if left.button(t("sweep.use"), type="primary", key="sweep_use"):
        state["cfg_mode"] = best["mode"]
        state["cfg_learning_rate"] = state["cfg_lr_from_sweep"] = best["learning_rate"]
        if best["epochs"]:
            state["cfg_epochs"] = best["epochs"]
        draft.save()
        st.switch_page(page("configure"))
    right.caption(t("sweep.use_help", run=run.name))
    right.page_link(page("runs"), label=t("sweep.export"))


def suggested_line(mine: dict | None) -> None:
    """Whether the suggested settings (Configure's mode, the centre learning rate, the longest length) won, and by
    how much, in one sentence that obeys the noise rule."""
    if not mine:
        return
    words = dict(n=mine["number"], mode=mode_name(mine["mode"]), lr=f"{mine['learning_rate']:.2e}",
                 length=count(mine["epochs"], "epoch") if mine["epochs"] else t("sweep.length_steps"))
    if mine["val_score"] is None or mine["outcome"] not in sweep.SCORED_OUTCOMES:
        st.markdown(t("sweep.suggested.unscored", outcome=outcome_words(mine).lower(), **words))
        return
    if "rival" not in mine:
        st.markdown(t("sweep.suggested.alone", **words))
        return
    noise = ("sweep.noise.unknown" if mine["clear"] is None else "sweep.noise.clear" if mine["clear"]
             else "sweep.noise.won_unclear" if mine["won"] else "sweep.noise.lost_unclear")
    st.markdown(t("sweep.suggested.won" if mine["won"] else "sweep.suggested.lost", score=f"{mine['val_score']:.3f}",
                  rival=mine["rival"], rival_score=f"{mine['rival_score']:.3f}", margin=f"{mine['margin']:.3f}",
                  noise=t(noise, q=mine.get("questions") or 0), **words))


def outcome_words(trial: dict) -> str:
    """One status per trial (trainer.sweep.outcome), stop and "go on" included."""
    return t(f"sweep.outcome.{trial['outcome']}", n=trial.get("rerun_as"))


def trial_label(trial: dict) -> str:
    again = trial.get("rerun_of")
    return t("sweep.col.again", n=trial["number"], of=again) if again is not None else f"#{trial['number']}"


def study_view(name: str, was_live: bool) -> None:
    result = sweep.summary(store, name)
    live = result["running"] or result["live_runs"]
    if was_live and not live:
        st.rerun()                 # the search and its trials ended: the whole page again, without the refresh
    st.markdown(t("sweep.status", done=result["ended"], total=result["max_trials"], spent=fmt_duration(result["spent_s"]),
                  budget=fmt_duration(result["budget_minutes"] * 60),
                  state=t("sweep.running" if result["running"] else "sweep.done" if sweep.finished(result)
                          else "sweep.paused")))
    if result["running"]:
        if st.button(t("sweep.stop"), key="sweep_stop"):
            sweep.stop(store, name)
            st.rerun()
    elif not sweep.finished(result):
        if st.button(t("sweep.resume"), key="sweep_resume", disabled=result["live_runs"]):
            sweep.resume(store, name)
            st.rerun()
        tail = sweep.log_tail(store, name).strip()
        if "error" in tail.lower():
            st.code(tail[-1500:])
    scored = [tr for tr in result["trials"] if tr["val_score"] is not None]
    if scored:
        st.plotly_chart(trials_figure(result), key=f"sweep_chart_{name}")
        st.caption(t("sweep.chart_note"))
    if result["trials"]:
        st.dataframe([{t("sweep.col.trial"): trial_label(tr), t("compare.col.mode"): mode_name(tr["mode"]),
                       t("sweep.col.lr"): f"{tr['learning_rate']:.2e}" if tr["learning_rate"] else "–",
                       t("sweep.col.epochs"): str(tr["epochs"] or "–"), t("sweep.col.status"): outcome_words(tr),
                       t("sweep.col.before"): "–" if tr["val_before"] is None else f"{tr['val_before']:.3f}",
                       t("sweep.col.score"): "–" if tr["val_score"] is None else f"{tr['val_score']:.3f}",
                       "id": tr["run_id"] or "–"} for tr in result["trials"]], hide_index=True, width="stretch")
    if not live:
        winner(result)


with st.expander(t("sweep.new"), expanded=not studies):
    new_study()
if studies:
    chosen = state.get("sweep_study") or st.query_params.get("study")
    name = st.selectbox(t("sweep.pick"), studies, index=studies.index(chosen) if chosen in studies else 0,
                        key="sweep_pick")
    state["sweep_study"] = st.query_params["study"] = name        # a reload shows the same study
    live = sweep.active(store, name)
    st.fragment(run_every=3.0 if live else None)(study_view)(name, live)
