"""Bad input before a run: each problem names file, line and field; nothing is stored."""
from pathlib import Path

import pytest
from conftest import write_jsonl

from trainer.planning import checks
from trainer.jobs import launch
from trainer.core.config import Mode, RunConfig
from trainer.data import MAX_LINE_BYTES, validate_train
from trainer.store import Store

GOOD = {"query": "q", "pos": ["p"], "neg": ["n1", "n2", "n3"]}


def snapshot(runs_dir: Path):
    """Everything the store holds: rows and files."""
    store = Store(runs_dir)
    return ([(r.id, r.status) for r in store.list_runs()],
            sorted(str(p.relative_to(runs_dir)) for p in runs_dir.rglob("*") if p.suffix not in (".db-shm", ".db-wal")))


def test_fewer_negatives_than_the_group_needs_says_what_flagembedding_does(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"query": "q", "pos": ["p"], "neg": ["n1"]}])
    report = validate_train(path, 4)
    assert [str(p) for p in report.problems] == [
        f"{path}:1: field 'neg' warning: has 1 negatives, group size 4 needs 3: FlagEmbedding will repeat "
        "negatives to fill the group"]
    assert report.ok and len(report.rows) == 1


def test_a_huge_line_and_a_file_that_is_not_jsonl(tmp_path):
    huge = tmp_path / "huge.jsonl"
    huge.write_text('{"query": "' + "x" * (MAX_LINE_BYTES + 1) + '"}\n' + '{"query": "q", "pos": ["p"], "neg": ["n"]}\n')
    assert [str(p) for p in validate_train(huge, 2).errors] == [
        f"{huge}:1: error: line is {MAX_LINE_BYTES + 14:,} bytes, over the {MAX_LINE_BYTES:,}-byte limit"]
    text = tmp_path / "data.txt"
    text.write_text("query,positive\nhow to reset,hold the button\n")
    errors = [str(p) for p in validate_train(text, 2).errors]
    assert errors[0] == (f'{text}: error: not a JSONL file: no line is a JSON object '
                         '({"query": ..., "pos": [...], "neg": [...]}); (query, positive) pairs can also come '
                         'as .csv or .tsv with a header')
    assert errors[1].startswith(f"{text}:1: error: invalid JSON")


@pytest.mark.parametrize("change, message", [
    (dict(batch_size=0), "run settings: field 'batch_size' error: must be a whole number from 1 to 4096, got 0"),
    (dict(learning_rate=-1e-5), "run settings: field 'learning_rate' error: must be above 0 and at most 0.01, got -1e-05"),
    (dict(passage_max_len=1000), "run settings: field 'passage_max_len' error: 1000 tokens is above the model's maximum of 512"),
    (dict(epochs=0), "run settings: field 'epochs' error: must be a whole number from 1 to 1000 (or set max_steps), got 0"),
    (dict(precision="int8"), "run settings: field 'precision' error: must be one of auto, fp32, fp16, bf16, got 'int8'"),
    (dict(model="/no/such/model"), "run settings: field 'model' error: /no/such/model is neither a folder on this "
                                   "machine nor a hub id like BAAI/bge-m3: check the path"),
])
def test_out_of_range_settings_are_named(change, message):
    assert [str(p) for p in checks.check_config(RunConfig().replace(**change))] == [message]


def test_defaults_and_presets_pass():
    assert checks.preflight(RunConfig()) == []
    assert checks.preflight(RunConfig(mode=Mode.ALL, learning_rate=2e-6, batch_size=16)) == []


def test_bad_data_never_starts_a_run_and_the_store_is_unchanged(tmp_path, tiny_config):
    runs = tmp_path / "runs"
    store = Store(runs)
    done = store.create_run(tiny_config())                # something already stored must stay as it is
    store.add_metrics(done, 1, 0.5, {"loss": 1.0})
    before = snapshot(runs)
    bad = write_jsonl(tmp_path / "bad.jsonl", [GOOD, "{oops", {"query": "q", "pos": [], "neg": ["n"]}])
    for cfg in (tiny_config(train_data=str(bad)), tiny_config(batch_size=0),
                tiny_config(eval_data=str(tmp_path / "missing-folder"))):
        with pytest.raises(launch.InvalidRun) as refused:
            launch.start(store, cfg)
        assert refused.value.problems
    assert str(refused.value).startswith(f"{tmp_path / 'missing-folder' / 'queries.jsonl'}: error: missing")
    assert snapshot(runs) == before and [p.value for p in store.metrics(done)] == [1.0]


def test_skipping_bad_rows_is_explicit(tmp_path, small_train, tiny_config):
    rows = small_train.read_text().splitlines()
    mixed = write_jsonl(tmp_path / "mixed.jsonl", rows + ["{oops", '{"query": "q", "pos": []}'])
    cfg = tiny_config(train_data=str(mixed), mode=Mode.DENSE, eval_data=None)
    assert checks.preflight(cfg)                                       # refused unless chosen
    assert checks.preflight(cfg.replace(skip_bad_rows=True)) == []
    # (test_cli trains on such a file with --skip-bad-rows, and checks the count kept with the run)


def test_every_runconfig_field_has_one_registry_entry_and_a_description_in_each_language():
    import dataclasses

    from trainer.core.field_text import FIELD_TEXT
    from trainer.core.fields import FIELDS

    names = [f.name for f in dataclasses.fields(RunConfig)]
    assert sorted(FIELDS) == sorted(names)
    assert all(sorted(FIELD_TEXT[lang]) == sorted(names) for lang in ("en", "zh"))
    # the defaults pass their own checks
    assert checks.check_config(RunConfig()) == []
