"""Configure and start a run. The page reads top to bottom as its sections, one function each, called in
order at the bottom of this file:

    model_and_data → module_mode → settings (→ RunConfig) → length_buckets → schedule_preview → memory_plan
    → article_claims → start_run

Every widget's value lives in st.session_state under its `cfg_*` key; `settings` turns them into the one
RunConfig that Start, the memory estimate and the equivalent command all use.
"""
import dataclasses
import time
from dataclasses import dataclass
from typing import Optional

import plotly.graph_objects as go
import streamlit as st

from app import draft
from app.nav import page
from app.chart_data import stacked
from app.ui import (EVAL_FILES, count, differences, fmt_duration, get_store, lang_key, line_figure, labels,
                    readable, t)
from trainer.jobs import tools
from trainer.sizing import advice, article_vs_measured, estimate, memory
from trainer.planning import checks, reproduce
from trainer.core import gpus
from trainer.jobs import launch
from trainer.planning import plan as run_plan
from app.fields_ui import widget
from trainer.core.config import DEFAULT_MODEL, DEMO_DATA, PRESETS, SPLIT, Mode, RunConfig
from app.scan_ui import problem_lines, scan_for
from app.datasets_ui import dataset_name, language_check
from trainer.data import scan
from trainer.core.config import resolve_train
from trainer.core.model_source import EMBEDDED_NAME, EMBEDDED_PACKAGE, Note, display_name, model_refusal, model_notes
from trainer.sizing.memory import model_shape
from trainer.store.run_folder import RunFolder
from trainer.store import COMPLETED, STOPPED, WAITING

store = get_store()
state = st.session_state
defaults = RunConfig()
LONG_RUN_S = 15 * 60       # a run estimated longer than this says so, and offers lengths that fit a budget


@dataclass
class Source:
    """What section 1 chose: the model (never empty) and the data."""
    model: str
    train_data: str
    eval_data: Optional[str]
    notes_box: st.delta_generator.DeltaGenerator   # the model's notes, filled once the config is known


@dataclass
class Found:
    """Facts the settings section found, which the later sections show next to the config."""
    report: Optional[scan.ScanResult]      # the training file's scan (None: no file chosen, or being scanned)
    scanning: bool                         # a child process is scanning the file (or its scan failed): Start waits
    rows: Optional[int]
    shape: Optional[memory.Shape]          # None: the estimator does not know this model
    found: list[gpus.Gpu]                  # GPUs on this machine
    total: int                             # optimizer steps of the run
    warmup: int
    train_rows: Optional[int] = None       # the rows it trains on (after the held-out split)
    buckets: Optional[dict] = None         # the length buckets' plan (trainer.buckets), when they are on
    model_refusal: Optional[Note] = None   # a model this machine cannot train (trainer.model_source.model_refusal)


# Helpers the sections use ---------------------------------------------------------------------------
def suggested_lengths(data: scan.ScanResult, model: str) -> tuple[int, int, int, int] | None:
    """The data's suggested query/passage lengths and their 95th percentiles: from the scan's sample, kept
    with the scan in the store (per model)."""
    tip = scan.lengths(store, data, model)
    return (tip["query_max_len"], tip["passage_max_len"], tip["query_p95"], tip["passage_p95"]) if tip else None


@st.cache_data(max_entries=16, show_spinner=False)
def split_rows_for(scan_id: int, train_data: str, val: float, test: float, seed: int) -> int:
    """The rows a split run trains on, once per version of the file (its scan)."""
    return estimate.training_rows(store, RunConfig(train_data=train_data, eval_data=SPLIT, val_fraction=val,
                                                   test_fraction=test, seed=seed))[0] or 0


def choose_mode(value: str) -> None:
    state["cfg_mode"] = value


def preset_label(name: str) -> str:
    """A preset's button text, from its values in trainer.config.PRESETS."""
    values = PRESETS[name]
    return t("preset", mode=t(f"mode.{values['mode'].value}.title"), batch=values["batch_size"],
             lr=f"{values['learning_rate']:.0e}".replace("e-0", "e-"))


def apply_preset(name: str) -> None:
    for field, value in PRESETS[name].items():
        state[f"cfg_{field}"] = value.value if isinstance(value, Mode) else value
    state["cfg_warmup_auto"] = True
    state["preset_applied"] = name


