"""torch: the private variable-length attention operators unpadded encoding calls (trainer/engine/unpadded.py) and
the TorchDynamo settings its experimental compiled path raises. Written against torch 2.13.0 (requirements.txt);
tests/test_hooks.py checks every hook, and each hook checks what it relies on at its first use
(guard.LibraryChanged). Imports torch: engine side (only trainer/engine/ imports this module)."""
from __future__ import annotations

import functools

import torch

from trainer.hooks.guard import changed, require

LIBRARY = "torch"
WRITTEN_FOR = "2.13.0"

# `aten::_flash_attention_forward` and `aten::_efficient_attention_forward`: the flash (bf16/fp16) and
# memory-efficient (fp32) kernels that SDPA on nested tensors calls, taking the texts of a packed batch by their
# offsets (`cu`), with attention dropout and a backward. Public SDPA takes padded or nested tensors only (nested
# tensors cost a conversion each way per layer); there is no public variable-length entry point.
# The leading parameters each call passes by position, in order, and the keyword-only `scale`.
FLASH = ("query", "key", "value", "cum_seq_q", "cum_seq_k", "max_q", "max_k", "dropout_p", "is_causal",
         "return_debug_mask")
EFFICIENT = ("query", "key", "value", "bias", "cu_seqlens_q", "cu_seqlens_k", "max_seqlen_q", "max_seqlen_k",
             "dropout_p", "custom_mask_type", "compute_log_sumexp")


@functools.cache
def check_attention_op(name: str) -> None:
    """`torch.ops.aten.<name>` exists with the schema the calls below were written for: its leading positional
    parameters, a keyword-only `scale`, the attention output first among its results."""
    positional = {"_flash_attention_forward": FLASH, "_efficient_attention_forward": EFFICIENT}[name]
    private = f"torch.ops.aten.{name}"
    try:
        schema = getattr(torch.ops.aten, name).default._schema
    except (AttributeError, RuntimeError):
        raise changed(LIBRARY, private, WRITTEN_FOR, "the operator no longer exists") from None
    args = schema.arguments
    names = tuple(a.name for a in args[:len(positional)] if not a.kwarg_only)
    require(names == positional, LIBRARY, private, WRITTEN_FOR,
            f"its leading parameters are {names}, the call passes {positional}")
    require(any(a.name == "scale" and a.kwarg_only for a in args), LIBRARY, private, WRITTEN_FOR,
            "it has no keyword-only `scale`")
    require(bool(schema.returns) and schema.returns[0].name == "output", LIBRARY, private, WRITTEN_FOR,
            "its first result is no longer the attention output")


def flash_varlen(q, k, v, cu, longest: int, dropout_p: float, scale: float):
    """Attention of each text over its own tokens, q/k/v [T, heads, dim] (bf16/fp16, CUDA), texts at offsets `cu`."""
    check_attention_op("_flash_attention_forward")
    return torch.ops.aten._flash_attention_forward(q, k, v, cu, cu, longest, longest, dropout_p, False, False,
                                                   scale=scale)[0]


def efficient_varlen(q, k, v, cu, longest: int, dropout_p: float, grad: bool, scale: float):
    """The same with the memory-efficient kernel (fp32 too); q/k/v contiguous, `grad`: keep what the backward needs."""
    check_attention_op("_efficient_attention_forward")
    return torch.ops.aten._efficient_attention_forward(q[None], k[None], v[None], None, cu, cu, longest, longest,
                                                       dropout_p, 0, grad, scale=scale)[0][0]


# `torch._dynamo.config.cache_size_limit` / `accumulated_cache_size_limit` (in torch 2.13 aliases of
# `recompile_limit` / `accumulated_recompile_limit`): how many graphs TorchDynamo keeps per function before it
# stops compiling it. One compiled function serves every layer, so it needs more room than the defaults; torch has
# no public setting for it.
DYNAMO_LIMITS = ("cache_size_limit", "accumulated_cache_size_limit")


def raise_dynamo_cache_limits(cache_size: int, accumulated: int) -> None:
    """TorchDynamo's two recompile limits raised to at least these (never lowered)."""
    import torch._dynamo

    config = torch._dynamo.config
    for name, at_least in zip(DYNAMO_LIMITS, (cache_size, accumulated)):
        private = f"torch._dynamo.config.{name}"
        require(hasattr(config, name), LIBRARY, private, WRITTEN_FOR, "the setting no longer exists")
        setattr(config, name, max(getattr(config, name), at_least))
