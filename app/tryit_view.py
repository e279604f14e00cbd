"""Pure helpers for the Try-it page: sparse token weights as highlighted HTML, rank changes."""
from __future__ import annotations

import html
from typing import Optional, Sequence


def highlight(tokens: Sequence[tuple[str, float]]) -> str:
    """Tokens as spans shaded by their sparse weight (darkest = the text's largest weight).
    WordPiece '##' pieces join the previous token; SentencePiece '▁' starts a word. Text is escaped."""
    top = max((w for _, w in tokens), default=0.0) or 1.0
    parts = []
    for i, (token, weight) in enumerate(tokens):
        if token.startswith("##"):
            token, space = token[2:], ""
        elif token.startswith("▁"):
            token, space = token[1:], " " if i else ""
        else:
            space = " " if i else ""
        alpha = round(min(1.0, max(0.0, weight / top)), 2)
        parts.append(f'{space}<span title="{weight:.3f}" style="background: rgba(37, 99, 235, {alpha}); '
                     f'border-radius: 3px">{html.escape(token)}</span>')
    return "".join(parts)


def rank_change(base: Optional[int], tuned: Optional[int]) -> tuple[str, int]:
    """'7 → 2 (▲5)' and the signed move (positive = moved up), for the right passage's rank."""
    if base is None or tuned is None:
        return "–", 0
    move = base - tuned
    arrow = f" (▲{move})" if move > 0 else f" (▼{-move})" if move < 0 else " (=)"
    return f"{base} → {tuned}{arrow}", move
