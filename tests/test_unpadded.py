"""Unpadded encoding (trainer/engine/unpadded.py) gives FlagEmbedding's padded results: the same dense,
sparse and ColBERT vectors, loss and gradients, in fp32 on the CPU, for the three modes, both sparse
heads, and with gradient checkpointing; packed batches and batches encoded whole. Tiny random
XLM-RoBERTa / BERT encoders: a few seconds. (The GPU's varlen kernels: bench/padding.py --part exact.)"""
import copy
from types import SimpleNamespace

import pytest
import torch
from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model
from trainer.core.config import Mode
from trainer.engine import unpadded
from trainer.engine.lean_head import LeanSparseM3Model

VOCAB, HIDDEN, GROUP = 301, 32, 4
# XLM-R's ids, as BGE-M3's tokenizer has them: <s> 0, <pad> 1, </s> 2, <unk> 3.
TOKENIZER = SimpleNamespace(cls_token_id=0, pad_token_id=1, eos_token_id=2, unk_token_id=3, padding_side="right")
TOL = 1e-5


def make(mode: Mode, head: str = "lean", bert: bool = False, pooling: str = "cls", seed: int = 0):
    """FlagEmbedding's M3 model as the runner sets it up for `mode` (dropout off), and an unpadded copy."""
    torch.manual_seed(seed)
    if bert:
        encoder = BertModel(BertConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=4,
                                       intermediate_size=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                                       pad_token_id=1), add_pooling_layer=False)
    else:
        encoder = XLMRobertaModel(XLMRobertaConfig(
            vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=130, type_vocab_size=1, pad_token_id=1, hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0), add_pooling_layer=False)
    padded = EncoderOnlyEmbedderM3Model(
        {"model": encoder, "colbert_linear": torch.nn.Linear(HIDDEN, HIDDEN),
         "sparse_linear": torch.nn.Linear(HIDDEN, 1)},
        tokenizer=TOKENIZER, temperature=0.02, sentence_pooling_method=pooling, normalize_embeddings=True,
        unified_finetuning=mode.unified_finetuning, use_self_distill=mode.unified_finetuning, self_distill_start_step=0)
    with torch.no_grad():
        if padded.sparse_linear is not None:
            padded.sparse_linear.bias.fill_(0.5)        # most token weights above zero after the ReLU
    if head == "lean" and mode.unified_finetuning:
        padded.__class__ = LeanSparseM3Model
    if mode.fix_encoder:
        for name, p in padded.named_parameters():
            p.requires_grad = "colbert_linear" in name or "sparse_linear" in name
    fast = unpadded.enable(copy.deepcopy(padded))
    return padded.train(), fast.train()


