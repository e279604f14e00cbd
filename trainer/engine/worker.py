"""The training worker: `python -m trainer.engine.worker RUN_ID --runs-dir DIR`.

It owns the model and is the run's writer in the store: status, pid, metric points, the error in
words. The dashboard starts it as a child process (trainer.launch), so a crash or an OOM here never
takes the dashboard down and GPU memory is freed when it exits.
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from trainer.core.config import MINE_MISSING, SPLIT, RunConfig, parse_range
from trainer.data import scan
from trainer.data import DataError, Problem, Report, Source, iter_train, load_eval, write_jsonl_atomic
from trainer.core.config import resolve_train
from trainer.core.early_stop import EarlyStopper
from trainer.planning import plan
from trainer.core import redact
from trainer.core.model_source import fetch, is_hub_id, model_dir, model_notes, run_pooling
from trainer.core.metrics import Metric
from trainer.store.run_folder import BUCKETS, LENGTH_PLAN, RunFolder
from trainer.data.split import passages, problems as split_problems, split_rows, write_beir
from trainer.store import COMPLETED, FAILED, INTERRUPTED, LIVE, RUNNING, STOPPED, Store


def largest_batch(cfg: RunConfig) -> str:
    """What the memory estimator says fits this machine's GPU (or gpus.DEFAULT_CARD_GIB's card when there is none)."""
    from trainer.core import gpus
    from trainer.sizing.memory import estimate, setup_for
    from trainer.sizing.memory import model_shape

    found = gpus.detect()
    card = gpus.card_gib()
    try:
        est = estimate(setup_for(cfg, model_shape(cfg.model), card, found[0].bf16 if found else True))
    except ValueError:
        return "The memory estimator does not know this model's shape."
    where = f"this {card:.0f} GiB GPU" if found else f"an {card:.0f} GB GPU (none is visible here)"
    return (f"The memory estimator puts this step at {est.total_gib:.1f} GiB and the largest batch that fits "
            f"{where} at {est.max_batch}.")


def describe_error(exc: BaseException, cfg: RunConfig, folder: RunFolder | None = None) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if "out of memory" in text.lower() or type(exc).__name__ == "OutOfMemoryError":
        return (f"Out of memory at batch size {cfg.batch_size}, group size {cfg.group_size}, "
                f"passage length {cfg.passage_max_len} ({cfg.mode.value} mode). {largest_batch(cfg)} Lower the "
                f"batch size or the passage length, or use the lean sparse head. Details: {text[:500]}")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        kept = folder.last_checkpoint() if folder else None
        return (f"Disk full while saving a checkpoint: {exc}. "
                + (f"The last complete checkpoint, {kept}, is intact: free some space, then resume the run."
                   if kept else "No complete checkpoint was saved before: free some space and start again."))
    if isinstance(exc, DataError):
        return f"Invalid training or evaluation data:\n{exc}"
    return text[:4000]


def tracking(report_to: str, folder: RunFolder) -> None:
    """Opt-in TensorBoard / MLflow through HF's own callbacks, their files inside the run folder (the plan's
    logging_dir is tensorboard/): a local MLflow file store in mlruns/ (no server; MLflow 3 keeps that store
    in maintenance mode and asks for this opt-in)."""
    if report_to == "tensorboard":       # transformers 5.15+ (no logging_dir argument) reads the folder here
        os.environ.setdefault("TENSORBOARD_LOGGING_DIR", str(folder.tensorboard))
    if report_to == "mlflow":
        os.environ["MLFLOW_TRACKING_URI"] = folder.mlruns.as_uri()
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        os.environ.setdefault("MLFLOW_EXPERIMENT_NAME", "m3-studio")


@dataclass
class Prepared:
    train_file: Path
    rows: int
    val: Optional[Path]       # BEIR folder for validation (early stopping), or None
    test: Optional[Path]      # BEIR folder never used for a decision: before/after only, or None
    facts: dict               # what preparing did, stored as step-0 metric points


def _mine(cfg: RunConfig, rows: list[dict], folder: Path) -> tuple[list[dict], dict]:
    """Negatives for the rows that need them, mined with the run's base model (see trainer.engine.mining)."""
    from trainer.engine.mining import MineSettings, mine, st_encoder

    low, high = parse_range(cfg.mine_range)
    settings = MineSettings(negatives=cfg.mine_negatives, range_min=low, range_max=high, margin=cfg.mine_margin,
                            seed=cfg.seed, query_max_len=cfg.query_max_len, passage_max_len=cfg.passage_max_len)
    print(f"mining hard negatives ({cfg.mine}) with {cfg.model}: {settings}", flush=True)
    mined = mine(rows, st_encoder(str(folder), run_pooling(cfg)), settings,
                 only_missing=cfg.mine == MINE_MISSING)
    kept = [r for r in mined.rows if r.get("neg")]
    print(f"mined: {mined.stats}; {len(rows) - len(kept)} rows left without a negative are not trained on",
          flush=True)
    return kept, {"mined_rows": mined.stats["mined_rows"], "mined_short_rows": mined.stats["short_rows"],
                  "mined_dropped_rows": len(rows) - len(kept), "mining_seconds": mined.stats["seconds"]}


