"""The held-out test of a run that trained without it (`python -m trainer test RUN_ID`): a settings
search's trials leave their test split alone (RunConfig.held_out_test=False) and only the study's winner
is tested here, once, after the search (trainer.sweep). Writes what the worker's HeldOutTest would have:
`test.<head>.<metric>` points for the base model at step 0 and for the kept model at the run's last
step, and their per-question ranks (query_ranks.TEST_FILE), so every page shows it the same way."""
from __future__ import annotations

from trainer.core import metrics
from trainer.data import load_eval
from trainer.models.export import saved_model
from trainer.core.model_source import model_dir, run_pooling
from trainer.store import Store


def test_run(store: Store, run_id: str) -> dict:
    """{"run_id", "step", "before": {metric: value}, "after": {...}, "tested_before": bool}. A run already
    tested is not tested again: its stored scores come back (the test is touched once)."""
    run = store.get_run(run_id)
    cfg = run.config
    folder = run.folder.test(cfg.eval_data)
    if folder is None or not folder.is_dir():
        raise ValueError(f"run {run_id} has no held-out test set (its evaluation data is {cfg.eval_data!r}; "
                         f"a test needs the held-out split)")
    points = store.metrics(run_id)
    done = [p for p in points if p.name.startswith(metrics.TEST)]
    if done:
        first, last = min(p.step for p in done), max(p.step for p in done)
        return {"run_id": run_id, "step": last, "tested_before": True,
                "before": {p.name: p.value for p in done if p.step == first},
                "after": {p.name: p.value for p in done if p.step == last}}
    tuned = saved_model(run)           # refuses a run without a saved model, before loading anything
    step = max((p.step for p in points), default=0)
    epoch = max((p.epoch or 0.0 for p in points), default=0.0)
    import torch

    from trainer.engine.callbacks import record_test
    from trainer.engine.evaluate import evaluate
    from trainer.engine.search import load_checkpoint

    testset = load_eval(folder)
    unified = cfg.mode.unified_finetuning
    answer = {"run_id": run_id, "step": step, "tested_before": False}
    # On the GPU where there is one, as the worker's own test: on the CPU a BGE-M3-sized model took over 300 s
    # for 24 SciFact questions (the GPU suite, tests/test_gpu_suite.py).
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for key, at, at_epoch, model in (("before", 0, 0.0, model_dir(cfg.model)), ("after", step, epoch, tuned)):
        ckpt = load_checkpoint(str(model), run_pooling(cfg), unified, cfg.seed)
        ckpt.model.to(device)
        ranks: dict = {}
        values = evaluate(ckpt.model, ckpt.tokenizer, testset, cfg.query_max_len, cfg.passage_max_len, ranks=ranks)
        del ckpt
        answer[key] = record_test(store, run_id, run.folder.root, at, at_epoch, values, ranks, testset)
    return answer
