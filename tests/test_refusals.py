"""Refused plainly, before Start, on the page and the command line alike: a hub id this machine cannot get (what is
missing, the download command, where the cache is, a copied folder; never the hub client's error dump), and a run
whose memory estimate exceeds the machine (with what fits; the page asks for a confirmation, the CLI a flag)."""
import subprocess
import sys
from pathlib import Path

import pytest

from app.markdown import plain
from apptest import open_page
from app.i18n import TEXTS
from trainer.planning import checks
from trainer.core import gpus
from trainer.jobs import launch
from trainer.core.config import Mode, RunConfig
from trainer.core.gpus import Gpu
from trainer.core.model_source import hub_refusal
from trainer.store import Store

ROOT = Path(__file__).resolve().parent.parent
HUB = "BAAI/bge-m3"
# The two commands the refusal names, and the way to use a copied folder
DOWNLOAD = f"huggingface-cli download {HUB}"
COPIED = "type the folder's path as the model"
HUGE = dict(batch_size=4096, passage_max_len=512)      # far more than any test machine's memory


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache, offline (a look-alike another test put in the suite's cache is not seen)."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def no_dump(text: str) -> None:
    for dump in ("Error(", "Traceback", "HTTPSConnectionPool", "NameResolution", "Request ID"):
        assert dump not in text, text


# Hub ids --------------------------------------------------------------------------------------------------

def test_offline_a_hub_id_not_in_the_cache_is_refused_by_the_cache_alone(empty_cache, monkeypatch):
    from huggingface_hub import HfApi

    monkeypatch.setattr(HfApi, "model_info", lambda *a, **k: pytest.fail("offline, the hub is never asked"))
    note = hub_refusal(HUB)
    assert note.key == "hub_offline"
    text = note.text
    assert text.startswith(f"{HUB} is not on this machine: it is not in the Hugging Face cache ({empty_cache}) and "
                           "HF_HUB_OFFLINE is set")
    assert DOWNLOAD in text and f"hf download {HUB}" in text and COPIED in text and "HF_HOME" in text
    (problem,) = checks.check_config(RunConfig(model=HUB))
    assert problem.field == "model" and problem.message == text
    assert hub_refusal("no-such-folder") is None                        # not a hub id: check_config says so


def test_online_without_network_it_is_refused_in_words_within_seconds(empty_cache, monkeypatch):
    import time

    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")    # nothing listens: no network, in effect
    started = time.monotonic()
    note = hub_refusal(HUB)
    assert time.monotonic() - started < 10
    assert note.key == "hub_unreachable" and "cannot be reached from here" in note.text and DOWNLOAD in note.text
    no_dump(note.text)


def test_a_hub_that_does_not_answer_holds_the_check_a_few_seconds_at_most(empty_cache, monkeypatch):
    import time

    from huggingface_hub import HfApi, constants
    from trainer.core import model_source

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://silent.invalid")
    monkeypatch.setattr(model_source, "HUB_TIMEOUT_S", 0.5)
    monkeypatch.setattr(HfApi, "model_info", lambda *a, **k: time.sleep(30))
    started = time.monotonic()
    assert hub_refusal(HUB).key == "hub_unreachable"
    assert time.monotonic() - started < 3


def test_the_hubs_no_is_said_in_words(empty_cache, monkeypatch):
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import RepositoryNotFoundError

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://not-found.invalid")   # its own answer, not a kept one

    def missing(*args, **kwargs):
        raise RepositoryNotFoundError("404 Client Error. (Request ID: Root=1-abc)\nRepository Not Found for url")

    monkeypatch.setattr(HfApi, "model_info", missing)
    note = hub_refusal("someone/no-such-model")
    assert note.key == "hub_not_found" and "has no model of that name" in note.text
    no_dump(note.text)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_configure_refuses_the_hub_id_as_soon_as_it_is_chosen(empty_cache, runs_dir, lang):
    at = open_page("configure", lang)
    at.radio(key=f"cfg_model_choice__{lang}").set_value("custom").run()
    assert at.text_input(key="cfg_model").value == HUB
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    shown = TEXTS[lang]["note.hub_offline"].format(model=HUB, cache=plain(empty_cache))
    assert shown in errors and DOWNLOAD in shown and TEXTS[lang]["configure.model_refused"] in errors
    for text in errors:
        no_dump(text)
    assert at.button(key="start").disabled and at.button(key="compare_modes").disabled
    assert Store(runs_dir).list_runs() == []


def test_the_command_line_refuses_it_with_the_same_words(tmp_path):
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    out = subprocess.run([sys.executable, "-m", "trainer", "train", "--model", HUB, "--runs-dir", str(tmp_path / "runs")],
                         capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={**__import__("os").environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 2, out.stderr
    words = TEXTS["en"]["note.hub_offline"].format(model=HUB, cache=str(cache))
    assert f"run settings: field 'model' error: {words}" in out.stderr
    no_dump(out.stderr)
    assert Store(tmp_path / "runs").list_runs() == []


# Memory ---------------------------------------------------------------------------------------------------

@pytest.fixture
def cpu_of(monkeypatch):
    """This machine as a CPU with `ram` GiB."""
    def make(ram: float) -> None:
        monkeypatch.setattr(gpus, "detect", lambda: [])
        monkeypatch.setattr(gpus, "cpu_facts", lambda: (2, ram))
    return make


def test_a_cpu_run_larger_than_the_ram_is_refused_with_what_fits(cpu_of, tmp_path):
    from trainer.sizing import estimate
    from trainer.sizing.memory import model_shape

    store = Store(tmp_path / "runs")
    cfg = RunConfig(batch_size=64, passage_max_len=128)
    need = estimate.cpu_memory_gib(store, cfg, model_shape(cfg.model), 8.0)
    cpu_of(need * 0.8)
    short = checks.memory_shortfall(cfg, store)
    assert short.device == "cpu" and short.need_gib == round(need, 1) and short.have_gib == round(need * 0.8, 1)
    fixes = {name: (value, fit) for name, value, fit in short.fixes}
    batch, fit = fixes["batch_size"]
    assert 1 <= batch < 64 and fit <= need * 0.8
    assert estimate.cpu_memory_gib(store, cfg.replace(batch_size=batch + 1), model_shape(cfg.model), 8) > need * 0.8 \
        or batch == 63                                                   # the largest that fits
    assert short.text.startswith(f"this run needs about {short.need_gib:.1f} GiB of memory on the CPU")
    assert f"What fits: batch {batch} (about {fit:.1f} GiB)" in short.text
    problems = checks.preflight(cfg, store)
    assert [p.field for p in problems] == ["batch_size"] and checks.is_memory(problems[0])
    assert checks.preflight(cfg, store, memory=False) == []
    with pytest.raises(launch.InvalidRun):
        launch.create(store, cfg)
    assert store.list_runs() == []
    cpu_of(need * 1.5)
    assert checks.memory_shortfall(cfg, store) is None and checks.preflight(cfg, store) == []


def test_a_gpu_run_larger_than_the_card_is_refused_with_what_fits(monkeypatch):
    from trainer.sizing import memory

    monkeypatch.setattr(gpus, "detect", lambda: [Gpu("Test GPU 24GB", 24.0, True)])
    cfg = RunConfig(model=HUB, mode=Mode.ALL, batch_size=64, passage_max_len=512, sparse_head="stock")
    est = memory.estimate(memory.setup_for(cfg, memory.BGE_M3, 24.0))
    assert not est.fits
    short = checks.memory_shortfall(cfg)
    assert short.device == "Test GPU 24GB" and short.have_gib == round(memory.card_gib(24.0), 1)
    fixes = {name: value for name, value, _ in short.fixes}
    assert fixes.get("batch_size") == est.max_batch
    assert "of GPU memory and the Test GPU 24GB has" in short.text
    assert checks.memory_shortfall(cfg.replace(batch_size=1, passage_max_len=64, mode=Mode.DENSE)) is None


def test_length_buckets_size_their_own_batches_so_the_rule_leaves_them(cpu_of):
    cpu_of(0.5)
    assert checks.memory_shortfall(RunConfig(length_buckets="auto")) is None
    assert checks.memory_shortfall(RunConfig()) is not None


def test_configure_shows_the_memory_refusal_and_starts_only_when_confirmed(runs_dir, cpu_of):
    cpu_of(0.5)                                   # every run is too big for half a GiB
    at = open_page("configure")
    T = TEXTS["en"]
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.value.startswith("This run needs about ") and "this machine's CPU" in e.value for e in at.error)
    assert at.button(key="start").disabled
    confirm = at.checkbox(key="memory_anyway")
    assert confirm.label == T["configure.memory_anyway"]
    confirm.check().run()
    assert not at.button(key="start").disabled


def test_a_fix_button_sets_the_setting(runs_dir, cpu_of, monkeypatch):
    short = checks.MemoryShortfall(30.0, 20.0, "cpu", (("batch_size", 3, 19.0), ("mode", "heads", 18.0)))
    monkeypatch.setattr(checks, "memory_shortfall", lambda cfg, store=None: short)
    cpu_of(20.0)
    at = open_page("configure")
    labels = [b.label for b in at.button]
    assert "Batch 3 (about 19.0 GiB)" in labels and "Mode: " + TEXTS["en"]["mode.heads.title"] + " (about 18.0 GiB)" in labels
    at.button(key="memory_fix_batch_size").click().run()
    assert at.number_input(key="cfg_batch_size").value == 3
    at.button(key="memory_fix_mode").click().run()
    assert at.session_state["cfg_mode"] == "heads"


def test_the_command_line_refuses_a_run_too_big_for_the_machine_unless_told(tmp_path):
    runs = tmp_path / "runs"
    out = subprocess.run([sys.executable, "-m", "trainer", "train", *[f"--{k.replace('_', '-')}={v}" for k, v in HUGE.items()],
                          "--runs-dir", str(runs)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 2, out.stderr
    assert "run settings: field 'batch_size' error: this run needs about " in out.stderr
    assert "What fits: batch " in out.stderr and "--ignore-memory-estimate" in out.stderr
    assert Store(runs).list_runs() == []
    help_text = subprocess.run([sys.executable, "-m", "trainer", "train", "--help"], capture_output=True, text=True,
                               cwd=ROOT, timeout=120).stdout
    assert "--ignore-memory-estimate" in help_text


# Model folders that are not models (the walk: a broken config.json printed a JSONDecodeError traceback) ----------

def broken_folders(tmp_path) -> dict:
    """A missing path, a folder without config.json, one whose config.json is not JSON, one without weights."""
    from trainer.core.model_source import embedded_model_dir

    no_config = tmp_path / "no_config"
    no_config.mkdir()
    bad = tmp_path / "bad_config"
    bad.mkdir()
    (bad / "config.json").write_text('{"hidden_size": 384 "layers": 6}')
    (bad / "model.safetensors").write_bytes(b"x")
    no_weights = tmp_path / "no_weights"
    no_weights.mkdir()
    (no_weights / "config.json").write_text((embedded_model_dir() / "config.json").read_text())
    return {"model_missing": str(tmp_path / "does_not_exist"), "model_no_config": str(no_config),
            "model_bad_config": str(bad), "model_no_weights": str(no_weights)}


def test_a_path_that_is_not_a_model_folder_is_refused_by_the_run_checks_in_words(tmp_path):
    from trainer.core.model_source import model_refusal

    for key, path in broken_folders(tmp_path).items():
        note = model_refusal(path)
        assert note.key == key, (path, note)
        no_dump(note.text)
        problems = [p for p in checks.check_config(RunConfig(model=path)) if p.field == "model"]
        assert [p.message for p in problems] == [note.text]
    assert "line 1, column 21" in model_refusal(str(tmp_path / "bad_config")).text
    assert model_refusal("default") is None


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_configure_refuses_a_broken_model_folder_before_start(tmp_path, runs_dir, lang):
    path = broken_folders(tmp_path)["model_bad_config"]
    at = open_page("configure", lang)
    at.radio(key=f"cfg_model_choice__{lang}").set_value("custom").run()
    at.text_input(key="cfg_model").set_value(path).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any(plain(path) in e and "JSON" in e for e in errors) and TEXTS[lang]["configure.model_refused"] in errors
    assert not [i.value for i in at.info if "Hugging Face" in i.value]       # no note contradicting the refusal
    assert at.button(key="start").disabled and at.button(key="compare_modes").disabled
    assert Store(runs_dir).list_runs() == []


def test_configure_refuses_a_file_too_small_for_the_held_out_split_before_start(tmp_path, runs_dir):
    rows = tmp_path / "small.csv"
    rows.write_text("question,answer\n" + "".join(f'"question {i}?","answer number {i}"\n' for i in range(30)))
    at = open_page("configure", "en")
    at.radio(key="cfg_data_choice__en").set_value("path").run()
    at.text_input(key="cfg_train").set_value(str(rows)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert TEXTS["en"]["configure.split_refused"] in [e.value for e in at.error]
    assert any("at least 5 are needed" in c.value for c in at.code)
    assert at.button(key="start").disabled