# 1. Model and data ----------------------------------------------------------------------------------
def model_and_data() -> Source:
    st.subheader(t("configure.model_data"))
    left, right = st.columns(2)
    model_choice = left.radio(t("configure.model"), ["default", "custom"], horizontal=True,
                              format_func=labels("configure.model.{}"), key=lang_key("cfg_model_choice"))
    model = DEFAULT_MODEL
    if model_choice == "custom":
        state.setdefault("cfg_model", "BAAI/bge-m3")
        model = left.text_input(t("configure.model_path"), key="cfg_model", help=t("field.model")).strip()
    notes_box = left.container()          # filled once the mode is known (heads notes depend on it)
    data_choice = right.radio(t("configure.data"), ["demo", "dataset", "path"], horizontal=True,
                              format_func=labels("configure.data.{}"), key=lang_key("cfg_data_choice"))
    train_data, eval_data = DEMO_DATA, DEMO_DATA
    if data_choice != "demo":
        if data_choice == "dataset":
            train_data = dataset_picker(right)
        else:
            train_data = right.text_input(t("configure.train_path"), key="cfg_train",
                                          help=t("field.train_data")).strip()
            if train_data and readable(train_data) is None:
                st.stop()                   # a path this server does not let the page read: nothing more to plan
        # Held out of the user's own file by default: validation for early stopping, a test split for the result.
        eval_choice = right.radio(t("configure.eval_choice"), ["split", "folder", "none"], horizontal=True,
                                  format_func=labels("configure.eval_choice.{}"), key=lang_key("cfg_eval_choice"),
                                  help=t("field.eval_data"))
        eval_data = SPLIT if eval_choice == "split" else None
        if eval_choice == "folder":
            eval_data = right.text_input(t("configure.eval_path"), key="cfg_eval").strip() or None
            if eval_data and readable(eval_data, "folder", EVAL_FILES) is None:
                st.stop()
    return Source(model or DEFAULT_MODEL, train_data, eval_data, notes_box)


def dataset_picker(column) -> str:
    """The run store's named datasets (the Data page's uploads and mined files), newest first: a path."""
    known = store.datasets()
    if not known:
        column.info(t("configure.no_datasets"))
        return ""
    paths = [d["path"] for d in known]
    if state.get("cfg_dataset") not in paths:
        state["cfg_dataset"] = paths[0]
    names = {d["path"]: dataset_name(d) for d in known}
    return column.selectbox(t("configure.dataset"), paths, format_func=names.get, key="cfg_dataset")


# 2. Module mode: clickable cards, the chosen one highlighted; the four scores in plain words ----------
def module_mode() -> Mode:
    st.subheader(t("configure.mode"))
    st.caption(t("configure.terms"))
    mode = Mode(state["cfg_mode"])
    st.markdown(f"<style>.st-key-card_{mode.value} {{border: 2px solid #2563eb !important; "
                "background: rgba(37, 99, 235, 0.06)}}</style>", unsafe_allow_html=True)
    for column, m in zip(st.columns(3), Mode):
        with column.container(border=True, key=f"card_{m.value}"):
            st.markdown(f"**{t(f'mode.{m.value}.title')}**")
            st.write(t(f"mode.{m.value}.trains"))
            st.write(t(f"mode.{m.value}.cost"))
            st.write(t(f"mode.{m.value}.when"))
            chosen = m is mode
            st.button(t("configure.mode_chosen") if chosen else t("configure.mode_choose"), key=f"mode_{m.value}",
                      type="primary" if chosen else "secondary", on_click=choose_mode, args=(m.value,),
                      help=t("configure.mode_flags", flags=m.flags), width="stretch")
    return mode


# 3. Settings: presets, sizes, lengths, learning rate, GPUs, warmup, heads, recipe → one RunConfig -----
def settings(source: Source, mode: Mode) -> tuple[RunConfig, Found]:
    st.subheader(t("configure.hyper"))
    for preset, column in zip(PRESETS, st.columns(len(PRESETS) + 1)):
        column.button(preset_label(preset), key=f"preset_{preset}", on_click=apply_preset, args=(preset,))
    st.caption(t("configure.presets_note"))
    # The training file's scan (trainer.data.scan), once per version of the file and kept in the store: counts
    # and problems come from it, never from reading the rows here. A big file is scanned by a child process;
    # until it is done a progress bar shows here and Start waits.
    report = scan_for(store, resolve_train(source.train_data), "cfg", source.model) if source.train_data else None
    scanning = bool(source.train_data) and report is None
    rows = report.rows if report else None

    # Sizes and precision (every widget from the field registry: app/fields_ui.py, trainer/core/fields.py)
    values = {name: widget(column, name) for name, column in
              zip(("epochs", "batch_size", "group_size", "precision"), st.columns(4))}
    length_fields(values, report, source.model)
    shape, warmup_column = learning_rate_field(values, source.model, rows)
    found = gpu_fields(values)
    train_rows, total, warmup = warmup_field(values, warmup_column, report, source)
    recipe_fields(values, mode, report)
    if report is not None and report.without_negatives:
        st.info(t("configure.pairs", n=f"{report.without_negatives:,}", total=f"{report.rows:,}"))
    if report is not None and report.rows:
        language_check(st, report, source.model, t("configure.model.default") if source.model == DEFAULT_MODEL
                       else source.model)
    if state.get("preset_applied"):
        st.caption(t("configure.preset_applied", preset=preset_label(state["preset_applied"]), warmup=warmup,
                     total=total))

    config = RunConfig(mode=mode, model=source.model, train_data=source.train_data, eval_data=source.eval_data,
                       **values)
    # A hub id neither cached nor reachable, or a path that is not a model folder, is refused here, as soon as
    # it is chosen (Start waits for a model this machine has): what is missing and how to get it.
    refusal = model_refusal(source.model, store.runs_dir)
    if refusal is not None:
        source.notes_box.error(t(f"note.{refusal.key}", **refusal.params))
    for note in model_notes(config) if refusal is None else ():    # (notes on a model it cannot use: none)
        source.notes_box.info(t(f"note.{note.key}", **shown_params(note)))
    return config, Found(report, scanning, rows, shape, found, total, warmup, train_rows, model_refusal=refusal)


