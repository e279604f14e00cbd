"""Every page under AppTest, in both languages."""
import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.i18n import EN, TEXTS, ZH
from trainer.config import Mode, RunConfig
from trainer.store import COMPLETED, Store

ROOT = Path(__file__).resolve().parent.parent
MAIN = str(ROOT / "app" / "main.py")
PAGES = ["configure", "train", "compare", "tryit", "data", "runs"]


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


@pytest.fixture
def finished_runs(runs_dir):
    """Two finished runs with real-looking points, written straight into the store."""
    store = Store(runs_dir)
    ids = []
    for mode in (Mode.DENSE, Mode.ALL):
        run_id = store.create_run(RunConfig(mode=mode))
        store.set_status(run_id, "running")
        store.add_metrics(run_id, 0, 0.0, {"total_steps": 4, "dense.mrr@10": 0.5, "hybrid.mrr@10": 0.4})
        for step in range(1, 5):
            store.add_metrics(run_id, step, step / 4, {"loss": 2.0 / step, "lr": 1e-5, "samples_per_s": 10.0,
                                                       "peak_rss_gib": 1.2})
        store.add_metrics(run_id, 4, 1.0, {"dense.mrr@10": 0.7, "hybrid.mrr@10": 0.6})
        store.set_status(run_id, COMPLETED)
        ids.append(run_id)
    return store, ids


