"""Defaults that follow the data: the learning rate (trainer.advice, from the model's size and the
number of rows) and the truncation lengths (trainer.token_lengths, ~95 % of the texts). The page shows
them as the fields' starting values; the CLI uses them for every flag not given. No torch."""
from __future__ import annotations

from trainer.sizing.advice import suggest_lr
from trainer.core.config import RunConfig
from trainer.core.config import resolve_train
from trainer.sizing.memory import model_shape

def suggestions(cfg: RunConfig, store=None) -> dict:
    """{field: value} for learning_rate, query_max_len and passage_max_len, as far as they can be
    worked out (a model without a local tokenizer or config gives fewer): from the training file's
    scan (trainer.scan: its row count, and the lengths of its sample), kept in `store` when given."""
    from trainer.data import scan

    data = scan.ensure(store, resolve_train(cfg.train_data))
    out: dict = {}
    if not data.rows:
        return out
    try:
        out["learning_rate"] = suggest_lr(model_shape(cfg.model).encoder_params, data.rows)
    except ValueError:
        pass
    lengths = scan.lengths(store, data, cfg.model)
    if lengths:
        out.update(query_max_len=lengths["query_max_len"], passage_max_len=lengths["passage_max_len"])
    return out


def with_suggestions(cfg: RunConfig, given: set[str], store=None) -> RunConfig:
    """`cfg` with every suggestible field the user did not set replaced by its suggestion."""
    return cfg.replace(**{k: v for k, v in suggestions(cfg, store).items() if k not in given})
