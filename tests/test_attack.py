"""Proof by attack (issue 38): the dashboard started as the README's server example shows (`--server.address
0.0.0.0`, reached here through 127.0.0.1) with a canary HF_TOKEN in its environment, and each row of the attack
table as a test: no token, a wrong token, a foreign Host, the canary in run files, typed paths, Markdown names,
two browsers' drafts, the limits."""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets.sync.client

from apptest import open_page
from conftest import stop_group, wait_for, write_jsonl

from app import door
from trainer.models import card
from trainer.jobs import tools
from trainer.jobs import mining
from trainer.core import children, paths
from trainer.jobs import launch
from trainer.planning import reproduce
from trainer.data import scan
from trainer.core.config import Mode, RunConfig
from trainer.data import validate_train
from trainer.core.config import DEMO_DIR
from trainer.store import COMPLETED, FAILED, STOPPED, WAITING, Store

ROOT = Path(__file__).resolve().parent.parent
CANARY = "hf_canary0123456789abcdefghijklmnop"
EVIL = "![b](http://127.0.0.1:9/pixel.png)"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server on all interfaces, as a team would start it; (url, token, runs folder, port)."""
    tmp = tmp_path_factory.mktemp("served")
    port, log = free_port(), tmp / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("M3_STUDIO", "STREAMLIT_"))}
    env.update(M3_RUNS_DIR=str(tmp / "runs"), HF_TOKEN=CANARY)
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(port),
                                 "--server.address", "0.0.0.0", "--server.headless", "true"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: "token=" in log.read_text() or proc.poll() is not None, 60, "the token URL")
        assert proc.poll() is None, log.read_text()
        token = re.search(r"open http://\S+:%d/\?token=(\S+)" % port, log.read_text()).group(1)
        yield f"http://127.0.0.1:{port}", token, tmp / "runs", port
    finally:
        stop_group(proc, grace=20)


def signed_in(url: str, token: str) -> httpx.Client:
    """A client that gave the right token (`?token=`, then redirected with the cookie set); open."""
    client = httpx.Client(base_url=url, timeout=30, follow_redirects=True)
    answer = client.get(f"/?token={token}")
    assert answer.status_code == 200 and door.COOKIE in client.cookies, answer
    return client


def refused_websocket(url: str, **headers) -> bool:
    try:
        with websockets.sync.client.connect(url.replace("http", "ws") + "/_stcore/stream", additional_headers=headers,
                                            open_timeout=20) as ws:
            ws.close()
            return False
    except websockets.exceptions.InvalidStatus:
        return True


# 1. No credentials: only the token form; nothing uploaded, started, downloaded ----------------------------------
def test_without_the_token_nothing_renders_and_nothing_is_reached(server):
    url, token, runs, _ = server
    with httpx.Client(base_url=url, timeout=30) as client:
        for page in ("/", "/configure", "/runs"):
            answer = client.get(page)
            assert answer.status_code == 401 and "asks for its token" in answer.text and "static/js" not in answer.text
        assert client.put("/_stcore/upload_file/s/f", content=b"{}").status_code == 401
        assert client.get("/media/x.zip").status_code == 401
        assert client.get("/api/download/x/export/x.zip").status_code == 401
        assert client.get("/static/js/index.js").status_code == 401
        assert client.get("/_stcore/health").text == "ok"            # says it is up, and nothing else
    assert refused_websocket(url)
    cookie = {"Cookie": f"{door.COOKIE}=not-the-hmac"}
    assert refused_websocket(url, **cookie)
    assert Store(runs).list_runs() == [] and not (runs / "uploads").exists()


# 4. A foreign Host, with the right cookie: refused before anything renders ------------------------------------------
def test_a_foreign_host_is_refused_even_signed_in(server):
    url, token, _, port = server
    client = signed_in(url, token)
    try:
        assert client.get("/").status_code == 200 and 'id="root"' in client.get("/").text
        assert client.get("/", headers={"Host": f"evil.example:{port}"}).status_code == 403
        cookie = f"{door.COOKIE}={client.cookies[door.COOKIE]}"
    finally:
        client.close()
    assert not refused_websocket(url, Cookie=cookie)
    assert refused_websocket(url, Cookie=cookie, Host=f"evil.example:{port}")


def test_the_loopback_checks_the_host_and_asks_no_token_unless_told():
    import asyncio

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"page"})

    saved = door.GATE
    try:
        door.GATE, generated = door.Gate.for_server("127.0.0.1", env={})
        assert door.GATE.token is None and not generated
        transport = httpx.ASGITransport(app=door.Door(app), client=("127.0.0.1", 5000))

        async def get(host):
            async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as c:
                return (await c.get("/")).status_code
        assert asyncio.run(get("localhost:8501")) == 200 and asyncio.run(get("127.0.0.1:8501")) == 200
        assert asyncio.run(get("evil.example:8501")) == 403           # DNS rebinding reaches the loopback too
        door.GATE, generated = door.Gate.for_server("127.0.0.1", env={"M3_STUDIO_REQUIRE_TOKEN": "1"})
        assert door.GATE.token and generated and asyncio.run(get("localhost:8501")) == 401
    finally:
        door.GATE = saved


# 2. The typed path fields: only under the allowed roots; no file's contents echoed --------------------------------
@pytest.fixture
def confined(tmp_path, monkeypatch):
    """The dashboard as served beyond the loopback (app/door.py sets this): runs folder only."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("M3_RUNS_DIR", str(runs))
    monkeypatch.setattr(paths, "CONFINED", True)
    outside = write_jsonl(tmp_path / "secret.jsonl", [{"query": "the secret", "pos": ["s3cr3t value"]}] * 20)
    Store(runs)
    (runs / "link.jsonl").symlink_to(outside)
    return runs, outside


