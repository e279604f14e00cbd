"""Every page under AppTest, in both languages."""
import ast
import base64
import json
from pathlib import Path

import numpy as np
import pytest

from apptest import open_page
from app.i18n import EN, TEXTS, ZH
from app.nav import NAMES
from app.markdown import plain
from trainer.core import metrics
from trainer.store import query_ranks
from trainer.core.config import DEMO_DIR
from trainer.core.config import Mode, RunConfig
from trainer.store import COMPLETED, Store

ROOT = Path(__file__).resolve().parent.parent
PAGES = list(NAMES)                      # every page the router registers (app/nav.py)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


# Per-query ranks of the right passage at step 0 and at the end: query 0 improves 6 → 2, query 1 gets
# worse 7 → 9, query 2 stays first; on average 14/3 → 4.
RANKS_BEFORE, RANKS_AFTER = [6, 7, 1], [2, 9, 1]


@pytest.fixture
def finished_runs(runs_dir):
    """Two finished runs with real-looking points and per-query ranks, written straight into the store."""
    store = Store(runs_dir)
    ids = []
    # samples/s per step: the last step's figure is not the median (Train and Compare show the median)
    for mode, sps in ((Mode.DENSE, (9.0, 11.5487, 3.0, 6.0)), (Mode.ALL, (3.72, 3.5, 4.0, 10.9))):
        run_id = store.create_run(RunConfig(mode=mode))
        store.set_status(run_id, "running")
        heads = ("dense",) if mode is Mode.DENSE else ("dense", "hybrid")
        before = {f"{h}.mrr@10": v for h, v in (("dense", 0.5), ("hybrid", 0.4)) if h in heads}
        after = {f"{h}.mrr@10": v for h, v in (("dense", 0.7), ("hybrid", 0.6)) if h in heads}
        store.add_metrics(run_id, 0, 0.0, {"total_steps": 4, **before})
        for step in range(1, 5):
            store.add_metrics(run_id, step, step / 4, {"loss": 2.0 / step, "lr": 1e-5,
                                                       "samples_per_s": sps[step - 1], "peak_rss_gib": 1.2})
        store.add_metrics(run_id, 4, 1.0, after)
        run_dir = Path(store.get_run(run_id).output_dir)
        run_dir.mkdir(parents=True)
        query_ranks.append(run_dir, 0, 0.0, {h: RANKS_BEFORE for h in heads})
        query_ranks.append(run_dir, 4, 1.0, {h: RANKS_AFTER for h in heads})
        store.set_status(run_id, COMPLETED)
        ids.append(run_id)
    return store, ids


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_configure_page_shows_modes_presets_and_start(runs_dir, lang):
    at = open_page("configure", lang)
    T = TEXTS[lang]
    assert at.title[0].value == T["configure.title"]
    labels = [b.label for b in at.button]
    assert T["configure.start"] in labels
    assert {r.label for r in at.radio} >= {T["configure.model"], T["configure.data"]}
    for mode in Mode:
        assert any(T[f"mode.{mode.value}.trains"] in m.value for m in at.markdown)
    # the sections read as a guided path, Start last, and the four scores are explained
    assert [h.value for h in at.subheader] == [T["configure.model_data"], T["configure.mode"], T["configure.hyper"],
                                               T["configure.memory"], T["configure.start_section"]]
    assert "(#start)" in at.markdown[0].value and T["configure.terms"] in [c.value for c in at.caption]
    # the embedded model reads the app's own demo: no [UNK] warning, the share said as a caption (issue 36)
    model = T["configure.model.default"]
    assert T["dataset.unknown_low"].format(share="0.0%", model=model) in [c.value for c in at.caption]
    assert not any(T["dataset.unknown_high"].split("{share}")[0].format(model=model) in w.value for w in at.warning)
    # the mode cards are the control: the chosen card's button is the highlighted one
    chosen = lambda: [b.key for b in at.button if b.label == T["configure.mode_chosen"]]  # noqa: E731
    assert chosen() == ["mode_dense"]
    at.button(key="mode_all").click().run()
    assert chosen() == ["mode_all"] and at.radio(key=f"cfg_sparse_head__{lang}").value == "lean"
    # presets fill the form, keep warmup automatic and say what they did
    at.button(key="preset_dense").click().run()
    assert at.number_input(key="cfg_batch_size").value == 32 and chosen() == ["mode_dense"]
    assert at.checkbox(key="cfg_warmup_auto").value is True
    assert any(c.value.startswith(T["configure.preset_applied"].split("“")[0]) for c in at.caption)


