"""Command line: `python -m trainer {train,sweep,test,mine,score,export,merge,merge-curve,runs,metrics,vram,plan}` (see
--help). One function per subcommand; `train`'s flags are RunConfig's fields, generated, with the
Configure page's help texts."""
from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import os
import sys
import time
import types
import typing
from pathlib import Path

from trainer import __version__
from trainer.jobs import launch, sweep
from trainer.core.fields import CHOICES
from trainer.core.config import Mode, RunConfig, resolve_precision
from trainer.hooks import argparse_actions
from trainer.sizing.memory import BGE_M3_NAME
from trainer.core.gpus import DEFAULT_CARD_GIB
from trainer.store import COMPLETED, DEFAULT_RUNS_DIR, STOPPED, WAITING, Store

# Short names kept from earlier versions of the command, next to the generated --train-data etc.
ALIASES = {"train_data": ["--train"], "eval_data": ["--eval"], "learning_rate": ["--lr"]}


def _is_enum(hint) -> bool:
    return isinstance(hint, type) and issubclass(hint, enum.Enum)


def _parse(hint) -> typing.Callable[[str], typing.Any]:
    """How a flag's text becomes a value of the field's type: Optional[X] also takes 'none', containers JSON."""
    args = typing.get_args(hint)
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        hint = next(a for a in args if a is not type(None))
    if _is_enum(hint):
        convert, what = hint, "one of " + ", ".join(str(m.value) for m in hint)
    elif hint in (int, float, str):
        convert, what = hint, hint.__name__
    else:
        raise TypeError(f"no flag parser for a field of type {hint}: add one here")

    def parse(text: str):
        if optional and text.lower() == "none":
            return None
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    return parse


def add_config_flags(parser: argparse.ArgumentParser, cls: type = RunConfig) -> None:
    """One flag per dataclass field (`--batch-size` for batch_size); a new field gets its flag here. The help
    is the field's description on the Configure page. A flag not given leaves the dataclass default."""
    from trainer.core.field_text import FIELD_TEXT

    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        shown = default.value if isinstance(default, enum.Enum) else default if default != "" else "''"
        options = dict(dest=f.name, default=argparse.SUPPRESS,
                       help=f"{FIELD_TEXT['en'].get(f.name, '')} (default: {shown})".replace("%", "%%"))
        if hint is bool:
            options["action"] = argparse.BooleanOptionalAction
        else:
            options["type"] = modes if f.name == "mode" else _parse(hint)
            choices = [m.value for m in hint] if _is_enum(hint) else CHOICES.get(f.name)
            if choices:
                options["metavar"] = "{" + ",".join(map(str, choices)) + "}"
        parser.add_argument(f"--{f.name.replace('_', '-')}", *ALIASES.get(f.name, []), **options)


def field_flag(parser: argparse.ArgumentParser, flag: str, field: str, help: str = "") -> None:
    """A command's flag for one RunConfig field under a name of its own (`vram --batch` for batch_size): its value
    lands in `ns.<field>`, and its type, choices and default are RunConfig's and the field registry's, never
    written here (tests/test_registry.py)."""
    default = getattr(RunConfig(), field)
    default = default.value if isinstance(default, enum.Enum) else default
    choices = CHOICES.get(field)
    kind = type(choices[0]) if choices else type(default)
    parser.add_argument(flag, dest=field, type=kind, default=default, choices=choices,
                        metavar=None if choices else flag.lstrip("-").upper().replace("-", "_"), help=f"{help} (default: {default})".strip().replace("%", "%%"))


def config_from(ns: argparse.Namespace, cls: type = RunConfig):
    """The dataclass from the flags given. `--mode` takes a list (`all,heads,dense` queues one run
    each, see _train): the config gets its first."""
    values = {f.name: getattr(ns, f.name) for f in dataclasses.fields(cls) if hasattr(ns, f.name)}
    if isinstance(values.get("mode"), list):
        values["mode"] = values["mode"][0]
    return cls(**values)


MEMORY_FLAG = "--ignore-memory-estimate"


