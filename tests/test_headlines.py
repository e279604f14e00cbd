"""Every headline obeys the noise rule, and one run tells one story (issue 36, points 2, 3 and part of 6): the
Train page's top cards, Compare's opening sentence, Runs' and Try it's summaries and selection, and the
three-mode queue's "1 of 3". Runs are written straight into a real store with constructed per-question ranks
(query_ranks.jsonl, test_ranks.jsonl): no training."""
from pathlib import Path

import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto

from apptest import open_page
from app.i18n import EN, TEXTS
from trainer.core import metrics, verdict
from trainer.store import query_ranks
from trainer.core.config import SPLIT, Mode, RunConfig
from trainer.store import COMPLETED, WAITING, Store

N = 72
# 72 questions: 20 get better (rank 5 → 1), 19 worse (1 → 5), the rest stay: the mean goes up, inside the noise
NOISE = ([5] * 20 + [1] * 19 + [3] * 33, [1] * 20 + [5] * 19 + [3] * 33)
# 40 of 72 move from rank 5 to first, none worse: a real gain
GAIN = ([5] * 40 + [2] * 32, [1] * 40 + [2] * 32)
SAME = ([2] * 36 + [4] * 36, [2] * 36 + [4] * 36)


def mrr(ranks) -> float:
    return float(verdict.reciprocal_ranks(ranks).mean())


def make_run(store: Store, mode: Mode = Mode.DENSE, val=GAIN, test=None, *, status=COMPLETED, name="",
             steps=4, **settings) -> str:
    """A finished run: loss points, validation MRR@10 and per-question ranks at step 0 and at its end, and
    with `test` the held-out test's points and ranks before and after."""
    run_id = store.create_run(RunConfig(mode=mode, name=name, **settings))
    store.set_status(run_id, "running")
    head = mode.main_head
    store.add_metrics(run_id, 0, 0.0, {"total_steps": steps, metrics.score(head): mrr(val[0])})
    for step in range(1, steps + 1):
        store.add_metrics(run_id, step, step / steps, {"loss": 1.0 / step, "lr": 1e-5, "samples_per_s": 5.0})
    store.add_metrics(run_id, steps, 1.0, {metrics.score(head): mrr(val[1])})
    folder = Path(store.get_run(run_id).output_dir)
    folder.mkdir(parents=True)
    query_ranks.append(folder, 0, 0.0, {head: list(val[0])})
    query_ranks.append(folder, steps, 1.0, {head: list(val[1])})
    if test is not None:
        for step, ranks in ((0, test[0]), (steps, test[1])):
            store.add_metrics(run_id, step, float(step > 0), {metrics.test(metrics.score(head)): mrr(ranks),
                                                              metrics.Metric.TEST_QUERIES: float(len(ranks))})
            query_ranks.append(folder, step, float(step > 0), {head: list(ranks)}, query_ranks.TEST_FILE)
    if status != "running":
        store.set_status(run_id, status)
    return run_id


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    return Store(tmp_path / "runs")


def card(at, key: str, lang: str = "en"):
    label = TEXTS[lang][key]
    found = [m for m in at.metric if m.label == label]
    assert found, (label, [m.label for m in at.metric])
    return found[0]


def heading(at, lang: str, head: str, questions: str) -> None:
    """The line over the cards names the head and the questions they are about."""
    T = TEXTS[lang]
    line = "**" + T["headline.cards"].format(head=T[f"head.{head}"], questions=questions) + "**"
    assert line in [m.value for m in at.markdown], [m.value for m in at.markdown]


# Train: the top cards ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_top_card_of_a_run_whose_held_out_change_is_noise_is_neutral(store, lang):
    """Validation says +0.4 (a clear gain on the questions that chose the checkpoint); the held-out test, which
    leads, moves inside its noise: the card is grey, without an arrow, and names the 72 held-out questions."""
    make_run(store, val=GAIN, test=NOISE)
    T = TEXTS[lang]
    at = open_page("train", lang)
    questions = T["questions.test"].format(n=N)
    heading(at, lang, "dense", questions)
    assert card(at, "headline.card.before", lang).value == f"{mrr(NOISE[0]):.3f}"
    after = card(at, "headline.card.after", lang)
    assert after.value == f"{mrr(NOISE[1]):.3f}" and after.proto.delta.startswith("+")
    assert after.proto.color == MetricProto.MetricColor.GRAY and after.proto.direction == MetricProto.MetricDirection.NONE
    assert after.proto.delta_description == T["verdict.word.unclear"]
    # the sentence next to it names the questions and why they count; the validation figure is explained
    lead = next(m.value for m in at.markdown if questions in m.value and not m.value.startswith("**"))
    assert T["questions.test.why"] in lead and T["verdict.unclear"].split("}")[-1] in lead
    other = T["headline.other"].split("{change}")[0].format(questions=T["questions.validation"].format(n=N))
    assert any(c.value.startswith(other) and T["headline.why_differ"] in c.value for c in at.caption)
    # no green, no ↑ anywhere on the page's cards
    assert not any(m.proto.color == MetricProto.MetricColor.GREEN for m in at.metric)
    # the held-out table is a static table: every row and the verdict column shown, nothing to scroll
    table = at.table[0].value
    assert T["heldout.col.verdict"] in table.columns and len(table) == 1
    assert T["verdict.unclear"].split("}")[-1] in table[T["heldout.col.verdict"]].iloc[0]


