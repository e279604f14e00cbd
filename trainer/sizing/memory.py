"""GPU-memory estimate for one M3 training step. Pure arithmetic: no torch, no I/O.

The model follows what PyTorch keeps alive at the peak of a step with fp32 master weights and
AdamW: weights (+ the bf16/fp16 copies autocast caches), optimizer state, the activations saved
for backward (per token; SDPA attention keeps no length x length matrix), ColBERT's projection,
the sparse head — FlagEmbedding's stock head builds two passages x length x vocabulary tensors,
the lean head two batch x vocabulary ones — and a little workspace. The per-token coefficients are
fitted by `bench/fit_memory.py` to `torch.cuda.max_memory_allocated` on an H100 and checked
against every cell by `bench/vram_validate.py --report`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from trainer.core.config import AMP, Mode, resolve_precision
from trainer.core.gpus import DEFAULT_CARD_GIB
from trainer.core.model_source import model_dir, read_config


GIB = 2**30

# Bytes per token per hidden unit, by precision class ("amp" / "fp32"); fitted on an
# NVIDIA H100 80GB HBM3, torch 2.11, transformers 5 (bench/results/vram_h100.jsonl).
COEF = {
    "amp": {"layer": 43.3, "colbert": 0.0, "frozen": 28.6, "ckpt_layer": 3.2, "ckpt_grads": 0.8},
    "fp32": {"layer": 67.4, "colbert": 5.5, "frozen": 33.6, "ckpt_layer": 3.2, "ckpt_grads": 0.8},
}
WORKSPACE_GIB = 0.07       # cuBLAS/SDPA workspace: the fit's constant term (bench/fit_memory.py)
# Under DeepSpeed with bf16 the whole module is bf16 (no autocast keeping fp32 activations): its saved
# activations are this fraction of AMP's. Fitted on one measurement (ZeRO-2, 2 x H200, batch 8:
# bench/results/multi_gpu_h200x2_run1.json); ZeRO-1 and ZeRO-2 measured the same 18.07 GiB in run 2.
ZERO_ACTIVATIONS = 0.71
ADAMW_TEMP = 1.0            # foreach AdamW's temporaries, as a multiple of the gradients (torch.optim's
                            # _multi_tensor_adamw builds one list of intermediates per parameter list)
# Allocator headroom: reserved beyond the allocated peak. Without checkpointing, the stock head's
# huge tensors leave a hole of their own size when the encoder trains (seen on the H100).
FRAGMENTATION = 0.04
CONTEXT_GIB = 0.6           # CUDA context, outside PyTorch's allocator
# The card sizes Configure plans for (24 GB: L4/A10/RTX 4090; 40/80 GB: A100/H100; 48 GB: L40S/A6000)
# and the total memory such cards report (nvidia-smi; the H100 80GB HBM3 here: 79.18 GiB).
CARD_GIB = {24: 23.6, 40: 39.4, 48: 47.5, 80: 79.2}


@dataclass(frozen=True)
class Shape:
    """A BERT-like encoder's shape, as its config.json gives it."""

    vocab: int
    hidden: int
    layers: int
    intermediate: int
    positions: int = 514
    colbert_dim: int = 0
    model_type: str = ""        # config.json's model_type: whether unpadded encoding broadcasts the padding mask

    @property
    def linear_params(self) -> int:
        """Weights and biases of the nn.Linear layers: per layer Q, K, V and the attention output
        (4 h x h + 4 h), then the feed-forward up and down projections (2 h x i + i + h) —
        transformers' XLMRobertaLayer / BertLayer."""
        h, i = self.hidden, self.intermediate
        return self.layers * (4 * h * h + 4 * h + 2 * h * i + i + h)

    @property
    def encoder_params(self) -> int:
        """Linear layers + two LayerNorms a layer (4 h) + word, position and token-type embeddings
        (2 types) and the embeddings' LayerNorm (2 h); no pooler (M3 does not use it). BGE-M3: 567M."""
        h = self.hidden
        return self.linear_params + self.layers * 4 * h + (self.vocab + self.positions + 2 + 2) * h

    @property
    def head_params(self) -> int:
        """FlagEmbedding's M3 heads: colbert_linear (h -> colbert_dim, or h) and sparse_linear (h -> 1)."""
        h = self.hidden
        return h * (self.colbert_dim or h) + (self.colbert_dim or h) + h + 1

    @classmethod
    def from_config(cls, cfg: dict) -> "Shape":
        try:
            return cls(vocab=int(cfg["vocab_size"]), hidden=int(cfg["hidden_size"]),
                       layers=int(cfg["num_hidden_layers"]), intermediate=int(cfg["intermediate_size"]),
                       positions=int(cfg.get("max_position_embeddings", 512)),
                       model_type=str(cfg.get("model_type", "")))
        except KeyError as e:
            raise ValueError(f"config.json has no {e.args[0]!r}: cannot estimate memory") from None