@pytest.mark.parametrize("typed", ["outside", "link", "/dev/zero", "nul", "/etc/passwd"])
def test_the_data_page_reads_only_under_the_roots_and_echoes_nothing(confined, typed):
    runs, outside = confined
    path = {"outside": str(outside), "link": str(runs / "link.jsonl"), "nul": f"{runs}/a\x00b"}.get(typed, typed)
    at = open_page("data")
    at.radio(key="data_source__en").set_value("path").run()
    at.text_input(key="data_path").set_value(path).run()
    assert not at.exception and len(at.error) == 1 and at.error[0].value.startswith("This path cannot be used here")
    shown = " ".join(str(e.value) for kind in ("markdown", "caption", "error", "warning", "info", "dataframe")
                     for e in at.get(kind))
    assert "s3cr3t" not in shown and "root:" not in shown and not at.dataframe
    assert Store(runs).datasets() == [] and Store(runs).running_scans() == []


def test_configure_refuses_paths_outside_the_roots_for_data_evaluation_and_model(confined, tmp_path):
    runs, outside = confined
    at = open_page("configure")
    at.radio(key="cfg_data_choice__en").set_value("path").run()
    at.text_input(key="cfg_train").set_value(str(outside)).run()
    assert any(e.value.startswith("This path cannot be used here") for e in at.error)
    assert "start" not in [b.key for b in at.button]                  # nothing to start until the path is fixed
    at.text_input(key="cfg_train").set_value(str(DEMO_DIR / "train.jsonl")).run()
    at.radio(key="cfg_eval_choice__en").set_value("folder").run()
    (runs / "eval").mkdir()
    (runs / "eval" / "qrels.tsv").symlink_to(tmp_path / "secret.jsonl")      # a symlink inside leads out
    at.text_input(key="cfg_eval").set_value(str(runs / "eval")).run()
    assert any("qrels.tsv is outside the folders" in e.value for e in at.error)
    assert "start" not in [b.key for b in at.button] and Store(runs).list_runs() == []
    at.radio(key="cfg_eval_choice__en").set_value("split").run()
    at.radio(key="cfg_model_choice__en").set_value("custom").run()
    at.text_input(key="cfg_model").set_value(str(tmp_path)).run()
    assert any("outside the folders this server lets the dashboard read" in e.value for e in at.error)
    assert at.button(key="start").disabled


def test_on_the_loopback_any_regular_file_but_never_a_device(tmp_path):
    assert paths.allowed(str(DEMO_DIR / "train.jsonl"), tmp_path) == DEMO_DIR / "train.jsonl"
    with pytest.raises(paths.PathRefused, match="not a regular file"):
        paths.allowed("/dev/zero", tmp_path)
    with pytest.raises(paths.PathRefused, match="NUL"):
        paths.allowed("a\x00b", tmp_path)
    with pytest.raises(paths.PathRefused, match="longer"):
        paths.allowed("a" * 300, tmp_path)
    roots = tmp_path / "data"
    roots.mkdir()
    with pytest.raises(paths.PathRefused, match="outside"):        # roots given: only those (and the runs folder)
        paths.allowed(str(DEMO_DIR.parent / "config.py"), tmp_path / "runs", env={"M3_DATA_ROOTS": str(roots)})


