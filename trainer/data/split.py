"""A held-out split of the user's own training rows: train / validation (early stopping) / test
(never used for any decision), written as BEIR folders the evaluation reads. No torch.

Rows that share a query text or a positive passage stay on the same side (one union-find group),
so no test query, and no test query's answer as a training positive, reaches training.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

MIN_HELD_OUT = 5     # fewer queries than this make a score too noisy to show


@dataclass
class Split:
    train: list[dict]
    val: list[dict]
    test: list[dict]


def _groups(rows: list[dict]) -> list[list[int]]:
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}
    for i, row in enumerate(rows):
        for key in [("q", row["query"])] + [("p", p) for p in row["pos"]]:
            j = first.setdefault(key, i)
            parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(rows)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def split_rows(rows: list[dict], val_fraction: float, test_fraction: float, seed: int) -> Split:
    """Whole groups go to test, then validation, until each holds its fraction of the rows."""
    groups = _groups(rows)
    random.Random(seed).shuffle(groups)
    targets = (round(test_fraction * len(rows)), round(val_fraction * len(rows)))
    sides: list[list[int]] = [[], [], []]          # test, val, train
    for group in groups:
        side = next((k for k in (0, 1) if len(sides[k]) < targets[k]), 2)
        sides[side].extend(group)
    test, val, train = ([rows[i] for i in sorted(side)] for side in sides)
    return Split(train, val, test)


def problems(split: Split, rows: int) -> list[str]:
    """Why this split cannot be used, in words ([] when fine)."""
    out = []
    for name, side in (("test", split.test), ("validation", split.val)):
        queries = len({r["query"] for r in side})
        if queries < MIN_HELD_OUT:
            out.append(f"the {name} split holds {queries} queries (of {rows} rows); at least {MIN_HELD_OUT} are "
                       "needed — add rows, raise its fraction, or give an evaluation folder")
    if not split.train:
        out.append("no rows are left for training after holding out validation and test queries")
    return out


def write_beir(folder: Path, rows: list[dict], corpus: list[str]) -> None:
    """queries.jsonl, corpus.jsonl, qrels.tsv for `rows` over `corpus` (every passage of the file)."""
    folder.mkdir(parents=True, exist_ok=True)
    doc_id = {text: f"d{i}" for i, text in enumerate(corpus)}
    queries = list(dict.fromkeys(r["query"] for r in rows))
    query_id = {q: f"q{i}" for i, q in enumerate(queries)}
    qrels = sorted({(query_id[r["query"]], doc_id[p]) for r in rows for p in r["pos"]})
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"_id": query_id[q], "text": q}, ensure_ascii=False) + "\n" for q in queries)
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"_id": doc_id[t], "text": t}, ensure_ascii=False) + "\n" for t in corpus)
    with open(folder / "qrels.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"{q}\t{d}\t1\n" for q, d in qrels)


def passages(rows: list[dict]) -> list[str]:
    """Every passage of the file, once: the corpus the held-out queries are searched in."""
    return list(dict.fromkeys(p for r in rows for p in r["pos"] + r.get("neg", [])))
