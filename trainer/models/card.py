"""The model card that goes with an exported model (trainer.models.export): what was trained, how, and its
scores before and after, per head, on the validation questions and (where the run has one) the held-out test."""
from __future__ import annotations

import time

from trainer.core import metrics
from trainer.core.metrics import Metric
from trainer.core.model_source import display_name
from trainer.planning import additions
from trainer.planning.plan import of_run as plan_of
from trainer.store import Run, Store


def model_card(run: Run, before: dict[str, float], after: dict[str, float], pooling: str,
               test: dict[str, tuple[float, float]] | None = None) -> str:
    cfg = run.config
    stored = plan_of(run)
    warmup = stored.warmup_steps if stored else (cfg.warmup_steps if cfg.warmup_steps >= 0 else "auto")
    processes = f"{stored.world} ({stored.precision})" if stored else f"{cfg.num_gpus}"
    lines = [f"# {run.name}", "",
             f"Fine-tuned with M3 Studio on FlagEmbedding's M3 trainer ({time.strftime('%Y-%m-%d', time.localtime(run.created))}).",
             "", "| | |", "|---|---|",
             f"| base model | `{display_name(cfg.model)}` |", f"| module mode | {cfg.mode.value} ({cfg.mode.flags}) |",
             f"| training data | `{cfg.train_data}` |", f"| validation data | `{cfg.eval_data}` |",
             f"| epochs / batch per device / group size | {cfg.epochs} / {cfg.batch_size} / {cfg.group_size} |",
             f"| learning rate / warmup steps | {cfg.learning_rate:g} / {warmup} |",
             f"| query / passage max tokens | {cfg.query_max_len} / {cfg.passage_max_len} |",
             f"| temperature / max grad norm | {cfg.temperature} / {cfg.max_grad_norm} |",
             f"| processes (precision) | {processes} |" if stored else f"| GPUs | {cfg.num_gpus} |", f"| status | {run.status} |", "",
             "## Validation MRR@10", "", "| head | before | after |", "|---|---|---|"]
    for head in ("dense", "sparse", "colbert", "hybrid"):
        if head in before:
            lines.append(f"| {head} | {before[head]:.3f} | {after.get(head, before[head]):.3f} |")
    if test:
        lines += ["", f"## Held-out test MRR@10 ({test.pop('queries', (0, 0))[0]:.0f} questions never used in training "
                      "or for any decision)", "", "| head | before | after |", "|---|---|---|"]
        lines += [f"| {head} | {b:.3f} | {a:.3f} |" for head, (b, a) in test.items()]
    if cfg.mode.unified_finetuning:
        encode = "out = model.encode(['a query'], return_dense=True, return_sparse=True, return_colbert_vecs=True)"
    else:
        encode = "out = model.encode(['a query'], return_dense=True, return_sparse=False, return_colbert_vecs=False)"
    lines += ["", "## Use", "", "```python", "from FlagEmbedding import BGEM3FlagModel",
              f"model = BGEM3FlagModel('path/to/this/folder', pooling_method='{pooling}')", encode,
              "```", "", f"Dense vectors only, the same ones ({pooling} pooling, normalised), through sentence-transformers:",
              "", "```python", "from sentence_transformers import SentenceTransformer",
              "model = SentenceTransformer('path/to/this/folder')  # backend='onnx' where onnx/model.onnx was exported",
              "vectors = model.encode(['a query'])", "```", ""]
    lines += ["## What M3 Studio adds to FlagEmbedding's trainer", "",
              *(f"- {w}" for w in additions.words(additions.applied(cfg, stored.studio if stored else None))), ""]
    if not cfg.mode.unified_finetuning:
        lines += ["Dense-only training: this folder has no sparse or ColBERT head of its own; use the dense "
                  "vectors (`out['dense_vecs']`) only.", ""]
    return "\n".join(lines)


def mrr_before_after(store: Store, run_id: str) -> tuple[dict[str, float], dict[str, float]]:
    """Validation MRR@10 per head: the first evaluation and the last."""
    before, after = {}, {}
    for p in store.metrics(run_id):
        if p.name.endswith("." + metrics.MRR) and p.name.count(".") == 1:
            head = p.name.split(".")[0]
            before.setdefault(head, p.value)
            after[head] = p.value
    return before, after


def test_before_after(store: Store, run_id: str) -> dict[str, tuple[float, float]]:
    """Held-out test MRR@10 per head (before, after), plus ('queries', ...); {} until the run ended."""
    first: dict[str, float] = {}
    last: dict[str, tuple[int, float]] = {}
    for p in store.metrics(run_id):
        if p.name.startswith(metrics.TEST) and (p.name.endswith("." + metrics.MRR) or p.name == Metric.TEST_QUERIES):
            key = "queries" if p.name == Metric.TEST_QUERIES else p.name.split(".")[1]
            first.setdefault(key, p.value)
            last[key] = (p.step, p.value)
    steps = {s for s, _ in last.values()}
    if not first or steps == {0}:
        return {}
    return {k: (first[k], last[k][1]) for k in first}
