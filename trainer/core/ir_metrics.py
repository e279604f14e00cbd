"""Retrieval scoring and ranking metrics for M3's heads. Pure numpy: no torch, no I/O.

Scores follow FlagEmbedding's BGEM3FlagModel: dense = inner product of (normalised) vectors;
sparse = sum over shared tokens of q_weight * p_weight; ColBERT = mean over query tokens of the
best-matching passage token; hybrid = dense + 0.3 * sparse + ColBERT.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

HYBRID_WEIGHTS = {"dense": 1.0, "sparse": 0.3, "colbert": 1.0}


def dense_scores(q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """[Q, d] x [D, d] -> [Q, D]"""
    return q @ p.T


def _sparse_matrix(weights: Sequence[Mapping[int, float]], width: int):
    from scipy.sparse import csr_matrix

    rows = [i for i, w in enumerate(weights) for _ in w]
    cols = [t for w in weights for t in w]
    vals = [v for w in weights for v in w.values()]
    return csr_matrix((np.asarray(vals, np.float64), (rows, cols)), shape=(len(weights), width))


def sparse_scores(q: Sequence[Mapping[int, float]], p: Sequence[Mapping[int, float]]) -> np.ndarray:
    """Sum over shared tokens of q_weight * p_weight, as one sparse matrix product."""
    width = 1 + max([t for w in list(q) + list(p) for t in w] or [0])
    return (_sparse_matrix(q, width) @ _sparse_matrix(p, width).T).toarray()


def colbert_scores(q: Sequence[np.ndarray], p: Sequence[np.ndarray]) -> np.ndarray:
    """Each q[i] is [Lq, d] and each p[j] is [Lp, d] (padding already removed)."""
    if not p:
        return np.zeros((len(q), 0))
    width = max(len(x) for x in p)
    dim = p[0].shape[1]
    padded = np.zeros((len(p), width, dim), dtype=np.float32)
    mask = np.zeros((len(p), width), dtype=bool)
    for j, x in enumerate(p):
        padded[j, :len(x)] = x
        mask[j, :len(x)] = True
    out = np.zeros((len(q), len(p)), dtype=np.float64)
    for i, qv in enumerate(q):
        sim = np.einsum("qd,jpd->jqp", qv, padded)          # [D, Lq, Lp]
        sim = np.where(mask[:, None, :], sim, -np.inf)
        out[i] = sim.max(axis=2).sum(axis=1) / max(1, len(qv))
    return out


def hybrid_scores(heads: Mapping[str, np.ndarray]) -> np.ndarray:
    return sum(HYBRID_WEIGHTS[h] * heads[h] for h in HYBRID_WEIGHTS)


def rank_metrics(scores: np.ndarray, relevance: Sequence[Mapping[int, float]], k: int = 10) -> dict[str, float]:
    """MRR@k, Recall@k and nDCG@k averaged over queries.

    scores: [Q, D]; relevance[i]: {doc index: graded relevance > 0} for query i.
    Queries without any relevant document are left out of the averages.
    """
    mrr, recall, ndcg, counted = 0.0, 0.0, 0.0, 0
    for i, rel in enumerate(relevance):
        rel = {d: g for d, g in rel.items() if g > 0}
        if not rel:
            continue
        counted += 1
        top = np.argsort(-scores[i], kind="stable")[:k]
        for rank, d in enumerate(top, start=1):
            if d in rel:
                mrr += 1.0 / rank
                break
        recall += sum(1 for d in top if d in rel) / len(rel)
        dcg = sum(rel.get(int(d), 0.0) / math.log2(r + 1) for r, d in enumerate(top, start=1))
        ideal = sorted(rel.values(), reverse=True)[:k]
        idcg = sum(g / math.log2(r + 1) for r, g in enumerate(ideal, start=1))
        ndcg += dcg / idcg
    if counted == 0:
        raise ValueError("no query has a relevant document")
    return {f"mrr@{k}": mrr / counted, f"recall@{k}": recall / counted, f"ndcg@{k}": ndcg / counted}


def first_relevant_rank(scores: np.ndarray, relevance: Mapping[int, float]) -> int | None:
    """1-based rank of the best-ranked relevant document for one query's scores [D]; None if none is relevant."""
    relevant = [d for d, g in relevance.items() if g > 0]
    if not relevant:
        return None
    best = max(scores[d] for d in relevant)
    # Ties rank in document order, as argsort(kind="stable") does.
    first = min(d for d in relevant if scores[d] == best)
    return int(np.sum(scores > best) + np.sum(scores[:first] == best)) + 1


def first_relevant_ranks(scores: np.ndarray, relevance: Sequence[Mapping[int, float]]) -> list[int | None]:
    """first_relevant_rank for each query of scores [Q, D]."""
    return [first_relevant_rank(scores[i], rel) for i, rel in enumerate(relevance)]
