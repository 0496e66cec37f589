#!/usr/bin/env bash
# Supported versions, tested. The package declares Python >= 3.10 and floors for its
# runtime dependencies (pyproject.toml); this proves both:
#   1. the floor versions of pulumi, httpx, attrs and tenacity, on the lowest Python
#      (3.10), run the unit tests and the engine tests of each resource's lifecycle and
#      lost answers (FLOOR_ENGINE_TESTS: every call the SDK's provider server, httpx's
#      transport, tenacity's retries and attrs serve; the other engine files test our
#      own logic along the same paths, and run on the main suite's versions);
#   2. every other declared Python present here (3.12, 3.13; 3.11 is the main suite's)
#      runs the unit and example tests.
# A Python that is not installed is reported and skipped; BATCHIP_COMPAT_REQUIRED=1
# (set by .ci/run) makes a missing one an error.
#
#   bash scripts/compat.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
WORK="${BATCHIP_COMPAT_DIR:-$ROOT/.compat}"
# The floors, as pyproject.toml declares them (a test checks they agree).
FLOORS=(pulumi==3.216.0 httpx==0.27.0 attrs==23.1.0 tenacity==8.2.0)
# Test-only tools for the floor venv: the dev extra pins today's pulumi, so not that.
FLOOR_ENGINE_TESTS=(
  tests/engine/test_secondary_ip_set_engine.py tests/engine/test_secondary_ip_lost_answers.py
  tests/engine/test_eip_batch_engine.py tests/engine/test_eip_lost_create.py
)
TEST_TOOLS=(pytest pytest-timeout hypothesis bce-python-sdk huaweicloudsdkcore huaweicloudsdkeip)

find_python() {  # find_python 3.12 -> an interpreter of that version, or nothing
  local version="$1" candidate
  for candidate in "python$version" "$(pyenv root 2>/dev/null)/versions/$version".*/bin/python \
    "$HOME/.pyenv/versions/$version".*/bin/python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = "$version" ]; then
        command -v "$candidate"
        return 0
    fi
  done
  return 1
}

missing() {
  if [ "${BATCHIP_COMPAT_REQUIRED:-}" = "1" ]; then
    echo "error: Python $1 is not installed, and BATCHIP_COMPAT_REQUIRED=1" >&2
    exit 1
  fi
  echo "warning: Python $1 is not installed: skipped" >&2
}

pip_() { "$1/bin/python" -m pip install --quiet --disable-pip-version-check "${@:2}"; }

rc=0
mkdir -p "$WORK"
if py="$(find_python 3.10)"; then
  echo "== Python 3.10 with the floor versions: ${FLOORS[*]}"
  rm -rf "$WORK/floor"
  "$py" -m venv "$WORK/floor"
  pip_ "$WORK/floor" -e '.[emulator]' "${FLOORS[@]}" "${TEST_TOOLS[@]}"
  "$WORK/floor/bin/python" -m pip list --format freeze 2>/dev/null |
    grep -Ei '^(pulumi|httpx|attrs|tenacity)==' || true
  "$WORK/floor/bin/python" -m pytest -q -p no:cacheprovider tests/unit "${FLOOR_ENGINE_TESTS[@]}" ||
    rc=1
else
  missing 3.10
fi
for version in 3.12 3.13; do
  if py="$(find_python "$version")"; then
    echo "== Python $version: unit and example tests"
    rm -rf "$WORK/py$version"
    "$py" -m venv "$WORK/py$version"
    pip_ "$WORK/py$version" -e '.[dev]'
    "$WORK/py$version/bin/python" -m pytest -q -p no:cacheprovider tests/unit tests/examples ||
      rc=1
  else
    missing "$version"
  fi
done
exit $rc
