"""Measured GPU memory of M3 training steps against `trainer.memory.estimate`.

A BGE-M3-shaped model with random weights through FlagEmbedding's own M3 model, full AdamW steps
(fp32 master weights, autocast for bf16), group size 8, query length 64, over modes x precision x
batch x passage length x sparse-head variant; a few cells with gradient checkpointing; and, for the
claims panel, the largest batch per mode at bf16 / 256 tokens. One JSON line per cell; a batch
larger than one that ran out of memory is recorded as `oom_inferred`, not run.

    python bench/vram_validate.py --out bench/results/vram_h100.jsonl      # on a GPU
    python bench/vram_validate.py --report bench/results/vram_h100.jsonl   # anywhere: error table
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.core.config import Mode  # noqa: E402

GROUP, QLEN = 8, 64
BATCHES, PLENS, PRECISIONS = (4, 8, 16, 32), (128, 256, 512), ("fp32", "bf16")
MAX_BATCH_SEARCH = 128


def variants():
    for mode in (Mode.ALL, Mode.HEADS, Mode.DENSE):
        for head in (("stock", "lean") if mode.unified_finetuning else ("lean",)):
            yield mode, head


def writer(out: Path):
    """`write(**row)`: appends the measured row, with this GPU's facts, to `out` and prints it."""
    import torch

    out.parent.mkdir(parents=True, exist_ok=True)
    facts = dict(device=torch.cuda.get_device_name(), device_gib=torch.cuda.mem_get_info()[1] / 2**30,
                 torch=torch.__version__, group_size=GROUP, query_len=QLEN)

    def write(**row):
        row.update(facts)
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    return write


def run(out: Path) -> None:
    import m3_gpu as g

    write = writer(out)
    for mode in (Mode.ALL, Mode.HEADS, Mode.DENSE):
        model = g.build(mode)
        opt = g.optimizer(model)
        for _, head in (v for v in variants() if v[0] is mode):
            model.__class__ = g.LeanSparseM3Model if head == "lean" and mode.unified_finetuning \
                else g.EncoderOnlyEmbedderM3Model
            for precision in PRECISIONS:
                for plen in PLENS:
                    oom = False
                    for batch in BATCHES:
                        cell = dict(kind="cell", mode=mode.value, head=head, precision=precision,
                                    batch=batch, passage_len=plen, grad_ckpt=False)
                        if oom:
                            write(**cell, status="oom_inferred")
                            continue
                        r = g.measure(model, opt, batch, group=GROUP, qlen=QLEN, plen=plen, precision=precision)
                        oom = r["status"] == "oom"
                        write(**cell, **r)
            if mode is not Mode.HEADS:
                model.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
                for batch in (8, 32):
                    r = g.measure(model, opt, batch, group=GROUP, qlen=QLEN, plen=256, precision="bf16")
                    write(kind="cell", mode=mode.value, head=head, precision="bf16", batch=batch,
                          passage_len=256, grad_ckpt=True, **r)
                model.model.gradient_checkpointing_disable()
            biggest = g.max_batch(model, opt, MAX_BATCH_SEARCH, group=GROUP, qlen=QLEN, plen=256, precision="bf16")
            write(kind="max_batch", mode=mode.value, head=head, precision="bf16", passage_len=256,
                  grad_ckpt=False, max_batch=biggest)
        del model, opt
        g.free()


# Held-out long grid (issue 16): none of these lengths was used to fit the coefficients.
LONG_BATCHES = {1024: (4, 16), 4096: (1, 4), 8192: (1, 2)}


# Padded batches (one sequence a token short): the attention mask transformers builds, with and
# without checkpointing: (mode, grad_ckpt, passage_len, batch).
PADDED = [("all", False, 1024, 4), ("all", False, 4096, 1), ("all", False, 8192, 1), ("all", True, 4096, 4),
          ("all", True, 8192, 1), ("all", True, 8192, 2), ("heads", False, 8192, 2), ("dense", False, 8192, 1)]


def run_padded(out: Path, budget_s: float = 1e9) -> None:
    import time

    import m3_gpu as g

    write, start = writer(out), time.perf_counter()
    for mode in (Mode.ALL, Mode.HEADS, Mode.DENSE):
        model = g.build(mode)
        opt = g.optimizer(model)
        for name, ckpt, plen, batch in PADDED:
            if name != mode.value:
                continue
            if ckpt:
                model.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            cell = dict(kind="cell", grid="padded", mode=mode.value, head="lean", precision="bf16", batch=batch,
                        passage_len=plen, grad_ckpt=ckpt, padded=True)
            r = ({"status": "skipped_time"} if time.perf_counter() - start > budget_s else
                 g.measure(model, opt, batch, steps=2, group=GROUP, qlen=QLEN, plen=plen, precision="bf16", padded=True))
            write(**cell, **r)
            if ckpt:
                model.model.gradient_checkpointing_disable()
        del model, opt
        g.free()