def test_presets_are_honest_about_the_run_they_make(runs_dir):
    from trainer.core.config import PRESETS
    for preset in PRESETS.values():
        assert set(preset) <= {"mode", "learning_rate", "batch_size"}    # only fields the form has
    for lang in ("en", "zh"):
        assert "clip" not in TEXTS[lang]["preset"] and "1500" not in TEXTS[lang]["preset"]
    at = open_page("configure", "en")
    # the buttons say the values the presets set (made from PRESETS)
    assert {b.key: b.label for b in at.button if b.key.startswith("preset_")} == {
        "preset_dense": "Preset: Dense only (lr 3e-6, batch 32, automatic warmup)",
        "preset_full": "Preset: All heads (lr 2e-6, batch 16, automatic warmup)"}
    at.button(key="preset_dense").click().run()
    # the preset's 3e-6 is meant for large data: the 180 demo rows suggest 2e-5 (a small model), and the page says so
    assert any(w.value.startswith("Learning rate 3.0e-06 is far from the suggestion 2.0e-05") for w in at.warning)
    assert not any("Warmup" in w.value for w in at.warning)
    # a warmup longer than the run warns how far the learning rate gets
    at.checkbox(key="cfg_warmup_auto").uncheck().run()
    at.number_input(key="cfg_warmup_steps").set_value(1500).run()
    assert any(w.value.startswith("Warmup 1500 steps of a 30-step run") for w in at.warning), \
        [w.value for w in at.warning]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_a_gpu_the_memory_section_says_so_first_with_cpu_facts(runs_dir, monkeypatch, lang):
    from trainer.core import gpus
    monkeypatch.setattr(gpus, "detect", lambda: [])
    at = open_page("configure", lang)
    T = TEXTS[lang]
    cores, ram = gpus.cpu_facts()
    assert at.info[0].value == T["configure.no_gpu"].format(cores=cores, ram=ram)
    assert any(c.value.startswith(T["configure.cpu_estimate"].split("{")[0]) for c in at.caption)
    assert T["configure.plan_gpu"] in [e.label for e in at.expander]
    # the small model's ~1 GiB bars are not squashed under a 24 GB card's line: the card is named instead
    assert any(c.value.startswith(T["configure.card_far"].split("{")[0]) for c in at.caption)
    bars = [json.loads(c.proto.spec)["layout"] for c in at.get("plotly_chart")
            if "GiB" in json.dumps(json.loads(c.proto.spec)["layout"].get("yaxis", {}))]
    assert len(bars) == 1 and not bars[0].get("shapes")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_start_creates_a_run_in_the_store_and_launches_it(runs_dir, lang, monkeypatch):
    from trainer.jobs import launch
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
    _, ids = finished_runs
    assert at.selectbox(key=f"train_pick__{lang}").value == ids[-1]      # the newest run is shown first
    assert any(T["status.completed"] in m.value for m in at.markdown)
    metrics = {m.label: m for m in at.metric}       # the newest run is all heads; its main head is hybrid
    assert metrics[T["train.samples_per_s"]].value == "3.9"                  # the median, not the last step
    # the headline cards: the main head before → after on the questions named, from the per-question ranks;
    # 1 of 3 questions better, 1 worse is no clear change: grey, no arrow (trainer.verdict.mark)
    assert "**" + T["headline.cards"].format(head=T["head.hybrid"], questions=T["questions.validation"].format(n=3)) \
        + "**" in [m.value for m in at.markdown]
    assert metrics[T["headline.card.before"]].value == "0.437"
    after = metrics[T["headline.card.after"]]
    assert after.value == "0.537" and after.proto.delta == "+0.101"
    assert after.proto.delta_description == T["verdict.word.unclear"] and after.proto.color != after.proto.GREEN
    assert len(at.get("plotly_chart")) == 3
    # a finished run says where it ended, not how long is left
    texts = [p.proto.text for p in at.get("progress")]
    assert texts == [T["train.progress_ended"].format(status=T["status.completed"], step=4, total=4)]
    # the story, per head, in plain words, and what MRR@10 means
    story = T["story.head"].format(head=T["head.hybrid"]) + T["story.moved"].format(
        improved=1, queries=3, worse=1, before=14 / 3, after=4)
    assert any(story in m.value for m in at.markdown), [m.value for m in at.markdown]
    assert T["story.mrr"] in [c.value for c in at.caption]


