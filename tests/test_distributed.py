"""The torchrun launch path on CPU (two processes, gloo): a crash on one rank fails the run with its message,
and rank 0 ends too (no hang). Two ranks training one run until Stop, and the launcher's word for a rank killed
by a signal, are in tests/test_scaleout.py."""
import time
from pathlib import Path

import pytest

from trainer.core import children
from trainer.jobs import launch
from trainer.core.config import Mode
from trainer.store import Store

pytestmark = pytest.mark.slow


def wait(store, run_id, until, deadline):
    while not until():
        run = store.get_run(run_id)
        assert time.time() < deadline, (run.status, run.error, children.log_tail(Path(run.output_dir) / "worker.log"))
        time.sleep(0.3)


def test_a_crash_on_one_rank_fails_the_run_with_that_ranks_message(tmp_path, tiny_config, monkeypatch):
    monkeypatch.setenv("M3_FAULT", "oom@1")
    monkeypatch.setenv("M3_FAULT_RANK", "1")
    store = Store(tmp_path / "runs")
    run_id = launch.start(store, tiny_config(mode=Mode.DENSE, epochs=50, eval_data=None, num_gpus=2))
    wait(store, run_id, lambda: not store.get_run(run_id).live, time.time() + 300)
    run = store.get_run(run_id)
    assert run.status == "failed"
    assert run.error.startswith("rank 1 of 2: Out of memory at batch size 4"), run.error
    wait(store, run_id, lambda: not children.pid_alive(run.pid), time.time() + 120)   # rank 0 ended too


def test_the_command_lines_several_modes_each_train_under_two_processes(tmp_path, small_train, capfd):
    """`train --mode all,dense --num-gpus 2` goes the dashboard's way: both runs queued (checked, with their
    initial plans), each worker a child under torchrun (gloo on the CPU), one after the other; each run's plan
    says two processes, and the terminal shows rank 1 training each. Then the dense run's plain FlagEmbedding
    command (its stored plan) runs on the same two processes: its losses are the run's, step by step (warmup 0,
    the one addition that changes them). All heads on this BERT-style model would not run plainly: FlagEmbedding's
    sparse head needs an EOS token, which only the product sets (planning.additions "eos"); bench/plain_command.py
    compares all heads on the BGE-M3 look-alike, whose tokenizer has one.)"""
    import subprocess
    import sys

    from bench.plain_command import hf_losses
    from trainer import cli
    from trainer.core.metrics import Metric
    from trainer.planning import plan, reproduce

    runs_dir = tmp_path / "runs"
    code = cli.main(["train", "--mode", "all,dense", "--num-gpus", "2", "--train-data", str(small_train),
                     "--eval", "none", "--max-steps", "2", "--warmup-steps", "0", "--batch-size", "2",
                     "--group-size", "2", "--query-max-len", "16", "--passage-max-len", "32",
                     "--runs-dir", str(runs_dir)])
    store = Store(runs_dir)
    runs = sorted(store.list_runs(), key=lambda r: r.created)
    out = capfd.readouterr()
    terminal = out.out + out.err
    assert code == 0 and [(r.mode, r.status) for r in runs] == [("all", "completed"), ("dense", "completed")], \
        terminal[-3000:]
    for run in runs:
        assert plan.of_run(run).world == 2 and plan.of_run(run).nproc_per_node == 2
    assert terminal.count("rank 1/2: training") == 2, terminal[-3000:]

    argv = reproduce.run_command(runs[1])
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", *argv[1:], "--logging_steps", "1"],
                          capture_output=True, text=True, timeout=300, cwd=children.PROJECT_ROOT,
                          env=children.worker_env(2))
    text = done.stdout + done.stderr
    assert done.returncode == 0, text[-3000:]
    plain = hf_losses(text)
    ours = [p.value for p in store.metrics(runs[1].id, prefix=Metric.LOSS) if p.name == Metric.LOSS]
    assert len(plain) == len(ours) == 2 and all(abs(a - b) <= 1e-3 * max(1.0, abs(b)) for a, b in zip(ours, plain)), \
        (ours, plain)
