"""Verdicts the numbers carry (trainer.verdict, Compare, the held-out table) and the time before Start
(trainer.estimate, the Train page's ETA): pure functions and stored points, no training."""
import json
import time
from pathlib import Path

import pytest

from app import chart_data as cd
from trainer.sizing import estimate
from trainer.store import query_ranks
from trainer.core import verdict
from trainer.core.config import SPLIT, Mode, RunConfig
from trainer.store import COMPLETED, STOPPED, Store


def test_paired_bootstrap_says_better_only_beyond_the_noise():
    worse_to_first = verdict.paired([5] * 40, [1] * 40)
    assert worse_to_first.word == verdict.BETTER and worse_to_first.low > 0.5
    assert (worse_to_first.before, worse_to_first.after, worse_to_first.questions) == (0.2, 1.0, 40)
    assert verdict.paired([1] * 40, [5] * 40).word == verdict.WORSE
    # one question better, one worse, one the same: no clear difference, though the mean moved
    small = verdict.paired([6, 7, 1], [2, 9, 1])
    assert small.word == verdict.UNCLEAR and small.diff > 0 and small.low < 0 < small.high
    # +0.001 over 40 questions (the "better for +0.001") is no clear difference
    ranks = [1] * 20 + [3] * 20
    nudged = verdict.paired(ranks, [1] * 20 + [2] + [3] * 19)
    assert nudged.word == verdict.UNCLEAR
    # not the same questions: nothing to compare; past rank 10 counts 0
    assert verdict.paired([1, 2], [1]) is None and verdict.paired([], []) is None
    assert list(verdict.reciprocal_ranks([1, 4, 11, None])) == [1.0, 0.25, 0.0, 0.0]
    assert verdict.median_rank([150, 140, None], corpus=500) == 150


def fake_run(store: Store, mode: Mode, status: str, before: list, after: list, *, steps=4, step_s=2.0, eval_s=3.0,
             name="") -> str:
    """A finished run written straight into the store: its loss points 2 s apart (with a 3 s validation after
    each epoch), validation MRR and per-question ranks at step 0 and at its end."""
    run_id = store.create_run(RunConfig(mode=mode, name=name, epochs=2))
    store.set_status(run_id, "running")
    start = store.get_run(run_id).started or time.time()
    head = mode.main_head
    first = float(verdict.reciprocal_ranks(before).mean())
    last = float(verdict.reciprocal_ranks(after).mean())
    store.add_points(run_id, [(0, 0.0, f"{head}.mrr@10", first, start + 5), (0, 0.0, "eval_seconds", eval_s, start + 5),
                              (0, 0.0, "total_steps", steps, start)])
    t = start + 5 + step_s
    for step in range(1, steps + 1):
        store.add_points(run_id, [(step, step / (steps / 2), "loss", 1.0 / step, t)])
        if step == steps // 2:
            store.add_points(run_id, [(step, 1.0, "eval_seconds", eval_s, t), (step, 1.0, f"{head}.mrr@10", first, t)])
            t += eval_s
        t += step_s
    store.add_points(run_id, [(steps, 2.0, f"{head}.mrr@10", last, t)])
    folder = Path(store.get_run(run_id).output_dir)
    folder.mkdir(parents=True)
    query_ranks.append(folder, 0, 0.0, {head: before})
    query_ranks.append(folder, steps, 2.0, {head: after})
    store.set_status(run_id, status)
    return run_id


@pytest.fixture
def apps(tmp_path, monkeypatch):
    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    return Store(tmp_path / "runs")


def test_compare_names_a_winner_only_when_it_is_clear_and_labels_a_stopped_run(apps):
    from apptest import open_page

    from app.i18n import EN

    n = 40
    fake_run(apps, Mode.DENSE, COMPLETED, [4] * n, [1] * n, name="clear")           # 0.25 → 1.0
    fake_run(apps, Mode.DENSE, STOPPED, [4] * n, [2] * n, name="halfway")           # 0.25 → 0.5, stopped
    at = open_page("compare", "en")
    assert not at.exception, [e.value for e in at.exception]
    at.multiselect(key="compare_pick__en").set_value([r.id for r in apps.list_runs()]).run()
    line = next(m.value for m in at.markdown if EN["head.dense"] in m.value and "1.000" in m.value)
    assert "**won**" in line and "“clear”" in line and "“halfway”" in line
    assert f"**{EN['status.stopped']}**" in line                   # the stopped run says so in the verdict
    assert EN["verdict.better"].split("{diff}")[-1].split("{high}")[-1] in line


