"""Encode a batch without training on its padding (RunConfig.unpadded).

FlagEmbedding's M3 model encodes a step's passages (batch x group, 64 at 8 x 8) in one forward, padded to
the longest of them: on SciFact at 512 tokens about a third of the passage tokens are padding, and every
layer computes them. Here `encode` packs the batch's real tokens into one stream of T tokens (no padding
at all) and runs the encoder's layers on it: embeddings, the Q/K/V and output projections, LayerNorms and
the feed-forward block (about 2/3 of the work) see only real tokens; attention stays per text, through
PyTorch's variable-length attention kernels with the texts' offsets (`varlen_attention`: flash in
bf16/fp16, memory-efficient in fp32, both with attention dropout; on the CPU SDPA per text). The last hidden
state is put back at the batch's padded positions (zero vectors at the padding) for FlagEmbedding's own
dense, sparse and ColBERT heads, scores and losses, so every vector, loss and gradient is the padded
model's within float rounding (tests/test_unpadded.py). Dropout keeps its semantics: the same
probabilities on the embeddings, the attention weights and the hidden states (different random draws than
a padded run, as any two runs).

A batch without padding (fixed-length texts; `PACK_MIN_PADDING`) is encoded whole, as FlagEmbedding does,
with no mask. A model that cannot be packed gets its padded batch whole with the padding mask broadcast over
the query positions ([n, 1, 1, L] instead of the [n, 1, L, L] transformers expands a 2-D mask to).

A training step's queries and passages are packed into one stream and encoded together (`forward`): one pass
over the layers instead of two, half the kernel launches, one wait for the lengths instead of two; the three
attention projections run as one matrix product (weights concatenated, [3 x hidden, hidden]): one cast of the
input and one launch instead of three, the same sums. Together 1.46x the samples/s of separate passes on an H100
(bench/results/gpu_throughput_h100_steady.json); the GPU suite's packed-equals-padded test and its all-heads,
dense-with-checkpointing and length-bucket runs passed with both on (gpu_suite_h100_joint_*.json).
`M3_PACK_TOGETHER=0` / `M3_FUSED_QKV=0` turn either off (for measuring).

Packed: XLM-RoBERTa (BGE-M3), RoBERTa and BERT encoders with absolute positions (`PACKED_MODELS`); other
models, sub-batches (`sub_batch_size`), left padding and chunked feed-forward fall back to FlagEmbedding's
encode. The hook is the model's `encode` (queries and passages alike); it runs inside one forward, so DDP,
ZeRO-1/2 and gradient checkpointing (each layer checkpointed as transformers would) see the usual graph.

Measured: bench/padding.py, docs/DESIGN-NOTES.md ("Unpadded encoding").
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import torch
import torch.nn.functional as F
import transformers
from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model

from trainer.sizing.memory import BROADCAST_MASK_MODELS
from trainer.engine.lean_head import LeanSparseM3Model
from trainer.hooks import flagembedding_m3, torch_attention, transformers_models

# A batch is packed when its padding share is above this. Packing costs nothing measurable even with no
# padding (bench/padding.py on an H200: every fixed-length synthetic batch packed ran at 1.02x the padded
# path, like the whole batch), so any padding at all is packed; a batch without padding is encoded whole,
# exactly FlagEmbedding's forward (no mask).
PACK_MIN_PADDING = 0.0
# Encoders whose layers `packed_hidden` runs itself: transformers' BERT-style layer (attention.self.query/
# key/value, attention.output, intermediate, output), absolute positions. RoBERTa-style position ids start
# after the padding id.
PACKED_MODELS = frozenset({"xlm-roberta", "roberta", "bert"})
_ROBERTA_POSITIONS = frozenset({"xlm-roberta", "roberta"})
_TRANSFORMERS_5 = int(transformers.__version__.split(".")[0]) >= 5
# The two steps above, each off when set to 0 (bench/gpu_throughput.py measures them as variants)
PACK_TOGETHER = os.environ.get("M3_PACK_TOGETHER", "1") != "0"
FUSED_QKV = os.environ.get("M3_FUSED_QKV", "1") != "0"
# Experimental, off: torch.compile of each layer's two blocks around attention (output projection + dropout +
# residual + LayerNorm; feed-forward + GELU + dropout + residual + LayerNorm), dynamic in the packed length.
COMPILE = os.environ.get("M3_COMPILE_PACKED", "0") == "1"


def padded_share(lengths: list[int], width: int) -> float:
    """The share of a batch's positions that are padding."""
    return 1 - sum(lengths) / (len(lengths) * width) if lengths else 0.0


