"""Token counts with the model's own fast tokenizer (the `tokenizers` library: no torch)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer

from .config import DEFAULT_MODEL
from .models import resolve_model


@lru_cache(maxsize=4)
def _tokenizer(model: str) -> Tokenizer:
    path = Path(resolve_model(model)) / "tokenizer.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no fast tokenizer file to count tokens with")
    return Tokenizer.from_file(str(path))


def token_lengths(texts: list[str], model: str = DEFAULT_MODEL) -> list[int]:
    tok = _tokenizer(model)
    tok.no_truncation()
    tok.no_padding()         # a tokenizer.json may pad every text to a fixed length (MiniLM's: 128)
    return [len(e.ids) for e in tok.encode_batch(texts)]