def _refused(problems) -> None:
    """A check's problems on stderr (file:line field), and how to go on when only memory stands in the way."""
    from trainer.planning.checks import is_memory

    print(f"error: not started, {len(problems)} problem(s); nothing was stored:\n"
          + "\n".join(str(p) for p in problems[:20]), file=sys.stderr)
    if any(map(is_memory, problems)):
        print(f"(to start it anyway, accepting that it may run out of memory: add {MEMORY_FLAG})", file=sys.stderr)


def _create(store: Store, config, memory_ok: bool = False) -> str | None:
    """The page's checks before anything is stored: problems (file:line field) go to stderr, no traceback."""
    try:
        return launch.create(store, config, memory_ok=memory_ok)
    except launch.InvalidRun as invalid:
        _refused(invalid.problems)
    except launch.RunBusy as busy:
        print(f"error: not started: {busy}", file=sys.stderr)
    return None


def time_estimate(store: Store, config: RunConfig) -> str:
    """The estimate Configure shows before Start (trainer.estimate), in one line."""
    from trainer.sizing import estimate
    from trainer.core import gpus

    found = gpus.detect()
    rows = estimate.training_rows(store, config)[0]
    guess = estimate.for_run(store, config, rows, bool(found))
    device = found[0].name if found else f"this machine's CPU ({os.cpu_count()} cores)"
    if guess is None:
        return (f"estimate: {rows} training rows; no run of {config.model} ({config.mode.value}) has been measured on "
                f"{device} yet, so no time estimate: this run's steps will measure it")
    line = (f"estimate: {rows} training rows, {guess.steps} steps ({guess.step_s:.2f} s each), {guess.evaluations} "
            f"validations ({guess.eval_s:.1f} s each), {guess.startup_s:.0f} s to start: about "
            f"{guess.seconds / 60:.1f} minutes on {device}, scaled from run {guess.source}")
    if guess.slowed >= estimate.SLOWED:
        line += (f" (other work shared the machine while that run trained: its clock ran {guess.slowed:.1f}x slower "
                 f"than its compute; this is the time with nothing else running)")
    return line


def modes(text: str) -> list[Mode]:
    """`all`, or several in the order to train them: `all,heads,dense`."""
    try:
        return [Mode(m.strip()) for m in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(m.value for m in Mode)} (several: "
                                         f"comma-separated, trained in that order), got {text!r}") from None


def _train_queue(store: Store, configs: list[RunConfig], memory_ok: bool = False) -> int:
    """Several modes, one after another, as queued runs in the store (the dashboard shows the queue; a run
    another process is training first is waited for): queued as the dashboard queues them (checked, with their
    initial plans), each trained by the same worker child as `train` (torchrun for --num-gpus)."""
    launch.recover(store)
    try:
        ids = launch.enqueue(store, configs, memory_ok=memory_ok, start=False)
    except launch.InvalidRun as invalid:
        _refused(invalid.problems)
        return 2
    except launch.RunBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return 2
    print(" ".join(ids), flush=True)
    failed = 0
    for run_id in ids:
        while store.take_waiting([run_id]) is None:
            if not any(r.id == run_id and r.status == WAITING for r in store.list_runs()):
                break                                        # removed from the queue meanwhile
            time.sleep(5)
        else:
            launch.run_in_foreground(store, run_id, store.get_run(run_id).config.num_gpus)
            status = store.get_run(run_id).status
            print(f"{run_id} {status}", file=sys.stderr)
            failed += status not in (COMPLETED, STOPPED)
    return 1 if failed else 0


def _train(ns) -> int:
    from trainer.sizing.suggest import with_suggestions

    store = Store(ns.runs_dir)
    chosen = getattr(ns, "mode", [RunConfig.mode])           # several: trained one after another
    given = {f.name for f in dataclasses.fields(RunConfig) if hasattr(ns, f.name)}
    # Learning rate and lengths not given follow the data, as the Configure page suggests them.
    config = with_suggestions(config_from(ns), given, store)
    memory_ok = getattr(ns, "ignore_memory_estimate", False)
    if len(chosen) > 1:
        return _train_queue(store, [config.replace(mode=m) for m in chosen], memory_ok)
    config = config.replace(mode=chosen[0])
    run_id = _create(store, config, memory_ok)
    if run_id is None:
        return 2
    print(run_id, flush=True)
    print(time_estimate(store, config), file=sys.stderr, flush=True)
    launch.run_in_foreground(store, run_id, config.num_gpus)
    record = store.get_run(run_id)
    print(f"{run_id} {record.status}" + (f": {record.error}" if record.error else ""), file=sys.stderr)
    return 0 if record.status in (COMPLETED, STOPPED) else 1


