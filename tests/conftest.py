import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The tests' own Hugging Face cache, offline: set before anything imports huggingface_hub (it reads
# both at import), inherited by every worker and app the tests start. It holds only what the
# `lookalike` fixture puts there, whatever this machine's own cache holds.
HF_CACHE = Path(tempfile.mkdtemp(prefix="m3-test-hf-cache-"))
os.environ["HF_HUB_CACHE"] = str(HF_CACHE)
os.environ["HF_HUB_OFFLINE"] = "1"

from trainer.core.config import Mode, RunConfig  # noqa: E402
from trainer.core.config import DEMO_DIR  # noqa: E402
from trainer.store import Store  # noqa: E402


@pytest.fixture(scope="session")
def small_train(tmp_path_factory) -> Path:
    """Eight demo rows: two optimizer steps an epoch at batch 4, so a test run takes seconds."""
    rows = (DEMO_DIR / "train.jsonl").read_text(encoding="utf-8").splitlines()[:8]
    path = tmp_path_factory.mktemp("data") / "train.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_eval(tmp_path_factory) -> Path:
    """16 of the demo's validation questions over 32 of its passages (their answers first, then others), as a
    BEIR folder: a test run's validation in a fraction of a second (the full set is 72 over 82)."""
    folder = tmp_path_factory.mktemp("eval")
    queries = (DEMO_DIR / "eval" / "queries.jsonl").read_text(encoding="utf-8").splitlines()[:16]
    ids = {json.loads(q)["_id"] for q in queries}
    qrels = [line for line in (DEMO_DIR / "eval" / "qrels.tsv").read_text().splitlines()[1:] if line.split("\t")[0] in ids]
    answers = {line.split("\t")[1] for line in qrels}
    corpus = [json.loads(x) for x in (DEMO_DIR / "eval" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    corpus.sort(key=lambda doc: doc["_id"] not in answers)            # stable: answers first, then the rest
    (folder / "queries.jsonl").write_text("\n".join(queries) + "\n", encoding="utf-8")
    write_jsonl(folder / "corpus.jsonl", corpus[:32])
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(qrels) + "\n")
    return folder


@pytest.fixture(scope="session")
def tiny_config(small_train, small_eval):
    def make(**changes) -> RunConfig:
        base = RunConfig(train_data=str(small_train), eval_data=str(small_eval), epochs=1, batch_size=4,
                         group_size=2, query_max_len=32, passage_max_len=64, learning_rate=5e-5)
        return base.replace(**changes)
    return make


# The files with the most work first (about 100 s down to 15 s each on 2 cores, measured with the suite on two
# processes): pytest-xdist (`--dist loadfile --no-loadscope-reorder`, scripts/test.sh) gives each process the
# next file when it is nearly done, so the long files start at once and the short ones even out the end.
HEAVY_FIRST = ("test_browser_journey.py", "test_browser.py", "test_sweep.py", "test_export.py", "test_attack.py", "test_browser_story.py", "test_scaleout.py",
               "test_faults.py", "test_pairs_run.py", "test_all_heads_run.py", "test_teacher.py", "test_pages.py",
               "test_mining.py", "test_distributed.py", "test_cli.py", "test_bge_m3.py", "test_buckets.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))    # stable: a file keeps its own order


def pytest_unconfigure(config):
    shutil.rmtree(HF_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def lookalike(tmp_path_factory):
    """The BGE-M3 look-alike (tests/lookalike.py), as a folder and as `BAAI/bge-m3` in HF_CACHE."""
    from huggingface_hub import constants

    import lookalike as builder

    assert constants.HF_HUB_CACHE == str(HF_CACHE) and constants.HF_HUB_OFFLINE, "huggingface_hub was imported first"
    return builder.build(tmp_path_factory.mktemp("lookalike"), HF_CACHE)
def parameter_recorder():
    """A callback that snapshots every parameter at the start and end of training (transformers loads here,
    not when the conftest does)."""
    from transformers import TrainerCallback

    class Recorder(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            self.before = {k: v.detach().clone() for k, v in model.named_parameters()}

        def on_train_end(self, args, state, control, model=None, **kwargs):
            self.after = {k: v.detach().clone() for k, v in model.named_parameters()}

        def changed(self):
            return {k for k in self.before if not bool((self.before[k] == self.after[k]).all())}
    return Recorder()


def train(runs_dir: Path, config: RunConfig):
    """A real run in this process, to its end: (store, run record, final status, parameter recorder)."""
    from trainer.engine import worker

    store = Store(runs_dir)
    run_id = store.create_run(config)
    recorder = parameter_recorder()
    status = worker.run(store, run_id, extra_callbacks=[recorder])
    return store, store.get_run(run_id), status, recorder


def assert_command_is_what_ran(run) -> list[str]:
    """The run's equivalent command (trainer.reproduce, from its stored plan), parsed by FlagEmbedding's own
    parser, equals what the worker parsed and trained with (the run folder's arguments.json), its output
    folder aside (the command writes to reproduced/, never over the run's model). Returns the command."""
    from trainer.planning import reproduce
    from trainer.engine.training import parse_command, parsed_arguments
    from trainer.planning.flag_args import M3_MODULE

    argv = reproduce.run_command(run)
    command = parsed_arguments(*parse_command(argv[argv.index(M3_MODULE) + 1:]))
    ran = json.loads(run.folder.arguments.read_text(encoding="utf-8"))
    assert command["training"].pop("output_dir") == str(run.folder.reproduced)
    assert ran["training"].pop("output_dir") == str(run.folder.model)
    from trainer.planning.additions import RUN_TIME_ARGUMENTS, WORKER_ONLY_ARGUMENTS    # listed as additions
    differ = {f"{part}.{k}": (ran[part].get(k), command[part].get(k)) for part in ran
              for k in set(ran[part]) | set(command[part]) if ran[part].get(k) != command[part].get(k)
              and k not in RUN_TIME_ARGUMENTS and k not in WORKER_ONLY_ARGUMENTS}
    assert not differ, f"worker vs command: {differ}"
    return argv


@pytest.fixture(scope="session")
def all_heads_run(tmp_path_factory, tiny_config):
    """The suite's one all-heads training, shared by the training, Try it and export tests: 2 epochs of 2
    steps, warmup 3. Two GPUs with cross-device negatives only shape its equivalent command: the worker
    runs here as one process."""
    return train(tmp_path_factory.mktemp("all") / "runs",
                 tiny_config(mode=Mode.ALL, epochs=2, warmup_steps=3, learning_rate=3e-5, num_gpus=2,
                             negatives_cross_device=True, name="demo"))


def wait_for(predicate, timeout: float, what: str, poll: float = 0.2) -> None:
    """Poll until `predicate()` is true; fail naming `what` after `timeout` seconds."""
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(poll)


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                            for r in rows), encoding="utf-8")
    return path


# Every process a test starts (workers, torchrun and its ranks, the Streamlit app, search servers) inherits
# this variable, also through a child that starts its own session; a test's teardown ends those carrying
# its value, pass or fail. A pytest run inside a test nests its values under the outer test's.
OWNER = "M3_TEST_OWNER"
SESSION_OWNER = f"{os.environ[OWNER]}/{os.getpid()}" if OWNER in os.environ else str(os.getpid())
_test_numbers = itertools.count(1)


def owned_processes(owner: str) -> list[int]:
    """Live processes (not zombies) whose environment at start carried `owner` or a value nested in it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            zombie = ") Z " in (entry / "stat").read_text()
        except OSError:             # gone already, or not ours to read
            continue
        values = [item.split(b"=", 1)[1].decode(errors="replace") for item in environ if item.startswith(OWNER.encode() + b"=")]
        if not zombie and values and (values[0] == owner or values[0].startswith((owner + "/", owner + "."))):
            found.append(int(entry.name))
    return found


def stop_group(proc, grace: float = 15) -> None:
    """End a process started in a session of its own, and its group: SIGTERM, then SIGKILL after `grace` s."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def stop_processes(owner: str) -> None:
    """SIGTERM, then SIGKILL after 15 s, to every process `owner` started, and to its process group when it
    has one of its own (workers start their own session: torchrun's ranks go with it)."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        for pid in owned_processes(owner):
            try:
                group = os.getpgid(pid)
                if group == os.getpgrp():     # started without a session of its own: never signal ours
                    os.kill(pid, sig)
                else:
                    os.killpg(group, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + grace
        while owned_processes(owner) and time.time() < deadline:
            time.sleep(0.2)


@pytest.fixture(scope="session", autouse=True)
def _stop_session_processes():
    os.environ[OWNER] = SESSION_OWNER
    yield
    stop_processes(SESSION_OWNER)


@pytest.fixture(autouse=True)
def _stop_test_processes():
    owner = f"{SESSION_OWNER}.{next(_test_numbers)}"
    os.environ[OWNER] = owner
    yield
    os.environ[OWNER] = SESSION_OWNER
    stop_processes(owner)
