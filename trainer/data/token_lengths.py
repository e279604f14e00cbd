"""Token counts with the model's own fast tokenizer (the `tokenizers` library: no torch), and the
query / passage lengths a run should truncate to, suggested from the data."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer

from trainer.core.config import DEFAULT_MODEL
from trainer.core.model_source import max_tokens, model_dir

COVER = 0.95                  # cover this share of the texts without truncation
SAMPLE_ROWS = 2000            # rows whose texts are counted (the first ones: the file is not shuffled)
LENGTH_STEP = 32              # suggestions are rounded up to a multiple of this
MIN_QUERY, MIN_PASSAGE = 32, 64


@lru_cache(maxsize=4)
def _tokenizer(model: str) -> Tokenizer:
    # "bge-m3" is the memory estimator's name for BGE-M3's shape: its tokenizer is BAAI/bge-m3's, if cached
    folder = model_dir("BAAI/bge-m3" if model == "bge-m3" else model)
    path = (folder or Path(model)) / "tokenizer.json"
    if not path.is_file():
        where = "not in the Hugging Face cache" if folder is None else f"{path} is missing"
        raise FileNotFoundError(f"cannot count tokens for {model}: its tokenizer is {where}; give a local model "
                                f"folder (--model or --tokenizer) or download BAAI/bge-m3 once")
    tok = Tokenizer.from_file(str(path))
    # Saved tokenizers may pad or truncate to a fixed length (MiniLM's pads to 128): count real tokens.
    tok.no_truncation()
    tok.no_padding()
    return tok


def token_lengths(texts: list[str], model: str = DEFAULT_MODEL) -> list[int]:
    return [len(e.ids) for e in _tokenizer(model).encode_batch(texts)]


def unknown_share(texts: list[str], model: str = DEFAULT_MODEL) -> float:
    """The share of the texts' tokens (special tokens left out) that the model's tokenizer reads as unknown
    ([UNK]): text in a script its vocabulary lacks. 0 for a tokenizer without an unknown token (byte-level)."""
    tok = _tokenizer(model)
    unk = next((tok.token_to_id(t) for t in ("[UNK]", "<unk>") if tok.token_to_id(t) is not None), None)
    if unk is None:
        return 0.0
    total = unknown = 0
    for e in tok.encode_batch(texts):
        words = [i for i, special in zip(e.ids, e.special_tokens_mask) if not special]
        total += len(words)
        unknown += sum(i == unk for i in words)
    return unknown / total if total else 0.0


def percentile(lengths: list[int], share: float = COVER) -> int:
    ranked = sorted(lengths)
    return ranked[min(len(ranked) - 1, max(0, math.ceil(share * len(ranked)) - 1))] if ranked else 0


def covering_length(lengths: list[int], floor: int, limit: int | None) -> int:
    """The length that covers COVER of `lengths`, rounded up to LENGTH_STEP, within [floor, limit]."""
    value = max(floor, LENGTH_STEP * math.ceil(percentile(lengths) / LENGTH_STEP))
    return min(value, limit) if limit else value


@dataclass(frozen=True)
class LengthAdvice:
    query_max_len: int
    passage_max_len: int
    query_p95: int           # token lengths at the 95th percentile, before rounding and capping
    passage_p95: int
    texts: int               # how many texts were counted
    passage_quantiles: tuple[int, ...] = ()   # passage lengths at 5 %, 10 %, …, 100 %: what a cut drops


def dropped_share(quantiles, length: int) -> float:
    """The share of the passages' tokens a cut to `length` drops, from their 5 % quantiles (0: unknown)."""
    total = sum(quantiles)
    return sum(max(0, q - length) for q in quantiles) / total if total else 0.0


def suggest_lengths(rows: list[dict], model: str = DEFAULT_MODEL, limit: int | None = None) -> LengthAdvice:
    """Truncation lengths covering ~95 % of the queries and passages of the first SAMPLE_ROWS rows."""
    sample = rows[:SAMPLE_ROWS]
    q = token_lengths([r["query"] for r in sample], model)
    p = token_lengths([t for r in sample for t in r["pos"] + r.get("neg", [])], model)
    return LengthAdvice(covering_length(q, MIN_QUERY, limit), covering_length(p, MIN_PASSAGE, limit),
                        percentile(q), percentile(p), len(q) + len(p),
                        tuple(percentile(p, k / 20) for k in range(1, 21)))


def length_advice(rows: list[dict], model: str) -> LengthAdvice | None:
    """Lengths covering ~95 % of the rows' texts, capped at the model's maximum; None without a local
    tokenizer to count with."""
    try:
        return suggest_lengths(rows, model, max_tokens(model_dir(model)))
    except (OSError, ValueError):
        return None