def length_fields(values: dict, report: Optional[scan.ScanResult], model: str) -> None:
    """Truncation lengths (following the data until edited) and early stopping."""
    lengths = suggested_lengths(report, model) if report is not None and report.rows else None
    if lengths and tuple(state.get("cfg_len_followed") or ()) != lengths:
        # New data or model: the length fields take the data's suggestion (an edit then stays until the next one).
        state["cfg_query_max_len"], state["cfg_passage_max_len"] = lengths[:2]
        state["cfg_len_followed"] = lengths
    columns = st.columns(4)
    values |= {name: widget(column, name) for name, column in zip(
        ("query_max_len", "passage_max_len", "early_stopping_patience", "early_stopping_min_epochs"), columns)}
    if lengths:
        st.caption(t("configure.lengths_suggested", q=lengths[0], p=lengths[1], qp95=lengths[2], pp95=lengths[3]))
    if values["early_stopping_patience"] and values["early_stopping_min_epochs"] >= values["epochs"]:
        columns[3].caption(t("configure.min_epochs_long", epochs=count(values["epochs"], "epoch"),
                             min=count(values["early_stopping_min_epochs"], "epoch")))


def learning_rate_field(values: dict, model: str, rows: Optional[int]):
    """The learning rate, suggested from the model's size and the data's rows (following them until edited); returns
    the model's shape (None: unknown to the estimator) and the column the warmup field goes in."""
    try:
        shape = model_shape(model)
    except ValueError as unknown:
        shape = None
        st.caption(str(unknown))
    params = shape.encoder_params if shape else advice.BGE_M3_PARAMS
    suggested = advice.suggest_lr(params, rows or 1000)
    if state.get("cfg_lr_followed") != suggested:
        # A new model or data set brings a new suggestion: the field takes it (an edit then stays until the next one).
        state["cfg_learning_rate"] = state["cfg_lr_followed"] = suggested
    lr_column, warmup_column, advice_column = st.columns([1, 1, 2])
    lr = values["learning_rate"] = widget(lr_column, "learning_rate")
    advice_column.caption(t("configure.lr_suggested", lr=f"{suggested:.1e}", rows=rows or 0,
                            params=f"{params / 1e6:.0f}"))
    if state.get("cfg_lr_from_sweep") == lr:
        advice_column.caption(t("configure.lr_from_sweep"))
    elif lr > 0 and not 0.5 <= lr / suggested <= 2:
        advice_column.warning(t("configure.lr_far", lr=f"{lr:.1e}", suggested=f"{suggested:.1e}",
                                rows=rows or 0))
    return shape, warmup_column


def gpu_fields(values: dict) -> list[gpus.Gpu]:
    """GPUs (torchrun --nproc_per_node N, one process per GPU), gradient checkpointing and ZeRO; this machine's GPUs."""
    found = gpus.detect()
    values |= {name: getattr(defaults, name) for name in ("num_gpus", "negatives_cross_device", "zero_stage",
                                                          "gradient_checkpointing")}
    if len(found) > 1:
        g1, g2 = st.columns([1, 3])
        state["cfg_num_gpus"] = min(state.get("cfg_num_gpus", 1), len(found))     # kept from another machine?
        num_gpus = values["num_gpus"] = int(g1.number_input(t("configure.gpus"), 1, len(found), key="cfg_num_gpus",
                                                            help=t("field.num_gpus")))     # as many as are here
        if num_gpus > 1:
            values["negatives_cross_device"] = widget(g2, "negatives_cross_device")
    if found:
        # GPU memory: gradient checkpointing, and DeepSpeed ZeRO across several GPUs (the estimate below follows)
        z1, z2 = st.columns([1, 3])
        values["gradient_checkpointing"] = widget(z1, "gradient_checkpointing")
        if values["num_gpus"] > 1:
            values["zero_stage"] = widget(z2, "zero_stage")
    return found


