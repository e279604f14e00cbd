"""plotly: the private validation switch of a figure's layout. Written against plotly 7.1.0 (requirements.txt);
tests/test_hooks.py checks the hook on a real figure, and the hook checks what it relies on at its first use
(guard.LibraryChanged). Torch-free (the dashboard's charts, app/ui.py)."""
from __future__ import annotations

import functools

from trainer.hooks.guard import require, require_source

LIBRARY = "plotly"
WRITTEN_FOR = "7.1.0"
PRIVATE = "BasePlotlyType._validate"


# `BasePlotlyType._validate`: while False, setting a property stores it without validating it. plotly turns it off
# itself to set its default template (`BaseFigure._initialize_layout_template`: a registered template is valid
# already); validating it again took ~80 ms a chart on 2 busy cores. No public option skips validation for one
# property (`go.Figure(skip_invalid=...)` still validates).
@functools.cache
def check_validate() -> None:
    from plotly.basedatatypes import BaseFigure, BasePlotlyType

    require_source(BasePlotlyType.__setitem__, ("if self._validate:",), LIBRARY, PRIVATE, WRITTEN_FOR)
    require_source(BaseFigure._initialize_layout_template, ("self._layout_obj._validate = False",), LIBRARY, PRIVATE,
                   WRITTEN_FOR)


def set_template_unvalidated(layout, template) -> None:
    """`layout.template = template` without validating the template (a registered one, valid already)."""
    check_validate()
    require(isinstance(getattr(layout, "_validate", None), bool), LIBRARY, PRIVATE, WRITTEN_FOR,
            "a layout no longer has it")
    layout._validate = False
    layout.template = template
    layout._validate = True
