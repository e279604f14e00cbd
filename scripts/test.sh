#!/usr/bin/env bash
# The test command: sets up .venv (and Debian's Chromium for the browser test), runs ruff, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The linter first (its rules: pyproject.toml [tool.ruff]; well under a second): a finding fails the command.
.venv/bin/ruff check .
# Chromium for the browser test, and a CJK font so its Chinese screenshots show characters, not boxes.
if { [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; } && [ "$(id -u)" = 0 ] \
        && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
        fonts-noto-cjk) >/dev/null \
        || echo "warning: could not install chromium or fonts-noto-cjk; the browser test may be skipped" >&2
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# Two test processes (TEST_WORKERS), each torch process on one thread: on a 2-core machine two busy
# processes with two spinning OpenMP threads each run several times slower than with one (measured).
# A test file stays on one process (--dist loadfile), so a module's trained fixture trains once; files go
# out heaviest first (tests/conftest.py HEAVY_FIRST, kept in that order by --no-loadscope-reorder).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
exec .venv/bin/python -m pytest -q -n "${TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