def warmup_field(values: dict, column, report: Optional[scan.ScanResult], source: Source) -> tuple[Optional[int], int, int]:
    """Warmup: automatic (a share of the run's steps) unless set; the steps count the rows the run trains on, after
    the held-out split (trainer.sizing.estimate.training_rows). Returns (rows trained on, steps, warmup steps)."""
    train_rows = report.rows if report else None
    if report is not None and report.rows and source.eval_data == SPLIT:
        train_rows = split_rows_for(report.scan_id, source.train_data, defaults.val_fraction, defaults.test_fraction,
                                    defaults.seed)
    total, warmup = run_plan.schedule(RunConfig(batch_size=values["batch_size"], epochs=values["epochs"]),
                                      train_rows or 0, values["num_gpus"])
    warm_auto = column.checkbox(t("configure.warmup_auto"), key="cfg_warmup_auto")
    values["warmup_steps"] = defaults.warmup_steps
    if not warm_auto:
        state.setdefault("cfg_warmup_steps", warmup)        # an edit starts from the automatic value
        warmup = values["warmup_steps"] = widget(column, "warmup_steps", min_value=0)
    return train_rows, total, warmup


def recipe_fields(values: dict, mode: Mode, report: Optional[scan.ScanResult]) -> None:
    """The sparse head, tracking, and the recipe's options (mining, self-distillation, teacher scores, heads' LR)."""
    values["sparse_head"] = widget(st, "sparse_head") if mode.unified_finetuning else defaults.sparse_head
    values["report_to"] = widget(st, "report_to")
    with st.expander(t("configure.recipe")):
        r1, r2, r3 = st.columns(3)
        values["mine"] = widget(r1, "mine")
        values["self_distill"] = widget(r2, "self_distill", disabled=not mode.unified_finetuning)
        scored = bool(report and report.rows) and report.scored_rows == report.rows
        state.setdefault(f"cfg_teacher_scores_{scored}", scored)   # on by default when every row is scored
        values["teacher_scores"] = bool(r3.checkbox(t("configure.teacher"), key=f"cfg_teacher_scores_{scored}",
                                                    help=t("field.teacher_scores"), disabled=not scored))
        values["heads_lr_scale"] = widget(r1, "heads_lr_scale", disabled=not mode.unified_finetuning)
        st.caption(t("configure.recipe_measured"))


def shown_params(note: Note) -> dict:
    """A note's values as this page shows them: the embedded model by its name in the page's language."""
    embedded = display_name(DEFAULT_MODEL)
    return {k: t("configure.model.embedded", name=EMBEDDED_NAME, package=EMBEDDED_PACKAGE.replace("_", "-"))
            if v == embedded else v for k, v in note.params.items()}


# Length buckets: rows grouped by token length, each group's batch what the estimator fits -------------
@st.cache_data(max_entries=8, show_spinner=False)
def _bucket_plan(train_data: str, scan_id: int, _data: scan.ScanResult, model: str, mode: str, group: int, qlen: int,
                 sparse_head: str, batch: int, num_gpus: int, precision: str, card: float) -> dict:
    """trainer.sizing.buckets' plan for this file version (its scan's sample: every row up to scan.SAMPLE_ROWS) and
    these settings, or {'error': words}."""
    from trainer.sizing.buckets import length_plan_for_run
    from trainer.data import DataError

    cfg = RunConfig(mode=Mode(mode), model=model, group_size=group, query_max_len=qlen, sparse_head=sparse_head,
                    batch_size=batch, length_buckets="auto")
    try:
        rows = scan.sample_rows(store, _data)
        return length_plan_for_run(cfg, rows, gpu_gib=card, precision=precision, world=num_gpus,
                            source=str(resolve_train(train_data))).to_dict()
    except (DataError, ValueError, OSError) as e:
        return {"error": str(e)}


