"""The headline Train, Compare and Try it tell: what fine-tuning changed for the validation queries,
per head, in plain words. Reads the ranks the worker stored at each validation (no model here)."""
from __future__ import annotations


import streamlit as st

from app.chart_data import HEADS
from app.ui import t
from trainer import query_ranks


def validations(run) -> list[dict]:
    return query_ranks.load(run.folder.root)


def moved(story: query_ranks.Story) -> str:
    """'search got better for N of M validation queries, worse for K; …' for one head."""
    return t("story.moved", improved=story.improved, queries=story.queries, worse=story.worse,
             before=story.mean_before, after=story.mean_after)


def line(head: str, story: query_ranks.Story) -> str:
    return t("story.head", head=t(f"head.{head}")) + moved(story)


def explain_mrr() -> None:
    """MRR@10 in one plain sentence; the formula on hover."""
    st.caption(t("story.mrr"), help=t("story.mrr_formula"))


def headline(run) -> None:
    """'Search got better for N of M validation queries …', one line per head the run evaluates."""
    done = validations(run)
    stories = query_ranks.stories(done)
    if stories:
        st.markdown(f"**{t('story.title', step=done[-1]['step'])}**")
        st.markdown("\n".join(f"- {line(h, stories[h])}" for h in HEADS if h in stories))
    else:
        st.caption(t("story.pending"))
    explain_mrr()
