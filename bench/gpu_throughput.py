"""Samples/s of the product's `train` against the plain FlagEmbedding command of the same plan and against
sentence-transformers' trainer, side by side in one run, with model FLOP utilisation (issue 39, points 2-3).

Dense mode, the same BGE-M3-shaped model with random weights (bench/gpu_suite.py `make_model`), batch 8, group 4
(1 positive + 3 negatives), query 64 / passage P tokens, bf16, no evaluation, on two data sets: SciFact's 484
training rows (long, varied passages, P = 512) and the demo set three times over (short passages, P = 128).
- product: `python -m trainer train --mode dense ...` (unpadded encoding on, as on every GPU run);
- plain: the run's equivalent command (`trainer.reproduce.run_command`: `torchrun -m FlagEmbedding…m3` with the
  plan's arguments, so the same data loader processes, optimizer, precision and lengths), padded as FlagEmbedding pads;
- sentence-transformers: `SentenceTransformerTrainer` with MultipleNegativesRankingLoss over (anchor, positive,
  negative_1..3), CLS pooling, one max length P for queries and passages (its one setting), bf16.

How samples/s is measured, the same way for all three (none of them is changed): a `sitecustomize` put first on
PYTHONPATH (`STEP_HOOK`, written to a temporary folder) adds one callback to every HF `Trainer` the process makes
(the product's worker, FlagEmbedding's runner and sentence-transformers' trainer are all HF Trainers). It waits for
the device at the end of step K1 (`--warmup`, default 10) and of step K2 (`--window-end`, default 40) and nothing
else: the steady-state rate is (K2 - K1) x batch / (t(K2) - t(K1)), with no start-up, no first-step allocations,
no checkpoint (every run stays under one epoch, and the window ends before any save) and no evaluation inside it.
Then it profiles `--profile-steps` more steps (torch.profiler: kernels per step, the device's busy time per step,
time by kernel kind) where asked, records the peak memory, and ends the process (`os._exit(0)`): the checkpoints and
final saves that would follow are never written (no 7 GB of weights and AdamW state on the device's disk).

MFU: the FLOPs of the real (unpadded) tokens of the data, 6 x the encoder's non-embedding parameters per token plus
attention's 12 x layers x hidden x the text's length, times the steady-state samples/s, over the bf16 rate of an
8192^3 matrix product measured in the same run. Peak memory: `torch.cuda.max_memory_allocated` at step K2, the
product's against its memory estimate (`trainer.memory`).

    python bench/gpu_throughput.py [--warmup 10] [--window-end 40] [--only long,short] [--variants ...]
                                   [--profile product] [--out bench/results/gpu_throughput_<device>.json] [--tiny]

`--variants NAME=ENV=VALUE,...` adds product runs with environment settings (e.g. `separate=M3_PACK_TOGETHER=0+M3_FUSED_QKV=0`).
`--tiny`: a 2-layer model on whatever device there is (a CPU check of the bench's flow: `--tiny --warmup 2
--window-end 5 --only short`).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import gpu_suite  # noqa: E402

BATCH, GROUP, QUERY = 8, 4, 64
SYSTEMS = ("product", "plain_flagembedding", "sentence_transformers")

# The step timer every process of the bench imports at start-up (as `sitecustomize`): inert until the process
# imports transformers.trainer, then one callback on each HF Trainer. Configured by M3_BENCH_* variables.
STEP_HOOK = r"""
import os, sys

