#!/usr/bin/env bash
# The whole test suite on a fresh machine: a project venv, the package with its dev
# extra, then lint (ruff), types (mypy --strict) and every test (pytest).
# Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${BATCHIP_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'

echo "== ruff"
"$VENV/bin/ruff" check pulumi_batchip tests examples benchmarks
"$VENV/bin/ruff" format --check pulumi_batchip tests examples benchmarks
echo "== mypy --strict"
"$VENV/bin/mypy" pulumi_batchip
echo "== pytest"
"$VENV/bin/python" -m pytest "$@"