def test_a_file_that_is_not_training_data_is_not_echoed(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("password,hunter2\nadmin,letmein\n")
    report = validate_train(secret)
    words = " ".join(str(p) for p in report.problems)
    assert report.errors and "password" not in words and "hunter2" not in words and "letmein" not in words


# 3. Secrets: the canary token in the server's environment reaches no run file, log, page or command ---------------
@pytest.mark.slow
def test_the_hub_token_reaches_no_run_file_log_or_command(tmp_path, monkeypatch, tiny_config):
    monkeypatch.setenv("HF_TOKEN", CANARY)
    store = Store(tmp_path / "runs")
    assert CANARY not in str(children.worker_env(1)) and children.worker_env(1, hub_token=True)["M3_HUB_TOKEN"] == CANARY
    run_id = launch.start(store, tiny_config(name="canary", epochs=1))
    wait_for(lambda: store.get_run(run_id).status in (COMPLETED, FAILED, STOPPED), 240, "the run to end")
    run = store.get_run(run_id)
    assert run.status == COMPLETED, children.log_tail(run.folder.log)
    files = [p for p in store.runs_dir.rglob("*") if p.is_file()]
    assert run.folder.arguments in files and run.folder.log in files
    assert CANARY not in card.model_card(run, {"dense": 0.5}, {"dense": 0.6}, "mean")     # what an export writes
    assert [p for p in files if CANARY.encode() in p.read_bytes()] == []
    assert "token" in (run.folder.arguments.read_text())                                   # the field is there, empty
    assert CANARY not in children.log_tail(run.folder.log, 10**6)
    assert CANARY not in reproduce.shell(reproduce.run_command(run))
    # the runs folder and what the run wrote: this user's only
    assert store.runs_dir.stat().st_mode & 0o077 == 0
    assert all(p.stat().st_mode & 0o077 == 0 for p in (run.folder.arguments, run.folder.log, run.folder.plan))


def test_the_log_tail_masks_a_token_that_reached_a_log(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", CANARY)
    log = tmp_path / "worker.log"
    log.write_text(f"ModelArgs(token='{CANARY}', other='hf_{'x' * 30}')\n")
    tail = children.log_tail(log)
    assert CANARY not in tail and "hf_x" not in tail and "token='***'" in tail


# 6. Markdown in names: shown as typed, never fetched ----------------------------------------------------------------
def text_of(at) -> list[str]:
    return [str(e.value) for kind in ("markdown", "caption", "warning", "info", "error", "success", "subheader")
            for e in at.get(kind)]


def test_a_run_named_as_markdown_is_shown_as_typed(tmp_path, monkeypatch, small_train):
    runs = tmp_path / "runs"
    monkeypatch.setenv("M3_RUNS_DIR", str(runs))
    store = Store(runs)
    ids = [store.create_run(RunConfig(name=EVIL, train_data=str(small_train))) for _ in range(2)]
    for run_id in ids:
        store.set_status(run_id, COMPLETED)
    at = open_page("runs")
    at.button(key="runs_delete").click().run()                        # "Delete “…”?": the name in a warning
    compare = open_page("compare", compare_pick__en=ids)
    for page in (at, compare):
        assert not page.exception
        texts = text_of(page)
        assert not [x for x in texts if "![b](" in x], texts              # never an image to fetch
    assert any(r"\!\[b\]" in x for x in text_of(at) + text_of(compare))   # and shown, escaped


# 5. One user's input never another's: two browsers, two drafts -----------------------------------------------------
@pytest.mark.browser
def test_two_browsers_keep_their_own_drafts_and_a_browser_without_the_token_sees_only_the_form(server):
    from playwright.sync_api import expect, sync_playwright

    from test_browser import CHROMIUM, CHROMIUM_ARGS, WAIT, fill, idle

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it as root)")
    url, token, runs, _ = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            stranger = browser.new_page()
            stranger.goto(url + "/configure")
            expect(stranger.get_by_role("heading", name="M3 Studio")).to_be_visible()
            assert stranger.locator('[data-testid="stApp"]').count() == 0
            def signed_in_page():
                page = browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
                page.set_default_timeout(WAIT)
                page.goto(f"{url}/?token={token}")
                expect(page.get_by_role("heading", name="Configure a fine-tuning run", exact=True)).to_be_visible()
                idle(page)
                return page

            first = signed_in_page()
            fill(first, "cfg_epochs", "7")
            wait_for(lambda: len(list(runs.glob("browsers/*/configure.json"))) >= 1, 60, "the first draft")
            second = signed_in_page()                                 # another browser, after the draft was kept
            expect(second.locator(".st-key-cfg_epochs input")).not_to_have_value("7")
            first.reload()                                            # the first browser's own draft outlives it
            idle(first)
            expect(first.locator(".st-key-cfg_epochs input")).to_have_value("7")
        finally:
            browser.close()


# 7. Limits ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def sleeper():
    """A process that looks like one of ours (its command line names `trainer`)."""
    procs = []

    def start() -> int:
        procs.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "trainer"]))
        wait_for(lambda: children.pid_alive(procs[-1].pid), 20, "the process to be seen")
        return procs[-1].pid
    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_the_queue_scans_mining_and_exports_have_caps(tmp_path, sleeper, tiny_config):
    store = Store(tmp_path / "runs")
    for _ in range(launch.MAX_WAITING - 2):
        store.create_run(tiny_config(), status=WAITING)
    with pytest.raises(launch.QueueFull, match="at most"):
        launch.enqueue(store, [tiny_config(mode=m) for m in Mode])
    assert store.count_runs(status=[WAITING]) == launch.MAX_WAITING - 2          # none of the three queued

    job = store.runs_dir / mining.MINING_DIR / "x"
    job.mkdir(parents=True)
    (job / "job.json").write_text(f'{{"pid": {sleeper()}, "input": "x", "model": "default"}}')
    with pytest.raises(launch.RunBusy, match="mining job is running"):
        mining.start_mining(store, str(DEMO_DIR / "train.jsonl"), "default", negatives=3, range_text="2-20",
                            margin=0.1, seed=1, query_max_len=32, passage_max_len=64)

    big = write_jsonl(tmp_path / "big.jsonl", [{"query": "q", "pos": ["p"]}] * 50)
    for i in range(scan.MAX_SCANS):
        scan_id, _ = store.claim_scan(f"/other/{i}", 1, 1)
        store.scan_progress(scan_id, pid=sleeper(), bytes_read=0, lines=0, rows=0, problems=0)
    assert scan.start(store, big, inline_bytes=0)["status"] == scan.WAITING

    run_id = store.create_run(tiny_config())
    with tools._export_slot(store, run_id) as free:                 # an export of this run is being written
        assert free
        started = time.time()
        answer = tools.export_model(store, run_id, tmp_path / "out")
        assert "another export of this run" in answer["error"] and time.time() - started < 5


