"""The held-out test split on the Train and Runs pages: per head, before → after, in words a
non-engineer can read, with a verdict only where it is larger than its noise (trainer.verdict) and the
absolute level next to it. No torch."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from app import chart_data as cd, story
from app.ui import status_name, t
from trainer.core import verdict
from trainer.store import COMPLETED
from trainer.core.metrics import Metric


def changes(tests: list[dict]) -> dict[str, verdict.Change]:
    """Per head: the held-out test's first evaluation (the base model) against its last (the kept model),
    from the per-question ranks the worker stored (query_ranks.TEST_FILE); empty before the run's end."""
    return {h: c for h in cd.HEADS if (c := verdict.first_last(tests, h)) is not None}


change_words = story.change_words      # the one wording of a change (Find settings reads it from here)


def level(change: verdict.Change, ranks: list, head: str) -> str:
    """The absolute level on the main head after training: the median rank of the right passage, and
    'not yet useful' below verdict.USEFUL_MRR."""
    words = t("level.rank", head=t(f"head.{head}"), rank=f"{verdict.median_rank(ranks):.0f}", mrr=f"{change.after:.3f}")
    return words if change.after >= verdict.USEFUL_MRR else words + " " + t("level.not_useful")


def show_test_split(run, df: pd.DataFrame) -> None:
    """Nothing when the run has no test split (an evaluation folder of the user's own)."""
    table = cd.test_before_after(df)
    if table.empty:
        return
    queries = cd.latest(df, Metric.TEST_QUERIES)
    st.markdown(f"#### {t('heldout.title')}")
    st.caption(t("heldout.explain", n=int(queries or 0)))
    tests = story.tests(run)
    moved = changes(tests)
    rows = []
    for head, part in table.groupby("head", sort=False):
        row = {t("heldout.col.head"): t(f"head.{head}")}
        for _, r in part.iterrows():
            name = t(f"heldout.metric.{r['metric']}")
            if math.isnan(r["after"]):
                row[name] = f"{r['before']:.3f} → …"
            else:
                row[name] = f"{r['before']:.3f} → {r['after']:.3f} ({r['after'] - r['before']:+.3f})"
        if head in moved:
            row[t("heldout.col.verdict")] = story.change_words(moved[head])
        rows.append(row)
    st.table(pd.DataFrame(rows), hide_index=True)     # every row and the verdict readable, never clipped
    if not moved:
        return
    better = [t(f"head.{h}") for h, c in moved.items() if c.word == verdict.BETTER]
    worse = [t(f"head.{h}") for h, c in moved.items() if c.word == verdict.WORSE]
    unclear = [t(f"head.{h}") for h, c in moved.items() if c.word == verdict.UNCLEAR]
    sep = t("list.sep")
    words = t("heldout.verdict", better=sep.join(better) or "–", worse=sep.join(worse) or "–",
              unclear=sep.join(unclear) or "–")
    if run.status != COMPLETED:
        words = t("verdict.not_completed", status=status_name(run.status)) + " " + words
    st.markdown(words)
    st.caption(t("verdict.rule", n=next(iter(moved.values())).questions))
    main = run.config.mode.main_head
    if main in moved and moved[main].before >= 0.9:
        st.caption(t("heldout.ceiling", n=moved[main].questions, before=f"{moved[main].before:.3f}",
                     head=t(f"head.{main}")))
    if main in moved:
        text = level(moved[main], tests[-1]["ranks"][main], main)
        (st.info if moved[main].after >= verdict.USEFUL_MRR else st.warning)(text)
