"""The exported folder's dense model in ONNX: `python -m trainer export --onnx` (the folder itself:
trainer.export, which imports no torch)."""
from __future__ import annotations

import logging
from pathlib import Path


def write_onnx(folder: Path) -> Path:
    """The dense model in ONNX through sentence-transformers' backend: `onnx/model.onnx`, which
    `SentenceTransformer(folder, backend="onnx")` loads (pooling and Normalize stay in modules.json)."""
    from sentence_transformers import SentenceTransformer

    # Its hint to save the fresh export is answered on the next line.
    logging.getLogger("sentence_transformers.backend.utils").setLevel(logging.ERROR)
    model = SentenceTransformer(str(folder), backend="onnx", device="cpu", model_kwargs={"export": True})
    model[0].auto_model.save_pretrained(str(folder))
    return folder / "onnx" / "model.onnx"
