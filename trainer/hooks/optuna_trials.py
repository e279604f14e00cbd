"""Optuna: the private trial id M3 Studio reads and the `Trial` it builds for a trial that already exists. Written
against optuna 5.0.0 (requirements.txt); tests/test_hooks.py checks the hook on a real study, and the hook checks
what it relies on at its first use (guard.LibraryChanged). Torch-free; imports optuna only when called (the
dashboard imports trainer/jobs/sweep.py, which needs optuna only when a search runs)."""
from __future__ import annotations

import functools

from trainer.hooks.guard import require, require_parameters

LIBRARY = "optuna"
WRITTEN_FOR = "5.0.0"


# `optuna.trial.Trial(study, trial_id)` with `FrozenTrial._trial_id`: a live Trial (`report`, `should_prune`,
# `set_user_attr`) for a trial asked for earlier (the search follows each trial's run while it trains, and goes on
# after a restart). Optuna's public API gives a live Trial only for a new trial (`study.ask()`); the FrozenTrial
# `get_trials` returns has the storage's id only under the private name, and `Trial` is not meant to be built
# directly.
@functools.cache
def check_trial() -> None:
    import optuna

    require_parameters(optuna.trial.Trial.__init__, ("study", "trial_id"), LIBRARY, "optuna.trial.Trial(...)",
                       WRITTEN_FOR)


def live_trial(study, frozen):
    """The live `optuna.trial.Trial` of `frozen` (one of `study.get_trials()`)."""
    import optuna

    check_trial()
    require(isinstance(getattr(frozen, "_trial_id", None), int), LIBRARY, "FrozenTrial._trial_id", WRITTEN_FOR,
            "a FrozenTrial no longer has it")
    return optuna.trial.Trial(study, frozen._trial_id)
