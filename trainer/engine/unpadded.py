"""Encode a batch without training on its padding (RunConfig.unpadded, off by default: see below).

FlagEmbedding's M3 model encodes a step's passages (batch x group, 64 at 8 x 8) in one forward, padded to
the longest of them: on SciFact at 512 tokens about a third of the passage tokens are padding, and every
layer computes them. Here `encode` sorts the batch's texts by length, cuts them into a few contiguous
chunks (`plan_chunks`: padding saved against a fixed cost per chunk), runs the encoder on each chunk
padded only to that chunk's longest text, and puts the outputs back in the batch's order for
FlagEmbedding's scoring and losses: dense and sparse vectors row by row, ColBERT vectors padded back to the
batch's length with zero vectors (what FlagEmbedding's own masking gives padded positions), so every score,
loss and gradient is the padded model's, within float rounding (tests/test_unpadded.py).

A chunk that still holds padding gives the encoder a broadcastable padding mask ([n, 1, 1, L] in effect)
instead of the 2-D one, which transformers' SDPA path expands to a [n, 1, L, L] tensor (and autocast keeps
a half-precision copy of it for every layer): the same values, a length-times smaller tensor
(trainer.memory counts it, see `_mask_bytes`). A chunk without padding gets no mask, so SDPA can take its
flash kernel.

The hook is the model's `encode` (queries and passages alike); everything else is FlagEmbedding's. It
leaves alone what it cannot reorder: sub-batches (`sub_batch_size`, list features), left padding.

Measured (bench/padding.py, one H200, BGE-M3's shape, batch 8 x group 8, 512 tokens): peak memory down
(SciFact 41.0 -> 35.1 GiB; padded 4,096-token passages 84.6 -> 70.9 GiB), time not: each further chunk
costs the host 45-60 ms (24 layers dispatched forward and backward), about what the GPU saves, so
SciFact ran at 0.96x and CMRC at 0.87x with chunks cut at 2,048 tokens' cost. Hence the chunk cost
below and the setting off by default; docs/DESIGN-NOTES.md has the figures and what was tried.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
import transformers
from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model

from ..memory import BROADCAST_MASK_MODELS
from .lean_head import LeanSparseM3Model

# A chunk's fixed cost, in tokens' worth of encoder work: its 24 layers are dispatched by the host one
# kernel at a time, forward and backward. On an H200 with BGE-M3 one more chunk cost 45-60 ms of a step,
# about 6,000-8,000 tokens of the GPU's work (bench/padding.py, docs/DESIGN-NOTES.md); chunks are only cut
# where they save more padding than this. At batch 8 x group 8 x 512 tokens that leaves most batches whole
# (one chunk, the broadcast mask only); larger batches split.
CHUNK_OVERHEAD_TOKENS = 8192
PAD_MULTIPLE = 8              # chunk lengths stay multiples of 8, as FlagEmbedding's collator pads
# Models whose transformers code accepts the broadcastable padding mask (BGE-M3 is XLM-RoBERTa, the embedded
# MiniLM is BERT): trainer.memory.BROADCAST_MASK_MODELS. Any other model gets its 2-D mask per chunk (still
# unpadded, same results).
_TRANSFORMERS_5 = int(transformers.__version__.split(".")[0]) >= 5


def plan_chunks(lengths: list[int], width: int, attention_span: float = math.inf,
                overhead: float | None = None) -> list[tuple[list[int], int]]:
    """The texts (their token counts, `lengths`, in a batch padded to `width`) as length-sorted chunks:
    [(rows, padded length)], longest first. The cut points minimise the work, counted in tokens: each
    chunk's rows x its length x (1 + length / attention_span) (attention grows with the length; the
    span is where it would cost as much as the layer's matrix products), plus `overhead` per chunk.
    Texts of one length make one chunk: the batch as it was."""
    overhead = CHUNK_OVERHEAD_TOKENS if overhead is None else overhead
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    padded = [min(width, PAD_MULTIPLE * math.ceil(max(1, lengths[i]) / PAD_MULTIPLE)) for i in order]
    n = len(order)
    best, cut = [0.0] + [math.inf] * n, [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):
            length = padded[i]
            cost = best[i] + (j - i) * length * (1 + length / attention_span) + overhead
            if cost < best[j]:
                best[j], cut[j] = cost, i
    chunks, j = [], n
    while j > 0:
        i = cut[j]
        chunks.append((order[i:j], padded[i]))
        j = i
    return chunks[::-1]


def padded_share(lengths: list[int], width: int) -> float:
    """The share of a batch's positions that are padding."""
    return 1 - sum(lengths) / (len(lengths) * width) if lengths else 0.0


