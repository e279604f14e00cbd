"""The plain FlagEmbedding command that reproduces a run (the model card that goes with an exported model is
trainer.models.card). No torch."""
from __future__ import annotations

import shlex
from pathlib import Path

from trainer.core.config import RunConfig
from trainer.core.config import resolve_train
from trainer.planning.additions import WORKER_ONLY_ARGUMENTS
from trainer.planning.flag_args import command_line
from trainer.planning.plan import Plan, for_nodes, make as make_plan, of_run as plan_of
from trainer.store.run_folder import RunFolder
from trainer.store import Run


ENDPOINT = "MASTER_HOST:29500"


def command(plan: Plan, output_dir: str | None = None, endpoint: str = ENDPOINT) -> list[str]:
    """The `torchrun ... -m FlagEmbedding.finetune.embedder.encoder_only.m3 ...` argv of a plan: its
    arguments as the worker passed them (trainer.plan.make), on its machines and processes. `output_dir`
    alone may differ (a run's command writes to its folder's reproduced/, never over the run's model), and the
    arguments that are safe only with one of the product's additions are left out (additions.WORKER_ONLY_ARGUMENTS)."""
    args = {k: v for k, v in plan.args.items() if k not in WORKER_ONLY_ARGUMENTS}
    if output_dir is not None:
        args["output_dir"] = output_dir
    return command_line(args, plan.nproc_per_node, plan.nnodes, endpoint)


def command_for(cfg: RunConfig, *, train_file: str, output_dir: str, precision: str, rows: int | None = None,
                lengths=None, bucket_files: list[str] | None = None, nnodes: int = 1, endpoint: str = ENDPOINT,
                cuda: bool | None = None, run_folder: str | None = None, run_id: str = "RUN_ID") -> list[str]:
    """The command of a run not created yet (Configure's preview): trainer.plan.make for a run folder
    named `run_folder` (by default `output_dir`'s parent), `cuda` GPUs or not (unknown: guessed from the precision); with `nnodes` > 1 the same
    run on that many machines of `cfg.num_gpus` GPUs each (the warmup follows the larger world), through a
    c10d rendezvous at `endpoint`."""
    made = make_plan(cfg, RunFolder(run_folder or Path(output_dir).parent), run_id, train_file=train_file, rows=rows, precision=precision,
                     cuda=precision != "fp32" if cuda is None else cuda, nproc_per_node=cfg.num_gpus, nnodes=nnodes,
                     length_plan=lengths, bucket_files=bucket_files)
    return command(made, output_dir, endpoint)


def used_train_file(run: Run) -> Path:
    """The file a run trained on: the rows it prepared in its folder, or the user's file itself when that
    was valid as it was (trainer.engine.worker.prepare_data); before length buckets split it."""
    stored = plan_of(run)
    if stored is not None and stored.prepared and not stored.length_plan:
        return Path(stored.train_files[0])
    prepared = run.folder.train_file
    return prepared if prepared.is_file() else resolve_train(run.config.train_data)


def _legacy_plan(run: Run, rows: int | None) -> Plan:
    """A run from before plans were stored: its plan made now, with this machine's view of the precision."""
    from trainer.sizing import buckets
    from trainer.core import gpus

    folder = run.folder
    train_file = used_train_file(run)
    if rows is None and train_file == folder.train_file:
        with open(train_file, "rb") as f:
            rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    length_plan, files = None, None
    if folder.length_plan.is_file():          # a bucketed run: the files each bucket trained from
        length_plan = buckets.from_dict(buckets.load(folder.length_plan))
        files = [str(buckets.bucket_file(folder.buckets, b)) for b in length_plan.buckets]
    found = gpus.detect()
    return make_plan(run.config, folder, run.id, train_file=str(train_file), rows=rows,
                     precision=gpus.planned_precision(run.config.precision), cuda=bool(found),
                     nproc_per_node=run.config.num_gpus, length_plan=length_plan, bucket_files=files, prepared=True)


def run_command(run: Run, nnodes: int | None = None, endpoint: str = ENDPOINT, rows: int | None = None) -> list[str]:
    """A run's command: its stored plan's arguments (what the worker trained with), writing to the run
    folder's reproduced/; on `nnodes` machines (other than the plan's), the plan made again for that many.
    `rows` (the run's `train_rows` point) serves only a run from before plans, saving a count of its file's
    lines."""
    stored = plan_of(run) or _legacy_plan(run, rows)
    return command(for_nodes(stored, nnodes or stored.nnodes), str(run.folder.reproduced), endpoint)


def shell(argv: list[str]) -> str:
    """One line to paste into a shell, each argument quoted as needed; `$NAME` stays a variable."""
    return " ".join(f'"{a}"' if a.startswith("$") and a[1:].isidentifier() else shlex.quote(a) for a in argv)
