"""The GPU suite (issue 39): the path a user's GPU run takes, on a CUDA machine. `pytest -m gpu` (or
`python bench/gpu_suite.py`, which also writes `bench/results/gpu_suite_<device>.json`); skipped, with the
reason, where nvidia-smi finds no GPU, at no cost to the CPU suite (no torch import at collection).

Every run goes through the product's own `python -m trainer train` command (or, for resume and Stop, the
dashboard's `trainer.launch`) and worker, on a BGE-M3-shaped model with random weights (bench/gpu_suite.py
`make_model`) and SciFact's real-length rows (passages of 20-1,900 tokens): the default all-heads run (unpadded
encoding on), dense and heads modes, length buckets with packing, resume from a checkpoint, Stop, the held-out
test; on 2 GPUs DDP and ZeRO-1/2 with unpadded encoding on and a killed rank (skipped on fewer). First, at equal
weights: packed encoding gives the padded model's vectors, loss and gradients on this GPU at these versions.

`M3_GPU_SUITE_ON_CPU=1` runs the same flow on the CPU with a 2-layer model and 64 rows (`=2`: the 2-process tests
too, on gloo), a developer's check of the suite itself; unpadded encoding is then off, as the plan has it on CPUs.
"""
from __future__ import annotations

import copy
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, wait_for, write_jsonl
from trainer.core import gpus, metrics
from trainer.core.metrics import Metric, score

GPUS = gpus.detect()
ON_CPU = not GPUS and os.environ.get("M3_GPU_SUITE_ON_CPU") in ("1", "2")
TWO_ON_CPU = ON_CPU and os.environ.get("M3_GPU_SUITE_ON_CPU") == "2"        # also the 2-process tests, on gloo
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not GPUS and not ON_CPU,
                                 reason="no CUDA GPU here (nvidia-smi finds none): run `python bench/gpu_suite.py` "
                                        "on a GPU machine")]
two_gpus = pytest.mark.skipif(len(GPUS) < 2 and not TWO_ON_CPU, reason=f"needs 2 GPUs; {len(GPUS)} visible here")
ROWS = 64 if ON_CPU else 240              # of SciFact's 484 training rows (the split's corpus: ~1,900 passages)
SMALL = 48 if ON_CPU else 160             # rows of the resume and Stop runs
SUITE: dict = {}                          # the model and data, for bench/gpu_suite.py's results file
HEADS = ("dense", "sparse", "colbert")


def cuda() -> bool:
    return bool(GPUS)


# ---------------------------------------------------------------------------------------------------- set-up


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    from bench import gpu_suite

    source = gpu_suite.data_dir()
    if source is None:
        pytest.skip("no SciFact training file: set M3_GPU_DATA to a folder with train.jsonl")
    work = tmp_path_factory.mktemp("gpu-suite")
    model = work / "bge-m3-shaped"
    SUITE["model"] = gpu_suite.make_model(model, gpu_suite.tokenizer_dir(), tiny=ON_CPU)
    rows = (source / "train.jsonl").read_text(encoding="utf-8").splitlines()
    full = write_jsonl(work / "scifact.jsonl", rows[:ROWS])
    small = write_jsonl(work / "scifact_small.jsonl", rows[:SMALL])
    SUITE["data"] = {"source": "SciFact train.jsonl (1 positive + 7 negatives a row)", "rows": len(rows[:ROWS]),
                     "small_rows": SMALL}
    yield {"model": model, "full": full, "small": small, "work": work}
    shutil.rmtree(work, ignore_errors=True)


def logs_dir() -> Path | None:
    folder = os.environ.get("M3_GPU_SUITE_LOGS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder) if folder else None


def keep_log(name: str, text: str) -> None:
    folder = logs_dir()
    if folder is not None:
        (folder / f"{name}.log").write_text(text, encoding="utf-8", errors="replace")


def train_cli(runs: Path, name: str, *flags, timeout: int = 400):
    """`python -m trainer train FLAGS --runs-dir RUNS` as a user types it; (store, run, the command's output)."""
    from trainer.store import Store

    done = subprocess.run([sys.executable, "-m", "trainer", "train", *map(str, flags), "--runs-dir", str(runs)],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONUNBUFFERED="1"))
    output = done.stdout + "\n--- stderr ---\n" + done.stderr
    keep_log(name, output)
    store = Store(runs)
    run_id = done.stdout.split()[0] if done.stdout.split() else None
    assert run_id, output[-4000:]
    run = store.get_run(run_id)
    assert done.returncode == 0 and run.status in ("completed", "stopped"), \
        f"exit {done.returncode}, {run.status}: {run.error}\n{output[-6000:]}"
    return store, run, output


