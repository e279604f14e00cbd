"""Named datasets (the run store's `datasets`) on the Data, Configure and Compare pages, and the language
check: the share of a file's tokens the base model reads as unknown. No torch."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Optional

import streamlit as st

from app.ui import get_store, t
from trainer.data import scan
from trainer.core.config import DEMO_DATA, SPLIT, RunConfig

UNKNOWN_WARN = 0.05    # above this share of [UNK] tokens the model cannot read the data well


def upload_target(runs_dir: Path, mime_type: str, file_id: str, drawn: dict) -> Path:
    """Where an upload is kept: a fresh name in the runs folder, drawn once per upload (kept in `drawn` under its file
    id), so a rerun neither writes it again nor makes a new file to scan. Only the kind of file is kept (by its MIME
    type), never any part of the uploaded name: the name is never a path."""
    suffix = {"text/csv": "csv", "text/tab-separated-values": "tsv"}.get(mime_type, "jsonl")
    return Path(runs_dir) / "uploads" / f"{drawn.setdefault(file_id, secrets.token_hex(8))}.{suffix}"


def dataset_name(d: dict) -> str:
    return f"{d['name']} · {t('dataset.origin.' + d['origin'])}"


def data_label(cfg: RunConfig) -> str:
    """The data a run used, in a few words: the dataset's name (or the file's), and its evaluation."""
    if cfg.train_data == DEMO_DATA:
        train = t("dataset.demo")
    else:
        known = get_store().dataset_for(cfg.train_data)
        train = known["name"] if known else Path(cfg.train_data).name
    evaluation = ("split" if cfg.eval_data == SPLIT else "demo" if cfg.eval_data == DEMO_DATA
                  else "none" if not cfg.eval_data else "folder")
    return f"{train} · {t(f'dataset.eval.{evaluation}')}"


def language_check(container, data: scan.ScanResult, model: str, model_label: str) -> None:
    """The share of the sample's tokens `model` reads as [UNK]; above UNKNOWN_WARN, a plain warning that names
    BAAI/bge-m3 (whose vocabulary covers 100+ languages)."""
    tip = scan.lengths(get_store(), data, model) if data.rows else None
    share = (tip or {}).get("unknown_share")
    if share is None:
        return
    if share > UNKNOWN_WARN:
        container.warning(t("dataset.unknown_high", share=f"{share:.0%}", model=model_label))
    else:
        container.caption(t("dataset.unknown_low", share=f"{share:.1%}", model=model_label))


def use_for_training(path: Optional[str]) -> None:
    """'Use for training': Configure opens with this dataset chosen and the held-out split (None: the demo)."""
    from app.nav import page
    from app.ui import language

    state = st.session_state
    lang = language()
    state[f"cfg_data_choice__{lang}"] = "dataset" if path else "demo"
    if path:
        state["cfg_dataset"] = path
        state[f"cfg_eval_choice__{lang}"] = "split"
    st.switch_page(page("configure"))
