"""Teacher scores from a cross-encoder (a tiny random one built here: no hub), then a run that
distils from them with FlagEmbedding's m3_kd_loss."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_jsonl

from trainer.core.config import Mode
from trainer.planning.flag_args import flag_arguments
from trainer.core.model_source import embedded_model_dir
from trainer.store import Store

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_reranker(tmp_path_factory) -> Path:
    from transformers import BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("reranker")
    vocab = (embedded_model_dir() / "vocab.txt").read_text().count("\n")
    config = BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(folder)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(embedded_model_dir() / name, folder / name)
    return folder


def test_scores_then_distils(tmp_path, small_train, tiny_config, tiny_reranker):
    out = tmp_path / "scored.jsonl"
    done = subprocess.run([sys.executable, "-m", "trainer", "score", "--input", str(small_train), "--output", str(out),
                           "--reranker", str(tiny_reranker), "--json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 8 and json.loads(done.stdout)["pairs"] == sum(len(r["pos"]) + len(r["neg"]) for r in rows)
    for r in rows:
        assert len(r["pos_scores"]) == len(r["pos"]) and len(r["neg_scores"]) == len(r["neg"])
    assert len({s for r in rows for s in r["neg_scores"]}) > 1       # a real model's scores, not a constant

    from trainer.engine import worker

    cfg = tiny_config(train_data=str(out), mode=Mode.ALL, teacher_scores=True, max_steps=2, eval_data=None)
    args = flag_arguments(cfg, train_file=str(out), output_dir="x", precision="fp32", warmup_steps=0)
    assert args["knowledge_distillation"] is True and args["kd_loss_type"] == "m3_kd_loss"
    store = Store(tmp_path / "runs")
    run_id = store.create_run(cfg)
    assert worker.run(store, run_id) == "completed", store.get_run(run_id).error
    assert [p.step for p in store.metrics(run_id) if p.name == "loss"] == [1, 2]


def test_scoring_refuses_rows_without_negatives(tmp_path, tiny_reranker):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"query": "q", "pos": ["p"]}])
    done = subprocess.run([sys.executable, "-m", "trainer", "score", "--input", str(pairs), "--output",
                           str(tmp_path / "o.jsonl"), "--reranker", str(tiny_reranker)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 2 and "mine them first" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o.jsonl").exists()