def points(store, run_id, name: str) -> list:
    return [p for p in store.metrics(run_id) if p.name == name]


def plan_of(run):
    from trainer.planning import plan

    return plan.load(run.folder.plan)


def estimate_gib(cfg, world: int = 1) -> float:
    from trainer.sizing.memory import estimate, setup_for
    from trainer.sizing.memory import model_shape

    card = GPUS[0].memory_gib if GPUS else 80.0
    return estimate(setup_for(cfg, model_shape(cfg.model), card)).total_gib


def check_training(store, run, output: str, record_property, *, packed: bool = True) -> dict:
    """What every GPU run must show: each planned step's loss finite, samples/s and peak memory recorded, the
    model saved, and on a GPU unpadded encoding on (the plan) and packing real batches (the log)."""
    plan = plan_of(run)
    losses = points(store, run.id, Metric.LOSS)
    assert losses and all(math.isfinite(p.value) for p in losses), [p.value for p in losses][:20]
    assert [p.step for p in losses] == list(range(1, len(losses) + 1))
    if run.status == "completed":
        assert len(losses) == plan.total_steps, (len(losses), plan.total_steps)
    speed = [p.value for p in points(store, run.id, Metric.SAMPLES_PER_S)]
    assert speed
    facts = {"steps": len(losses), "first_loss": round(losses[0].value, 4), "last_loss": round(losses[-1].value, 4),
             "samples_per_s_median": round(statistics.median(speed[min(3, len(speed) - 1):]), 2),
             "precision": plan.precision}
    assert run.folder.has_model()
    if cuda():
        assert plan.precision == "bf16" and plan.studio["unpadded"] is True
        assert "unpadded encoding: on" in output
        if packed:
            assert "unpadded encoding: packed the first batch" in output, "no batch took the packed path"
        assert "those batches are padded" not in output, "a batch fell back to padding"
        peak = max(p.value for p in points(store, run.id, Metric.PEAK_GPU_GIB))
        facts["peak_gpu_gib"] = round(peak, 2)
    for key, value in facts.items():
        record_property(key, value)
    return facts


def scores_at(store, run_id, name: str) -> dict[int, float]:
    return {p.step: p.value for p in points(store, run_id, name)}


def drop_checkpoints(run) -> None:
    for folder in run.folder.model.glob("checkpoint-*"):
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------- equal weights: packed = padded


