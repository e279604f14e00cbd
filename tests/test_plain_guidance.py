"""The smaller findings of a new user's walk (issue 36, point 6), each where the user meets it: the Data page says
why a file cannot be used yet and offers to skip its bad rows; Find settings warns when its budget cannot fit the
trials, gives one status per trial and says whether the suggested settings won; "Score a few weights" ends with
the weight to use; mining counts its real total and its "no negatives" note goes once mined."""
import json

import pytest
from conftest import write_jsonl

from apptest import open_page
from app.i18n import TEXTS
from trainer.core.config import DEMO_DIR


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


# The Data page ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_data_page_says_why_a_file_cannot_be_used_and_skips_its_bad_rows_on_request(runs_dir, tmp_path, lang):
    rows = (DEMO_DIR / "train.jsonl").read_text(encoding="utf-8").splitlines()[:8]
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [json.loads(r) for r in rows] + ["{oops", {"query": "q", "pos": []}])
    at = open_page("data", lang)
    T = TEXTS[lang]
    at.radio(key=f"data_source__{lang}").set_value("path").run()
    at.text_input(key="data_path").set_value(str(mixed)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key="data_use").disabled
    assert T["data.use.blocked"].format(bad="2", good="8") in [w.value for w in at.warning]
    skip = at.button(key="data_use_skip")
    assert skip.label == T["data.use.skip"].format(bad="2", good="8")
    skip.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["cfg_skip_bad_rows"] is True and at.session_state["cfg_dataset"] == str(mixed)
    assert at.checkbox(key="cfg_skip_bad_rows").value is True        # Configure, the file chosen, the box ticked