def packable(encoder) -> bool:
    config = encoder.config
    return (getattr(config, "model_type", None) in PACKED_MODELS
            and getattr(config, "position_embedding_type", "absolute") in (None, "absolute")
            and not getattr(config, "is_decoder", False) and not getattr(config, "chunk_size_feed_forward", 0)
            and hasattr(encoder, "embeddings") and hasattr(encoder, "encoder"))


class UnpaddedEncode:
    """The methods both unpadded M3 classes below share (a mixin base would change the instance layout,
    and the model's class could no longer be switched in place)."""

    def forward(self, queries=None, passages=None, teacher_scores=None, no_in_batch_neg_flag=False):
        """FlagEmbedding's forward, with the queries and passages encoded in one packed pass when both can be
        (`encode` then hands out the two results)."""
        together = self._encode_together(queries, passages) if PACK_TOGETHER else None
        if together is not None:
            self.__dict__["_encoded"] = together
        try:
            return self._flag_forward(queries=queries, passages=passages, teacher_scores=teacher_scores,
                                      no_in_batch_neg_flag=no_in_batch_neg_flag)
        finally:
            self.__dict__.pop("_encoded", None)

    def _encode_together(self, queries, passages):
        """{id(features): (dense, sparse, colbert)} for the queries and the passages encoded in one packed pass;
        None where either must take another path (`encode` decides for each alone then)."""
        parts = [queries, passages]
        if any(padded_reason(self, f) is not None for f in parts) or not packable(self.model):
            return None
        masks = [f["attention_mask"] for f in parts]
        if masks[0].device != masks[1].device:
            return None
        lengths_on_device = [m.sum(dim=1) for m in masks]
        joined = torch.cat(lengths_on_device).tolist()   # the step's one wait for the device
        lengths = [joined[:masks[0].shape[0]], joined[masks[0].shape[0]:]]
        if all(padded_share(n, m.shape[1]) <= PACK_MIN_PADDING for n, m in zip(lengths, masks)):
            return None                                  # no padding at all: each encoded whole, as FlagEmbedding
        hidden = packed_parts(self.model, parts, lengths_on_device, lengths)
        if not _said_packed:
            say_packed(padded_share(lengths[1], masks[1].shape[1]), together=True)
        return {id(f): self._heads(h, f) for f, h in zip(parts, hidden)}

    def encode(self, features):
        encoded = self.__dict__.get("_encoded")
        if encoded is not None and id(features) in encoded:
            return encoded.pop(id(features))
        why = padded_reason(self, features)
        if why is not None:
            say_once(f"{why}: those batches are padded (FlagEmbedding's own encode)")
            return EncoderOnlyEmbedderM3Model.encode(self, features)
        mask = features["attention_mask"]
        rows, width = mask.shape
        lengths_on_device = mask.sum(dim=1)
        lengths = lengths_on_device.tolist()     # the step's one wait for the device (transformers waits as long)
        if padded_share(lengths, width) <= PACK_MIN_PADDING or not packable(self.model):
            return self._encode_whole(features, padded=min(lengths) < width)
        hidden = packed_hidden(self.model, features, lengths_on_device, lengths)
        if not _said_packed:
            say_packed(padded_share(lengths, width))
        return self._heads(hidden, features)

    def _encode_whole(self, features, padded: bool):
        """FlagEmbedding's `_encode`, the encoder given the broadcastable padding mask (or none when the
        batch has no padding); the heads get the 2-D mask as in FlagEmbedding."""
        mask = features["attention_mask"]
        inputs = {k: v for k, v in features.items() if k != "attention_mask"}
        hidden = self.model(**inputs, attention_mask=encoder_mask(self.model, mask) if padded else None,
                            return_dict=True).last_hidden_state
        return self._heads(hidden, features)

    def _heads(self, last_hidden_state, features):
        mask = features["attention_mask"]
        dense_vecs = flagembedding_m3.dense_embedding(self, last_hidden_state, mask)
        sparse_vecs = colbert_vecs = None
        if self.unified_finetuning:
            sparse_vecs = flagembedding_m3.sparse_embedding(self, last_hidden_state, features["input_ids"])
            colbert_vecs = flagembedding_m3.colbert_embedding(self, last_hidden_state, mask)
        if self.normalize_embeddings:
            dense_vecs = F.normalize(dense_vecs, dim=-1)
            if self.unified_finetuning:
                colbert_vecs = F.normalize(colbert_vecs, dim=-1)
        return dense_vecs, sparse_vecs, colbert_vecs