def texts(rows: int, lengths: list[int], width: int, gen) -> dict:
    """Token ids, CLS first and EOS last, right-padded to `width` (a multiple of 8, as the collator pads)."""
    ids = torch.full((rows, width), TOKENIZER.pad_token_id)
    mask = torch.zeros(rows, width, dtype=torch.long)
    for r, n in enumerate(lengths):
        ids[r, :n] = torch.randint(4, 40, (n,), generator=gen)       # few ids: repeats for the sparse max
        ids[r, 0], ids[r, n - 1], ids[r, n // 2] = 0, 2, 3
        mask[r, :n] = 1
    return {"input_ids": ids, "attention_mask": mask}


def batch(seed: int = 0, queries: int = 3):
    gen = torch.Generator().manual_seed(seed)
    q_lengths = [int(torch.randint(4, 17, (1,), generator=gen)) for _ in range(queries)]
    # Passages of very different lengths (some as long as the batch), shuffled: much padding, packed.
    p_lengths = [int(n) for n in torch.randint(5, 121, (queries * GROUP,), generator=gen)]
    p_lengths[1] = 128
    p_lengths[3] = p_lengths[5] = p_lengths[8] = 64
    return texts(queries, q_lengths, 16, gen), texts(queries * GROUP, p_lengths, 128, gen)


def max_diff(a, b) -> float:
    return float((a - b).abs().max())


@pytest.fixture
def packed_calls(monkeypatch):
    """How many encodes took the packed path (a forward's queries and passages together: one)."""
    calls = []
    real, real_parts = unpadded.packed_hidden, unpadded.packed_parts

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    def counting_parts(*args, **kwargs):
        calls.append(len(args[1]))
        return real_parts(*args, **kwargs)

    monkeypatch.setattr(unpadded, "packed_hidden", counting)
    monkeypatch.setattr(unpadded, "packed_parts", counting_parts)
    return calls


def test_padding_share_decides_the_path():
    assert unpadded.padded_share([512] * 4, 512) == 0.0
    assert unpadded.padded_share([256, 512], 512) == 0.25
    assert unpadded.PACK_MIN_PADDING < 0.02                 # any real padding is packed


@pytest.mark.parametrize("mode,head,grad_ckpt", [(Mode.ALL, "lean", False), (Mode.ALL, "stock", True),
                                                 (Mode.ALL, "lean", "reentrant"), (Mode.HEADS, "lean", False),
                                                 (Mode.DENSE, "lean", True)])
def test_same_vectors_loss_and_gradients(mode, head, grad_ckpt, packed_calls):
    padded, fast = make(mode, head)
    if grad_ckpt:
        for model in (padded, fast):
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": grad_ckpt == "reentrant"})
    q, p = batch()
    lengths = p["attention_mask"].sum(1).tolist()
    width = p["attention_mask"].shape[1]

    ref, got = padded.encode(p), fast.encode(p)
    assert packed_calls == [1]
    assert max_diff(ref[0], got[0]) <= TOL
    if mode.unified_finetuning:
        assert got[1].shape == ref[1].shape and got[2].shape == ref[2].shape == (len(lengths), width - 1, HIDDEN)
        assert max_diff(ref[1], got[1]) <= TOL and max_diff(ref[2], got[2]) <= TOL
        assert (got[2][0, lengths[0] - 1:] == 0).all()              # padded positions: zero vectors
    else:
        assert got[1] is None and got[2] is None

    losses = {}
    for name, model in (("padded", padded), ("unpadded", fast)):
        model.zero_grad()
        loss = model(queries=q, passages=p).loss
        loss.backward()
        losses[name] = loss.item()
    # queries and passages packed as well, in one pass (the padded model's forward: none)
    assert packed_calls == [1, 2] if unpadded.PACK_TOGETHER else packed_calls == [1, 1, 1]
    assert abs(losses["unpadded"] - losses["padded"]) <= TOL * max(1.0, abs(losses["padded"]))
    grads = [(n, a.grad, b.grad) for (n, a), b in zip(padded.named_parameters(), fast.parameters()) if a.requires_grad]
    assert grads and all(b is not None for _, _, b in grads)
    for name, a, b in grads:
        assert max_diff(a, b) <= 1e-4 * max(1.0, float(a.abs().max())), name
    if mode.fix_encoder:
        assert all(p.grad is None for n, p in fast.named_parameters() if n.startswith("model."))


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_bert_encoder_token_types_and_mean_pooling(pooling, packed_calls):
    padded, fast = make(Mode.ALL, bert=True, pooling=pooling, seed=3)
    q, p = batch(seed=5)
    for features in (q, p, {**p, "token_type_ids": torch.zeros_like(p["input_ids"])}):
        ref, got = padded.encode(features), fast.encode(features)
        for a, b in zip(ref, got):
            assert max_diff(a, b) <= TOL
    assert len(packed_calls) == 3


def test_queries_and_passages_in_one_pass(packed_calls):
    """A training forward packs its queries and passages into one stream (one pass over the layers): token
    types on one side only, a batch without padding beside a padded one; the loss and gradients are the padded
    model's. Both without padding: each encoded whole, as FlagEmbedding does."""
    padded, fast = make(Mode.ALL, bert=True, seed=4)
    gen = torch.Generator().manual_seed(6)
    q_even = texts(3, [16] * 3, 16, gen)
    separate = [[1, 1], [1]]                 # M3_PACK_TOGETHER=0: queries without padding are encoded whole
    for case, (q, p) in enumerate(((batch(seed=7)[0], {**batch(seed=7)[1], "token_type_ids": torch.zeros_like(batch(seed=7)[1]["input_ids"])}),
                                   (q_even, batch(seed=8)[1]))):
        packed_calls.clear()
        losses = []
        for model in (padded, fast):
            model.zero_grad()
            loss = model(queries=q, passages=p).loss
            loss.backward()
            losses.append(loss.item())
        assert packed_calls == ([2] if unpadded.PACK_TOGETHER else separate[case])
        assert abs(losses[0] - losses[1]) <= TOL * max(1.0, abs(losses[0]))
        for (name, a), b in zip(padded.named_parameters(), fast.parameters()):
            assert max_diff(a.grad, b.grad) <= 1e-4 * max(1.0, float(a.grad.abs().max())), name
    packed_calls.clear()
    fast(queries=q_even, passages=texts(12, [32] * 12, 32, gen))
    assert packed_calls == []


def test_attention_dropout_is_applied_in_training_only():
    """The packed path drops attention weights as the padded one does (the CPU path: SDPA per text; the
    GPU kernels take the same probability): training outputs vary with the seed, eval outputs are the
    padded model's."""
    padded, fast = make(Mode.ALL)
    for model in (padded, fast):
        model.model.config.attention_probs_dropout_prob = 0.5
    _, p = batch()
    outs = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        outs.append(fast.encode(p)[0])
    assert max_diff(*outs) > 1e-3
    padded.eval(), fast.eval()
    with torch.no_grad():
        assert max_diff(padded.encode(p)[0], fast.encode(p)[0]) <= TOL


def test_batches_encoded_whole_get_no_length_by_length_mask(monkeypatch, packed_calls):
    padded, fast = make(Mode.ALL)
    monkeypatch.setattr(unpadded, "PACK_MIN_PADDING", 0.05)      # a threshold that leaves 2 % padding whole
    seen = []
    forward = type(fast.model).forward

    def record(module, *args, **kwargs):
        mask = kwargs.get("attention_mask")
        seen.append(None if mask is None else tuple(mask.shape))
        return forward(module, *args, **kwargs)

    monkeypatch.setattr(type(fast.model), "forward", record)
    gen = torch.Generator().manual_seed(0)
    # 2 % padding, not packed: one forward with the mask broadcast over the query positions
    few = texts(8, [64] * 7 + [56], 64, gen)
    assert unpadded.padded_share([64] * 7 + [56], 64) < unpadded.PACK_MIN_PADDING
    ref = padded.encode(few)
    seen.clear()                                          # the padded model's own call (the same class)
    for a, b in zip(ref, fast.encode(few)):
        assert max_diff(a, b) <= TOL
    # [n, 1, L] (transformers 4) or [n, 1, 1, L] (5)
    assert len(seen) == 1 and len(seen[0]) in (3, 4) and seen[0][-2] == 1, seen
    # no padding at all: no mask
    seen.clear()
    fast.encode(texts(4, [16] * 4, 16, gen))
    assert seen == [None] and packed_calls == []
    # the packed path never calls the encoder's forward
    fast.encode(batch()[1])
    assert seen == [None] and packed_calls == [1]


def test_other_encoders_left_padding_and_sub_batches_fall_back_to_flagembedding(packed_calls):
    padded, fast = make(Mode.ALL)
    q, p = batch()
    fast.sub_batch_size = padded.sub_batch_size = 5
    for a, b in zip(padded.encode(p), fast.encode(p)):
        assert max_diff(a, b) <= TOL
    fast.sub_batch_size = padded.sub_batch_size = None
    fast.model.config.position_embedding_type = "relative_key"
    assert not unpadded.packable(fast.model)
    fast.model.config.position_embedding_type = "absolute"
    assert unpadded.packable(fast.model)
    assert packed_calls == []
    assert isinstance(unpadded.enable(fast), unpadded.UnpaddedLeanM3Model)


def test_the_runner_switches_the_model_when_the_run_asks():
    """What StudioRunner.load_tokenizer_and_model does to the model FlagEmbedding loaded (training.studio_model), on a
    real stock M3 model: the lean head always (all heads), unpadded encoding when the run asks."""
    from trainer.engine.training import studio_model

    for wanted in (True, False):
        stock, _ = make(Mode.ALL, head="stock")
        tokenizer = SimpleNamespace(eos_token=None, sep_token="</s>")        # a BERT-style tokenizer: no EOS
        model = studio_model(tokenizer, stock, model_path="/nonexistent", lean_sparse_head=True,
                             sparse_init="random", unpadded=wanted)
        assert isinstance(model, LeanSparseM3Model) and isinstance(model, unpadded.UnpaddedLeanM3Model) == wanted
        assert tokenizer.eos_token == "</s>"


def test_memory_and_bucket_plans_count_the_broadcast_mask():
    from dataclasses import replace

    from trainer.sizing import buckets
    from trainer.core.config import RunConfig
    from trainer.sizing.memory import BGE_M3, Setup, estimate, setup_for

    long = Setup(shape=BGE_M3, mode=Mode.ALL, batch=2, passage_len=4096, gpu_gib=141, padded=True)
    full, broadcast = estimate(long).breakdown["attention_mask"], estimate(replace(long, unpadded=True)).breakdown[
        "attention_mask"]
    assert 12.5 < full < 13.5 and broadcast < full / 1000          # 16 x 4096^2 x 52 bytes, then 16 x 4096 x 52
    # a model type whose mask is not broadcast keeps the full count
    assert estimate(replace(long, unpadded=True, shape=replace(BGE_M3, model_type="other"))).breakdown[
        "attention_mask"] == full
    assert setup_for(RunConfig(), BGE_M3, 80).unpadded and not setup_for(RunConfig(unpadded=False), BGE_M3, 80).unpadded
    lengths = [300] * 64 + [3000] * 32 + [7000] * 16
    stock = buckets.length_plan(lengths, shape=BGE_M3, mode=Mode.ALL, gpu_gib=80, model_max=8192, group_size=8)
    chunked = buckets.length_plan(lengths, shape=BGE_M3, mode=Mode.ALL, gpu_gib=80, model_max=8192, group_size=8,
                           unpadded=True)
    assert chunked.unpadded and chunked.to_dict()["unpadded"] and not stock.unpadded
    # the short bucket takes a larger batch; 7,000 tokens fit without checkpointing, which the full mask needed
    assert chunked.buckets[0].batch_size > stock.buckets[0].batch_size
    assert stock.buckets[-1].grad_ckpt and not chunked.buckets[-1].grad_ckpt
    assert buckets.from_dict(chunked.to_dict()).unpadded