def _mine(ns) -> int:
    from trainer.data import DataError, rows_to_mine
    from trainer.core.config import parse_range

    try:
        rows, corpus = rows_to_mine(ns.input, ns.corpus or "")      # bad input is refused before torch loads
        low, high = parse_range(ns.mine_range)
        from trainer.engine.mining import MineSettings, mine_file

        settings = MineSettings(negatives=ns.mine_negatives, range_min=low, range_max=high, margin=ns.mine_margin,
                                seed=ns.seed, query_max_len=ns.query_max_len, passage_max_len=ns.passage_max_len)
        summary = mine_file(rows, corpus, ns.output, ns.model, settings, pooling=ns.pooling,
                            progress_path=ns.progress or "")
    except (DataError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if ns.summary:
        Path(ns.summary).write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    if ns.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"mined {summary['mined_rows']} rows ({summary['queries']} queries) over a pool of {summary['pool']} "
              f"passages in {summary['seconds']:.1f} s -> {summary['output']}")
        if summary["short_rows"]:
            print(f"{summary['short_rows']} rows got fewer than {ns.mine_negatives} negatives "
                  f"({summary['empty_rows']} none): too few candidates below the margin", file=sys.stderr)
        if summary["dropped_rows"]:
            print(f"{summary['dropped_rows']} rows without any negative were left out of {summary['output']} "
                  f"(FlagEmbedding cannot train on an empty neg list)", file=sys.stderr)
    return 0


def _scan(ns) -> int:
    """Check a training file as a stream and keep the result in the store (the pages, the preflight and the
    worker reuse it until the file changes); `--scan-id` is the Configure/Data pages' child job."""
    from trainer.data import scan

    store = Store(ns.runs_dir)
    if ns.scan_id is not None:       # the pages' child job; it also works out the suggested lengths for their model
        result = scan.run(store, ns.file, ns.scan_id, ns.lengths_for)
    else:
        result = scan.ensure(store, ns.file)
        if ns.lengths_for and result.rows:
            scan.lengths(store, result, ns.lengths_for)
    problems = result.problems_for(ns.group_size)
    if ns.json:
        print(json.dumps({k: v for k, v in result.to_json().items() if k != "problems"}
                         | {"problems": [str(p) for p in problems], "not_listed": result.more}))
    else:
        for p in problems:
            print(p, file=sys.stderr)
        if result.more:
            print(f"… and {result.more:,} more problems not listed", file=sys.stderr)
        print(f"{result.rows:,} valid rows, {result.bad_rows:,} invalid, {result.without_negatives:,} without "
              f"negatives, {result.scored_rows:,} with teacher scores; {result.size:,} bytes, checksum "
              f"{result.checksum}; sample of {result.sample_rows:,} rows; scanned in {result.seconds:.1f} s")
    return 2 if result.error_count else 0


def _score(ns) -> int:
    from trainer.data import DataError, rows_to_score

    try:
        rows = rows_to_score(ns.input)                              # bad input is refused before torch loads
        from trainer.engine.teacher import score_file

        summary = score_file(rows, ns.output, ns.reranker, ns.reranker_batch, ns.max_len)
    except (DataError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary) if ns.json else f"scored {summary['pairs']} pairs of {summary['rows']} rows with "
          f"{ns.reranker} -> {summary['output']} (train with teacher scores: --teacher-scores)")
    return 0


def _runs(ns) -> int:
    runs = Store(ns.runs_dir).list_runs()
    if ns.json:
        out = []
        for r in runs:
            item = dataclasses.asdict(r)
            item["config"] = json.loads(item.pop("config_json"))
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


