"""How long a run will take on this machine, before Start: the steps it will really do (after the held-out
split and skipped rows) and a duration scaled from a measured run of the same model and mode on the same
kind of device (a finished run in the store, or the short speed check Configure offers). No torch.

A measured run gives three figures, read from its points: seconds per training step (the span of its steps
less the evaluations inside it), seconds per evaluation, and the start-up before its first step (loading,
preparing the data, the step-0 evaluation excluded). Other work sharing the machine stretches a run's wall
clock, not its compute, so each figure is the run's compute speed (_paces): on the CPU, where its threads
waited for a core, its process CPU seconds (the worker's OpenMP threads sleep rather than spin when they wait:
trainer.children.worker_env) over the parallelism it reached when the cores were its own; on a GPU the
device's own step times when the wall clock was much slower than them. `slowed` says by how much the wall clock was stretched. They scale to another run by what a step encodes,
batch × (query + group × passage), and what an evaluation encodes, with each length the smaller of the
truncation length and the data's typical (95th percentile) length: FlagEmbedding pads a batch to its longest
text, not to the cap. A text of L tokens costs L on a GPU, L + k·L² on the CPU (_quadratic). Early stopping
can end a run sooner: the estimate is for every epoch.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Optional

from trainer.sizing import advice
from trainer.data import scan
from trainer.core.config import DEMO_DATA, OFF, SPLIT, RunConfig
from trainer.core.config import resolve_eval, resolve_train
from trainer.store.run_folder import RunFolder
from trainer.core.gpus import DEFAULT_CARD_GIB
from trainer.core.metrics import Metric
from trainer.sizing.advice import schedule
from trainer.store import COMPLETED, STOPPED, Store

SPEED_DIR = "speed"           # the speed check's own store, inside the runs folder
SPEED_STEPS = 8               # training steps of a speed check (the first two warm up: not in its pace)
SPEED_BUDGET_S = 20           # a speed check's steps end after this many seconds (at least 3 steps)
SPEED_LOAD_S = 10             # a speed check's start-up (a new process, torch, the model) before one is measured here
WARM_UP_STEPS = 2             # a run of 6+ steps is timed from its third
IDLE_PARALLEL = 0.8           # idle seconds of a step's encoding per CPU second it took beside other work, per
                              # thread, for a run that never had the cores alone (this machine's kind, MiniLM, 2
                              # threads: 0.67 for the demo's 1.1-CPU-second steps, 0.97 for 40 texts × 128 tokens)
QUIET = 0.05                  # threads waiting for a core under this share of a span's time: the cores were free
QUEUED_S = 15                 # a run that started this long after it was created had waited in a queue
SLOWED = 1.25                 # a wall clock this much slower than the compute: the run was slowed by other work

# Training memory on the CPU (fp32), fitted on this machine's kind (2 cores, torch 2.13, MiniLM, a train-mode
# forward and backward of 32 texts at 128 and 512 tokens: 1.48 and 10.63 GiB over a 0.46 GiB process):
CPU_PROCESS_GIB = 0.46       # the worker's interpreter with torch and transformers, before the model
CPU_ATTENTION_BYTES = 11.2   # per attention score kept for backward (scores, softmax, dropout mask, dropped)
CPU_ACTIVATION_SCALE = 1.8   # the rest of the activations against the GPU estimate's fp32 coefficients
# A text costs about this many tokens more on the CPU, whatever its length: MiniLM's forward and backward of 40
# texts took 0.55 s at 16 tokens and at 32, 1.0 s at 64 (2 cores); the demo's 35-token steps against a
# 161-token file's gave 14 (design notes, "Estimates on a shared machine").
CPU_TEXT_TOKENS = 16.0


@dataclass(frozen=True)
class Measured:
    run_id: str
    name: str
    gpu: bool                 # it trained on a GPU
    step_s: float             # seconds per training step
    eval_s: Optional[float]   # seconds per validation (None: it had none)
    startup_s: float          # before the first step, step-0 validation excluded
    step_tokens: float        # what a step encodes, in token-equivalents (_step_work)
    eval_tokens: Optional[float]
    slowed: float = 1.0       # its wall clock over its compute speed (1: nothing else slowed it)
    fixed_s: float = 0.0      # the part of step_s that does not grow with the texts (the optimizer's update)


@dataclass(frozen=True)
class Estimate:
    seconds: float
    steps: int
    step_s: float
    evaluations: int
    eval_s: float
    startup_s: float
    source: str               # the measured run it is scaled from: "name (id)"
    slowed: float = 1.0       # how much other work had slowed that run (the estimate is for its compute speed)


def _lengths(store: Store, cfg: RunConfig) -> tuple[float, float]:
    """The typical query and passage lengths a batch pads to: min(cap, the data's 95th percentile)."""
    q, p = cfg.query_max_len, cfg.passage_max_len
    tip = _tip(store, cfg)
    if tip:
        q, p = min(q, tip["query_p95"]), min(p, tip["passage_p95"])
    return float(q), float(p)


def _tip(store: Store, cfg: RunConfig) -> dict:
    """The data's token lengths for this model (trainer.scan.lengths); {} where they cannot be counted."""
    try:
        data = scan.ensure(store, resolve_train(cfg.train_data))
        return (scan.lengths(store, data, cfg.model) if data.rows else None) or {}
    except OSError:
        return {}


def _quadratic(cfg: RunConfig, gpu: bool) -> float:
    """k in the cost of one text of L tokens, L + k·L², relative to a token's. On a GPU, attention keeps no
    length² matrix (SDPA): k = 0. On the CPU it keeps the attention scores for backward, which dominate at long
    lengths: k = their bytes per score × heads × layers over the bytes a token's other activations take (both
    fitted above, on the same measurements as cpu_memory_gib). A memory-bound CPU step takes time in
    proportion to the memory it touches."""
    if gpu:
        return 0.0
    from trainer.sizing import memory
    from trainer.sizing.memory import model_shape

    try:
        shape = model_shape(cfg.model)
    except ValueError:
        return 0.0
    probe = cfg.replace(batch_size=8, group_size=4, query_max_len=128, passage_max_len=128, precision="fp32")
    per_token = CPU_ACTIVATION_SCALE * memory.estimate(memory.setup_for(probe, shape, DEFAULT_CARD_GIB)).breakdown.get(
        "activations", 0.0) * 2**30 / (8 * 5 * 128)
    return CPU_ATTENTION_BYTES * _heads(cfg, shape) * shape.layers / per_token if per_token else 0.0


def _heads(cfg: RunConfig, shape) -> int:
    """Attention heads, from the model's config.json (the shape the estimator keeps has none)."""
    from trainer.core.model_source import model_dir, read_config

    return (read_config(model_dir(cfg.model)) or {}).get("num_attention_heads") or max(1, shape.hidden // 64)


def _text_costs(store: Store, cfg: RunConfig, gpu: bool) -> tuple[float, float]:
    """What one query and one passage cost to encode, in token-equivalents: L + k·L² at their typical lengths,
    plus, on the CPU, CPU_TEXT_TOKENS a text."""
    k, base = _quadratic(cfg, gpu), 0.0 if gpu else CPU_TEXT_TOKENS
    q, p = _lengths(store, cfg)
    return base + q + k * q * q, base + p + k * p * p


def _step_work(costs: tuple[float, float], cfg: RunConfig) -> float:
    """What a step encodes: batch × (query + group × passage)."""
    return cfg.batch_size * cfg.num_gpus * (costs[0] + cfg.group_size * costs[1])


def _eval_size(store: Store, cfg: RunConfig, folder: Optional[RunFolder] = None) -> Optional[tuple[int, int]]:
    """(queries, passages) one validation encodes (a run's own, in its folder); None without validation."""
    if not cfg.eval_data:
        return None
    where = folder.validation(cfg.eval_data) if folder is not None else resolve_eval(cfg.eval_data)
    if where is not None and where.is_dir():
        count = lambda name: sum(1 for line in (where / name).open(encoding="utf-8") if line.strip())  # noqa: E731
        return count("queries.jsonl"), count("corpus.jsonl")
    if cfg.eval_data != SPLIT:
        return None
    # A split not made yet: its corpus is every passage of the file, its queries the validation share.
    data = scan.ensure(store, resolve_train(cfg.train_data))
    rows = scan.sample_rows(store, data)
    passages = len({p for r in rows for p in r["pos"] + r.get("neg", [])})
    scale = data.rows / max(1, len(rows))
    return max(1, round(cfg.val_fraction * data.rows)), round(passages * scale)


def _eval_work(store: Store, cfg: RunConfig, costs: tuple[float, float],
               folder: Optional[RunFolder] = None) -> Optional[float]:
    """What one validation encodes, in the same token-equivalents."""
    size = _eval_size(store, cfg, folder)
    return None if size is None else size[0] * costs[0] + size[1] * costs[1]


_MEASURED: dict = {}      # (store, run id, its end) -> Measured: a finished run's points do not change


def measure(store: Store, run) -> Optional[Measured]:
    """The speed a finished run showed (None: too few steps to tell), read once per run and end."""
    key = (str(store.path), run.id, run.ended)
    if key not in _MEASURED:
        _MEASURED[key] = _measure(store, run)
    return _MEASURED[key]


def _measure(store: Store, run) -> Optional[Measured]:
    points = store.metrics(run.id)
    steps = [p for p in points if p.name == Metric.LOSS]
    if len(steps) < 2:
        return None
    named = lambda name: [p for p in points if p.name == name]  # noqa: E731
    evals = named(Metric.EVAL_SECONDS)
    # the first steps warm up (allocations, kernels chosen per shape): their excess counts as start-up
    paced = steps[WARM_UP_STEPS:] if len(steps) >= 3 * WARM_UP_STEPS else steps
    inside = sum(p.value for p in evals if paced[0].step <= p.step < paced[-1].step)
    wall_step = max(1e-3, (paced[-1].time - paced[0].time - inside) / (paced[-1].step - paced[0].step))
    first_eval = next((p.value for p in evals if p.step == 0), 0.0)
    mining = next((p.value for p in points if p.name == "mining_seconds"), 0.0)
    wall_eval = statistics.median(p.value for p in evals) if evals else None
    # from Start (the worker's own start-up included), or, for a run that waited in a queue, from its start
    started = run.started or run.created
    origin = run.created if started - run.created < QUEUED_S else started
    startup = max(0.0, steps[0].time - origin - first_eval - mining - wall_step * steps[0].step)
    cfg, gpu = run.config, any(p.name == Metric.PEAK_GPU_GIB for p in points)
    pace = _paces(cfg, steps, paced, named, wall_step, wall_eval, startup, mining)
    try:
        costs = _text_costs(store, cfg, gpu)
        return Measured(run.id, run.name, gpu, pace.step_s, pace.eval_s, pace.startup_s, _step_work(costs, cfg),
                        _eval_work(store, cfg, costs, run.folder), pace.slowed, pace.fixed_s)
    except OSError:          # its data is gone: its lengths cannot be known
        return None


@dataclass(frozen=True)
class _Paces:
    step_s: float
    eval_s: Optional[float]
    startup_s: float
    slowed: float = 1.0
    fixed_s: float = 0.0


def _paces(cfg: RunConfig, steps, paced, named, wall_step: float, wall_eval: Optional[float], startup: float,
           mining: float) -> _Paces:
    """A run's step, validation and start-up seconds at its compute speed, how much its wall clock was slowed,
    and a step's fixed part (the optimizer's update: one thread, CPU seconds = seconds).
    CPU: where its threads waited for a core (cpu_wait_seconds) more than QUIET of its steps' time, a step's
    CPU seconds beyond the update over P, the CPU seconds per wall second its quiet steps reached there
    (IDLE_PARALLEL per thread if none was quiet). GPU: the median of the device's step times, where the wall
    clock was more than SLOWED times slower than them (a host starved by other work)."""
    cpu = {p.step: p.value for p in named(Metric.CPU_SECONDS)}
    wait = {p.step: p.value for p in named(Metric.CPU_WAIT_SECONDS)}
    opt = {p.step: p.value for p in named(Metric.OPTIMIZER_CPU_SECONDS)}
    a, b = paced[0], paced[-1]
    fixed = (opt[b.step] - opt[a.step]) / (b.step - a.step) if a.step in opt and b.step in opt else 0.0
    if not all(p.step in cpu and p.step in wait for p in paced):
        device = [cfg.batch_size * cfg.num_gpus / p.value for p in named(Metric.SAMPLES_PER_S)
                  if p.value > 0 and p.step >= a.step]
        if device and not cfg.buckets_on and wall_step > SLOWED * statistics.median(device):
            return _Paces(statistics.median(device), wall_eval, startup, wall_step / statistics.median(device))
        return _Paces(wall_step, wall_eval, startup)
    threads = next((p.value for p in named(Metric.THREADS)), 1.0)
    if wait[b.step] - wait[a.step] <= QUIET * threads * (b.time - a.time):
        return _Paces(wall_step, wall_eval, startup, 1.0, min(fixed, wall_step))   # the cores were its own
    evaluated = {p.step for p in named(Metric.EVAL_SECONDS)}
    rest = lambda x, y: (cpu[y.step] - cpu[x.step]) - (opt.get(y.step, 0.0) - opt.get(x.step, 0.0))  # noqa: E731
    quiet = [rest(x, y) / (y.time - x.time - (opt.get(y.step, 0.0) - opt.get(x.step, 0.0)))
             for x, y in zip(paced, paced[1:])
             if y.time > x.time and not any(x.step <= s < y.step for s in evaluated)
             and wait[y.step] - wait[x.step] <= QUIET * threads * (y.time - x.time)]
    parallel = statistics.median(quiet) if len(quiet) >= 3 else IDLE_PARALLEL * threads
    inside = sum(p.value for p in named(Metric.EVAL_CPU_SECONDS) if a.step <= p.step < b.step)
    step_s = min(wall_step, fixed + max(1e-3, (rest(a, b) - inside) / (b.step - a.step)) / parallel)
    eval_cpu = [p.value for p in named(Metric.EVAL_CPU_SECONDS)]
    eval_s = wall_eval if wall_eval is None or not eval_cpu else min(wall_eval, statistics.median(eval_cpu) / parallel)
    first = steps[0] if steps[0].step in cpu else a
    eval_cpu0 = next((p.value for p in named(Metric.EVAL_CPU_SECONDS) if p.step == 0), 0.0)
    # loading is mostly one thread: its CPU seconds are about its seconds on idle cores
    cpu_startup = cpu[first.step] - eval_cpu0 - (step_s - fixed) * parallel * first.step - mining
    return _Paces(step_s, eval_s, max(0.0, min(startup, cpu_startup)), wall_step / step_s, min(fixed, step_s))


def newest_measured(store: Store, cfg: RunConfig, gpu: bool) -> Optional[Measured]:
    """The newest finished run of this model and mode on this kind of device (GPU or CPU) that can be measured,
    from the store and from its speed checks."""
    stores = [store, Store(store.runs_dir / SPEED_DIR)] if (store.runs_dir / SPEED_DIR).is_dir() else [store]
    found = [(run.ended or run.created, s, run) for s in stores
             for run in s.list_runs(mode=cfg.mode.value, status=(COMPLETED, STOPPED), limit=50)
             if run.config.model == cfg.model]
    for _, s, run in sorted(found, key=lambda x: -x[0]):
        m = measure(s, run)
        if m is not None and m.gpu == gpu:
            return m
    return None


def training_rows(store: Store, cfg: RunConfig) -> tuple[Optional[int], bool]:
    """The rows the run will train on (after the held-out split; bad rows are skipped or refused), and
    whether that is exact (the whole file is in the scan's sample) or scaled from the fractions."""
    data = scan.ensure(store, resolve_train(cfg.train_data))
    if not data.rows:
        return None, True
    if cfg.eval_data != SPLIT:
        return data.rows, True
    if data.sample_rows >= data.rows:
        from trainer.data.split import split_rows

        return len(split_rows(scan.sample_rows(store, data), cfg.val_fraction, cfg.test_fraction, cfg.seed).train), True
    return data.rows - round(cfg.val_fraction * data.rows) - round(cfg.test_fraction * data.rows), False


def for_run(store: Store, cfg: RunConfig, rows: Optional[int], gpu: bool = False,
            steps: Optional[int] = None) -> Optional[Estimate]:
    """The run's duration on this machine, scaled from the newest measured run that fits; None without one."""
    if rows is None and steps is None:
        return None
    total = steps if steps is not None else schedule(cfg, rows or 0, cfg.num_gpus)[0]     # the plan's count
    m = newest_measured(store, cfg, gpu)
    if m is None:
        return None
    costs = _text_costs(store, cfg, gpu)
    work = _step_work(costs, cfg)
    # the optimizer's update costs the same whatever the texts; the rest of a step grows with what it encodes
    step_s = m.fixed_s + (m.step_s - m.fixed_s) * work / m.step_tokens
    # Encoding without gradients: the measured run's validation pace, or about a third of a step's
    eval_rate = m.eval_s / m.eval_tokens if m.eval_s is not None and m.eval_tokens else step_s / 3 / work
    new_eval = _eval_work(store, cfg, costs)
    evaluations, eval_s = 0, 0.0
    if new_eval is not None:
        per_epoch = advice.total_steps(rows or 0, cfg.batch_size, 1, cfg.num_gpus) or total
        evaluations = 1 + (cfg.epochs if cfg.max_steps <= 0 else max(1, total // max(1, per_epoch)))
        if cfg.eval_every_steps:
            evaluations += total // cfg.eval_every_steps
        eval_s = eval_rate * new_eval
    startup = max(0.0, m.startup_s + step_s - m.step_s)       # it holds the first step's warm-up: about a step
    data = scan.ensure(store, resolve_train(cfg.train_data))
    if cfg.mines(data.without_negatives):
        startup += eval_rate * data.rows * sum(costs)   # mining encodes every question and passage once
    seconds = startup + total * step_s + evaluations * eval_s
    return Estimate(seconds, total, step_s, evaluations, eval_s, startup, f"{m.name} ({m.run_id})", m.slowed)


@dataclass(frozen=True)
class Fit:
    passage_max_len: int      # the longest passage length whose estimate fits the time
    dropped: float            # the share of the passages' tokens that cut drops (0 without a count)
    typical: int              # the data's median passage length, in tokens (0 without a count)


def fit_passage_len(store: Store, cfg: RunConfig, rows: int, budget_s: float, gpu: bool = False,
                    floor: int = 64, step: int = 32) -> Optional[Fit]:
    """The longest passage length (a multiple of `step`, at least `floor`) whose estimate fits `budget_s`, with
    what it drops of the data's passages; None when even `floor` does not (or nothing is measured)."""
    best = None
    length = floor
    while length <= cfg.passage_max_len:
        e = for_run(store, cfg.replace(passage_max_len=length), rows, gpu)
        if e is None or e.seconds > budget_s:
            break
        best = length
        length += step
    if best is None:
        return None
    from trainer.data.token_lengths import dropped_share

    quantiles = _tip(store, cfg).get("passage_quantiles") or []
    return Fit(best, dropped_share(quantiles, best), quantiles[9] if len(quantiles) == 20 else 0)


def speed_check_seconds(store: Store, cfg: RunConfig) -> float:
    """How long the speed check will take: as long as the last one of this model here took, else its start-up
    (SPEED_LOAD_S) and SPEED_BUDGET_S of steps (the page stops it then, trainer.estimate.speed_check_done)."""
    speed = Store(store.runs_dir / SPEED_DIR) if (store.runs_dir / SPEED_DIR).is_dir() else None
    last = next((r for r in speed.list_runs(status=(COMPLETED, STOPPED), limit=5)
                 if r.ended and r.config.model == cfg.model), None) if speed else None
    return last.ended - last.created if last is not None else SPEED_LOAD_S + SPEED_BUDGET_S


def speed_check_done(store: Store, run_id: str) -> bool:
    """The speed check has stepped for SPEED_BUDGET_S (at least 3 steps after its first): time to stop it."""
    steps = [p for p in store.metrics(run_id, prefix=Metric.LOSS) if p.name == Metric.LOSS]
    return len(steps) >= 4 and steps[-1].time - steps[0].time >= SPEED_BUDGET_S


def cpu_memory_gib(store: Store, cfg: RunConfig, shape, ram_gib: float) -> float:
    """The worker's peak RSS for a CPU run: the GPU estimator's fp32 step (weights, gradients, AdamW, heads)
    with its activations scaled to the CPU's, plus the attention scores CPU attention keeps (batch x heads x
    length², per layer, at the lengths a batch pads to), plus the process."""
    from trainer.sizing import memory

    q, p = (int(x) for x in _lengths(store, cfg))
    est = memory.estimate(memory.setup_for(cfg.replace(precision="fp32", query_max_len=q, passage_max_len=p),
                                           shape, ram_gib))
    scores = cfg.batch_size * (cfg.group_size * p * p + q * q) * _heads(cfg, shape) * shape.layers
    activations = est.breakdown.get("activations", 0.0)
    return (est.total_gib + (CPU_ACTIVATION_SCALE - 1) * activations + scores * CPU_ATTENTION_BYTES / 2**30
            + CPU_PROCESS_GIB)


def speed_check_config(cfg: RunConfig) -> RunConfig:
    """The speed check: this model, mode, batch and lengths on the demo rows, a few steps, no evaluation."""
    return cfg.replace(train_data=DEMO_DATA, eval_data=None, max_steps=SPEED_STEPS, name="speed check",
                       mine=OFF, length_buckets=OFF, report_to="none")
