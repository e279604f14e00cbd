"""What the GPU suite (tests/test_gpu_suite.py) is there to catch, kept on the CPU: the trainer hands the model
transformers' BatchEncoding (a Mapping, not a dict), and those batches must take the packed path; a batch that
cannot is padded with one line in the worker log saying why. A tiny random XLM-RoBERTa, under a second."""
import copy
from types import SimpleNamespace

import torch
from transformers import BatchEncoding, XLMRobertaConfig, XLMRobertaModel

from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model
from trainer.engine import unpadded

TOKENIZER = SimpleNamespace(cls_token_id=0, pad_token_id=1, eos_token_id=2, unk_token_id=3, padding_side="right")


def models():
    torch.manual_seed(0)
    encoder = XLMRobertaModel(XLMRobertaConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=40, type_vocab_size=1, pad_token_id=1, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0), add_pooling_layer=False)
    padded = EncoderOnlyEmbedderM3Model(
        {"model": encoder, "colbert_linear": torch.nn.Linear(16, 16), "sparse_linear": torch.nn.Linear(16, 1)},
        tokenizer=TOKENIZER, temperature=0.02, sentence_pooling_method="cls", normalize_embeddings=True,
        unified_finetuning=True, use_self_distill=True, self_distill_start_step=0).eval()
    return padded, unpadded.enable(copy.deepcopy(padded))


def batch() -> BatchEncoding:
    lengths = [5, 12, 30, 9]
    ids = torch.ones(4, 32, dtype=torch.long)
    mask = torch.zeros(4, 32, dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.randint(4, 60, (n,))
        ids[row, 0], ids[row, n - 1] = 0, 2
        mask[row, :n] = 1
    return BatchEncoding({"input_ids": ids, "attention_mask": mask})


def test_the_trainers_batch_encoding_is_packed(monkeypatch, capsys):
    calls = []
    real = unpadded.packed_hidden
    monkeypatch.setattr(unpadded, "packed_hidden", lambda *a, **k: calls.append(1) or real(*a, **k))
    padded, fast = models()
    features = batch()
    assert not isinstance(features, dict)
    with torch.no_grad():
        for a, b in zip(padded.encode(features), fast.encode(features)):
            assert float((a - b).abs().max()) <= 1e-5
    assert calls == [1]
    assert "those batches are padded" not in capsys.readouterr().out


def test_a_batch_that_cannot_be_packed_is_padded_and_the_log_says_why_once(monkeypatch, capsys):
    monkeypatch.setattr(unpadded, "_said", set())
    padded, fast = models()
    fast.sub_batch_size = padded.sub_batch_size = 2
    features = batch()
    with torch.no_grad():
        for _ in range(2):
            for a, b in zip(padded.encode(features), fast.encode(features)):
                assert float((a - b).abs().max()) <= 1e-5
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("unpadded encoding:")]
    assert said == ["unpadded encoding: on: xlm-roberta encoder, each batch's real tokens packed, attention per text",
                    "unpadded encoding: sub-batches (sub_batch_size 2): those batches are padded "
                    "(FlagEmbedding's own encode)"]