def padded_reason(model, features) -> str | None:
    """Why `features` cannot take the unpadded path and go to FlagEmbedding's padded encode; None: they can."""
    # The trainer's batches are transformers' BatchEncoding: a Mapping, not a dict.
    mask = features.get("attention_mask") if isinstance(features, Mapping) else None
    if mask is None or mask.dim() != 2:
        return "a batch without a 2-D attention mask"
    if model.sub_batch_size not in (None, -1):
        return f"sub-batches (sub_batch_size {model.sub_batch_size})"
    if getattr(model.tokenizer, "padding_side", "right") != "right":
        return "a tokenizer that pads on the left"
    extra = sorted(k for k, v in features.items() if torch.is_tensor(v)
                   and k not in ("input_ids", "attention_mask", "token_type_ids"))
    return f"inputs other than ids, mask and token types ({', '.join(extra)})" if extra else None


_said: set[str] = set()
_said_packed = False


def say_packed(share: float, together: bool = False) -> None:
    global _said_packed
    _said_packed = True
    say_once(f"packed the first batch with padding ({share:.0%} of its positions padding)"
             + (", queries and passages in one pass" if together else ""))


def say_once(text: str) -> None:
    """One line in the worker log per distinct fallback (the run's log says why a batch was padded)."""
    if text not in _said:
        _said.add(text)
        print(f"unpadded encoding: {text}", flush=True)


def packed_hidden(encoder, features: dict, lengths_on_device: torch.Tensor, lengths: list[int]) -> torch.Tensor:
    """The encoder's last hidden state for a right-padded batch, computed on its real tokens only, as
    [rows, width, hidden] with zero vectors at the padded positions."""
    return _packed_parts(encoder, [features], [lengths_on_device], [lengths])[0]


