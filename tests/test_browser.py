"""One end-to-end run in Debian's Chromium: start the demo in all-heads mode, watch it live,
reload, stop, compare; and a BGE-M3 run configured by its hub id. Screenshots of Configure, Train and
Compare go to test-artifacts/ (Try it's: tests/test_browser_story.py).

Every locator names one element: widgets by their key (Streamlit gives each keyed element the CSS class
`st-key-KEY`), headings by their exact text; Streamlit's own status widget has a "Stop" button too while a
script reruns. Every wait is on a condition: the app idle (`data-test-script-state`), a widget's state,
points in the store, traces drawn."""
import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import wait_for

from app.i18n import EN
from trainer.core.model_source import NOTES
from trainer.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT = 120_000   # ms; a loaded 2-core machine can keep Chromium busy drawing charts for half a minute
# the script has run to its end and the page is connected
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
# plotly charts whose title contains each given text and that have drawn at least one point
CHARTS_DRAWN = """(titles) => {
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    // plotly ships x as typed arrays; calcdata holds the points actually drawn
    return titles.every(title => plots.some(p => (p.layout?.title?.text || '').includes(title)
        && (p.calcdata || []).some(trace => trace.some(pt => Number.isFinite(pt.x)))));
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def app_url(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it as root)")
    port = free_port()
    env = dict(os.environ, M3_RUNS_DIR=str(tmp_path / "runs"))
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: listening(port) or proc.poll() is not None, 60, "the app to listen")
        assert proc.poll() is None, f"streamlit exited with {proc.returncode}"
        yield f"http://127.0.0.1:{port}", tmp_path / "runs"
    finally:     # the conftest fixture also ends it and the workers it started, whatever happened
        proc.terminate()
        proc.wait(timeout=20)


def open_browser(p):
    """Debian's Chromium with one page, every wait on it bounded by WAIT."""
    from playwright.sync_api import expect

    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.set_default_timeout(WAIT)
    expect.set_options(timeout=WAIT)
    return browser, page


@contextmanager
def configure_page(url: str):
    """A browser page on the app's first page, Configure, drawn and idle; the browser closes after."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser, page = open_browser(p)
        try:
            page.goto(url)
            expect(page.get_by_role("heading", name="Configure a fine-tuning run", exact=True)).to_be_visible()
            idle(page)
            yield page
        finally:
            browser.close()


def idle(page) -> None:
    """Wait until the app has finished its rerun and is connected."""
    from playwright.sync_api import expect

    expect(page.locator(IDLE)).to_be_attached()


def fill(page, key: str, value) -> None:
    """Type into the widget with this key, press Enter, and wait until the app has taken the value."""
    from playwright.sync_api import expect

    field = page.locator(f".st-key-{key} input")
    for _ in range(2):   # a rerun still in flight when typing can redraw the old value: type it again
        field.fill(str(value))
        field.press("Enter")
        idle(page)
        try:
            expect(field).to_have_value(str(value), timeout=15_000)
            break
        except AssertionError:
            continue
    expect(field).to_have_value(str(value))


def choose_mode(page, mode: str) -> None:
    """Press a mode card's Choose button and wait until that card shows as chosen."""
    from playwright.sync_api import expect

    card = page.locator(f".st-key-card_{mode}")
    card.get_by_role("button", name="Choose").click()
    expect(card.get_by_role("button", name="✓ Chosen")).to_be_visible()
    idle(page)


def start_run(page, url: str, runs_dir: Path, screenshot: str):
    """Keep a screenshot of the filled form, press Start, land on Train; the store and its one run."""
    from playwright.sync_api import expect

    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    page.locator(".st-key-start").get_by_role("button", name="Start training", exact=True).click()
    page.wait_for_url(url + "/train")
    expect(page.get_by_role("heading", name="Training", exact=True)).to_be_visible()
    store = Store(runs_dir)
    wait_for(lambda: len(store.list_runs()) == 1, 30, "the run to be created")
    return store, store.list_runs()[0]


