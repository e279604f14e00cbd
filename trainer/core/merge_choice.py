"""Which merge weight to use, from the merge curve (trainer.engine.merge.curve, the Runs page's "Score a few
weights"). No torch: the page reads the curve's file and words the choice.

The curve scores the merged model at a few weights w (w × fine-tuned + (1 − w) × base) on the run's validation
questions and, where it applies, on an out-of-domain check shipped with the product (English SciFact claims). A
weight is said to beat another only when a paired bootstrap over the questions says so (trainer.verdict):

1. No weight clearly above the base model (w = 0) on validation: use the base model; fine-tuning has not yet
   helped measurably.
2. Otherwise the candidates are the weights clearly above the base model and within the noise of the highest
   validation score. With the out-of-domain check, the candidate keeping the most there is used if it keeps
   clearly more than the highest-scoring weight; else the highest-scoring weight.

The out-of-domain check is English: it applies to a run whose validation questions are English (`language`).
"""
from __future__ import annotations

import re
from typing import Optional

from trainer.core import verdict

GENERAL_LANGUAGE = "en"          # trainer/general/: SciFact claims and abstracts
LANGUAGES = ("en", "zh", "ja", "ko", "ru", "ar", "latin", "other")     # what `language` answers
CASES = ("base", "best", "near")                                        # `choose`'s cases
# Common English words: a Latin-script text is English when enough of its words are among them.
_ENGLISH = frozenset("""a an the of to in on for with and or but not no is are was were be been it its this that these
those what which who how why when where do does did can could should would will my your our their i you we they he she
from by at as if so than then there here about into over after before up down out off all any some more most""".split())
_SCRIPTS = (("zh", r"[\u3400-\u4dbf\u4e00-\u9fff]"), ("ja", r"[\u3040-\u30ff]"), ("ko", r"[\uac00-\ud7af]"),
            ("ru", r"[\u0400-\u04ff]"), ("ar", r"[\u0600-\u06ff]"), ("latin", r"[A-Za-z\u00c0-\u024f]"))


def language(texts: list[str]) -> str:
    """The texts' language as far as its script tells: zh, ja (any kana), ko, ru (Cyrillic), ar, en (Latin script
    with enough common English words), latin (another Latin-script language) or other."""
    joined = " ".join(texts)
    counts = {code: len(re.findall(pattern, joined)) for code, pattern in _SCRIPTS}
    if counts["ja"] and counts["ja"] >= 0.05 * (counts["ja"] + counts["zh"]):
        counts["ja"] += counts.pop("zh")          # Japanese writes kanji too
    code = max(counts, key=counts.get)
    if not counts[code]:
        return "other"
    if code != "latin":
        return code
    words = re.findall(r"[a-z']+", joined.lower())
    return "en" if words and sum(w in _ENGLISH for w in words) >= 0.12 * len(words) else "latin"


def _score(ranks: list) -> float:
    return float(verdict.reciprocal_ranks(ranks).mean()) if ranks else 0.0


def _clearly_above(lower: list, higher: list) -> bool:
    change = verdict.paired(lower, higher)
    return change is not None and change.word == verdict.BETTER


def choose(curve: dict) -> Optional[dict]:
    """The weight to use and why: {"weight", "case" ("base" | "best" | "near"), "validation": {w: score},
    "best_weight", "questions", "general": None or {"weight_scores", "questions", "language", "more" (the chosen
    weight keeps clearly more there than the highest-scoring weight)}, "within": weights as good on validation}.
    None for a curve scored before per-question ranks were kept (score it again)."""
    points = sorted(curve.get("points", []), key=lambda p: p["weight"])
    if not points or any("validation" not in p.get("ranks", {}) for p in points):
        return None
    ranks = {p["weight"]: p["ranks"]["validation"] for p in points}
    scores = {w: _score(r) for w, r in ranks.items()}
    best = max(scores, key=lambda w: (round(scores[w], 9), -w))          # ties: the lower weight keeps more base
    base = min(ranks)
    answer = {"validation": scores, "best_weight": best, "base_weight": base, "questions": len(ranks[best]),
              "general": None, "within": []}
    if base == 0 and not _clearly_above(ranks[0], ranks[best]):
        return dict(answer, weight=0.0, case="base")
    near = [w for w in ranks if not _clearly_above(ranks[w], ranks[best])
            and (base != 0 or _clearly_above(ranks[0], ranks[w]))]
    answer["within"] = near
    chosen = best
    general = {p["weight"]: p["ranks"]["general"] for p in points if "general" in p["ranks"]}
    if len(general) == len(points):
        keeps = max(near, key=lambda w: (round(_score(general[w]), 9), scores[w]))
        more = keeps != best and _clearly_above(general[best], general[keeps])
        chosen = keeps if more else best
        answer["general"] = {"scores": {w: _score(r) for w, r in general.items()}, "questions": len(general[best]),
                             "language": curve.get("languages", {}).get("general", GENERAL_LANGUAGE),
                             "more": more, "compared_with": best}
    return dict(answer, weight=chosen, case="best" if chosen == best else "near")