def length_buckets(config: RunConfig, facts: Found) -> tuple[RunConfig, Found]:
    """A switch; on, the plan as a table and a chart, and the run's steps counted per bucket."""
    if not st.toggle(t("configure.buckets"), key="cfg_length_buckets", help=t("field.length_buckets")):
        return config, facts
    config = config.replace(length_buckets="auto")
    if not (facts.report and facts.report.rows):
        st.info(t("configure.buckets_no_data"))
        return config, facts
    from trainer.sizing.buckets import card_gib_for

    card = card_gib_for(config)
    with st.spinner():
        result = _bucket_plan(config.train_data, facts.report.scan_id, facts.report, config.model,
                              config.mode.value, config.group_size, config.query_max_len, config.sparse_head,
                              config.batch_size, config.num_gpus, gpus.planned_precision(config.precision), card)
    if "error" in result:
        st.error(t("configure.buckets_error", error=result["error"]))
        return config, facts
    buckets = result["buckets"]
    scale = facts.report.rows / max(1, facts.report.sample_rows)
    if scale > 1:      # planned over the scan's sample: its counts stand for the whole file's
        st.caption(t("configure.buckets_sampled", sample=f"{facts.report.sample_rows:,}", rows=f"{facts.report.rows:,}"))
        buckets = [dict(b, rows=round(b["rows"] * scale), steps_per_epoch=round(b["steps_per_epoch"] * scale))
                   for b in buckets]
        result = dict(result, rows=facts.report.rows, steps_per_epoch=sum(b["steps_per_epoch"] for b in buckets))
    names = [f"{b['min_len']}–{b['max_len']}" for b in buckets]
    st.caption(t("configure.buckets_caption", card=card, gpus=config.num_gpus, rows=result["rows"], count=len(buckets),
                 steps=result["steps_per_epoch"], batch=config.batch_size))
    st.dataframe([{t("bucket.tokens"): n, t("bucket.rows"): b["rows"], t("bucket.batch"): b["batch_size"],
                   t("bucket.estimate"): b["estimate_gib"], t("bucket.ckpt"): "✓" if b["grad_ckpt"] else "",
                   t("bucket.steps"): b["steps_per_epoch"], t("bucket.why"): b["why"]}
                  for n, b in zip(names, buckets)], hide_index=True, key="bucket_table")
    fig = go.Figure([go.Bar(x=names, y=[b["rows"] for b in buckets], name=t("bucket.rows")),
                     go.Scatter(x=names, y=[b["batch_size"] for b in buckets], name=t("bucket.batch"),
                                mode="lines+markers+text", text=[str(b["batch_size"]) for b in buckets],
                                textposition="top center", yaxis="y2")])
    fig.update_layout(height=280, title=t("configure.buckets_chart"), yaxis_title=t("bucket.rows"),
                      yaxis2=dict(title=t("bucket.batch"), overlaying="y", side="right", rangemode="tozero"),
                      legend=dict(orientation="h"))
    st.plotly_chart(fig, width="stretch", key="bucket_chart")
    for note in result["notes"]:
        st.caption(note)
    total, warmup = run_plan.schedule(config, result["rows"], config.num_gpus, result["steps_per_epoch"])
    return config, dataclasses.replace(facts, total=total, warmup=warmup, buckets=result)


# The schedule this run will follow, and a word when warmup eats most of it ---------------------------
def schedule_preview(config: RunConfig, facts: Found) -> None:
    lr, warmup, total = config.learning_rate, facts.warmup, facts.total
    if total > 0:
        curve = advice.lr_curve(lr, warmup, total)
        reach = max(v for _, v in curve) / lr if lr else 1.0
        if reach < 0.99:
            st.warning(t("configure.warmup_long", warmup=warmup, total=total, reach=f"{reach:.0%}"))
        fig = line_figure(t("configure.lr_preview", steps=total, warmup=warmup), t("chart.lr"))
        fig.add_trace(go.Scatter(x=[s for s, _ in curve], y=[v for _, v in curve], mode="lines",
                                 name=t("chart.lr")))
        fig.update_layout(height=240)
        st.plotly_chart(fig, width="stretch")
    elif facts.rows is None:
        st.info(t("configure.no_rows"))


# 4. Memory: no GPU says so first, with this machine's facts; then the estimate per mode for a card ----
def memory_plan(config: RunConfig, facts: Found) -> Optional[checks.MemoryShortfall]:
    """Returns the run's memory shortfall on this machine (trainer.checks: the rule the CLI applies too), if any:
    Start then asks for a confirmation."""
    st.subheader(t("configure.memory"))
    short = checks.memory_shortfall(config, store) if facts.rows and facts.model_refusal is None else None
    if not facts.found:
        cores, ram = gpus.cpu_facts()
        st.info(t("configure.no_gpu", cores=cores, ram=ram))
        if facts.shape is not None and config.train_data and short is None:
            need = estimate.cpu_memory_gib(store, config, facts.shape, ram)
            (st.warning if need > 0.8 * ram else st.caption)(t("configure.cpu_estimate", need=need, ram=ram))
    if short is not None:
        memory_refusal(short)
    if facts.shape is not None:
        gpu_plan(st.expander(t("configure.plan_gpu")) if not facts.found else st.container(), config, facts)
    return short


