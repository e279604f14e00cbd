"""The settings search (trainer.sweep, issue 30), for real on the CPU: `python -m trainer sweep` on the demo's
pairs with the held-out split, two modes, two trials of two steps each. The command is killed while its
second trial trains and the study goes on in this process, with a constructed pruner that prunes that trial at
its first validation (reported after the restart); the winner alone is tested on the held-out split, once. The page shows the
study under AppTest and in Chromium."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from apptest import open_page
from conftest import wait_for
from trainer.core import children
from trainer.jobs import sweep
from trainer.store import COMPLETED, FINAL, PRUNED, RUNNING, Store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
STUDY = "s1"
ARGS = ["--train-data", "demo", "--eval-data", "split", "--max-steps", "2", "--modes", "dense,all", "--trials", "2",
        "--query-max-len", "32", "--passage-max-len", "96",
        "--study", STUDY, "--json"]


class PruneFrom(optuna.pruners.BasePruner):
    """The constructed case: every trial numbered `first` or later is pruned at its first report."""

    def __init__(self, first: int):
        self.first = first

    def prune(self, study, trial) -> bool:
        return trial.number >= self.first


def sweep_command(runs: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "trainer", "sweep", *ARGS, "--runs-dir", str(runs), *extra]


def end_processes(store: Store) -> None:
    for run in store.study_runs(STUDY):
        if children.pid_alive(run.pid):
            os.kill(run.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    runs = tmp_path_factory.mktemp("sweep") / "runs"
    store = Store(runs)
    proc = subprocess.Popen(sweep_command(runs), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def second_trial_training() -> bool:
            assert proc.poll() is None, proc.communicate()
            trials = store.study_runs(STUDY)
            return len(trials) == 2 and trials[0].status in FINAL and trials[1].status == RUNNING
        wait_for(second_trial_training, 240, "the study's second trial to train")
        proc.send_signal(signal.SIGKILL)          # no word to anybody: the study must go on from its files
        proc.wait()
        in_flight = store.study_runs(STUDY)[1].id
        result = sweep.run(store, STUDY, pruner=PruneFrom(1), poll_s=0.2, say=lambda _: None)
        tests_before = len(store.metrics(result["best"]["run_id"], prefix="test."))
        again = subprocess.run(sweep_command(runs), cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        end_processes(store)
    assert again.returncode == 0, again.stderr
    return store, result, json.loads(again.stdout.strip().splitlines()[-1]), in_flight, tests_before


def test_a_killed_study_goes_on_prunes_and_tests_only_its_winner_once(study):
    store, result, printed, in_flight, tests_before = study
    trials = result["trials"]
    assert [t["number"] for t in trials] == [0, 1]
    assert trials[0]["status"] == COMPLETED and trials[0]["state"] == "complete"
    # the trial in flight when the command was killed was followed to its end, its validation reported, and pruned
    assert trials[1]["run_id"] == in_flight and trials[1]["val_score"] is not None
    assert trials[1]["state"] == "pruned" and store.get_run(in_flight).status == PRUNED
    low, high = result["learning_rate_range"]
    for t in trials:
        assert t["mode"] in ("dense", "all") and low <= t["learning_rate"] <= high
        assert store.get_run(t["run_id"]).study == STUDY and not store.get_run(t["run_id"]).config.held_out_test
    best = result["best"]
    assert best["number"] == 0 and best["val_score"] == trials[0]["val_score"]
    assert best["test_score"] is not None and 0 <= best["test_score"] <= 1 and best["test_score_before"] is not None
    tested = [t["run_id"] for t in trials if store.metrics(t["run_id"], prefix="test.")]
    assert tested == [best["run_id"]]                      # only the winner touched the test
    # the command's --json: the shape; a second call tests nothing again
    assert {"study", "trials", "best", "suggested_learning_rate"} <= printed.keys()
    assert all({"run_id", "mode", "learning_rate", "epochs", "status", "val_score"} <= t.keys() for t in printed["trials"])
    assert printed["best"]["run_id"] == best["run_id"] and printed["best"]["test_score"] == best["test_score"]
    assert len(store.metrics(best["run_id"], prefix="test.")) == tests_before
    assert result["best_range"][0] <= best["learning_rate"] <= result["best_range"][1]


def test_bad_input_is_refused_like_train_and_stores_nothing(tmp_path):
    runs = tmp_path / "runs"
    missing = tmp_path / "nope.jsonl"
    done = subprocess.run([sys.executable, "-m", "trainer", "sweep", "--train-data", str(missing), "--eval-data",
                           "split", "--runs-dir", str(runs)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and str(missing) in done.stderr and "Traceback" not in done.stderr
    assert not (runs / sweep.STUDIES_DIR).exists() and Store(runs).list_runs() == []
    train = subprocess.run([sys.executable, "-m", "trainer", "train", "--train-data", str(missing), "--eval-data",
                            "split", "--runs-dir", str(runs)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert train.returncode == 2 and str(missing) in train.stderr and "Traceback" not in train.stderr


def test_the_study_page_shows_trials_winner_and_its_test(study, monkeypatch):
    store, result, *_ = study
    monkeypatch.setenv("M3_RUNS_DIR", str(store.runs_dir))
    for lang in ("en", "zh"):
        at = open_page("sweep", lang=lang)
        text = " ".join(m.value for m in at.markdown)
        assert f"#{result['best']['number']}" in text
        assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) + len(at.table) >= 2
    assert "Finished" in " ".join(m.value for m in open_page("sweep").markdown)
    # the form, from Configure's settings: its mode chosen, the learning rates it will try said
    from trainer.core.config import Mode, RunConfig
    at = open_page("sweep", cfg_sweep_base=RunConfig(mode=Mode.ALL, eval_data="split", learning_rate=2e-5).to_json())
    assert at.multiselect[0].value == ["all"]
    assert any("5.0e-06 to 8.0e-05" in c.value for c in at.caption)


def test_the_study_page_in_chromium(study):
    from playwright.sync_api import expect, sync_playwright
    from test_browser import ARTIFACTS, CHROMIUM, free_port, idle, listening, open_browser

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it as root)")
    store, result, *_ = study
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT,
                            env=dict(os.environ, M3_RUNS_DIR=str(store.runs_dir)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: listening(port) or proc.poll() is not None, 60, "the app to listen")
        ARTIFACTS.mkdir(exist_ok=True)
        with sync_playwright() as p:
            browser, page = open_browser(p)
            try:
                page.goto(f"http://127.0.0.1:{port}/sweep")
                expect(page.get_by_role("heading", name="Find the best settings", exact=True)).to_be_visible()
                idle(page)
                expect(page.get_by_role("heading", name="The winner", exact=True)).to_be_visible()
                page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some("
                                       "p => (p.calcdata || []).length >= 2)")
                assert page.locator('[data-testid="stException"]').count() == 0
                page.screenshot(path=str(ARTIFACTS / "sweep.png"), full_page=True)
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_study_going_on_in_a_new_process_does_not_redraw_its_first_trials(tmp_path):
    """The sampler is seeded from the run's seed and the trials so far: a study loaded afresh (as a resumed
    command loads it) draws new settings, not the ones its first process drew (a walk saw a trial run twice)."""
    from trainer.core.config import RunConfig

    store = Store(tmp_path / "runs")
    spec = sweep.Spec(name="seeded", base=json.loads(RunConfig().to_json()), modes=["dense", "all"], trials=4,
                      suggested_lr=2e-5, center_lr=2e-5, epochs=[1, 5])
    sweep.save(store, spec)

    def draw():
        trial = sweep.study(store, spec).ask()
        params = (trial.suggest_categorical("mode", spec.modes), trial.suggest_float("learning_rate", 5e-6, 8e-5, log=True),
                  trial.suggest_int("epochs", 1, 5))
        sweep.study(store, spec).tell(trial.number, state=optuna.trial.TrialState.FAIL)
        return params

    first, second = draw(), draw()
    assert first != second and {first[0], second[0]} <= set(spec.modes)
