"""The process rule, checked: the dashboard (app/, pages/) and the torch-free part of `trainer/`
never load torch, transformers, FlagEmbedding or sentence-transformers; those live in
`trainer/engine/`, which only child processes import."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "FlagEmbedding", "sentence_transformers")
# Run in the CLI's own process (`python -m trainer ...`), which may load the engine.
CLI = {ROOT / "trainer" / "cli.py", ROOT / "trainer" / "__main__.py"}
# Scripts Streamlit runs (importing one would run the app): their imports are imported instead.
SCRIPTS = {ROOT / "app" / "main.py", ROOT / "app" / "router.py", *(ROOT / "pages").glob("*.py")}


# trainer/hooks/ holds every use of another library's private names, one module per library (docs/DESIGN-NOTES.md,
# "Library hooks"): those whose library is torch's side (they import torch, transformers, FlagEmbedding,
# sentence-transformers or accelerate, anywhere in the file) are engine code that lives outside trainer/engine/, and
# count as the engine here; the torch-free ones (optuna, plotly, argparse, guard) are the dashboard's.
ENGINE_LIBRARIES = (*HEAVY, "accelerate")


def engine_hooks() -> set[Path]:
    return {p for p in (ROOT / "trainer" / "hooks").glob("*.py")
            if any(m.split(".")[0] in ENGINE_LIBRARIES for m in imports(p))}


def dashboard_side() -> list[Path]:
    """Every file the dashboard process may import: app/, pages/ and trainer/ outside engine/ and the engine's
    library hooks."""
    trainer = [p for p in (ROOT / "trainer").rglob("*.py") if "engine" not in p.relative_to(ROOT).parts
               and p not in engine_hooks()]
    return sorted([*(ROOT / "app").glob("*.py"), *(ROOT / "pages").glob("*.py"), *trainer])


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function (resolved when relative)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module_name(path).rsplit(".", 1)[0]
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)     # `from trainer import launch`
    return found


def test_the_dashboard_side_never_imports_the_engine():
    hooks = {module_name(p) for p in engine_hooks()}
    assert "trainer.hooks.hf_trainer" in hooks and "trainer.hooks.plotly_figures" not in hooks, hooks
    offenders = {module_name(p): sorted(m for m in imports(p) if m.startswith("trainer.engine") or m in hooks
                                        or m.split(".")[0] in HEAVY)
                 for p in dashboard_side() if p not in CLI}
    assert not {k: v for k, v in offenders.items() if v}, offenders


def test_a_fresh_interpreter_importing_the_dashboard_side_loads_no_torch(tmp_path):
    """Imports every app/ and torch-free trainer/ module, and every module any page or any of them
    imports anywhere (functions included), then looks at sys.modules."""
    files = dashboard_side()
    own = {module_name(p) for p in files if p not in SCRIPTS and p not in CLI}
    wanted = sorted(own | {m for p in files if p not in CLI for m in imports(p)})
    script = (
        "import importlib, importlib.util, json, sys\n"
        f"for name in {wanted!r}:\n"
        "    try:\n"
        "        found = importlib.util.find_spec(name) is not None\n"
        "    except ModuleNotFoundError:\n"
        "        found = False\n"
        "    if found:\n"
        "        importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "M3_RUNS_DIR": str(tmp_path / "runs")})
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "trainer.jobs.launch" in wanted and "app.ui" in wanted and "trainer.sizing.memory" in wanted
    assert not loaded, f"the dashboard side loaded {loaded[:10]}"


def test_no_import_circle_and_trainer_never_imports_the_dashboard():
    """Every import of every module (inside functions too): the project's modules form no circle, so each can be
    read (and loaded) after the ones it uses; and nothing in trainer/ reaches into app/ or pages/."""
    files = sorted([*(ROOT / "app").glob("*.py"), *(ROOT / "pages").glob("*.py"), *(ROOT / "trainer").rglob("*.py")])
    name = {p: module_name(p).removesuffix(".__init__") for p in files}
    own = set(name.values())
    graph = {name[p]: {m for m in imports(p) if m in own and m != name[p]} for p in files}
    assert not {m: sorted(t for t in targets if t.split(".")[0] in ("app", "pages"))
                for m, targets in graph.items() if m.startswith("trainer") and
                any(t.split(".")[0] in ("app", "pages") for t in targets)}
    # A circle: a module that reaches itself again (depth-first search, the path kept for the message).
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, path + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