BGE_M3 = Shape(vocab=250002, hidden=1024, layers=24, intermediate=4096, positions=8194, model_type="xlm-roberta")
# Encoders whose transformers code takes a broadcastable padding mask ([n, 1, 1, L]): unpadded encoding
# (trainer.engine.unpadded) gives them one instead of the 2-D mask transformers expands to [n, 1, L, L].
BROADCAST_MASK_MODELS = frozenset({"xlm-roberta", "bert", "roberta"})
BGE_M3_NAME = "bge-m3"       # the short name the estimator knows BGE-M3 by (the hub id too)
BUILT_IN = {BGE_M3_NAME: BGE_M3, "BAAI/bge-m3": BGE_M3}


@dataclass(frozen=True)
class Setup:
    shape: Shape
    mode: Mode
    batch: int
    group_size: int = 8
    query_len: int = 64
    passage_len: int = 256
    precision: str = "bf16"
    grad_ckpt: bool = False
    sparse_head: str = "lean"
    gpu_gib: float = DEFAULT_CARD_GIB
    num_gpus: int = 1
    padded: bool = False        # some sequences padded: the encoder builds an attention mask (see _mask_bytes)
    zero_stage: int = 0           # DeepSpeed ZeRO: 1 shards optimizer state and fp32 master weights, 2 gradients too
    # Unpadded encoding (RunConfig.unpadded, trainer.engine.unpadded): a padded batch's real tokens packed, no
    # padding computed. Never more activations than the whole batch at its longest (what is counted), and at
    # most the padding mask broadcast over the query positions (see _mask_bytes).
    unpadded: bool = False


def setup_for(cfg, shape: Shape, gpu_gib: float, bf16: bool = True) -> Setup:
    """A run's training step on a GPU of `gpu_gib` (with bf16 or not) as the estimator sees it;
    'auto' precision follows config.resolve_precision."""
    return Setup(shape=shape, mode=cfg.mode, batch=cfg.batch_size, group_size=cfg.group_size,
                 query_len=cfg.query_max_len, passage_len=cfg.passage_max_len,
                 precision=resolve_precision(cfg.precision, gpu=True, bf16=bf16), sparse_head=cfg.sparse_head,
                 gpu_gib=gpu_gib, num_gpus=cfg.num_gpus, grad_ckpt=getattr(cfg, "gradient_checkpointing", False),
                 zero_stage=getattr(cfg, "zero_stage", 0), unpadded=getattr(cfg, "unpadded", False))


@dataclass(frozen=True)
class Estimate:
    total_gib: float                   # predicted torch.cuda.max_memory_allocated
    breakdown: dict = field(default_factory=dict)
    headroom_gib: float = 0.0          # allocator reserve beyond the peak, plus the CUDA context
    usable_gib: float = 0.0
    fits: bool = True
    max_batch: int = 0

    def to_dict(self) -> dict:
        return {"total_gib": round(self.total_gib, 2),
                "breakdown": {k: round(v, 2) for k, v in self.breakdown.items()},
                "headroom_gib": round(self.headroom_gib, 2), "usable_gib": round(self.usable_gib, 2),
                "fits": self.fits, "max_batch": self.max_batch}


def card_gib(nominal_gb: float) -> float:
    return CARD_GIB.get(int(nominal_gb), nominal_gb * 0.99) if nominal_gb == int(nominal_gb) else nominal_gb