def test_packed_encoding_equals_padded_at_equal_weights(assets, record_property, monkeypatch):
    """FlagEmbedding's padded M3 model against the unpadded one, same weights, SciFact batches of the suite's
    tokenizer: fp32 (TF32 off) vectors, loss and gradients, also with gradient checkpointing and on the whole
    path with the broadcast mask (a model that cannot be packed); bf16 autocast no further from fp32 than the
    padded model in bf16."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model
    from trainer.engine import unpadded
    from trainer.engine.lean_head import LeanSparseM3Model

    device = "cuda" if cuda() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    tokenizer = AutoTokenizer.from_pretrained(assets["model"])
    tokenizer.eos_token = tokenizer.sep_token
    torch.manual_seed(0)
    encoder = AutoModel.from_pretrained(assets["model"], add_pooling_layer=False, hidden_dropout_prob=0.0,
                                        attention_probs_dropout_prob=0.0).to(device).float()
    h = encoder.config.hidden_size
    padded = EncoderOnlyEmbedderM3Model(
        {"model": encoder, "colbert_linear": torch.nn.Linear(h, h), "sparse_linear": torch.nn.Linear(h, 1)},
        tokenizer=tokenizer, temperature=0.02, sentence_pooling_method="cls", normalize_embeddings=True,
        unified_finetuning=True, use_self_distill=True, self_distill_start_step=0).to(device)
    padded.__class__ = LeanSparseM3Model
    fast = unpadded.enable(copy.deepcopy(padded))
    rows = [json.loads(line) for line in assets["full"].read_text(encoding="utf-8").splitlines()[:8]]

    def tokens(texts, length):
        # the trainer's batches: transformers' BatchEncoding, padded to the longest, on the device
        return tokenizer(texts, padding=True, truncation=True, max_length=length, return_tensors="pt").to(device)

    q = tokens([r["query"] for r in rows[:4]], 64)
    p = tokens([t for r in rows[:4] for t in (r["pos"][:1] + r["neg"][:3])], 512)
    share = unpadded.padded_share(p["attention_mask"].sum(1).tolist(), p["attention_mask"].shape[1])
    assert share > 0.05, share                                 # real lengths: the packed path is taken

    def diff(a, b) -> float:
        return float((a.float() - b.float()).abs().max())

    def loss_and_grads(model):
        model.zero_grad(set_to_none=True)
        loss = model(queries=q, passages=p).loss
        loss.backward()
        return loss.item(), {n: w.grad.detach().clone() for n, w in model.named_parameters() if w.grad is not None}

    facts = {"passage_padding_share": round(share, 3)}
    reference = None
    for checkpointing in (False, True):
        for model in (padded, fast):
            model.train()
            if checkpointing:
                model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        with torch.no_grad():
            ref, got = padded.encode(p), fast.encode(p)
        vec = max(diff(a, b) for a, b in zip(ref, got))
        (la, ga), (lb, gb) = loss_and_grads(padded), loss_and_grads(fast)
        assert ga.keys() == gb.keys()
        grad = max(diff(ga[n], gb[n]) / max(1e-6, float(ga[n].abs().max())) for n in ga)
        tag = "ckpt_" if checkpointing else ""
        facts.update({f"fp32_{tag}max_vector_diff": vec, f"fp32_{tag}loss_diff": abs(la - lb),
                      f"fp32_{tag}max_relative_grad_diff": grad})
        # gradients: relative to each parameter's largest entry (a wrong mask or position would be O(1))
        assert vec <= 1e-4 and abs(la - lb) <= 1e-4 * max(1.0, abs(la)) and grad <= 1e-2, facts
        reference = reference or (la, ga)
    # bf16 autocast training, as the runs train (flash attention's backward, one pass for queries and passages):
    # the packed model's loss and gradients no further from fp32 than the padded model's
    if cuda():
        with torch.autocast(device, dtype=torch.bfloat16):
            (lp, gp), (lf, gf) = loss_and_grads(padded), loss_and_grads(fast)
        la, ga = reference
        off = {name: max(diff(g[n], ga[n]) / max(1e-6, float(ga[n].abs().max())) for n in ga)
               for name, g in (("padded", gp), ("unpadded", gf))}
        facts.update(bf16_padded_loss_vs_fp32=abs(lp - la), bf16_unpadded_loss_vs_fp32=abs(lf - la),
                     bf16_padded_max_relative_grad_vs_fp32=off["padded"],
                     bf16_unpadded_max_relative_grad_vs_fp32=off["unpadded"])
        assert abs(lf - la) <= 2 * abs(lp - la) + 1e-2 * max(1.0, abs(la)), facts
        assert off["unpadded"] <= 2 * off["padded"] + 1e-2, facts
    # bf16 autocast, as the runs train: the packed path no further from fp32 than the padded one
    with torch.no_grad():
        ref = padded.encode(p)[0]
        with torch.autocast(device, dtype=torch.bfloat16):
            bf_padded, bf_fast = padded.encode(p)[0], fast.encode(p)[0]
    facts.update(bf16_padded_vs_fp32=diff(bf_padded, ref), bf16_unpadded_vs_fp32=diff(bf_fast, ref))
    assert diff(bf_fast, ref) <= 2 * diff(bf_padded, ref) + 1e-3, facts
    # the whole path (a model that cannot be packed: the padding mask broadcast) and a batch without padding
    monkeypatch.setattr(unpadded, "packable", lambda encoder: False)
    with torch.no_grad():
        facts["fp32_broadcast_mask_max_vector_diff"] = max(diff(a, b) for a, b in zip(padded.encode(p), fast.encode(p)))
        even = tokens(["word " * 200] * 6, 128)
        assert int(even["attention_mask"].sum()) == even["attention_mask"].numel()
        facts["fp32_no_padding_max_vector_diff"] = max(diff(a, b) for a, b in zip(padded.encode(even), fast.encode(even)))
    assert facts["fp32_broadcast_mask_max_vector_diff"] <= 1e-4 and facts["fp32_no_padding_max_vector_diff"] <= 1e-4, facts
    for key, value in facts.items():
        record_property(key, value if isinstance(value, str) else float(f"{value:.3g}"))
    del padded, fast, encoder
    if cuda():
        torch.cuda.empty_cache()


# --------------------------------------------------------------------------------- one GPU: the user's runs


def test_default_all_heads_run(assets, tmp_path, record_property):
    """`python -m trainer train --mode all` with every default (unpadded encoding on, lengths and learning rate
    from the data, bf16 by `precision=auto`) and the held-out split: validated at step 0 and each epoch, tested
    before and after, the measured peak within the estimator's (an upper bound for packed batches)."""
    store, run, output = train_cli(tmp_path / "runs", "default_all", "--mode", "all", "--model", assets["model"],
                                   "--train-data", assets["full"], "--eval-data", "split", "--epochs", 2)
    facts = check_training(store, run, output, record_property)
    cfg = run.config
    record_property("settings", f"batch {cfg.batch_size}, group {cfg.group_size}, query {cfg.query_max_len}, "
                                f"passage {cfg.passage_max_len}, lr {cfg.learning_rate:g}")
    last = max(p.step for p in points(store, run.id, Metric.LOSS))
    for head in HEADS:
        val = scores_at(store, run.id, score(head))
        assert 0 in val and last in val and all(0 <= v <= 1 for v in val.values()), (head, val)
        tested = scores_at(store, run.id, metrics.test(score(head)))
        assert 0 in tested and last in tested, (head, tested)
        record_property(f"test_{head}_mrr10", f"{tested[0]:.3f} -> {tested[last]:.3f}")
    if cuda():
        estimate = estimate_gib(cfg)
        record_property("estimate_gib", round(estimate, 2))
        assert facts["peak_gpu_gib"] <= estimate * 1.03, (facts["peak_gpu_gib"], estimate)
    drop_checkpoints(run)


