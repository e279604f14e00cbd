"""The scans table: one streaming scan per version of a training file (trainer.data.scan), its sample and
token-length advice."""
from __future__ import annotations

import json
import time
from typing import Iterable, Optional

from trainer.store.db import Database
from trainer.store.records import ScanStatus

KEEP_SCANS = 32        # scans of training files kept (the newest); older ones go with their samples


class Scans(Database):
    def claim_scan(self, path: str, size: int, mtime_ns: int, pid: Optional[int] = None) -> tuple[int, bool]:
        """The scan row of this file version: (id, True) when this call created it (`running`), (id,
        False) when it was there. Scans of the path's other versions go."""
        with self._connect() as db:
            row = db.execute("INSERT OR IGNORE INTO scans (path, size, mtime_ns, status, pid, started)"
                             " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                             (path, size, mtime_ns, ScanStatus.RUNNING, pid, time.time())).fetchone()
            if row is None:
                return db.execute("SELECT id FROM scans WHERE path = ? AND size = ? AND mtime_ns = ?",
                                  (path, size, mtime_ns)).fetchone()[0], False
            db.execute("DELETE FROM scans WHERE path = ? AND id != ?", (path, row[0]))
            db.execute("DELETE FROM scans WHERE id NOT IN (SELECT id FROM scans ORDER BY id DESC LIMIT ?)", (KEEP_SCANS,))
            return row[0], True

    def running_scans(self) -> list[dict]:
        with self._connect() as db:
            return [dict(r) for r in db.execute("SELECT * FROM scans WHERE status = ?", (ScanStatus.RUNNING,))]

    def find_scan(self, path: str, size: int, mtime_ns: int) -> Optional[dict]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM scans WHERE path = ? AND size = ? AND mtime_ns = ?",
                             (path, size, mtime_ns)).fetchone()
        return dict(row) if row else None

    def get_scan(self, scan_id: int) -> Optional[dict]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM scans WHERE id = ?", (scan_id,)).fetchone()
        return dict(row) if row else None

    def scan_progress(self, scan_id: int, *, pid: Optional[int] = None, bytes_read: int, lines: int, rows: int,
                      problems: int) -> None:
        with self._connect() as db:
            db.execute("UPDATE scans SET pid = COALESCE(?, pid), bytes_read = ?, lines = ?, rows = ?, problems = ?"
                       " WHERE id = ?", (pid, bytes_read, lines, rows, problems, scan_id))

    def finish_scan(self, scan_id: int, result: dict, sample: Iterable[tuple[int, str]],
                    lengths: Optional[tuple[str, dict]] = None) -> None:
        """The scan's result, its sample and (model, suggested lengths), in one transaction."""
        with self._connect() as db:
            if lengths:
                db.execute("INSERT OR REPLACE INTO scan_lengths VALUES (?, ?, ?)",
                           (scan_id, lengths[0], json.dumps(lengths[1])))
            db.execute("DELETE FROM scan_samples WHERE scan_id = ?", (scan_id,))
            db.executemany("INSERT INTO scan_samples (scan_id, line, row) VALUES (?, ?, ?)",
                           ((scan_id, line, row) for line, row in sample))
            db.execute("UPDATE scans SET status = ?, ended = ?, result = ?, bytes_read = ?, lines = ?, rows = ?,"
                       " problems = ?, error = NULL WHERE id = ?",
                       (ScanStatus.DONE, time.time(), json.dumps(result, ensure_ascii=False), result["size"], result["lines"],
                        result["rows"], result["error_count"], scan_id))

    def fail_scan(self, scan_id: int, error: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE scans SET status = ?, ended = ?, error = ? WHERE id = ?",
                       (ScanStatus.FAILED, time.time(), error, scan_id))

    def delete_scan(self, scan_id: int) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM scans WHERE id = ?", (scan_id,))

    def scan_sample(self, scan_id: int, limit: int = -1) -> list[tuple[int, str]]:
        """(line, row JSON) of a scan's sample, in file order; `limit` of them (-1: all)."""
        with self._connect() as db:
            return [tuple(r) for r in db.execute("SELECT line, row FROM scan_samples WHERE scan_id = ? ORDER BY line"
                                                 " LIMIT ?", (scan_id, limit))]

    def scan_lengths(self, scan_id: int, model: str) -> Optional[dict]:
        with self._connect() as db:
            row = db.execute("SELECT advice FROM scan_lengths WHERE scan_id = ? AND model = ?",
                             (scan_id, model)).fetchone()
        return json.loads(row[0]) if row else None

    def set_scan_lengths(self, scan_id: int, model: str, advice: dict) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO scan_lengths VALUES (?, ?, ?)", (scan_id, model, json.dumps(advice)))

