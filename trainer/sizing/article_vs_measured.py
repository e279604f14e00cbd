"""The published claims vs our measurements: what the article this project was seeded from (the one
whose two presets are `trainer.config.PRESETS`; the repository does not record its title or link)
claims about dense-only training and AMP, next to what our own GPU benchmarks measured
(bench/vram_validate.py, bench/sparse_head.py). Pure: rows in, numbers out. Shown on Configure."""
from __future__ import annotations

import json
from pathlib import Path

from trainer.core.fields import CHOICES

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
# The article compares dense-only with all-heads training and AMP with fp32.
CLAIMED = {"dense_memory": 0.40, "dense_speed": 0.30, "dense_batch": 0.50, "amp_memory": 0.20}
REFERENCE = dict(precision="bf16", passage_len=256, batch=8, grad_ckpt=False)


def _peak(cells: list[dict], **where) -> float | None:
    for c in cells:
        if c.get("kind") == "cell" and c.get("status") == "ok" and all(c.get(k) == v for k, v in where.items()):
            return c["peak_gib"]
    return None


def _saving(smaller: float | None, larger: float | None) -> float | None:
    return None if smaller is None or not larger else 1 - smaller / larger


def claims(cells: list[dict], speed: dict) -> list[dict]:
    """One row per claim: what was claimed and the measured change against all-heads training with
    FlagEmbedding's stock sparse head and with our lean one (None where not measured)."""
    ref = REFERENCE
    dense = _peak(cells, mode="dense", **ref)
    heads = {h: _peak(cells, mode="all", head=h, **ref) for h in CHOICES["sparse_head"]}
    steps = {h: speed.get("heads", {}).get(h, {}).get("step_s_at_batch_8") for h in ("stock", "lean", "none")}
    batches = {h: speed.get("heads", {}).get(h, {}).get("max_batch") for h in ("stock", "lean", "none")}
    fp32 = dict(ref, precision="fp32")
    rows = [
        {"claim": "dense_memory", "measured": {h: _saving(dense, heads[h]) for h in heads}},
        {"claim": "dense_speed", "measured": {h: None if not steps[h] or not steps["none"]
                                              else steps[h] / steps["none"] - 1 for h in heads}},
        {"claim": "dense_batch", "measured": {h: None if not batches[h] or not batches["none"]
                                              else batches["none"] / batches[h] - 1 for h in heads}},
        {"claim": "amp_memory", "measured": {h: _saving(_peak(cells, mode="all", head=h, **ref),
                                                        _peak(cells, mode="all", head=h, **fp32)) for h in heads}},
    ]
    for row in rows:
        row["claimed"] = CLAIMED[row["claim"]]
    return rows


def load(results: Path = RESULTS, card: str = "h100") -> tuple[list[dict], dict, str]:
    """The committed benchmark results for one card (empty when absent) and the card's name."""
    cells_path, speed_path = results / f"vram_{card}.jsonl", results / f"sparse_head_{card}.json"
    cells = [json.loads(line) for line in cells_path.read_text().splitlines() if line.strip()] \
        if cells_path.is_file() else []
    speed = json.loads(speed_path.read_text()) if speed_path.is_file() else {}
    return cells, speed, speed.get("device") or (cells[0]["device"] if cells else "")