def _changed(source: Path, checked: dict, now: str) -> DataError:
    return DataError([Problem(str(source), 0, "", f"the training file changed since the run was checked ({now}); "
                              "it was not trained on: start the run again, so the file is checked anew")])


def _verify_version(source: Path, checked: Optional[dict]) -> None:
    """Refuse a training file whose size or modification time differ from the version the run's preflight
    checked (the checksum is compared as the file is read)."""
    if not checked:
        return
    version = scan.Version.of(source)
    if version is None:
        raise _changed(source, checked, "it is gone")
    if (version.size, version.mtime_ns) != (checked["size"], checked["mtime_ns"]):
        raise _changed(source, checked, f"{checked['size']:,} bytes then, {version.size:,} now; modified "
                       f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(version.mtime_ns / 1e9))}")


def _verify_checksum(source: Path, checked: Optional[dict], digest: str) -> None:
    if checked and digest != checked["checksum"]:
        raise _changed(source, checked, "same size and time, other content: its checksum differs")


def prepare_data(store: Store, run_id: str, cfg: RunConfig, folder: RunFolder, main: bool = True,
                 resume: bool = False, model_folder: Optional[Path] = None) -> Prepared:
    """The file the run trains on. A valid JSONL file that needs nothing done is trained on where it is
    (FlagEmbedding's `datasets` loading reads it), after its checksum is compared with the one the
    preflight recorded. Otherwise the rows are streamed into the run folder (bad rows skipped, CSV/TSV
    converted), or, to hold out validation/test queries (eval_data == SPLIT) or mine negatives, read
    into memory here (in the worker, never the dashboard) and written there. Every rank writes the
    same rows and swaps them in atomically, so none reads a half-written file. A resumed run trains on
    the rows it prepared before (or on the user's file again, checked again)."""
    train_file = folder.train_file
    split = cfg.eval_data == SPLIT
    val, test = folder.validation(cfg.eval_data), folder.test(cfg.eval_data)
    if resume and train_file.is_file():
        return Prepared(train_file, sum(1 for _ in train_file.open(encoding="utf-8")), val, test, {})
    source = resolve_train(cfg.train_data)
    checked = store.run_file(run_id)
    _verify_version(source, checked)
    data = scan.ensure(store, source)              # the preflight's scan, from the store
    if data.error_count and not (cfg.skip_bad_rows and data.rows):
        raise DataError(data.error_problems(), data.error_count)
    if main:
        store.set_skipped_rows(run_id, data.bad_rows)
    needs_mining = cfg.mines(data.without_negatives)
    if cfg.short_of_negatives(data.without_negatives) and not split:
        raise DataError([Problem(str(source), 0, "neg", "rows without negatives and mining is off: turn mining "
                                 "on, or use group size 1 (in-batch negatives only)")])
    if plan.trains_in_place(cfg, data):
        with Source(source) as whole:
            _verify_checksum(source, checked, whole.checksum())
        print(f"training on {source} as it is ({data.rows:,} rows, checksum {data.checksum})", flush=True)
        return Prepared(source, data.rows, val, test, {"train_file_direct": 1})
    facts: dict = {"train_file_direct": 0}
    folder.root.mkdir(parents=True, exist_ok=True)
    with Source(source, drain=True) as stream:
        rows = (row for _, row in iter_train(source, Report(keep=0), 1, stream) if row is not None)
        if not split and not needs_mining:         # stream the valid rows into the run folder
            partial = train_file.with_name(f"{train_file.name}.{os.getpid()}.partial")
            count = 0
            with open(partial, "w", encoding="utf-8") as out:
                for row in rows:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    count += 1
        else:
            rows = list(rows)
    try:
        _verify_checksum(source, checked, stream.checksum())
    except DataError:
        if not split and not needs_mining:
            partial.unlink(missing_ok=True)
        raise
    if not split and not needs_mining:
        partial.replace(train_file)
        return Prepared(train_file, count, val, test, facts)
    if split:
        held = split_rows(rows, cfg.val_fraction, cfg.test_fraction, cfg.seed)
        why = split_problems(held, len(rows))
        if why:
            raise DataError([Problem(str(source), 0, "", w) for w in why])
        if main:
            corpus = passages(rows)
            write_beir(val, held.val, corpus)
            write_beir(test, held.test, corpus)
        rows = held.train
        facts.update(heldout_val_queries=len({r["query"] for r in held.val}),
                     heldout_test_queries=len({r["query"] for r in held.test}))
    needs_mining = cfg.mines(int(any(not r.get("neg") for r in rows)))
    if needs_mining:
        rows, mined = _mine(cfg, rows, model_folder or model_dir(cfg.model))
        facts.update(mined)
    elif cfg.group_size > 1 and any(not r.get("neg") for r in rows):
        raise DataError([Problem(str(source), 0, "neg", "rows without negatives and mining is off: turn mining "
                                 "on, or use group size 1 (in-batch negatives only)")])
    write_jsonl_atomic(train_file, rows)
    return Prepared(train_file, len(rows), val, test, facts)


