"""The GPU suite (issue 39): `pytest -m gpu` on a CUDA machine, its results as `bench/results/gpu_suite_<device>.json`.

    python bench/gpu_suite.py [--out FILE] [--logs DIR] [pytest arguments, e.g. -k default]

runs `tests/test_gpu_suite.py` (the product's `python -m trainer train` command and worker on a BGE-M3-shaped model
with random weights and SciFact's real-length rows) and writes `{"device", "versions", "model", "data", "tests":
[{"name", "outcome", "seconds", "facts"}]}`: one entry per GPU test, `seconds` its setup, call and teardown (a
module fixture's training counts in the first test that uses it), `facts` what the test recorded (samples/s, peak
memory against the estimate, scores). Where to find what it needs (the device machine reaches no registry and no
`../shared`): `M3_GPU_TOKENIZER` a folder with a `tokenizer.json` (default: the embedded all-MiniLM-L6-v2's),
`M3_GPU_DATA` a SciFact folder with `train.jsonl` (default: `.gpu/scifact`, `shared/data/scifact`,
`../shared/data/scifact`). Also here: the suite's model builder (`make_model`) and its paths, which the tests import.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
# What the results file names the versions of (the worker's imports at requirements.txt's pins, the device's torch).
PACKAGES = ("torch", "transformers", "FlagEmbedding", "tokenizers", "huggingface_hub", "accelerate", "datasets",
            "peft", "sentence-transformers", "safetensors", "numpy", "deepspeed", "pytest")


def tokenizer_dir() -> Path:
    given = os.environ.get("M3_GPU_TOKENIZER")
    if given:
        return Path(given)
    local = ROOT / ".gpu" / "tokenizer"
    if (local / "tokenizer.json").is_file():
        return local
    from trainer.core.model_source import embedded_model_dir

    return embedded_model_dir()


def data_dir() -> Path | None:
    given = os.environ.get("M3_GPU_DATA")
    candidates = [Path(given)] if given else [ROOT / ".gpu" / "scifact", ROOT / "shared" / "data" / "scifact",
                                              ROOT.parent / "shared" / "data" / "scifact"]
    return next((c for c in candidates if (c / "train.jsonl").is_file()), None)


def make_model(folder: Path, tokenizer: Path, tiny: bool = False) -> dict:
    """A BGE-M3-shaped encoder with random weights (XLM-RoBERTa large: 24 layers, hidden 1024, 16 heads, feed-forward
    4096, 8,194 positions, BGE-M3's vocabulary of 250,002 of which the tokenizer uses its own first ids), saved with
    `tokenizer`'s files (its padding id is the model's; its longest input raised to 8,192 tokens). `tiny`: 2 layers
    of 64 (a CPU check of the suite's flow). Returns the config's numbers."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from trainer.engine.vram_probe import BGE_M3_CONFIG

    folder.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        if (tokenizer / name).is_file():
            shutil.copy(tokenizer / name, folder / name)
    settings = json.loads((folder / "tokenizer_config.json").read_text()) if (folder / "tokenizer_config.json").is_file() else {}
    settings["model_max_length"] = 8192
    (folder / "tokenizer_config.json").write_text(json.dumps(settings))
    vocab = json.loads((tokenizer / "tokenizer.json").read_text())["model"]["vocab"]
    pad = vocab.get("[PAD]", vocab.get("<pad>", 1)) if isinstance(vocab, dict) else 1
    shape = dict(BGE_M3_CONFIG, pad_token_id=pad)
    if tiny:
        shape.update(vocab_size=len(vocab), hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=128)
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = XLMRobertaModel(XLMRobertaConfig(**shape), add_pooling_layer=False)
    model.save_pretrained(folder)
    params = sum(p.numel() for p in model.parameters())
    del model
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return {"architecture": "XLMRobertaModel, random weights", "parameters": params,
            **{k: shape[k] for k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                                     "intermediate_size", "max_position_embeddings")},
            "tokenizer": f"WordPiece, {len(vocab)} ids (all-MiniLM-L6-v2's: BGE-M3's own is not offline here)"}


