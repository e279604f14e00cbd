"""Measure a few real training steps' peak GPU memory: the model's shape with random weights
(memory does not depend on the weights) inside FlagEmbedding's own M3 model, full AdamW steps with
fp32 master weights under autocast — what the worker does, minus data loading."""
from __future__ import annotations

import gc
import time
from types import SimpleNamespace

import torch
from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model
from transformers import AutoConfig, AutoModel, XLMRobertaConfig

from trainer.core.config import Mode
from trainer.engine.lean_head import LeanSparseM3Model
from trainer.hooks import flagembedding_m3
from trainer.sizing.memory import BGE_M3

# XLM-RoBERTa large: the estimator's shape, plus what memory does not depend on.
BGE_M3_CONFIG = dict(vocab_size=BGE_M3.vocab, hidden_size=BGE_M3.hidden, num_hidden_layers=BGE_M3.layers,
                     intermediate_size=BGE_M3.intermediate, max_position_embeddings=BGE_M3.positions,
                     num_attention_heads=16, type_vocab_size=1, pad_token_id=1)
DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
# Which ids are special does not change memory; the sparse head only needs four of them.
TOKENIZER = SimpleNamespace(cls_token_id=0, pad_token_id=1, eos_token_id=2, unk_token_id=3, padding_side="right")


def encoder_config(model_path: str | None):
    return XLMRobertaConfig(**BGE_M3_CONFIG) if model_path is None else AutoConfig.from_pretrained(model_path)


def build(mode: Mode, head: str = "lean", grad_ckpt: bool = False, model_path: str | None = None):
    """The model as FlagEmbedding's runner sets it up for `mode`, on the GPU (BGE-M3's shape when
    no model folder is given)."""
    torch.manual_seed(0)
    cfg = encoder_config(model_path)
    with torch.device("cuda"):
        base = AutoModel.from_config(cfg, add_pooling_layer=False)
        h = cfg.hidden_size
        heads = {"colbert_linear": torch.nn.Linear(h, h), "sparse_linear": torch.nn.Linear(h, 1)}
    model = EncoderOnlyEmbedderM3Model({"model": base, **heads}, tokenizer=TOKENIZER, temperature=0.02,
                                       sentence_pooling_method="cls", normalize_embeddings=True,
                                       unified_finetuning=mode.unified_finetuning)
    if head == "lean" and mode.unified_finetuning:
        flagembedding_m3.switch_class(model, LeanSparseM3Model)
    if mode.fix_encoder:                       # what FlagEmbedding's runner does for fix_encoder
        for name, p in model.named_parameters():
            p.requires_grad = "colbert_linear" in name or "sparse_linear" in name
    if grad_ckpt:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return model.train()


def optimizer(model):
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)


def _inputs(vocab: int, batch: int, group: int, qlen: int, plen: int, padded: bool = False):
    def text(rows, length):
        ids = torch.randint(5, vocab - 1, (rows, length), device="cuda")
        ids[:, 0], ids[:, -1] = 0, 2
        mask = torch.ones_like(ids)
        if padded:              # the last row is one token shorter: the encoder builds an attention mask
            ids[-1, -1], mask[-1, -1] = 1, 0
        return {"input_ids": ids, "attention_mask": mask}
    return text(batch, qlen), text(batch * group, plen)


def step(model, opt, batch: int, *, group: int = 8, qlen: int = 64, plen: int = 256, precision: str = "bf16",
         padded: bool = False):
    q, p = _inputs(model.vocab_size, batch, group, qlen, plen, padded)
    dtype = DTYPES[precision]
    with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
        loss = model(queries=q, passages=p).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)


def free(opt=None) -> None:
    if opt is not None:
        opt.zero_grad(set_to_none=True)
    gc.collect()
    torch.cuda.empty_cache()


def measure(model, opt, batch: int, steps: int = 3, **shape) -> dict:
    """Peak allocated memory over `steps` full steps and the mean time of all but the first."""
    free()
    torch.cuda.reset_peak_memory_stats()
    try:
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            step(model, opt, batch, **shape)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        return {"status": "ok", "peak_gib": torch.cuda.max_memory_allocated() / 2**30,
                "reserved_gib": torch.cuda.max_memory_reserved() / 2**30,
                "step_s": sum(times[1:]) / max(1, len(times) - 1)}
    except torch.OutOfMemoryError:
        free(opt)
        return {"status": "oom"}


def probe(mode: Mode, batch: int, *, head: str = "lean", grad_ckpt: bool = False, model_path: str | None = None,
          steps: int = 3, **shape) -> dict:
    """Build, measure, release: one answer for the Configure page's 'Measure on this GPU'."""
    if not torch.cuda.is_available():
        return {"status": "no_gpu"}
    model = build(mode, head, grad_ckpt, model_path)
    opt = optimizer(model)
    try:
        result = measure(model, opt, batch, steps, **shape)
    finally:
        del model, opt
        free()
    return {**result, "device": torch.cuda.get_device_name()}