def packed_parts(encoder, parts: list, lengths_on_device: list[torch.Tensor], lengths: list[list[int]]) -> list:
    """`packed_hidden` of several right-padded batches (a step's queries and passages) in one pass over the
    layers: their real tokens packed into one stream, each text attending to its own tokens only."""
    transformers_models.check_packed_layout(encoder)
    device = parts[0]["attention_mask"].device
    config = encoder.config
    emb = encoder.embeddings
    start = config.pad_token_id + 1 if config.model_type in _ROBERTA_POSITIONS else 0
    flats, ids, positions, types, sizes, cus, shapes = [], [], [], [], [], [], []
    for features, on_device, counts in zip(parts, lengths_on_device, lengths):
        rows, width = features["attention_mask"].shape
        total = sum(counts)
        # Where each real token sits in the flattened batch, made on the device (no index crosses from the host).
        offsets = F.pad(on_device.cumsum(0), (1, 0))
        row = torch.repeat_interleave(torch.arange(rows, device=device), on_device, output_size=total)
        within = torch.arange(total, device=device) - offsets.index_select(0, row)
        flat = row * width + within
        flats.append(flat)
        shapes.append((rows, width))
        sizes.append(total)
        cus.append(offsets[1:] + sum(sizes[:-1]) if cus else offsets)
        ids.append(features["input_ids"].reshape(-1).index_select(0, flat))
        positions.append(within + start)
        token_types = features.get("token_type_ids")
        types.append(token_types.reshape(-1).index_select(0, flat) if token_types is not None else None)
    one = len(parts) == 1
    ids = ids[0] if one else torch.cat(ids)
    positions = positions[0] if one else torch.cat(positions)
    x = emb.word_embeddings(ids)
    if all(t is None for t in types):
        x = x + emb.token_type_embeddings.weight[0]
    else:
        types = [t if t is not None else torch.zeros(n, dtype=torch.long, device=device) for t, n in zip(types, sizes)]
        x = x + emb.token_type_embeddings(types[0] if one else torch.cat(types))
    x = x + emb.position_embeddings(positions)
    x = emb.dropout(emb.LayerNorm(x))
    cu = (cus[0] if one else torch.cat(cus)).to(torch.int32)
    longest = max(max(c) for c in lengths)
    every = [n for c in lengths for n in c]
    heads = config.num_attention_heads
    attention_dropout = config.attention_probs_dropout_prob
    layers = encoder.encoder.layer
    checkpointing = getattr(encoder.encoder, "gradient_checkpointing", False) and encoder.training
    for layer in layers:
        def run(hidden, layer=layer):
            return packed_layer(layer, hidden, cu, longest, every, heads, attention_dropout)

        if checkpointing and torch.is_grad_enabled():
            checkpoint = transformers_models.gradient_checkpointing_func(layer, encoder.encoder)
            x = checkpoint(run, x) if checkpoint is not None else torch.utils.checkpoint.checkpoint(
                run, x, use_reentrant=False)
        else:
            x = run(x)
    out = []
    for (rows, width), flat, part in zip(shapes, flats, x.split(sizes) if not one else [x]):
        out.append(part.new_zeros(rows * width, part.shape[-1]).index_copy(0, flat, part).view(rows, width, -1))
    return out


_packed_parts = packed_parts


def packed_layer(layer, x, cu, longest, lengths, heads, attention_dropout):
    """One transformers BERT-style layer on packed tokens [T, hidden]: its own modules, attention per text."""
    attention = layer.attention.self
    tokens = x.shape[0]
    if FUSED_QKV and all(proj.bias is not None for proj in (attention.query, attention.key, attention.value)):
        # Q, K and V in one product: the input cast to the autocast dtype once, one launch, the same sums.
        weight = torch.cat([attention.query.weight, attention.key.weight, attention.value.weight])
        bias = torch.cat([attention.query.bias, attention.key.bias, attention.value.bias])
        q, k, v = F.linear(x, weight, bias).view(tokens, 3, heads, -1).unbind(1)
    else:
        q, k, v = (proj(x).view(tokens, heads, -1) for proj in (attention.query, attention.key, attention.value))
    a = varlen_attention(q, k, v, cu, longest, lengths, attention_dropout if layer.training else 0.0)
    if COMPILE and x.is_cuda:
        return _compiled()(layer, a.reshape(tokens, -1), x)
    return _after_attention(layer, a.reshape(tokens, -1), x)


def _after_attention(layer, a, x):
    x = layer.attention.output(a, x)            # dense, dropout, LayerNorm(+ residual)
    return layer.output(layer.intermediate(x), x)


_COMPILED = []


def _compiled():
    if not _COMPILED:
        # one graph for every layer (their parameters are the graph's inputs); room for the recompiles
        torch_attention.raise_dynamo_cache_limits(64, 512)
        _COMPILED.append(torch.compile(_after_attention, dynamic=True))
    return _COMPILED[0]


