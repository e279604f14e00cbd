"""Bad training and evaluation data is reported with file, line and field."""
from conftest import write_jsonl

from trainer.data import validate_eval, validate_train
from trainer.core.config import DEMO_DIR

GOOD = {"query": "q", "pos": ["p"], "neg": ["n1", "n2", "n3"]}


def messages(report):
    return [str(p) for p in report.problems]


def test_demo_data_is_valid():
    assert validate_train(DEMO_DIR / "train.jsonl", 8).ok
    evalset, report = validate_eval(DEMO_DIR / "eval")
    assert report.ok and len(evalset.queries) == 72 and len(evalset.docs) == 82
    testset, report = validate_eval(DEMO_DIR / "test")
    assert report.ok and testset.docs == evalset.docs and not set(testset.queries) & set(evalset.queries)


def test_demo_is_what_build_py_writes_in_text_the_embedded_model_reads(tmp_path):
    """The demo files are build.py's output (deterministic), and English only: the embedded MiniLM reads every
    token (no [UNK]), so Data and Configure never warn on the app's own demo (issue 36)."""
    import importlib.util
    import json
    import re

    from app.datasets_ui import UNKNOWN_WARN
    from trainer.data.token_lengths import unknown_share

    spec = importlib.util.spec_from_file_location("demo_build", DEMO_DIR / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    build.build(tmp_path)
    names = ["train.jsonl"] + [f"{split}/{f}" for split in ("eval", "test")
                               for f in ("queries.jsonl", "corpus.jsonl", "qrels.tsv")]
    for name in names:
        assert (tmp_path / name).read_bytes() == (DEMO_DIR / name).read_bytes(), name
    rows = [json.loads(x) for x in (DEMO_DIR / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = sorted({t for r in rows for t in [r["query"], *r["pos"], *r["neg"]]}
                   | {json.loads(x)["text"] for split in ("eval", "test") for f in ("queries.jsonl", "corpus.jsonl")
                      for x in (DEMO_DIR / split / f).read_text(encoding="utf-8").splitlines()})
    assert len(rows) == 180 and not any(re.search(r"[^\x00-\x7f]", t) for t in texts)
    assert unknown_share(texts) == 0.0 < UNKNOWN_WARN


def test_bad_rows_name_file_line_and_field(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [
        GOOD,
        "{not json",
        {"pos": ["p"], "neg": ["n"]},
        {"query": 3, "pos": ["p"], "neg": ["n"]},
        {"query": "q", "pos": [], "neg": ["n"]},
        {"query": "q", "pos": ["p"], "neg": ["n"], "neg_scores": [1.0, 2.0]},
        {"query": "q", "pos": [""], "neg": ["n"]},
        "[1, 2]",
    ])
    report = validate_train(path, 2)
    f = str(path)
    assert messages(report) == [
        f"{f}:2: error: invalid JSON: Expecting property name enclosed in double quotes at column 2",
        f"{f}:3: field 'query' error: missing",
        f"{f}:4: field 'query' error: must be a string, got int",
        f"{f}:5: field 'pos' error: is empty: every query needs at least one positive passage",
        f"{f}:6: field 'neg_scores' error: has 2 scores for 1 'neg' passages",
        f"{f}:7: field 'pos[0]' error: is empty",
        f"{f}:8: error: expected a JSON object, got list",
    ]
    assert len(report.rows) == 1 and report.bad_rows == 7


def test_encoding_bom_crlf_and_too_few_negatives(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"query": "q", "pos": ["p"], "neg": ["n"]}\r\n{"query": "\xff"}\r\n')
    report = validate_train(path, 4)
    f = str(path)
    assert messages(report) == [
        f"{f}:1: warning: UTF-8 byte-order mark removed",
        f"{f}:1: field 'neg' warning: has 1 negatives, group size 4 needs 3: FlagEmbedding will repeat "
        "negatives to fill the group",
        f"{f}:2: error: not valid UTF-8 (byte 11)",
        f"{f}: warning: Windows line endings (CRLF) read as plain line ends",
    ]
    assert len(report.rows) == 1


def test_empty_file_and_eval_folder_problems(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert messages(validate_train(empty)) == [f"{empty}: error: file is empty"]
    folder = tmp_path / "eval"
    folder.mkdir()
    write_jsonl(folder / "queries.jsonl", [{"_id": "q1", "text": "a"}, {"_id": "q1", "text": "b"}])
    write_jsonl(folder / "corpus.jsonl", [{"_id": "d1", "text": "x"}])
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq9\td1\t1\nq1\td7\t1\n")
    evalset, report = validate_eval(folder)
    assert evalset is None
    assert messages(report) == [
        f"{folder / 'queries.jsonl'}:2: field '_id' error: duplicate id 'q1'",
        f"{folder / 'qrels.tsv'}:3: field 'query-id' error: unknown query id 'q9'",
        f"{folder / 'qrels.tsv'}:4: field 'corpus-id' error: unknown corpus id 'd7'",
    ]


def test_pairs_without_negatives_are_valid_and_counted(tmp_path):
    path = write_jsonl(tmp_path / "pairs.jsonl", [{"query": "q1", "pos": ["p1"]}, GOOD, {"query": "q2", "pos": ["p2"], "neg": []}])
    report = validate_train(path, 4)
    assert report.ok and len(report.rows) == 3 and report.without_negatives == 2
    assert messages(report)[-1] == (f"{path}: field 'neg' warning: 2 of 3 rows have no negatives: hard negatives "
                                    "are mined for them before training (Data page, or python -m trainer mine)")


def test_csv_and_tsv_pairs_with_a_header(tmp_path):
    csv = tmp_path / "pairs.csv"
    csv.write_text('Question,Answer,source\n"how, exactly?","hold the pin, ten seconds",web\n\n,empty query,x\nshort\n',
                   encoding="utf-8")
    report = validate_train(csv, 4)
    assert report.rows == [{"query": "how, exactly?", "pos": ["hold the pin, ten seconds"]}]
    assert messages(report)[:2] == [f"{csv}:4: field 'query' error: is empty", f"{csv}:5: error: expected 3 columns, got 1"]
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("query\tpos\nq\tp\n", encoding="utf-8")
    assert validate_train(tsv, 1).rows == [{"query": "q", "pos": ["p"]}]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert messages(validate_train(bad))[0].startswith(f"{bad}:1: error: the header must name a query column")