def test_train_charts_start_at_step_zero_and_each_head_keeps_its_own_readable_range(finished_runs):
    at = open_page("train", "en")
    charts = {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec)["layout"]
              for c in at.get("plotly_chart")}
    assert charts["Loss"]["xaxis"]["range"] == [0, 4]
    mrr = charts["Validation MRR@10 per head"]
    ranges = [mrr[k]["range"] for k in mrr if k.startswith("yaxis")]
    assert len(ranges) == 2 and all(0 <= low < high <= 1 for low, high in ranges)
    assert ranges[1][0] < 0.4 and ranges[1][1] > 0.6   # hybrid's 0.4 → 0.6 fills its own panel


def test_train_page_of_a_run_without_points_waits_in_words(runs_dir):
    store = Store(runs_dir)
    store.create_run(RunConfig(mode=Mode.ALL))
    at = open_page("train", "en")
    assert [p.proto.text for p in at.get("progress")] == [EN["train.starting"]]
    assert {i.value for i in at.info} == {EN["train.waiting_loss"], EN["train.waiting_mrr"]}
    assert not at.get("plotly_chart") and not [m for m in at.metric if "MRR" in m.label]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compare_page_overlays_runs_and_tabulates(finished_runs, lang):
    at = open_page("compare", lang)
    T = TEXTS[lang]
    assert at.title[0].value == T["compare.title"]
    assert len(at.multiselect(key=f"compare_pick__{lang}").value) == 2
    assert len(at.get("plotly_chart")) == 4
    table = at.dataframe[0].value                   # one column per run, one row per measure
    by_mode = {table.loc[T["compare.col.mode"], c]: table[c] for c in table.columns}
    dense_run, all_run = by_mode[T["mode.dense.title"]], by_mode[T["mode.all.title"]]
    dense, hybrid = (T["compare.col.head"].format(head=T[f"head.{h}"]) for h in ("dense", "hybrid"))
    assert dense_run[dense] == "0.500 → 0.700" and dense_run[hybrid] == "–" and all_run[hybrid] == "0.400 → 0.600"
    # samples/s medians, one decimal; memory two decimals
    samples, memory = T["compare.col.samples"], T["compare.col.memory"]
    assert (dense_run[samples], all_run[samples]) == ("7.5", "3.9") and dense_run[memory] == all_run[memory] == "1.20"
    # the opening sentence: with 3 questions, one better and one worse, the two kept models tie: no mode won
    opening = next(m.value for m in at.markdown if m.value.startswith(T["compare.none"].split("{")[0]))
    assert T["questions.validation"].format(n=3) in opening and "**" + T["compare.won"].split("**")[3] not in opening
    # each run's own change, per head, on its kept model (from the per-question ranks: 0.437 → 0.537), with
    # no change "better": no clear difference, and the rule is written under it
    verdict = next(m.value for m in at.markdown if m.value.startswith("- **")
                   and T["head.hybrid"] in m.value and "0.537" in m.value)
    unclear = T["verdict.unclear"].split("{diff}")[-1].split("{high}")[-1]
    assert T["mode.all.title"] in verdict and unclear in verdict and T["compare.why.all.heads"] not in verdict
    assert T["story.moved"].format(improved=1, queries=3, worse=1, before=14 / 3, after=4) in verdict
    assert "won" not in verdict.lower() and T["compare.won"].split("{run}")[1][:8] not in verdict
    assert T["compare.verdict.rule"] in [c.value for c in at.caption]
    assert dense_run[T["compare.col.data"]] == f'{T["dataset.demo"]} · {T["dataset.eval.demo"]}'


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_data_page_validates_the_demo_file(runs_dir, lang):
    at = open_page("data", lang)
    T = TEXTS[lang]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[T["data.rows_ok"]] == "180" and metrics[T["data.rows_bad"]] == "0"
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 3 and all(c["layout"]["yaxis"]["title"]["text"] == T["data.count"] for c in charts)
    x = charts[1]["data"][0]["x"]               # plotly ships the values as a typed array
    queries = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]) if isinstance(x, dict) else x
    # real token counts: short, varied, under the 64-token cap (not one bar at the padded 128)
    assert max(queries) < 64 and len(set(queries)) > 3
    model = T["configure.model.default"]
    assert T["dataset.unknown_low"].format(share="0.0%", model=model) in [c.value for c in at.caption]
    assert not any(T["dataset.unknown_high"].split("{share}")[0].format(model=model) in w.value for w in at.warning)
    # the evaluation folder is optional (no longer the demo's by default); given, it is checked
    assert not at.success
    at.text_input(key="data_eval").input(str(DEMO_DIR / "eval")).run()
    assert any("72" in s.value for s in at.success)