@pytest.fixture(scope="module")
def dense_run(assets, tmp_path_factory):
    """Dense mode with gradient checkpointing, the held-out split but no test during training (as a settings
    search's trial): `python -m trainer test` tests it afterwards."""
    return train_cli(tmp_path_factory.mktemp("dense") / "runs", "dense", "--mode", "dense", "--model",
                     assets["model"], "--train-data", assets["full"], "--eval-data", "split", "--no-held-out-test",
                     "--gradient-checkpointing", "--max-steps", 16, "--passage-max-len", 512, "--query-max-len", 64)


def test_dense_mode_with_gradient_checkpointing(dense_run, record_property):
    store, run, output = dense_run
    check_training(store, run, output, record_property)
    assert run.config.gradient_checkpointing
    assert score("dense") in {p.name for p in store.metrics(run.id)}
    assert not [p for p in store.metrics(run.id) if p.name.startswith("test.")]      # not tested while training


def test_held_out_test_command(dense_run, record_property):
    """`python -m trainer test RUN_ID`: the base model and the kept model on the run's held-out test, once."""
    store, run, _ = dense_run
    command = [sys.executable, "-m", "trainer", "test", run.id, "--runs-dir", str(store.runs_dir)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    keep_log("held_out_test", done.stdout + done.stderr)
    assert done.returncode == 0, done.stderr[-4000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    key = metrics.test(score("dense"))
    assert not answer["tested_before"] and key in answer["before"] and key in answer["after"], answer
    record_property("test_dense_mrr10", f"{answer['before'][key]:.3f} -> {answer['after'][key]:.3f}")
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert json.loads(again.stdout.strip().splitlines()[-1])["tested_before"]          # touched once
    drop_checkpoints(run)


def test_heads_mode(assets, tmp_path, record_property):
    """Heads mode (encoder frozen, sparse and ColBERT heads trained): the packed encoder runs without a graph."""
    store, run, output = train_cli(tmp_path / "runs", "heads", "--mode", "heads", "--model", assets["model"],
                                   "--train-data", assets["full"], "--eval-data", "split", "--max-steps", 16,
                                   "--passage-max-len", 512, "--query-max-len", 64)
    check_training(store, run, output, record_property)
    assert scores_at(store, run.id, score("colbert")) and scores_at(store, run.id, score("sparse"))
    drop_checkpoints(run)


def test_length_buckets_with_packing(assets, tmp_path, record_property):
    """`--length-buckets auto`: one file per bucket, each its own batch, passages at full length (SciFact's
    longest 1,939 tokens here), packed; each bucket's measured peak within its estimate."""
    from trainer.sizing import buckets

    store, run, output = train_cli(tmp_path / "runs", "length_buckets", "--mode", "all", "--model", assets["model"],
                                   "--train-data", assets["full"], "--eval-data", "none", "--epochs", 1,
                                   "--length-buckets", "auto", "--group-size", 4)
    check_training(store, run, output, record_property)
    kept = buckets.load(Path(plan_of(run).length_plan))
    plan = buckets.from_dict(kept)
    assert len(plan.buckets) >= 2 and plan.longest > 512, kept
    if cuda():
        assert plan.unpadded
    measured = {m["max_len"]: m for m in kept["measured"]}
    record_property("buckets", "; ".join(
        f"{b.min_len}-{b.max_len}: {b.rows} rows, batch {b.batch_size}, estimate {b.estimate_gib} GiB, "
        f"peak {measured[b.max_len].get('measured_peak_gib')} GiB, {measured[b.max_len]['steps']} steps"
        for b in plan.buckets))
    assert all(measured[b.max_len]["steps"] > 0 for b in plan.buckets), kept["measured"]
    if cuda():
        for b in plan.buckets:
            assert measured[b.max_len]["measured_peak_gib"] <= b.estimate_gib * 1.03, (b, measured[b.max_len])
    drop_checkpoints(run)


def background_config(assets, **changes):
    from trainer.core.config import Mode, RunConfig

    base = RunConfig(mode=Mode.ALL, model=str(assets["model"]), train_data=str(assets["small"]), eval_data=None,
                     epochs=3, batch_size=8, group_size=4, query_max_len=64, passage_max_len=512,
                     learning_rate=1e-5)
    return base.replace(**changes)


def run_log(run) -> str:
    return run.folder.log.read_text(encoding="utf-8", errors="replace") if run.folder.log.is_file() else ""


def test_resume_from_a_checkpoint(assets, tmp_path, record_property):
    """The dashboard's path: a run started in the background, its worker killed after the first epoch's
    checkpoint, resumed (`launch.resume`) under the same id from that step to the end."""
    from trainer.jobs import launch
    from trainer.store import Store

    store = Store(tmp_path / "runs")
    run_id = launch.start(store, background_config(assets, epochs=2))
    run = store.get_run(run_id)
    try:
        wait_for(lambda: run.folder.last_checkpoint() is not None or not store.get_run(run_id).live, 400,
                 "the first checkpoint")
        assert store.get_run(run_id).live, run_log(run)[-4000:]
        os.killpg(os.getpgid(store.get_run(run_id).pid), signal.SIGKILL)
        wait_for(lambda: not store.get_run(run_id).live, 120, "the watcher to see the kill")
        assert store.get_run(run_id).status == "failed"
        checkpoint = run.folder.last_checkpoint()
        resumed_from = int(checkpoint.name.split("-")[1])
        before = [p.step for p in points(store, run_id, Metric.LOSS)]
        launch.resume(store, run_id)
        wait_for(lambda: store.get_run(run_id).status not in ("running", "queued", "waiting") and
                 not store.get_run(run_id).live, 480, "the resumed run to end")
    finally:
        keep_log("resume", run_log(run))
    run = store.get_run(run_id)
    assert run.status == "completed", f"{run.status}: {run.error}\n{run_log(run)[-4000:]}"
    steps = [p.step for p in points(store, run_id, Metric.LOSS)]
    resumed = steps[len(before):]
    assert resumed == list(range(resumed_from + 1, plan_of(run).total_steps + 1)), (resumed_from, before, resumed)
    assert all(math.isfinite(p.value) for p in points(store, run_id, Metric.LOSS))
    if cuda():
        assert run_log(run).count("unpadded encoding: packed the first batch") == 2        # both processes packed
    record_property("killed_after_step", before[-1])
    record_property("resumed_from_step", resumed_from)
    record_property("steps", len(steps))
    drop_checkpoints(run)


def test_stop(assets, tmp_path, record_property):
    """Stop, as the Train page's button asks it (the store's flag): the worker ends the step in flight, saves the
    model and ends `stopped`, within seconds."""
    from trainer.jobs import launch
    from trainer.store import Store

    store = Store(tmp_path / "runs")
    run_id = launch.start(store, background_config(assets, epochs=50))
    run = store.get_run(run_id)
    try:
        wait_for(lambda: len(points(store, run_id, Metric.LOSS)) >= 5 or not store.get_run(run_id).live, 400,
                 "five steps")
        assert store.get_run(run_id).live, run_log(run)[-4000:]
        asked = time.time()
        store.request_stop(run_id)
        wait_for(lambda: not store.get_run(run_id).live, 180, "the run to stop")
        ended = time.time()
    finally:
        keep_log("stop", run_log(run))
    run = store.get_run(run_id)
    assert run.status == "stopped", f"{run.status}: {run.error}\n{run_log(run)[-4000:]}"
    assert run.folder.has_model()
    last = points(store, run_id, Metric.LOSS)[-1]
    record_property("seconds_from_stop_to_last_step", round(max(0.0, last.time - asked), 2))
    record_property("seconds_from_stop_to_end", round(ended - asked, 2))
    record_property("steps", last.step)
    drop_checkpoints(run)


# ------------------------------------------------------------------------------------------------- two GPUs


@two_gpus
def test_two_gpus_ddp_unpadded(assets, tmp_path, record_property):
    store, run, output = train_cli(tmp_path / "runs", "ddp", "--mode", "all", "--model", assets["model"],
                                   "--train-data", assets["full"], "--eval-data", "split", "--num-gpus", 2,
                                   "--max-steps", 24, "--passage-max-len", 512, "--query-max-len", 64)
    check_training(store, run, output, record_property)
    assert plan_of(run).world == 2
    if cuda():
        assert output.count("unpadded encoding: packed the first batch") == 2           # on both ranks
    drop_checkpoints(run)


@two_gpus
@pytest.mark.parametrize("stage", [1, 2])
def test_two_gpus_zero_unpadded(assets, tmp_path, record_property, stage):
    import importlib.util

    if not cuda():
        pytest.skip("ZeRO runs on GPUs only")
    if importlib.util.find_spec("deepspeed") is None:
        pytest.skip("deepspeed is not installed (requirements.txt pins 0.19.8: carry its wheel)")
    store, run, output = train_cli(tmp_path / "runs", f"zero{stage}", "--mode", "all", "--model", assets["model"],
                                   "--train-data", assets["full"], "--eval-data", "none", "--num-gpus", 2,
                                   "--zero-stage", stage, "--max-steps", 24, "--passage-max-len", 512,
                                   "--query-max-len", 64)
    check_training(store, run, output, record_property)
    assert plan_of(run).args.get("deepspeed")
    drop_checkpoints(run)


def rank_processes(rank: int) -> list[int]:
    """This test's worker processes of `rank` (their environment: RANK and the suite's owner variable)."""
    owner = os.environ.get("M3_TEST_OWNER", "")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = dict(item.split(b"=", 1) for item in (entry / "environ").read_bytes().split(b"\0") if b"=" in item)
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if (env.get(b"RANK") == str(rank).encode() and env.get(b"M3_TEST_OWNER", b"").decode().startswith(owner)
                and b"trainer.engine.worker" in cmdline and b"torch.distributed.run" not in cmdline):
            found.append(int(entry.name))
    return found


@two_gpus
def test_two_gpus_killed_rank(assets, tmp_path, record_property):
    """A rank SIGKILLed mid-run (the kernel's OOM killer, say): torchrun ends the other rank, the run fails
    naming the rank, no process is left."""
    from trainer.jobs import launch
    from trainer.store import Store

    store = Store(tmp_path / "runs")
    run_id = launch.start(store, background_config(assets, epochs=50, num_gpus=2))
    run = store.get_run(run_id)
    try:
        wait_for(lambda: len(points(store, run_id, Metric.LOSS)) >= 3 or not store.get_run(run_id).live, 400,
                 "three steps")
        victims = rank_processes(1)
        assert victims, run_log(run)[-4000:]
        os.kill(min(victims), signal.SIGKILL)      # the rank's own process (its data-loader children came later)
        wait_for(lambda: not store.get_run(run_id).live, 180, "the run to end")
    finally:
        keep_log("killed_rank", run_log(run))
    run = store.get_run(run_id)
    assert run.status == "failed" and run.error.startswith("rank 1: the training worker was killed by SIGKILL"), run.error
    wait_for(lambda: not rank_processes(0) and not rank_processes(1), 60, "every rank to end")
    drop_checkpoints(run)