def memory_refusal(short: checks.MemoryShortfall) -> None:
    """The run does not fit this machine: by how much, and each change that fits, one click each."""
    where = t("configure.memory_short.cpu") if short.device == "cpu" else short.device
    st.error(t("configure.memory_short", need=short.need_gib, have=short.have_gib, where=where))
    if not short.fixes:
        st.caption(t("configure.memory_short.none"))
        return
    st.caption(t("configure.memory_short.fixes"))
    for (name, value, need), column in zip(short.fixes, st.columns(len(short.fixes))):
        shown = t(f"mode.{value}.title") if name == "mode" else value
        column.button(t(f"configure.memory_fix.{name}", value=shown, need=need), key=f"memory_fix_{name}",
                      on_click=apply_fix, args=(name, value))


def apply_fix(name: str, value) -> None:
    if name == "mode":
        choose_mode(value)
    else:
        state[f"cfg_{name}"] = value


def gpu_plan(container, config: RunConfig, facts: Found) -> None:
    """The estimate per mode as stacked bars for one card, the largest batch per mode, and a real
    measurement on this machine's GPU on request."""
    found, shape, mode = facts.found, facts.shape, config.mode
    cards = ([f"detected:{found[0].memory_gib:.1f}"] if found else []) + [str(gb) for gb in memory.CARD_GIB]
    c1, c2 = container.columns([1, 3])
    card = c1.selectbox(t("configure.card"), cards, key="cfg_card", format_func=lambda c: t(
        "configure.card.detected", name=found[0].name, gib=c.split(":")[1]) if c.startswith("detected") else f"{c} GB")
    detected = card.startswith("detected")
    gpu_gib = float(card.split(":")[1]) if detected else float(card)
    bf16 = found[0].bf16 if detected else True          # the listed sizes' current cards all have bf16
    est_precision = memory.setup_for(config, shape, gpu_gib, bf16).precision
    estimates = {m: memory.estimate(memory.setup_for(config.replace(mode=m), shape, gpu_gib, bf16)) for m in Mode}
    bars = go.Figure()
    names = [t(f"mode.{m.value}.title") for m in Mode]
    for part, values in stacked({m.value: e.breakdown for m, e in estimates.items()}).items():
        bars.add_trace(go.Bar(x=names, y=values, name=t(f"memory.{part}")))
    bars.add_trace(go.Scatter(x=names, y=[e.total_gib for e in estimates.values()], mode="text", showlegend=False,
                              text=[f"{e.total_gib:.1f} GiB" for e in estimates.values()], textposition="top center"))
    usable, top = estimates[mode].usable_gib, max(e.total_gib for e in estimates.values())
    if usable <= 3 * top:             # else the card's line would squash the bars to slivers
        bars.add_hline(y=usable, line_dash="dot", annotation_text=t("configure.card_line"))
    else:
        c1.caption(t("configure.card_far", usable=usable))
    bars.update_layout(barmode="stack", height=320, margin=dict(l=10, r=10, t=40, b=10), template="plotly_white",
                       yaxis_title="GiB", title=t("configure.memory_chart", precision=est_precision,
                                                  batch=config.batch_size, sparse=config.sparse_head))
    c2.plotly_chart(bars, width="stretch")
    c1.caption(" · ".join(t("configure.max_batch", mode=t(f"mode.{m.value}.title"), n=e.max_batch)
                          for m, e in estimates.items()))
    chosen = estimates[mode]
    if not chosen.fits:
        container.warning(t("configure.wont_fit", need=chosen.total_gib + chosen.headroom_gib,
                            have=chosen.usable_gib, n=chosen.max_batch))
    if found and c1.button(t("configure.measure"), key="measure"):      # a GPU to measure on: this machine's
        if launch.active_runs(store):
            c1.warning(t("configure.measure.busy"))
        else:
            with st.spinner(t("configure.measure.running")):
                state["measured"] = tools.probe_memory(
                    config.model, mode.value, config.batch_size, config.group_size, config.query_max_len,
                    config.passage_max_len, est_precision, config.sparse_head)
    probe = state.get("measured", {}).get("measured")
    if probe:
        if probe.get("status") == "ok":
            c1.success(t("configure.measure.result", peak=probe["peak_gib"], est=state["measured"]["total_gib"],
                         device=probe.get("device", "")))
        else:
            c1.warning(t(f"configure.measure.{probe.get('status', 'error')}", detail=probe.get("detail", "")))


# The article's claims next to our GPU measurements (trainer/article_vs_measured.py) -------------------
def article_claims() -> None:
    with st.expander(t("claims.title")):
        cells, speed, device = article_vs_measured.load()
        if not cells:
            st.info(t("claims.none"))
            return
        st.caption(t("claims.caption", device=device))
        pct = lambda v: "–" if v is None else f"{v:+.0%}"  # noqa: E731
        st.table([{t("claims.col.claim"): t(f"claims.{row['claim']}"), t("claims.col.claimed"): pct(row["claimed"]),
                   t("claims.col.stock"): pct(row["measured"]["stock"]),
                   t("claims.col.lean"): pct(row["measured"]["lean"])}
                  for row in article_vs_measured.claims(cells, speed)])


