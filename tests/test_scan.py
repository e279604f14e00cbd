"""Big training files: one streaming scan per file version, kept in the store and reused; a bounded
sample; problems named with file:line:field (the first ones, then a count); the worker trains on a valid
file where it is and refuses one that changed since its preflight."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, wait_for, write_jsonl

from trainer.planning import checks
from trainer.jobs import launch
from trainer.data import scan
from trainer.engine import worker
from trainer.core.config import Mode
from trainer.data import DataError
from trainer.store import FAILED, Store


def row(i: int, negatives: int = 3) -> dict:
    return {"query": f"question {i}", "pos": [f"answer {i}"], "neg": [f"other {i} {k}" for k in range(negatives)]}


def touch_later(path: Path) -> None:
    """A new modification time, whatever the file system's clock granularity."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_an_unchanged_file_is_scanned_once_and_a_changed_one_again(tmp_path, monkeypatch):
    store = Store(tmp_path / "runs")
    path = write_jsonl(tmp_path / "train.jsonl", [row(i) for i in range(20)])
    calls = []
    real = scan.scan_file
    monkeypatch.setattr(scan, "scan_file", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    first = scan.ensure(store, path)
    again = scan.ensure(store, path)
    assert len(calls) == 1 and first.rows == again.rows == 20 and first.scan_id == again.scan_id
    assert checks.preflight(checks.RunConfig(train_data=str(path), eval_data=None), store) == [] and len(calls) == 1
    write_jsonl(path, [row(i) for i in range(25)])
    touch_later(path)
    changed = scan.ensure(store, path)
    assert len(calls) == 2 and changed.rows == 25 and changed.checksum != first.checksum
    assert store.get_scan(first.scan_id) is None            # the old version's scan (and sample) is gone
    assert scan.current(store, path)["id"] == changed.scan_id


def test_the_sample_is_bounded_spread_over_the_file_and_kept_in_the_store(tmp_path):
    store = Store(tmp_path / "runs")
    path = write_jsonl(tmp_path / "train.jsonl", [row(i) for i in range(3000)])
    result = scan.scan_file(path, sample_size=100)
    lines = [line for line, _ in result.sample]
    assert result.rows == 3000 and result.sample_rows == len(lines) == 100
    assert lines == sorted(lines) and lines[-1] > 2000 and lines[0] < 1000     # reservoir: from the whole file
    assert json.loads(result.sample[0][1]) == row(lines[0] - 1)
    stored = scan.ensure(store, path)
    assert stored.sample_rows == min(3000, scan.SAMPLE_ROWS) == len(store.scan_sample(stored.scan_id))
    assert scan.sample_rows(store, stored, 5) == [row(i) for i in range(5)]


def test_a_big_file_is_scanned_in_a_child_process_with_progress_in_the_store(tmp_path):
    store = Store(tmp_path / "runs")
    path = write_jsonl(tmp_path / "train.jsonl", [row(i) for i in range(2000)] + ["{broken"])
    started = scan.start(store, path, inline_bytes=0)
    assert started["status"] == "running"
    wait_for(lambda: scan.current(store, path)["status"] == "done", 120, "the scan job to finish")
    done = scan.current(store, path)
    assert done["pid"] not in (None, os.getpid()) and done["rows"] == 2000 and done["bytes_read"] == path.stat().st_size
    result = scan.result_of(done)
    assert result.bad_rows == 1 and [str(p) for p in result.errors] == [
        f"{path}:2001: error: invalid JSON: Expecting property name enclosed in double quotes at column 2"]
    assert scan.start(store, path, inline_bytes=0)["id"] == done["id"]        # not started again


def test_problems_of_a_big_file_name_the_first_lines_then_count_the_rest(tmp_path):
    store = Store(tmp_path / "runs")
    rows = [row(i) if i % 10 else {"query": f"q{i}", "pos": []} for i in range(5000)]
    path = write_jsonl(tmp_path / "train.jsonl", rows)
    result = scan.ensure(store, path)
    assert result.bad_rows == result.error_count == 500 and result.rows == 4500
    assert len(result.errors) == scan.KEEP_PROBLEMS
    assert str(result.errors[0]) == f"{path}:1: field 'pos' error: is empty: every query needs at least one positive passage"
    assert str(result.errors[-1]).startswith(f"{path}:{10 * (scan.KEEP_PROBLEMS - 1) + 1}: field 'pos' error")
    problems = checks.preflight(checks.RunConfig(train_data=str(path), eval_data=None), store)
    assert str(problems[-1]) == f"{path}: error: … and 400 more invalid rows not listed (500 in all)"
    done = subprocess.run([sys.executable, "-m", "trainer", "scan", str(path), "--runs-dir", str(tmp_path / "runs")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == str(result.errors[0]) and "… and 400 more problems not listed" in done.stderr


def test_group_size_warnings_come_from_the_negatives_histogram(tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", [row(0, 1), row(1, 7), row(2, 2), {"query": "q", "pos": ["p"]}])
    result = scan.scan_file(path)
    assert {int(k): v[0] for k, v in result.neg_counts.items()} == {1: 1, 7: 1, 2: 1, 0: 1}
    assert [str(p) for p in result.problems_for(4)] == [
        f"{path}: field 'neg' warning: 2 rows have fewer than 3 negatives (lines 1, 3); group size 4 needs 3: "
        "FlagEmbedding will repeat negatives to fill the group",
        f"{path}: field 'neg' warning: 1 of 4 rows have no negatives: hard negatives are mined for them before "
        "training (Data page, or python -m trainer mine)"]
    assert result.problems_for(1) == []


def test_a_valid_file_is_trained_on_where_it_is_and_others_through_a_streamed_copy(tmp_path, tiny_config):
    store = Store(tmp_path / "runs")
    good = write_jsonl(tmp_path / "good.jsonl", [row(i) for i in range(12)])
    run_id = launch.create(store, tiny_config(train_data=str(good), eval_data=None))
    run_dir = Path(store.get_run(run_id).output_dir)
    prepared = worker.prepare_data(store, run_id, store.get_run(run_id).config, store.get_run(run_id).folder)
    assert prepared.train_file == good and prepared.rows == 12 and not (run_dir / "train.jsonl").exists()
    assert store.run_file(run_id)["checksum"] == scan.ensure(store, good).checksum
    store.set_status(run_id, FAILED)
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [row(i) for i in range(6)] + ["{oops"] + [row(i) for i in range(6, 12)])
    run_id = launch.create(store, tiny_config(train_data=str(mixed), eval_data=None, skip_bad_rows=True))
    run_dir = Path(store.get_run(run_id).output_dir)
    prepared = worker.prepare_data(store, run_id, store.get_run(run_id).config, store.get_run(run_id).folder)
    assert prepared.train_file == run_dir / "train.jsonl" and prepared.rows == 12
    assert [json.loads(t) for t in prepared.train_file.read_text().splitlines()] == [row(i) for i in range(12)]
    assert store.get_run(run_id).skipped_rows == 1
    store.set_status(run_id, FAILED)
    table = tmp_path / "pairs.csv"
    table.write_text("query,positive\n" + "".join(f"q{i},p{i}\n" for i in range(12)))
    run_id = launch.create(store, tiny_config(train_data=str(table), eval_data=None, group_size=1))
    run_dir = Path(store.get_run(run_id).output_dir)
    prepared = worker.prepare_data(store, run_id, store.get_run(run_id).config, store.get_run(run_id).folder)
    assert prepared.rows == 12 and json.loads(prepared.train_file.read_text().splitlines()[0]) == {"query": "q0", "pos": ["p0"]}


@pytest.mark.parametrize("change", ["appended", "same size and time"])
def test_the_worker_refuses_a_file_that_changed_since_its_preflight(tmp_path, tiny_config, change):
    store = Store(tmp_path / "runs")
    path = write_jsonl(tmp_path / "train.jsonl", [row(i) for i in range(12)])
    run_id = launch.create(store, tiny_config(train_data=str(path), eval_data=None, mode=Mode.DENSE))
    before = path.stat()
    if change == "appended":
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row(99)) + "\n")
        touch_later(path)
    else:                            # other content, same size, the old modification time put back
        path.write_text(path.read_text().replace("question 3", "question 8"))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    status = worker.run(store, run_id)
    record = store.get_run(run_id)
    assert status == FAILED and "the training file changed since the run was checked" in record.error
    assert str(path) in record.error and ("checksum differs" in record.error) == (change != "appended")
    assert not (Path(record.output_dir) / "model").exists()           # nothing was trained
    with pytest.raises(DataError):
        worker.prepare_data(store, run_id, record.config, record.folder)


def test_configure_shows_the_scan_progress_then_its_counts_and_never_reads_the_rows(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from app.i18n import EN
    from trainer import data

    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(scan, "INLINE_BYTES", 0)                  # every file is a big one: a child scans it
    monkeypatch.setattr(data, "validate_train", lambda *a, **k: pytest.fail("the page read every row"))
    path = write_jsonl(tmp_path / "train.jsonl", [row(i) for i in range(300)] + ["{oops"] * 30)
    at = AppTest.from_file(str(ROOT / "app" / "router.py"), default_timeout=90)
    at.session_state["lang"] = "en"
    at.run()
    at.radio(key="cfg_data_choice__en").set_value("path").run()
    at.text_input(key="cfg_train").set_value(str(path)).run()
    assert not at.exception, [e.value for e in at.exception]
    store = Store(tmp_path / "runs")
    running = scan.current(store, path)
    assert running is not None and running["pid"] != os.getpid()
    if running["status"] == "running":           # the job may already be done on a fast machine
        assert at.button(key="start").disabled and any(EN["configure.scanning"] == c.value for c in at.caption)
    wait_for(lambda: scan.current(store, path)["status"] == "done", 120, "the scan job to finish")
    from trainer.core.config import DEFAULT_MODEL
    assert store.scan_lengths(scan.current(store, path)["id"], DEFAULT_MODEL)    # worked out by the job, for the page
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.button(key="start").disabled
    assert at.error[0].value == EN["configure.data_errors"].format(count="30")
    assert at.code[0].value.splitlines()[0] == f"{path}:301: error: invalid JSON: Expecting property name enclosed in double quotes at column 2"
    assert at.code[0].value.splitlines()[-1] == EN["scan.more"].format(n="20")
    assert any(EN["configure.lr_suggested"].split("{")[0] in c.value and "300" in c.value for c in at.caption)
