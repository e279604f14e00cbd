"""Every rule in one place: a RunConfig field's choices and default are written in trainer/core (config.py, fields.py)
and nowhere else. The command line takes them from there (its flags for a field, under any name, store into the
field's name: cli.field_flag), and no source file writes a field's choices as a literal list again."""
import ast
import dataclasses
from pathlib import Path

from trainer import cli
from trainer.core.config import Mode, RunConfig
from trainer.core.fields import CHOICES

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = {f.name: getattr(RunConfig(), f.name) for f in dataclasses.fields(RunConfig)}
OWNERS = {ROOT / "trainer" / "core" / "config.py", ROOT / "trainer" / "core" / "fields.py"}
# Each command with the arguments it requires; every flag it has for a RunConfig field must carry the field's default.
COMMANDS = [["train"], ["sweep"], ["vram"], ["buckets", "--train", "x"], ["plan", "--train", "x"],
            ["mine", "--input", "x", "--output", "y"], ["scan", "x"]]


def second_defaults(ns) -> dict:
    """The fields a parsed namespace holds with a value other than RunConfig's default."""
    wrong = {}
    for name, value in vars(ns).items():
        if name in DEFAULTS:
            default = DEFAULTS[name]
            if (default.value if isinstance(default, Mode) else default) != (value.value if isinstance(value, Mode)
                                                                               else value) and value != [default]:
                wrong[name] = (value, default)
    return wrong


def literal_choices(source: str) -> list[tuple[int, str]]:
    """(line, field) for each literal list/tuple/set of two or more constants that spells out a field's choices
    (all of them, or some: `["fp32", "fp16", "bf16"]` is precision's)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and len(node.elts) >= 2 \
                and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            values = {e.value for e in node.elts}
            for field, choices in CHOICES.items():
                if values <= {str(c) for c in choices}:
                    found.append((node.lineno, field))
    return found


def test_every_command_flag_for_a_run_field_carries_the_registry_default():
    wrong = {" ".join(argv[:1]): w for argv in COMMANDS if (w := second_defaults(cli.build_parser().parse_args(argv)))}
    assert not wrong, f"a flag with its own default for a RunConfig field (use cli.field_flag): {wrong}"


def test_a_flag_for_a_run_field_offers_the_registry_choices(capsys):
    """--help shows each field flag's choices: exactly the registry's."""
    for argv in (["vram"], ["mine", "--input", "x", "--output", "y"]):
        parser = cli.build_parser()
        try:
            parser.parse_args([*argv, "--help"])
        except SystemExit:
            pass
        shown = capsys.readouterr().out
        for field in ("precision", "sparse_head") if argv == ["vram"] else ("pooling",):
            assert "{" + ",".join(map(str, CHOICES[field])) + "}" in shown, (argv, field)


def test_no_source_file_writes_a_fields_choices_again():
    files = [p for d in ("trainer", "app", "pages") for p in (ROOT / d).rglob("*.py")
             if p not in OWNERS and "demo" not in p.parts and "general" not in p.parts]
    found = {str(p.relative_to(ROOT)): hits for p in files if (hits := literal_choices(p.read_text(encoding="utf-8")))}
    assert not found, f"a field's choices written again (use trainer.core.fields.CHOICES): {found}"


def test_the_checks_catch_a_second_default_and_a_second_list_of_choices():
    """The tests above can fail: a flag defaulting group size to 8 (the CLI's old second default) is caught, and so
    is a literal list of the sparse head's choices."""
    parser = cli.build_parser()
    ns = parser.parse_args(["vram", "--group-size", "8"])
    assert second_defaults(ns) == {"group_size": (8, 4)}
    assert literal_choices('heads = ("lean", "stock")\n') == [(1, "sparse_head")]
    assert literal_choices('x = ("lean", "other")\n') == []


def test_every_behaviour_the_worker_adds_is_in_the_plan_or_the_list_of_additions(tmp_path):
    """The worker's own options (training.train's keywords beyond the plan's arguments) are the plan's `studio`
    options, each told of by an addition; the arguments it sets at run time are additions too; and Runs, Configure
    and the model card show the whole list that applies (here: every one, for a run that uses them all)."""
    import inspect

    from trainer.engine import training
    from trainer.planning import additions, plan
    from trainer.store.run_folder import RunFolder

    cfg = RunConfig(mode=Mode.ALL, heads_lr_scale=5.0, sparse_init="uniform", unpadded=True)
    made = plan.make(cfg, RunFolder(tmp_path), "r", train_file="t.jsonl", rows=8, precision="bf16", cuda=True,
                     nproc_per_node=1)
    own = {p for p in inspect.signature(training.train).parameters if p not in ("args", "callbacks", "progress",
                                                                                "bucket_steps", "record")}
    assert set(made.studio) == own == set(additions.STUDIO_OPTIONS)
    assert {*additions.STUDIO_OPTIONS.values(), *additions.RUN_TIME_ARGUMENTS.values(),
            *additions.WORKER_ONLY_ARGUMENTS.values()} <= set(additions.ADDITIONS)
    from trainer.planning import reproduce
    assert made.args["ddp_find_unused_parameters"] is False and "--ddp_find_unused_parameters" not in reproduce.command(made)
    assert additions.applied(cfg, made.studio) == list(additions.ADDITIONS)
    assert all(set(words) == {"en", "zh"} for words in additions.ADDITIONS.values())