if os.environ.get("M3_BENCH_STEPS"):
    import importlib.abc, importlib.util

    def _patch(module):
        import json, time
        import torch
        from transformers import TrainerCallback

        out = os.environ["M3_BENCH_STEPS"]
        k1, k2 = (int(x) for x in os.environ.get("M3_BENCH_WINDOW", "10,40").split(","))
        profile = int(os.environ.get("M3_BENCH_PROFILE_STEPS", "0"))
        cuda = torch.cuda.is_available()

        def sync():
            if cuda:
                torch.cuda.synchronize()
            return time.perf_counter()

        class StepTimes(TrainerCallback):
            def __init__(self):
                self.host, self.marks, self.prof, self.result = [], {}, None, {}

            def on_step_end(self, args, state, control, **kwargs):
                step = state.global_step
                self.host.append((step, time.perf_counter()))
                if step in (k1, k2):
                    self.marks[step] = sync()
                if step == k2:
                    batch = args.per_device_train_batch_size * max(1, args.world_size)
                    seconds = self.marks[k2] - self.marks[k1]
                    gaps = [b[1] - a[1] for a, b in zip(self.host, self.host[1:]) if k1 < b[0] <= k2]
                    self.result = {"k1": k1, "k2": k2, "batch": batch, "seconds": seconds,
                                   "samples_per_s": (k2 - k1) * batch / seconds,
                                   "median_host_step_s": sorted(gaps)[len(gaps) // 2] if gaps else None,
                                   "peak_gpu_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
                                   "optim": str(args.optim), "max_steps": state.max_steps}
                    if profile <= 0:
                        self.finish()
                    from torch.profiler import ProfilerActivity, profile as run_profile
                    self.prof = run_profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else []))
                    self.prof.__enter__()
                    self.prof_from = sync()
                if self.prof is not None and step == k2 + profile:
                    wall = sync() - self.prof_from
                    self.prof.__exit__(None, None, None)
                    self.result["profile"] = summarize(self.prof, profile, wall, cuda)
                    self.finish()

            def finish(self):
                with open(out, "w") as f:
                    json.dump(self.result, f)
                sys.stdout.flush(); sys.stderr.flush()
                os._exit(0)          # no checkpoint, no final save: the timing is done

        def summarize(prof, steps, wall, cuda):
            kinds = {"matmul": ("gemm", "cutlass", "nvjet", "sm90", "sm80", "cublas", "matmul", "xmma"),
                     "attention": ("flash", "fmha", "attention", "efficient"),
                     "optimizer": ("adam", "multi_tensor", "foreach", "clip", "norm_"),
                     "layernorm": ("layer_norm", "layernorm"),
                     "dropout": ("dropout", "fused_dropout", "bernoulli", "philox"),
                     "copy/cast": ("copy", "cast", "to_copy", "memcpy", "memset", "fill", "cat", "index")}
            by_kind, kernels, busy, table = {}, 0, 0.0, []
            for ev in prof.key_averages():
                dev = getattr(ev, "self_device_time_total", 0.0) or 0.0
                if ev.device_type.name != "CUDA" or not dev:
                    continue
                kernels += ev.count
                busy += dev
                name = ev.key.lower()
                kind = next((k for k, words in kinds.items() if any(w in name for w in words)), "other elementwise")
                by_kind[kind] = by_kind.get(kind, 0.0) + dev
                table.append((dev, ev.count, ev.key[:110]))
            table.sort(reverse=True)
            ops = [ev for ev in prof.key_averages() if ev.device_type.name == "CPU" and ev.key.startswith("aten::")]
            return {"steps": steps, "wall_ms_per_step": 1e3 * wall / steps,
                    "device_busy_ms_per_step": busy / 1e3 / steps,
                    "device_idle_share": 1 - busy / 1e3 / steps / (1e3 * wall / steps) if wall else None,
                    "kernels_per_step": kernels / steps,
                    "aten_calls_per_step": sum(ev.count for ev in ops) / steps,
                    "device_ms_per_step_by_kind": {k: round(v / 1e3 / steps, 3) for k, v in
                                                   sorted(by_kind.items(), key=lambda kv: -kv[1])},
                    "top_kernels": [{"device_ms_per_step": round(d / 1e3 / steps, 3), "calls_per_step": c / steps,
                                     "name": n} for d, c, n in table[:25]]}

        original = module.Trainer.__init__

        def __init__(self, *args, **kwargs):
            original(self, *args, **kwargs)
            if not any(type(c).__name__ == "StepTimes" for c in self.callback_handler.callbacks):
                self.add_callback(StepTimes())

        module.Trainer.__init__ = __init__

    class _Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "transformers.trainer":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                _patch(module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _Finder())
"""


DEADLINE = [float("inf")]     # time.time() by which every run must have ended (--budget)
CHILD = [None]                # the process group running now (ended with the bench on SIGTERM)


def call(argv: list[str], env: dict, timeout: float, cwd: Path = ROOT) -> tuple[int | None, str]:
    """Run a command in its own process group (the product's worker is a grandchild); at its timeout, or the
    bench's deadline, end the group."""
    import signal

    timeout = min(timeout, DEADLINE[0] - time.time())
    if timeout < 20:
        return None, "[bench: not run, the bench's time budget is spent]"
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=os.setpgrp)
    CHILD[0] = proc.pid
    try:
        output, _ = proc.communicate(timeout=timeout)
        return proc.returncode, output
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        return None, (output or "") + f"\n[bench: stopped after {timeout:.0f} s]"
    finally:
        CHILD[0] = None


def _ended(signum, frame):
    import signal

    if CHILD[0]:
        try:
            os.killpg(CHILD[0], signal.SIGKILL)
        except ProcessLookupError:
            pass
    sys.exit(128 + signum)


