"""The story a finished comparison tells, in Debian's Chromium: three demo runs, one per mode, then Train's
finished state, Compare's verdict and Try it in English and Chinese. A file of its own, so the suite's two
processes (`--dist loadfile`) run it beside the other browser tests. Helpers and the app fixture come from
tests/test_browser.py."""
from pathlib import Path

import pytest

from test_browser import ARTIFACTS, CHARTS_DRAWN, app_url, idle, open_browser  # noqa: F401 (app_url: a fixture)

from app.i18n import EN
from trainer.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def train_demo(runs_dir: Path, mode: str, steps: int) -> None:
    """A short finished run of the demo with the command line's settings (`train --mode M --max-steps N`:
    every other value suggested), trained in this process (the app shows what it stored)."""
    from conftest import train
    from trainer.core.config import Mode, RunConfig
    from trainer.sizing.suggest import with_suggestions

    given = {"mode", "max_steps", "name"}
    config = with_suggestions(RunConfig(mode=Mode(mode), max_steps=steps, name=f"{mode} demo"), given, Store(runs_dir))
    _, run, status, _ = train(runs_dir, config)
    assert status == "completed", run.error


def test_compare_and_try_it_tell_the_story_in_both_languages(app_url):  # noqa: F811 (the fixture)
    """Three finished runs, one per mode: Compare's verdict, Train's finished state, and Try it on the
    all-heads run in English and Chinese (Debian's fonts-noto-cjk draws the Chinese)."""
    from playwright.sync_api import expect, sync_playwright

    url, runs_dir = app_url
    ARTIFACTS.mkdir(exist_ok=True)
    for mode in ("dense", "heads", "all"):
        train_demo(runs_dir, mode, 3)
    with sync_playwright() as p:
        browser, page = open_browser(p)     # every wait bounded by test_browser.WAIT unless given
        page.goto(url + "/train")
        expect(page.get_by_text("Completed at step 3 of 3.")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("search got better for").first).to_be_visible(timeout=30_000)
        page.wait_for_function(CHARTS_DRAWN, arg=["Loss", "Validation MRR@10 per head"], timeout=60_000)
        idle(page)
        page.screenshot(path=str(ARTIFACTS / "train_finished.png"), full_page=True)

        page.goto(url + "/compare")
        expect(page.get_by_role("heading", name="Verdict")).to_be_visible(timeout=60_000)
        expect(page.get_by_text(EN["compare.verdict.rule"][:40])).to_be_visible(timeout=30_000)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=60_000)
        page.wait_for_function(CHARTS_DRAWN, arg=["Loss", "Validation MRR@10 ("], timeout=60_000)
        idle(page)
        page.screenshot(path=str(ARTIFACTS / "compare_modes.png"), full_page=True)

        page.goto(url + "/tryit")
        expect(page.get_by_text("Fine-tuned run")).to_be_visible(timeout=60_000)
        page.get_by_label("Fine-tuned run").click()
        page.get_by_role("option", name="all demo").click()
        expect(page.get_by_text("Rank of the right passage")).to_be_visible(timeout=240_000)
        idle(page)
        page.screenshot(path=str(ARTIFACTS / "tryit_all_en.png"), full_page=True)

        page.get_by_label("Language").click()
        page.get_by_role("option", name="简体中文").click()
        expect(page.get_by_text("正确段落的排名")).to_be_visible(timeout=180_000)
        idle(page)
        page.screenshot(path=str(ARTIFACTS / "tryit_all_zh.png"), full_page=True)

        # a typed English query: sparse weights shaded over its own words, and how the two lists differ
        page.get_by_text("自己输入").click()
        page.get_by_label("你的查询").fill("how do I reset the hub")
        page.get_by_label("你的查询").press("Enter")
        expect(page.get_by_text("对你的查询")).to_be_visible(timeout=120_000)
        idle(page)
        page.screenshot(path=str(ARTIFACTS / "tryit_typed_zh.png"), full_page=True)
        browser.close()
