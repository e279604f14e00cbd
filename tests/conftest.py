import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "data"

# The tests' own Hugging Face cache, offline: set before anything imports huggingface_hub (it reads
# both at import), inherited by every worker and app the tests start. It holds only what the
# `lookalike` fixture puts there, whatever this machine's own cache holds.
HF_CACHE = Path(tempfile.mkdtemp(prefix="m3-test-hf-cache-"))
os.environ["HF_HUB_CACHE"] = str(HF_CACHE)
os.environ["HF_HUB_OFFLINE"] = "1"

from trainer.config import RunConfig  # noqa: E402
from trainer.data import DEMO_DIR  # noqa: E402


@pytest.fixture(scope="session")
def small_train(tmp_path_factory) -> Path:
    """Eight demo rows: two optimizer steps an epoch at batch 4, so a test run takes seconds."""
    rows = (DEMO_DIR / "train.jsonl").read_text(encoding="utf-8").splitlines()[:8]
    path = tmp_path_factory.mktemp("data") / "train.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_config(small_train):
    def make(**changes) -> RunConfig:
        base = RunConfig(train_data=str(small_train), epochs=1, batch_size=4, group_size=2,
                         query_max_len=32, passage_max_len=64, learning_rate=5e-5)
        return base.replace(**changes)
    return make


def pytest_unconfigure(config):
    shutil.rmtree(HF_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def lookalike(tmp_path_factory):
    """The BGE-M3 look-alike (tests/lookalike.py), as a folder and as `BAAI/bge-m3` in HF_CACHE."""
    from huggingface_hub import constants

    import lookalike as builder

    assert constants.HF_HUB_CACHE == str(HF_CACHE) and constants.HF_HUB_OFFLINE, "huggingface_hub was imported first"
    return builder.build(tmp_path_factory.mktemp("lookalike"), HF_CACHE)


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
