"""The story every page tells about a run, from one decision (trainer.verdict): what fine-tuning changed, on
which questions (the held-out test where the run has one, else validation), and whether that change is beyond
its noise: green and ↑ only then. Reads the ranks the worker stored at each evaluation (no model here)."""
from __future__ import annotations

import json
import os
from typing import Optional

import streamlit as st

from app.chart_data import HEADS
from app.ui import t
from trainer.store import query_ranks
from trainer.core import verdict
from trainer.core.config import SPLIT


# ranks ------------------------------------------------------------------------------------------------------
@st.cache_resource(max_entries=512, show_spinner=False)   # read-only: shared, never copied
def _load(root: str, file: str, stamp: tuple) -> list[dict]:
    return query_ranks.load(root, file)


def evaluations(run, file: str = query_ranks.FILE) -> list[dict]:
    """The run's evaluations (validation's, or with query_ranks.TEST_FILE the held-out test's), read again
    only when the file changed."""
    path = run.folder.root / file
    try:
        stat = os.stat(path)
    except OSError:
        return []
    return _load(str(run.folder.root), file, (stat.st_mtime_ns, stat.st_size))


def validations(run) -> list[dict]:
    return evaluations(run)


def tests(run) -> list[dict]:
    return evaluations(run, query_ranks.TEST_FILE)


@st.cache_resource(max_entries=512, show_spinner=False)   # read-only: shared, never copied
def _headline(root: str, stamps: tuple, head: str, _validations: list, _tests: list) -> Optional[verdict.Headline]:
    return verdict.headline(_validations, _tests, head)


def run_headline(run, head: Optional[str] = None) -> Optional[verdict.Headline]:
    """One head's headline (the run's main head unless given): the held-out test where the run has one."""
    head = head or run.config.mode.main_head
    val, test = validations(run), tests(run)
    stamps = (len(val), val[-1]["step"] if val else None, len(test), test[-1]["step"] if test else None)
    return _headline(str(run.folder.root), stamps, head, val, test)


# words ------------------------------------------------------------------------------------------------------
def questions(hl: verdict.Headline) -> str:
    """'72 held-out test questions' / '72 validation questions'."""
    return t(f"questions.{hl.questions}", n=hl.change.questions)


def change_words(change: verdict.Change) -> str:
    """'+0.020 (−0.011 … +0.052): no clear difference'."""
    return t(f"verdict.{change.word}", diff=f"{change.diff:+.3f}", low=f"{change.low:+.3f}", high=f"{change.high:+.3f}")


def sentence(hl: verdict.Headline, why: bool = True) -> str:
    """'dense MRR@10 0.050 → 0.070 on the 72 held-out test questions (set aside …): +0.020 (…): no clear
    difference.' (`why`: with what those questions were used for)."""
    return t("headline.change" if why else "headline.change.short", head=t(f"head.{hl.head}"),
             before=f"{hl.change.before:.3f}", after=f"{hl.change.after:.3f}", questions=questions(hl),
             why=t(f"questions.{hl.questions}.why"), change=change_words(hl.change))


def other_set(hl: verdict.Headline) -> str:
    """'On the 72 validation questions: +0.036 (…): no clear difference.' (a headline led by its held-out test)"""
    return t("headline.other", questions=questions(hl.other), change=change_words(hl.other.change))


def differs(hl: verdict.Headline) -> Optional[str]:
    """With a held-out test: the validation figure and why it may differ."""
    if hl.questions != verdict.TEST or hl.other is None:
        return None
    return other_set(hl) + " " + t("headline.why_differ")


def metric(col, label: str, hl: Optional[verdict.Headline], value: Optional[float] = None) -> None:
    """An MRR@10 card whose delta follows trainer.verdict.mark: green ↑ only for "better", red ↓ only for
    "worse", grey without an arrow otherwise; the verdict's word next to it, the whole sentence on hover."""
    if hl is None:
        col.metric(label, "–" if value is None else f"{value:.3f}")
        return
    m = hl.mark
    col.metric(label, f"{hl.change.after:.3f}", delta=f"{hl.change.diff:+.3f}", delta_color=m.delta_color,
               delta_arrow=m.delta_arrow, delta_description=t(f"verdict.word.{m.word}"),
               help=sentence(hl) + " " + t("verdict.rule", n=hl.change.questions))


