"""The house's order, checked: `trainer/` is a few wings (packages), each importing only the wings below it
(trainer.WINGS, lowest first; the design notes' map shows the same order). Every import counts, those inside
functions too. The package root (`trainer/__init__.py`: the version and `m3-studio`) serves every wing."""
import re
from pathlib import Path

import trainer
from tests.test_imports import imports, module_name

ROOT = Path(__file__).resolve().parent.parent
ENTRY = {"trainer.__main__"}                 # `python -m trainer`: the CLI's doorstep, above every wing


def wing(module: str) -> str | None:
    """The wing a trainer module belongs to (None: the package root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in trainer.WINGS else None


def wrong_imports(module: str, imported: set[str]) -> list[str]:
    """The imports of `module` that reach its own wing's level or above into another wing."""
    own = wing(module)
    if module in ENTRY or own is None:
        return []
    level = trainer.WINGS.index(own)
    return sorted(m for m in imported if m.startswith("trainer.") and (w := wing(m)) is not None
                  and w != own and trainer.WINGS.index(w) > level)


def test_every_module_belongs_to_a_wing_and_every_wing_is_a_package():
    loose = [p.name for p in (ROOT / "trainer").glob("*.py") if p.stem not in ("__init__", "__main__", *trainer.WINGS)]
    assert not loose, f"a module outside the wings: {loose} (put it in the wing that owns its job)"
    assert all((ROOT / "trainer" / w / "__init__.py").is_file() or (ROOT / "trainer" / f"{w}.py").is_file()
               for w in trainer.WINGS)


def test_each_wing_imports_only_the_wings_below_it():
    files = [p for p in (ROOT / "trainer").rglob("*.py") if "demo" not in p.parts and "general" not in p.parts]
    wrong = {}
    for p in files:
        name = module_name(p).removesuffix(".__init__")
        if found := wrong_imports(name, imports(p)):
            wrong[name] = found
    assert not wrong, f"imports against trainer.WINGS {trainer.WINGS}: {wrong}"


def test_the_checker_catches_a_wrong_import_even_inside_a_function(tmp_path):
    """The test above can fail: a store module that imports the planning wing inside a function is caught,
    the same import from the jobs wing (above planning) is not."""
    source = "def f():\n    from trainer.planning import plan\n    return plan\n"
    path = tmp_path / "x.py"
    path.write_text(source)
    found = imports(path)
    assert wrong_imports("trainer.store.x", found) == ["trainer.planning", "trainer.planning.plan"]
    assert wrong_imports("trainer.jobs.x", found) == []


def test_the_design_notes_map_shows_the_same_order():
    notes = (ROOT / "docs" / "DESIGN-NOTES.md").read_text(encoding="utf-8")
    line = re.search(r"^Wings, lowest first: (.+)$", notes, re.M)
    assert line, "docs/DESIGN-NOTES.md: no 'Wings, lowest first:' line in the map"
    assert tuple(re.findall(r"`(\w+)`", line.group(1))) == trainer.WINGS
