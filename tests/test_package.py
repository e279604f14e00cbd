"""The installable package (pyproject.toml): its dependency ranges admit requirements.txt's pins, and `pip install .`
gives `m3-train` and `m3-studio` that work from any folder, with the demo data, the check set, the pages and the
dashboard's Streamlit settings inside the package. The install goes into a temporary folder (`pip install
--target`, no network, no build isolation: setuptools is in the venv), removed afterwards."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from conftest import stop_group
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from trainer import __version__

ROOT = Path(__file__).resolve().parent.parent
# What a source tree holds that a build does not need (ignored build outputs, caches, the venv, run stores).
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "runs", "test-artifacts", "build", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".ruff_cache", "*.pyc")


def pins() -> dict[str, str]:
    """requirements.txt's `name==version` lines, by normalized name."""
    found = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", line
            found[canonicalize_name(req.name)] = spec.version
    return found


def test_dependency_ranges_admit_the_pins():
    """Every dependency and extra of the package is pinned in requirements.txt, and the pin is in its range (so
    `pip install -r requirements.txt && pip install .` changes nothing); torch keeps the tested release."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = pins()
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    reqs = [r for r in reqs if canonicalize_name(r.name) != canonicalize_name(project["name"])]
    assert len(reqs) >= 25
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req} is not pinned in requirements.txt"
        assert req.specifier.contains(pinned[name], prereleases=True), f"{req} does not admit =={pinned[name]}"
    torch = next(r for r in reqs if r.name == "torch")
    assert not torch.specifier.contains("2.15.0") and torch.specifier.contains(pinned["torch"])
    assert "version" in project["dynamic"] and set(project["scripts"]) == {"m3-studio", "m3-train"}


def test_m3_studio_command_line(monkeypatch, tmp_path):
    """`m3-studio` runs `streamlit run` on the package's app/main.py with the other flags; --runs-dir becomes
    M3_RUNS_DIR (an absolute path); .streamlit/config.toml's settings become STREAMLIT_* variables, each under
    Streamlit's own name for it, unless the variable is set already."""
    import streamlit.web.cli
    from streamlit import config

    import trainer

    seen = {}
    monkeypatch.setattr(streamlit.web.cli, "main", lambda: seen.update(argv=list(sys.argv), env=dict(os.environ)))
    monkeypatch.setattr(sys, "argv", ["m3-studio"])
    monkeypatch.chdir(tmp_path)
    saved = dict(os.environ)
    try:
        os.environ["STREAMLIT_SERVER_ADDRESS"] = "0.0.0.0"
        os.environ.pop("STREAMLIT_SERVER_HEADLESS", None)
        trainer.studio(["--runs-dir", "here", "--server.port", "8600"])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert seen["argv"] == ["streamlit", "run", str(ROOT / "app" / "main.py"), "--server.port", "8600"]
    assert seen["env"]["M3_RUNS_DIR"] == str(tmp_path.resolve() / "here")
    assert seen["env"]["STREAMLIT_SERVER_ADDRESS"] == "0.0.0.0"                  # the user's own setting stays
    assert seen["env"]["STREAMLIT_SERVER_HEADLESS"] == "true"
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    names = {f"{section}.{key}" for section, options in settings.items() for key in options}
    assert {config._config_options_template[n].env_var for n in names} == set(trainer.streamlit_defaults())


