"""Fit `trainer.memory.COEF` and `WORKSPACE_GIB` to measured peaks (least squares on relative error).

The estimate is linear in each coefficient, so the design matrix comes from the estimator itself:
one column per coefficient, evaluated with that coefficient at 1 and the others at 0. Fitted on
cells with batch <= 8 only (and the few gradient-checkpointing cells with the lean head or
dense-only, all of them); `bench/vram_validate.py --report` then checks every cell.

    python bench/fit_memory.py bench/results/vram_h100.jsonl
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.sizing import memory  # noqa: E402
from vram_validate import setup  # noqa: E402


def total(s) -> float:
    return sum(memory._peak(s)[0].values())


def main(path: str) -> None:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    cells = [r for r in rows if r["kind"] == "cell" and r["status"] == "ok"
             and (r["batch"] <= 8 or r["grad_ckpt"]) and not (r["grad_ckpt"] and r["head"] == "stock")]
    names = [(p, k) for p in ("amp", "fp32") for k in memory.COEF[p]]
    memory.ADAMW_TEMP = -1.0                                    # the backward peak, always
    zero = {p: {k: 0.0 for k in memory.COEF[p]} for p in memory.COEF}
    memory.COEF, memory.WORKSPACE_GIB = zero, 0.0
    base = np.array([total(setup(r)) for r in cells])
    columns = []
    for p, k in names:
        zero[p][k] = 1.0
        columns.append(np.array([total(setup(r)) for r in cells]) - base)
        zero[p][k] = 0.0
    columns.append(np.ones(len(cells)))                         # workspace, GiB
    a = np.stack(columns, axis=1)
    y = np.array([r["peak_gib"] for r in cells])
    # Non-negative least squares by elimination: a column that fits negative, or that no cell
    # measures (all zero), is dropped and the fit redone.
    keep = [i for i in range(a.shape[1]) if a[:, i].any()]
    while True:
        coef, *_ = np.linalg.lstsq(a[:, keep] / y[:, None], (y - base) / y, rcond=None)
        if (coef >= 0).all():
            break
        keep.pop(int(np.argmin(coef)))
    values = dict(zip(keep, coef))
    fitted = {p: {} for p in ("amp", "fp32")}
    for i, (p, k) in enumerate(names):
        fitted[p][k] = round(float(values.get(i, 0.0)), 1)
    # No fp32 cell uses checkpointing: the layer-boundary states it keeps are fp32 either way.
    for k in ("ckpt_layer", "ckpt_grads"):
        if names.index(("fp32", k)) not in values:
            fitted["fp32"][k] = fitted["amp"][k]
    coef = [values.get(len(columns) - 1, 0.0)]
    print(json.dumps({"COEF": fitted, "WORKSPACE_GIB": round(float(coef[-1]), 2), "cells": len(cells)}))


if __name__ == "__main__":
    main(sys.argv[1])