def cards(run, first: Optional[float] = None, now: Optional[float] = None) -> None:
    """The run's main head before and after (now, while it trains) under a line naming the questions it leads
    with (its held-out test where it has one), the verdict in words beside them, and why the validation figure
    may differ. `first`/`now`: the stored validation points, shown plainly (no delta) where no per-question
    ranks exist yet."""
    name = t(f"head.{run.config.mode.main_head}")
    hl = run_headline(run)
    st.markdown("**" + (t("headline.cards", head=name, questions=questions(hl)) if hl
                        else t("headline.cards.pending", head=name)) + "**")
    left, right, words = st.columns([1, 1.4, 2.6])
    left.metric(t("headline.card.before"), f"{hl.change.before:.3f}" if hl else ("–" if first is None else f"{first:.3f}"))
    metric(right, t("headline.card.now" if run.live else "headline.card.after"), hl, now)
    if hl is None:
        if now is not None:
            words.caption(t("headline.pending"))
        return
    words.markdown(sentence(hl))
    note = differs(hl)
    if note:
        words.caption(note)


# the validation story ---------------------------------------------------------------------------------------
def moved(story: query_ranks.Story) -> str:
    """'search got better for N of M validation queries, worse for K; …' for one head."""
    return t("story.moved", improved=story.improved, queries=story.queries, worse=story.worse,
             before=story.mean_before, after=story.mean_after)


def line(head: str, story: query_ranks.Story, change: Optional[verdict.Change] = None) -> str:
    words = t("story.head", head=t(f"head.{head}")) + moved(story)
    return words + (" " + t("story.change", change=change_words(change)) if change is not None else "")


def explain_mrr() -> None:
    """MRR@10 in one plain sentence; the formula on hover."""
    st.caption(t("story.mrr"), help=t("story.mrr_formula"))


def headline(run) -> None:
    """'Search got better for N of M validation queries …', one line per head the run evaluates, each with
    its verdict on those validation questions."""
    done = validations(run)
    stories = query_ranks.stories(done)
    if stories:
        st.markdown(f"**{t('story.title', step=done[-1]['step'])}**")
        st.markdown("\n".join(f"- {line(h, stories[h], verdict.first_last(done, h))}" for h in HEADS if h in stories))
        if len(tests(run)) >= 2:             # the held-out test leads the page (cards): say these lines are not it
            st.caption(t("story.validation_only"))
    else:
        st.caption(t("story.pending"))
    explain_mrr()


# which runs -------------------------------------------------------------------------------------------------
def data_key(run) -> tuple:
    """Runs with equal keys trained on the same data and were evaluated on the same questions: the same
    training file (its checksum when the store kept one) and the same evaluation folder, or the same split."""
    c = run.config
    split = (c.val_fraction, c.test_fraction, c.seed) if c.eval_data == SPLIT else ()
    return (c.train_data, c.eval_data, *split)


def same_data(runs: list, store=None) -> bool:
    if len({data_key(r) for r in runs}) > 1:
        return False
    if store is None:
        return True
    sums = {f["checksum"] for r in runs if (f := store.run_file(r.id)) and f.get("checksum")}
    return len(sums) <= 1


def _settings(run) -> dict:
    """A run's settings but its mode and name."""
    settings = json.loads(run.config_json)
    settings.pop("mode", None)
    settings.pop("name", None)
    return settings


QUEUE_GAP_S = 10.0      # launch.enqueue creates a queue's runs within a moment of each other


def queue_of(runs: list, run) -> list:
    """The runs of the queue `run` was created in by Configure's "Compare the three modes" (launch.enqueue:
    one run per mode, the same settings otherwise, created together), oldest first; [] for a run of its own
    or a settings search's trial."""
    if run.study:
        return []
    base = _settings(run)
    alike = lambda r: not r.study and _settings(r) == base  # noqa: E731
    ordered = sorted(runs, key=lambda r: r.created)
    at = next(i for i, r in enumerate(ordered) if r.id == run.id)
    group = [run]
    for step in (-1, 1):           # neighbours in creation order, each within a moment of the last
        i, last = at + step, run
        while 0 <= i < len(ordered) and abs(ordered[i].created - last.created) <= QUEUE_GAP_S and alike(ordered[i]):
            group.append(ordered[i])
            last, i = ordered[i], i + step
    group.sort(key=lambda r: r.created)
    modes = [r.mode for r in group]
    return group if len(group) > 1 and len(set(modes)) == len(modes) else []


def chosen_run(ids: list, default: str, key: str, picked: str) -> str:
    """Which run a page's select shows: the one the user picked in this session (`picked`, set by the
    select's on_change), else `default` (the newest completed run), also when the select still holds
    another run from before a run ended."""
    state = st.session_state
    want = state.get(picked) if state.get(picked) in ids else default
    if state.get(key) != want:
        state.pop(key, None)           # the select is made anew on `want`
    return want


def remember(key: str, picked: str):
    """The select's on_change: the user's own choice, kept for this session."""
    def keep() -> None:
        st.session_state[picked] = st.session_state[key]
    return keep