def test_token_lengths_count_tokens_without_the_tokenizers_padding():
    from trainer.data.token_lengths import token_lengths
    short, longer = token_lengths(["reset the hub", "how do I reset the hub when the status ring blinks red"])
    assert 3 <= short < longer < 20


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_data_page_names_a_missing_file_once_as_a_file_problem(runs_dir, tmp_path, lang):
    at = open_page("data", lang)
    at.radio(key=f"data_source__{lang}").set_value("path").run()
    missing = str(tmp_path / "nope.jsonl")
    at.text_input(key="data_path").set_value(missing).run()
    T = TEXTS[lang]
    assert [e.value for e in at.error] == [T["data.file_problem"].format(
        file=plain(missing), message="cannot read: No such file or directory")]
    assert not at.metric and not at.dataframe             # no 'Bad rows 0', no 'Line 0'


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_runs_page_renames_and_deletes_after_asking(finished_runs, lang):
    store, ids = finished_runs
    at = open_page("runs", lang)
    T = TEXTS[lang]
    assert at.title[0].value == T["runs.title"]
    best = at.dataframe[0].value.set_index(T["compare.col.mode"])[T["compare.col.best"]]    # labelled with its head
    assert best[T["mode.all.title"]] == f"0.600 ({T['head.hybrid']})" and best[T["mode.dense.title"]] == "0.700 (" \
        + T["head.dense"] + ")"
    run_id = at.selectbox(key="runs_pick").value
    at.text_input(key=f"rename_{run_id}").set_value("renamed").run()
    assert store.get_run(run_id).name == "renamed"
    at.button(key="runs_delete").click().run()
    assert len(store.list_runs()) == 2          # asked first, nothing deleted yet
    at.button(key="runs_yes").click().run()
    assert [r.id for r in store.list_runs()] == [i for i in ids if i != run_id]
    assert T["runs.export.none"] in [c.value for c in at.caption]      # these runs saved no model
    assert any(c.value.startswith("torchrun --nproc_per_node 1 -m FlagEmbedding") for c in at.code)
    from trainer.planning.additions import ADDITIONS
    assert any(ADDITIONS["warmup"][lang] in m.value and ADDITIONS["pooler"][lang] in m.value for m in at.markdown)