def length_buckets(cfg: RunConfig, data: Prepared, run_dir: Path, folder: Path, precision: str, world: int,
                   resume: bool = False):
    """With length buckets on: the plan (kept in the run folder as length_plan.json, the length each
    bucket truncates to included) and one training file per bucket, each row carrying its bucket's
    batch size. A resumed run keeps the plan it started with."""
    from trainer.sizing import buckets

    plan_path, bucket_dir = run_dir / LENGTH_PLAN, run_dir / BUCKETS
    if resume and plan_path.is_file():
        lengths = buckets.from_dict(buckets.load(plan_path))
        files = [buckets.bucket_file(bucket_dir, b) for b in lengths.buckets]
        if all(f.is_file() for f in files):
            return lengths, files
    rows = [json.loads(line) for line in data.train_file.open(encoding="utf-8") if line.strip()]
    lengths = buckets.length_plan_for_run(cfg, rows, gpu_gib=buckets.card_gib_for(cfg), precision=precision,
                                          world=world, source=str(data.train_file), model_folder=str(folder))
    files = buckets.write_bucket_files(lengths, rows, bucket_dir)
    buckets.save(lengths, plan_path)
    for b in lengths.buckets:
        print(f"length bucket {b.min_len}-{b.max_len} tokens: {b.rows} rows, batch {b.batch_size}, "
              f"checkpointing {'on' if b.grad_ckpt else 'off'}, estimate {b.estimate_gib} GiB", flush=True)
    return lengths, files


def _offline(cfg: Optional[RunConfig]) -> None:
    """A local model needs no hub; never let a library reach for one (read when they are imported)."""
    if cfg is not None and not is_hub_id(cfg.model):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def _local_model(cfg: RunConfig, main: bool) -> Path:
    """The model's folder on this machine (a hub id's cache snapshot, fetched when the preflight saw the hub
    answer)."""
    _offline(cfg)
    folder = model_dir(cfg.model)
    if folder is None:          # a hub id not in the cache (preflight saw the hub answer)
        print(f"note: {model_notes(cfg)[0].text}", flush=True)
        folder = fetch(cfg.model, HUB_TOKEN)
    if main:
        for note in model_notes(cfg):
            print(f"note: {note.text}", flush=True)
    return folder