def test_demo_run_live_reload_and_stop(app_url):
    from playwright.sync_api import expect

    url, runs_dir = app_url
    with configure_page(url) as page:
        choose_mode(page, "all")
        # A run that only Stop ends: as many epochs as the form allows, no early stopping.
        for key, value in (("cfg_epochs", "1000"), ("cfg_early_stopping_patience", "0")):
            fill(page, key, value)
        store, run = start_run(page, url, runs_dir, "configure.png")
        assert (run.mode, run.config.epochs, run.config.early_stopping_patience) == ("all", 1000, 0)
        names = lambda: {p.name for p in store.metrics(run.id)}  # noqa: E731
        wait_for(lambda: {"loss", "hybrid.mrr@10"} <= names(), 240, "loss and step-0 MRR points")
        page.wait_for_function(CHARTS_DRAWN, arg=["Loss", "Validation MRR@10 per head"])
        page.screenshot(path=str(ARTIFACTS / "train.png"), full_page=True)

        page.reload()
        expect(page.get_by_role("heading", name="Running · All heads", exact=True)).to_be_visible()
        page.locator(".st-key-stop").get_by_role("button", name="Stop", exact=True).click()
        expect(page.get_by_role("heading", name="Stopped · All heads", exact=True)).to_be_visible(timeout=180_000)
        assert store.get_run(run.id).status == "stopped"

        page.goto(url + "/compare")
        expect(page.get_by_role("heading", name="Compare runs", exact=True)).to_be_visible()
        idle(page)
        page.wait_for_function(CHARTS_DRAWN, arg=["Loss", "Validation MRR@10 ("])
        page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
    # The stopped run saved its model, which Try it loads (Try it in the browser: tests/test_browser_story.py).
    assert (Path(store.get_run(run.id).output_dir) / "model" / "model.safetensors").is_file()


def test_bge_m3_lookalike_from_the_hub_cache_configure_and_train(lookalike, small_train, small_eval, app_url):
    """`BAAI/bge-m3` typed as most users will, resolved offline from the Hugging Face cache (the
    look-alike of tests/lookalike.py): Configure with its note, then Train: the note in the run's log, every
    head validated, the shipped heads' baseline note (the page's figures for it: tests/test_bge_m3.py)."""
    from playwright.sync_api import expect

    url, runs_dir = app_url
    with configure_page(url) as page:
        page.locator(".st-key-cfg_model_choice__en").get_by_text("Local folder or hub id", exact=True).click()
        expect(page.locator(".st-key-cfg_model input")).to_have_value("BAAI/bge-m3")
        expect(page.get_by_text("BAAI/bge-m3 is read from the Hugging Face cache")).to_be_visible()
        idle(page)
        page.locator(".st-key-cfg_data_choice__en").get_by_text(EN["configure.data.path"], exact=True).click()
        idle(page)
        fill(page, "cfg_train", small_train)
        page.locator(".st-key-cfg_eval_choice__en").get_by_text("An evaluation folder", exact=True).click()
        idle(page)
        fill(page, "cfg_eval", small_eval)
        for key, value in (("cfg_epochs", 1), ("cfg_batch_size", 4), ("cfg_group_size", 2)):
            fill(page, key, value)
        choose_mode(page, "all")
        store, run = start_run(page, url, runs_dir, "configure_bge_m3.png")
        assert (run.config.model, run.mode, run.config.epochs) == ("BAAI/bge-m3", "all", 1)
        wait_for(lambda: not store.get_run(run.id).live, 300, "the bge-m3 run to end")
        run = store.get_run(run.id)
        assert run.status == "completed", run.error
        log = run.folder.log.read_text()
        assert f"note: {NOTES['hub_cached'].format(model='BAAI/bge-m3', folder=lookalike.snapshot)}" in log
        assert "FlagEmbedding loads" not in log
        assert {f"{h}.mrr@10" for h in ("dense", "sparse", "colbert", "hybrid")} <= {p.name for p in store.metrics(run.id)}
        page.reload()
        expect(page.get_by_role("heading", name="Completed · All heads", exact=True)).to_be_visible()
        # shipped heads: the baseline note without the "random projection" sentence
        expect(page.get_by_text(EN["train.baseline_note"], exact=True)).to_be_visible()
        page.wait_for_function(CHARTS_DRAWN, arg=["Loss", "Validation MRR@10 per head"])
        page.screenshot(path=str(ARTIFACTS / "train_bge_m3.png"), full_page=True)
