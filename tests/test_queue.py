"""The queue of runs (Compare the three modes; `train --mode all,heads,dense`): rows in the store, in
order, one run at a time, surviving an app restart, removable. Workers are recorded, not started."""
from pathlib import Path

import pytest
import streamlit as st

from apptest import open_page
from trainer import cli as cli
from trainer.jobs import launch
from trainer.core.config import Mode, RunConfig
from trainer.store import COMPLETED, QUEUED, WAITING, Store


@pytest.fixture
def launched(monkeypatch):
    """Run ids handed to a worker, in order (no process starts)."""
    started = []
    monkeypatch.setattr(launch, "_launch", lambda store, run_id, num_gpus, resume=False: started.append(run_id))
    return started


def statuses(store: Store, ids) -> list[str]:
    return [store.get_run(i).status for i in ids]


def test_queued_runs_start_in_order_one_at_a_time_and_a_removed_one_never(tmp_path, launched):
    store = Store(tmp_path / "runs")
    ids = launch.enqueue(store, [RunConfig(mode=m, eval_data=None) for m in Mode])
    assert [store.get_run(i).mode for i in ids] == ["all", "heads", "dense"]
    assert launched == ids[:1] and statuses(store, ids) == [QUEUED, WAITING, WAITING]
    assert launch.start_next(store) is None and launched == ids[:1]      # the device is busy
    store.delete(ids[1])                                                 # removed from the queue
    store.set_status(ids[0], COMPLETED)
    assert launch.start_next(store) == ids[2] and launched == [ids[0], ids[2]]
    store.set_status(ids[2], COMPLETED)
    assert launch.start_next(store) is None


def test_one_invalid_config_queues_nothing(tmp_path, launched):
    store = Store(tmp_path / "runs")
    with pytest.raises(launch.InvalidRun, match="batch_size"):
        launch.enqueue(store, [RunConfig(mode=Mode.ALL), RunConfig(mode=Mode.DENSE, batch_size=0)])
    assert store.list_runs() == [] and launched == []


def test_compare_the_three_modes_queues_them_and_an_app_restart_goes_on(tmp_path, monkeypatch, launched):
    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    at = open_page("configure", "en")
    at.number_input(key="cfg_epochs").set_value(2)
    at.selectbox(key="cfg_report_to__en").set_value("tensorboard")
    at.button(key="compare_modes").click().run()
    assert not at.exception, [e.value for e in at.exception]
    store = Store(tmp_path / "runs")
    runs = sorted(store.list_runs(), key=lambda r: r.created)
    assert [r.mode for r in runs] == ["all", "heads", "dense"] and launched == [runs[0].id]
    assert {r.config.replace(mode=Mode.ALL, name="").to_json() for r in runs} == \
        {runs[0].config.replace(name="").to_json()}                   # the same data and settings
    assert runs[0].config.epochs == 2 and runs[0].config.report_to == "tensorboard" and statuses(store, [r.id for r in runs]) == [QUEUED, WAITING, WAITING]
    # The app restarts while the first run's worker ends: the new app process starts the next one.
    store.set_status(runs[0].id, COMPLETED)
    st.cache_resource.clear()                                         # what a new app process starts from
    again = open_page("configure", "en")
    assert launched == [runs[0].id, runs[1].id]
    captions = [c.value for c in again.caption]
    assert "Waiting in the queue, in this order: " + runs[2].name + " (remove one on the Runs page)." in captions, \
        captions


def test_train_with_several_modes_runs_them_in_order(tmp_path, monkeypatch, capsys):
    trained = []

    def fake_run(store, run_id, num_gpus=1):      # the worker child `train` starts, in the foreground
        run = store.get_run(run_id)
        trained.append((run.mode, num_gpus, run.folder.plan.is_file()))       # queued with its initial plan
        assert statuses(store, [run_id]) == [QUEUED]
        store.set_status(run_id, COMPLETED)
        return 0
    monkeypatch.setattr(launch, "run_in_foreground", fake_run)
    assert cli.main(["train", "--mode", "all,heads,dense", "--eval", "none", "--epochs", "2",
                     "--runs-dir", str(tmp_path / "runs")]) == 0
    assert trained == [("all", 1, True), ("heads", 1, True), ("dense", 1, True)]
    runs = Store(tmp_path / "runs").list_runs()
    assert {r.config.epochs for r in runs} == {2} and {r.status for r in runs} == {COMPLETED}
    with pytest.raises(SystemExit):
        cli.main(["train", "--mode", "all,sparse"])
    assert "expected one of all, heads, dense" in capsys.readouterr().err


def test_two_processes_starting_at_once_create_one_run(tmp_path):
    """The command line and the dashboard each check "is the device idle?" then create a run: one transaction
    (Store.create_run with `busy`), so of two processes that try in the same instant exactly one creates a run
    and the other is refused, three times over."""
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    child = ("import sys, time; from trainer.jobs import launch; from trainer.core.config import RunConfig; "
             "from trainer.store import Store\n"
             "store = Store(sys.argv[1]); time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
             "try:\n    print('created', launch.create(store, RunConfig()))\n"
             "except launch.RunBusy as busy:\n    print('refused', busy)\n")
    stores = [tmp_path / f"runs{attempt}" for attempt in range(3)]
    for runs in stores:
        Store(runs)
    at = time.time() + 3.0              # every process is up and past its imports by then
    procs = [subprocess.Popen([sys.executable, "-c", child, str(runs), str(at)], cwd=root, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for runs in stores for _ in range(2)]
    try:
        outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    finally:
        for p in procs:
            p.kill()
    for n, runs in enumerate(stores):   # two processes a store, at the same instant
        assert sorted(o.split()[0] for o in outs[2 * n:2 * n + 2]) == ["created", "refused"], outs
        assert len(Store(runs).list_runs()) == 1