def test_the_same_run_with_a_real_held_out_gain_shows_it_green(store):
    make_run(store, val=NOISE, test=GAIN)
    at = open_page("train", "en")
    heading(at, "en", "dense", "72 held-out test questions")
    after = card(at, "headline.card.after")
    assert after.proto.color == MetricProto.MetricColor.GREEN and after.proto.direction == MetricProto.MetricDirection.UP
    assert after.proto.delta == f"{mrr(GAIN[1]) - mrr(GAIN[0]):+.3f}"
    assert after.proto.delta_description == "better"
    assert any(m.value.startswith(f"dense MRR@10 {mrr(GAIN[0]):.3f} → {mrr(GAIN[1]):.3f} on the 72 held-out test "
                                  "questions (set aside before training; no decision used them): +") for m in at.markdown)


def test_a_run_without_a_held_out_test_leads_with_its_validation_questions(store):
    run_id = make_run(store, val=NOISE, eval_data="/nowhere/own-folder")
    at = open_page("train", "en", run_id=run_id)
    heading(at, "en", "dense", "72 validation questions")
    after = card(at, "headline.card.after")
    assert after.proto.color == MetricProto.MetricColor.GRAY and after.proto.delta_description == "no clear difference"
    lead = next(m.value for m in at.markdown if "72 validation questions (they chose when to stop early" in m.value)
    assert lead.endswith("no clear difference.")
    assert not at.table                                      # no held-out test: no table, no "differs" note
    # the per-head story names its questions and carries the same verdict
    assert any("validation queries" in m.value and "MRR@10 change on these questions" in m.value for m in at.markdown)


def test_a_clearly_worse_change_is_red_and_points_down(store):
    make_run(store, val=GAIN[::-1], test=GAIN[::-1])
    at = open_page("train", "en")
    after = card(at, "headline.card.after")
    assert after.proto.color == MetricProto.MetricColor.RED and after.proto.direction == MetricProto.MetricDirection.DOWN


# Train: which run of a three-mode queue ----------------------------------------------------------------------
def test_train_says_which_run_of_a_three_mode_queue_it_shows(store):
    lone = make_run(store, Mode.DENSE, name="alone")                  # the same settings, long before: not in it
    with store._connect() as db:
        db.execute("UPDATE runs SET created = created - 3600 WHERE id = ?", (lone,))
    # as launch.enqueue makes them, in a moment, one per mode (no run waits: the app would start it)
    ids = [store.create_run(RunConfig(mode=m), status=s) for m, s in zip(Mode, (COMPLETED, "running", "interrupted"))]
    at = open_page("train", "en", run_id=ids[1])
    line = next(c.value for c in at.caption if c.value.startswith("Run 2 of 3 of one “Compare the three modes” queue"))
    assert line.endswith("All heads (Completed) → **Sparse + ColBERT heads (Running)** → Dense only (Interrupted).")
    at = open_page("train", "en", run_id=lone)
    assert not any("Compare the three modes" in c.value for c in at.caption)


def test_coming_back_to_train_after_the_watched_run_ended_follows_the_queue_without_an_error(store):
    """A walk: watching the first run of a queue, the user left; it ended and the next one trains. Back on Train (a
    full run of the page, its picker drawn before the live view sees that), the page follows the running one, with
    no exception (it used to set the picker's value after the picker was drawn)."""
    ids = [store.create_run(RunConfig(mode=m), status=s) for m, s in zip(Mode, (COMPLETED, "running", "waiting"))]
    at = open_page("train", "en", run_id=ids[0], train_watched=ids[0])
    at.run()                                          # the rerun the live view asked for
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="train_pick__en").value == ids[1] and at.session_state["train_watched"] == ids[1]


