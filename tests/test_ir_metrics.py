import math

import numpy as np
import pytest

from trainer.core import ir_metrics


def test_rank_metrics_by_hand():
    # query 0: relevant doc 2 ranked 2nd; query 1: relevant docs 0 (grade 2) and 1, ranked 1st and 3rd
    scores = np.array([[0.9, 0.1, 0.5, 0.0],
                       [0.8, 0.1, 0.2, 0.7]])
    rel = [{2: 1}, {0: 2, 1: 1}]
    m = ir_metrics.rank_metrics(scores, rel, k=3)
    assert m["mrr@3"] == pytest.approx((1 / 2 + 1) / 2)
    assert m["recall@3"] == pytest.approx((1 + 0.5) / 2)
    ndcg0 = (1 / math.log2(3)) / 1
    ndcg1 = (2 / 1) / (2 / 1 + 1 / math.log2(3))
    assert m["ndcg@3"] == pytest.approx((ndcg0 + ndcg1) / 2)


def test_rank_metrics_skip_queries_without_relevant_docs_and_refuse_none():
    scores = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert ir_metrics.rank_metrics(scores, [{0: 1}, {}], k=10)["mrr@10"] == 1.0
    with pytest.raises(ValueError):
        ir_metrics.rank_metrics(scores, [{}, {}])


def test_sparse_score_is_the_sum_over_shared_tokens():
    q = [{1: 0.5, 7: 2.0}]
    p = [{7: 0.25, 9: 1.0}, {3: 1.0}]
    assert ir_metrics.sparse_scores(q, p).tolist() == [[0.5, 0.0]]


def test_colbert_score_is_mean_of_max_similarity_and_ignores_padding():
    q = [np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)]
    p = [np.array([[1.0, 0.0]], dtype=np.float32),
         np.array([[-1.0, 0.0], [0.0, -1.0], [0.5, 0.5]], dtype=np.float32)]
    s = ir_metrics.colbert_scores(q, p)
    assert s[0, 0] == pytest.approx((1.0 + 0.0) / 2)
    assert s[0, 1] == pytest.approx((0.5 + 0.5) / 2)  # a padded zero vector (score 0) would not win


def test_hybrid_weights_match_flagembedding():
    heads = {h: np.ones((1, 1)) for h in ("dense", "sparse", "colbert")}
    assert ir_metrics.hybrid_scores(heads)[0, 0] == pytest.approx(2.3)


def test_first_relevant_rank_agrees_with_a_stable_sort():
    rng = np.random.default_rng(0)
    for _ in range(200):
        scores = rng.integers(0, 5, size=12).astype(float)       # many ties
        relevant = {int(d): 1.0 for d in rng.choice(12, size=rng.integers(1, 4), replace=False)}
        order = list(np.argsort(-scores, kind="stable"))
        expected = min(order.index(d) for d in relevant) + 1
        assert ir_metrics.first_relevant_rank(scores, relevant) == expected
    assert ir_metrics.first_relevant_rank(np.array([0.1, 0.2]), {}) is None


def test_per_query_ranks_tell_which_queries_moved(tmp_path):
    from trainer.store import query_ranks
    scores = np.array([[0.1, 0.9, 0.5], [0.8, 0.2, 0.3]])
    assert ir_metrics.first_relevant_ranks(scores, [{2: 1}, {0: 1}]) == [2, 1]
    query_ranks.append(tmp_path, 0, 0.0, {"dense": [6, 7, 1, 3], "hybrid": [2, 2, 2, 2]})
    query_ranks.append(tmp_path, 9, 1.0, {"dense": [2, 9, 1, 3], "hybrid": [1, 2, 2, 2]})
    with open(tmp_path / query_ranks.FILE, "a") as f:
        f.write('{"step": 12, "ranks": {"den')                  # a line the worker is still writing
    validations = query_ranks.load(tmp_path)
    assert [v["step"] for v in validations] == [0, 9]
    dense = query_ranks.stories(validations)["dense"]
    assert (dense.queries, dense.improved, dense.worse, dense.unchanged) == (4, 1, 1, 2)
    assert (dense.mean_before, dense.mean_after) == (17 / 4, 15 / 4)
    assert query_ranks.moves(validations, "hybrid") == [(2, 1), (2, 2), (2, 2), (2, 2)]
    assert query_ranks.stories(validations[:1]) == {} and query_ranks.load(tmp_path / "none") == []
