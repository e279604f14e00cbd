"""Hard-negative mining: the rules of trainer.engine.mining with a deterministic toy encoder, then the CLI
with the embedded model end to end."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import write_jsonl

from trainer.core.config import parse_range
from trainer.engine.mining import MineSettings, mine, preview

ROOT = Path(__file__).resolve().parent.parent


def toy_encoder(texts, max_len):
    """Each text is a point on a circle at the angle its leading number gives ('12 ...' -> 12 degrees),
    so the ranking is known: nearer numbers score higher."""
    angles = np.radians([float(t.split()[0]) for t in texts])
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def rows_on_a_circle(n=40):
    # query i and its positive sit at 4*i degrees; every other passage is another query's positive
    return [{"query": f"{4 * i} q{i}", "pos": [f"{4 * i} p{i}"]} for i in range(n)]


def test_never_a_positive_and_n_negatives_in_the_range():
    rows = rows_on_a_circle() + [{"query": "0 q0", "pos": ["2 p0-second"]}]   # q0 has two rows, two positives
    mined = mine(rows, toy_encoder, MineSettings(negatives=3, range_min=2, range_max=8, margin=0.0))
    for row in mined.rows:
        positives = {p for r in rows if r["query"] == row["query"] for p in r["pos"]}
        assert len(row["neg"]) == 3 and not positives & set(row["neg"])
    # q20 at 80 degrees: ranked 80 (its positive), 76 = 84, 72 = 88, ...; ranks 2..7 leave 72..92 minus ties
    q20 = next(r for r in mined.rows if r["query"] == "80 q20")
    degrees = sorted(abs(float(n.split()[0]) - 80) for n in q20["neg"])
    assert all(4 <= d <= 16 for d in degrees)
    assert mined.stats["short_rows"] == 0 and mined.stats["queries"] == 40


def test_margin_drops_candidates_too_close_to_the_positive():
    rows = [{"query": "0 q", "pos": ["10 answer"]}, {"query": "50 other", "pos": ["1 twin"]},
            {"query": "90 far", "pos": ["40 far passage"]}]
    # '1 twin' scores above the positive (10 degrees away): likely an unlabelled answer, never taken
    mined = mine(rows, toy_encoder, MineSettings(negatives=1, range_min=0, range_max=5, margin=0.05))
    assert mined.rows[0]["neg"] == ["40 far passage"]


def test_deterministic_with_a_seed_and_different_with_another():
    rows = rows_on_a_circle(60)
    settings = MineSettings(negatives=3, range_min=1, range_max=30, margin=0.0)
    a = mine(rows, toy_encoder, settings).rows
    assert a == mine(rows, toy_encoder, settings).rows
    assert a != mine(rows, toy_encoder, MineSettings(negatives=3, range_min=1, range_max=30, margin=0.0, seed=7)).rows


def test_a_pool_smaller_than_n_and_rows_that_keep_their_negatives():
    rows = [{"query": "0 a", "pos": ["0 pa"]}, {"query": "30 b", "pos": ["30 pb"]},
            {"query": "60 c", "pos": ["60 pc"], "neg": ["180 given"]}]
    mined = mine(rows, toy_encoder, MineSettings(negatives=7, range_min=0, range_max=200, margin=0.0),
                 only_missing=True)
    assert mined.rows[2]["neg"] == ["180 given"]                    # already had negatives: kept
    assert sorted(mined.rows[0]["neg"]) == ["180 given", "30 pb", "60 pc"]   # the whole pool but its positive
    assert mined.stats["mined_rows"] == 2 and mined.stats["short_rows"] == 2
    assert preview(mined, 1)[0]["neg"][0]["text"] == "30 pb"        # best first, with its score


def test_bad_settings_are_refused_in_words():
    with pytest.raises(ValueError, match="2-200"):
        parse_range("200")
    with pytest.raises(ValueError, match="0 <= A < B"):
        parse_range("9-3")
    with pytest.raises(ValueError, match="at least 1"):
        mine(rows_on_a_circle(3), toy_encoder, MineSettings(negatives=0))


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "trainer", "mine", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_cli_refuses_bad_input_with_file_line_field_and_writes_nothing(tmp_path):
    bad = write_jsonl(tmp_path / "pairs.jsonl", [{"query": "q", "pos": ["p"]}, {"query": "", "pos": ["p"]},
                                                 {"query": "q2", "pos": []}])
    out = tmp_path / "out.jsonl"
    done = run_cli("--input", bad, "--output", out)
    assert done.returncode == 2 and not out.exists() and "Traceback" not in done.stderr
    assert f"{bad}:2: field 'query' error: is empty" in done.stderr
    assert f"{bad}:3: field 'pos' error: is empty" in done.stderr


@pytest.mark.slow
def test_cli_mines_a_csv_of_pairs_with_the_embedded_model(tmp_path):
    csv = tmp_path / "pairs.csv"
    lines = [json.loads(x) for x in (ROOT / "trainer" / "demo" / "train.jsonl").read_text().splitlines()[:30]]
    csv.write_text("question,answer\n" + "".join(f'"{r["query"]}","{r["pos"][0]}"\n' for r in lines), encoding="utf-8")
    out, progress = tmp_path / "mined.jsonl", tmp_path / "progress.json"
    done = run_cli("--input", csv, "--output", out, "--negatives", "3", "--range", "0-20", "--json",
                   "--progress", progress)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 30 and summary["mined_rows"] == 30 and summary["pooling"] == "mean"
    for r in rows:
        assert 1 <= len(r["neg"]) <= 3 and r["pos"][0] not in r["neg"]
    assert summary["preview"][0]["pos_score"] > max(n["score"] for n in summary["preview"][0]["neg"])
    assert json.loads(progress.read_text())["phase"] == "done"


def test_mine_never_writes_a_row_without_negatives(tmp_path, monkeypatch):
    """A row whose every candidate scores above its positive (here the positive sits opposite its query) gets
    no negative: mine_file leaves it out of the file FlagEmbedding will read, and counts it."""
    from trainer.engine import mining

    monkeypatch.setattr(mining, "st_encoder", lambda *args, **kwargs: toy_encoder)
    rows = rows_on_a_circle(10) + [{"query": "0 lonely", "pos": ["180 far away"]}]
    out = tmp_path / "mined.jsonl"
    summary = mining.mine_file(rows, [], str(out), "default", MineSettings(negatives=3, range_min=0, range_max=20,
                                                                          margin=0.0))
    written = [json.loads(x) for x in out.read_text().splitlines()]
    assert summary["dropped_rows"] == 1 and summary["written_rows"] == len(written) == 10
    assert all(r["neg"] for r in written) and "0 lonely" not in {r["query"] for r in written}
