"""Length buckets (trainer.buckets): planning, the CLI, and a real bucketed CPU run."""
import json
import random
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from trainer.store.run_folder import BUCKETS, LENGTH_PLAN
from trainer.sizing import buckets
from trainer.core.config import Mode
from trainer.data import DataError
from trainer.sizing.memory import BGE_M3, Setup, card_gib, estimate
from trainer.core.model_source import embedded_model_dir
from trainer.store import Store

ROOT = Path(__file__).resolve().parent.parent
WORDS = [w for w in (embedded_model_dir() / "vocab.txt").read_text().split() if w.isascii() and w.isalpha()
         and w.islower()]


def text(tokens: int, rnd: random.Random) -> str:
    """A text of exactly `tokens` tokens for the embedded WordPiece tokenizer (CLS and SEP included)."""
    return " ".join(rnd.choices(WORDS, k=tokens - 2))


def rows_of(lengths, seed=0):
    rnd = random.Random(seed)
    return [{"query": text(6, rnd), "pos": [text(n, rnd)], "neg": [text(max(3, n // 2), rnd)]} for n in lengths]


def bge_plan(lengths, gpu_gib=80.0, **kw):
    return buckets.length_plan(lengths, shape=BGE_M3, mode=kw.pop("mode", Mode.ALL), gpu_gib=gpu_gib, model_max=8192, **kw)


def spread(seed: int, n: int = 400) -> list[int]:
    rnd = random.Random(seed)
    return [min(8192, int(rnd.lognormvariate(6.5, 1.1)) + 3) for _ in range(n)]


def fits(plan: buckets.LengthPlan, b: buckets.Bucket) -> bool:
    usable = card_gib(plan.gpu_gib) * (1 - buckets.PLAN_MARGIN)
    return estimate(Setup(shape=BGE_M3, mode=Mode(plan.mode), batch=b.batch_size, group_size=plan.group_size,
                          query_len=plan.query_len, passage_len=b.max_len, precision=plan.precision,
                          grad_ckpt=b.grad_ckpt, sparse_head=plan.sparse_head, gpu_gib=usable,
                          num_gpus=plan.gpus, padded=True)).fits


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("gpu_gib", [24, 48, 80, 141])
def test_plan_keeps_every_row_once_shrinks_batches_with_length_and_every_bucket_fits(seed, gpu_gib):
    lengths = spread(seed)
    plan = bge_plan(lengths, gpu_gib=gpu_gib, group_size=8)
    assert sorted(Counter(plan.row_bucket).items()) == [(k, b.rows) for k, b in enumerate(plan.buckets)]
    assert sum(b.rows for b in plan.buckets) == len(lengths) == len(plan.row_bucket)
    for i, n in enumerate(lengths):               # each row sits in a bucket that holds its length
        b = plan.buckets[plan.row_bucket[i]]
        assert b.min_len <= n <= b.max_len
    assert [b.max_len for b in plan.buckets] == sorted(b.max_len for b in plan.buckets)
    batches = [b.batch_size for b in plan.buckets]
    assert batches == sorted(batches, reverse=True), batches
    assert all(b.batch_size >= 1 and b.rows >= b.batch_size and fits(plan, b) for b in plan.buckets)
    assert plan.steps_per_epoch == sum(b.rows // b.batch_size for b in plan.buckets)


def test_plan_is_deterministic_and_ignores_row_order_for_its_buckets():
    lengths = spread(7)
    first, again = bge_plan(lengths), bge_plan(list(lengths))
    assert first.to_dict() == again.to_dict() and first.row_bucket == again.row_bucket
    shuffled = list(lengths)
    random.Random(1).shuffle(shuffled)
    assert bge_plan(shuffled).to_dict()["buckets"] == first.to_dict()["buckets"]


def test_long_buckets_switch_checkpointing_on_only_where_batch_one_would_not_fit():
    plan = bge_plan([300] * 64 + [1500] * 32 + [8000] * 8, gpu_gib=24, group_size=8)
    short, long = plan.buckets[0], plan.buckets[-1]
    assert not short.grad_ckpt and long.grad_ckpt and "checkpointing" in long.why
    one = Setup(shape=BGE_M3, mode=Mode.ALL, batch=1, passage_len=long.max_len, padded=True,
                gpu_gib=card_gib(24) * (1 - buckets.PLAN_MARGIN))
    assert not estimate(one).fits and estimate(replace(one, grad_ckpt=True)).fits
    assert plan.grad_ckpt


def test_tiny_bucket_is_merged_into_its_longer_neighbour():
    plan = bge_plan([300] * 200 + [700] * 2 + [1500] * 40, gpu_gib=80, group_size=8)
    assert len(plan.buckets) == 2 and plan.notes and "merged" in plan.notes[0]
    assert plan.buckets[1].min_len == 500 and plan.buckets[1].rows == 42


def test_bad_input_is_named():
    with pytest.raises(DataError) as too_long:
        bge_plan([100, 9000, 200, 8193], source="data.jsonl")
    lines = [(p.file, p.line) for p in too_long.value.problems]
    assert lines == [("data.jsonl", 2), ("data.jsonl", 4)] and "longer than the model's maximum of 8192" in str(too_long.value)
    with pytest.raises(ValueError, match=r"data.jsonl: length bucket\(s\) 500-1000 tokens hold no rows"):
        bge_plan([100, 2000], spec="0,500,1000", source="data.jsonl")
    with pytest.raises(ValueError, match="does not fit a 12 GB card even at batch 1 with gradient checkpointing"):
        bge_plan([8000] * 4, gpu_gib=12, group_size=16)
    with pytest.raises(DataError, match="no rows"):
        bge_plan([])
    assert buckets.check_spec("auto") is None and buckets.check_spec("0,500,2000") is None
    assert "expected 'off', 'auto'" in buckets.check_spec("sometimes")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "trainer", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_plan_cli_prints_buckets_as_json_and_refuses_bad_input(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows_of([20] * 8 + [100] * 4 + [480] * 2)))
    done = run_cli("buckets", "--train", str(data), "--model", "default", "--mode", "all", "--gpu-gib", "1.2",
                   "--precision", "fp32", "--group-size", "2", "--query-len", "32", "--buckets", "0,64,256",
                   "--max-batch", "4", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [(b["min_len"], b["max_len"], b["rows"], b["batch_size"]) for b in out["buckets"]] == \
        [(0, 24, 8, 4), (64, 104, 4, 4), (256, 480, 2, 1)]
    assert {"estimate_gib", "grad_ckpt", "steps_per_epoch"} <= set(out["buckets"][0])

    long = tmp_path / "long.jsonl"
    long.write_text("".join(json.dumps(r) + "\n" for r in rows_of([20, 600, 30])))
    bad = run_cli("plan", "--train", str(long), "--model", "default", "--gpu-gib", "80")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert f"{long}:2: field 'pos/neg' error: a passage of 600 tokens is longer than the model's maximum of 512" \
        in bad.stderr


def test_train_refuses_rows_longer_than_the_model_before_storing_a_run(tmp_path):
    long = tmp_path / "long.jsonl"
    long.write_text("".join(json.dumps(r) + "\n" for r in rows_of([20, 30, 600])))
    done = run_cli("train", "--train", str(long), "--eval", "none", "--length-buckets", "auto",
                   "--runs-dir", str(tmp_path / "runs"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{long}:3: field 'pos/neg' error: a passage of 600 tokens" in done.stderr
    assert Store(tmp_path / "runs").list_runs() == []
    bad = run_cli("train", "--train", str(long), "--length-buckets", "most", "--runs-dir", str(tmp_path / "runs"))
    assert bad.returncode == 2 and "field 'length_buckets'" in bad.stderr


def test_bucket_steps_switch_checkpointing_per_bucket():
    torch = pytest.importorskip("torch")
    from transformers import AutoModel

    from trainer.engine.training import BucketSteps

    class M3:                       # what BucketSteps reads: the M3 model's encoder as .model
        model = AutoModel.from_pretrained(str(embedded_model_dir()))
    M3.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    steps = BucketSteps([{"max_len": 512, "grad_ckpt": True}, {"max_len": 64, "grad_ckpt": False}])
    layers = [m for m in M3.model.modules() if hasattr(m, "gradient_checkpointing")]

    def batch(queries, length):
        return {"queries": {"input_ids": torch.zeros(queries, 8)}, "passages": {"input_ids": torch.zeros(2, length)}}
    steps.before(M3, batch(3, 56))
    assert steps.current == 0 and steps.queries == 3 and not any(m.gradient_checkpointing for m in layers)
    steps.before(M3, batch(1, 200))
    assert steps.current == 1 and all(m.gradient_checkpointing for m in layers)
    steps.before(M3, batch(2, 64))
    assert steps.current == 0 and not any(m.gradient_checkpointing for m in layers)


@pytest.mark.slow
def test_bucketed_cpu_training_completes_and_records_its_plan(tmp_path, tiny_config):
    from conftest import train

    rows = rows_of([20] * 8 + [100] * 4 + [480] * 2, seed=3)
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = tiny_config(train_data=str(data), eval_data=None, mode=Mode.ALL, batch_size=4, group_size=2,
                      query_max_len=32, length_buckets="0,64,256", bucket_gpu_gib=1.2, precision="fp32")
    store, record, status, _ = train(tmp_path / "runs", cfg)
    assert status == "completed", record.error
    run_dir = Path(record.output_dir)
    plan = json.loads((run_dir / LENGTH_PLAN).read_text())
    assert [(b["max_len"], b["rows"], b["batch_size"]) for b in plan["buckets"]] == [(24, 8, 4), (104, 4, 4), (480, 2, 1)]
    assert [m["steps"] for m in plan["measured"]] == [2, 1, 2]      # every bucket trained, each batch its own
    written = [json.loads(line) for f in sorted((run_dir / BUCKETS).glob("*.jsonl"))
               for line in f.read_text().splitlines()]
    assert sorted(json.dumps({k: v for k, v in r.items() if k != "batch_size"}, sort_keys=True) for r in written) == \
        sorted(json.dumps(r, sort_keys=True) for r in rows)
    by_file = {f.name: {json.loads(line)["batch_size"] for line in f.read_text().splitlines()}
               for f in (run_dir / BUCKETS).glob("*.jsonl")}
    assert by_file == {"len-0-24.jsonl": {4}, "len-64-104.jsonl": {4}, "len-256-480.jsonl": {1}}
    points = store.metrics(record.id)
    facts = {p.name: p.value for p in points if p.step == 0}
    assert facts["total_steps"] == 5 and facts["length_buckets"] == 3 and facts["longest_bucket_tokens"] == 480
    assert len([p for p in points if p.name == "loss"]) == 5
    assert {round(p.value, 6) for p in points if p.name == "samples_per_s"}     # per-step batches counted
    from conftest import assert_command_is_what_ran
    argv = assert_command_is_what_ran(store.get_run(record.id))     # every argument as the worker parsed it
    assert "--same_dataset_within_batch" in argv and str(run_dir / "buckets" / "len-256-480.jsonl") in argv
    assert argv[argv.index("--passage_max_len") + 1] == "480"