def run_long(out: Path, budget_s: float = 1e9) -> None:
    """Group 8, bf16, passages of 1k / 4k / 8k tokens, every mode, with and without gradient
    checkpointing (not for the frozen encoder, which keeps no encoder activations for backward)."""
    import time

    import m3_gpu as g

    write, start = writer(out), time.perf_counter()
    for mode in (Mode.ALL, Mode.HEADS, Mode.DENSE):
        model = g.build(mode)
        opt = g.optimizer(model)
        for ckpt in ((False,) if mode is Mode.HEADS else (False, True)):
            if ckpt:
                model.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            for plen, batches in LONG_BATCHES.items():
                oom = False
                for batch in batches:
                    cell = dict(kind="cell", grid="long", mode=mode.value, head="lean", precision="bf16", batch=batch,
                                passage_len=plen, grad_ckpt=ckpt)
                    if oom:
                        r = {"status": "oom_inferred"}
                    elif time.perf_counter() - start > budget_s:
                        r = {"status": "skipped_time"}
                    else:
                        r = g.measure(model, opt, batch, steps=2, group=GROUP, qlen=QLEN, plen=plen, precision="bf16")
                        oom = r["status"] == "oom"
                    write(**cell, **r)
            if ckpt:
                model.model.gradient_checkpointing_disable()
        del model, opt
        g.free()


def setup(row: dict, gpu_gib: float = 80.0):
    from trainer.sizing.memory import BGE_M3, Setup
    return Setup(shape=BGE_M3, mode=Mode(row["mode"]), batch=row.get("batch", 1), group_size=row["group_size"],
                 query_len=row["query_len"], passage_len=row["passage_len"], precision=row["precision"],
                 grad_ckpt=row["grad_ckpt"], sparse_head=row["head"], gpu_gib=gpu_gib, padded=row.get("padded", False))


def report(path: Path, gpu_gib: float, out_json: Path | None = None) -> dict:
    from trainer.sizing.memory import estimate
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    cells = [r for r in rows if r["kind"] == "cell" and r["status"] in ("ok", "oom", "oom_inferred")]
    if gpu_gib <= 0:                         # the card the cells ran on, as torch reported it
        gpu_gib = cells[0]["device_gib"]
    errors, held_out, wrong = [], [], []
    print(f"{'mode':5} {'head':5} {'prec':4} {'plen':>4} {'batch':>5} {'measured':>9} {'estimate':>9} {'error':>7}")
    for r in cells:
        est = estimate(setup(r, gpu_gib))
        measured = r.get("peak_gib")
        fits_measured = r["status"] == "ok"
        if fits_measured != est.fits:
            wrong.append(r)
        err = "" if measured is None else f"{(est.total_gib - measured) / measured:+.1%}"
        if measured is not None:
            errors.append(abs(est.total_gib - measured) / measured)
            if r["batch"] > 8 and not r["grad_ckpt"]:      # not used by bench/fit_memory.py
                held_out.append(errors[-1])
        shown = f"{measured:9.2f}" if measured is not None else f"{r['status']:>9}"
        head = "-" if r["mode"] == "dense" else r["head"]
        print(f"{r['mode']:5} {head:5} {r['precision']:4} {r['passage_len']:4} {r['batch']:5}"
              f"{' ckpt' if r['grad_ckpt'] else ''} {shown} {est.total_gib:9.2f} {err:>7}"
              f"{'  VERDICT WRONG' if fits_measured != est.fits else ''}")
    for r in (r for r in rows if r["kind"] == "max_batch"):
        capped = " (the search's limit)" if r["max_batch"] == MAX_BATCH_SEARCH else ""
        print(f"max batch {r['mode']}/{r['head']}: measured {r['max_batch']}{capped}, "
              f"estimated {estimate(setup(r, gpu_gib)).max_batch}")
    long_grid = any(r.get("grid") in ("long", "padded") for r in cells)
    if long_grid:        # every cell is held out: the fit saw passages of 512 tokens at most
        held_out = errors
    signed = [(estimate(setup(r, gpu_gib)).total_gib - r["peak_gib"]) / r["peak_gib"] for r in cells
              if r.get("peak_gib") is not None]
    summary = {"cells": len(cells), "measured": len(errors), "median_abs_error": statistics.median(errors),
               "worst_abs_error": max(errors), "worst_signed_error": max(signed, key=abs),
               "held_out_cells": len(held_out),
               "held_out_median_abs_error": statistics.median(held_out) if held_out else None,
               "held_out_worst_abs_error": max(held_out) if held_out else None,
               "verdicts": [{"mode": r["mode"], "passage_len": r["passage_len"], "batch": r["batch"],
                             "padded": r.get("padded", False),
                             "grad_ckpt": r["grad_ckpt"], "measured": r["status"],
                             "estimated": "fits" if estimate(setup(r, gpu_gib)).fits else "oom"} for r in cells]
               if long_grid else None,
               "verdicts_wrong": len(wrong), "gpu_gib": gpu_gib}
    if out_json:
        out_json.write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))
    return summary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, help="measure on this machine's GPU, one JSON line per cell")
    ap.add_argument("--report", type=Path, help="compare a results file with the estimator")
    ap.add_argument("--gpu-gib", type=float, default=80.0)
    ap.add_argument("--long", action="store_true", help="with --out: the held-out 1k/4k/8k-token grid instead")
    ap.add_argument("--padded", action="store_true", help="with --out: padded long batches (the attention mask)")
    ap.add_argument("--budget-s", type=float, default=1e9, help="--long: skip the cells left after this many seconds")
    ap.add_argument("--summary", type=Path, help="with --report: also write the summary JSON here")
    ns = ap.parse_args()
    if ns.out:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        if ns.padded:
            run_padded(ns.out, ns.budget_s)
        elif ns.long:
            run_long(ns.out, ns.budget_s)
        else:
            run(ns.out)
    if ns.report:
        report(ns.report, ns.gpu_gib, ns.summary)


if __name__ == "__main__":
    main()
