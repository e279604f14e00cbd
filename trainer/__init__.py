"""M3 Studio's engine (everything that is not UI). `__version__` is the package's one version: pyproject.toml
reads it from here (setuptools' `attr:`), `m3-train --version`, `m3-studio --version` and the app's sidebar show
it. `studio` is the `m3-studio` console command (the dashboard); `m3-train` is `trainer.cli:console`.

The code lives in wings (packages), each importing only the wings before it in WINGS (tests/test_layers.py;
docs/DESIGN-NOTES.md, "The map"): the run's vocabulary, the store, data files, sizing, planning, where models go,
jobs in child processes, the engine (torch, in child processes only) and the command line."""
from __future__ import annotations

__version__ = "0.1.0"
WINGS = ("hooks", "core", "store", "data", "sizing", "planning", "models", "jobs", "engine", "cli")


def streamlit_defaults() -> dict[str, str]:
    """The dashboard's Streamlit settings (`.streamlit/config.toml`) as STREAMLIT_* environment variables.
    `streamlit run app/main.py` in the checkout reads that file from the current folder; an installed package
    carries it as app/streamlit_config/config.toml (pyproject.toml) and `m3-studio` sets these variables."""
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent          # the checkout, or site-packages when installed
    for path in (root / ".streamlit" / "config.toml", root / "app" / "streamlit_config" / "config.toml"):
        if path.is_file():
            break
    else:
        return {}
    env = {}
    for section, options in tomllib.loads(path.read_text(encoding="utf-8")).items():
        for key, value in options.items():
            # Streamlit's own naming (ConfigOption.env_var): server.enableXsrfProtection -> ..._ENABLE_XSRF_PROTECTION
            name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", f"{section}_{key}")
            name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
            env[f"STREAMLIT_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


def studio(argv: list[str] | None = None) -> int:
    """`m3-studio [--runs-dir DIR] [STREAMLIT FLAGS]`: the dashboard, as `streamlit run app/main.py` starts it,
    from any folder. The run store is --runs-dir, else $M3_RUNS_DIR, else ./runs. The dashboard's Streamlit
    settings apply unless a STREAMLIT_* variable or a flag (`--server.port 8600`) says otherwise."""
    import argparse
    import os
    import sys
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="m3-studio", allow_abbrev=False,
        description="M3 Studio: the dashboard (streamlit run app/main.py, from the installed package).",
        epilog="Every other flag goes to `streamlit run`, e.g. --server.port 8600 or --server.address 0.0.0.0 "
               "(the default, 127.0.0.1, serves this machine only: the dashboard can start jobs on it).")
    parser.add_argument("--runs-dir", help="the run store's folder (sets M3_RUNS_DIR; default: $M3_RUNS_DIR, "
                                           "else ./runs)")
    parser.add_argument("--token", help="the token a browser must give (sets M3_STUDIO_TOKEN); default: one is "
                                        "generated and printed when served beyond this machine")
    parser.add_argument("--token-file", help="a file whose first line is the token (sets M3_STUDIO_TOKEN_FILE)")
    parser.add_argument("--require-token", action="store_true", help="ask for a token on the loopback too")
    parser.add_argument("--data-root", action="append", default=[], metavar="DIR",
                        help="a folder typed paths may point into (repeatable; sets M3_DATA_ROOTS). Default: "
                             "anywhere on the loopback, only the runs folder when served beyond it")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="one more name browsers reach this server by, e.g. a reverse proxy's (repeatable)")
    parser.add_argument("--version", action="version", version=f"M3 Studio {__version__}")
    ns, streamlit_flags = parser.parse_known_args(argv)
    if ns.runs_dir:
        os.environ["M3_RUNS_DIR"] = str(Path(ns.runs_dir).expanduser().resolve())
    for name, value in (("M3_STUDIO_TOKEN", ns.token), ("M3_STUDIO_TOKEN_FILE", ns.token_file),
                        ("M3_STUDIO_REQUIRE_TOKEN", "1" if ns.require_token else None),
                        ("M3_DATA_ROOTS", os.pathsep.join(str(Path(d).expanduser().resolve()) for d in ns.data_root)),
                        ("M3_STUDIO_HOSTS", ",".join(ns.allowed_host))):
        if value:
            os.environ[name] = value
    for name, value in streamlit_defaults().items():
        os.environ.setdefault(name, value)
    main_py = Path(__file__).resolve().parent.parent / "app" / "main.py"

    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(main_py), *streamlit_flags]
    return cli.main()
