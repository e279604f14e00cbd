"""Command line: `python -m trainer {train,runs,metrics}` (see --help)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from .config import DEFAULT_MODEL, DEMO_DATA, Mode, RunConfig
from .store import Store

DEFAULT_RUNS_DIR = "runs"


def _train(ns) -> int:
    from . import worker

    cfg = RunConfig(mode=Mode(ns.mode), model=ns.model, train_data=ns.train,
                    eval_data=None if ns.eval == "none" else ns.eval, name=ns.name or "")
    changes = {k: v for k, v in dict(epochs=ns.epochs, max_steps=ns.max_steps, batch_size=ns.batch_size,
                                     learning_rate=ns.lr, group_size=ns.group_size).items() if v is not None}
    cfg = cfg.replace(**changes)
    store = Store(ns.runs_dir)
    run_id = store.create_run(cfg)
    print(run_id, flush=True)
    status = worker.run(store, run_id, progress=True)
    record = store.get_run(run_id)
    print(f"{run_id} {status}" + (f": {record.error}" if record.error else ""), file=sys.stderr)
    return 0 if status in ("completed", "stopped") else 1


def _runs(ns) -> int:
    runs = Store(ns.runs_dir).list_runs()
    if ns.json:
        out = []
        for r in runs:
            item = dataclasses.asdict(r)
            item["config"] = json.loads(r.config.to_json())
            out.append(item)
        print(json.dumps(out, indent=1))
    else:
        for r in runs:
            print(f"{r.id}  {r.status:<11} {r.mode:<6} {r.name}")
    return 0


def _metrics(ns) -> int:
    points = Store(ns.runs_dir).metrics(ns.run_id)
    if ns.json:
        print(json.dumps([p._asdict() for p in points]))
    else:
        for p in points:
            print(f"{p.step}\t{p.epoch}\t{p.name}\t{p.value:.6g}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer", description="M3 Studio training engine")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train in the foreground and print the run id")
    train.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.DENSE.value)
    train.add_argument("--model", default=DEFAULT_MODEL, help="local folder or hub id (default: embedded MiniLM)")
    train.add_argument("--train", default=DEMO_DATA, help="training JSONL (default: demo data)")
    train.add_argument("--eval", default=DEMO_DATA, help="BEIR-style folder, or 'none'")
    train.add_argument("--epochs", type=int)
    train.add_argument("--max-steps", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--group-size", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--name")
    train.set_defaults(func=_train)

    runs = sub.add_parser("runs", help="list runs")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(func=_runs)

    metrics = sub.add_parser("metrics", help="dump every metric point of a run")
    metrics.add_argument("run_id")
    metrics.add_argument("--json", action="store_true")
    metrics.set_defaults(func=_metrics)

    for p in (train, runs, metrics):
        p.add_argument("--runs-dir", default=DEFAULT_RUNS_DIR)
    ns = parser.parse_args(argv)
    return ns.func(ns)


if __name__ == "__main__":
    sys.exit(main())