# 5. Start: the summary, data errors (skip bad rows?), Start / compare all modes, the equivalent command
def start_run(config: RunConfig, facts: Found, short: Optional[checks.MemoryShortfall] = None) -> None:
    report = facts.report
    st.subheader(t("configure.start_section"), anchor="start")
    st.caption(t("configure.summary", mode=t(f"mode.{config.mode.value}.title"), steps=count(facts.total, "step"),
                 lr=f"{config.learning_rate:.1e}", batch=config.batch_size, epochs=count(config.epochs, "epoch")))
    if facts.rows and facts.train_rows is not None and facts.train_rows != facts.rows:
        st.caption(t("configure.train_rows", rows=f"{facts.train_rows:,}", total=f"{facts.rows:,}"))
    if facts.rows:
        run_time(config, facts)
    if report is not None and report.error_count:
        st.error(t("configure.data_errors", count=f"{report.bad_rows:,}"))
        st.code(problem_lines(report.errors, report.error_count, 10))
        if report.rows and st.checkbox(t("configure.skip_bad", bad=f"{report.bad_rows:,}", good=f"{report.rows:,}"),
                                       key="cfg_skip_bad_rows", help=t("field.skip_bad_rows")):
            config = config.replace(skip_bad_rows=True)
    # A held-out split the file is too small for stops Start here, not after the click
    split = checks.split_check(config, store, scan.ensure(store, resolve_train(config.train_data))) \
        if facts.rows and not facts.scanning else []
    if split:
        st.error(t("configure.split_refused"))
        st.code(problem_lines(split, len(split), 10))
    # A model this machine cannot get stops Start (the reason is shown with the model, above); a run the memory
    # estimate says does not fit starts only once the user accepts it may run out of memory.
    if facts.model_refusal is not None:
        st.error(t("configure.model_refused"))
    memory_ok = short is not None and st.checkbox(t("configure.memory_anyway"), key="memory_anyway",
                                                  help=t("configure.memory_anyway.help"))
    held = facts.scanning or facts.model_refusal is not None or bool(split)
    start, compare, search = st.columns([1, 1, 2])
    try:
        run_id = None
        if facts.scanning:
            start.caption(t("configure.scanning"))
        if start.button(t("configure.start"), type="primary", key="start",
                        disabled=held or (short is not None and not memory_ok)):
            run_id = launch.start(store, config, memory_ok=memory_ok)
        if compare.button(t("configure.compare_modes"), key="compare_modes", help=t("configure.compare_modes.help"),
                          disabled=held):
            run_id = launch.enqueue(store, [config.replace(mode=m) for m in Mode], memory_ok=memory_ok)[0]
        if search.button(t("configure.sweep"), key="find_settings", help=t("configure.sweep.help"),
                         disabled=held):
            state["cfg_sweep_base"] = config.to_json()      # a cfg_ value: kept across pages and reloads (app.draft)
            draft.save()
            st.switch_page(page("sweep"))
    except launch.RunBusy as busy:
        st.warning(t("configure.busy", detail=str(busy)))
    except launch.InvalidRun as invalid:
        st.error(t("configure.invalid", count=count(len(invalid.problems), "problem")))
        st.code(str(invalid))
    if run_id:
        state["run_id"] = run_id
        draft.save()          # a value typed just before Start reaches the store with that click's rerun
        st.switch_page(page("train"))
    waiting = [r.name for r in reversed(store.list_runs()) if r.status == WAITING]
    if waiting:
        st.caption(t("configure.waiting", runs=", ".join(waiting)))
    with st.expander(t("configure.command")):
        # The run's plan as Start will make it (trainer.planning.plan.initial): a split, mined or converted file is trained from
        # the run folder's train.jsonl, written at Start; length buckets from one file each
        folder = RunFolder("RUN_FOLDER")
        length_plan = bucket_files = None
        if facts.buckets:
            from trainer.sizing import buckets
            length_plan = buckets.from_dict(facts.buckets)
            bucket_files = [str(buckets.bucket_file(folder.buckets, b)) for b in length_plan.buckets]
        preview = run_plan.initial(config, folder, "RUN_ID", facts.report, cuda=bool(facts.found),
                                   precision=gpus.planned_precision(config.precision), rows=facts.train_rows,
                                   lengths=length_plan, bucket_files=bucket_files)
        st.code(reproduce.shell(reproduce.command(preview, "OUTPUT_DIR")), language="bash")
        st.markdown(differences(config, preview.studio))