class UnpaddedEncode:
    """The two methods both unpadded M3 classes below share (a mixin base would change the instance
    layout, and the model's class could no longer be switched in place)."""

    def encode(self, features):
        mask = features.get("attention_mask") if isinstance(features, dict) else None
        if (mask is None or mask.dim() != 2 or self.sub_batch_size not in (None, -1)
                or getattr(self.tokenizer, "padding_side", "right") != "right"):
            return EncoderOnlyEmbedderM3Model.encode(self, features)
        rows, width = mask.shape
        lengths_on_device = mask.sum(dim=1)
        lengths = lengths_on_device.tolist()     # the step's one wait for the device (transformers waits as long)
        config = self.model.config
        span = 2 * config.hidden_size + getattr(config, "intermediate_size", 4 * config.hidden_size)
        chunks = plan_chunks(lengths, width, span)
        if len(chunks) == 1:
            parts = [self._encode_chunk(features, padded=min(lengths) < width)]
            inverse = None
        else:
            # The same stable longest-first order as plan_chunks, made on the device: no index crosses from
            # the host (a copy from pageable memory would wait for the device once per chunk).
            order = torch.sort(lengths_on_device, descending=True, stable=True).indices
            parts, start = [], 0
            for chunk_rows, length in chunks:
                index = order[start:start + len(chunk_rows)]
                start += len(chunk_rows)
                sub = {k: (v.index_select(0, index)[:, :length]
                           if torch.is_tensor(v) and v.dim() == 2 and v.shape == (rows, width) else v)
                       for k, v in features.items()}
                parts.append(self._encode_chunk(sub, padded=min(lengths[r] for r in chunk_rows) < length))
            inverse = torch.argsort(order)

        def gather(tensors):
            whole = tensors[0] if len(tensors) == 1 else torch.cat(tensors, 0)
            return (whole if inverse is None else whole.index_select(0, inverse)).contiguous()

        dense = gather([p[0] for p in parts])
        if not self.unified_finetuning:
            return dense, None, None
        sparse = gather([p[1] for p in parts])
        # ColBERT vectors drop the CLS position: width - 1 positions, the padded ones zero vectors.
        colbert = gather([F.pad(p[2], (0, 0, 0, width - 1 - p[2].shape[1])) for p in parts])
        return dense, sparse, colbert

    def _encode_chunk(self, features, padded: bool):
        """FlagEmbedding's `_encode` for one chunk, the encoder given the broadcastable padding mask (or
        none when the chunk has no padding); the heads get the 2-D mask as in FlagEmbedding."""
        mask = features["attention_mask"]
        inputs = {k: v for k, v in features.items() if k != "attention_mask"}
        last_hidden_state = self.model(**inputs, attention_mask=encoder_mask(self.model, mask) if padded else None,
                                       return_dict=True).last_hidden_state
        dense_vecs = self._dense_embedding(last_hidden_state, mask)
        sparse_vecs = colbert_vecs = None
        if self.unified_finetuning:
            sparse_vecs = self._sparse_embedding(last_hidden_state, features["input_ids"])
            colbert_vecs = self._colbert_embedding(last_hidden_state, mask)
        if self.normalize_embeddings:
            dense_vecs = F.normalize(dense_vecs, dim=-1)
            if self.unified_finetuning:
                colbert_vecs = F.normalize(colbert_vecs, dim=-1)
        return dense_vecs, sparse_vecs, colbert_vecs


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
    encode = UnpaddedEncode.encode
    _encode_chunk = UnpaddedEncode._encode_chunk


class UnpaddedLeanM3Model(LeanSparseM3Model):
    encode = UnpaddedEncode.encode
    _encode_chunk = UnpaddedEncode._encode_chunk


def enable(model):
    """Switch an M3 model (FlagEmbedding's or the lean-head one) to unpadded encoding in place: same
    parameters and state, only `encode` differs. Also keeps this process's attention off cuDNN's SDPA
    backend: cuDNN builds a graph for every new shape (about 2 ms of host time per call, forward and
    backward, torch 2.11 on an H200), and chunks bring new shapes every step; the flash and memory-efficient
    kernels take any shape as it comes."""
    torch.backends.cuda.enable_cudnn_sdp(False)
    if isinstance(model, (UnpaddedM3Model, UnpaddedLeanM3Model)):
        return model
    model.__class__ = UnpaddedLeanM3Model if isinstance(model, LeanSparseM3Model) else UnpaddedM3Model
    return model
