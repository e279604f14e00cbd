"""argparse (the standard library): the private list of a parser's actions. Written against Python 3.11.7's argparse
(the project's interpreter); tests/test_hooks.py checks the hook on a real parser, and the hook checks what it relies
on when it runs (guard.LibraryChanged). Torch-free (the command line, trainer/cli.py)."""
from __future__ import annotations

import argparse

from trainer.hooks.guard import require

LIBRARY = "Python"
WRITTEN_FOR = "3.11.7"
PRIVATE = "argparse.ArgumentParser._actions"


# `ArgumentParser._actions`: every argument added to a parser, as its Action. `add_argument` returns the Action it
# adds, but a shared helper (cli.add_config_flags) adds the flags; argparse has no public way to look one up
# afterwards (to change its help, say).
def action(parser: argparse.ArgumentParser, dest: str) -> argparse.Action:
    """The action of `parser` that stores into `dest` (the first, where several do)."""
    actions = getattr(parser, "_actions", None)
    require(isinstance(actions, list) and all(isinstance(a, argparse.Action) for a in actions), LIBRARY, PRIVATE,
            WRITTEN_FOR, "a parser no longer keeps its actions in it")
    found = next((a for a in actions if a.dest == dest), None)
    if found is None:
        raise KeyError(f"the parser has no argument stored in {dest!r}")
    return found
