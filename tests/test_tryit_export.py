"""Try it, export and the equivalent command, on one real (tiny) all-heads run."""
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.tryit_view import highlight, rank_change
from trainer import reproduce
from trainer.data import DEMO_DIR, load_eval
from trainer.export import export
from trainer.store import COMPLETED, Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def finished(all_heads_run):
    store, run, status, _ = all_heads_run
    assert status == COMPLETED, run.error
    return store, run


@pytest.mark.slow
def test_exported_folder_loads_in_bgem3flagmodel_with_the_dashboards_dense_scores(finished, tmp_path):
    from FlagEmbedding import BGEM3FlagModel

    from trainer.search import Searcher

    store, run = finished
    archive = export(store, run.id, tmp_path / "export" / run.id, zip=True)["zip"]
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path)
    folder = tmp_path / run.id
    for name in ("config.json", "model.safetensors", "tokenizer.json", "colbert_linear.pt", "sparse_linear.pt",
                 "README.md"):
        assert f"{run.id}/{name}" in names
    card = (folder / "README.md").read_text()
    assert "| dense |" in card and "module mode | all" in card and "learning rate / warmup steps | 3e-05" in card

    evalset = load_eval(DEMO_DIR / "eval")
    query, docs = evalset.queries[0], evalset.docs
    exported = BGEM3FlagModel(str(folder), pooling_method="mean", normalize_embeddings=True, use_fp16=False,
                              devices="cpu")
    q = exported.encode([query], max_length=run.config.query_max_len)["dense_vecs"]
    p = exported.encode(docs, max_length=run.config.passage_max_len)["dense_vecs"]
    answer = Searcher().search(model_dir=str(Path(run.output_dir) / "model"), pooling="mean", unified=True,
                               corpus=str(DEMO_DIR / "eval"), query=query, query_index=0, k=len(docs),
                               query_max_len=run.config.query_max_len, passage_max_len=run.config.passage_max_len)
    inside = {hit["doc"]: hit["scores"]["dense"] for hit in answer["top"]}
    outside = (q @ p.T)[0]
    assert np.allclose([inside[i] for i in range(len(docs))], outside, atol=1e-5)
    assert set(answer["heads"]) == {"dense", "sparse", "colbert", "hybrid"}
    assert answer["query_tokens"] and all(w >= 0 for _, w in answer["query_tokens"])


@pytest.mark.slow
def test_equivalent_command_parses_into_the_runs_config(finished):
    from FlagEmbedding.finetune.embedder.encoder_only.m3 import (
        EncoderOnlyEmbedderM3DataArguments, EncoderOnlyEmbedderM3ModelArguments,
        EncoderOnlyEmbedderM3TrainingArguments)
    from transformers import HfArgumentParser

    _, run = finished
    cfg = run.config
    argv = reproduce.run_command(run, precision="fp32")
    assert argv[:5] == ["torchrun", "--nproc_per_node", "2", "-m", "FlagEmbedding.finetune.embedder.encoder_only.m3"]
    parser = HfArgumentParser((EncoderOnlyEmbedderM3ModelArguments, EncoderOnlyEmbedderM3DataArguments,
                               EncoderOnlyEmbedderM3TrainingArguments))
    model_args, data_args, train_args = parser.parse_args_into_dataclasses(args=argv[5:])
    assert Path(model_args.model_name_or_path).is_dir()
    assert data_args.train_data == [str(Path(run.output_dir) / "train.jsonl")]
    assert (data_args.train_group_size, data_args.query_max_len, data_args.passage_max_len) == \
        (cfg.group_size, cfg.query_max_len, cfg.passage_max_len)
    assert train_args.learning_rate == cfg.learning_rate and train_args.num_train_epochs == cfg.epochs
    assert train_args.per_device_train_batch_size == cfg.batch_size and train_args.max_grad_norm == 1.0
    assert (train_args.unified_finetuning, train_args.fix_encoder) == (True, False)
    assert train_args.negatives_cross_device is True and train_args.temperature == cfg.temperature
    assert train_args.sentence_pooling_method == "mean" and not train_args.bf16 and not train_args.fp16
    assert reproduce.shell(argv).startswith("torchrun --nproc_per_node 2 -m ")


@pytest.mark.slow
def test_tryit_page_shows_both_result_lists(finished, monkeypatch):
    store, run = finished
    monkeypatch.setenv("M3_RUNS_DIR", str(store.runs_dir))
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=240)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("../pages/tryit.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    headers = [h.value for h in at.subheader]
    assert "Base model" in headers and "Fine-tuned" in headers
    hits = [m.value for m in at.markdown if m.value.startswith("**") and ". " in m.value]
    assert len([h for h in hits if h.startswith("**1. ")]) == 2 and len(hits) >= 10
    assert any("Rank of the right passage" in m.value for m in at.markdown)


def test_highlight_escapes_text_and_joins_word_pieces():
    out = highlight([("<b>", 1.0), ("##x", 0.5), ("▁word", 0.0)])
    assert "&lt;b&gt;" in out and "<b>" not in out.replace('<span', '')
    assert '&lt;b&gt;</span><span' in out                                  # '##x' joins without a space
    assert '</span> <span title="0.000"' in out and "rgba(37, 99, 235, 0.0)" in out
    assert rank_change(7, 2) == ("7 → 2 (▲5)", 5) and rank_change(1, 3)[1] == -2 and rank_change(None, 1)[0] == "–"
