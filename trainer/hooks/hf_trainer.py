"""transformers' Trainer: the private methods M3 Studio overrides, the private flag it sets and the callback event it
calls by hand. Written against transformers 4.57.6 (requirements.txt); tests/test_hooks.py checks every hook, and
each hook checks what it relies on at its first use (guard.LibraryChanged). Imports transformers: engine side
(only trainer/engine/ imports this module)."""
from __future__ import annotations

import functools

from transformers import Trainer
from transformers.trainer_callback import CallbackHandler

from trainer.hooks.guard import lookup, require, require_parameters, require_source

LIBRARY = "transformers"
WRITTEN_FOR = "4.57.6"

LOG_SAVE_EVALUATE = ("tr_loss", "grad_norm", "model", "trial", "epoch", "ignore_keys_for_eval", "start_time",
                     "learning_rate")


def _private(name: str):
    return lookup(Trainer, name, LIBRARY, WRITTEN_FOR, f"Trainer.{name}")


# `Trainer._maybe_log_save_evaluate`: called once after every optimizer step with the step's gradient norm and,
# by keyword, its learning rate (its own log, a wait for the device, runs every `logging_steps` only). Replaces a
# per-step callback that would see them: `on_step_end` gets neither, `on_log` runs every `logging_steps` only.
@functools.cache
def check_maybe_log_save_evaluate() -> None:
    name = "Trainer._maybe_log_save_evaluate"
    require_parameters(_private("_maybe_log_save_evaluate"), LOG_SAVE_EVALUATE, LIBRARY, name, WRITTEN_FOR)
    require_source(_private("_inner_training_loop"), ("self._maybe_log_save_evaluate(", "learning_rate=learning_rate"),
                   LIBRARY, name, WRITTEN_FOR)


# `Trainer._save(output_dir, state_dict)`: the one method every checkpoint and the final model go through
# (`save_model`); FlagEmbedding's M3 trainer overrides it too. Replaces a "before saving" callback: `on_save` runs
# after the checkpoint is written.
@functools.cache
def check_save() -> None:
    require_parameters(_private("_save"), ("output_dir", "state_dict"), LIBRARY, "Trainer._save", WRITTEN_FOR)
    require_source(Trainer.save_model, ("self._save(output_dir",), LIBRARY, "Trainer._save", WRITTEN_FOR)


# `Trainer._load_from_checkpoint(resume_from_checkpoint, model)`: loads the weights when `train` resumes. HF's expects
# one PreTrainedModel in the folder; FlagEmbedding saves the encoder and the two heads apart. No public hook loads
# a checkpoint's weights another way.
@functools.cache
def check_load_from_checkpoint() -> None:
    name = "Trainer._load_from_checkpoint"
    require_parameters(_private("_load_from_checkpoint"), ("resume_from_checkpoint", "model"), LIBRARY, name,
                       WRITTEN_FOR)
    require_source(Trainer.train, ("self._load_from_checkpoint(resume_from_checkpoint)",), LIBRARY, name, WRITTEN_FOR)


class TrainerHooks:
    """Mixed in before FlagEmbedding's trainer class: the three private methods above, each handed to a method with
    a public name the subclass overrides (`after_optimizer_step`, `before_save`, `load_checkpoint`). Defining a
    subclass checks the private names (and the signatures of the methods they forward to) at once."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        check_maybe_log_save_evaluate()
        check_save()
        check_load_from_checkpoint()
        base = super(TrainerHooks, cls)          # the trainer class the subclass mixes this into
        if hasattr(base, "_save"):
            require_parameters(base._save, ("output_dir", "state_dict"), LIBRARY, "Trainer._save", WRITTEN_FOR)
            require_parameters(base._maybe_log_save_evaluate, LOG_SAVE_EVALUATE, LIBRARY,
                               "Trainer._maybe_log_save_evaluate", WRITTEN_FOR)
            require_parameters(base._load_from_checkpoint, ("resume_from_checkpoint", "model"), LIBRARY,
                               "Trainer._load_from_checkpoint", WRITTEN_FOR)

    def after_optimizer_step(self, grad_norm, learning_rate) -> None:
        """After every optimizer step: its gradient norm and learning rate (None where HF has none)."""

    def before_save(self) -> None:
        """Before every checkpoint and the final model are written."""

    def load_checkpoint(self, resume_from_checkpoint, model=None) -> None:
        """A resumed run's weights; HF's own loader unless overridden."""
        super()._load_from_checkpoint(resume_from_checkpoint, model)

    def _maybe_log_save_evaluate(self, tr_loss, grad_norm, *args, **kwargs):
        self.after_optimizer_step(grad_norm, kwargs.get("learning_rate"))
        return super()._maybe_log_save_evaluate(tr_loss, grad_norm, *args, **kwargs)

    def _save(self, output_dir=None, state_dict=None):
        self.before_save()
        super()._save(output_dir, state_dict)

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
        self.load_checkpoint(resume_from_checkpoint, model)


# `Trainer._created_lr_scheduler`: HF's `create_scheduler` sets it when it made the scheduler, and
# `_inner_training_loop` then drops that scheduler before a new loop (it was made for another number of steps). An
# overridden `create_scheduler` that makes its own scheduler sets it the same way; there is no public setter.
@functools.cache
def check_created_lr_scheduler() -> None:
    name = "Trainer._created_lr_scheduler"
    require_source(Trainer.create_scheduler, ("self._created_lr_scheduler = True",), LIBRARY, name, WRITTEN_FOR)
    require_source(_private("_inner_training_loop"), ("if self._created_lr_scheduler:",), LIBRARY, name, WRITTEN_FOR)


def mark_lr_scheduler_created(trainer) -> None:
    """What HF's `create_scheduler` records after making the scheduler."""
    check_created_lr_scheduler()
    require(hasattr(trainer, "_created_lr_scheduler"), LIBRARY, "Trainer._created_lr_scheduler", WRITTEN_FOR,
            "a Trainer no longer has it after __init__")
    trainer._created_lr_scheduler = True


# The callbacks' `on_train_end`, called by hand: `_inner_training_loop` calls it after its loop, and a loop left by an
# exception (callbacks.Stopped, raised inside a step when the user stops) never gets there. No public API ends a
# loop that an exception left.
@functools.cache
def check_train_end() -> None:
    name = "Trainer._inner_training_loop's on_train_end"
    require_parameters(CallbackHandler.on_train_end, ("args", "state", "control"), LIBRARY, name, WRITTEN_FOR)
    require_source(_private("_inner_training_loop"), ("self.callback_handler.on_train_end(args, self.state, "
                                                      "self.control)",), LIBRARY, name, WRITTEN_FOR)


def call_train_end(trainer) -> None:
    """The callbacks' `on_train_end`, as the Trainer calls it after its loop."""
    check_train_end()
    trainer.callback_handler.on_train_end(trainer.args, trainer.state, trainer.control)
