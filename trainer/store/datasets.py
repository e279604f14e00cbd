"""The datasets table: the training files the Data page keeps by name."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

from trainer.store.db import Database


class Datasets(Database):
    def add_dataset(self, name: str, path: str, origin: str) -> int:
        """A named training file (kept once per path: adding it again renames it); its id."""
        with self._connect() as db:
            db.execute("INSERT INTO datasets (name, path, origin, created) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT(path) DO UPDATE SET name = excluded.name", (name, str(path), origin, time.time()))
            return db.execute("SELECT id FROM datasets WHERE path = ?", (str(path),)).fetchone()["id"]

    def datasets(self) -> list[dict]:
        """Every named training file whose file still exists, newest first."""
        with self._connect() as db:
            rows = [dict(r) for r in db.execute("SELECT * FROM datasets ORDER BY created DESC, id DESC")]
        return [r for r in rows if Path(r["path"]).is_file()]

    def remove_dataset(self, dataset_id: int) -> None:
        """Forget a named training file; the file itself goes too when the dashboard made it (an upload, a mined
        file: inside the runs folder), never a file of the user's own."""
        with self._connect() as db:
            row = db.execute("DELETE FROM datasets WHERE id = ? RETURNING path", (dataset_id,)).fetchone()
        path = Path(row["path"]).resolve() if row else None
        if path is not None and path.is_relative_to(self.runs_dir) and path.is_file():
            path.unlink()

    def dataset_for(self, path: str) -> Optional[dict]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM datasets WHERE path = ?", (str(path),)).fetchone()
        return dict(row) if row else None

