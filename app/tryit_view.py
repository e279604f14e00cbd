"""Pure helpers for the Try-it page: sparse token weights as highlighted HTML, rank changes."""
from __future__ import annotations

import html
from typing import Optional, Sequence

from app.markdown import plain


def _text(text: str) -> str:
    """A passage's text as the characters it is, in Markdown with HTML on: neither a tag nor a Markdown image."""
    return plain(html.escape(text))


def highlight(text: str, spans: Sequence[tuple[int, int, float]], limit: int = 600) -> str:
    """`text` (escaped, cut at `limit` characters) with each weighted span shaded by its sparse weight
    (darkest = the text's largest weight); a light amber under dark text stays readable."""
    top = max((w for _, _, w in spans), default=0.0) or 1.0
    parts, at = [], 0
    for start, end, weight in sorted(spans):
        if start < at or start >= limit:
            continue
        alpha = round(0.15 + 0.6 * min(1.0, max(0.0, weight / top)), 2) if weight > 0 else 0.0
        parts.append(_text(text[at:start]))
        parts.append(f'<span title="{weight:.3f}" style="background: rgba(251, 191, 36, {alpha}); color: #111827; '
                     f'border-radius: 3px">{_text(text[start:end])}</span>' if alpha else _text(text[start:end]))
        at = end
    parts.append(_text(text[at:limit]) + ("…" if len(text) > limit else ""))
    return "".join(parts)


def heaviest(text: str, spans: Sequence[tuple[int, int, float]], n: int = 8) -> list[tuple[str, float]]:
    """The n heaviest tokens of a text as (its characters, weight), heaviest first."""
    return [(text[s:e], w) for s, e, w in sorted(spans, key=lambda x: -x[2])[:n] if w > 0]


def arrow(move: int) -> str:
    """'▲5', '▼2' or '=' for a rank that moved up, down or not at all."""
    return f"▲{move}" if move > 0 else f"▼{-move}" if move < 0 else "="


def rank_change(base: Optional[int], tuned: Optional[int]) -> tuple[str, int]:
    """'7 → 2 (▲5)' and the signed move (positive = moved up), for the right passage's rank."""
    if base is None or tuned is None:
        return "–", 0
    move = base - tuned
    return f"{base} → {tuned} ({arrow(move)})", move
