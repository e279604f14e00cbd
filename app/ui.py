"""Shared UI helpers: the store, the language, formatting and plotly figures. No torch."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from app.chart_data import HEAD_COLORS, MODE_COLORS, frame
from app.i18n import LANGUAGES, TEXTS
from app.markdown import Md, plain
from trainer.jobs import launch
from trainer.core import paths
from trainer.planning import additions
from trainer.hooks import plotly_figures
from trainer.store import DEFAULT_RUNS_DIR, Store


def get_store() -> Store:
    return _open_store(os.environ.get("M3_RUNS_DIR", DEFAULT_RUNS_DIR))


@st.cache_resource
def _open_store(runs_dir: str) -> Store:
    store = Store(runs_dir)
    launch.recover(store)  # once per app process: runs whose worker died with the app
    launch.start_next(store)  # and the queue goes on where it was
    launch.keep_queue(store)
    return store


def runs_or_stop(store: Store, **query) -> list:
    """The runs (those that `query` asks Store.list_runs for), newest first; with none, say so
    and end the page here."""
    runs = store.list_runs(**query)
    if not runs:
        st.info(t("runs.filter.none") if query else t("train.no_runs"))
        st.stop()
    return runs


def own_folder() -> Optional[Path]:
    """Where this browser's own settings are kept (Configure's draft, the language): one folder per browser id
    (app/door.py gives each browser one, in a cookie), so one user's input never reaches another's session.
    Without a door (AppTest) the runs folder; a browser without the id (cookies off) keeps them in its session
    only (None)."""
    from app import door

    if door.GATE is None:
        return get_store().runs_dir
    ident = st.context.cookies.get(door.BROWSER_COOKIE)
    if not ident:
        return None
    folder = get_store().runs_dir / "browsers" / hashlib.sha256(ident.encode()).hexdigest()[:32]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _settings_path() -> Optional[Path]:
    folder = own_folder()
    return folder / "settings.json" if folder else None


def language() -> str:
    lang = st.session_state.get("lang")     # one look-up: every text of a page asks (1,000 run labels)
    if lang is None:
        try:
            lang = json.loads(_settings_path().read_text()).get("lang", "en")
        except (OSError, ValueError, AttributeError):
            lang = "en"
        st.session_state.lang = lang
    return lang if lang in TEXTS else "en"


def set_language(lang: str) -> None:
    st.session_state.lang = lang
    path = _settings_path()
    if path is None:
        return
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"lang": lang}))
    tmp.replace(path)


def t(key: str, **kwargs) -> Md:
    """The text `key` in the page's language; string arguments are user text unless t made them (plain)."""
    text = TEXTS[language()][key]
    if not kwargs:
        return Md(text)
    return Md(text.format(**{k: plain(v) if isinstance(v, str) and not isinstance(v, Md) else v
                             for k, v in kwargs.items()}))


EVAL_FILES = ("queries.jsonl", "corpus.jsonl", "qrels.tsv")


def readable(typed: str, kind: str = "file", inside: tuple[str, ...] = ()) -> Optional[str]:
    """`typed` if this server lets the dashboard read it as a `kind` ("file", "folder" with the files `inside`;
    trainer.paths), else None, with the refusal shown."""
    try:
        paths.allowed(typed, get_store().runs_dir, kind, inside)
        return typed
    except paths.PathRefused as refused:
        st.error(t("path.refused", why=str(refused)))
        return None


def count(n: int, unit: str) -> str:
    """'1 epoch', '2 epochs': the `count.<unit>` text, 'one|many' (both alike where a language has no plural)."""
    one, many = t(f"count.{unit}").split("|")
    return (one if n == 1 else many).format(n=f"{n:,}")


def labels(pattern: str):
    """A widget format_func for keys like 'mode.{}.title', bound to the language of this rerun
    (format functions may be called outside the script run, where session state is not at hand)."""
    table = TEXTS[language()]
    return lambda value: table[pattern.format(value)]


def lang_key(name: str, carry: bool = True) -> str:
    """The key of a widget whose choices are shown in the current language. The browser keeps a select's
    or radio's value as its shown words, so after a language switch a select would keep the old words and a
    radio would show nothing chosen; one key per language gives a fresh widget. With `carry`, the choice
    moves to the new language's widget (for widgets created without an explicit default)."""
    if carry:
        st.session_state.setdefault("_carried_keys", set()).add(name)
    return f"{name}__{language()}"


def language_picker() -> None:
    current = language()
    choice = st.sidebar.selectbox(t("sidebar.language"), list(LANGUAGES), index=list(LANGUAGES).index(current),
                                  format_func=LANGUAGES.get, key="lang_picker")
    if choice != current:
        state = st.session_state
        for name in state.get("_carried_keys", ()):
            if f"{name}__{current}" in state:
                state[f"{name}__{choice}"] = state[f"{name}__{current}"]
        set_language(choice)
        st.rerun()


def differences(config, studio: Optional[dict] = None) -> str:
    """What a dashboard run adds over the plain FlagEmbedding command (trainer.planning.additions, each entry that
    applies; `studio`: the run's plan's options where it has a plan), as a markdown list."""
    return "\n".join(f"- {w}" for w in additions.words(additions.applied(config, studio), language()))


def mode_name(mode: str) -> str:
    return t(f"mode.{mode}.title")


def status_name(status: str) -> str:
    return t(f"status.{status}")


def fmt_duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_num(value: Optional[float], digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def run_points(store: Store, run_id: str) -> pd.DataFrame:
    """All points of a run, reading only rows that are new since this session's last refresh; the
    frame is rebuilt only when there are some (callers must not change it)."""
    cache = st.session_state.setdefault("_points", {})
    points, df = cache.get(run_id, ([], None))
    new = store.metrics(run_id, after_id=points[-1].id if points else 0)
    if new or df is None:
        points = points + new
        df = frame(points)
        cache[run_id] = (points, df)
    return df


def line_figure(title: str, y_title: str, log_y: bool = False) -> go.Figure:
    fig = go.Figure()
    # A registered template is valid already: set it the way plotly sets its default one, without
    # validating it again (that took ~80 ms a chart on 2 busy cores, most of a Compare rerun).
    plotly_figures.set_template_unvalidated(fig.layout, pio.templates["plotly_white"])
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title=t("chart.step"), yaxis_title=y_title, legend=dict(orientation="h", y=-0.25))
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def head_color(head: str) -> str:
    return HEAD_COLORS[head]


def mode_color(mode: str) -> str:
    return MODE_COLORS[mode]
