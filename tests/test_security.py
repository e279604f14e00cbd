"""The doors the dashboard keeps shut: local binding, XSRF, upload cap, argument lists, confined
output folders, weights-only model loading."""
import ast
import re
import tomllib
from pathlib import Path

import pytest

from trainer.core.config import RunConfig
from trainer.store import Store

ROOT = Path(__file__).resolve().parent.parent
CODE = [p for d in ("app", "pages", "trainer", "bench") for p in (ROOT / d).rglob("*.py")]


def test_server_binds_localhost_with_xsrf_and_an_upload_cap():
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["address"] == "127.0.0.1" and server["enableXsrfProtection"] is True
    assert 0 < server["maxUploadSize"] <= 200


def test_the_toolbar_has_no_deploy_button():
    # "viewer" hides Streamlit's developer options: Deploy, Rerun, Clear cache
    client = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["client"]
    assert client["toolbarMode"] in ("viewer", "minimal")


def calls(name: str):
    """Calls of `name` ("subprocess.Popen"), also under the bare or renamed name a `from module import` gave it."""
    module, _, function = name.rpartition(".")
    for path in CODE:
        tree = ast.parse(path.read_text())
        aliases = {name} | {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                            and node.module == module for a in node.names if a.name == function}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and any(ast.unparse(node.func) == a or ast.unparse(node.func).endswith(
                    "." + a) for a in aliases):
                yield path, node


def test_the_lint_sees_a_call_by_an_imported_name(tmp_path, monkeypatch):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from subprocess import Popen as P\nP('ls', shell=True)\n")
    monkeypatch.setattr(__import__(__name__), "CODE", [sneaky])
    assert [node.lineno for _, node in calls("subprocess.Popen")] == [2]


def test_subprocesses_take_argument_lists_never_a_shell():
    for fn in ("subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_output", "os.system",
               "os.popen"):
        for path, node in calls(fn):
            assert not fn.startswith("os."), f"{path}: {fn}"
            assert not any(k.arg == "shell" for k in node.keywords), f"{path}:{node.lineno} uses shell="
            assert not isinstance(node.args[0], (ast.Constant, ast.JoinedStr)), f"{path}:{node.lineno} passes a string"


def test_model_files_load_weights_only():
    loads = list(calls("torch.load"))
    assert loads
    for path, node in loads:
        assert any(k.arg == "weights_only" and ast.unparse(k.value) == "True" for k in node.keywords), \
            f"{path}:{node.lineno}"


def test_uploads_get_fresh_names_and_runs_stay_in_the_runs_folder(tmp_path):
    from app.datasets_ui import upload_target
    drawn: dict = {}
    first = upload_target(tmp_path / "runs", "text/csv", "id-1", drawn)
    assert first.parent == tmp_path / "runs" / "uploads" and re.fullmatch(r"[0-9a-f]{16}\.csv", first.name)
    assert upload_target(tmp_path / "runs", "text/csv", "id-1", drawn) == first          # a rerun: the same file
    assert upload_target(tmp_path / "runs", "application/json", "id-2", drawn) not in (first, None)
    assert upload_target(tmp_path / "runs", "application/json", "id-2", drawn).suffix == ".jsonl"
    store = Store(tmp_path / "runs")
    run_id = store.create_run(RunConfig(name="../../etc/evil"))
    out = Path(store.get_run(run_id).output_dir).resolve()
    assert out.parent == (tmp_path / "runs").resolve()              # the name never becomes a path
    with pytest.raises(KeyError):
        store.get_run("../" + run_id)
