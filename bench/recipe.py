"""What the M3 recipe buys, per head, on a held-out test split the product makes itself.

For each dataset (a FlagEmbedding training file) and each variant below, one all-heads run through
the real worker (`trainer.engine.worker.run`): the product holds 10 % of the queries out for validation and
10 % for test (`eval_data="split"`, the same split for every variant), suggests the truncation
lengths from the data, and reports test MRR@10 / Recall@10 / nDCG@10 per head before and after.

    python bench/recipe.py --model default --out bench/results/recipe.json
    python bench/recipe.py --report bench/results/recipe.json      # the markdown table

Variants (one change each against `mined`; all but `pairs` train on the same file, so they share
the split and the test corpus — every passage of the file):
- given:        the file's own negatives (random ones, in the shared files), no mining
- mined:        every row's negatives replaced by mined ones (`mine="all"`: range 2-200, margin 0.05)
- pairs:        negatives stripped (pairs only), then mined: the path of a user with pairs alone; its
                test corpus is the positives only, so its "before" differs from the others'
- no_self_distill: mined, FlagEmbedding's self-distillation off
- heads_lr_x10: mined, the new sparse/ColBERT heads at 10x the encoder's learning rate
- lr_1e-5:      mined, learning rate 1e-5 (the seed's rule for < 10k rows) instead of --lr
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer.core.model_source import max_tokens  # noqa: E402
from trainer.core.config import SPLIT, Mode, RunConfig  # noqa: E402
from trainer.data import validate_train, write_jsonl  # noqa: E402
from trainer.data.token_lengths import suggest_lengths  # noqa: E402
from trainer.core.model_source import model_dir  # noqa: E402
from trainer.store import Store  # noqa: E402
from trainer.sizing.suggest import with_suggestions  # noqa: E402

DATA = Path(os.environ.get("M3_SHARED_DATA", ROOT.parent / "shared" / "data"))
DATASETS = {"cmrc2018": DATA / "cmrc2018" / "train.jsonl", "scifact": DATA / "scifact" / "train.jsonl"}
VARIANTS = {
    "given": dict(mine="off"),
    "mined": dict(mine="all"),
    "pairs": dict(mine="missing"),
    "no_self_distill": dict(mine="all", self_distill=False),
    "heads_lr_x10": dict(mine="all", heads_lr_scale=10.0),
    "lr_1e-5": dict(mine="all", learning_rate=1e-5),
}
# The demo: every default of `python -m trainer train --mode all` (the data's suggestions included),
# its own validation and test questions; one change per variant.
DEMO_VARIANTS = {
    "default": dict(),
    "no_self_distill": dict(self_distill=False),
    "heads_lr_x10": dict(heads_lr_scale=10.0),
    "heads_lr_x30": dict(heads_lr_scale=30.0),
    "heads_lr_x100": dict(heads_lr_scale=100.0),
    "sparse_uniform": dict(sparse_init="uniform"),
    "sparse_uniform_x10": dict(sparse_init="uniform", heads_lr_scale=10.0),
    "sparse_uniform_x100": dict(sparse_init="uniform", heads_lr_scale=100.0),
    "heads_lr_x300": dict(heads_lr_scale=300.0),
    "heads_lr_x1000": dict(heads_lr_scale=1000.0),
    "lr_1e-5": dict(learning_rate=1e-5),
}
HEADS = ("dense", "sparse", "colbert", "hybrid")
METRICS = ("mrr@10", "recall@10", "ndcg@10")


def run_one(store: Store, cfg: RunConfig) -> dict:
    from trainer.engine import worker

    run_id = store.create_run(cfg)
    started = time.perf_counter()
    status = worker.run(store, run_id)
    seconds = time.perf_counter() - started
    points = store.metrics(run_id)
    first_step = min(p.step for p in points if p.name.startswith("test."))
    out = {"status": status, "error": store.get_run(run_id).error, "seconds": round(seconds, 1), "test": {}, "val": {}}
    for p in points:
        if p.name.endswith("@10") and p.name.count(".") == 1:      # validation: first and last evaluation
            out["val"].setdefault(p.name, {}).setdefault("before", round(p.value, 4))
            out["val"][p.name]["after"] = round(p.value, 4)
        if p.name == "test.queries":
            out["heldout_test_queries"] = p.value
        elif p.name.startswith("test.") and p.name.count(".") == 2:
            side = "before" if p.step == first_step else "after"
            out["test"].setdefault(p.name[5:], {})[side] = round(p.value, 4)
        elif p.step == 0 and p.name in ("train_rows", "heldout_test_queries", "heldout_val_queries",
                                         "mined_rows", "mined_short_rows", "mined_dropped_rows", "mining_seconds"):
            out[p.name] = p.value
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--seeds", default="42")
    parser.add_argument("--precision", default="auto", help="fp32 on a GPU gives what a CPU run computes")
    parser.add_argument("--out")
    parser.add_argument("--report", help="print the markdown table of a results file")
    ns = parser.parse_args()
    if ns.report:
        print(report(json.loads(Path(ns.report).read_text())))
        return
    import torch

    results = {"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
               "torch": torch.__version__, "model": ns.model, "epochs": ns.epochs, "batch": ns.batch, "lr": ns.lr, "runs": {}}
    work = Path(tempfile.mkdtemp(prefix="recipe-"))
    store = Store(work / "runs")
    limit = max_tokens(model_dir(ns.model))
    for name in ns.datasets.split(","):
        if name == "demo":
            base = with_suggestions(RunConfig(mode=Mode.ALL, model=ns.model, precision=ns.precision), set())
            for seed in (int(x) for x in ns.seeds.split(",")):
                for variant in ns.variants.split(",") if ns.variants != ",".join(VARIANTS) else DEMO_VARIANTS:
                    change = DEMO_VARIANTS[variant]
                    cfg = base.replace(name=f"demo/{variant}", seed=seed, **change)
                    result = run_one(store, cfg)
                    result.update(seed=seed, learning_rate=cfg.learning_rate, heads_lr_scale=cfg.heads_lr_scale)
                    results["runs"][f"demo/{variant}/seed{seed}"] = result
                    print(json.dumps({f"demo/{variant}/seed{seed}": result}), flush=True)
                    if ns.out:
                        Path(ns.out).write_text(json.dumps(results, indent=1))
            continue
        rows = validate_train(DATASETS[name], 1).rows
        pairs = work / f"{name}-pairs.jsonl"
        write_jsonl(pairs, [{"query": r["query"], "pos": r["pos"]} for r in rows])
        lengths = suggest_lengths(rows, ns.model, limit)
        base = RunConfig(mode=Mode.ALL, model=ns.model, train_data=str(DATASETS[name]), eval_data=SPLIT,
                         epochs=ns.epochs, batch_size=ns.batch, group_size=8, learning_rate=ns.lr, precision=ns.precision,
                         query_max_len=lengths.query_max_len, passage_max_len=lengths.passage_max_len)
        for seed in (int(x) for x in ns.seeds.split(",")):
            for variant in ns.variants.split(","):
                cfg = base.replace(name=f"{name}/{variant}", seed=seed, **VARIANTS[variant])
                if variant == "pairs":
                    cfg = cfg.replace(train_data=str(pairs))
                result = run_one(store, cfg)
                result.update(seed=seed, query_max_len=cfg.query_max_len, passage_max_len=cfg.passage_max_len,
                              learning_rate=cfg.learning_rate)
                results["runs"][f"{name}/{variant}/seed{seed}"] = result
                print(json.dumps({f"{name}/{variant}/seed{seed}": result}), flush=True)
                if ns.out:
                    Path(ns.out).write_text(json.dumps(results, indent=1))
    print(report(results))


def _mean_change(runs: list[dict], split: str, head: str) -> str:
    """'before → after (change)' of a head's MRR@10 on a split, averaged over the runs (seeds)."""
    vals = [r[split].get(f"{head}.mrr@10", {}) for r in runs]
    before = sum(v.get("before", float("nan")) for v in vals) / len(vals)
    after = sum(v.get("after", float("nan")) for v in vals) / len(vals)
    return f"{before:.3f} → {after:.3f} ({after - before:+.3f})"


def report(results: dict) -> str:
    """Test MRR@10 before → after per head, the mean over seeds of each dataset/variant."""
    lines = [f"device: {results['device']}, model: {results['model']}, all heads; shared datasets: "
             f"{results['epochs']} epochs, batch {results['batch']}, group 8, lr {results.get('lr', 1e-5):g}; demo: every "
             "default of `train --mode all`; held-out test MRR@10 before → after (mean over seeds)", "",
             "| dataset / variant | seeds | test queries | " + " | ".join(HEADS) + " |",
             "|---|---|---|" + "---|" * len(HEADS)]
    groups: dict[str, list[dict]] = {}
    for name, r in results["runs"].items():
        groups.setdefault(name.split("/seed")[0], []).append(r)
    for name, runs in groups.items():
        lines.append(f"| {name} | {len(runs)} | {int(runs[0].get('heldout_test_queries', 0))} | "
                     + " | ".join(_mean_change(runs, "test", head) for head in HEADS) + " |")
        if name.startswith("demo/"):
            lines.append(f"| {name} (validation) | {len(runs)} | {runs[0].get('val_queries', 36)} | "
                         + " | ".join(_mean_change(runs, "val", head) for head in HEADS) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