# How long it will take here: scaled from a measured run, or a short speed check ---------------------
def run_time(config: RunConfig, facts: Found) -> None:
    gpu = bool(facts.found)
    device = facts.found[0].name if gpu else t("configure.time.cpu", cores=gpus.cpu_facts()[0])
    guess = estimate.for_run(store, config, facts.train_rows, gpu, steps=facts.total)
    if guess is None:
        seconds = round(estimate.speed_check_seconds(store, config))
        left, right = st.columns([3, 1])
        left.info(t("configure.time.none", device=device, seconds=seconds))
        if right.button(t("configure.time.measure", seconds=seconds), key="speed_check",
                        disabled=facts.model_refusal is not None):
            speed_check(config)
        return
    text = t("configure.time.estimate", time=fmt_duration(guess.seconds), device=device, steps=guess.steps,
             step_s=f"{guess.step_s:.2f}", evals=guess.evaluations, eval_s=f"{guess.eval_s:.1f}",
             startup=fmt_duration(guess.startup_s), source=guess.source)
    slowed = guess.slowed >= estimate.SLOWED
    if slowed:
        text += " " + t("configure.time.slowed", slowed=f"{guess.slowed:.1f}")
    queue = {m: estimate.for_run(store, config.replace(mode=m), facts.train_rows, gpu, steps=facts.total) for m in Mode}
    if all(queue.values()):
        text += " " + t("configure.time.queue", total=fmt_duration(sum(e.seconds for e in queue.values())))
    if guess.seconds <= LONG_RUN_S:
        st.caption(text)
        return
    st.warning(text + " " + t("configure.time.long"))
    if slowed:     # advice resting on a stretched measurement is held back
        left, right = st.columns([3, 1])
        left.caption(t("configure.time.unsound"))
        if right.button(t("configure.time.measure", seconds=round(estimate.speed_check_seconds(store, config))),
                        key="speed_check", disabled=facts.model_refusal is not None):
            speed_check(config)
        return
    left, right = st.columns([1, 2])
    budget = left.number_input(t("configure.time.budget"), 1, 10000, key="cfg_time_budget_min",
                               help=t("configure.time.budget.help"))
    fit = estimate.fit_passage_len(store, config, facts.train_rows or 0, budget * 60, gpu)
    if fit is None:
        right.caption(t("configure.time.no_fit", budget=budget))
    elif fit.passage_max_len < config.passage_max_len:
        right.button(t("configure.time.fit", length=fit.passage_max_len, budget=budget), key="fit_lengths",
                     on_click=lambda: state.update(cfg_passage_max_len=fit.passage_max_len))
        if fit.typical:
            cut = t("configure.time.fit_cut", length=fit.passage_max_len, dropped=f"{fit.dropped:.0%}",
                    typical=fit.typical)
            (right.warning if fit.passage_max_len < fit.typical else right.caption)(cut)


def speed_check(config: RunConfig) -> None:
    """A few real training steps of this model, mode, batch and lengths on the demo rows, in the runs folder's
    speed store, stopped once they have stepped for estimate.SPEED_BUDGET_S; the estimate above is then scaled
    from it."""
    from trainer.store import Store

    if launch.active_runs(store):
        st.warning(t("configure.measure.busy"))
        return
    speed = Store(store.runs_dir / estimate.SPEED_DIR)
    with st.spinner(t("configure.time.measuring")):
        try:
            run_id = launch.start(speed, estimate.speed_check_config(config))
        except (launch.RunBusy, launch.InvalidRun) as refused:
            st.warning(str(refused))
            return
        deadline = time.time() + 600
        while speed.get_run(run_id).live and time.time() < deadline:
            if estimate.speed_check_done(speed, run_id):
                speed.request_stop(run_id)
            time.sleep(0.5)
    run = speed.get_run(run_id)
    if run.status not in (COMPLETED, STOPPED) or estimate.measure(speed, run) is None:
        st.error(t("configure.measure.error", detail=run.error or run.status))
    else:
        st.rerun()


# The page, top to bottom -----------------------------------------------------------------------------
st.title(t("configure.title"))
# Each widget starts from RunConfig's default (kept from then on: app.draft)
for name in ("epochs", "batch_size", "group_size", "query_max_len", "passage_max_len", "early_stopping_patience",
             "early_stopping_min_epochs", "heads_lr_scale", "self_distill"):
    state.setdefault(f"cfg_{name}", getattr(defaults, name))
state.setdefault("cfg_mode", defaults.mode.value)
state.setdefault("cfg_warmup_auto", True)
state.setdefault("cfg_time_budget_min", 15)
st.markdown(t("configure.start_here"))
source = model_and_data()
mode = module_mode()
config, facts = settings(source, mode)
config, facts = length_buckets(config, facts)
schedule_preview(config, facts)
short = memory_plan(config, facts)
article_claims()
start_run(config, facts, short)
draft.save()