# Compare: one sentence, the same rule, the same data ---------------------------------------------------------
def test_compare_says_none_clearly_when_the_lead_is_noise(store):
    make_run(store, Mode.ALL, val=(NOISE[0], NOISE[0]), name="flat")
    make_run(store, Mode.DENSE, val=NOISE, name="noisy")
    at = open_page("compare", "en")
    opening = next(m.value for m in at.markdown if m.value.startswith("**Which mode won?**"))
    assert opening.startswith("**Which mode won?** None clearly: on the 72 validation questions, Dense only (“noisy”) "
                              f"scores highest (dense MRR@10 {mrr(NOISE[1]):.3f}), but its lead over All heads (“flat”) (hybrid "
                              f"{mrr(NOISE[0]):.3f}; the lead: +")
    assert "**won**" not in opening and "no clear difference" in opening
    assert "It is clearly ahead of" not in opening                       # no third run it leads clearly
    # its own change is no clear gain either, and it says so
    assert EN["compare.no_gain"].split("{change}")[0] in opening


def test_compare_names_a_clear_winner_on_the_held_out_test_and_lists_each_run(store):
    make_run(store, Mode.ALL, val=GAIN, test=(GAIN[0], GAIN[0]), name="base-like")
    make_run(store, Mode.DENSE, val=NOISE, test=GAIN, name="tuned")
    at = open_page("compare", "en")
    opening = next(m.value for m in at.markdown if m.value.startswith("**Which mode won?**"))
    assert opening.startswith("**Which mode won?** Dense only (“tuned”) **won**: on the 72 held-out test questions its "
                              f"dense MRR@10 of {mrr(GAIN[1]):.3f} is clearly above All heads (“base-like”) (hybrid {mrr(GAIN[0]):.3f}; the "
                              "lead: +")
    assert "): better)" in opening and EN["compare.no_gain"].split("{")[0] not in opening
    # each run's own change names its questions, the held-out one first, with why validation may differ
    detail = next(m.value for m in at.markdown if m.value.startswith("- **"))
    assert "on the 72 held-out test questions (set aside before training" in detail
    assert "On the 72 validation questions the change is +" in detail
    assert EN["headline.why_differ"] in [c.value for c in at.caption]      # said once, under the list


