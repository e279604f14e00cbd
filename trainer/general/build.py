"""Builds the product's out-of-domain check for merging (trainer.engine.merge.curve): a small slice of
SciFact (Wadden et al., 2020, allenai/scifact) in the BEIR-style folder the evaluator reads.

All 53 validation claims of the copy in ../shared/data/scifact/eval_val, their relevant abstracts
and 247 other abstracts drawn with a fixed seed, each abstract cut to its first 600 characters
(the check encodes at most 128 tokens). Licences: claims CC BY 4.0, abstracts ODC-By 1.0 (see
README.md here). Run this file (optionally with the eval_val folder's path) to rewrite
queries.jsonl, corpus.jsonl and qrels.tsv (deterministic).
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = HERE.parent.parent.parent / "shared" / "data" / "scifact" / "eval_val"
OTHERS, CHARS, SEED = 247, 600, 17


def main(source: Path = SOURCE) -> None:
    qrels = [line.split("\t") for line in (source / "qrels.tsv").read_text().splitlines()[1:]]
    relevant = {doc for _, doc, _ in qrels}
    corpus = [json.loads(line) for line in (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    rest = sorted((d for d in corpus if d["_id"] not in relevant), key=lambda d: d["_id"])
    kept = [d for d in corpus if d["_id"] in relevant] + random.Random(SEED).sample(rest, OTHERS)
    with open(HERE / "corpus.jsonl", "w", encoding="utf-8") as f:
        for d in sorted(kept, key=lambda d: d["_id"]):
            f.write(json.dumps({"_id": d["_id"], "title": d.get("title", ""), "text": d["text"][:CHARS]},
                               ensure_ascii=False) + "\n")
    (HERE / "queries.jsonl").write_text((source / "queries.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    (HERE / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join("\t".join(r) + "\n" for r in qrels))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
