"""Tests stop what they start: a test that fails while its run trains leaves no worker behind."""
import os
import subprocess
import sys
from pathlib import Path

from trainer.core import children

ROOT = Path(__file__).resolve().parent.parent
INNER = '''
from pathlib import Path

from conftest import wait_for
from trainer.core import children
from trainer.core.config import Mode
from trainer.jobs import launch
from trainer.store import Store


def test_fails_while_its_run_trains(tmp_path, tiny_config):
    store = Store(tmp_path / "runs")
    run_id = launch.start(store, tiny_config(mode=Mode.DENSE, epochs=300, eval_data=None))
    wait_for(lambda: children.pid_alive(store.get_run(run_id).pid), 60, "the worker to start")
    Path({pid_file!r}).write_text(str(store.get_run(run_id).pid))
    assert False, "fails on purpose while its worker trains"
'''


def test_a_failing_test_leaves_no_worker_behind(tmp_path):
    pid_file = tmp_path / "worker.pid"
    inner = tmp_path / "test_inner.py"
    inner.write_text(INNER.format(pid_file=str(pid_file)))
    # The same conftest as a plugin: its fixtures, its teardown.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider",
                           str(inner)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "1 failed" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    assert "fails on purpose while its worker trains" in done.stdout
    worker = int(pid_file.read_text())
    # the worker has its own session: pytest ending does not end it, the fixture does
    assert not children.pid_alive(worker), f"worker {worker} still runs after its test failed"
