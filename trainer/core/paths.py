"""Which server files a typed path may name. On the loopback, with no roots set, any file of this user's; served
beyond it, or with roots given (`m3-studio --data-root DIR`, M3_DATA_ROOTS), only files under the roots, the runs
folder and the package's own demo data — resolved with symlinks followed before the check, regular files only (no
devices or pipes), no NUL bytes, no overlong paths. The refusal names the path the user typed, never a file's
contents."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DATA = (Path(__file__).resolve().parents[1] / "demo", Path(__file__).resolve().parents[1] / "general")
MAX_PATH = 4096
MAX_NAME = 255
CONFINED = False        # set by the dashboard's door when it is served beyond the loopback (app/door.py)


class PathRefused(ValueError):
    pass


def roots(runs_dir: Path | None, env=os.environ) -> list[Path] | None:
    """The folders typed paths may point into; None: anywhere."""
    given = [Path(p).expanduser().resolve() for p in env.get("M3_DATA_ROOTS", "").split(os.pathsep) if p.strip()]
    if not given and not CONFINED:
        return None
    return [*given, *([Path(runs_dir).resolve()] if runs_dir else []), *PACKAGE_DATA]


def allowed(typed: str, runs_dir: Path | None, kind: str = "file", inside: tuple[str, ...] = (),
            env=os.environ) -> Path:
    """The resolved path `typed` names, if the server lets it be read as a `kind` ("file" or "folder", and then
    each file named `inside` it: a symlink inside may lead out); else PathRefused saying why, in words."""
    if "\x00" in typed:
        raise PathRefused("the path has a NUL character in it")
    if len(typed) > MAX_PATH or any(len(part) > MAX_NAME for part in typed.split("/")):
        raise PathRefused(f"the path is longer than this server reads ({MAX_PATH} characters, {MAX_NAME} a name)")
    try:
        path = Path(typed).expanduser().resolve()
    except (OSError, RuntimeError) as e:
        raise PathRefused(f"{typed}: cannot be resolved ({e.__class__.__name__})") from None
    allowed_roots = roots(runs_dir, env)
    if allowed_roots is not None and not any(path == r or path.is_relative_to(r) for r in allowed_roots):
        raise PathRefused(f"{typed} is outside the folders this server lets the dashboard read (its runs folder "
                          "and those given by --data-root)")
    if not path.exists():
        return path                      # the reader says it is missing, as for any file
    if kind == "file" and not path.is_file():
        raise PathRefused(f"{typed} is not a regular file")
    if kind == "folder" and not path.is_dir():
        raise PathRefused(f"{typed} is not a folder")
    for name in inside:
        allowed(str(path / name), runs_dir, "file", env=env)
    return path
