"""What leaves the dashboard as a model: one folder that FlagEmbedding's BGEM3FlagModel and
sentence-transformers both load the same way (modules.json, the pooling the run trained with, a
Normalize module), with the tokenizer, both M3 heads and a model card; optionally zipped, and
optionally with an ONNX dense model (`onnx/model.onnx`, sentence-transformers' ONNX backend: trainer.engine.onnx).

FlagEmbedding's M3 trainer writes no sentence-transformers files, so `SentenceTransformer(folder)`
would silently fall back to mean pooling without normalising. Writing the folder imports no torch, so
`python -m trainer export` (a child process of the dashboard) starts in a fraction of a second; only its
`--onnx` step loads the engine.
"""
from __future__ import annotations

import json
import shutil
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, Optional

from trainer.core.model_source import HEAD_FILES, read_config, resolve_model, run_pooling
from trainer.models.card import model_card, mrr_before_after, test_before_after
from trainer.store import Run, Store

HEADS = HEAD_FILES
POOLING_FLAGS = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens"}


def saved_model(run: Run) -> Path:
    """The run's final model folder (FlagEmbedding's save: encoder, tokenizer, head files)."""
    if not run.folder.has_model():
        raise FileNotFoundError(f"run {run.id} has no saved model yet (status {run.status})")
    return run.folder.model


def copy_model(model_dir: Path, out: Path) -> None:
    """The model's own files: not the resumable checkpoints (folders) nor the trainer's pickled arguments."""
    out.mkdir(parents=True, exist_ok=True)
    for path in model_dir.iterdir():
        if path.is_file() and path.name != "training_args.bin":
            shutil.copy2(path, out / path.name)


def max_seq_length(base: str, folder: Path) -> int:
    """The base model's sentence-transformers length if it has one, else what its tokenizer allows."""
    st_cfg = Path(base) / "sentence_bert_config.json"
    if st_cfg.is_file():
        return int(json.loads(st_cfg.read_text())["max_seq_length"])
    tok = folder / "tokenizer_config.json"
    limit = json.loads(tok.read_text()).get("model_max_length", 0) if tok.is_file() else 0
    positions = read_config(str(folder)).get("max_position_embeddings", 512)
    return int(limit) if 0 < limit <= positions else positions


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def write_sentence_transformers(folder: Path, pooling: str, max_len: int) -> None:
    """The classic sentence-transformers layout (read by every version, and by serving stacks that
    read 1_Pooling/config.json): Transformer -> Pooling (the run's) -> Normalize."""
    if pooling not in POOLING_FLAGS:
        raise ValueError(f"pooling {pooling!r}: sentence-transformers export knows {', '.join(POOLING_FLAGS)}")
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    write_json(folder / "modules.json", [{"idx": i, "name": str(i), "path": path,
                                          "type": f"sentence_transformers.models.{kind}"}
                                         for i, (path, kind) in enumerate(modules)])
    flags = {flag: False for flag in ("pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
                                      "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                                      "pooling_mode_lasttoken")}
    flags[POOLING_FLAGS[pooling]] = True
    write_json(folder / "1_Pooling" / "config.json",
               {"word_embedding_dimension": read_config(str(folder))["hidden_size"], **flags, "include_prompt": True})
    (folder / "2_Normalize").mkdir(exist_ok=True)
    write_json(folder / "sentence_bert_config.json", {"max_seq_length": max_len, "do_lower_case": False})
    write_json(folder / "config_sentence_transformers.json", {
        "__version__": {p: _version(p) for p in ("sentence_transformers", "transformers", "torch")},
        "prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine"})


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def finish_folder(store: Store, run: Run, folder: Path, note: str = "") -> None:
    """Everything but the weights: sentence-transformers files, model card, the run's config."""
    pooling = run_pooling(run.config)
    write_sentence_transformers(folder, pooling, max_seq_length(resolve_model(run.config.model), folder))
    card = model_card(run, *mrr_before_after(store, run.id), pooling, test_before_after(store, run.id))
    (folder / "README.md").write_text(card + (f"\n{note}\n" if note else ""), encoding="utf-8")
    write_json(folder / "m3_studio_run.json", {"run_id": run.id, "config": json.loads(run.config.to_json())})


# Weights go into the zip as they are: deflating float weights saves about 8 % (the embedded MiniLM's 91 MB:
# 83 MB) at 13 times the time (4.4 s against 0.34 s on one core; BGE-M3's 2.2 GB: about two minutes).
STORED = (".safetensors", ".pt", ".bin", ".onnx")


def zip_folder(folder: Path) -> Path:
    """FOLDER.zip beside it, its files under FOLDER's name (text deflated, weights stored); written whole or
    not at all."""
    target = folder.with_name(folder.name + ".zip")
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, Path(folder.name) / path.relative_to(folder),
                         compress_type=zipfile.ZIP_STORED if path.suffix in STORED else None)
    partial.replace(target)
    return target


def clear_previous(out: Path) -> None:
    """An earlier export in `out` is replaced; any other non-empty folder is left alone (an error)."""
    if out.is_dir() and any(out.iterdir()):
        if not (out / "m3_studio_run.json").is_file():
            raise FileExistsError(f"{out} is not empty and holds no earlier export; give a new folder")
        shutil.rmtree(out)


def export(store: Store, run_id: str, out: Path, *, zip: bool = False,
           onnx: Optional[Callable[[Path], Path]] = None) -> dict[str, str]:
    """Write the run's model to `out` (replacing an earlier export there); returns the paths written. `onnx`
    writes the ONNX model into the folder before it is zipped: trainer.engine.onnx.write_onnx, which loads
    torch (the command line passes it); without it, nothing here does."""
    run = store.get_run(run_id)
    model_dir = saved_model(run)
    out = Path(out).resolve()
    clear_previous(out)
    copy_model(model_dir, out)
    finish_folder(store, run, out)
    written = {"folder": str(out)}
    if onnx:
        written["onnx"] = str(onnx(out))
    if zip:
        written["zip"] = str(zip_folder(out))
    return written
