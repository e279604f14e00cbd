"""The engine: everything here imports torch, transformers, FlagEmbedding or sentence-transformers
(at the top or inside a function) and runs only in child processes — the training worker
(`python -m trainer.engine.worker`), the Try-it search server (`python -m trainer.engine.search_server`),
and the CLI's own process (`python -m trainer ...`). The dashboard (app/, pages/) never imports from
here; the torch-free rest of `trainer/` is what it uses (tests/test_imports.py checks this)."""

# transformers imports scikit-learn (and with it SciPy: about a second of every engine process's start on
# two CPU cores) only for assisted text generation, which nothing here does; it asks this flag first.
from transformers.utils import import_utils as _import_utils

_import_utils._sklearn_available = False