def test_runs_page_keeps_the_chosen_run_across_visits(finished_runs):
    store, ids = finished_runs
    at = open_page("runs", "en")
    older = ids[0]                               # the list opens on the newest run
    at.selectbox(key="runs_pick").set_value(older).run()
    at.switch_page("../pages/compare.py").run()
    at.switch_page("../pages/runs.py").run()
    assert at.selectbox(key="runs_pick").value == older


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
    assert at.dataframe[0].value[EN["compare.col.best"]].tolist() == ["0.700 (dense)"]   # from the run's summary
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


def literal_prefix(node: ast.expr) -> str:
    """The fixed start of a key built at run time: f"mode.{m.value}.title" -> "mode."."""
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return node.values[0].value
    return ""


def test_every_text_key_used_in_the_ui_exists():
    from trainer.jobs.sweep import PRUNERS
    used = set()
    dynamic = {}                         # the fixed start of each key built at run time -> where
    for path in list((ROOT / "pages").glob("*.py")) + list((ROOT / "app").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name, arg = getattr(node.func, "id", None), node.args[0]
            if name == "t" and isinstance(arg, ast.Constant):
                used.add(arg.value)
            elif name == "t":
                dynamic[literal_prefix(arg)] = f"{path.name}: {ast.unparse(arg)}"
            elif name == "labels" and isinstance(arg, ast.Constant):      # format_func=labels("mode.{}.title")
                dynamic[arg.value.split("{")[0]] = f"{path.name}: {arg.value}"
    assert used and not (used - EN.keys()), used - EN.keys()
    # The keys built at run time, from the enumerations the code builds them from
    from app.chart_data import HEADS
    from app.mining_ui import PHASES
    from trainer.sizing.article_vs_measured import CLAIMED
    from trainer.core.fields import CHOICES, FIELDS
    from trainer.sizing.memory import BGE_M3, Setup, estimate
    from trainer.core.model_source import NOTES
    from trainer.store import FINAL, LIVE, WAITING
    heads = set(HEADS)
    expanded = {f"mode.{m.value}.{part}" for m in Mode for part in ("title", "trains", "cost", "when")}
    expanded |= {f"compare.why.{m}.{h}" for m in ("all", "heads") for h in ("dense", "heads")}
    expanded |= {"compare.why.dense.dense"}
    expanded |= {f"status.{s}" for s in (WAITING, *LIVE, *FINAL)}
    expanded |= {f"head.{h}" for h in heads} | {f"heldout.metric.{m}" for m in metrics.AT_K}
    expanded |= {f"precision.{p}" for p in CHOICES["precision"]}
    expanded |= {f"nav.{n}" for n in PAGES} | {f"note.{k}" for k in NOTES} | {f"mine.phase.{p}" for p in PHASES}
    expanded |= {f"memory.{p}" for p in estimate(Setup(shape=BGE_M3, mode=Mode.ALL, batch=1)).breakdown}
    expanded |= {f"claims.{c}" for c in CLAIMED}
    expanded |= {"tryit.source.pick", "tryit.source.type", "tryit.base", "tryit.tuned"}
    expanded |= {f"configure.measure.{s}" for s in ("oom", "error")}
    expanded |= {"configure.model.default", "configure.model.custom", "configure.data.demo", "configure.data.path",
                 "configure.data.dataset", "data.source.demo", "data.source.upload", "data.source.path",
                 "data.source.dataset"}
    expanded |= {f"dataset.eval.{e}" for e in ("split", "demo", "none", "folder")}
    expanded |= {f"dataset.origin.{o}" for o in ("upload", "mined", "path")}
    expanded |= {f"verdict.{w}" for w in ("better", "worse", "unclear")}
    expanded |= {f"verdict.word.{w}" for w in ("better", "worse", "unclear")}
    expanded |= {f"questions.{q}{end}" for q in ("validation", "test") for end in ("", ".why")}
    expanded |= {f"count.{u}" for u in ("epoch", "step", "problem", "trial")}
    expanded |= {f"configure.eval_choice.{c}" for c in ("split", "folder", "none")}
    expanded |= {f"configure.{field}.{c}" for field in ("sparse_head", "report_to", "mine", "zero_stage")
                 for c in CHOICES[field]}
    expanded |= {f"runs.merge.heads.{h}" for h in ("averaged", "kept", "none")}
    expanded |= {f"runs.curve.{name}" for name in ("validation", "general")}
    expanded |= {f"sweep.pruner.{p}" for p in PRUNERS}
    from trainer.planning.checks import FIX_FIELDS
    from trainer.core.merge_choice import CASES, LANGUAGES
    from trainer.jobs.sweep import OUTCOMES
    expanded |= {f"configure.memory_fix.{f}" for f in FIX_FIELDS} | {f"sweep.outcome.{o}" for o in OUTCOMES}
    expanded |= {f"lang.{code}" for code in LANGUAGES} | {f"runs.curve.pick.{c}" for c in CASES}
    expanded |= {f"field.{name}" for name in FIELDS} | {f.label for f in FIELDS.values() if f.label}
    assert not (expanded - EN.keys()), expanded - EN.keys()
    # Every family of keys the UI builds at run time is enumerated above: a new one fails here until it is.
    unlisted = {where for start, where in dynamic.items() if not any(k.startswith(start) for k in expanded)}
    assert dynamic and not unlisted, unlisted


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_configure_page_estimates_memory_and_warns_when_it_will_not_fit(runs_dir, lang, monkeypatch):
    from trainer.core import gpus
    monkeypatch.setattr(gpus, "detect", lambda: [])       # this machine's GPUs, if any, play no part
    at = open_page("configure", lang)
    T = TEXTS[lang]
    assert T["configure.memory"] in [h.value for h in at.subheader]
    assert any(T["claims.dense_memory"] in str(tbl.value) for tbl in at.table)
    assert not any(T["configure.wont_fit"].split("{")[0] in w.value for w in at.warning)
    at.selectbox(key="cfg_card").set_value("24")
    at.number_input(key="cfg_batch_size").set_value(4096)
    at.run()
    assert any(w.value.startswith(T["configure.wont_fit"].split("{")[0]) for w in at.warning), [w.value for w in at.warning]
    assert not [b for b in at.button if b.key == "measure"]        # nothing to measure on without a GPU


def test_gpu_count_and_cross_device_negatives_appear_only_with_several_gpus(runs_dir, monkeypatch):
    from trainer.core import gpus
    at = open_page("configure", "en")
    assert not [n for n in at.number_input if n.key == "cfg_num_gpus"]
    monkeypatch.setattr(gpus, "detect", lambda: [gpus.Gpu("NVIDIA H100 80GB HBM3", 79.6)] * 2)
    at = open_page("configure", "en")
    assert not [c for c in at.checkbox if c.key == "cfg_negatives_cross_device"]
    at.number_input(key="cfg_num_gpus").set_value(2)
    at.run()
    assert at.checkbox(key="cfg_negatives_cross_device").label == EN["configure.cross_device"]
    assert at.selectbox(key="cfg_card").value.startswith("detected:")


def test_zero_and_gradient_checkpointing_are_offered_with_gpus_and_reach_the_command(runs_dir, monkeypatch):
    from trainer.core import gpus
    monkeypatch.setattr(gpus, "detect", lambda: [])
    at = open_page("configure", "en")
    assert not [c for c in at.checkbox if c.key == "cfg_gradient_checkpointing"]
    assert not [r for r in at.radio if r.key.startswith("cfg_zero_stage")]
    monkeypatch.setattr(gpus, "detect", lambda: [gpus.Gpu("NVIDIA H100 80GB HBM3", 79.6)])
    at = open_page("configure", "en")          # one GPU: checkpointing, no ZeRO (nothing to shard over)
    assert at.checkbox(key="cfg_gradient_checkpointing").label == EN["configure.grad_ckpt"]
    assert not [r for r in at.radio if r.key.startswith("cfg_zero_stage")]
    monkeypatch.setattr(gpus, "detect", lambda: [gpus.Gpu("NVIDIA H100 80GB HBM3", 79.6)] * 2)
    at = open_page("configure", "en")
    at.number_input(key="cfg_num_gpus").set_value(2)
    at.run()
    zero = at.radio(key="cfg_zero_stage__en")
    assert zero.options == [EN[f"configure.zero_stage.{z}"] for z in (0, 1, 2)]
    command = lambda: next(c.value for c in at.code if c.value.startswith("torchrun"))  # noqa: E731
    assert "--deepspeed" not in command() and "--gradient_checkpointing False" in command()
    zero.set_value(2)
    at.checkbox(key="cfg_gradient_checkpointing").check()
    at.run()
    assert "--deepspeed RUN_FOLDER/ds_stage2.json" in command() and "--gradient_checkpointing True" in command()


def test_measure_on_this_gpu_shows_the_measured_peak_next_to_its_estimate(runs_dir, monkeypatch):
    from trainer.core import gpus
    from trainer.jobs import tools
    monkeypatch.setattr(gpus, "detect", lambda: [gpus.Gpu("NVIDIA H100 80GB HBM3", 79.6)])
    asked = []

    def probe(*args):
        asked.append(args)
        return {"total_gib": 1.25, "measured": {"status": "ok", "peak_gib": 1.3, "device": "NVIDIA H100 80GB HBM3"}}
    monkeypatch.setattr(tools, "probe_memory", probe)
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
    at = open_page("train", "en", run_id=run.id)
    assert at.button(key="resume").label == "Resume from checkpoint-4"


def test_switching_language_gives_translated_widgets_fresh_keys_and_keeps_the_choice(runs_dir):
    at = open_page("configure", "en")
    at.button(key="mode_all").click().run()
    at.radio(key="cfg_sparse_head__en").set_value("stock").run()
    at.selectbox(key="lang_picker").set_value("zh").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == ZH["configure.title"]
    assert at.radio(key="cfg_sparse_head__zh").value == "stock"
    assert ZH["configure.sparse_head.stock"] in at.radio(key="cfg_sparse_head__zh").options


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_length_buckets_switch_shows_the_plan_as_a_table_and_a_chart(runs_dir, lang):
    at = open_page("configure", lang)
    T = TEXTS[lang]
    assert at.toggle(key="cfg_length_buckets").label == T["configure.buckets"]
    before = len(at.dataframe)
    at.toggle(key="cfg_length_buckets").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe) == before + 1
    table = at.dataframe[-1].value
    assert list(table.columns)[:3] == [T["bucket.tokens"], T["bucket.rows"], T["bucket.batch"]]
    assert table[T["bucket.rows"]].sum() == 180                  # the demo file's rows, each once
    assert any(c.value.startswith(T["configure.buckets_caption"].split("{")[0]) for c in at.caption)
    assert len(at.get("plotly_chart")) >= 2                      # the bucket chart next to the schedule
    # the run's summary counts the buckets' full batches: 180 demo rows at batch 8 are 22 steps an epoch
    steps, epochs = (T[f"count.{u}"].split("|")[1].format(n=n) for u, n in (("step", 110), ("epoch", 5)))
    summary = T["configure.summary"].format(mode=T["mode.dense.title"], steps=steps, lr="{lr}", batch=8, epochs=epochs)
    assert any(c.value.startswith(summary.split("{lr}")[0]) for c in at.caption)
