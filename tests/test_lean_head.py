"""The lean sparse head gives FlagEmbedding's stock results without the batch x length x vocab tensor."""
import copy
from types import SimpleNamespace

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from transformers import BertConfig, BertModel

from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model
from trainer.engine.lean_head import LeanSparseM3Model

VOCAB, HIDDEN = 701, 32
TOKENIZER = SimpleNamespace(cls_token_id=1, eos_token_id=2, pad_token_id=0, unk_token_id=3, padding_side="right")


def make_pair(seed=0):
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    stock = EncoderOnlyEmbedderM3Model(
        {"model": BertModel(cfg), "colbert_linear": torch.nn.Linear(HIDDEN, HIDDEN),
         "sparse_linear": torch.nn.Linear(HIDDEN, 1)},
        tokenizer=TOKENIZER, temperature=0.02, sentence_pooling_method="cls", normalize_embeddings=True,
        unified_finetuning=True)
    with torch.no_grad():  # a positive bias so that most token weights are non-zero after the ReLU
        stock.sparse_linear.bias.fill_(0.5)
    lean = copy.deepcopy(stock)
    lean.__class__ = LeanSparseM3Model
    return stock.train(), lean.train()


def batch(rows, length, gen):
    """Token ids with CLS first, EOS last, repeats, UNK and right padding of random length."""
    ids = torch.randint(4, 60, (rows, length), generator=gen)       # small id range: many repeats
    mask = torch.ones(rows, length, dtype=torch.long)
    for r in range(rows):
        n = int(torch.randint(4, length + 1, (1,), generator=gen))
        ids[r, 0], ids[r, n - 1] = 1, 2
        ids[r, n // 2] = 3
        ids[r, n:], mask[r, n:] = 0, 0
    return {"input_ids": ids, "attention_mask": mask}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_sparse_vectors_loss_and_gradients(seed):
    stock, lean = make_pair(seed)
    gen = torch.Generator().manual_seed(seed)
    q, p = batch(3, 12, gen), batch(3 * 4, 20, gen)

    hidden = stock.model(**p).last_hidden_state
    s_vec = stock._sparse_embedding(hidden, p["input_ids"])
    l_vec = lean._sparse_embedding(hidden, p["input_ids"])
    assert s_vec.shape == l_vec.shape == (12, VOCAB)
    assert torch.allclose(s_vec, l_vec, rtol=0, atol=0)
    assert (l_vec[:, [0, 1, 2, 3]] == 0).all() and (l_vec > 0).any()

    losses = {}
    for name, model in (("stock", stock), ("lean", lean)):
        model.zero_grad()
        loss = model(queries=q, passages=p).loss
        loss.backward()
        losses[name] = loss.item()
    assert abs(losses["lean"] - losses["stock"]) <= 1e-6 * abs(losses["stock"])
    for name in ("sparse_linear.weight", "sparse_linear.bias", "model.encoder.layer.0.attention.self.query.weight",
                 "model.embeddings.word_embeddings.weight"):
        g_stock = dict(stock.named_parameters())[name].grad
        g_lean = dict(lean.named_parameters())[name].grad
        assert g_stock is not None and g_stock.abs().sum() > 0
        rel = (g_lean - g_stock).norm() / g_stock.norm()
        assert rel <= 1e-4, (name, float(rel))


class ShapeRecorder(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.shapes = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor):
                self.shapes.append(tuple(t.shape))
        return out


def test_lean_head_never_builds_the_length_by_vocabulary_tensor():
    stock, lean = make_pair()
    gen = torch.Generator().manual_seed(0)
    q, p = batch(2, 10, gen), batch(8, 16, gen)
    seen = {}
    for name, model in (("stock", stock), ("lean", lean)):
        with ShapeRecorder() as rec:
            model(queries=q, passages=p).loss.backward()
        seen[name] = [s for s in rec.shapes if len(s) == 3 and s[-1] == VOCAB]
    assert seen["stock"], "the stock head should build batch x length x vocab (test is not looking)"
    assert not seen["lean"], seen["lean"]
