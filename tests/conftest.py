import json
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "data"

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
