"""Exported models, downloaded from disk: a route of the server (app/main.py) behind the door, so an archive is
streamed from its file, never held in a session's memory, and reaches only a browser the door let in."""
from __future__ import annotations

import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Route

from trainer.store import DEFAULT_RUNS_DIR, Store

KINDS = ("export", "merged")          # the run folder's subfolders an archive is written to (trainer.run_folder)
PATH = "api/download/{run_id}/{kind}/{name}"


def url(run_id: str, archive: Path) -> str:
    """The archive's address, relative to the page (so a server.baseUrlPath is kept)."""
    return PATH.format(run_id=run_id, kind=archive.parent.name, name=archive.name)


def archive_of(runs_dir: Path, run_id: str, kind: str, name: str) -> Path | None:
    """The run's archive these name, or None: a known run, an archive folder, a .zip file in it and nothing else."""
    if kind not in KINDS or not name.endswith(".zip") or "/" in name or name.startswith("."):
        return None
    try:
        folder = Store(runs_dir).get_run(run_id).folder.root
    except KeyError:
        return None
    path = (folder / kind / name).resolve()
    return path if path.is_file() and path.parent == (folder / kind).resolve() else None


async def _download(request: Request):
    p = request.path_params
    path = archive_of(Path(os.environ.get("M3_RUNS_DIR", DEFAULT_RUNS_DIR)), p["run_id"], p["kind"], p["name"])
    if path is None:
        return PlainTextResponse("No such archive.", status_code=404)
    return FileResponse(path, media_type="application/zip", filename=path.name)


ROUTE = Route("/" + PATH, _download)
