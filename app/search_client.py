"""Talks to `python -m trainer.engine.search_server` (a child process that holds the models) over pipes.
No torch here: the dashboard only sends JSON and reads JSON."""
from __future__ import annotations

import json
import select
import subprocess
import sys
import threading
from pathlib import Path

from trainer.core import children


class SearchClient:
    def __init__(self, log_path: Path):
        self.log_path = log_path
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            return children.spawn([sys.executable, "-m", "trainer.engine.search_server"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)

    def ask(self, request: dict, timeout: float = 180) -> dict:
        """One search; a server that died is started again once."""
        with self._lock:
            for _ in range(2):
                line = self._exchange(json.dumps(request) + "\n", timeout)
                if line:
                    return json.loads(line)
                self.close()
            return {"error": f"the search process gave no answer (see {self.log_path})"}

    def _exchange(self, message: str, timeout: float) -> str:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start()
        try:
            self._proc.stdin.write(message)
            self._proc.stdin.flush()
            ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
            return self._proc.stdout.readline() if ready else ""
        except OSError:            # a broken pipe: the server is gone
            return ""

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
