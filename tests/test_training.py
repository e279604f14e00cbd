"""Real FlagEmbedding training of the embedded default model, a few steps in each mode."""
from pathlib import Path

import numpy as np
import pytest

from conftest import train, wait_for

from trainer import advice, launch, query_ranks
from trainer.config import Mode
from trainer.store import COMPLETED, STOPPED, Store

pytestmark = pytest.mark.slow
HEADS = ("dense", "sparse", "colbert", "hybrid")


def by_name(points):
    out = {}
    for p in points:
        out.setdefault(p.name, []).append(p)
    return out


def test_all_heads_records_loss_and_warmup_lr_every_step(all_heads_run):
    store, run, status, _ = all_heads_run
    assert status == COMPLETED, run.error
    metrics = by_name(store.metrics(run.id))
    steps = [p.step for p in metrics["loss"]]
    assert steps == [1, 2, 3, 4]                       # 8 rows / batch 4 x 2 epochs
    assert all(np.isfinite(p.value) for p in metrics["loss"])
    peak = run.config.learning_rate
    for p in metrics["lr"]:                            # the LR each step used
        assert p.value == pytest.approx(advice.lr_at(p.step - 1, peak, 3, 4))
    assert metrics["lr"][0].value == pytest.approx(peak / 10)
    assert {p.name for p in store.metrics(run.id)} >= {"samples_per_s", "grad_norm"}


def test_all_heads_trains_encoder_and_both_heads(all_heads_run):
    *_, recorder = all_heads_run
    changed = recorder.changed()
    assert any(k.startswith("model.encoder") for k in changed)
    assert {"colbert_linear.weight", "sparse_linear.weight"} <= changed


def test_validation_per_head_at_step_zero_and_each_epoch(all_heads_run):
    store, run, *_ = all_heads_run
    metrics = by_name(store.metrics(run.id))
    for head in HEADS:
        points = metrics[f"{head}.mrr@10"]
        assert [p.step for p in points] == [0, 2, 4]
        assert all(0.0 <= p.value <= 1.0 for p in points)
        assert f"{head}.recall@10" in metrics and f"{head}.ndcg@10" in metrics
    assert metrics["sparse.active_tokens"][0].value > 0
    # each validation also stored, per head and query, the rank of the right passage; MRR@10 follows from them
    validations = query_ranks.load(Path(run.output_dir))
    assert [v["step"] for v in validations] == [0, 2, 4]
    for v, n in zip(validations, range(3)):
        for head in HEADS:
            ranks = v["ranks"][head]
            assert len(ranks) == 36 and all(r >= 1 for r in ranks)
            mrr = sum(1 / r for r in ranks if r <= 10) / len(ranks)
            assert mrr == pytest.approx(metrics[f"{head}.mrr@10"][n].value)


def test_checkpoint_loads_in_bgem3flagmodel_and_encodes(all_heads_run):
    from FlagEmbedding import BGEM3FlagModel

    _, run, *_ = all_heads_run
    folder = Path(run.output_dir) / "model"
    assert (folder / "colbert_linear.pt").is_file() and (folder / "sparse_linear.pt").is_file()
    model = BGEM3FlagModel(str(folder), pooling_method="mean", use_fp16=False, devices="cpu")
    out = model.encode(["how do I reset the hub", "重置网关"], return_dense=True, return_sparse=True,
                       return_colbert_vecs=True)
    assert out["dense_vecs"].shape == (2, 384)
    assert np.allclose(np.linalg.norm(out["dense_vecs"], axis=1), 1.0, atol=1e-4)
    assert len(out["lexical_weights"]) == 2 and all(isinstance(w, dict) for w in out["lexical_weights"])
    assert out["colbert_vecs"][0].shape[1] == 384


def test_frozen_encoder_mode_trains_only_the_two_heads(tmp_path, tiny_config):
    store, run, status, recorder = train(tmp_path / "runs", tiny_config(mode=Mode.HEADS))
    assert status == COMPLETED, run.error
    changed = recorder.changed()
    assert changed == {"colbert_linear.weight", "colbert_linear.bias", "sparse_linear.weight",
                       "sparse_linear.bias"}
    dense = [p.value for p in store.metrics(run.id) if p.name == "dense.mrr@10"]
    assert len(dense) == 2 and dense[0] == pytest.approx(dense[1])   # dense head untouched


def test_dense_only_mode_has_no_sparse_or_colbert_heads(tmp_path, tiny_config):
    store, run, status, recorder = train(tmp_path / "runs", tiny_config(mode=Mode.DENSE))
    assert status == COMPLETED, run.error
    assert not any("linear" in k and not k.startswith("model.") for k in recorder.before)
    assert any(k.startswith("model.encoder") for k in recorder.changed())
    names = {p.name for p in store.metrics(run.id)}
    assert "dense.mrr@10" in names and not any(n.startswith(("sparse.", "colbert.", "hybrid.")) for n in names)
    assert not (Path(run.output_dir) / "model" / "colbert_linear.pt").exists()


def test_early_stopping_fires_on_a_flat_metric_and_not_before_the_minimum(tmp_path, tiny_config):
    # patience 1 runs out at epoch 1 already; the minimum holds the run until epoch 3
    cfg = tiny_config(mode=Mode.DENSE, epochs=5, learning_rate=0.0, early_stopping_patience=1,
                      early_stopping_min_epochs=3)
    store, run, status, _ = train(tmp_path / "runs", cfg)
    assert status == COMPLETED and run.error == "early stopped at epoch 3"
    evals = [p for p in store.metrics(run.id) if p.name == "dense.mrr@10"]
    assert [p.epoch for p in evals] == [0, 1, 2, 3]
    assert len({round(p.value, 9) for p in evals}) == 1


def test_stop_request_ends_a_background_run_as_stopped_with_a_checkpoint(tmp_path, tiny_config):
    store = Store(tmp_path / "runs")
    run_id = launch.start(store, tiny_config(mode=Mode.DENSE, epochs=200))
    # one run per device: a second start, from another tab (another Store on the same file), is refused
    with pytest.raises(launch.RunBusy, match=f"run {run_id} is still training on this machine"):
        launch.start(Store(tmp_path / "runs"), tiny_config())
    assert [r.id for r in store.list_runs()] == [run_id]
    wait_for(lambda: any(p.name == "loss" for p in store.metrics(run_id)) or not store.get_run(run_id).live,
             180, "a first step")
    assert store.get_run(run_id).live, store.get_run(run_id).error
    store.request_stop(run_id)
    wait_for(lambda: not store.get_run(run_id).live, 180, "the run to stop")
    run = store.get_run(run_id)
    assert run.status == STOPPED, run.error
    assert (Path(run.output_dir) / "model" / "model.safetensors").is_file()
    last = max(p.step for p in store.metrics(run_id))
    assert last < 200 * 2
    # the saved weights were validated, so the scores and per-query ranks describe the model Try it loads
    assert query_ranks.load(Path(run.output_dir))[-1]["step"] == last
    assert max(p.step for p in store.metrics(run_id) if p.name == "dense.mrr@10") == last
