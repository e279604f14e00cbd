"""Teacher scores: a cross-encoder reranker scores each row's positives and negatives into
`pos_scores` / `neg_scores`, which a run distils from (FlagEmbedding's knowledge_distillation with
kd_loss_type m3_kd_loss, RunConfig.teacher_scores). FlagEmbedding's own FlagReranker does the
scoring. Torch loads only inside `score_rows`."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from trainer.data import write_jsonl_atomic
from trainer.core.model_source import model_dir

Scorer = Callable[[list[tuple[str, str]]], list[float]]


def reranker(model: str, batch_size: int = 32, max_length: int = 512, device: Optional[str] = None) -> Scorer:
    """FlagEmbedding's FlagReranker over a local folder or a cached hub id (e.g. BAAI/bge-reranker-v2-m3)."""
    from FlagEmbedding import FlagReranker

    folder = model_dir(model)
    if folder is None:
        raise ValueError(f"{model!r} is neither a folder on this machine nor a model in the Hugging Face cache")
    ranker = FlagReranker(str(folder), use_fp16=False, devices=device, batch_size=batch_size, max_length=max_length)

    def score(pairs: list[tuple[str, str]]) -> list[float]:
        out = ranker.compute_score(pairs, normalize=False)
        return [float(x) for x in (out if isinstance(out, list) else [out])]

    return score


def score_rows(rows: list[dict], scorer: Scorer) -> list[dict]:
    """Each row with pos_scores/neg_scores: the teacher's raw score of (query, passage)."""
    pairs = [(r["query"], p) for r in rows for p in r["pos"] + r["neg"]]
    scores = iter(scorer(pairs))
    out = []
    for r in rows:
        pos = [next(scores) for _ in r["pos"]]
        neg = [next(scores) for _ in r["neg"]]
        out.append({**r, "pos_scores": pos, "neg_scores": neg})
    return out


def score_file(rows: list[dict], output_path: str, model: str, batch_size: int = 32, max_length: int = 512) -> dict:
    """Score rows (checked by trainer.data.rows_to_score) and write them."""
    rows = score_rows(rows, reranker(model, batch_size, max_length))
    write_jsonl_atomic(Path(output_path), rows)
    return {"rows": len(rows), "pairs": sum(len(r["pos"]) + len(r["neg"]) for r in rows), "output": str(output_path),
            "reranker": model}
