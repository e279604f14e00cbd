"""A lean sparse head for FlagEmbedding's M3 model.

In training, FlagEmbedding scatters every token weight into a batch x length x vocabulary tensor
and takes the max over the length; for BGE-M3 (vocabulary 250,002) that one tensor dominates
memory. The same sparse vector is a batch x vocabulary `scatter_reduce(amax)`; the special-token
masking is done out of place, because amax's backward needs its own output intact. FlagEmbedding's private
`_sparse_embedding` calls `sparse_embedding` (trainer/hooks/flagembedding_m3.py).
"""
from __future__ import annotations

import torch

from trainer.hooks.flagembedding_m3 import SparseEmbeddingOverride


class LeanSparseM3Model(SparseEmbeddingOverride):
    def sparse_embedding(self, hidden_state, input_ids, return_embedding: bool = True):
        token_weights = torch.relu(self.sparse_linear(hidden_state))
        if not return_embedding:
            return token_weights
        weights = token_weights.squeeze(-1)
        sparse = torch.zeros(input_ids.size(0), self.vocab_size, dtype=weights.dtype, device=weights.device)
        sparse = sparse.scatter_reduce(-1, input_ids, weights, reduce="amax")
        return sparse * self._kept_tokens(weights)

    def _kept_tokens(self, like: torch.Tensor) -> torch.Tensor:
        """1 for every vocabulary entry, 0 for the special tokens; made once per device and dtype (filling
        it indexes with a host list, a copy that waits for the device) and kept off the state dict."""
        cache = self.__dict__.setdefault("_kept_token_cache", {})
        key = (like.device, like.dtype)
        if key not in cache:
            keep = torch.ones(self.vocab_size, dtype=like.dtype, device=like.device)
            unused = [self.tokenizer.cls_token_id, self.tokenizer.eos_token_id,
                      self.tokenizer.pad_token_id, self.tokenizer.unk_token_id]
            keep[[t for t in unused if t is not None]] = 0
            cache[key] = keep
        return cache[key]