def varlen_attention(q, k, v, cu, longest: int, lengths: list[int], dropout_p: float) -> torch.Tensor:
    """Softmax attention of each text's tokens over its own tokens; q, k, v [T, heads, dim], texts at the
    offsets `cu` (int32, rows + 1). CUDA: PyTorch's variable-length flash kernel (bf16/fp16) or
    memory-efficient kernel (fp32), the ones nested-tensor SDPA calls, both with dropout and a backward.
    Elsewhere: SDPA per text."""
    scale = q.shape[-1] ** -0.5
    if q.is_cuda:
        if q.dtype in (torch.float16, torch.bfloat16):
            return torch_attention.flash_varlen(q, k, v, cu, longest, dropout_p, scale)
        grad = q.requires_grad or k.requires_grad or v.requires_grad
        q, k, v = (t.contiguous() for t in (q, k, v))       # views of one Q/K/V product
        return torch_attention.efficient_varlen(q, k, v, cu, longest, dropout_p, grad, scale)
    out, start = [], 0
    for n in lengths:
        qs, ks, vs = (t[start:start + n].transpose(0, 1)[None] for t in (q, k, v))
        out.append(F.scaled_dot_product_attention(qs, ks, vs, dropout_p=dropout_p, scale=scale)[0].transpose(0, 1))
        start += n
    return torch.cat(out)


def encoder_mask(encoder, mask: torch.Tensor) -> torch.Tensor:
    """The padding mask as the encoder's attention takes it without expanding it to length x length:
    transformers 4 turns a 3-D [n, 1, L] mask into an additive [n, 1, 1, L] one
    (`get_extended_attention_mask`); transformers 5 takes a 4-D additive mask as it is. Other models:
    the 2-D mask."""
    if getattr(encoder.config, "model_type", None) not in BROADCAST_MASK_MODELS:
        return mask
    if not _TRANSFORMERS_5:
        return mask[:, None, :]
    dtype = encoder.get_input_embeddings().weight.dtype
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


class UnpaddedM3Model(EncoderOnlyEmbedderM3Model):
    _flag_forward = EncoderOnlyEmbedderM3Model.forward
    forward = UnpaddedEncode.forward
    _encode_together = UnpaddedEncode._encode_together
    encode = UnpaddedEncode.encode
    _encode_whole = UnpaddedEncode._encode_whole
    _heads = UnpaddedEncode._heads


class UnpaddedLeanM3Model(LeanSparseM3Model):
    _flag_forward = LeanSparseM3Model.forward
    forward = UnpaddedEncode.forward
    _encode_together = UnpaddedEncode._encode_together
    encode = UnpaddedEncode.encode
    _encode_whole = UnpaddedEncode._encode_whole
    _heads = UnpaddedEncode._heads


def enable(model):
    """Switch an M3 model (FlagEmbedding's or the lean-head one) to unpadded encoding in place: same
    parameters and state, only `encode` differs. Also keeps this process's attention off cuDNN's SDPA
    backend: cuDNN builds a graph for every new shape (about 2 ms of host time per call, forward and
    backward, torch 2.11 on an H200), and batches encoded whole bring a new padded length most steps; the
    flash and memory-efficient kernels take any shape as it comes."""
    torch.backends.cuda.enable_cudnn_sdp(False)
    if isinstance(model, (UnpaddedM3Model, UnpaddedLeanM3Model)):
        return model
    config = model.model.config
    if packable(model.model):
        say_once(f"on: {config.model_type} encoder, each batch's real tokens packed, attention per text")
    else:
        say_once(f"this encoder ({getattr(config, 'model_type', '?')}, position embeddings "
                 f"{getattr(config, 'position_embedding_type', 'absolute')}) cannot be packed: its padded batches are "
                 "encoded whole, the padding mask broadcast")
    return flagembedding_m3.switch_class(
        model, UnpaddedLeanM3Model if isinstance(model, LeanSparseM3Model) else UnpaddedM3Model)
