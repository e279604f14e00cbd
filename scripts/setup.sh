#!/usr/bin/env bash
# Creates .venv with every pinned requirement (idempotent: a second run installs nothing new).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
if ! cmp -s requirements.txt .venv/.requirements.installed 2>/dev/null; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
    cp requirements.txt .venv/.requirements.installed
fi
