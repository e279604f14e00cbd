"""Hard-negative mining: give each (query, positive) row negatives that the model ranks high but
that are not its answer.

1. Pool: every passage of the file (positives and negatives) plus an optional corpus, de-duplicated.
2. Encode the unique queries and the pool with the model's dense head — sentence-transformers with
   the run's pooling (CLS or mean) and normalisation, i.e. the vectors M3 trains and evaluates.
3. Rank the pool for each query by cosine (chunked matrix products: memory stays bounded).
4. Candidates are the passages at ranks [A, B) of that ranking (FlagEmbedding's hn_mine counts the
   same way; its advice is 2-200), never a positive of that query (all rows with the same query
   text count) nor the query itself, and never one scoring within `margin` of the query's weakest
   positive (score > pos - |pos| * margin: likely an unlabelled answer; sentence-transformers'
   relative_margin, NV-Retriever's 95 %).
5. Sample N of them with a seeded generator; a query with fewer candidates is filled from below
   rank B, then from above rank A (still with the margin); rows left short are counted.

The search and the sampling are numpy and take any `encode(texts, max_len) -> unit vectors`
function, so tests run them without a model. Torch loads only in `st_encoder`.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from trainer.core.config import RunConfig, parse_range

_DEFAULT = RunConfig()                  # the mining defaults' one owner: RunConfig's mine_* fields
_LOW, _HIGH = parse_range(_DEFAULT.mine_range)


Encode = Callable[[list[str], int], np.ndarray]
Progress = Callable[..., None]      # (phase, done, total[, overall]): overall = {"rows", "texts_done", "texts_total"}
QUERY_CHUNK = 256                                # queries scored at once: chunk x pool floats in memory


@dataclass(frozen=True)
class MineSettings:
    negatives: int = _DEFAULT.mine_negatives
    range_min: int = _LOW
    range_max: int = _HIGH
    margin: float = _DEFAULT.mine_margin
    seed: int = _DEFAULT.seed
    query_max_len: int = 64
    passage_max_len: int = 256


@dataclass
class Mined:
    rows: list[dict]                   # the input rows, `neg` replaced where mined
    pos_scores: list[float]            # per row: the query's weakest positive score (mined rows)
    neg_scores: list[list[float]]      # per row: the mined negatives' scores ([] if not mined)
    stats: dict = field(default_factory=dict)


def _chunks(texts: Sequence[str], size: int):
    for start in range(0, len(texts), size):
        yield texts[start:start + size]


def _encode_all(encode: Encode, texts: list[str], max_len: int, phase: str, progress: Optional[Progress],
                chunk: int = 256) -> np.ndarray:
    """Encode in chunks, reporting after each (a chunk of a few encoder batches: the count moves as it works)."""
    parts = []
    if progress:
        progress(phase, 0, len(texts))
    for part in _chunks(texts, chunk):
        parts.append(np.asarray(encode(list(part), max_len), dtype=np.float32))
        if progress:
            progress(phase, min(len(texts), len(parts) * chunk), len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)


def mine(rows: list[dict], encode: Encode, settings: MineSettings = MineSettings(), *,
         corpus: Sequence[str] = (), only_missing: bool = False, progress: Optional[Progress] = None) -> Mined:
    """Mine negatives for `rows` (each with `query` and a non-empty `pos` list). With `only_missing`,
    rows that already have negatives keep them."""
    if settings.negatives < 1:
        raise ValueError(f"negatives must be at least 1, got {settings.negatives}")
    started = time.perf_counter()
    todo = [i for i, r in enumerate(rows) if not (only_missing and r.get("neg"))]
    pool = list(dict.fromkeys([p for r in rows for p in r["pos"] + r.get("neg", [])] + list(corpus)))
    index = {text: i for i, text in enumerate(pool)}
    positives: dict[str, set[int]] = {}
    for r in rows:
        positives.setdefault(r["query"], set()).update(index[p] for p in r["pos"])
    queries = list(dict.fromkeys(rows[i]["query"] for i in todo))
    if progress:       # the real totals: the rows mined, and every text encoded (its questions, then the pool)
        outer, offsets = progress, {"queries": 0, "passages": len(queries), "search": len(queries) + len(pool)}

        def progress(phase: str, done: int, total: int) -> None:
            outer(phase, done, total, {"rows": len(todo), "texts_total": len(queries) + len(pool),
                                       "texts_done": offsets[phase] + (done if phase != "search" else 0)})
    q_vecs = _encode_all(encode, queries, settings.query_max_len, "queries", progress)
    p_vecs = _encode_all(encode, pool, settings.passage_max_len, "passages", progress)
    rng = np.random.default_rng(settings.seed)
    chosen: dict[str, tuple[float, list[int], list[float]]] = {}
    top = min(len(pool), settings.range_max + max(len(p) for p in positives.values()) + 1)
    for start in range(0, len(queries), QUERY_CHUNK):
        block = q_vecs[start:start + QUERY_CHUNK] @ p_vecs.T           # (chunk, pool) cosine scores
        head = np.argpartition(-block, top - 1, axis=1)[:, :top] if top < len(pool) else \
            np.tile(np.arange(len(pool)), (len(block), 1))
        for row, query in enumerate(queries[start:start + QUERY_CHUNK]):
            scores = block[row]
            ranked = head[row][np.argsort(-scores[head[row]], kind="stable")]
            pos = positives[query]
            pos_score = float(min(scores[i] for i in pos))
            ceiling = pos_score - abs(pos_score) * settings.margin
            blocked = pos | ({index[query]} if query in index else set())

            def allowed(i: int) -> bool:
                return i not in blocked and scores[i] <= ceiling

            window = [int(i) for i in ranked[settings.range_min:settings.range_max] if allowed(int(i))]
            picked = [int(i) for i in rng.choice(window, size=min(settings.negatives, len(window)), replace=False)]
            if len(picked) < settings.negatives:       # fill from below rank B, then above rank A
                full = np.argsort(-scores, kind="stable")
                for i in np.concatenate([full[settings.range_max:], full[:settings.range_min]]):
                    if len(picked) == settings.negatives:
                        break
                    if allowed(int(i)):
                        picked.append(int(i))
            picked.sort(key=lambda i: -scores[i])
            chosen[query] = (pos_score, picked, [float(scores[i]) for i in picked])
        if progress:
            progress("search", min(len(queries), start + QUERY_CHUNK), len(queries))
    out_rows, pos_scores, neg_scores = [], [], []
    todo_set = set(todo)
    for i, r in enumerate(rows):
        if i not in todo_set:
            out_rows.append(r)
            pos_scores.append(float("nan"))
            neg_scores.append([])
            continue
        pos_score, picked, picked_scores = chosen[r["query"]]
        out_rows.append({**r, "neg": [pool[j] for j in picked]})
        pos_scores.append(pos_score)
        neg_scores.append(picked_scores)
    seconds = time.perf_counter() - started
    stats = {"rows": len(rows), "mined_rows": len(todo), "queries": len(queries), "pool": len(pool),
             "short_rows": sum(1 for i in todo if len(chosen[rows[i]["query"]][1]) < settings.negatives),
             "empty_rows": sum(1 for i in todo if not chosen[rows[i]["query"]][1]),
             "seconds": round(seconds, 3),
             "texts_per_s": round((len(queries) + len(pool)) / seconds, 1) if seconds > 0 else None}
    return Mined(out_rows, pos_scores, neg_scores, stats)


def preview(mined: Mined, count: int = 5) -> list[dict]:
    """A few mined rows with their scores, for the Data page and `mine --json`."""
    out = []
    for r, ps, ns in zip(mined.rows, mined.pos_scores, mined.neg_scores):
        if ns:
            out.append({"query": r["query"], "pos": r["pos"][0], "pos_score": round(ps, 4),
                        "neg": [{"text": t, "score": round(s, 4)} for t, s in zip(r["neg"], ns)]})
        if len(out) == count:
            break
    return out


def st_encoder(model_path: str, pooling: str, device: Optional[str] = None, batch_size: int = 64) -> Encode:
    """The model's dense head as sentence-transformers modules (Transformer → Pooling → Normalize)."""
    from sentence_transformers import SentenceTransformer, models

    transformer = models.Transformer(model_path)
    model = SentenceTransformer(modules=[transformer, models.Pooling(transformer.get_embedding_dimension(),
                                                                     pooling_mode=pooling), models.Normalize()],
                                device=device)

    def encode(texts: list[str], max_len: int) -> np.ndarray:
        model.max_seq_length = max_len
        return model.encode(texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False,
                            normalize_embeddings=True)

    return encode