def _gpu_precision(ns) -> str:
    """The step's precision on the GPU the estimate is for: "auto" is bf16 there (config.resolve_precision)."""
    return resolve_precision(ns.precision, gpu=True)


def _vram(ns) -> int:
    from trainer.sizing.memory import BUILT_IN, Setup, estimate
    from trainer.sizing.memory import model_shape

    try:
        setup = Setup(shape=model_shape(ns.model), mode=Mode(ns.mode), batch=ns.batch_size, group_size=ns.group_size,
                      query_len=ns.query_max_len, passage_len=ns.passage_max_len, precision=_gpu_precision(ns),
                      grad_ckpt=ns.grad_ckpt, sparse_head=ns.sparse_head, gpu_gib=ns.gpu_gib, num_gpus=ns.num_gpus)
        result = estimate(setup).to_dict()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if ns.measure:
        from trainer.core.model_source import resolve_model
        from trainer.engine.vram_probe import probe

        path = None if ns.model in BUILT_IN else resolve_model(ns.model)
        result["measured"] = probe(Mode(ns.mode), ns.batch_size, head=ns.sparse_head, grad_ckpt=ns.grad_ckpt,
                                   model_path=path, group=ns.group_size, qlen=ns.query_max_len,
                                   plen=ns.passage_max_len, precision=_gpu_precision(ns))
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


