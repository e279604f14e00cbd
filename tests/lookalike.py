"""A BGE-M3 look-alike, built offline in seconds: the files `BAAI/bge-m3` ships, with a tiny random
XLM-RoBERTa in place of the 568M-parameter one.

- `config.json` + `model.safetensors`: XLMRobertaModel, 2 layers, hidden 32, BGE-M3's 8194 positions;
- `sentencepiece.bpe.model`, `tokenizer.json`, ...: a SentencePiece model trained here on the demo
  texts (English) and a few Chinese help-centre lines (BGE-M3 reads both), wrapped as XLM-R's tokenizer
  (<s> 0, <pad> 1, </s> 2, <unk> 3, ..., <mask> last);
- `colbert_linear.pt` (Linear(hidden, hidden)) and `sparse_linear.pt` (Linear(hidden, 1)) with known,
  non-random weights (`head_weights`), so a test can tell loaded heads from freshly initialised ones;
- `1_Pooling/config.json` saying CLS, as sentence-transformers writes it.

`build` lays it out as a plain folder and as a Hugging Face cache entry
(`models--BAAI--bge-m3/{blobs,refs/main,snapshots/REV}`, snapshot files linked to blobs as
huggingface_hub does), so the id resolves with HF_HUB_OFFLINE=1 exactly as after a download.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

REPO_ID = "BAAI/bge-m3"
HIDDEN = 32
REVISION = hashlib.sha1(b"m3-studio bge-m3 look-alike").hexdigest()
DEMO = Path(__file__).resolve().parent.parent / "trainer" / "demo"


@dataclass(frozen=True)
class LookAlike:
    folder: Path        # the plain folder
    cache: Path         # HF_HUB_CACHE holding models--BAAI--bge-m3
    snapshot: Path      # .../models--BAAI--bge-m3/snapshots/REVISION
    repo_id: str = REPO_ID


# BGE-M3 reads Chinese; the demo is English only (the embedded MiniLM cannot read Chinese), so the look-alike's
# vocabulary learns these lines too.
CHINESE = [
    "重置网关：按住背面的小孔按钮十秒，直到指示灯闪橙色，然后在应用中重新添加。",
    "网关怎么恢复出厂设置", "重启网关不会清除设置：拔掉电源十秒后再插上，指示灯变白即可继续使用。",
    "退款政策：未拆封的商品三十天内可全额退款，已拆封的商品如有故障可以换货。",
    "忘记密码：在登录页点击忘记密码，按照邮件中的链接设置新密码。", "智能插座无法连接无线网络怎么办",
]


def demo_texts() -> list[str]:
    texts = []
    for line in (DEMO / "train.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        texts += [row["query"], *row["pos"], *row["neg"]]
    for name in ("queries.jsonl", "corpus.jsonl"):
        texts += [json.loads(line)["text"] for line in (DEMO / "eval" / name).read_text(encoding="utf-8").splitlines()]
    return sorted(set(texts))


def head_weights(hidden: int = HIDDEN) -> dict[str, dict]:
    """The shipped heads: smooth ramps, nothing a seeded nn.Linear would draw."""
    import torch

    ramp = torch.linspace(-0.5, 0.5, hidden * hidden).reshape(hidden, hidden)
    return {"colbert_linear": {"weight": torch.eye(hidden) + 0.1 * ramp, "bias": torch.linspace(-0.05, 0.05, hidden)},
            "sparse_linear": {"weight": torch.linspace(-0.2, 0.4, hidden).reshape(1, hidden),
                              "bias": torch.tensor([0.05])}}


def write_folder(folder: Path, pooling: str = "cls") -> Path:
    import sentencepiece as spm
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel, XLMRobertaTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    work = folder.parent / f"{folder.name}.spm"
    work.mkdir(exist_ok=True)
    # XLM-R's own SentencePiece ids (<unk> 0, <s> 1, </s> 2); the tokenizer adds fairseq's offset.
    spm.SentencePieceTrainer.train(sentence_iterator=iter(demo_texts() + CHINESE), model_prefix=str(work / "sp"),
                                   vocab_size=2000, model_type="unigram", character_coverage=1.0,
                                   hard_vocab_limit=False, num_threads=1, minloglevel=2)
    model_file = work / "sentencepiece.bpe.model"
    (work / "sp.model").rename(model_file)
    tokenizer = XLMRobertaTokenizerFast(vocab_file=str(model_file), model_max_length=8192)
    tokenizer.save_pretrained(folder)
    shutil.rmtree(work)

    torch.manual_seed(19)
    config = XLMRobertaConfig(vocab_size=len(tokenizer), hidden_size=HIDDEN, num_hidden_layers=2,
                              num_attention_heads=4, intermediate_size=2 * HIDDEN, max_position_embeddings=8194,
                              type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=tokenizer.pad_token_id,
                              bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    XLMRobertaModel(config).save_pretrained(folder)
    for head, state in head_weights().items():
        torch.save(state, folder / f"{head}.pt")
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean", "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False}, indent=2))
    return folder


def add_to_cache(folder: Path, cache: Path, repo_id: str, revision: str = REVISION) -> Path:
    """Lay `folder` out as huggingface_hub's cache does: content-addressed blobs, a snapshot of
    relative links to them, and refs/main naming the snapshot."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / revision
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snapshot / path.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snapshot


def build(root: Path, cache: Path) -> LookAlike:
    folder = write_folder(root / "bge-m3")
    return LookAlike(folder=folder, cache=cache, snapshot=add_to_cache(folder, cache, REPO_ID))
