"""How long a run will take on this machine, before Start: the steps it will really do (after the held-out
split and skipped rows) and a duration scaled from a measured run of the same model and mode on the same
kind of device (a finished run in the store, or the short speed check Configure offers). No torch.

A measured run gives three figures, read from its points: seconds per training step (the span of its steps
less the evaluations inside it), seconds per evaluation, and the start-up before its first step (loading,
preparing the data, the step-0 evaluation excluded). They scale to another run by what a step encodes,
batch × (query + group × passage), and what an evaluation encodes, with each length the smaller of the
truncation length and the data's typical (95th percentile) length: FlagEmbedding pads a batch to its longest
text, not to the cap. A text of L tokens costs L on a GPU, L + k·L² on the CPU (_quadratic). Early stopping
can end a run sooner: the estimate is for every epoch.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Optional

from . import advice, scan
from .config import DEMO_DATA, SPLIT, RunConfig
from .data import resolve_eval, resolve_train
from .run_folder import RunFolder
from .metrics import Metric
from .plan import schedule
from .store import COMPLETED, STOPPED, Store

SPEED_DIR = "speed"           # the speed check's own store, inside the runs folder
SPEED_STEPS = 8               # training steps of a speed check (the first two warm up: not in its pace)
WARM_UP_STEPS = 2             # a run of 6+ steps is timed from its third

# Training memory on the CPU (fp32), fitted on this machine's kind (2 cores, torch 2.13, MiniLM, a train-mode
# forward and backward of 32 texts at 128 and 512 tokens: 1.48 and 10.63 GiB over a 0.46 GiB process):
CPU_PROCESS_GIB = 0.46       # the worker's interpreter with torch and transformers, before the model
CPU_ATTENTION_BYTES = 11.2   # per attention score kept for backward (scores, softmax, dropout mask, dropped)
CPU_ACTIVATION_SCALE = 1.8   # the rest of the activations against the GPU estimate's fp32 coefficients


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


@dataclass(frozen=True)
class Estimate:
    seconds: float
    steps: int
    step_s: float
    evaluations: int
    eval_s: float
    startup_s: float
    source: str               # the measured run it is scaled from: "name (id)"


def _lengths(store: Store, cfg: RunConfig) -> tuple[float, float]:
    """The typical query and passage lengths a batch pads to: min(cap, the data's 95th percentile)."""
    q, p = cfg.query_max_len, cfg.passage_max_len
    try:
        data = scan.ensure(store, resolve_train(cfg.train_data))
        tip = scan.lengths(store, data, cfg.model) if data.rows else None
    except OSError:
        tip = None
    if tip:
        q, p = min(q, tip["query_p95"]), min(p, tip["passage_p95"])
    return float(q), float(p)


def _quadratic(cfg: RunConfig, gpu: bool) -> float:
    """k in the cost of one text of L tokens, L + k·L², relative to a token's. On a GPU, attention keeps no
    length² matrix (SDPA): k = 0. On the CPU it keeps the attention scores for backward, which dominate at long
    lengths: k = their bytes per score × heads × layers over the bytes a token's other activations take (both
    fitted above, on the same measurements as cpu_memory_gib). A memory-bound CPU step takes time in
    proportion to the memory it touches."""
    if gpu:
        return 0.0
    from . import memory
    from .model_source import model_shape

    try:
        shape = model_shape(cfg.model)
    except ValueError:
        return 0.0
    probe = cfg.replace(batch_size=8, group_size=4, query_max_len=128, passage_max_len=128, precision="fp32")
    per_token = CPU_ACTIVATION_SCALE * memory.estimate(memory.setup_for(probe, shape, memory.DEFAULT_CARD_GIB)).breakdown.get(
        "activations", 0.0) * 2**30 / (8 * 5 * 128)
    return CPU_ATTENTION_BYTES * _heads(cfg, shape) * shape.layers / per_token if per_token else 0.0


def _heads(cfg: RunConfig, shape) -> int:
    """Attention heads, from the model's config.json (the shape the estimator keeps has none)."""
    from .model_source import model_dir, read_config

    return (read_config(model_dir(cfg.model)) or {}).get("num_attention_heads") or max(1, shape.hidden // 64)


def _text_costs(store: Store, cfg: RunConfig, gpu: bool) -> tuple[float, float]:
    """What one query and one passage cost to encode, in token-equivalents: L + k·L² at their typical lengths."""
    k = _quadratic(cfg, gpu)
    q, p = _lengths(store, cfg)
    return q + k * q * q, p + k * p * p


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
    evals = [p for p in points if p.name == Metric.EVAL_SECONDS]
    # the first steps warm up (allocations, kernels chosen per shape): their excess counts as start-up
    paced = steps[WARM_UP_STEPS:] if len(steps) >= 3 * WARM_UP_STEPS else steps
    inside = sum(p.value for p in evals if paced[0].step <= p.step < paced[-1].step)
    step_s = max(1e-3, (paced[-1].time - paced[0].time - inside) / (paced[-1].step - paced[0].step))
    first_eval = next((p.value for p in evals if p.step == 0), 0.0)
    mining = next((p.value for p in points if p.name == "mining_seconds"), 0.0)
    startup = max(0.0, steps[0].time - (run.started or run.created) - first_eval - mining - step_s * steps[0].step)
    cfg, gpu = run.config, any(p.name == Metric.PEAK_GPU_GIB for p in points)
    try:
        costs = _text_costs(store, cfg, gpu)
        return Measured(run.id, run.name, gpu, step_s, statistics.median(p.value for p in evals) if evals else None,
                        startup, _step_work(costs, cfg), _eval_work(store, cfg, costs, run.folder))
    except OSError:          # its data is gone: its lengths cannot be known
        return None


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
        from .split import split_rows

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
    step_s = m.step_s * work / m.step_tokens
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
    startup = m.startup_s
    data = scan.ensure(store, resolve_train(cfg.train_data))
    if cfg.mine == "all" or (cfg.mine == "missing" and cfg.group_size > 1 and data.without_negatives):
        startup += eval_rate * data.rows * sum(costs)   # mining encodes every question and passage once
    seconds = startup + total * step_s + evaluations * eval_s
    return Estimate(seconds, total, step_s, evaluations, eval_s, startup, f"{m.name} ({m.run_id})")


def fit_passage_len(store: Store, cfg: RunConfig, rows: int, budget_s: float, gpu: bool = False,
                    floor: int = 64, step: int = 32) -> Optional[int]:
    """The longest passage length (a multiple of `step`, at least `floor`) whose estimate fits `budget_s`;
    None when even `floor` does not (or nothing is measured)."""
    best = None
    length = floor
    while length <= cfg.passage_max_len:
        e = for_run(store, cfg.replace(passage_max_len=length), rows, gpu)
        if e is None or e.seconds > budget_s:
            break
        best = length
        length += step
    return best


def cpu_memory_gib(store: Store, cfg: RunConfig, shape, ram_gib: float) -> float:
    """The worker's peak RSS for a CPU run: the GPU estimator's fp32 step (weights, gradients, AdamW, heads)
    with its activations scaled to the CPU's, plus the attention scores CPU attention keeps (batch x heads x
    length², per layer, at the lengths a batch pads to), plus the process."""
    from . import memory

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
                       mine="off", length_buckets="off", report_to="none")