def test_compare_refuses_runs_on_different_data_and_never_preselects_them(store, tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text('{"query": "q", "pos": ["p"]}\n')
    old = make_run(store, Mode.ALL, val=GAIN, name="other data", train_data=str(other), eval_data=SPLIT)
    new = make_run(store, Mode.DENSE, val=NOISE, name="demo data")
    at = open_page("compare", "en")
    assert at.multiselect(key="compare_pick__en").value == [new]           # the newest completed run's data only
    assert any(m.value == EN["compare.one"] for m in at.markdown)
    at.multiselect(key="compare_pick__en").set_value([new, old]).run()
    assert not at.exception, [e.value for e in at.exception]
    refusal = next(w.value for w in at.warning if w.value.startswith("**Which mode won?** These runs cannot be compared"))
    assert "“other data”" in refusal and "“demo data”" in refusal
    assert not any("**won**" in m.value or "None clearly" in m.value or "highest" in m.value for m in at.markdown)


def test_compare_explains_a_mode_whose_scores_did_not_move_with_what_to_try(store):
    make_run(store, Mode.HEADS, val=SAME, name="frozen", learning_rate=1e-5, steps=30)
    make_run(store, Mode.ALL, val=GAIN, name="all")
    at = open_page("compare", "en")
    still = next(i.value for i in at.info if "“frozen”" in i.value)
    assert still.startswith("Sparse + ColBERT heads (“frozen”) did not move: hybrid MRR@10 0.375 → 0.375, 0 of 72 "
                            "questions changed rank.")
    assert "at learning rate 1.0e-05 (heads ×1) over 30 steps they barely move" in still
    assert "a higher learning rate for the heads" in still and "more epochs" in still and "All heads mode" in still
    assert not any("“all”" in i.value for i in at.info)



def test_compare_says_a_mode_at_the_ceiling_had_no_room_rather_than_a_learning_rate_to_raise(store):
    """The walk: a file the base model already answered (every right passage first) read "did not move … To
    try: a higher learning rate"."""
    make_run(store, Mode.ALL, val=([1] * 70 + [2] * 2, [1] * 70 + [2] * 2), name="easy")
    at = open_page("compare", "en")
    still = next(i.value for i in at.info if "“easy”" in i.value)
    assert EN["compare.still.ceiling"].format(first=70, n=72) in still and "learning rate" not in still


# Runs and Try it: the newest completed run after a run ends, unless the user picked one ----------------------
def test_runs_opens_on_the_newest_completed_run_unless_one_was_picked(store):
    first = make_run(store, name="first")
    at = open_page("runs", "en")
    assert at.selectbox(key="runs_pick").value == first
    table = at.dataframe[0].value                     # the summary's change names its verdict and questions
    assert table[EN["runs.col.change"]].iloc[0] == f"{mrr(GAIN[1]) - mrr(GAIN[0]):+.3f} · better (72 validation questions)"
    live = make_run(store, name="second", status="running")
    at.run()
    assert at.selectbox(key="runs_pick").value == first                    # still training: not the one to open
    store.set_status(live, COMPLETED)
    at.run()
    assert at.selectbox(key="runs_pick").value == live                     # it ended: it wins over the one shown
    at.selectbox(key="runs_pick").set_value(first).run()                  # the user picks the older one
    make_run(store, name="third")
    at.run()
    assert at.selectbox(key="runs_pick").value == first                    # the user's choice stays


def test_tryit_opens_on_the_newest_completed_run_unless_one_was_picked(store, monkeypatch):
    from app.search_client import SearchClient
    monkeypatch.setattr(SearchClient, "ask", lambda self, request, timeout=180: {"error": "no search in this test"})

    def with_model(name, status=COMPLETED):
        run_id = make_run(store, name=name, status=status)
        model = Path(store.get_run(run_id).output_dir) / "model"
        model.mkdir()
        (model / "config.json").write_text("{}")
        return run_id

    first = with_model("first")
    at = open_page("tryit", "en")
    key = "tryit_run__en"
    assert at.selectbox(key=key).value == first
    # the run's verdict next to the per-question moves, which come largest first, up and down alike
    assert any(c.value.startswith("Over all 72 validation questions: +") and "better" in c.value for c in at.caption)
    second = with_model("second", status="running")
    at.run()
    assert at.selectbox(key=key).value == first
    store.set_status(second, COMPLETED)
    at.run()
    assert at.selectbox(key=key).value == second
    at.selectbox(key=key).set_value(first).run()
    with_model("third")
    at.run()
    assert at.selectbox(key=key).value == first


def test_a_run_created_in_a_moment_is_found_in_its_queue_and_a_study_is_not(store):
    from app.story import queue_of
    ids = [store.create_run(RunConfig(mode=m), status=WAITING) for m in Mode]
    trials = [store.create_run(RunConfig(mode=m), status=WAITING, study="s") for m in (Mode.DENSE, Mode.ALL)]
    runs = store.list_runs()
    assert [r.id for r in queue_of(runs, store.get_run(ids[2]))] == ids
    assert queue_of(runs, store.get_run(trials[0])) == []
    # two runs of one mode are no three-mode queue
    alone = [store.create_run(RunConfig(mode=Mode.DENSE, epochs=9)) for _ in range(2)]
    assert queue_of(store.list_runs(), store.get_run(alone[0])) == []


def test_compare_says_none_clearly_and_which_runs_the_leader_is_clearly_ahead_of(store):
    make_run(store, Mode.HEADS, val=SAME, name="frozen")
    make_run(store, Mode.ALL, val=(NOISE[0], NOISE[0]), name="flat")
    make_run(store, Mode.DENSE, val=NOISE, name="noisy")
    at = open_page("compare", "en")
    assert len(at.multiselect(key="compare_pick__en").value) == 3
    opening = next(m.value for m in at.markdown if m.value.startswith("**Which mode won?**"))
    assert opening.startswith("**Which mode won?** None clearly:") and "(“flat”)" in opening.split("ahead of")[0]
    assert f"It is clearly ahead of Sparse + ColBERT heads (“frozen”) (hybrid {mrr(SAME[1]):.3f})." in opening


def test_compare_tells_apart_two_versions_of_one_training_file(store):
    """The same path, changed between two runs (another checksum): not the same data."""
    old = make_run(store, Mode.ALL, val=GAIN, name="before the edit", epochs=2)       # not one queue: other settings
    new = make_run(store, Mode.DENSE, val=NOISE, name="after the edit")
    for run_id, checksum in ((old, "aaa"), (new, "bbb")):
        store.set_run_file(run_id, store.get_run(run_id).config.train_data, 1, 1, checksum, 180)
    at = open_page("compare", "en")
    assert at.multiselect(key="compare_pick__en").value == [new]
    at.multiselect(key="compare_pick__en").set_value([new, old]).run()
    assert any(w.value.startswith("**Which mode won?** These runs cannot be compared") for w in at.warning)
