"""The command line: every RunConfig setting has a flag, and bad input is refused as the page refuses it."""
import argparse
import dataclasses
import enum
import json
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
from conftest import write_jsonl

from app.i18n import EN, ZH
from trainer.cli import ALIASES, add_config_flags, build_parser, config_from
from trainer.core.fields import CHOICES
from trainer.core.config import RunConfig
from trainer.store import Store

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"query": "how do I reset the hub", "pos": ["Hold the button for ten seconds."], "neg": ["Pairing a lamp."]}


def other_value(name: str, hint, default):
    """A value of the field's type that is not its default, and how it is typed on the command line."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint):
        if default is not None:
            return None, "none"
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        member = next(m for m in hint if m != default)
        return member, member.value
    if hint is int:
        return default + 3, str(default + 3)
    if hint is float:
        return default / 4 + 0.125, repr(default / 4 + 0.125)
    if hint is str:
        value = next((c for c in CHOICES.get(name, ()) if c != default), f"{name} from the command line")
        return value, value
    value = {"from": "the command line"} if typing.get_origin(hint) is dict else ["the command line"]
    return value, json.dumps(value)


def train_flags() -> dict[str, argparse.Action]:
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    return {a.dest: a for a in parser._actions if a.dest != "help"}


def test_every_runconfig_field_is_reachable_from_the_command_line():
    hints = typing.get_type_hints(RunConfig)
    flags = train_flags()
    for f in dataclasses.fields(RunConfig):
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        flag = "--" + f.name.replace("_", "-")
        if hints[f.name] is bool:
            argv, expected = [flag if not default else f"--no-{flag[2:]}"], not default
        else:
            expected, text = other_value(f.name, hints[f.name], default)
            argv = [flag, text]
        cfg = config_from(build_parser().parse_args(["train", *argv]))
        assert getattr(cfg, f.name) == expected, (argv, getattr(cfg, f.name))
        changed = {g.name for g in dataclasses.fields(RunConfig) if getattr(cfg, g.name) != getattr(RunConfig(), g.name)}
        assert changed == {f.name}, (argv, changed)               # that flag, and nothing else
        # its help is the Configure page's description of the field
        assert flags[f.name].help.startswith(EN[f"field.{f.name}"].replace("%", "%%")), f.name
    assert config_from(build_parser().parse_args(["train"])) == RunConfig()       # no flag: every default
    for name, short in ALIASES.items():                                          # the short names kept
        assert set(short) <= set(flags[name].option_strings), name
    assert not set(flags) - {f.name for f in dataclasses.fields(RunConfig)}      # nothing but RunConfig


def test_every_field_has_a_description_in_both_languages():
    missing = [f.name for f in dataclasses.fields(RunConfig) if not (EN.get(f"field.{f.name}") and
                                                                     ZH.get(f"field.{f.name}"))]
    assert not missing, f"RunConfig fields without a description in app/i18n.py: {missing}"


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "trainer", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_bad_input_prints_file_line_and_field_exits_2_and_stores_nothing(tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [GOOD, "{oops", {"query": "q", "pos": [], "neg": ["n"]}])
    runs = tmp_path / "runs"
    done = run_cli("train", "--train-data", bad, "--batch-size", "0", "--eval-data", tmp_path / "missing",
                   "--runs-dir", runs)
    assert done.returncode == 2, done.stderr
    assert f"{bad}:2: error: invalid JSON" in done.stderr
    assert f"{bad}:3: field 'pos' error: is empty" in done.stderr
    assert "run settings: field 'batch_size' error: must be a whole number from 1 to 4096, got 0" in done.stderr
    assert f"{tmp_path / 'missing' / 'queries.jsonl'}: error: missing" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout and done.stdout == ""
    assert Store(runs).list_runs() == [] and not [p for p in runs.iterdir() if p.is_dir()]
    # a file with bad rows trains only when skipping them is asked for: the checks then pass
    done = run_cli("train", "--train", bad, "--precision", "fp8", "--skip-bad-rows", "--eval", "none",
                   "--runs-dir", runs)
    assert done.returncode == 2 and done.stderr.splitlines()[1:] == [
        "run settings: field 'precision' error: must be one of auto, fp32, fp16, bf16, got 'fp8'"], done.stderr
    assert Store(runs).list_runs() == []


@pytest.mark.parametrize("argv, message", [(["--epochs", "two"], "argument --epochs: expected int, got 'two'"),
                                           (["--mode", "sparse"], "argument --mode: expected one of all, heads, dense"),
                                           (["--learning-rate", "fast"], "argument --learning-rate/--lr: expected float, got 'fast'")])
def test_a_value_of_the_wrong_type_is_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["train", *argv])
    assert exited.value.code == 2 and message in capsys.readouterr().err


# Training in the foreground on a file's valid rows (`--skip-bad-rows`): tests/test_pairs_run.py.