def make_plan(store: Store, run_id: str, cfg: RunConfig, run_folder: RunFolder, folder: Path, world: int,
              resume: bool) -> plan.Plan:
    """Rank 0: prepare the data (split, mining, length buckets), complete the run's plan (trainer.plan.make)
    with what preparing found and this process's view of the device, and store it in the run folder for
    every rank and page to read. A resumed run keeps the plan it started with."""
    if resume:
        kept = plan.load(run_folder.plan)
        if kept is not None and kept.prepared and all(Path(f).is_file() for f in kept.train_files):
            return kept
    data = prepare_data(store, run_id, cfg, run_folder, True, resume, folder)
    from trainer.engine import training  # torch and FlagEmbedding load only after the checks above

    precision = training.resolve_precision(cfg.precision)
    length_plan, bucket_files = None, None
    if cfg.buckets_on:
        length_plan, bucket_files = length_buckets(cfg, data, run_folder.root, folder, precision, world, resume)
    nproc = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    made = plan.make(cfg, run_folder, run_id, train_file=str(data.train_file), rows=data.rows, precision=precision,
                      cuda=training.torch.cuda.is_available(), nproc_per_node=nproc, nnodes=max(1, world // nproc),
                      length_plan=length_plan, bucket_files=[str(f) for f in bucket_files or []], prepared=True)
    plan.save(made, run_folder)
    if not resume:
        facts = dict(data.facts)
        if length_plan is not None:
            facts.update(length_buckets=len(length_plan.buckets), longest_bucket_tokens=length_plan.longest)
        if not training.torch.cuda.is_available():
            facts[Metric.THREADS] = training.torch.get_num_threads()
        store.add_metrics(run_id, 0, 0.0, {Metric.TOTAL_STEPS: made.total_steps, Metric.WARMUP_STEPS: made.warmup_steps,
                                           Metric.TRAIN_ROWS: made.rows, **facts})
    return made


def run(store: Optional[Store], run_id: str, progress: bool = False, extra_callbacks=(), resume: bool = False,
        plan_file: Optional[Path] = None) -> str:
    """Train one run to its end (with `resume`, from its last checkpoint); returns the final status.
    Tests pass extra callbacks to watch. Without a store (`store` None: a rank on a machine that does not
    hold it), the run's plan file `plan_file` is all this rank reads; rank 0 always runs by the store."""
    # Under torchrun every rank runs this; rank 0 alone prepares the data, writes the plan, status and metrics.
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    main = rank == 0
    if store is None and main:
        raise SystemExit("rank 0 runs on the machine that holds the run store (--runs-dir): it prepares the data "
                         "and writes the run's status and metrics")
    record = store.get_run(run_id) if store is not None else None
    cfg = record.config if record is not None else None
    run_folder = record.folder if record is not None else RunFolder(Path(plan_file).parent)
    metrics = None
    if main:
        if world == 1:     # under torchrun the launcher recorded torchrun's own pid
            store.set_pid(run_id, os.getpid())
        store.set_status(run_id, RUNNING)
    try:
        planned, folder = _this_ranks_plan(store, run_id, cfg, run_folder, world, main, resume)
        cfg = planned.run_config
        if cfg.buckets_on or cfg.unpadded:
            # Buckets and unpadded chunks change the step's shapes: expandable segments keep the allocator
            # from fragmenting (read when CUDA first allocates, which is later in this process).
            os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True")
        # Rank 0 alone evaluates (the split's folders are written by it); its stop decision is broadcast.
        evalset = load_eval(Path(planned.validation)) if planned.validation and main else None
        testset = load_eval(Path(planned.test)) if planned.test and main and cfg.held_out_test else None

        from trainer.engine import training  # torch and FlagEmbedding load only after the checks above
        from trainer.engine.callbacks import StopWatch, StoreMetrics

        bucket_steps = None
        if planned.length_plan:
            from trainer.sizing import buckets
            length_plan = buckets.from_dict(buckets.load(Path(planned.length_plan)))
            bucket_steps = training.BucketSteps([b.to_dict() for b in length_plan.buckets])
        args = _run_arguments(planned, folder, run_folder, run_id, resume)
        tracking(cfg.report_to, run_folder)
        print(f"rank {rank}/{world}: training {planned.rows} rows", flush=True)
        samples = (lambda: bucket_steps.queries * world) if bucket_steps else cfg.batch_size * world
        metrics = StoreMetrics(store, run_id, samples)
        # One process stops within seconds of the click (StopWatch cuts the step in flight); several meet first.
        watch = StopWatch(store, run_id) if world == 1 else None
        callbacks = _callbacks(store, run_id, cfg, metrics, watch, evalset, testset, extra_callbacks)
        outcome = training.train(args, callbacks=callbacks, progress=progress, bucket_steps=bucket_steps,
                                 record=run_folder.arguments if main else None, **planned.studio)
        if bucket_steps is not None and main:
            from trainer.sizing import buckets
            buckets.save(length_plan, Path(planned.length_plan), {"measured": bucket_steps.measured()})
        status = STOPPED if outcome.stopped_by_user else COMPLETED
        note = f"early stopped at epoch {outcome.epoch:g}" if outcome.early_stopped else None
        if watch is not None and watch.skipped:
            note = (f"stopped at epoch {outcome.epoch:.2f}; the saved model was not scored again after the stop "
                    "(its scores are from the last validation)")
        if main:
            store.set_status(run_id, status, error=note)
        return status
    except KeyboardInterrupt:
        if metrics is not None:
            metrics.close()       # the points already gathered reach the store first
        if store is not None:
            store.set_status(run_id, INTERRUPTED, error="interrupted (Ctrl-C or SIGINT)", only_if=LIVE)
        return INTERRUPTED
    except Exception as exc:  # the run fails, with the reason in words; the dashboard lives on
        traceback.print_exc()
        if metrics is not None:
            metrics.close()
        where = f"rank {rank} of {world}: " if world > 1 else ""
        if store is not None:
            store.set_status(run_id, FAILED, error=where + describe_error(exc, cfg or RunConfig(), run_folder),
                             only_if=LIVE)
        return FAILED


def _this_ranks_plan(store, run_id: str, cfg: Optional[RunConfig], run_folder: RunFolder, world: int, main: bool,
                     resume: bool) -> tuple[plan.Plan, Path]:
    """Rank 0 prepares the data and completes the plan; the other ranks load torch and FlagEmbedding meanwhile
    (the config: the store's, or the plan made at creation), then read rank 0's completed plan: nothing re-derived.
    Returns the plan and the model's folder on this machine."""
    if main:
        run_folder.root.mkdir(parents=True, exist_ok=True)
        folder = _local_model(cfg, main)
        return make_plan(store, run_id, cfg, run_folder, folder, world, resume), folder
    _offline(cfg or getattr(plan.load(run_folder.plan), "run_config", None))
    from trainer.engine import training  # noqa: F401
    planned = plan.wait_prepared(run_folder.plan)
    return planned, _local_model(planned.run_config, main)


def _run_arguments(planned: plan.Plan, folder: Path, run_folder: RunFolder, run_id: str, resume: bool) -> dict:
    """The plan's arguments with this machine's model files (a hub id's cache snapshot: no library asks the hub
    for updates; the plan and the equivalent command keep the name the user typed) and the checkpoint resumed."""
    args = dict(planned.args, model_name_or_path=str(folder))
    checkpoint = run_folder.last_checkpoint() if resume else None
    if resume and checkpoint is None:
        raise FileNotFoundError(f"run {run_id} has no complete checkpoint to resume from")
    args["resume_from_checkpoint"] = str(checkpoint) if checkpoint else None
    return args


def _callbacks(store, run_id: str, cfg: RunConfig, metrics, watch, evalset, testset, extra=()) -> list:
    """The run's callbacks, in the order they must run: the points, the validation (with early stopping) and the
    held-out test, the stop watch after them (their end decides with it), the caller's, and the ranks' meeting."""
    from trainer.engine.callbacks import DropPassages, HeldOutTest, SyncStop, Validation
    from trainer.engine.evaluate import PassageCache

    passages = PassageCache()         # validation and test share a corpus: encoded once per step
    callbacks = [metrics, DropPassages(passages)]
    if evalset is not None:
        stopper = EarlyStopper(cfg.early_stopping_patience, cfg.early_stopping_min_epochs)
        callbacks.append(Validation(store, run_id, evalset, cfg.mode.main_score, cfg.query_max_len,
                                    cfg.passage_max_len, stopper, cfg.eval_every_steps, passages, watch))
    if testset is not None:
        callbacks.append(HeldOutTest(store, run_id, testset, cfg.query_max_len, cfg.passage_max_len, passages, watch))
    if watch is not None:
        callbacks.append(watch)
    return [*callbacks, *extra, SyncStop(metrics)]


HUB_TOKEN: Optional[str] = None        # used only to download the model (trainer.redact)


def main(argv: list[str] | None = None) -> int:
    global HUB_TOKEN
    # Out of the environment before anything reads it: FlagEmbedding's model arguments pick HF_TOKEN up and log it
    HUB_TOKEN = os.environ.pop(redact.WORKER_HUB_TOKEN, None)
    for name in list(redact.secret_vars()):
        os.environ.pop(name)
    parser = argparse.ArgumentParser(prog="python -m trainer.engine.worker")
    parser.add_argument("run_id")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--runs-dir", help="the run store's folder: on the machine that holds it (rank 0's)")
    where.add_argument("--plan", help="the run's plan file (RUN_FOLDER/plan.json on a shared filesystem): on "
                       "another machine, which never opens the store")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    ns = parser.parse_args(argv)
    store = Store(ns.runs_dir) if ns.runs_dir else None
    status = run(store, ns.run_id, ns.progress, resume=ns.resume, plan_file=Path(ns.plan) if ns.plan else None)
    return 0 if status in (COMPLETED, STOPPED) else 1


if __name__ == "__main__":
    sys.exit(main())