class Timer:
    """The environment that makes a child process time its steps (STEP_HOOK), and what it measured."""

    def __init__(self, work: Path, window: tuple[int, int], profile_steps: int = 0):
        self.hook = work / "hook"
        self.hook.mkdir(parents=True, exist_ok=True)
        (self.hook / "sitecustomize.py").write_text(STEP_HOOK)
        self.window, self.profile_steps, self.work, self.count = window, profile_steps, work, 0

    def env(self, profile: bool, extra: dict | None = None) -> tuple[dict, Path]:
        self.count += 1
        out = self.work / f"steps_{self.count}.json"
        env = dict(os.environ, PYTHONUNBUFFERED="1", M3_BENCH_STEPS=str(out),
                   M3_BENCH_WINDOW=f"{self.window[0]},{self.window[1]}",
                   M3_BENCH_PROFILE_STEPS=str(self.profile_steps if profile else 0),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(self.hook), os.environ.get("PYTHONPATH")])),
                   **(extra or {}))
        return env, out

    @staticmethod
    def read(out: Path, output: str) -> dict:
        if out.is_file():
            return json.loads(out.read_text())
        return {"error": output[-3000:]}


def product(model: Path, data: Path, passage: int, steps: int, work: Path, timer: Timer, profile: bool,
            extra_env: dict | None = None, timeout: float = 600) -> tuple[dict, object]:
    from trainer.store import Store

    runs = work / "runs"
    env, out = timer.env(profile, extra_env)
    t0 = time.time()
    _, text = call([sys.executable, "-m", "trainer", "train", "--mode", "dense", "--model", str(model),
                    "--train-data", str(data), "--eval-data", "none", "--max-steps", str(steps),
                    "--batch-size", str(BATCH), "--group-size", str(GROUP), "--query-max-len", str(QUERY),
                    "--passage-max-len", str(passage), "--learning-rate", "1e-5", "--runs-dir", str(runs)], env, timeout)
    result = {**Timer.read(out, text), "process_seconds": round(time.time() - t0, 1),
              "log": [line for line in text.splitlines() if line.startswith("unpadded encoding:")]}
    store = Store(runs) if runs.is_dir() else None
    listed = store.list_runs() if store is not None and hasattr(store, "list_runs") else []
    run = listed[0] if listed else None
    if run is None and text.split() and store is not None:
        run = store.get_run(text.split()[0])
    return result, run


def plain(run, timer: Timer, profile: bool, timeout: float = 600) -> dict:
    from trainer.planning import reproduce

    argv = reproduce.run_command(run)
    if argv[0] == "torchrun":
        argv = [sys.executable, "-m", "torch.distributed.run", *argv[1:]]
    # The plan's `ddp_find_unused_parameters False` holds for the worker, which freezes the pooler; plain FlagEmbedding
    # trains a model with a pooler that gets no gradient, and DDP then fails at the 2nd step: its default instead.
    if "--ddp_find_unused_parameters" in argv:
        at = argv.index("--ddp_find_unused_parameters")
        del argv[at:at + 2]
    env, out = timer.env(profile)
    t0 = time.time()
    _, text = call(argv, env, timeout)
    result = {**Timer.read(out, text), "process_seconds": round(time.time() - t0, 1),
              "command": " ".join(argv[:6]) + " …"}
    shutil.rmtree(run.folder.reproduced, ignore_errors=True)
    return result


ST_SCRIPT = r"""
import json, sys
import torch
from datasets import Dataset
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments, losses, models
model_dir, data, passage, steps, out, batch, group = sys.argv[1:8]
rows = [json.loads(l) for l in open(data, encoding="utf-8") if l.strip()]
cols = {"anchor": [], "positive": [], **{f"negative_{i}": [] for i in range(1, int(group))}}
for r in rows:
    if len(r.get("neg", [])) < int(group) - 1:
        continue
    cols["anchor"].append(r["query"]); cols["positive"].append(r["pos"][0])
    for i in range(1, int(group)):
        cols[f"negative_{i}"].append(r["neg"][i - 1])
enc = models.Transformer(model_dir, max_seq_length=int(passage))
model = SentenceTransformer(modules=[enc, models.Pooling(enc.get_word_embedding_dimension(), "cls")])
args = SentenceTransformerTrainingArguments(output_dir=out, per_device_train_batch_size=int(batch), max_steps=int(steps),
    learning_rate=1e-5, warmup_ratio=0.1, bf16=torch.cuda.is_available(), logging_steps=50, save_strategy="no",
    report_to="none", dataloader_num_workers=2 if torch.cuda.is_available() else 0, seed=42)
trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=Dataset.from_dict(cols),
    loss=losses.MultipleNegativesRankingLoss(model, scale=50.0))
trainer.train()
"""