def test_estimate_scales_a_measured_run_and_the_eta_reckons_the_same_way(apps):
    # a measured run: 4 steps of 2 s, a 3 s validation at step 0 and after each of 2 epochs
    run_id = fake_run(apps, Mode.DENSE, COMPLETED, [2] * 10, [1] * 10)
    measured = estimate.measure(apps, apps.get_run(run_id))
    assert measured.step_s == pytest.approx(2.0) and measured.eval_s == pytest.approx(3.0)
    cfg = apps.get_run(run_id).config
    same = estimate.for_run(apps, cfg, 180)
    assert same.steps == 2 * 23 and same.step_s == pytest.approx(2.0) and same.evaluations == 3
    assert same.seconds == pytest.approx(same.startup_s + 46 * 2.0 + 3 * 3.0)
    # twice the batch: twice the tokens a step encodes, twice its time, half the steps
    double = estimate.for_run(apps, cfg.replace(batch_size=16), 180)
    assert double.step_s == pytest.approx(4.0) and double.steps == 2 * 12
    # another mode has no measured run: no estimate (Configure offers the speed check)
    assert estimate.for_run(apps, cfg.replace(mode=Mode.ALL), 180) is None
    # the ETA at the first epoch's last step: the steps left at the run's own pace (validation left out) + the
    # two epoch ends' validations not made yet; once the first is made, one
    df = cd.frame(apps.metrics(run_id))
    upto = df.loc[df["step"] <= 2]
    fraction, eta = cd.progress(upto.loc[~((upto["name"] == "eval_seconds") & (upto["step"] == 2))], 4, epochs=2)
    assert fraction == 0.5 and eta == pytest.approx(2 * 2.0 + 2 * 3.0)
    assert cd.progress(upto, 4, epochs=2)[1] == pytest.approx(2 * 2.0 + 1 * 3.0)


def test_a_split_trains_on_the_rows_left_and_configure_says_so(tmp_path):
    from trainer.data.split import split_rows

    rows = [{"query": f"q{i}", "pos": [f"p{i}"]} for i in range(60)]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = Store(tmp_path / "runs")
    cfg = RunConfig(train_data=str(path), eval_data=SPLIT)
    assert estimate.training_rows(store, cfg) == (len(split_rows(rows, 0.1, 0.1, 42).train), True) == (48, True)
    assert estimate.training_rows(store, cfg.replace(eval_data=None)) == (60, True)


def test_cpu_memory_estimate_counts_attention_at_the_lengths_batches_pad_to(tmp_path):
    """Measured on a 2-core machine (bench/stop_latency.py's runs): the demo, all heads, peaked at 1.33–1.36 GiB;
    400 CMRC pairs at 512 tokens, all heads, batch 8 × group 4, at 11.70 GiB."""
    from trainer.sizing.memory import model_shape

    store = Store(tmp_path / "runs")
    shape = model_shape("default")
    demo = estimate.cpu_memory_gib(store, RunConfig(mode=Mode.ALL), shape, 24)
    assert 1.0 < demo < 1.7
    # the same settings at 512-token passages every batch fills: attention scores grow with the length squared
    rows = [{"query": "w " * 20, "pos": ["word " * 600]} for _ in range(20)]
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    long = estimate.cpu_memory_gib(store, RunConfig(mode=Mode.ALL, train_data=str(path), query_max_len=32,
                                                    passage_max_len=512), shape, 24)
    assert 10.0 < long < 13.5


def test_configure_keeps_every_setting_across_pages_reloads_and_languages(apps):
    """The state logic of app/draft.py: values set on Configure outlive a visit to every other page (Streamlit
    drops a widget's state when its page is not shown), a new session (a reload) and a language switch."""
    from apptest import open_page

    at = open_page("configure", "en")
    at.button(key="mode_all").click().run()
    values = {"cfg_epochs": 2, "cfg_batch_size": 4, "cfg_group_size": 2, "cfg_learning_rate": 5e-5,
              "cfg_early_stopping_patience": 1}
    for key, value in values.items():
        at.number_input(key=key).set_value(value)
    at.radio(key="cfg_data_choice__en").set_value("path").run()
    at.text_input(key="cfg_train").set_value(str(Path(__file__).parent.parent / "trainer" / "demo" / "train.jsonl"))
    at.run()

    def read(at, lang="en"):
        assert not at.exception, [e.value for e in at.exception]
        got = {key: at.number_input(key=key).value for key in values}
        return got, at.session_state["cfg_mode"], at.radio(key=f"cfg_data_choice__{lang}").value

    assert read(at) == (values, "all", "path")
    for name in ("train", "compare", "tryit", "data", "runs"):
        at.switch_page(f"../pages/{name}.py")
        at.run()
        assert not at.exception, (name, [e.value for e in at.exception])
    at.switch_page("../pages/configure.py")
    at.run()
    assert read(at) == (values, "all", "path")
    # a reload is a new session: the settings come back from the runs folder
    again = open_page("configure", "en")
    assert read(again) == (values, "all", "path")
    assert again.text_input(key="cfg_train").value.endswith("train.jsonl")
    # a language switch keeps them too
    again.selectbox(key="lang_picker").set_value("zh").run()
    assert read(again, "zh") == (values, "all", "path")