def open_page(name: str, lang: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=90)
    at.session_state["lang"] = lang
    at.run()
    if name != "configure":
        at.switch_page(f"../pages/{name}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_configure_page_shows_modes_presets_and_start(runs_dir, lang):
    at = open_page("configure", lang)
    T = TEXTS[lang]
    assert at.title[0].value == T["configure.title"]
    labels = [b.label for b in at.button]
    assert T["configure.start"] in labels and T["preset.dense"] in labels and T["preset.full"] in labels
    assert {r.label for r in at.radio} >= {T["configure.mode_pick"], T["configure.model"], T["configure.data"]}
    for mode in Mode:
        assert any(T[f"mode.{mode.value}.trains"] in m.value for m in at.markdown)
    # presets fill the form
    at.button(key="preset_dense").click().run()
    assert at.number_input(key="cfg_batch_size").value == 32
    assert at.radio(key="cfg_mode").value == "dense"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_start_creates_a_run_in_the_store_and_launches_it(runs_dir, lang, monkeypatch):
    from trainer import launch
    launched = []     # the worker itself is the training tests' and the browser test's
    monkeypatch.setattr(launch, "_launch", lambda store, run_id, num_gpus: launched.append((run_id, num_gpus)))
    at = open_page("configure", lang)
    at.number_input(key="cfg_epochs").set_value(1)
    at.button(key="start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    runs = Store(runs_dir).list_runs()
    assert len(runs) == 1 and runs[0].config.epochs == 1 and runs[0].mode == "dense"
    assert launched == [(runs[0].id, 1)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_train_page_shows_status_metrics_and_charts(finished_runs, lang):
    at = open_page("train", lang)
    T = TEXTS[lang]
    assert at.title[0].value == T["train.title"]
    assert at.selectbox(key="train_pick") is not None
    assert any(T["status.completed"] in m.value for m in at.markdown)
    metric_labels = [m.label for m in at.metric]
    assert T["train.samples_per_s"] in metric_labels and T["train.baseline_mrr"] in metric_labels
    assert len(at.get("plotly_chart")) == 3


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compare_page_overlays_runs_and_tabulates(finished_runs, lang):
    at = open_page("compare", lang)
    T = TEXTS[lang]
    assert at.title[0].value == T["compare.title"]
    assert len(at.multiselect(key="compare_pick").value) == 2
    assert len(at.get("plotly_chart")) == 4
    table = at.dataframe[0].value
    assert list(table[T["compare.col.best"]]) == [0.7, 0.6] or sorted(table[T["compare.col.best"]]) == [0.6, 0.7]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_data_page_validates_the_demo_file(runs_dir, lang):
    at = open_page("data", lang)
    T = TEXTS[lang]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[T["data.rows_ok"]] == "108" and metrics[T["data.rows_bad"]] == "0"
    assert len(at.get("plotly_chart")) == 3
    assert any("36" in s.value for s in at.success)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_runs_page_renames_and_deletes_after_asking(finished_runs, lang):
    store, ids = finished_runs
    at = open_page("runs", lang)
    T = TEXTS[lang]
    assert at.title[0].value == T["runs.title"]
    run_id = at.selectbox(key="runs_pick").value
    at.text_input(key=f"rename_{run_id}").set_value("renamed").run()
    assert store.get_run(run_id).name == "renamed"
    at.button(key="runs_delete").click().run()
    assert len(store.list_runs()) == 2          # asked first, nothing deleted yet
    at.button(key="runs_yes").click().run()
    assert [r.id for r in store.list_runs()] == [i for i in ids if i != run_id]
    assert T["runs.export.none"] in [c.value for c in at.caption]      # these runs saved no model
    assert any(c.value.startswith("torchrun --nproc_per_node 1 -m FlagEmbedding") for c in at.code)


def test_runs_page_filters_and_pages_through_many_runs(finished_runs):
    store, ids = finished_runs
    many = [store.create_run(RunConfig(mode=Mode.HEADS, name=f"sweep {n}")) for n in range(55)]
    at = open_page("runs", "en")
    table = at.dataframe[0].value
    assert len(table) == 50 and list(table["id"]) == many[::-1][:50]            # newest first, one page
    assert at.number_input(key="runs_page").label == EN["runs.filter.page"].format(n=2)
    at.number_input(key="runs_page").set_value(2).run()
    assert list(at.dataframe[0].value["id"]) == many[::-1][50:] + ids[::-1]
    at.selectbox(key="runs_mode").set_value("dense").run()
    assert list(at.dataframe[0].value["id"]) == ids[:1] and at.number_input(key="runs_page").value == 1
    assert at.dataframe[0].value[EN["compare.col.best"]].tolist() == [0.7]        # from the run's summary
    at.selectbox(key="runs_mode").set_value("").run()
    at.selectbox(key="runs_status").set_value("queued").run()
    at.text_input(key="runs_name").set_value("SWEEP 1").run()
    assert sorted(at.dataframe[0].value["id"]) == sorted(many[1:2] + many[10:20])
    at.text_input(key="runs_name").set_value("no such run").run()
    assert EN["runs.filter.none"] in [i.value for i in at.info]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tryit_page_without_a_saved_model_says_so(finished_runs, lang):
    at = open_page("tryit", lang)
    assert TEXTS[lang]["tryit.no_runs"] in [i.value for i in at.info]


def test_both_languages_have_the_same_texts():
    assert EN.keys() == ZH.keys()
    assert all(v.strip() for table in (EN, ZH) for v in table.values())


def test_every_text_key_used_in_the_ui_exists():
    used = set()
    dynamic = set()
    for path in list((ROOT / "pages").glob("*.py")) + list((ROOT / "app").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant):
                    used.add(arg.value)
                else:
                    dynamic.add(ast.unparse(arg))
    assert used and not (used - EN.keys()), used - EN.keys()
    # dynamic keys are built from these enumerations
    expanded = {f"mode.{m.value}.{part}" for m in Mode for part in ("title", "flags", "trains", "cost", "when")}
    expanded |= {f"status.{s}" for s in ("waiting", "queued", "running", "completed", "stopped", "failed", "interrupted")}
    expanded |= {f"head.{h}" for h in ("dense", "sparse", "colbert", "hybrid")}
    expanded |= {f"precision.{p}" for p in ("auto", "fp32", "bf16", "fp16")} | {"preset.dense", "preset.full"}
    expanded |= {f"nav.{n}" for n in PAGES}
    expanded |= {f"memory.{p}" for p in ("weights", "gradients", "optimizer", "activations", "sparse_head",
                                         "colbert", "workspace")}
    expanded |= {f"claims.{c}" for c in ("dense_memory", "dense_speed", "dense_batch", "amp_memory")}
    expanded |= {"tryit.source.pick", "tryit.source.type", "tryit.base", "tryit.tuned"}
    expanded |= {f"configure.measure.{s}" for s in ("oom", "error")}
    expanded |= {"configure.model.default", "configure.model.custom", "configure.data.demo", "configure.data.path",
                 "configure.sparse_head.lean", "configure.sparse_head.stock", "data.source.demo",
                 "data.source.upload", "data.source.path"}
    expanded |= {f"configure.report_to.{r}" for r in ("none", "tensorboard", "mlflow")}
    expanded |= {f"runs.merge.heads.{h}" for h in ("averaged", "kept", "none")}
    expanded |= {f"runs.curve.{name}" for name in ("validation", "general")}
    assert not (expanded - EN.keys()), expanded - EN.keys()
    prefixes = {re.sub(r"\{.*", "", d.strip("f'\"")) for d in dynamic}
    assert prefixes, dynamic


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_configure_page_estimates_memory_and_warns_when_it_will_not_fit(runs_dir, lang):
    at = open_page("configure", lang)
    T = TEXTS[lang]
    assert T["configure.memory"] in [h.value for h in at.subheader]
    assert any(T["claims.dense_memory"] in str(tbl.value) for tbl in at.table)
    assert not any(T["configure.wont_fit"].split("{")[0] in w.value for w in at.warning)
    at.selectbox(key="cfg_card").set_value("24")
    at.number_input(key="cfg_batch_size").set_value(4096)
    at.run()
    assert any(w.value.startswith(T["configure.wont_fit"].split("{")[0]) for w in at.warning), [w.value for w in at.warning]
    at.button(key="measure").click()
    at.run()
    from trainer import gpus
    if not gpus.detect():
        assert T["configure.measure.no_gpu"] in [i.value for i in at.info]


def test_gpu_count_and_cross_device_negatives_appear_only_with_several_gpus(runs_dir, monkeypatch):
    from trainer import gpus
    at = open_page("configure", "en")
    assert not [n for n in at.number_input if n.key == "cfg_num_gpus"]
    monkeypatch.setattr(gpus, "detect", lambda: [gpus.Gpu("NVIDIA H100 80GB HBM3", 79.6)] * 2)
    at = open_page("configure", "en")
    assert not [c for c in at.checkbox if c.key == "cfg_negatives_cross_device"]
    at.number_input(key="cfg_num_gpus").set_value(2)
    at.run()
    assert at.checkbox(key="cfg_negatives_cross_device").label == EN["configure.cross_device"]
    assert at.selectbox(key="cfg_card").value.startswith("detected:")


def test_measure_on_this_gpu_shows_the_measured_peak_next_to_its_estimate(runs_dir, monkeypatch):
    from trainer import gpus, launch
    monkeypatch.setattr(gpus, "detect", lambda: [gpus.Gpu("NVIDIA H100 80GB HBM3", 79.6)])
    asked = []

    def probe(*args):
        asked.append(args)
        return {"total_gib": 1.25, "measured": {"status": "ok", "peak_gib": 1.3, "device": "NVIDIA H100 80GB HBM3"}}
    monkeypatch.setattr(launch, "probe_memory", probe)
    at = open_page("configure", "en")
    at.button(key="measure").click().run()
    assert asked and asked[0][1:3] == ("dense", 8)
    assert "Measured peak 1.30 GiB (estimate 1.25 GiB) on NVIDIA H100 80GB HBM3." in [s.value for s in at.success]


def test_an_interrupted_run_with_a_checkpoint_offers_resume(finished_runs):
    store, ids = finished_runs
    run = store.get_run(ids[0])
    store.reopen(run.id, ("completed",))
    store.set_status(run.id, "interrupted", error="the worker ended without a final status")
    checkpoint = Path(run.output_dir) / "model" / "checkpoint-4"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text("{}")
    at = AppTest.from_file(MAIN, default_timeout=90)
    at.session_state["lang"] = "en"
    at.session_state["run_id"] = run.id
    at.run()
    at.switch_page("../pages/train.py")
    at.run()
    assert at.button(key="resume").label == "Resume from checkpoint-4"