def sentence_transformers(model: Path, data: Path, passage: int, steps: int, work: Path, timer: Timer,
                          profile: bool, timeout: float = 600) -> dict:
    script = work / "st_train.py"
    script.write_text(ST_SCRIPT)
    env, out = timer.env(profile)
    t0 = time.time()
    _, text = call([sys.executable, str(script), str(model), str(data), str(passage), str(steps),
                    str(work / "st_out"), str(BATCH), str(GROUP)], env, timeout)
    shutil.rmtree(work / "st_out", ignore_errors=True)
    return {**Timer.read(out, text), "process_seconds": round(time.time() - t0, 1)}


def useful_flops_per_sample(model: Path, data: Path, passage: int) -> tuple[float, dict]:
    """Mean training FLOPs of one sample's real tokens (its query and group passages, truncated as trained)."""
    from tokenizers import Tokenizer

    cfg = json.loads((model / "config.json").read_text())
    h, layers, ff = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    per_token = 6 * layers * (4 * h * h + 2 * h * ff)          # Q, K, V, O and the feed-forward, forward + backward
    tok = Tokenizer.from_file(str(model / "tokenizer.json"))
    tok.no_truncation()
    rows = [json.loads(line) for line in data.open(encoding="utf-8") if line.strip()]
    total, tokens = 0.0, []
    for r in rows:
        texts = [(r["query"], QUERY)] + [(t, passage) for t in (r["pos"][:1] + r["neg"][:GROUP - 1])]
        for text, cap in texts:
            n = min(cap, len(tok.encode(text).ids))
            tokens.append(n)
            total += n * per_token + 12 * layers * h * n * n        # attention scores and weighted sum, fwd + bwd
    return total / len(rows), {"mean_tokens_per_text": statistics.mean(tokens), "flops_per_token_linear": per_token,
                               "mean_query_tokens": statistics.mean(tokens[::GROUP + 1]),
                               "mean_passage_tokens": statistics.mean(
                                   [n for i, n in enumerate(tokens) if i % (GROUP + 1)])}


def matmul_tflops() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        a @ b
    end.record()
    torch.cuda.synchronize()
    rate = 2 * 8192 ** 3 * 20 / (start.elapsed_time(end) / 1000) / 1e12
    del a, b
    torch.cuda.empty_cache()
    return rate