def test_data_page_says_a_file_without_a_valid_row_cannot_be_used(runs_dir, tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", ["{oops", {"query": "q", "pos": []}])
    at = open_page("data")
    at.radio(key="data_source__en").set_value("path").run()
    at.text_input(key="data_path").set_value(str(bad)).run()
    assert TEXTS["en"]["data.use.no_rows"] in [e.value for e in at.error]
    assert not [b for b in at.button if b.key in ("data_use", "data_use_skip")]


# Find settings --------------------------------------------------------------------------------------------

def fake_estimate(seconds: float):
    from trainer.sizing.estimate import Estimate

    return lambda store, cfg, rows, gpu=False, steps=None: Estimate(seconds, 10, 1.0, 2, 1.0, 5.0, "measured (r1)")


def spec_of(store, **changes):
    from trainer.jobs import sweep
    from trainer.core.config import RunConfig

    values = dict(name="s", base=json.loads(RunConfig(eval_data="split").to_json()), modes=["dense"], trials=8,
                  budget_minutes=30.0, suggested_lr=2e-5, center_lr=2e-5, epochs=[1, 3])
    return sweep.Spec(**(values | changes))


def test_the_budget_is_checked_against_the_trials_time_estimate(tmp_path, monkeypatch):
    from trainer.sizing import estimate
    from trainer.jobs import sweep
    from trainer.store import Store

    store = Store(tmp_path / "runs")
    monkeypatch.setattr(estimate, "for_run", fake_estimate(600))          # 10 minutes a trial
    fit = sweep.budget_check(store, spec_of(store))
    assert fit == {"fits": 3, "trials": 8, "needed_minutes": 80.0, "trial_s": 600.0, "source": "measured (r1)"}
    assert "fits about 3 of the 8 trials" in sweep.budget_words(fit, 30)
    assert sweep.budget_check(store, spec_of(store, budget_minutes=90))["fits"] == 8
    monkeypatch.setattr(estimate, "for_run", lambda *a, **k: None)
    assert sweep.budget_check(store, spec_of(store)) is None              # no measured run: not known
    assert sweep.trial_lengths(spec_of(store, modes=["dense", "all"], trials=4)) == [3, 3, 2, 2]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_find_settings_warns_at_setup_when_the_budget_cannot_fit_the_trials(runs_dir, monkeypatch, lang):
    from trainer.sizing import estimate
    from trainer.core.config import RunConfig

    monkeypatch.setattr(estimate, "for_run", fake_estimate(600))
    at = open_page("sweep", lang, cfg_sweep_base=RunConfig(eval_data="split").to_json())
    T = TEXTS[lang]
    assert T["sweep.budget_short"].format(budget="60", fits=6, trials=8, per="10:00", source="measured (r1)",
                                          need=80) in [w.value for w in at.warning]
    at.number_input(key="sweep_budget").set_value(120).run()
    assert not at.warning and any(c.value.startswith(T["sweep.budget_fits"].split("{")[0]) for c in at.caption)


def fake_study(store, spec, trials):
    """A study with finished trials, written straight into the store and the Optuna journal: each trial
    (mode, learning rate, epochs, run status, optuna state, validation ranks or None, user attributes)."""
    from optuna.trial import TrialState

    from trainer.store import query_ranks
    from trainer.jobs import sweep

    sweep.save(store, spec)
    found = sweep.study(store, spec)
    for mode, lr, epochs, status, state, ranks, attrs in trials:
        trial = found.ask()
        trial.suggest_categorical("mode", [mode])
        trial.suggest_float("learning_rate", lr, lr)
        trial.suggest_int("epochs", epochs, epochs)
        run_id = store.create_run(sweep.trial_config(spec, trial.number, mode, lr, epochs), study=spec.name)
        trial.set_user_attr("run_id", run_id)
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        store.set_status(run_id, status)
        run = store.get_run(run_id)
        run.folder.root.mkdir(parents=True, exist_ok=True)
        metric = run.config.mode.main_score
        if ranks is not None:
            query_ranks.append(run.folder.root, 4, 1.0, {metric.split(".")[0]: ranks})
            score = sum(1 / r for r in ranks if r <= 10) / len(ranks)
            store.add_metrics(run_id, 0, 0.0, {metric: 0.2})
            store.add_metrics(run_id, 4, 1.0, {metric: score})
            trial.report(score, 1)
        if state == TrialState.COMPLETE:
            found.tell(trial, score)
        elif state != TrialState.RUNNING:
            found.tell(trial, state=state)
    return found


def test_one_status_per_trial_after_stop_and_go_on_and_the_suggestion_in_words(tmp_path):
    from optuna.trial import TrialState

    from trainer.jobs import sweep
    from trainer.store import COMPLETED, FAILED, PRUNED, STOPPED, Store

    store = Store(tmp_path / "runs")
    spec = spec_of(store, trials=6)
    good, poor = [1] * 30 + [2] * 10, [3] * 30 + [8] * 10           # MRR@10 0.875 and 0.281: far apart
    found = fake_study(store, spec, [
        ("dense", 2e-5, 3, COMPLETED, TrialState.COMPLETE, poor, {}),               # #0 the suggested settings
        ("dense", 4e-5, 2, COMPLETED, TrialState.COMPLETE, good, {}),               # #1 the winner
        ("dense", 6e-6, 2, PRUNED, TrialState.PRUNED, poor, {}),                    # #2
        ("dense", 9e-6, 2, STOPPED, TrialState.FAIL, None, {"stopped_by_user": True}),   # #3 stopped with the search
        ("dense", 3e-5, 2, STOPPED, TrialState.COMPLETE, poor, {}),                 # #4 the budget ran out
        ("dense", 7e-5, 2, FAILED, TrialState.FAIL, None, {})])                      # #5
    found.enqueue_trial({"mode": "dense", "learning_rate": 9e-6, "epochs": 2}, user_attrs={"rerun_of": 3})   # #6
    result = sweep.summary(store, "s", found)
    assert [t["outcome"] for t in result["trials"]] == ["completed", "completed", "pruned", "reran", "budget",
                                                        "failed", "not_started"]
    assert result["trials"][3]["rerun_as"] == 6 and result["trials"][6]["rerun_of"] == 3
    mine = result["suggested"]
    assert mine["number"] == 0 and not mine["won"] and mine["rival"] == 1 and mine["clear"] is True
    assert mine["margin"] == pytest.approx(0.875 - 0.28125) and mine["questions"] == 40



@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_study_page_says_each_trials_status_and_whether_the_suggestion_won(tmp_path, monkeypatch, lang):
    from optuna.trial import TrialState

    from trainer.store import COMPLETED, STOPPED, Store

    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    store = Store(tmp_path / "runs")
    spec = spec_of(store, trials=3)
    near, other = [1] * 20 + [2] * 20, [1] * 21 + [2] * 19                  # 0.75 and 0.7625: within the noise
    found = fake_study(store, spec, [
        ("dense", 2e-5, 3, COMPLETED, TrialState.COMPLETE, other, {}),               # #0 suggested, and the winner
        ("dense", 4e-5, 2, COMPLETED, TrialState.COMPLETE, near, {}),
        ("dense", 9e-6, 2, STOPPED, TrialState.RUNNING, None, {})])                   # stopped with the search
    (tmp_path / "runs" / "studies" / "s" / "stopped").touch()
    del found
    at = open_page("sweep", lang)
    T = TEXTS[lang]
    table = at.dataframe[0].value
    assert list(table[T["sweep.col.status"]]) == [T["sweep.outcome.completed"], T["sweep.outcome.completed"],
                                                  T["sweep.outcome.rerun_pending"]]
    text = " ".join(m.value for m in at.markdown)
    won = T["sweep.suggested.won"].split("{")[0]
    assert won in text and T["sweep.noise.won_unclear"].format(q=40) in text


# "Score a few weights" ends with the weight to use --------------------------------------------------------

def curve_of(validation: dict, general: dict | None = None, data_language: str = "en") -> dict:
    """A merge curve as trainer.engine.merge.curve writes it, from per-weight ranks."""
    from trainer.core import verdict

    mrr = lambda ranks: float(verdict.reciprocal_ranks(ranks).mean())  # noqa: E731
    points = []
    for w, ranks in validation.items():
        point = {"weight": w, "validation": mrr(ranks), "ranks": {"validation": ranks}}
        if general is not None:
            point.update(general=mrr(general[w]), ranks={"validation": ranks, "general": general[w]})
        points.append(point)
    queries = {"validation": len(next(iter(validation.values())))}
    if general is not None:
        queries["general"] = len(next(iter(general.values())))
    return {"metric": "dense.mrr@10", "queries": queries, "points": points, "general_applies": general is not None,
            "languages": {"validation": data_language, "general": "en"}}


LOW, MID, HIGH = [5] * 40, [2] * 40, [1] * 40            # MRR@10 0.2, 0.5 and 1.0 over 40 questions
NEAR = [1] * 38 + [2] * 2                                # 0.975: within the noise of HIGH


def test_the_weight_to_use_claims_only_differences_beyond_the_noise():
    from trainer.core.merge_choice import choose

    assert choose({"metric": "dense.mrr@10", "queries": {"validation": 3},
                   "points": [{"weight": 0.0, "validation": 0.5}]}) is None          # scored before ranks were kept
    nothing = choose(curve_of({0.0: MID, 0.5: MID, 1.0: [2] * 39 + [1]}))
    assert nothing["case"] == "base" and nothing["weight"] == 0
    best = choose(curve_of({0.0: LOW, 0.5: MID, 1.0: HIGH}))
    assert best["case"] == "best" and best["weight"] == 1.0 and best["within"] == [1.0]
    # 0.5 and 1 as good on validation: the English check decides only where it keeps clearly more
    near = choose(curve_of({0.0: LOW, 0.5: NEAR, 1.0: HIGH}, {0.0: HIGH, 0.5: MID, 1.0: LOW}))
    assert near["case"] == "near" and near["weight"] == 0.5 and near["general"]["more"]
    alike = choose(curve_of({0.0: LOW, 0.5: NEAR, 1.0: HIGH}, {0.0: MID, 0.5: MID, 1.0: MID}))
    assert alike["weight"] == 1.0 and alike["case"] == "best" and not alike["general"]["more"]


def test_the_out_of_domain_checks_language_is_told_apart():
    from trainer.core.merge_choice import language

    assert language(["how do I reset the hub", "why does the bulb flicker when I dim it"]) == "en"
    assert language(["如何重置设备", "退款需要多久"]) == "zh"
    assert language(["デバイスをリセットする方法", "返金"]) == "ja"
    assert language(["wie setze ich den Hub zurück", "warum flackert die Lampe beim Dimmen"]) == "latin"
    assert language(["1234", "?!"]) == "other"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_runs_page_ends_the_curve_with_the_weight_to_use(runs_dir, lang):
    from trainer.core.config import Mode, RunConfig
    from trainer.store import COMPLETED, Store

    store = Store(runs_dir)
    run_id = store.create_run(RunConfig(mode=Mode.DENSE))
    store.set_status(run_id, COMPLETED)
    folder = store.get_run(run_id).folder
    folder.model.mkdir(parents=True)
    (folder.model / "config.json").write_text("{}")
    folder.merge_curve.write_text(json.dumps(curve_of({0.0: LOW, 0.5: NEAR, 1.0: HIGH},
                                                      {0.0: HIGH, 0.5: MID, 1.0: LOW})))
    at = open_page("runs", lang)
    T = TEXTS[lang]
    text = " ".join(m.value for m in at.markdown)
    assert T["runs.curve.pick.near"].format(w="0.5", n=40, v="0.975", best_w="1", best="1.000", base="0.200") in text
    assert T["runs.curve.general.more"].format(language=T["lang.en"], m=40, g="0.500", gb="0.200", best_w="1") in text
    # Chinese questions: the English check is left out, and the page says why
    folder.merge_curve.write_text(json.dumps(curve_of({0.0: LOW, 0.5: MID, 1.0: HIGH}, data_language="zh")))
    at = open_page("runs", lang)
    text = " ".join(m.value for m in at.markdown)
    assert T["runs.curve.pick.best"].format(w="1", n=40, v="1.000", base="0.200", base_w="0") in text
    assert T["runs.curve.general.left_out"].format(language=T["lang.en"], data=T["lang.zh"]) in text


# Mining: the real total, and the "no negatives" note gone once mined ---------------------------------------

def test_mining_reports_the_rows_and_every_text_it_encodes():
    import numpy as np

    from trainer.engine.mining import MineSettings, mine

    rows = [{"query": f"question {i}", "pos": [f"answer {i}"]} for i in range(300)]
    reports = []

    def encode(texts, max_len):
        vectors = np.random.default_rng(len(texts)).normal(size=(len(texts), 8))
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    mine(rows, encode, MineSettings(negatives=2, range_min=0, range_max=20),
         progress=lambda phase, done, total, overall=None: reports.append((phase, done, total, overall)))
    assert {r[3]["rows"] for r in reports} == {300} and {r[3]["texts_total"] for r in reports} == {600}
    encoded = [(phase, done, total, o["texts_done"]) for phase, done, total, o in reports if phase != "search"]
    assert encoded == [("queries", 0, 300, 0), ("queries", 256, 300, 256), ("queries", 300, 300, 300),
                       ("passages", 0, 300, 300), ("passages", 256, 300, 556), ("passages", 300, 300, 600)]
    assert reports[-1][:3] == ("search", 300, 300)


def start_job(runs_dir, path, progress=None, summary=None):
    """A mining job's folder as trainer.mining.start_mining leaves it, its child this test process (alive)."""
    import os

    from trainer.jobs.mining import MINING_DIR

    folder = runs_dir / MINING_DIR / "20250101-000000-abcdef"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "job.json").write_text(json.dumps({"pid": os.getpid(), "input": str(path), "model": "default"}))
    if progress is not None:
        (folder / "progress.json").write_text(json.dumps(progress))
    if summary is not None:
        (folder / "summary.json").write_text(json.dumps(summary))
    return folder


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_mining_progress_counts_the_real_total_and_the_note_goes_once_mined(runs_dir, tmp_path, lang):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"query": f"how do I reset hub {i}", "pos": [f"hold button {i}"]}
                                                   for i in range(12)])
    T = TEXTS[lang]
    missing = T["mine.missing"].format(n="12", total="12")

    def page():
        at = open_page("data", lang)
        at.radio(key=f"data_source__{lang}").set_value("path").run()
        at.text_input(key="data_path").set_value(str(pairs)).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    assert missing in [i.value for i in page().info]
    start_job(runs_dir, pairs, progress={"phase": "passages", "done": 8, "total": 12, "rows": 12, "texts_done": 20,
                                         "texts_total": 24})
    at = page()
    (bar,) = at.get("progress")
    assert bar.proto.text == T["mine.progress"].format(rows="12", phase=T["mine.phase.passages"], done="8", total="12")
    assert bar.proto.value == round(0.95 * 20 / 24 * 100)
    assert missing in [i.value for i in at.info]                          # still so while it mines
    out = tmp_path / "mined.jsonl"
    out.write_text("")
    start_job(runs_dir, pairs, progress={"phase": "done", "done": 1, "total": 1},
              summary={"mined_rows": 12, "pool": 12, "seconds": 1.0, "output": str(out), "preview": [],
                       "settings": {"range_max": 10}})
    at = page()
    assert missing not in [i.value for i in at.info] and not at.get("progress")