def test_removing_an_uploaded_dataset_removes_its_file_but_never_a_users_own(tmp_path):
    store = Store(tmp_path / "runs")
    (store.runs_dir / "uploads").mkdir()
    upload = write_jsonl(store.runs_dir / "uploads" / "x.jsonl", [{"query": "q", "pos": ["p"]}])
    own = write_jsonl(tmp_path / "own.jsonl", [{"query": "q", "pos": ["p"]}])
    for path, origin in ((upload, "upload"), (own, "path")):
        store.remove_dataset(store.add_dataset("d", str(path), origin))
    assert not upload.exists() and own.exists() and store.datasets() == []


# 2 (again). Wrong tokens: refused, and answered ever more slowly (last: it slows every client of this address) ---
def test_wrong_tokens_are_refused_and_slowed(server):
    url, token, _, _ = server
    with httpx.Client(base_url=url, timeout=60) as client:
        times = []
        for i in range(door.SLOW_AFTER + 1):
            started = time.time()
            answer = client.get(f"/?token=wrong{i}")
            times.append(time.time() - started)
            assert answer.status_code == 401 and "not this server's" in answer.text
            assert door.COOKIE not in client.cookies
        assert times[-1] >= 0.9, times               # 1 s once SLOW_AFTER were wrong, then 2, 4, … up to 30
    signed_in(url, token).close()                                      # the right one still opens it
