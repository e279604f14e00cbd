"""The held-out split of the user's own rows: nothing of a test query reaches training."""
import json
import random

from trainer.data import validate_eval
from trainer.data.split import passages, problems, split_rows, write_beir


def rows_with_shared_answers(n=200, seed=0):
    rng = random.Random(seed)
    # several questions per passage (as in CMRC), and some questions asked twice with other passages
    out = [{"query": f"question {i}", "pos": [f"passage {rng.randrange(60)}"], "neg": [f"passage {rng.randrange(60)}"]}
           for i in range(n)]
    out += [{"query": f"question {i}", "pos": [f"passage {rng.randrange(60)}"]} for i in range(0, n, 10)]
    return out


def test_no_test_query_or_test_answer_leaks_into_training():
    rows = rows_with_shared_answers()
    split = split_rows(rows, 0.1, 0.1, seed=42)
    assert sorted(map(json.dumps, split.train + split.val + split.test)) == sorted(map(json.dumps, rows))
    for held in (split.test, split.val):
        assert held
        assert not {r["query"] for r in held} & {r["query"] for r in split.train}
        assert not {p for r in held for p in r["pos"]} & {p for r in split.train for p in r["pos"]}
    assert not {r["query"] for r in split.test} & {r["query"] for r in split.val}


def test_the_split_is_deterministic_for_a_seed():
    rows = rows_with_shared_answers()
    assert split_rows(rows, 0.1, 0.1, 42) == split_rows(rows, 0.1, 0.1, 42)
    assert split_rows(rows, 0.1, 0.1, 42).test != split_rows(rows, 0.1, 0.1, 7).test


def test_too_few_queries_to_hold_out_are_explained():
    rows = [{"query": f"q{i}", "pos": [f"p{i}"]} for i in range(12)]
    why = problems(split_rows(rows, 0.1, 0.1, 42), len(rows))
    assert why and "at least 5" in why[0] and "evaluation folder" in why[0]


def test_beir_folders_read_back_with_every_passage_as_corpus(tmp_path):
    rows = rows_with_shared_answers(50)
    split = split_rows(rows, 0.2, 0.2, 1)
    write_beir(tmp_path / "test", split.test, passages(rows))
    evalset, report = validate_eval(tmp_path / "test")
    assert report.ok and len(evalset.docs) == len(passages(rows))
    assert len(evalset.queries) == len({r["query"] for r in split.test})
    for query, relevant in zip(evalset.queries, evalset.relevance):
        answers = {p for r in split.test if r["query"] == query for p in r["pos"]}
        assert {evalset.docs[d] for d in relevant} == answers
