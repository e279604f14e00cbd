"""Fitting into the user's tools, on one real (tiny) all-heads run of the embedded model: the
exported folder in sentence-transformers, FlagEmbedding and ONNX; merging with the base model;
TensorBoard and MLflow read back; the Runs page's export and merge through their child processes."""
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from apptest import open_page
from app.markdown import plain
from trainer.engine import worker
from trainer.core.config import Mode
from trainer.models.export import HEADS, export
from trainer.data import load_eval
from trainer.engine.merge import GENERAL_DIR, curve, merge
from trainer.core.model_source import embedded_model_dir
from trainer.store import COMPLETED, Store

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["How do I reset the hub to factory settings?", "智能插座无法连接 Wi-Fi 怎么办",
         "The thermostat follows the weekly schedule you set in the app unless someone changes it by hand."]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_config):
    store = Store(tmp_path_factory.mktemp("tools") / "runs")
    run_id = store.create_run(tiny_config(mode=Mode.ALL, report_to="tensorboard", name="tools"))
    assert worker.run(store, run_id) == COMPLETED, store.get_run(run_id).error
    return store, store.get_run(run_id)


def copy_of_run(store: Store, run, **changes):
    """A second record of the same trained model with other settings (no second training)."""
    run_id = store.create_run(run.config.replace(**changes))
    shutil.copytree(Path(run.output_dir) / "model", Path(store.get_run(run_id).output_dir) / "model")
    store.set_status(run_id, COMPLETED)
    return store.get_run(run_id)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def flag_dense(folder: Path, pooling: str) -> np.ndarray:
    from FlagEmbedding import BGEM3FlagModel

    model = BGEM3FlagModel(str(folder), pooling_method=pooling, normalize_embeddings=True, use_fp16=False,
                           devices="cpu")
    return model.encode(TEXTS, max_length=128)["dense_vecs"]


def test_exported_folder_gives_flagembeddings_dense_vectors_in_sentence_transformers_and_onnx(trained, tmp_path):
    from sentence_transformers import SentenceTransformer

    store, run = trained
    out = tmp_path / "exported"
    done = subprocess.run([sys.executable, "-m", "trainer", "export", run.id, "--runs-dir", str(store.runs_dir),
                           "--out", str(out), "--zip", "--onnx"], capture_output=True, text=True, cwd=ROOT,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    written = json.loads(done.stdout.strip().splitlines()[-1])
    assert written == {"folder": str(out), "onnx": str(out / "onnx" / "model.onnx"), "zip": str(out) + ".zip"}
    for name in ("modules.json", "1_Pooling/config.json", "config_sentence_transformers.json", "tokenizer.json",
                 *HEADS, "README.md", "model.safetensors"):
        assert (out / name).is_file(), name
    assert not any(p.name.startswith("checkpoint-") for p in out.iterdir())
    pooling = json.loads((out / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and not pooling["pooling_mode_cls_token"]   # MiniLM pools by mean
    assert [m["type"].rsplit(".", 1)[1] for m in json.loads((out / "modules.json").read_text())] == \
        ["Transformer", "Pooling", "Normalize"]
    with zipfile.ZipFile(written["zip"]) as zf:
        assert {f"exported/{n}" for n in ("modules.json", "1_Pooling/config.json", "onnx/model.onnx", *HEADS)} \
            <= set(zf.namelist())
        kinds = {i.filename: i.compress_type for i in zf.infolist()}
    assert kinds["exported/model.safetensors"] == kinds["exported/onnx/model.onnx"] == zipfile.ZIP_STORED   # weights
    assert kinds["exported/README.md"] == zipfile.ZIP_DEFLATED
    assert "SentenceTransformer('path/to/this/folder')" in (out / "README.md").read_text()

    flag = flag_dense(out, "mean")
    st = SentenceTransformer(str(out), device="cpu").encode(TEXTS)
    assert cosines(st, flag).min() >= 0.999
    assert np.allclose(st, flag, atol=1e-5)          # normalised too, not only the same direction
    onnx = SentenceTransformer(str(out), backend="onnx", device="cpu").encode(TEXTS)
    assert cosines(onnx, st).min() >= 0.999


def test_export_writes_the_pooling_the_run_trained_with(trained, tmp_path):
    from sentence_transformers import SentenceTransformer

    store, run = trained
    cls_run = copy_of_run(store, run, pooling="cls")
    out = Path(export(store, cls_run.id, tmp_path / "cls")["folder"])
    assert json.loads((out / "1_Pooling" / "config.json").read_text())["pooling_mode_cls_token"]
    st = SentenceTransformer(str(out), device="cpu").encode(TEXTS)
    assert np.allclose(st, flag_dense(out, "cls"), atol=1e-5)
    assert cosines(st, flag_dense(out, "mean")).min() < 0.99      # the pooling file is what made them agree


def test_export_replaces_an_earlier_export_but_never_another_folder(trained, tmp_path):
    store, run = trained
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="holds no earlier export"):
        export(store, run.id, out)
    assert (out / "notes.txt").read_text() == "keep me"
    again = tmp_path / "again"
    export(store, run.id, again)
    (again / "stale.txt").write_text("from before")
    export(store, run.id, again)
    assert not (again / "stale.txt").exists() and (again / "modules.json").is_file()


def encoder_and_heads(folder: Path) -> dict[str, torch.Tensor]:
    # position_ids is a buffer older checkpoints (the embedded model) still store; not a weight.
    state = {f"encoder.{k}": v for k, v in load_file(folder / "model.safetensors").items() if k != "embeddings.position_ids"}
    for name in HEADS:
        if (folder / name).is_file():
            state.update({f"{name}.{k}": v for k, v in torch.load(folder / name, weights_only=True).items()})
    return state


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])][:5]