def _mask_bytes(s: Setup, amp: bool, trains_encoder: bool) -> float:
    """The attention mask of a padded batch. transformers' SDPA path expands the [seqs, length] padding
    mask to an fp32 [seqs, 1, length, length] tensor (4 bytes an entry), and under autocast every
    layer's attention casts it to half precision (2 bytes) and keeps that copy for backward; with
    checkpointing only the layer being recomputed holds one. A frozen encoder keeps none, and its
    peak is the mask being built (fp32 inverse, bool and filled copies at once: 9 bytes an entry).
    Measured on an H200 (bench/results/vram_padded_h200.jsonl): -0.3 to +0.5 % trained encoder.
    Unpadded encoding packs these encoders' padded batches (no mask at all) or, where it encodes a padded
    batch whole, gives them the mask as [seqs, 1, 1, length] (the same per-entry costs, a length-times
    smaller tensor; bench/padding.py measured it): counted as the latter, an upper bound."""
    if not trains_encoder:
        per_entry = 9.0
    else:
        per_entry = 4.0
        if amp:
            per_entry += 2 * (s.shape.layers if not s.grad_ckpt else 1)
    if s.unpadded and s.shape.model_type in BROADCAST_MASK_MODELS:
        return per_entry * (s.batch * s.query_len + s.batch * s.group_size * s.passage_len)
    entries = s.batch * s.query_len ** 2 + s.batch * s.group_size * s.passage_len ** 2
    return per_entry * entries


def _peak(s: Setup) -> tuple[dict, float]:
    """Breakdown (GiB) of the moment of the peak, and the allocator headroom it needs."""
    sh, amp = s.shape, s.precision in AMP
    c = COEF["amp" if amp else "fp32"]
    act_bytes = 2 if amp else 4
    trains_encoder = not s.mode.fix_encoder
    trainable = (sh.encoder_params if trains_encoder else 0) + (sh.head_params if s.mode.unified_finetuning else 0)
    q_seqs, p_seqs = s.batch, s.batch * s.group_size
    tokens = q_seqs * s.query_len + p_seqs * s.passage_len
    h = sh.hidden

    # Parameters stay fp32 under AMP (HF Trainer's autocast keeps fp32 master weights): 4 bytes each.
    weights = 4 * (sh.encoder_params + sh.head_params)
    if amp and trains_encoder:
        # torch.autocast caches the half-precision cast of each weight that needs a gradient for the
        # whole forward (2 bytes): only the matmul weights are cast, so the linear layers'.
        weights += 2 * sh.linear_params
    optimizer = 8 * trainable                    # AdamW's exp_avg and exp_avg_sq, fp32
    grads = 4 * trainable                        # fp32 gradients of what trains
    # DDP keeps a flat copy of the gradients. Without a wait per step (trainer.callbacks) 2 x H200 measured
    # 26.06 GiB once and 28.17 once (one gradient more, bench/results/multi_gpu_h200x2_run*.json).
    ddp_buckets = grads if s.num_gpus > 1 else 0
    if s.zero_stage:
        # DeepSpeed ZeRO (not fitted: bench/multi_gpu.py --zero compares it with a measured peak). Under
        # AMP the module itself is half precision; the fp32 master weights and AdamW's two moments are
        # sharded over the N GPUs (stage 1), and so are the gradients (stage 2: a half-precision
        # shard plus the reduce bucket, 5e8 elements, twice with overlap_comm), each in fp32 too.
        n = max(1, s.num_gpus)
        half = 2 if amp else 4
        weights = half * (sh.encoder_params + sh.head_params) + (4 * trainable / n if amp else 0)
        optimizer = 8 * trainable / n
        grads = half * trainable * (1 / n if s.zero_stage >= 2 else 1) + 4 * trainable / n
        ddp_buckets = 2 * min(5e8, trainable) * half      # the reduce buckets (5e8 elements), held all along
    # ColBERT's projection output per token (fitted: 0 under AMP, where it shares the layer's buffers).
    colbert = tokens * h * c["colbert"] if s.mode.unified_finetuning else 0
    sparse = 0
    if s.mode.unified_finetuning:
        if s.sparse_head == "stock":
            # FlagEmbedding's _sparse_embedding (m3/modeling.py) in training: torch.zeros(batch, length,
            # vocab) and its torch.scatter copy, kept for backward — two such tensors for the passages
            # (the queries' are group_size x passage_len / query_len times smaller and left out).
            sparse = 2 * p_seqs * s.passage_len * sh.vocab * act_bytes
        else:
            # trainer/engine/lean_head.py: one batch x vocab scatter_reduce(amax) and its masked copy.
            sparse = 2 * (q_seqs + p_seqs) * sh.vocab * act_bytes
    grads_live = 0
    if trains_encoder and s.grad_ckpt:
        # Only layer inputs are kept; the peak comes late in backward (one layer recomputed, most
        # gradients written) unless the stock head's forward tensors outweigh that.
        activations = tokens * h * sh.layers * c["ckpt_layer"]
        late_layer, late_grads = tokens * h * c["layer"], grads * c["ckpt_grads"]
        if not (s.sparse_head == "stock" and sparse > late_layer + late_grads):
            activations, grads_live = activations + late_layer, late_grads
    elif trains_encoder:
        # Saved for backward: per token, per hidden unit, per layer (fitted, COEF["layer"]).
        activations = tokens * h * sh.layers * c["layer"]
    else:
        # Encoder frozen (heads mode): no layer keeps activations; the last hidden state and the
        # heads' inputs do (fitted, COEF["frozen"]).
        activations = tokens * h * c["frozen"]
    if s.zero_stage and amp:
        activations *= ZERO_ACTIVATIONS
    workspace = WORKSPACE_GIB * GIB
    mask = _mask_bytes(s, amp, trains_encoder) if s.padded else 0.0

    # Without checkpointing the peak comes before the encoder's gradients exist (end of forward /
    # start of backward); otherwise at optimizer.step, with gradients and AdamW's temporaries alive.
    backward_peak = activations + colbert + sparse + grads_live + mask
    step_peak = grads * (1 + ADAMW_TEMP)
    if backward_peak >= step_peak:
        parts = dict(weights=weights, gradients=grads_live + ddp_buckets, optimizer=optimizer,
                     activations=activations, sparse_head=sparse, colbert=colbert, workspace=workspace)
        if s.padded:
            parts["attention_mask"] = mask
    else:
        parts = dict(weights=weights, gradients=step_peak + ddp_buckets, optimizer=optimizer,
                     activations=0, sparse_head=0, colbert=0, workspace=workspace)
    total = sum(parts.values())
    if s.sparse_head == "stock" and s.mode.unified_finetuning and trains_encoder and not s.grad_ckpt:
        headroom = sparse / 2       # the hole one freed stock-head tensor leaves (seen on the H100)
    else:
        headroom = FRAGMENTATION * total
    return {k: v / GIB for k, v in parts.items()}, headroom / GIB + CONTEXT_GIB


