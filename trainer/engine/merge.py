"""Mix a fine-tuned run with its base model against forgetting: `python -m trainer merge`.

The encoder goes through FlagEmbedding's LM-Cocktail (`mix_models`, weight W for the fine-tuned
model, 1 - W for the base); LM-Cocktail merges only the encoder, so the M3 heads
(colbert_linear.pt, sparse_linear.pt) are averaged here by the same weight. A base without heads
(MiniLM, any plain encoder) keeps the fine-tuned heads. The result is an exported folder
(trainer.export): sentence-transformers files with the run's pooling, model card, optional zip.
`curve` scores a few weights on the run's validation set and on an out-of-domain check shipped
with the product (trainer/general/, an English SciFact slice; left out for a run whose questions are not
English, where it would not measure what a merge keeps in the user's language): the trade-off a user picks a
weight from. Each point keeps its per-question ranks, so trainer.merge_choice can name the weight to use and
claim a difference only beyond the noise.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import torch

from trainer.models.export import HEADS, clear_previous, finish_folder, saved_model, zip_folder
from trainer.core.model_source import resolve_model, run_pooling
from trainer.store import Store

GENERAL_DIR = Path(__file__).resolve().parent.parent / "general"    # trainer/general/

# What happened to the heads: a code for the pages, words for the model card.
HEAD_NOTES = {"averaged": "averaged by the same weight", "kept": "the fine-tuned heads, kept whole (the base has none)",
              "none": "none (a dense-only run has no heads of its own)"}


def mix_heads(tuned: Path, base: Path, weight: float, out: Path) -> str:
    """Each head file: weight × fine-tuned + (1 - weight) × base where the base has it; returns a
    HEAD_NOTES key."""
    present = [name for name in HEADS if (tuned / name).is_file()]
    if not present:
        return "none"
    with_base = all((base / name).is_file() for name in present)
    for name in present:
        state = torch.load(tuned / name, map_location="cpu", weights_only=True)
        if with_base:
            other = torch.load(base / name, map_location="cpu", weights_only=True)
            state = {k: weight * v + (1 - weight) * other[k] for k, v in state.items()}
        torch.save(state, out / name)
    return "averaged" if with_base else "kept"


def merge(store: Store, run_id: str, weight: float, out: Path, *, zip: bool = False) -> dict:
    if not 0 <= weight <= 1:
        raise ValueError(f"--weight {weight}: the fine-tuned model's share must be between 0 and 1")
    from LM_Cocktail import mix_models

    run = store.get_run(run_id)
    tuned = saved_model(run)
    base = resolve_model(run.config.model)
    out = Path(out).resolve()
    clear_previous(out)
    out.mkdir(parents=True)
    with contextlib.redirect_stdout(io.StringIO()):   # its progress prints would break our JSON answer
        # The fine-tuned model first: its tokenizer (with the EOS the sparse head masks) is the one saved.
        mix_models([str(tuned), base], model_type="encoder", weights=[weight, 1 - weight], output_path=str(out))
    heads = mix_heads(tuned, Path(base), weight, out)
    # LM-Cocktail saves a sentence-transformers layout with CLS pooling whatever the model; the
    # run's own pooling replaces it here.
    finish_folder(store, run, out, note=f"## Merged with the base model\n\nLM-Cocktail `mix_models`: {weight:g} × "
                                         f"fine-tuned + {1 - weight:g} × `{run.config.model}` (encoder); heads: {HEAD_NOTES[heads]}.")
    written = {"folder": str(out), "weight": weight, "heads": heads}
    if zip:
        written["zip"] = str(zip_folder(out))
    return written


def curve(store: Store, run_id: str, weights: list[float]) -> dict:
    """MRR@10 of the mode's main head (hybrid, or dense for dense-only runs) for each weight, on the run's
    validation set and on the out-of-domain check; kept as merge_curve.json in the run folder. Each weight's
    model is what `merge` writes (LM-Cocktail's own `merge_param` over the same two state dicts, heads averaged
    as `mix_heads` does), made in memory: both models are read once, nothing is written per weight."""
    from LM_Cocktail.utils import get_model_param_list, merge_param

    from trainer.data import load_eval
    from trainer.engine.evaluate import evaluate
    from trainer.engine.search import load_checkpoint

    run = store.get_run(run_id)
    cfg = run.config
    validation = run.folder.validation(cfg.eval_data)
    if validation is None or not validation.is_dir():
        raise ValueError(f"run {run_id} has no validation set: the curve needs the run's own score")
    from trainer.core.merge_choice import GENERAL_LANGUAGE, language

    sets = {"validation": load_eval(validation)}
    languages = {"validation": language(sets["validation"].queries), "general": GENERAL_LANGUAGE}
    if languages["validation"] == GENERAL_LANGUAGE:        # else it would not measure the user's language
        sets["general"] = load_eval(GENERAL_DIR)
    metric = cfg.mode.main_score
    head = metric.split(".")[0]
    tuned, base = saved_model(run), Path(resolve_model(cfg.model))
    with contextlib.redirect_stdout(io.StringIO()):     # its progress prints would break our JSON answer
        encoders = get_model_param_list([str(tuned), str(base)], model_type="encoder")
    ckpt = load_checkpoint(str(tuned), run_pooling(cfg), cfg.mode.unified_finetuning)
    heads = {}                                           # head module -> (fine-tuned state, base state or None)
    for name in HEADS:
        module = getattr(ckpt.model, name.removesuffix(".pt"), None)
        if module is not None and (tuned / name).is_file():
            heads[module] = (torch.load(tuned / name, map_location="cpu", weights_only=True),
                             torch.load(base / name, map_location="cpu", weights_only=True)
                             if all((base / n).is_file() for n in HEADS) else None)
    points = []
    for weight in weights:
        ckpt.model.model.load_state_dict(merge_param(encoders, weights=[weight, 1 - weight]))
        for module, (own, other) in heads.items():
            if other is not None:                        # a base without heads keeps the fine-tuned ones whole
                module.load_state_dict({k: weight * v + (1 - weight) * other[k] for k, v in own.items()})
        point: dict = {"weight": weight, "ranks": {}}
        for name, evalset in sets.items():
            ranks: dict = {}
            point[name] = evaluate(ckpt.model, ckpt.tokenizer, evalset, cfg.query_max_len, cfg.passage_max_len,
                                   ranks=ranks)[metric]
            point["ranks"][name] = ranks[head]          # per question: the verdict rule's input (trainer.verdict)
        points.append(point)
    result = {"metric": metric, "queries": {name: len(s.queries) for name, s in sets.items()}, "points": points,
              "languages": languages, "general_applies": "general" in sets}
    run.folder.merge_curve.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result