def test_merge_at_weights_0_and_1_gives_base_and_tuned_heads_too(trained, tmp_path):
    store, run = trained
    tuned = Path(run.output_dir) / "model"
    # A base model with heads of its own: the embedded encoder plus heads unlike the tuned ones.
    base = tmp_path / "base-with-heads"
    shutil.copytree(embedded_model_dir(), base)
    for name in HEADS:
        state = torch.load(tuned / name, weights_only=True)
        torch.save({k: v + 1.0 for k, v in state.items()}, base / name)
    with_heads = copy_of_run(store, run, model=str(base))
    tuned_state, base_state = encoder_and_heads(tuned), encoder_and_heads(base)
    for weight, expected in ((0.0, base_state), (1.0, tuned_state)):
        written = merge(store, with_heads.id, weight, tmp_path / f"w{weight}")
        assert written["heads"] == "averaged"
        assert_same(encoder_and_heads(Path(written["folder"])), expected)
    half = encoder_and_heads(Path(merge(store, with_heads.id, 0.5, tmp_path / "w0.5")["folder"]))
    for key in (k for k in half if not k.startswith("encoder.")):
        assert torch.allclose(half[key], (tuned_state[key] + base_state[key]) / 2, atol=1e-6)
    # The embedded MiniLM ships no heads: the tuned ones are kept whole, said so in the card.
    written = merge(store, run.id, 0.5, tmp_path / "minilm", zip=True)
    assert written["heads"] == "kept" and Path(written["zip"]).is_file()
    merged = encoder_and_heads(Path(written["folder"]))
    assert all(torch.equal(merged[k], tuned_state[k]) for k in merged if not k.startswith("encoder."))
    assert not torch.equal(merged["encoder.embeddings.word_embeddings.weight"],
                           tuned_state["encoder.embeddings.word_embeddings.weight"])
    card = (Path(written["folder"]) / "README.md").read_text()
    assert "0.5 × fine-tuned + 0.5 × `default`" in card and "the base has none" in card
    assert json.loads((Path(written["folder"]) / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"]


def test_merge_curve_at_weight_1_gives_the_runs_own_final_validation_score(trained):
    store, run = trained
    result = curve(store, run.id, [1.0])
    final = [p.value for p in store.metrics(run.id) if p.name == "hybrid.mrr@10"][-1]
    assert result["metric"] == "hybrid.mrr@10"
    assert result["queries"] == {"validation": len(load_eval(run.config.eval_data).queries),
                                 "general": len(load_eval(GENERAL_DIR).queries)}
    [point] = result["points"]
    assert abs(point["validation"] - final) < 1e-6 and 0 < point["general"] <= 1
    # each question's rank, for the noise rule (trainer.merge_choice), and the languages the two sets are in
    assert [len(point["ranks"][name]) for name in ("validation", "general")] == list(result["queries"].values())
    assert result["languages"] == {"validation": "en", "general": "en"} and result["general_applies"]
    assert json.loads((Path(run.output_dir) / "merge_curve.json").read_text()) == result
    assert not (Path(run.output_dir) / "merge_curve").exists()


def test_tensorboard_holds_the_losses_the_store_holds(trained):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    store, run = trained
    events = EventAccumulator(str(Path(run.output_dir) / "tensorboard"))
    events.Reload()
    logged = [(e.step, e.value) for e in events.Scalars("train/loss")]
    stored = [(p.step, p.value) for p in store.metrics(run.id) if p.name == "loss"]
    assert logged and len(logged) == len(stored)
    # HF logs the loss rounded to 4 decimals; the store keeps it whole (trainer.engine.callbacks)
    assert all(a[0] == b[0] and abs(a[1] - b[1]) <= 5.1e-5 for a, b in zip(logged, stored)), (logged, stored)


def test_mlflow_holds_the_losses_the_store_holds(tmp_path, tiny_config):
    from mlflow.tracking import MlflowClient

    store = Store(tmp_path / "runs")
    run_id = store.create_run(tiny_config(mode=Mode.DENSE, eval_data=None, max_steps=2, report_to="mlflow"))
    assert worker.run(store, run_id) == COMPLETED, store.get_run(run_id).error
    client = MlflowClient(tracking_uri=(Path(store.get_run(run_id).output_dir) / "mlruns").as_uri())
    [found] = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert found.info.run_name == run_id and found.data.params["learning_rate"] == str(tiny_config().learning_rate)
    logged = [(m.step, m.value) for m in sorted(client.get_metric_history(found.info.run_id, "loss"),
                                                key=lambda m: m.step)]
    stored = [(p.step, p.value) for p in store.metrics(run_id) if p.name == "loss"]
    assert len(logged) == len(stored) == 2
    # HF logs the loss rounded to 4 decimals; the store keeps it whole (trainer.engine.callbacks)
    assert all(a[0] == b[0] and abs(a[1] - b[1]) <= 5.1e-5 for a, b in zip(logged, stored)), (logged, stored)


def test_runs_page_exports_and_merges_through_child_processes(trained, monkeypatch):
    store, run = trained
    monkeypatch.setenv("M3_RUNS_DIR", str(store.runs_dir))
    at = open_page("runs", "en", timeout=600)
    at.selectbox(key="runs_pick").set_value(run.id).run()
    at.button(key="runs_export").click().run()
    assert not at.exception and not at.error, [e.value for e in at.exception] + [e.value for e in at.error]
    folder = Path(run.output_dir) / "export" / run.id
    assert f"Saved as {plain(folder)}" in [c.value for c in at.caption] and (folder / "modules.json").is_file()
    # the archive is offered by its address on this server (streamed from disk: app/download.py), not held here
    assert [b.proto.url for b in at.get("link_button")] == [f"api/download/{run.id}/export/{run.id}.zip"]
    at.slider(key="runs_merge_weight").set_value(0.3).run()
    at.button(key="runs_merge").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    captions = [c.value for c in at.caption]
    assert "Weight 0.3: the base model has no sparse or ColBERT head, so the fine-tuned heads are kept whole." \
        in captions, captions
    assert (Path(run.output_dir) / "merged" / f"{run.id}-w0.30" / "model.safetensors").is_file()
    assert at.get("plotly_chart"), "the merge curve written by the test above is drawn"
