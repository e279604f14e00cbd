"""A file of (query, positive) pairs trains end to end, from the command line and from the Configure page: the
product holds validation and test questions out, mines the negatives, and reports the test split before/after.
The command line's test is also its foreground-training test (`train --skip-bad-rows`)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_jsonl

from trainer.core.config import DEMO_DIR
from trainer.store import Store

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def demo_rows() -> list[dict]:
    """60 of the demo's rows: the 10 % held out for test and for validation is 6 queries each (5 is the least
    the product accepts), and a short run trains on the other 48."""
    return [json.loads(x) for x in (DEMO_DIR / "train.jsonl").read_text(encoding="utf-8").splitlines()[:60]]


def test_pairs_only_file_trains_from_the_command_line_with_a_held_out_test_split_skipping_bad_rows(tmp_path):
    """The command line's foreground run: refused while the file has bad rows, then trained on its valid rows
    when skipping them is asked for."""
    rows = demo_rows()
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"query": r["query"], "pos": r["pos"]} for r in rows]
                        + ["{oops", {"query": "q", "pos": []}])
    runs = tmp_path / "runs"
    argv = [sys.executable, "-m", "trainer", "train", "--mode", "all", "--train", str(pairs), "--eval", "split",
            "--max-steps", "2", "--batch-size", "4", "--group-size", "2", "--runs-dir", str(runs)]
    refused = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and f"{pairs}:{len(rows) + 1}: error: invalid JSON" in refused.stderr
    assert Store(runs).list_runs() == []
    done = subprocess.run(argv + ["--skip-bad-rows", "--name", "cli"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    store = Store(runs)
    (run,) = store.list_runs()
    assert done.stdout.splitlines()[0] == run.id and done.stderr.splitlines()[-1] == f"{run.id} completed"
    assert (run.status, run.name, run.skipped_rows, run.config.skip_bad_rows) == ("completed", "cli", 2, True)
    points = store.metrics(run.id)
    facts = {p.name: p.value for p in points if p.step == 0}
    assert facts["mined_rows"] == facts["train_rows"] + facts["mined_dropped_rows"]
    assert facts["heldout_test_queries"] >= 5 and facts["heldout_val_queries"] >= 5
    assert [p.step for p in points if p.name == "loss"] == [1, 2]
    test_steps = sorted({p.step for p in points if p.name == "test.dense.mrr@10"})
    assert test_steps == [0, 2]                                     # before and after, nothing in between
    assert {p.name for p in points if p.name.startswith("test.")} >= {
        f"test.{h}.{m}" for h in ("dense", "sparse", "colbert", "hybrid") for m in ("mrr@10", "recall@10", "ndcg@10")}
    trained = [json.loads(x) for x in (Path(run.output_dir) / "train.jsonl").read_text().splitlines()]
    assert all(r["neg"] and not set(r["neg"]) & set(r["pos"]) for r in trained)
    test_queries = [json.loads(x)["text"] for x in (Path(run.output_dir) / "eval_test" / "queries.jsonl").open()]
    assert not set(test_queries) & {r["query"] for r in trained}
    test_answers = {r["pos"][0] for r in rows if r["query"] in test_queries}
    assert not test_answers & {p for r in trained for p in r["pos"]}


def test_pairs_only_file_is_configured_with_a_split_and_its_real_steps(tmp_path, monkeypatch):
    """Configure on a pairs CSV given by path: the split on by default, mining announced, the data's lengths, and
    the steps the run will really do (the held-out rows left out). Starting and training such a run from the
    page: tests/test_browser_journey.py."""
    from apptest import open_page

    from app.i18n import EN

    rows = demo_rows()
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("question,answer\n" + "".join(f'"{r["query"]}","{r["pos"][0]}"\n' for r in rows), encoding="utf-8")
    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    at = open_page("configure", "en", timeout=120)
    at.radio(key="cfg_data_choice__en").set_value("path").run()
    at.text_input(key="cfg_train").set_value(str(pairs)).run()
    assert at.radio(key="cfg_eval_choice__en").value == "split"                   # held out by default
    assert EN["configure.pairs"].format(n=len(rows), total=len(rows)) in [i.value for i in at.info]
    assert at.number_input(key="cfg_passage_max_len").value == 64                  # the data's suggestion
    at.button(key="mode_all").click()
    for key, value in (("cfg_epochs", 1), ("cfg_batch_size", 8), ("cfg_group_size", 2)):
        at.number_input(key=key).set_value(value)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # the file's rows less the held-out ones (whole groups of rows that share a question or an answer: the
    # demo asks 5 questions of each article): the worker's split, and its steps at batch 8; no run measured yet
    from trainer.data.split import split_rows

    kept = len(split_rows(rows, 0.1, 0.1, 42).train)
    assert kept < 60 - 10 and EN["configure.train_rows"].format(rows=kept, total=60) in [c.value for c in at.caption]
    steps = EN["count.step"].split("|")[1].format(n=-(-kept // 8))
    assert any(f" · {steps} · " in c.value for c in at.caption)
    assert any(i.value.startswith(EN["configure.time.none"].split("{")[0]) for i in at.info)
    assert [b for b in at.button if b.key == "speed_check"]
    assert Store(tmp_path / "runs").list_runs() == []
