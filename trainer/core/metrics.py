"""The names of the points a run writes (the worker, the held-out test) and every page and module reads: one
place. A score is `HEAD.METRIC` (dense.mrr@10); the held-out test's points carry the prefix `test.`. No torch."""
from __future__ import annotations

import enum


class Metric(enum.StrEnum):
    LOSS = "loss"
    LR = "lr"
    GRAD_NORM = "grad_norm"
    SAMPLES_PER_S = "samples_per_s"
    PEAK_GPU_GIB = "peak_gpu_mem_gib"          # GPU runs
    PEAK_RSS_GIB = "peak_rss_gib"              # CPU runs: the worker's resident memory
    EVAL_SECONDS = "eval_seconds"              # one validation's time
    CPU_SECONDS = "cpu_seconds"                # CPU runs: the worker's process CPU time at the step's end
    CPU_WAIT_SECONDS = "cpu_wait_seconds"      # CPU runs: its threads' time ready to run but waiting for a core
                                               # (other work on the machine), summed, at the step's end (Linux)
    OPTIMIZER_CPU_SECONDS = "optimizer_cpu_seconds"  # CPU runs: the optimizer updates' CPU time so far (a step's
                                               # part that does not grow with its texts)
    EVAL_CPU_SECONDS = "eval_cpu_seconds"      # CPU runs: one validation's process CPU time
    THREADS = "threads"                        # CPU runs: torch's compute threads (a fact at step 0)
    TOTAL_STEPS = "total_steps"                # facts kept at step 0
    WARMUP_STEPS = "warmup_steps"
    TRAIN_ROWS = "train_rows"
    ACTIVE_TOKENS = "sparse.active_tokens"     # the sparse head's mean active tokens a passage
    TEST_QUERIES = "test.queries"              # the held-out test's size
    TEST_PASSAGES = "test.passages"


K = 10                                         # the cut-off every score is at
MRR, RECALL, NDCG = f"mrr@{K}", f"recall@{K}", f"ndcg@{K}"    # per head (trainer.core.ir_metrics.rank_metrics)
AT_K = (MRR, RECALL, NDCG)
TEST = "test."                                 # the prefix of the held-out test's points
MEMORY = (Metric.PEAK_GPU_GIB, Metric.PEAK_RSS_GIB)


def score(head: str, metric: str = MRR) -> str:
    """A validation score's point name: score('dense') == 'dense.mrr@10'."""
    return f"{head}.{metric}"


def test(name: str) -> str:
    """The held-out test's point for a score name: test('dense.mrr@10') == 'test.dense.mrr@10'."""
    return TEST + name