def versions() -> dict:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    try:
        import torch
        import transformers

        found["torch"] = torch.__version__            # what this process imported
        found["transformers"] = transformers.__version__
        found["cuda"] = torch.version.cuda
    except ImportError:
        pass
    found["python"] = platform.python_version()
    return found


def device() -> str:
    from trainer.core import gpus

    found = gpus.detect()
    return f"{len(found)} x {found[0].name}" if found else "cpu"


def device_slug(name: str) -> str:
    """'1 x NVIDIA H100 80GB HBM3' -> 'h100'; '2 x NVIDIA H200' -> 'h200x2'; 'cpu' -> 'cpu'."""
    count, _, card = name.partition(" x ")
    chip = re.search(r"\b([A-Z]\d{2,3}[A-Z]?)\b", card or name)
    slug = chip.group(1).lower() if chip else re.sub(r"[^a-z0-9]+", "", (card or name).lower())[:16]
    return slug + (f"x{count}" if count.isdigit() and int(count) > 1 else "")


class Results:
    """A pytest plugin: each `gpu` test's outcome and seconds, written to `path` when the session ends."""

    def __init__(self, path: Path):
        self.path = path
        self.tests: dict[str, dict] = {}
        self.started = time.time()

    def pytest_runtest_logreport(self, report):
        if "gpu" not in report.keywords:
            return
        name = report.nodeid.split("::", 1)[-1]
        entry = self.tests.setdefault(name, {"name": name, "outcome": "passed", "seconds": 0.0})
        entry["seconds"] = round(entry["seconds"] + report.duration, 2)
        if report.skipped:
            entry["outcome"] = "skipped"
            reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            entry["reason"] = reason.removeprefix("Skipped: ")
        elif report.failed:
            entry["outcome"] = "failed"
            entry.setdefault("error", str(report.longreprtext)[-1500:])
        facts = dict(report.user_properties)
        if facts:
            entry.setdefault("facts", {}).update(facts)
        if report.when == "teardown":
            entry["done"] = True
            self.write()          # after each test: a call cut off by its time limit keeps what ran

    def pytest_sessionfinish(self, session, exitstatus):
        self.write()
        counts = {o: sum(t["outcome"] == o and t.get("done", False) for t in self.tests.values())
                  for o in ("passed", "failed", "skipped")}
        print(f"\n{self.path}: {counts}", flush=True)

    def write(self) -> None:
        # What the test module built (the model's shape, the data), as pytest imported it.
        suite = next((m.SUITE for name, m in list(sys.modules.items()) if name.endswith("test_gpu_suite")
                      and hasattr(m, "SUITE")), {})
        result = {"device": device(), "versions": versions(), "model": suite.get("model"), "data": suite.get("data"),
                  "command": "python bench/gpu_suite.py", "date": time.strftime("%Y-%m-%d"),
                  "wall_seconds": round(time.time() - self.started, 1),
                  # a test cut off before its teardown (the call's time limit) is left out: it did not run to its end
                  "tests": [{k: v for k, v in t.items() if k != "done"} for t in self.tests.values() if t.get("done")]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(result, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="default: bench/results/gpu_suite_<device>.json")
    ap.add_argument("--logs", type=Path, help="a folder for every run's command output and worker log")
    ns, rest = ap.parse_known_args(argv)
    import pytest

    out = ns.out or ROOT / "bench" / "results" / f"gpu_suite_{device_slug(device())}.json"
    if ns.logs:
        os.environ["M3_GPU_SUITE_LOGS"] = str(ns.logs)
    return pytest.main(["-m", "gpu", "-v", "-rs", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_gpu_suite.py"),
                        *rest], plugins=[Results(out)])


if __name__ == "__main__":
    sys.exit(main())
