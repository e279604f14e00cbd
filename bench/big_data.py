"""Big training files: the dashboard with a synthetic 1,000,000-row training file (~2 KB a row, like the
200k-row / 429 MB file of issue 20), through the pages' own code under AppTest, in a child process
that stands for the dashboard:

1. Configure with the file's path: the rerun that starts the scan (a child process), then the scan's
   time and the scan process's peak memory (both from the store);
2. Configure reruns once the scan is kept (epochs 5 -> 3 -> 5 ...): median and worst;
3. the Data page on the same file (preview and histograms from the sample);
4. Start (evaluation: none) to the run's first training step (the worker checks the file's checksum and
   trains on it where it is; FlagEmbedding's `datasets` loading converts it to Arrow), then Stop;
5. the dashboard process's peak RSS (ru_maxrss: this process, not its children).

The file, the run folder and the `datasets` cache live in a temporary folder that is deleted after.

    .venv/bin/python bench/big_data.py [--rows 1000000] [--work /tmp] [--out bench/results/big_data_cpu.json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("reset hub router light blinks red green firmware update account password login device app cable "
         "power button hold seconds settings network wifi signal battery charge screen error code support "
         "warranty order refund shipping address invoice payment card expired restart pair bluetooth speaker "
         "volume mute camera motion alert schedule timer sensor door window lock unlock share family member").split()


def make_file(path: Path, rows: int, seed: int = 0) -> float:
    """`rows` rows of a query, one positive and seven negatives (~2.1 KB a row), written as a stream."""
    rng = random.Random(seed)
    queries = [" ".join(rng.choices(WORDS, k=rng.randint(5, 14))) for _ in range(4999)]
    passages = [" ".join(rng.choices(WORDS, k=rng.randint(30, 50))) for _ in range(4999)]
    started = time.perf_counter()
    with open(path, "w", encoding="utf-8") as f:
        for i in range(rows):
            row = {"query": f"{queries[i % 4999]} #{i}", "pos": [passages[(i * 7) % 4999]],
                   "neg": [passages[(i * 7 + 13 * k + 1) % 4999] for k in range(7)]}
            f.write(json.dumps(row) + "\n")
    return time.perf_counter() - started


def timed_run(at) -> float:
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    assert not at.exception, [e.value for e in at.exception]
    return elapsed


def dashboard(train: str, runs: str) -> dict:
    """The pages under AppTest in this process (the dashboard's stand-in)."""
    from streamlit.testing.v1 import AppTest

    from trainer.data import scan
    from trainer.store import FINAL, Store

    out: dict = {"load_avg_start": os.getloadavg()}
    store = Store(runs)
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=300)
    at.session_state["lang"] = "en"
    timed_run(at)
    at.radio(key="cfg_data_choice__en").set_value("path")
    timed_run(at)
    at.radio(key="cfg_eval_choice__en").set_value("none")
    at.text_input(key="cfg_train").set_value(train)
    out["configure_rerun_starting_the_scan_ms"] = round(timed_run(at) * 1000, 1)
    row = scan.current(store, train)
    progress_seen = []
    while row["status"] == "running":
        progress_seen.append(row["rows"])
        time.sleep(1)
        row = scan.current(store, train)
    result = scan.result_of(row)
    assert result is not None, row
    out["scan"] = {"status": row["status"], "wall_s": round(row["ended"] - row["started"], 1), "scan_s": result.seconds,
                   "child_peak_rss_mib": result.peak_rss_mib, "rows": result.rows, "bytes": result.size,
                   "sample_rows": result.sample_rows, "progress_polls": len(progress_seen),
                   "load_avg_after": os.getloadavg()}
    out["configure_first_rerun_after_scan_ms"] = round(timed_run(at) * 1000, 1)   # lengths from the sample, once
    reruns = []
    for i in range(8):
        at.number_input(key="cfg_epochs").set_value(3 if i % 2 == 0 else 5)
        reruns.append(timed_run(at) * 1000)
    out["configure_rerun_ms"] = {"median": round(statistics.median(reruns), 1), "max": round(max(reruns), 1),
                                 "all": [round(r, 1) for r in reruns]}
    out["load_avg_configure"] = os.getloadavg()

    data = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=300)
    data.session_state["lang"] = "en"
    timed_run(data)
    data.switch_page("../pages/data.py")
    timed_run(data)
    data.radio(key="data_source__en").set_value("path")
    timed_run(data)
    data.text_input(key="data_path").set_value(train)
    out["data_page_first_ms"] = round(timed_run(data) * 1000, 1)
    out["data_page_rerun_ms"] = round(timed_run(data) * 1000, 1)
    metrics = {m.label: m.value for m in data.metric}
    out["data_page_metrics"] = metrics

    at.number_input(key="cfg_epochs").set_value(1)
    timed_run(at)
    t0 = time.perf_counter()
    at.button(key="start").click()
    at.run()
    clicked = time.perf_counter() - t0
    runs_list = store.list_runs()
    assert runs_list, [e.value for e in at.exception] + [e.value for e in at.error]
    run_id = runs_list[0].id
    deadline = time.time() + 1800
    while not [p for p in store.metrics(run_id, prefix="loss")]:
        record = store.get_run(run_id)
        assert record.status not in FINAL, (record.status, record.error)
        assert time.time() < deadline, "no training step in 30 min"
        time.sleep(0.5)
    first_step = time.perf_counter() - t0
    store.request_stop(run_id)
    while store.get_run(run_id).status not in FINAL:
        time.sleep(1)
    record = store.get_run(run_id)
    log = record.folder.log.read_text(errors="replace")
    out["start"] = {"click_rerun_s": round(clicked, 2), "start_to_first_step_s": round(first_step, 1),
                    "final_status": record.status, "trained_on_file_directly": "as it is" in log,
                    "copied_rows_file": record.folder.train_file.exists(),
                    "load_avg_after": os.getloadavg()}
    out["dashboard_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--work", default="/tmp", help="where the temporary folder goes")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "big_data_cpu.json"))
    ap.add_argument("--dashboard", nargs=2, metavar=("TRAIN", "RUNS"), help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.dashboard:
        print(json.dumps(dashboard(*ns.dashboard)))
        return
    work = Path(tempfile.mkdtemp(prefix="m3-big-data-", dir=ns.work))
    try:
        train = work / "train.jsonl"
        generated = make_file(train, ns.rows)
        env = dict(os.environ, M3_RUNS_DIR=str(work / "runs"), HF_DATASETS_CACHE=str(work / "datasets-cache"),
                   HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        done = subprocess.run([sys.executable, __file__, "--dashboard", str(train), str(work / "runs")], cwd=ROOT,
                              env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"the dashboard stand-in failed:\n{done.stderr[-4000:]}")
        result = {"rows": ns.rows, "file_bytes": train.stat().st_size, "generate_s": round(generated, 1),
                  "cpu_cores": os.cpu_count(), "machine": os.uname().nodename,
                  "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  **json.loads(done.stdout.strip().splitlines()[-1])}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Path(ns.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
