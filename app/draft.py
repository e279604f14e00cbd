"""Configure's settings, kept: across visits to other pages (Streamlit drops a widget's value when its page
is not shown), browser reloads (a new session) and language switches, until the user changes them or
presses a preset. Every Configure widget's key starts with `cfg_`; the router calls `keep` on every rerun of
every page, and Configure calls `save` at its end, which writes them to the runs folder."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import streamlit as st

PREFIX = "cfg_"
FILE = "configure.json"
SESSION_ONLY = {"cfg_card"}     # the card the memory plan is drawn for follows the machine: not written


def _path() -> Optional[Path]:
    """This browser's draft (app.ui.own_folder); None: kept in the session only."""
    from app.ui import own_folder

    folder = own_folder()
    return folder / FILE if folder else None


def keep() -> None:
    """A new session starts from the settings saved last; then every `cfg_` value is written back into the
    session state, which makes it the state's own value rather than a widget's, so leaving Configure keeps it.
    A value the state lost anyway is put back from the last write (a walk saw every setting, the learning rate
    included, fall back to its widget's minimum after a visit to the Train page's live view)."""
    state = st.session_state
    if "_draft_loaded" not in state:
        state["_draft_loaded"] = True
        try:
            saved = json.loads(_path().read_text(encoding="utf-8"))
        except (OSError, ValueError, AttributeError):
            saved = {}
        state["_draft_saved"] = {k: v for k, v in saved.items() if k.startswith(PREFIX)}
    for key, value in state["_draft_saved"].items():
        if key not in state:
            state[key] = tuple(value) if isinstance(value, list) else value
    for key in [k for k in state if str(k).startswith(PREFIX)]:
        state[key] = state[key]


def save() -> None:
    """Write the `cfg_` values (those JSON can hold) when they changed since the last write."""
    state = st.session_state
    values = {}
    for key in state:
        if str(key).startswith(PREFIX) and key not in SESSION_ONLY:
            value = state[key]
            if isinstance(value, tuple):
                value = list(value)
            if value is None or isinstance(value, (str, int, float, bool, list)):
                values[key] = value
    if values != state.get("_draft_saved"):
        path = _path()
        if path is not None:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(values, ensure_ascii=False, sort_keys=True), encoding="utf-8")
            tmp.replace(path)
        state["_draft_saved"] = values

