"""The engine: everything here imports torch, transformers, FlagEmbedding or sentence-transformers
(at the top or inside a function) and runs only in child processes — the training worker
(`python -m trainer.engine.worker`), the Try-it search server (`python -m trainer.engine.search_server`),
and the CLI's own process (`python -m trainer ...`). The dashboard (app/, pages/) never imports from
here; the torch-free rest of `trainer/` is what it uses (tests/test_imports.py checks this)."""