def _buckets(ns) -> int:
    from trainer.sizing.buckets import length_plan_of_rows
    from trainer.data import DataError, validate_train

    try:
        report = validate_train(ns.train, 1)
        if report.errors:
            raise DataError(report.errors)
        result = length_plan_of_rows(report.rows, model=ns.model, tokenizer_model=ns.tokenizer, mode=Mode(ns.mode),
                           gpu_gib=ns.gpu_gib, precision=_gpu_precision(ns), gpus=ns.num_gpus,
                           group_size=ns.group_size, query_len=ns.query_max_len, sparse_head=ns.sparse_head, spec=ns.buckets,
                           max_batch_size=ns.max_batch, source=str(ns.train))
    except (DataError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if ns.json:
        print(json.dumps(result.to_dict()))
        return 0
    print(f"{'tokens':>11} {'rows':>7} {'batch':>6} {'estimate':>9} {'steps/epoch':>11}  checkpointing")
    for b in result.buckets:
        print(f"{b.min_len:>5}-{b.max_len:<5} {b.rows:7} {b.batch_size:6} {b.estimate_gib:7.1f}G {b.steps_per_epoch:11}  "
              f"{'on' if b.grad_ckpt else 'off'}{'  (' + b.why + ')' if b.why else ''}")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _json_result(call) -> int:
    """Print what `call()` returns as JSON (status 0), or the reason it refused (status 2, no traceback)."""
    try:
        result = call()
    except (KeyError, FileNotFoundError, FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


def _export(ns) -> int:
    from trainer.models.export import export

    onnx = None
    if ns.onnx:
        from trainer.engine.onnx import write_onnx as onnx
    return _json_result(lambda: export(Store(ns.runs_dir), ns.run_id, ns.out, zip=ns.zip, onnx=onnx))


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
    from trainer.engine.merge import merge

    return _json_result(lambda: merge(Store(ns.runs_dir), ns.run_id, ns.weight, ns.out, zip=ns.zip))


def add_merge(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("merge", help="mix a run's model with its base (LM-Cocktail; heads averaged by the same weight)")
    p.add_argument("run_id")
    p.add_argument("--weight", type=float, required=True, help="the fine-tuned model's share, 0 (base) to 1 (fine-tuned)")
    p.add_argument("--out", required=True, help="folder to write (an earlier export there is replaced)")
    p.add_argument("--zip", action="store_true", help="also write OUT.zip")
    p.set_defaults(func=_merge)
    return p


def _merge_curve(ns) -> int:
    from trainer.engine.merge import curve

    return _json_result(lambda: curve(Store(ns.runs_dir), ns.run_id, [float(w) for w in ns.weights.split(",")]))


def add_merge_curve(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("merge-curve", help="score merges at a few weights: the run's validation set vs an "
                                           "out-of-domain check (SciFact slice); kept in the run folder")
    p.add_argument("run_id")
    p.add_argument("--weights", default="0,0.25,0.5,0.75,1", help="comma-separated, 0 (base) to 1 (fine-tuned)")
    p.set_defaults(func=_merge_curve)
    return p


def _test(ns) -> int:
    from trainer.engine.held_out import test_run

    return _json_result(lambda: test_run(Store(ns.runs_dir), ns.run_id))


def add_test(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("test", help="test a run that trained without its held-out test (a settings search's winner) "
                                    "on that test, once: the base model and the kept model; a run tested already "
                                    "prints its stored scores")
    p.add_argument("run_id")
    p.set_defaults(func=_test)
    return p


def _sweep(ns) -> int:

    store = Store(ns.runs_dir)
    say = (lambda text: print(text, file=sys.stderr, flush=True)) if ns.json else (lambda text: print(text, flush=True))
    given = {f.name for f in dataclasses.fields(RunConfig) if hasattr(ns, f.name)}
    name = ns.study
    try:
        if ns.study and (sweep.folder(store, ns.study) / "spec.json").is_file():
            if given - {"mode"} or ns.trials is not None or ns.budget_minutes is not None:
                print(f"note: study {ns.study!r} exists: it goes on with its own settings (the flags are ignored)",
                      file=sys.stderr)
        else:
            epochs = None
            if ns.epochs_range:
                low, _, high = ns.epochs_range.partition("-")
                epochs = (int(low), int(high or low))
            spec = sweep.make_spec(store, config_from(ns), getattr(ns, "mode", [RunConfig.mode]),
                                   trials=sweep.Spec.trials if ns.trials is None else ns.trials,
                                   budget_minutes=sweep.Spec.budget_minutes if ns.budget_minutes is None
                                   else ns.budget_minutes,
                                   given=given - {"mode"}, name=ns.study or "", epochs=epochs, pruner=ns.pruner)
            problems = sweep.check(store, spec)
            if problems:
                print(f"error: not started, {len(problems)} problem(s); nothing was stored:\n"
                      + "\n".join(str(p) for p in problems[:20]), file=sys.stderr)
                return 2
            fit = sweep.budget_check(store, spec)          # the trials' time estimate against the budget
            if fit is not None and fit["fits"] < spec.trials:
                print(f"warning: {sweep.budget_words(fit, spec.budget_minutes)}", file=sys.stderr, flush=True)
            sweep.save(store, spec)
            name = spec.name
            say(f"study {spec.name}: up to {spec.trials} trials or {spec.budget_minutes:g} minutes; learning rate "
                f"{spec.lr_range[0]:.2g}..{spec.lr_range[1]:.2g} around {spec.center_lr:g} (suggested: {spec.suggested_lr:g})")
        result = sweep.run(store, name, say=say)
    except (ValueError, FileExistsError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:       # Ctrl-C: the trial in training stops too; the study goes on with --study
        if name and (sweep.folder(store, name) / "spec.json").is_file():
            sweep.stop(store, name)
            print(f"interrupted: the trial in training was asked to stop; go on with --study {name}", file=sys.stderr)
        return 130
    if ns.json:
        print(json.dumps(result))
    else:
        best = result["best"]
        if best is None:
            print("no trial completed: no winner")
        else:
            test = f", held-out test {best['test_score']:.4f}" if best["test_score"] is not None else ""
            print(f"best: run {best['run_id']}, {best['mode']}, learning rate {best['learning_rate']:g}, "
                  f"validation {best['metric']} {best['val_score']:.4f}{test}")
    return 0 if result["best"] is not None else 1


def add_sweep(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("sweep", help="a budgeted search (Optuna) over mode, learning rate and epochs, judged on "
                                     "validation; only the winner is tested on the held-out split",
                       description="Every RunConfig flag sets the trials' common settings. --study NAME with an "
                                   "existing study goes on with it (after a restart or a killed process).")
    add_config_flags(p)
    argparse_actions.action(p, "mode").help = argparse.SUPPRESS     # --modes, below, says it
    p.add_argument("--modes", dest="mode", type=modes, default=argparse.SUPPRESS,
                   help="the modes to search, comma-separated, e.g. all,dense,heads (default: dense)")
    p.add_argument("--trials", type=int, help=f"at most this many trials (default {sweep.Spec.trials})")
    p.add_argument("--budget-minutes", type=float, help=f"at most this much trial time (default {sweep.Spec.budget_minutes:g})")
    p.add_argument("--epochs-range", default="",
                   help="epochs searched, A-B (default 1-EPOCHS; not searched with --max-steps)")
    p.add_argument("--pruner", default=sweep.PRUNERS[0], choices=sweep.PRUNERS,
                   help=f"stop trials whose validation falls behind (default {sweep.PRUNERS[0]})")
    p.add_argument("--study", default="", help="the study's name (default sweep-MMDD-HHMMSS); an existing one resumes")
    p.add_argument("--json", action="store_true", help="print the study's result as JSON (progress to stderr)")
    p.set_defaults(func=_sweep)
    return p


def _step_arguments(parser: argparse.ArgumentParser) -> None:
    """The training step the memory estimator sizes: shared by `vram` and `plan`."""
    field_flag(parser, "--model", "model", help=f"{BGE_M3_NAME}, 'default' (embedded) or a local folder")
    field_flag(parser, "--mode", "mode")
    field_flag(parser, "--group-size", "group_size")
    field_flag(parser, "--query-len", "query_max_len")
    field_flag(parser, "--precision", "precision", help="auto: bf16, as on a GPU that has it")
    field_flag(parser, "--sparse-head", "sparse_head")
    parser.add_argument("--gpu-gib", type=float, default=DEFAULT_CARD_GIB, help="card size: 24, 40, 48, 80 (GB) or GiB")
    field_flag(parser, "--gpus", "num_gpus")
    parser.add_argument("--json", action="store_true")


def add_train(sub) -> argparse.ArgumentParser:
    train = sub.add_parser("train", help="check, then train in the foreground; prints the run id",
                           description="Every setting of a run (RunConfig). Invalid settings or data exit with "
                                       "status 2 and store nothing.")
    add_config_flags(train)
    train.add_argument(MEMORY_FLAG, dest="ignore_memory_estimate", action="store_true",
                       help="start even when the run's memory estimate exceeds this machine (RAM on the CPU, the "
                            "card's memory on a GPU); without it such a run is refused, with what would fit")
    train.set_defaults(func=_train)
    return train


def add_mine(sub) -> argparse.ArgumentParser:
    mine = sub.add_parser("mine", help="add hard negatives to (query, positive) rows with a model's dense head")
    mine.add_argument("--input", required=True, help="training JSONL, or CSV/TSV with query and positive columns")
    mine.add_argument("--output", required=True, help="JSONL to write (query, pos, mined neg)")
    field_flag(mine, "--model", "model", help="local folder or hub id ('default': the embedded MiniLM)")
    mine.add_argument("--corpus", help="extra candidate passages: JSONL with a 'text' field per line")
    # the same defaults as a run's own mining (RunConfig's mine_* fields)
    field_flag(mine, "--negatives", "mine_negatives", help="negatives per row")
    field_flag(mine, "--range", "mine_range", help="candidate ranks A-B, counted from 0")
    field_flag(mine, "--margin", "mine_margin", help="drop candidates scoring above (1 - margin) x the positive's score")
    for flag, field in (("--seed", "seed"), ("--pooling", "pooling"), ("--query-max-len", "query_max_len"),
                        ("--passage-max-len", "passage_max_len")):
        field_flag(mine, flag, field)
    mine.add_argument("--progress", help="keep this file holding the progress as JSON")
    mine.add_argument("--json", action="store_true", help="print the summary (with a preview) as JSON")
    mine.add_argument("--summary", help="also write the summary JSON to this file")
    mine.set_defaults(func=_mine)
    return mine


def _answers_in_json(parser: argparse.ArgumentParser, func) -> argparse.ArgumentParser:
    """A command whose answer `--json` prints as JSON (what the pages' child commands read), run by `func`."""
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=func)
    return parser


def add_score(sub) -> argparse.ArgumentParser:
    score = sub.add_parser("score", help="teacher scores: a cross-encoder reranker scores each row's passages "
                                         "(pos_scores / neg_scores, for knowledge distillation)")
    score.add_argument("--input", required=True, help="training JSONL with negatives")
    score.add_argument("--output", required=True, help="JSONL to write, with pos_scores and neg_scores")
    score.add_argument("--reranker", required=True, help="local folder or cached hub id, e.g. BAAI/bge-reranker-v2-m3")
    score.add_argument("--batch-size", dest="reranker_batch", type=int, default=32, help="the reranker's batch")
    score.add_argument("--max-len", type=int, default=512, help="the reranker's input length (query + passage)")
    return _answers_in_json(score, _score)


def add_scan(sub) -> argparse.ArgumentParser:
    scan_p = sub.add_parser("scan", help="check a training file as a stream (any size, constant memory) and keep "
                                         "the result in the run store; exit 2 when rows are invalid")
    scan_p.add_argument("file", help="training JSONL, or CSV/TSV with query and positive columns")
    field_flag(scan_p, "--group-size", "group_size", help="for the warnings about too few negatives")
    scan_p.add_argument("--scan-id", type=int, help=argparse.SUPPRESS)     # the pages' child job: its store row
    scan_p.add_argument("--lengths-for", default="", help="also work out the suggested query/passage lengths for "
                                                          "this model (kept with the scan)")
    return _answers_in_json(scan_p, _scan)


def add_runs(sub) -> argparse.ArgumentParser:
    runs = sub.add_parser("runs", help="list runs")
    return _answers_in_json(runs, _runs)


def add_metrics(sub) -> argparse.ArgumentParser:
    metrics = sub.add_parser("metrics", help="dump every metric point of a run")
    metrics.add_argument("run_id")
    return _answers_in_json(metrics, _metrics)


def add_vram(sub) -> argparse.ArgumentParser:
    vram = sub.add_parser("vram", help="estimate GPU memory of a training step (--measure: also run it)")
    _step_arguments(vram)
    field_flag(vram, "--batch", "batch_size", help="per-device batch (queries)")
    field_flag(vram, "--passage-len", "passage_max_len")
    vram.add_argument("--grad-ckpt", action="store_true", help="gradient checkpointing")
    vram.add_argument("--measure", action="store_true", help="also run a few real steps on this GPU")
    vram.set_defaults(func=_vram)
    return vram


def add_buckets(sub) -> argparse.ArgumentParser:
    lengths = sub.add_parser("buckets", aliases=["plan"],      # `plan`: its old name
                             help="length buckets: rows grouped by token length, each group's per-device batch "
                                  "the largest the memory estimator fits (what train --length-buckets uses)")
    lengths.add_argument("--train", required=True, help="training JSONL (or CSV/TSV)")
    _step_arguments(lengths)
    lengths.add_argument("--tokenizer", help="count tokens with this model's tokenizer.json (default: the model's)")
    lengths.add_argument("--buckets", default="auto", help="auto, or token edges like 0,500,2000 (every range must hold rows)")
    lengths.add_argument("--max-batch", type=int, default=0, help="never a larger per-device batch than this (0: no cap)")
    lengths.set_defaults(func=_buckets)
    return lengths


def build_parser(prog: str = "python -m trainer") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="M3 Studio training engine")
    parser.add_argument("--version", action="version", version=f"M3 Studio {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    store_free = (add_mine, add_score, add_vram, add_buckets)            # commands that need no run store
    for add in (add_train, add_mine, add_score, add_scan, add_runs, add_metrics, add_vram, add_buckets, add_export,
                add_merge, add_merge_curve, add_sweep, add_test):
        command = add(sub)
        if add not in store_free:
            command.add_argument("--runs-dir", default=DEFAULT_RUNS_DIR, help="the run store's folder (default: runs)")
    return parser


def main(argv: list[str] | None = None, prog: str = "python -m trainer") -> int:
    ns = build_parser(prog).parse_args(argv)
    return ns.func(ns)


def console() -> int:
    """The `m3-train` console command (pyproject.toml): the same command line, under that name."""
    return main(prog="m3-train")