@pytest.fixture(scope="module")
def installed():
    """The package as `pip install .` builds it, into a temporary --target folder (the source is copied first,
    so the build's build/ and *.egg-info stay out of the checkout); yields (target, an empty working folder)."""
    tmp = Path(tempfile.mkdtemp(prefix="m3-package-"))
    try:
        src, target, elsewhere = tmp / "src", tmp / "site", tmp / "elsewhere"
        shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
        elsewhere.mkdir()
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "--no-index", "--no-deps", "--no-build-isolation", "--target", str(target), str(src)],
                              capture_output=True, text=True, timeout=120, cwd=elsewhere)
        assert done.returncode == 0, done.stdout + done.stderr
        yield target, elsewhere
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_installed(target: Path, cwd: Path, *argv: str, **env) -> subprocess.CompletedProcess:
    """A command as the installed package runs it: from another folder, importing the package from `target`."""
    environ = dict(os.environ, PYTHONPATH=str(target), **env)
    return subprocess.run([str(x) for x in argv], capture_output=True, text=True, timeout=60, cwd=cwd,
                          env=environ, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_m3_train_from_any_folder(installed):
    target, elsewhere = installed
    m3_train = target / "bin" / "m3-train"
    for data in ("trainer/demo/train.jsonl", "trainer/demo/eval/qrels.tsv", "trainer/demo/test/corpus.jsonl",
                 "trainer/general/corpus.jsonl", "trainer/general/README.md", "pages/configure.py", "app/main.py", "app/router.py", "app/door.py",
                 "app/streamlit_config/config.toml", "bench/results/vram_h100.jsonl"):
        assert (target / data).is_file(), data

    version = run_installed(target, elsewhere, m3_train, "--version")
    assert version.returncode == 0 and version.stdout == f"M3 Studio {__version__}\n", version

    usage = run_installed(target, elsewhere, m3_train, "--help")
    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith("usage: m3-train") and "merge-curve" in usage.stdout
    train_help = run_installed(target, elsewhere, m3_train, "train", "--help")      # the flags read app/i18n.py
    assert train_help.returncode == 0 and "--batch-size" in train_help.stdout, train_help.stderr

    runs = run_installed(target, elsewhere, m3_train, "runs", "--runs-dir", "store", "--json")
    assert runs.returncode == 0, runs.stderr
    assert json.loads(runs.stdout) == [] and (elsewhere / "store" / "runs.db").is_file()


SEE = """
import json
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
import app.nav, trainer
print(json.dumps({"exceptions": [e.value for e in at.exception], "sidebar": [c.value for c in at.sidebar.caption],
                  "trainer": trainer.__file__, "pages": str(app.nav.PAGES_DIR), "subheaders": len(at.subheader)}))
"""


@pytest.mark.slow
def test_installed_dashboard_runs(installed):
    """The installed app/router.py renders Configure (pages found by path inside the package) with the version in
    the sidebar; `m3-studio` serves it with the dashboard's settings (127.0.0.1) from another folder."""
    target, elsewhere = installed
    seen = run_installed(target, elsewhere, sys.executable, "-c", SEE, target / "app" / "router.py",
                         M3_RUNS_DIR=str(elsewhere / "app-runs"), OMP_NUM_THREADS="1")
    assert seen.returncode == 0, seen.stderr
    page = json.loads(seen.stdout.splitlines()[-1])
    assert page["exceptions"] == [] and f"M3 Studio {__version__}" in page["sidebar"], page
    assert page["trainer"].startswith(str(target)) and page["pages"] == str(target / "pages"), page
    assert page["subheaders"] >= 3 and (elsewhere / "app-runs" / "runs.db").is_file()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = elsewhere / "studio.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    with log.open("w") as out:
        proc = subprocess.Popen([str(target / "bin" / "m3-studio"), "--runs-dir", "studio-runs", "--server.port",
                                 str(port)], cwd=elsewhere, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=dict(env, PYTHONPATH=str(target)),
                                start_new_session=True)
    try:
        deadline, health = time.time() + 60, None
        while time.time() < deadline and proc.poll() is None and health != "ok":
            time.sleep(0.3)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    health = answer.read().decode()
            except OSError:
                pass
        assert health == "ok", log.read_text()
        # .streamlit/config.toml's address, although the working folder has no .streamlit/
        assert re.search(rf"URL: http://127\.0\.0\.1:{port}\b", log.read_text()), log.read_text()
    finally:
        stop_group(proc)
