"""transformers outside its Trainer (hf_trainer.py): the optional-import flags M3 Studio turns off, the layers'
private gradient-checkpointing function, and the module layout of the BERT-style encoders unpadded encoding runs
layer by layer (trainer/engine/unpadded.py). Written against transformers 4.57.6 (requirements.txt);
tests/test_hooks.py checks every hook, and each hook checks what it relies on at its first use
(guard.LibraryChanged). Imports transformers: engine side (only trainer/engine/ imports this module)."""
from __future__ import annotations

import functools

from transformers.utils import import_utils

from trainer.hooks.guard import changed, lookup, require, require_parameters, require_source

LIBRARY = "transformers"
WRITTEN_FOR = "4.57.6"

# `transformers.utils.import_utils._sklearn_available`, `_scipy_available`, `_peft_available`: the flags its
# `is_sklearn_available()` / `is_scipy_available()` / `is_peft_available()` return. transformers imports these
# packages, when installed, only for things nothing in the engine does (about a second with SciPy's, on two CPU
# cores, at the start of every engine process); no public switch turns the imports off.
OPTIONAL_IMPORTS = {"_sklearn_available": "is_sklearn_available", "_scipy_available": "is_scipy_available",
                    "_peft_available": "is_peft_available"}


def skip_optional_imports() -> None:
    """transformers' flags for scikit-learn, SciPy and peft off, as if they were not installed."""
    for flag, question in OPTIONAL_IMPORTS.items():
        private = f"transformers.utils.import_utils.{flag}"
        require(hasattr(import_utils, flag), LIBRARY, private, WRITTEN_FOR, "it no longer exists")
        setattr(import_utils, flag, False)
        require(not lookup(import_utils, question, LIBRARY, WRITTEN_FOR, private)(), LIBRARY, private, WRITTEN_FOR,
                f"{question}() no longer answers with it")


# `_gradient_checkpointing_func`: the function `PreTrainedModel.gradient_checkpointing_enable` hands every module
# that has a `gradient_checkpointing` flag (the layers, and the encoder that holds them), with the run's checkpoint
# options; each `GradientCheckpointingLayer` calls itself through it. Unpadded encoding runs the layers itself and
# checkpoints each one through the same function; no public API hands it out.
@functools.cache
def check_gradient_checkpointing_func() -> None:
    from transformers.modeling_layers import GradientCheckpointingLayer
    from transformers.modeling_utils import PreTrainedModel

    name = "_gradient_checkpointing_func"
    setter = lookup(PreTrainedModel, "_set_gradient_checkpointing", LIBRARY, WRITTEN_FOR)
    require_source(setter, ("module._gradient_checkpointing_func = gradient_checkpointing_func",
                            "module.gradient_checkpointing = enable"), LIBRARY, name, WRITTEN_FOR)
    require_source(GradientCheckpointingLayer.__call__, ("self._gradient_checkpointing_func(",), LIBRARY, name,
                   WRITTEN_FOR)


def gradient_checkpointing_func(*modules):
    """The checkpoint function transformers gave the first of `modules` that has one (None: none has)."""
    check_gradient_checkpointing_func()
    for module in modules:
        func = getattr(module, "_gradient_checkpointing_func", None)
        if func is not None:
            return func
    return None


# The module layout of transformers' BERT-style encoders (BERT, RoBERTa, XLM-RoBERTa): `embeddings.word_embeddings`,
# `.token_type_embeddings`, `.position_embeddings`, `.LayerNorm`, `.dropout`; `encoder.layer[i]` with
# `attention.self.query/key/value`, `attention.output(hidden_states, input_tensor)`, `intermediate(hidden_states)`,
# `output(hidden_states, input_tensor)`; `encoder.gradient_checkpointing`. Not private by name, but internal: the
# models' forward is the public API, and unpadded encoding runs these modules one by one on packed tokens.
EMBEDDINGS = ("word_embeddings", "token_type_embeddings", "position_embeddings", "LayerNorm", "dropout")
CONFIG = ("num_attention_heads", "attention_probs_dropout_prob", "pad_token_id", "model_type")
_CHECKED: set[type] = set()


def check_packed_layout(encoder) -> None:
    """`encoder` (a transformers model) has every module and parameter unpadded encoding uses; checked once per
    model class."""
    if type(encoder) in _CHECKED:
        return
    what = f"{type(encoder).__name__}'s layer layout"

    def need(owner, path: str):
        for part in path.split("."):
            if not hasattr(owner, part):
                raise changed(LIBRARY, what, WRITTEN_FOR, f"`{path}` is gone (no `{part}`)")
            owner = getattr(owner, part)
        return owner

    for name in EMBEDDINGS:
        need(encoder, f"embeddings.{name}")
    for name in CONFIG:
        need(encoder, f"config.{name}")
    require(hasattr(need(encoder, "encoder"), "gradient_checkpointing"), LIBRARY, what, WRITTEN_FOR,
            "the encoder has no `gradient_checkpointing` flag")
    for layer in need(encoder, "encoder.layer"):
        for name in ("query", "key", "value"):
            need(layer, f"attention.self.{name}.weight")
        for path, params in (("attention.output", ("hidden_states", "input_tensor")),
                             ("intermediate", ("hidden_states",)), ("output", ("hidden_states", "input_tensor"))):
            require_parameters(need(layer, path).forward, params, LIBRARY, f"{what}: {path}.forward", WRITTEN_FOR)
    _CHECKED.add(type(encoder))
