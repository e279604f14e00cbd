"""The held-out test split on the Train and Runs pages: per head, before → after, in words a
non-engineer can read. No torch."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from app import chart_data as cd
from app.ui import t


def show_test_split(df: pd.DataFrame) -> None:
    """Nothing when the run has no test split (an evaluation folder of the user's own)."""
    table = cd.test_before_after(df)
    if table.empty:
        return
    queries = cd.latest(df, "test.queries")
    st.markdown(f"#### {t('heldout.title')}")
    st.caption(t("heldout.explain", n=int(queries or 0)))
    rows = []
    for head, part in table.groupby("head", sort=False):
        row = {t("heldout.col.head"): t(f"head.{head}")}
        for _, r in part.iterrows():
            name = t(f"heldout.metric.{r['metric']}")
            if math.isnan(r["after"]):
                row[name] = f"{r['before']:.3f} → …"
            else:
                row[name] = f"{r['before']:.3f} → {r['after']:.3f} ({r['after'] - r['before']:+.3f})"
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    done = table.dropna(subset=["after"])
    mrr = done.loc[done["metric"] == "mrr@10"]
    if not mrr.empty:
        better = [t(f"head.{h}") for h, b, a in zip(mrr["head"], mrr["before"], mrr["after"]) if a > b]
        worse = [t(f"head.{h}") for h, b, a in zip(mrr["head"], mrr["before"], mrr["after"]) if a < b]
        st.markdown(t("heldout.verdict", better=", ".join(better) or "–", worse=", ".join(worse) or "–"))