def test_every_page_opens_on_every_kind_of_run(apps):
    """Split, stopped, failed, without evaluation, waiting in the queue: no page raises on any of them."""
    from apptest import open_page

    split = fake_run(apps, Mode.DENSE, COMPLETED, [3] * 8, [1] * 8, name="split")
    with apps._connect() as db:         # a split run: its validation set lives in its folder
        db.execute("UPDATE runs SET config = ? WHERE id = ?",
                   (RunConfig(mode=Mode.DENSE, eval_data=SPLIT, name="split").to_json(), split))
    fake_run(apps, Mode.ALL, STOPPED, [2] * 8, [2] * 8, name="stopped")
    failed = apps.create_run(RunConfig(mode=Mode.HEADS, name="failed"))
    apps.set_status(failed, "failed", error="rank 0 of 1: boom")
    apps.create_run(RunConfig(mode=Mode.DENSE, eval_data=None, name="no eval"), status="interrupted")
    apps.create_run(RunConfig(mode=Mode.ALL, name="queued"), status="waiting")
    for name in ("configure", "train", "compare", "tryit", "data", "runs"):
        at = open_page(name, "en")
        assert not at.exception, (name, [e.value for e in at.exception])
    for run in apps.list_runs():          # each run opened on Train and on Runs
        for name, key in (("train", "train_pick__en"), ("runs", "runs_pick")):
            at = open_page(name, "en")
            at.selectbox(key=key).set_value(run.id).run()
            assert not at.exception, (name, run.name, [e.value for e in at.exception])


def test_one_mark_decides_every_colour_and_arrow():
    """Green ↑ only for "better", red ↓ only for "worse", grey without an arrow otherwise (trainer.verdict.mark:
    st.metric's delta_color and delta_arrow come from it on every page)."""
    better, worse = verdict.paired([5] * 40, [1] * 40), verdict.paired([1] * 40, [5] * 40)
    noise = verdict.paired([5] * 20 + [1] * 19 + [3], [1] * 20 + [5] * 19 + [3])     # +0.02, inside the noise
    assert noise.diff > 0 and noise.word == verdict.UNCLEAR
    assert verdict.mark(better) == verdict.Mark(verdict.BETTER, "green", "↑")
    assert (verdict.mark(better).delta_color, verdict.mark(better).delta_arrow) == ("normal", "auto")
    assert verdict.mark(worse) == verdict.Mark(verdict.WORSE, "red", "↓")
    for unclear in (noise, None):          # no clear change, or no ranks to judge: neutral
        m = verdict.mark(unclear)
        assert (m.word, m.color, m.arrow, m.delta_color, m.delta_arrow) == (verdict.UNCLEAR, "gray", "", "off", "off")


def test_a_headline_leads_with_the_held_out_test_and_keeps_the_validation_beside_it():
    line = lambda step, ranks: {"step": step, "epoch": 0.0, "ranks": {"dense": ranks}}  # noqa: E731
    val = [line(0, [5] * 40), line(2, [3] * 40), line(4, [1] * 40)]          # step 0 → the last (kept) validation
    test = [line(0, [2] * 20 + [1] * 20), line(4, [1] * 20 + [2] * 20)]
    hl = verdict.headline(val, test, "dense")
    assert (hl.questions, hl.change.word, hl.change.questions) == (verdict.TEST, verdict.UNCLEAR, 40)
    assert hl.mark.arrow == "" and hl.other.questions == verdict.VALIDATION and hl.other.change.word == verdict.BETTER
    assert (hl.other.change.before, hl.other.change.after) == (0.2, 1.0)
    only_val = verdict.headline(val, test[:1], "dense")          # the test's "after" not yet measured
    assert only_val.questions == verdict.VALIDATION and only_val.other is None
    assert verdict.headline(val[:1], [], "dense") is None and verdict.headline(val, test, "hybrid") is None


def test_a_contest_names_a_winner_only_beyond_the_noise_and_on_the_same_questions():
    top, near, far = [1] * 30 + [2] * 10, [1] * 29 + [2] * 11, [3] * 40
    won = verdict.contest({"a": far, "b": top})
    assert (won.leader, won.winner, won.tied) == ("b", "b", []) and won.against["a"].word == verdict.BETTER
    none = verdict.contest({"a": top, "b": near, "c": far})
    assert (none.leader, none.winner, none.tied) == ("a", None, ["b"])       # ahead of c, not clearly of b
    assert none.scores["a"] == pytest.approx(0.875)
    assert verdict.contest({"a": top}) is None                                 # nothing to compare with
    assert verdict.contest({"a": top, "b": top[:-1]}) is None                  # not the same questions


def test_a_mode_that_did_not_move_is_told_apart_from_a_small_change():
    same = [2] * 36 + [4] * 36
    assert verdict.still(same, same) and verdict.changed(same, same) == 0
    assert verdict.still(same, [1, 1, 1] + same[3:])                          # 3 of 72 questions moved
    assert not verdict.still([5] * 72, [1] * 72)                              # a real change
    assert not verdict.still(same, [4] * 36 + [2] * 36)                       # every question moved, in the noise
