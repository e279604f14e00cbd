"""FlagEmbedding's M3 model: its private head methods M3 Studio calls or overrides, and the class switch that gives a
model FlagEmbedding's runner built another class. Written against FlagEmbedding 1.4.2 (requirements.txt);
tests/test_hooks.py checks every hook, and each hook checks what it relies on at its first use
(guard.LibraryChanged). Imports FlagEmbedding (so torch): engine side (only trainer/engine/ imports this module)."""
from __future__ import annotations

import functools

from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model

from trainer.hooks.guard import lookup, require, require_parameters, require_source

LIBRARY = "FlagEmbedding"
WRITTEN_FOR = "1.4.2"


def _head(name: str, params: tuple[str, ...]) -> None:
    private = f"EncoderOnlyEmbedderM3Model.{name}"
    require_parameters(lookup(EncoderOnlyEmbedderM3Model, name, LIBRARY, WRITTEN_FOR, private), params, LIBRARY,
                       private, WRITTEN_FOR)
    # FlagEmbedding's own encoding goes through them (what an override changes, what a caller repeats)
    encode = lookup(EncoderOnlyEmbedderM3Model, "_encode", LIBRARY, WRITTEN_FOR, "EncoderOnlyEmbedderM3Model._encode")
    require_source(encode, (f"self.{name}(",), LIBRARY, private, WRITTEN_FOR)


# `EncoderOnlyEmbedderM3Model._dense_embedding(last_hidden_state, attention_mask)`, `_sparse_embedding(hidden_state,
# input_ids, return_embedding)`, `_colbert_embedding(last_hidden_state, mask)`: the model's three heads on an
# encoder output (pooling, the sparse token weights, the ColBERT vectors), as its `_encode` applies them. The
# public `encode` runs the encoder too; evaluation and unpadded encoding have the encoder's output already.
@functools.cache
def check_dense_embedding() -> None:
    _head("_dense_embedding", ("last_hidden_state", "attention_mask"))


@functools.cache
def check_sparse_embedding() -> None:
    _head("_sparse_embedding", ("hidden_state", "input_ids", "return_embedding"))


@functools.cache
def check_colbert_embedding() -> None:
    _head("_colbert_embedding", ("last_hidden_state", "mask"))


def dense_embedding(model, last_hidden_state, attention_mask):
    """The dense head: the pooled vector of each text (not normalized)."""
    check_dense_embedding()
    return model._dense_embedding(last_hidden_state, attention_mask)


def sparse_embedding(model, last_hidden_state, input_ids):
    """The sparse head: each text's vocabulary-sized vector of token weights."""
    check_sparse_embedding()
    return model._sparse_embedding(last_hidden_state, input_ids)


def colbert_embedding(model, last_hidden_state, attention_mask):
    """The ColBERT head: each token's vector after the first (not normalized)."""
    check_colbert_embedding()
    return model._colbert_embedding(last_hidden_state, attention_mask)


class SparseEmbeddingOverride(EncoderOnlyEmbedderM3Model):
    """FlagEmbedding's M3 model whose private `_sparse_embedding` is `sparse_embedding`, a public name a subclass
    overrides (trainer/engine/lean_head.py). Defining a subclass checks the private name at once. Adds no state: an
    EncoderOnlyEmbedderM3Model switches to a subclass in place (`switch_class`)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        check_sparse_embedding()

    def sparse_embedding(self, hidden_state, input_ids, return_embedding: bool = True):
        return super()._sparse_embedding(hidden_state, input_ids, return_embedding)

    def _sparse_embedding(self, hidden_state, input_ids, return_embedding: bool = True):
        return self.sparse_embedding(hidden_state, input_ids, return_embedding)


# `model.__class__ = cls`: FlagEmbedding's runner builds an `EncoderOnlyEmbedderM3Model` itself
# (`EncoderOnlyEmbedderM3Runner.load_tokenizer_and_model`) and takes no model class; the model it built (parameters,
# tokenizer, settings) switches to a subclass that changes methods only. Relies on the runner building that class
# and on a subclass adding no state of its own (no `__init__`).
@functools.cache
def check_switch_class() -> None:
    from FlagEmbedding.finetune.embedder.encoder_only.m3 import EncoderOnlyEmbedderM3Runner

    require_source(EncoderOnlyEmbedderM3Runner.load_tokenizer_and_model, ("model = EncoderOnlyEmbedderM3Model(",),
                   LIBRARY, "EncoderOnlyEmbedderM3Runner.load_tokenizer_and_model", WRITTEN_FOR)


def switch_class(model, cls: type):
    """`model` (an M3 model) as an instance of `cls`, a subclass of its class that adds no state; returns it."""
    check_switch_class()
    what = f"{type(model).__name__} -> {cls.__name__}"
    require(isinstance(model, EncoderOnlyEmbedderM3Model) and issubclass(cls, type(model)), LIBRARY,
            "EncoderOnlyEmbedderM3Model.__class__", WRITTEN_FOR, f"{what}: not a subclass of the model's class")
    require(cls.__init__ is EncoderOnlyEmbedderM3Model.__init__, LIBRARY, "EncoderOnlyEmbedderM3Model.__class__",
            WRITTEN_FOR, f"{what}: the class has an __init__ of its own, which the switch would skip")
    model.__class__ = cls
    return model