def estimate(s: Setup) -> Estimate:
    """Peak memory of one training step on one device, whether it fits `s.gpu_gib`, and the
    largest per-device batch that would."""
    if s.batch < 1 or s.group_size < 1 or s.query_len < 1 or s.passage_len < 1:
        raise ValueError("batch, group size and lengths must be at least 1")
    usable = card_gib(s.gpu_gib)
    breakdown, headroom = _peak(s)
    total = sum(breakdown.values())
    return Estimate(total_gib=total, breakdown=breakdown, headroom_gib=headroom, usable_gib=usable,
                    fits=total + headroom <= usable, max_batch=max_batch(s))


def _fits(s: Setup, batch: int) -> bool:
    breakdown, headroom = _peak(replace(s, batch=batch))
    return sum(breakdown.values()) + headroom <= card_gib(s.gpu_gib)


def max_batch(s: Setup, limit: int = 1 << 16) -> int:
    """Largest per-device batch that fits (0 if not even 1 does). Memory grows with the batch."""
    if not _fits(s, 1):
        return 0
    low, high = 1, 2
    while high <= limit and _fits(s, high):
        low, high = high, high * 2
    high = min(high, limit + 1)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if _fits(s, mid) else (low, mid)
    return low


def model_shape(name: str):
    """The encoder's shape for the memory estimate: built in for BGE-M3 (whatever the cache holds
    under its id, so the estimate is the real model's), else from the model's config.json."""
    if name in BUILT_IN:
        return BUILT_IN[name]
    cfg = read_config(model_dir(name))
    if cfg:
        return Shape.from_config(cfg)
    raise ValueError(f"{name}: no config.json found; give a local model folder or one of {', '.join(BUILT_IN)}")
