"""Try-it search: one query against the validation corpus with a checkpoint's three heads.

Corpus encodings are cached per (checkpoint, corpus), so after the first query a search is one
query encoding plus numpy scoring. Runs in `trainer.engine.search_server`, never in the dashboard process.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from FlagEmbedding.finetune.embedder.encoder_only.m3 import EncoderOnlyEmbedderM3Model, EncoderOnlyEmbedderM3Runner
from transformers import AutoTokenizer

from trainer.core import ir_metrics
from trainer.core.config import main_head
from trainer.data import EvalSet, load_eval
from trainer.engine.evaluate import Encoded, encode, head_scores, special_token_ids


@dataclass
class Checkpoint:
    model: EncoderOnlyEmbedderM3Model
    tokenizer: object


def load_checkpoint(model_dir: str, pooling: str, unified: bool, seed: int = 42) -> Checkpoint:
    """A checkpoint the way FlagEmbedding's runner loads it (heads from colbert_linear.pt /
    sparse_linear.pt, loaded weights-only); heads a base model lacks start random from `seed`."""
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.eos_token is None:      # as in training: SEP plays EOS for BERT tokenizers
        tokenizer.eos_token = tokenizer.sep_token
    parts = EncoderOnlyEmbedderM3Runner.get_model(model_dir)
    model = EncoderOnlyEmbedderM3Model(parts, tokenizer=tokenizer, sentence_pooling_method=pooling,
                                       normalize_embeddings=True, unified_finetuning=unified)
    return Checkpoint(model.float().eval(), tokenizer)


@torch.no_grad()
def token_weights(ckpt: Checkpoint, text: str, max_len: int) -> list[tuple[int, int, float]]:
    """(start, end, weight) per token of `text`: the character span it covers in `text` itself (so
    the page shows the real text, not the tokenizer's lowercased pieces) and the sparse head's weight.
    Special and unknown tokens are left out."""
    tok = ckpt.tokenizer
    batch = tok([text], truncation=True, max_length=max_len, return_tensors="pt", return_offsets_mapping=True)
    offsets = batch.pop("offset_mapping")[0].tolist()
    hidden = ckpt.model.model(**batch, return_dict=True).last_hidden_state
    weights = torch.relu(ckpt.model.sparse_linear(hidden)).squeeze(-1)[0].tolist()
    skip = special_token_ids(tok) | {tok.sep_token_id}
    return [(start, end, w) for (start, end), i, w in zip(offsets, batch["input_ids"][0].tolist(), weights)
            if i not in skip and end > start]


class Searcher:
    def __init__(self):
        self._checkpoints: dict[tuple, Checkpoint] = {}
        self._corpora: dict[tuple, tuple[EvalSet, Encoded]] = {}

    def checkpoint(self, model_dir: str, pooling: str, unified: bool, seed: int) -> Checkpoint:
        key = (model_dir, pooling, unified, seed)
        if key not in self._checkpoints:
            self._checkpoints[key] = load_checkpoint(model_dir, pooling, unified, seed)
        return self._checkpoints[key]

    def corpus(self, key: tuple, ckpt: Checkpoint, corpus_dir: str, max_len: int) -> tuple[EvalSet, Encoded]:
        if key not in self._corpora:
            evalset = load_eval(Path(corpus_dir))
            self._corpora[key] = (evalset, encode(ckpt.model, ckpt.tokenizer, evalset.docs, max_len))
        return self._corpora[key]

    def search(self, *, model_dir: str, pooling: str, unified: bool, corpus: str, query: str,
               query_index: int | None = None, k: int = 5, seed: int = 42, query_max_len: int = 64,
               passage_max_len: int = 256) -> dict:
        started = time.perf_counter()
        ckpt = self.checkpoint(model_dir, pooling, unified, seed)
        evalset, docs = self.corpus((model_dir, pooling, unified, seed, corpus, passage_max_len), ckpt, corpus,
                                    passage_max_len)
        q = encode(ckpt.model, ckpt.tokenizer, [query], query_max_len)
        scores = {h: s[0] for h, s in head_scores(q, docs).items()}
        main = main_head(unified)
        order = np.argsort(-scores[main], kind="stable")
        top = [{"doc": int(i), "id": evalset.doc_ids[i], "text": evalset.docs[i],
                "scores": {h: float(s[i]) for h, s in scores.items()}} for i in order[:k]]
        out = {"heads": list(scores), "main": main, "top": top, "relevant_rank": {}}
        if query_index is not None and 0 <= query_index < len(evalset.relevance):
            relevant = evalset.relevance[query_index]
            out["relevant_rank"] = {h: ir_metrics.first_relevant_rank(s, relevant) for h, s in scores.items()}
        if ckpt.model.sparse_linear is not None:
            out["query_tokens"] = token_weights(ckpt, query, query_max_len)
            out["doc_tokens"] = {str(t["doc"]): token_weights(ckpt, t["text"], passage_max_len) for t in top}
        out["seconds"] = time.perf_counter() - started
        return out