def estimate_gib(run, model: Path) -> float | None:
    from trainer.core import gpus
    from trainer.sizing.memory import estimate, setup_for
    from trainer.sizing.memory import model_shape

    found = gpus.detect()
    if run is None or not found:
        return None
    return estimate(setup_for(run.config, model_shape(str(model)), found[0].memory_gib)).total_gib


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warmup", type=int, default=10, help="steps before the timed window (K1)")
    ap.add_argument("--window-end", type=int, default=40, help="the timed window's last step (K2)")
    ap.add_argument("--profile", default="", help="which systems to profile after the window (product,plain,st)")
    ap.add_argument("--profile-steps", type=int, default=3)
    ap.add_argument("--variants", default="", help="NAME=VAR=VALUE[+VAR=VALUE];... extra product runs")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--tiny", action="store_true", help="a 2-layer model (a CPU check of the bench)")
    ap.add_argument("--only", default="long,short")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--variant-sets", default="", help="the sets the variants run on (default: --only)")
    ap.add_argument("--run-timeout", type=float, default=300, help="seconds for one system's run")
    ap.add_argument("--budget", type=float, default=0, help="seconds for the whole bench (runs that would pass it "
                    "are cut or skipped)")
    ns = ap.parse_args()
    import signal

    signal.signal(signal.SIGTERM, _ended)
    if ns.budget:
        DEADLINE[0] = time.time() + ns.budget
    from trainer.core.config import DEMO_DIR

    started = time.time()
    work = Path(tempfile.mkdtemp(prefix="m3-throughput-"))
    window = (ns.warmup, ns.window_end)
    timer = Timer(work, window, ns.profile_steps)
    profiled = {"product": "product", "plain": "plain_flagembedding", "st": "sentence_transformers"}
    profiled = {profiled.get(x, x) for x in ns.profile.split(",") if x}
    model = work / "model"
    shape = gpu_suite.make_model(model, gpu_suite.tokenizer_dir(), tiny=ns.tiny)
    source = gpu_suite.data_dir()
    long = work / "scifact.jsonl"
    long.write_text(source.joinpath("train.jsonl").read_text(encoding="utf-8"))
    short = work / "demo_x3.jsonl"
    short.write_text(DEMO_DIR.joinpath("train.jsonl").read_text(encoding="utf-8") * 3)
    sets = {"long": (long, 512, "SciFact's 484 training rows"), "short": (short, 128, "the demo set, 3 x 180 rows")}
    peak_tflops = matmul_tflops()
    result = {"device": gpu_suite.device(), "versions": gpu_suite.versions(), "model": shape, "batch": BATCH,
              "group_size": GROUP, "query_len": QUERY, "mode": "dense", "precision": "bf16",
              "method": f"steady state: steps {window[0]}..{window[1]} of each run, the device waited for at both ends "
                        "(bench/gpu_throughput.py STEP_HOOK), no checkpoint or evaluation inside",
              "bf16_matmul_tflops": peak_tflops, "sets": {}}
    out = ns.out or ROOT / "bench" / "results" / f"gpu_throughput_{gpu_suite.device_slug(result['device'])}.json"
    variants = {}
    for spec in filter(None, ns.variants.split(";")):
        name, _, settings = spec.partition("=")
        variants[name] = dict(kv.split("=", 1) for kv in settings.split("+"))
    systems = ns.systems.split(",")
    entries = {}
    for name in ns.only.split(","):
        data, passage, label = sets[name]
        rows = sum(1 for line in data.open(encoding="utf-8") if line.strip())
        steps = window[1] + ns.profile_steps + 2
        assert steps < rows // BATCH, f"{name}: {steps} steps would reach the epoch's end (its checkpoint)"
        flops, counts = useful_flops_per_sample(model, data, passage)
        entries[name] = result["sets"][name] = {"data": label, "rows": rows, "passage_len": passage,
                                                "max_steps": steps, **counts, "useful_gflops_per_sample": flops / 1e9}

    def finish(name: str) -> None:
        entry = result["sets"][name]
        flops = entry["useful_gflops_per_sample"] * 1e9
        measured = [k for k in entry if k in SYSTEMS or k.startswith("product_")]
        for system in measured:
            sps = entry[system].get("samples_per_s")
            if sps and peak_tflops:
                entry[system]["mfu"] = sps * flops / (peak_tflops * 1e12)
        base = entry.get("product", {}).get("samples_per_s")
        entry["ratios"] = {f"product_over_{k}": base / entry[k]["samples_per_s"] for k in SYSTEMS[1:]
                           if base and entry.get(k, {}).get("samples_per_s")}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")

    for name, entry in entries.items():                 # the three systems on every set first
        data, passage, _ = sets[name]
        steps, run = entry["max_steps"], None
        for system in systems:
            profile = system in profiled
            if system == "product":
                entry["product"], run = product(model, data, passage, steps, work / name, timer, profile,
                                                timeout=ns.run_timeout)
                entry["product"]["estimate_gib"] = estimate_gib(run, model)
            elif system == "plain_flagembedding" and run is not None:
                entry[system] = plain(run, timer, profile, ns.run_timeout)
            elif system == "sentence_transformers":
                entry[system] = sentence_transformers(model, data, passage, steps, work / name, timer, profile,
                                                      ns.run_timeout)
            if run is not None:
                shutil.rmtree(run.folder.model, ignore_errors=True)
            finish(name)
            print(f"{name} {system}: {json.dumps(entry.get(system, {}))[:2500]}", flush=True)
    for variant, env in variants.items():               # then the product's variants, where asked
        for name in [n for n in entries if n in (ns.variant_sets or ns.only).split(",")]:
            data, passage, _ = sets[name]
            key = f"product_{variant}"
            entry = entries[name]
            entry[key], vrun = product(model, data, passage, entry["max_steps"], work / f"{name}_{variant}", timer,
                                       "product" in profiled, env, ns.run_timeout)
            entry[key]["env"] = env
            if vrun is not None:
                shutil.rmtree(vrun.folder.model, ignore_errors=True)
            finish(name)
            print(f"{name} {key}: {json.dumps(entry[key])[:2500]}", flush=True)
    for name, entry in entries.items():
        finish(name)
        measured = [k for k in entry if k in SYSTEMS or k.startswith("product_")]
        print(json.dumps({name: {**{k: entry[k].get("samples_per_s") for k in measured},
                                 "mfu": {k: entry[k].get("mfu") for k in measured}, **entry["ratios"]}}), flush=True)
    result["wall_seconds"] = round(time.time() - started, 1)
    out.write_text(json.dumps(result, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
