"""The runs table (and its queue): create, find, list, change status, stop, delete; the file a run trained on."""
from __future__ import annotations

import re
import time
from typing import Any, Callable, Iterable, Mapping, Optional

from trainer.core.config import RunConfig
from trainer.store.db import Database
from trainer.store.records import (FINAL, LIVE, QUEUED, RUNNING, WAITING,
                                   DeviceBusy, Run, run_from_row, new_run_id)


class Runs(Database):
    def create_run(self, config: RunConfig, status: str = QUEUED, train_file: Optional[Mapping[str, Any]] = None,
                   busy: Optional[Callable[[list[Run]], list[str]]] = None, study: Optional[str] = None) -> str:
        """A new queued run; its id is the creation second plus 6 random hex digits, readable and in
        time order, and made unique in the insert itself: a taken id (a burst of runs in one second)
        draws again. `train_file` (path, size, mtime_ns, checksum, rows: the version the preflight
        checked) is kept with it in the same transaction; the worker refuses a file that changed since.
        With `busy` (the live runs → those still holding the device), "create if the device is idle" is one
        write transaction, like take_waiting: two processes (the command line and the dashboard) never
        both create one; the loser gets DeviceBusy. `study`: the settings search it is a trial of."""
        name = config.name or f"{config.mode.value} {time.strftime('%m-%d %H:%M')}"
        for _ in range(100):
            run_id = new_run_id()
            with self._connect() as db:
                if busy is not None:
                    db.execute("BEGIN IMMEDIATE")          # the write lock first: the check and the insert are one
                    holding = busy([run_from_row(r) for r in db.execute("SELECT * FROM runs WHERE status IN (?, ?)", LIVE)])
                    if holding:
                        raise DeviceBusy(holding)
                if db.execute(
                        "INSERT OR IGNORE INTO runs (id, name, created, status, mode, config, output_dir, study)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (run_id, name, time.time(), status, config.mode.value, config.to_json(),
                         str(self.runs_dir / run_id), study)).rowcount == 1:
                    if train_file:
                        db.execute("INSERT INTO run_files VALUES (?, ?, ?, ?, ?, ?)",
                                   (run_id, *(train_file[k] for k in ("path", "size", "mtime_ns", "checksum", "rows"))))
                    return run_id
        raise RuntimeError(f"no free run id after 100 draws in {self.path}")

    def get_run(self, run_id: str) -> Run:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id!r} in {self.path}")
        return run_from_row(row)

    def list_runs(self, *, mode: Optional[str] = None, status: Iterable[str] = (), name: str = "",
                  limit: int = -1, offset: int = 0) -> list[Run]:
        """Runs, newest first; only those of `mode`, of a status in `status`, whose name or id contains
        `name` (any case) when given; `limit` of them from `offset` (-1: all)."""
        where, args = _filter(mode, status, name)
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM runs {where} ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                              (*args, limit, offset)).fetchall()
        return [run_from_row(r) for r in rows]

    def study_runs(self, study: str) -> list[Run]:
        """The trials of one settings search, oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs WHERE study = ? ORDER BY created, rowid", (study,)).fetchall()
        return [run_from_row(r) for r in rows]

    def count_runs(self, *, mode: Optional[str] = None, status: Iterable[str] = (), name: str = "") -> int:
        where, args = _filter(mode, status, name)
        with self._connect() as db:
            return db.execute(f"SELECT COUNT(*) FROM runs {where}", args).fetchone()[0]

    def set_status(self, run_id: str, status: str, *, error: Optional[str] = None,
                   only_if: Iterable[str] = ()) -> bool:
        """Set a run's status; with `only_if`, only when the current status is one of those.

        Returns whether the row changed, so a watcher never overwrites the worker's final word.
        """
        now = time.time()
        fields = "status = ?, error = COALESCE(?, error)"
        fields += ", started = COALESCE(started, ?)" if status == RUNNING else ""
        fields += ", ended = ?" if status in FINAL else ""
        args: list = [status, error] + ([now] if status == RUNNING or status in FINAL else [])
        sql = f"UPDATE runs SET {fields} WHERE id = ?"
        args.append(run_id)
        only_if = tuple(only_if)
        if only_if:
            sql += f" AND status IN ({','.join('?' * len(only_if))})"
            args.extend(only_if)
        with self._connect() as db:
            changed = db.execute(sql, args).rowcount == 1
            if changed and status in FINAL:     # the run ended: summarise it once, now
                self._summarize(db, db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())
            return changed

    def take_waiting(self, among: Iterable[str] = ()) -> Optional[str]:
        """The first waiting run (of `among`, if given), now queued to start; None while another run is
        queued or running, or none waits. One transaction, so two callers never start two runs."""
        among = tuple(among)
        pick = f" AND id IN ({','.join('?' * len(among))})" if among else ""
        with self._connect() as db:
            row = db.execute(
                f"UPDATE runs SET status = ? WHERE id = (SELECT id FROM runs WHERE status = ?{pick}"
                f" ORDER BY created, rowid LIMIT 1) AND NOT EXISTS (SELECT 1 FROM runs WHERE status IN (?, ?))"
                f" RETURNING id", (QUEUED, WAITING, *among, *LIVE)).fetchone()
        return row[0] if row else None

    def reopen(self, run_id: str, from_statuses: Iterable[str]) -> bool:
        """Queue an ended run again (to resume it); its metric points stay as they are."""
        from_statuses = tuple(from_statuses)
        with self._connect() as db:
            return db.execute(
                f"UPDATE runs SET status = ?, error = NULL, ended = NULL, pid = NULL, stop_requested = 0"
                f" WHERE id = ? AND status IN ({','.join('?' * len(from_statuses))})",
                (QUEUED, run_id, *from_statuses)).rowcount == 1

    def set_pid(self, run_id: str, pid: Optional[int]) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET pid = ? WHERE id = ?", (pid, run_id))

    def set_skipped_rows(self, run_id: str, count: int) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET skipped_rows = ? WHERE id = ?", (count, run_id))

    def rename(self, run_id: str, name: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    def delete(self, run_id: str) -> None:
        run = self.get_run(run_id)
        if run.live:
            raise ValueError(f"run {run_id} is still {run.status}; stop it first")
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def request_stop(self, run_id: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET stop_requested = 1 WHERE id = ?", (run_id,))

    def stop_requested(self, run_id: str) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT stop_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row[0])

    def set_run_file(self, run_id: str, path: str, size: int, mtime_ns: int, checksum: str, rows: int) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO run_files VALUES (?, ?, ?, ?, ?, ?)",
                       (run_id, path, size, mtime_ns, checksum, rows))

    def run_file(self, run_id: str) -> Optional[dict]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM run_files WHERE run_id = ?", (run_id,)).fetchone()
        return dict(row) if row else None



def _filter(mode: Optional[str], status: Iterable[str], name: str) -> tuple[str, list]:
    clauses, args = [], []
    if mode:
        clauses.append("mode = ?")
        args.append(mode)
    status = tuple(status)
    if status:
        clauses.append(f"status IN ({','.join('?' * len(status))})")
        args.extend(status)
    if name:
        pattern = "%" + re.sub(r"([%_\\])", r"\\\1", name) + "%"
        clauses.append("(name LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\')")
        args.extend([pattern, pattern])
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


