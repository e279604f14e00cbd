"""`python -m trainer.engine.search_server`: answers Try-it searches, one JSON request per stdin line, one
JSON answer per stdout line. A child process of the dashboard, so torch and the models stay out of
the dashboard's own process; models and corpus encodings stay loaded between requests."""
from __future__ import annotations

import json
import sys
import traceback


def main() -> int:
    from trainer.engine.search import Searcher

    searcher = Searcher()
    out = sys.stdout
    sys.stdout = sys.stderr            # libraries' prints must not corrupt the answers
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = searcher.search(**json.loads(line))
        except Exception as exc:          # one bad request must not end the server
            traceback.print_exc()
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