def write_progress(path: Optional[str]) -> Optional[Progress]:
    """A progress callback that keeps `path` holding {"phase", "done", "total"} (written atomically)."""
    if not path:
        return None
    target = Path(path)

    def report(phase: str, done: int, total: int, overall: Optional[dict] = None) -> None:
        partial = target.with_name(target.name + ".partial")
        partial.write_text(json.dumps({"phase": phase, "done": done, "total": total, **(overall or {}),
                                       "time": time.time()}))
        partial.replace(target)

    return report


def mine_file(rows: list[dict], corpus: list[str], output_path: str, model: str, settings: MineSettings, *,
              pooling: str = "auto", progress_path: str = "", only_missing: bool = False,
              device: Optional[str] = None) -> dict:
    """Mine rows (with their extra passages: trainer.data.rows_to_mine reads and checks both) and write them;
    returns the summary (stats + preview)."""
    from trainer.data import write_jsonl_atomic
    from trainer.core.model_source import detect_pooling, model_dir

    folder = model_dir(model)
    if folder is None:
        raise ValueError(f"{model!r} is neither a folder on this machine nor a model in the Hugging Face cache")
    pooling = detect_pooling(folder)[0] if pooling == "auto" else pooling
    progress = write_progress(progress_path)
    if progress:             # loading the model takes a while: the page says so, with the rows to mine
        todo = sum(1 for r in rows if not (only_missing and r.get("neg")))
        progress("model", 0, 0, {"rows": todo, "texts_done": 0, "texts_total": 0})
    mined = mine(rows, st_encoder(str(folder), pooling, device), settings, corpus=corpus,
                 only_missing=only_missing, progress=progress)
    # A row left without a negative is not written (as the run's own mining drops it): FlagEmbedding cannot
    # train on `"neg": []`; it is counted as dropped_rows.
    kept = [r for r in mined.rows if r.get("neg")]
    write_jsonl_atomic(Path(output_path), kept)
    summary = {**mined.stats, "dropped_rows": len(mined.rows) - len(kept), "written_rows": len(kept),
               "output": str(output_path), "model": model, "pooling": pooling,
               "settings": asdict(settings), "preview": preview(mined)}
    if progress:
        progress("done", 1, 1)
    return summary
