"""Validation of an M3 model under training: encode with the model's own heads, score with
trainer.ir_metrics. Encoding is here (torch); the maths is in ir_metrics (numpy)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from trainer.core import ir_metrics
from trainer.core.metrics import K, Metric
from trainer.data import EvalSet
from trainer.hooks import flagembedding_m3



@dataclass
class Encoded:
    dense: np.ndarray
    sparse: list[dict[int, float]] | None
    colbert: list[np.ndarray] | None


def special_token_ids(tokenizer) -> set[int]:
    ids = (tokenizer.cls_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id, tokenizer.unk_token_id)
    return {i for i in ids if i is not None}


@torch.no_grad()
def encode(model, tokenizer, texts: list[str], max_len: int, batch_size: int = 32) -> Encoded:
    """Encode texts with an EncoderOnlyEmbedderM3Model the way BGEM3FlagModel does at inference."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    skip = special_token_ids(tokenizer)
    heads = model.sparse_linear is not None
    dense, sparse, colbert = [], [] if heads else None, [] if heads else None
    try:
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                              max_length=max_len, return_tensors="pt").to(device)
            hidden = model.model(**batch, return_dict=True).last_hidden_state
            vecs = flagembedding_m3.dense_embedding(model, hidden, batch["attention_mask"])
            if model.normalize_embeddings:
                vecs = F.normalize(vecs, dim=-1)
            dense.append(vecs.float().cpu().numpy())
            if not heads:
                continue
            weights = torch.relu(model.sparse_linear(hidden)).squeeze(-1).float().cpu().numpy()
            cvecs = model.colbert_linear(hidden[:, 1:])
            if model.normalize_embeddings:
                cvecs = F.normalize(cvecs, dim=-1)
            cvecs = cvecs.float().cpu().numpy()
            ids = batch["input_ids"].cpu().numpy()
            lengths = batch["attention_mask"].sum(dim=1).cpu().numpy()
            for row in range(len(ids)):
                token_weights: dict[int, float] = {}
                for t, w in zip(ids[row, :lengths[row]], weights[row, :lengths[row]]):
                    t = int(t)
                    if t not in skip and w > 0 and w > token_weights.get(t, 0.0):
                        token_weights[t] = float(w)
                sparse.append(token_weights)
                colbert.append(cvecs[row, :lengths[row] - 1])
    finally:
        model.train(was_training)
    return Encoded(np.concatenate(dense), sparse, colbert)


def colbert_scores(q: list[np.ndarray], p: list[np.ndarray], device) -> np.ndarray:
    """ir_metrics.colbert_scores on `device` (the GPU in training): the passages' token vectors
    concatenated, each query's best match per passage by a segment max. Same numbers, no padding."""
    if not p:
        return np.zeros((len(q), 0))
    tokens = torch.from_numpy(np.concatenate(p)).to(device)
    owner = torch.repeat_interleave(torch.arange(len(p), device=device),
                                    torch.tensor([len(x) for x in p], device=device))
    out = np.zeros((len(q), len(p)), dtype=np.float64)
    for i, qv in enumerate(q):
        sim = torch.from_numpy(qv).to(device) @ tokens.T                       # [Lq, tokens]
        best = torch.full((len(qv), len(p)), -torch.inf, device=device, dtype=sim.dtype)
        best = best.scatter_reduce(1, owner.expand(len(qv), -1), sim, "amax")  # [Lq, passages]
        out[i] = (best.sum(0) / max(1, len(qv))).double().cpu().numpy()
    return out


def head_scores(q: Encoded, p: Encoded, device=None) -> dict[str, np.ndarray]:
    scores = {"dense": ir_metrics.dense_scores(q.dense, p.dense)}
    if q.sparse is not None:
        scores["sparse"] = ir_metrics.sparse_scores(q.sparse, p.sparse)
        scores["colbert"] = (colbert_scores(q.colbert, p.colbert, device) if device is not None
                             else ir_metrics.colbert_scores(q.colbert, p.colbert))
        scores["hybrid"] = ir_metrics.hybrid_scores(scores)
    return scores


class PassageCache:
    """The passages' encoding at one training step, kept for the next evaluation at that step: validation
    and the held-out test search the same corpus (the demo's, or every passage of a split file), so at
    step 0 and at the end the passages are encoded once instead of twice."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._encoded: Encoded | None = None

    def encode(self, model, tokenizer, texts: list[str], max_len: int, step: int) -> Encoded:
        key = (step, max_len, tuple(texts))
        if key != self._key:
            self.clear()                                # the last step's vectors go before new ones are made
            self._encoded = encode(model, tokenizer, texts, max_len)
            self._key = key
        return self._encoded

    def clear(self) -> None:
        """Drop the vectors (callbacks.DropPassages: when training resumes, so they never sit in memory beside
        the training steps)."""
        self._key, self._encoded = None, None


def evaluate(model, tokenizer, evalset: EvalSet, query_max_len: int, passage_max_len: int,
             ranks: dict | None = None, passages: PassageCache | None = None, step: int = 0) -> dict[str, float]:
    """Metric name -> value, e.g. 'dense.mrr@10', 'hybrid.ndcg@10', 'sparse.active_tokens'. With `ranks`,
    it is filled with {head: per query, the rank of its first relevant passage}. With `passages`, the
    corpus's encoding at training step `step` is shared with other evaluations at that step."""
    q = encode(model, tokenizer, evalset.queries, query_max_len)
    p = (passages.encode(model, tokenizer, evalset.docs, passage_max_len, step) if passages is not None
         else encode(model, tokenizer, evalset.docs, passage_max_len))
    out: dict[str, float] = {}
    for head, scores in head_scores(q, p, next(model.parameters()).device).items():
        for name, value in ir_metrics.rank_metrics(scores, evalset.relevance, K).items():
            out[f"{head}.{name}"] = value
        if ranks is not None:
            ranks[head] = ir_metrics.first_relevant_ranks(scores, evalset.relevance)
    if p.sparse is not None:
        out[Metric.ACTIVE_TOKENS] = float(np.mean([len(w) for w in p.sparse]))
    return out
