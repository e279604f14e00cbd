"""Command line: `python -m trainer {train,runs,metrics,vram,export,merge,merge-curve}` (see --help)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from .config import DEFAULT_MODEL, DEMO_DATA, Mode, RunConfig
from .store import WAITING, Store

DEFAULT_RUNS_DIR = "runs"


def modes(text: str) -> list[Mode]:
    """`all`, or several in the order to train them: `all,heads,dense`."""
    try:
        return [Mode(m.strip()) for m in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: modes are {', '.join(m.value for m in Mode)}, comma-separated")


def _train_queue(store: Store, configs: list[RunConfig]) -> int:
    """Several modes, one after another, as queued runs in the store (the dashboard shows the queue;
    a run another process is training first is waited for)."""
    from . import launch, worker

    launch.recover(store)
    ids = [store.create_run(cfg, status=WAITING) for cfg in configs]
    print(" ".join(ids), flush=True)
    failed = 0
    for run_id in ids:
        while store.take_waiting([run_id]) is None:
            if not any(r.id == run_id and r.status == WAITING for r in store.list_runs()):
                break                                        # removed from the queue meanwhile
            time.sleep(5)
        else:
            status = worker.run(store, run_id, progress=True)
            print(f"{run_id} {status}", file=sys.stderr)
            failed += status not in ("completed", "stopped")
    return 1 if failed else 0


def _train(ns) -> int:
    from . import worker

    cfg = RunConfig(mode=ns.mode[0], model=ns.model, train_data=ns.train,
                    eval_data=None if ns.eval == "none" else ns.eval, name=ns.name or "")
    changes = {k: v for k, v in dict(epochs=ns.epochs, max_steps=ns.max_steps, batch_size=ns.batch_size,
                                     learning_rate=ns.lr, group_size=ns.group_size).items() if v is not None}
    cfg = cfg.replace(**changes)
    store = Store(ns.runs_dir)
    if len(ns.mode) > 1:
        return _train_queue(store, [cfg.replace(mode=m) for m in ns.mode])
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


def _vram(ns) -> int:
    from .memory import BUILT_IN, Setup, estimate
    from .models import model_shape

    try:
        setup = Setup(shape=model_shape(ns.model), mode=Mode(ns.mode), batch=ns.batch, group_size=ns.group_size,
                      query_len=ns.query_len, passage_len=ns.passage_len, precision=ns.precision,
                      grad_ckpt=ns.grad_ckpt, sparse_head=ns.sparse_head, gpu_gib=ns.gpu_gib, num_gpus=ns.gpus)
        result = estimate(setup).to_dict()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if ns.measure:
        from .models import resolve_model
        from .vram_probe import probe

        path = None if ns.model in BUILT_IN else resolve_model(ns.model)
        result["measured"] = probe(Mode(ns.mode), ns.batch, head=ns.sparse_head, grad_ckpt=ns.grad_ckpt,
                                   model_path=path, group=ns.group_size, qlen=ns.query_len,
                                   plen=ns.passage_len, precision=ns.precision)
    if ns.json:
        print(json.dumps(result))
    else:
        for name, gib in result["breakdown"].items():
            print(f"{name:<12}{gib:8.2f} GiB")
        print(f"{'total':<12}{result['total_gib']:8.2f} GiB  (+{result['headroom_gib']:.2f} headroom; "
              f"{result['usable_gib']:.1f} GiB usable: {'fits' if result['fits'] else 'does NOT fit'}; "
              f"largest batch {result['max_batch']})")
        if "measured" in result:
            print(f"measured: {result['measured']}")
    return 0


def _export(ns) -> int:
    from .export import export

    try:
        written = export(Store(ns.runs_dir), ns.run_id, ns.out, zip=ns.zip, onnx=ns.onnx)
    except (KeyError, FileNotFoundError, FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(written))
    return 0


def add_export(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("export", help="write a run's model as a folder that sentence-transformers and "
                                      "FlagEmbedding both load (model card, both heads, optional zip / ONNX)")
    p.add_argument("run_id")
    p.add_argument("--out", required=True, help="folder to write (an earlier export there is replaced)")
    p.add_argument("--zip", action="store_true", help="also write OUT.zip")
    p.add_argument("--onnx", action="store_true", help="also write onnx/model.onnx (sentence-transformers' ONNX backend)")
    p.set_defaults(func=_export)
    return p


def _merge(ns) -> int:
    from .merge import merge

    try:
        written = merge(Store(ns.runs_dir), ns.run_id, ns.weight, ns.out, zip=ns.zip)
    except (KeyError, FileNotFoundError, FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(written))
    return 0


def add_merge(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("merge", help="mix a run's model with its base (LM-Cocktail; heads averaged by the same weight)")
    p.add_argument("run_id")
    p.add_argument("--weight", type=float, required=True, help="the fine-tuned model's share, 0 (base) to 1 (fine-tuned)")
    p.add_argument("--out", required=True, help="folder to write (an earlier export there is replaced)")
    p.add_argument("--zip", action="store_true", help="also write OUT.zip")
    p.set_defaults(func=_merge)
    return p


def _merge_curve(ns) -> int:
    from .merge import curve

    try:
        result = curve(Store(ns.runs_dir), ns.run_id, [float(w) for w in ns.weights.split(",")])
    except (KeyError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


def add_merge_curve(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("merge-curve", help="score merges at a few weights: the run's validation set vs an "
                                           "out-of-domain check (SciFact slice); kept in the run folder")
    p.add_argument("run_id")
    p.add_argument("--weights", default="0,0.25,0.5,0.75,1", help="comma-separated, 0 (base) to 1 (fine-tuned)")
    p.set_defaults(func=_merge_curve)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer", description="M3 Studio training engine")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train in the foreground and print the run id")
    train.add_argument("--mode", type=modes, default=[Mode.DENSE], help="all|heads|dense, or several to train "
                       "one after another: all,heads,dense")
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

    vram = sub.add_parser("vram", help="estimate GPU memory of a training step (--measure: also run it)")
    vram.add_argument("--model", default="bge-m3", help="bge-m3, 'default' (embedded) or a local folder")
    vram.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.ALL.value)
    vram.add_argument("--batch", type=int, default=8, help="per-device batch (queries)")
    vram.add_argument("--group-size", type=int, default=8)
    vram.add_argument("--query-len", type=int, default=64)
    vram.add_argument("--passage-len", type=int, default=256)
    vram.add_argument("--precision", choices=["fp32", "fp16", "bf16"], default="bf16")
    vram.add_argument("--grad-ckpt", action="store_true", help="gradient checkpointing")
    vram.add_argument("--sparse-head", choices=["lean", "stock"], default="lean")
    vram.add_argument("--gpu-gib", type=float, default=80.0, help="card size: 24, 40, 48, 80 (GB) or GiB")
    vram.add_argument("--gpus", type=int, default=1)
    vram.add_argument("--measure", action="store_true", help="also run a few real steps on this GPU")
    vram.add_argument("--json", action="store_true")
    vram.set_defaults(func=_vram)

    export, merge, merge_curve = add_export(sub), add_merge(sub), add_merge_curve(sub)

    for p in (train, runs, metrics, export, merge, merge_curve):
        p.add_argument("--runs-dir", default=DEFAULT_RUNS_DIR)
    ns = parser.parse_args(argv)
    return ns.func(ns)


if __name__ == "__main__":
    sys.exit(main())
