"""The engine: everything here imports torch, transformers, FlagEmbedding or sentence-transformers
(at the top or inside a function) and runs only in child processes — the training worker
(`python -m trainer.engine.worker`), the Try-it search server (`python -m trainer.engine.search_server`),
and the CLI's own process (`python -m trainer ...`). The dashboard (app/, pages/) never imports from
here; the torch-free rest of `trainer/` is what it uses (tests/test_imports.py checks this)."""

# transformers imports these packages, when installed, only for things nothing here does; it asks its flags
# first. Each is time at the start of every engine process, on two CPU cores: scikit-learn with SciPy (about
# a second: assisted text generation), scipy.optimize (about 0.4 s: object-detection losses), peft (about
# 0.4 s: LoRA adapters, which no run trains or loads). Its private flags: trainer/hooks/transformers_models.py.
from trainer.hooks import transformers_models

transformers_models.skip_optional_imports()
