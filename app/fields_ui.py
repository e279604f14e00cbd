"""Configure's setting widgets, generated from trainer.fields: one call per setting gives its label, its bounds
or choices (the ones the checks hold it to), its number format and its help text (`field.NAME`). The value is
kept under the key `cfg_NAME` (per language for a widget whose options are words), which app.draft keeps across
pages and reloads."""
from __future__ import annotations

import typing

from app.ui import labels, lang_key, t
from trainer.core.config import RunConfig
from trainer.core.fields import CHOICES, FIELDS

OPTION_WORDS = {"precision": "precision.{}"}      # the keys of an option's words; others: configure.NAME.{}
SIDE_BY_SIDE = {"sparse_head", "zero_stage"}      # a few options: a horizontal radio, not a select box
KINDS = typing.get_type_hints(RunConfig)


def widget(container, name: str, *, disabled: bool = False, min_value=None):
    """The widget for RunConfig field `name` in `container` (st, a column, an expander); returns its value as
    the field's type. `min_value` narrows the lower bound the page offers (warmup: -1 means automatic, which
    has its own checkbox)."""
    f = FIELDS[name]
    label, help_text = t(f.label), t(f"field.{name}")
    if f.choices:
        options = list(CHOICES[name])
        words = labels(OPTION_WORDS.get(name, f"configure.{name}.{{}}"))
        if name in SIDE_BY_SIDE:
            return container.radio(label, options, horizontal=True, key=lang_key(f"cfg_{name}"), format_func=words,
                                   help=help_text, disabled=disabled)
        return container.selectbox(label, options, key=lang_key(f"cfg_{name}"), format_func=words, help=help_text,
                                   disabled=disabled)
    if KINDS[name] is bool:
        return bool(container.checkbox(label, key=f"cfg_{name}", help=help_text, disabled=disabled))
    low = f.low if min_value is None else max(min_value, f.low)
    if f.whole:
        return int(container.number_input(label, int(low), None if f.high is None else int(f.high), key=f"cfg_{name}",
                                          help=help_text, disabled=disabled))
    return float(container.number_input(label, float(low), None if f.high is None else float(f.high), key=f"cfg_{name}",
                                        format=f.fmt, step=f.step, help=help_text, disabled=disabled))
