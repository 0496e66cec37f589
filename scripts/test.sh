#!/usr/bin/env bash
# The whole test suite on a fresh machine: a project venv, the package with its dev
# extra, the real Pulumi CLI (scripts/pulumi-cli.sh: cached, or built from Go modules),
# then lint (ruff), types (mypy --strict) and every test (pytest), layer by layer with
# the time of each (the engine and reliability layer beside the examples and e2e ones).
# Usage: bash scripts/test.sh [pytest args]   (with args: one pytest run with them)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${BATCHIP_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
declare -a SPLIT=()
timed() {  # timed LABEL COMMAND...: run it, remember how long it took
  local label="$1" start=$SECONDS rc=0
  shift
  "$@" || rc=$?
  SPLIT+=("$(printf '%-34s %5d s  %s' "$label" $((SECONDS - start)) "$([ $rc = 0 ] && echo ok || echo "FAILED ($rc)")")")
  return $rc
}
summary() {
  echo "== time split"
  printf '%s\n' "${SPLIT[@]}"
}
trap summary EXIT

install() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
}
echo "== venv ($VENV)"
timed "venv and package" install

echo "== pulumi CLI (scripts/pulumi-cli.sh)"
if timed "pulumi CLI (build or cache)" bash scripts/pulumi-cli.sh; then
  :
elif [ "${BATCHIP_E2E_REQUIRED:-}" = "1" ]; then
  echo "error: no Pulumi CLI, and BATCHIP_E2E_REQUIRED=1: the end-to-end tests must run" >&2
  exit 1
else
  echo "warning: no Pulumi CLI: tests/e2e will skip, naming this reason" >&2
fi

echo "== ruff"
timed "ruff" "$VENV/bin/ruff" check pulumi_batchip tests examples benchmarks
timed "ruff format" "$VENV/bin/ruff" format --check pulumi_batchip tests examples benchmarks
echo "== mypy --strict"
timed "mypy --strict" "$VENV/bin/mypy" pulumi_batchip

if [ $# -gt 0 ]; then
  echo "== pytest $*"
  timed "pytest $*" "$VENV/bin/python" -m pytest "$@"
  exit 0
fi
# Every test folder belongs to one of the layers below.
for dir in tests/*/; do
  case "$dir" in
    tests/unit/ | tests/emulator/ | tests/engine/ | tests/reliability/ | tests/examples/ | \
      tests/benchmarks/ | tests/e2e/ | tests/__pycache__/) ;;
    *) echo "error: $dir is in no test layer of scripts/test.sh" >&2; exit 1 ;;
  esac
done
rc=0
echo "== pytest: unit and emulator"
timed "unit + emulator tests" "$VENV/bin/python" -m pytest tests/unit tests/emulator || rc=1
# The engine and reliability layer mostly waits (emulated jobs, backoffs, deadlines):
# it runs beside the examples and end-to-end layers, its output kept in a file outside
# the work tree and shown when it is done.
LOGS="$(mktemp -d)"
trap 'kill "${engine_pid:-}" 2>/dev/null || true; summary; rm -rf "$LOGS"' EXIT
echo "== pytest: engine protocol harness and reliability (beside the layers below; output after them)"
engine_started=$SECONDS
"$VENV/bin/python" -m pytest tests/engine tests/reliability >"$LOGS/engine.log" 2>&1 &
engine_pid=$!
echo "== pytest: examples and benchmarks"
timed "examples + benchmark tests" "$VENV/bin/python" -m pytest tests/examples tests/benchmarks || rc=1
echo "== pytest: end to end with the real pulumi CLI"
timed "e2e tests (real pulumi)" "$VENV/bin/python" -m pytest tests/e2e || rc=1
engine_rc=0
wait "$engine_pid" || engine_rc=$?
echo "== pytest: engine protocol harness and reliability (ran beside the two above)"
cat "$LOGS/engine.log"
SPLIT+=("$(printf '%-34s %5d s  %s' "engine + reliability tests" $((SECONDS - engine_started)) "$([ $engine_rc = 0 ] && echo ok || echo "FAILED ($engine_rc)")")")
[ $engine_rc = 0 ] || rc=1
exit $rc
