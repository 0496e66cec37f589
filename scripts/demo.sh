#!/usr/bin/env bash
# The main job, end to end: examples/quickstart deployed with a real `pulumi up`
# against the local emulator, its outputs shown, `pulumi destroy`, the stack removed,
# the emulator stopped. Nothing is left running, and the repository is not written to
# (the stack lives in a temporary copy of the project, its state in a temporary file
# backend) except .venv-demo/ and, when it had to be fetched, .pulumi-cli/.
#
#   bash scripts/demo.sh
#
# Optional environment:
#   PYTHON                   interpreter that creates the venv (default: python3)
#   BATCHIP_DEMO_VENV        the venv (default: <repo>/.venv-demo; reused when present)
#   BATCHIP_DEMO_PYTHON      use this interpreter as it is instead of a venv; it must
#                            already hold examples/quickstart/requirements.txt
#   BATCHIP_PULUMI_CLI_ROOT  where the CLI is fetched when none is on PATH
#                            (default: <repo>/.pulumi-cli)
#   PULUMI_INSTALL_URL       Pulumi's installer script (default: https://get.pulumi.com)
#   BATCHIP_DEMO_STACK       the stack name (default: demo)
#
# Exit status: 0 done; 3 a prerequisite (the pulumi CLI or its random plugin) is
# missing and could not be fetched; 2 BATCHIP_DEMO_PYTHON lacks the requirements;
# anything else: the failing step's status.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUICKSTART="$ROOT/examples/quickstart"
CLI_ROOT="${BATCHIP_PULUMI_CLI_ROOT:-$ROOT/.pulumi-cli}"
INSTALL_URL="${PULUMI_INSTALL_URL:-https://get.pulumi.com}"
STACK="${BATCHIP_DEMO_STACK:-demo}"
VENV="${BATCHIP_DEMO_VENV:-$ROOT/.venv-demo}"

# The emulator's default credentials and project id (DESIGN.md §5).
BCE_AK=emulator-bce-ak
BCE_SK=emulator-bce-sk
HW_AK=emulator-hw-ak
HW_SK=emulator-hw-sk
HW_PROJECT_ID=0123456789abcdef0123456789abcdef

say() { printf '==> %s\n' "$*"; }

# -- 1. the pulumi CLI (before anything is created or started) -------------------------
PULUMI=""
find_pulumi() {
  if command -v pulumi >/dev/null 2>&1; then
    PULUMI="$(command -v pulumi)"
    return 0
  fi
  local candidate
  for candidate in "$CLI_ROOT/bin/pulumi" "$CLI_ROOT/pulumi"; do
    if [ -x "$candidate" ]; then
      PULUMI="$candidate"
      return 0
    fi
  done
  return 1
}

FETCH_PROBLEM=""
fetch_pulumi() {
  say "no pulumi CLI on PATH: fetching it for this demo into $CLI_ROOT"
  mkdir -p "$CLI_ROOT"
  printf '*\n' >"$CLI_ROOT/.gitignore"
  local installer="$CLI_ROOT/install.sh"
  if command -v curl >/dev/null 2>&1; then
    if ! curl -fsSL --connect-timeout 15 --max-time 300 -o "$installer" "$INSTALL_URL"; then
      FETCH_PROBLEM="could not download Pulumi's installer from $INSTALL_URL"
      return 1
    fi
  elif command -v wget >/dev/null 2>&1; then
    if ! wget -q -T 15 -O "$installer" "$INSTALL_URL"; then
      FETCH_PROBLEM="could not download Pulumi's installer from $INSTALL_URL"
      return 1
    fi
  else
    FETCH_PROBLEM="neither curl nor wget is installed to download Pulumi's installer"
    return 1
  fi
  if ! sh "$installer" --install-root "$CLI_ROOT" --no-edit-path; then
    FETCH_PROBLEM="Pulumi's installer ($INSTALL_URL) failed: it downloads the CLI from get.pulumi.com"
    return 1
  fi
  find_pulumi || {
    FETCH_PROBLEM="Pulumi's installer ran but left no pulumi binary in $CLI_ROOT/bin"
    return 1
  }
}

missing_cli() {
  cat >&2 <<EOF

error: this demo needs the Pulumi CLI (\`pulumi\`), which is not on PATH, and
fetching it failed: $FETCH_PROBLEM
(this machine may have no internet access beyond package registries).

Install the CLI, then run this script again; any of:
  - curl -fsSL https://get.pulumi.com | sh          (installs into ~/.pulumi/bin)
  - brew install pulumi/tap/pulumi                  (macOS or Linux with Homebrew)
  - a release archive from https://github.com/pulumi/pulumi/releases
    (e.g. pulumi-v3.x-linux-x64.tar.gz): unpack it and put its pulumi/ folder on PATH,
    or into $CLI_ROOT/bin/, where this script looks too
See https://www.pulumi.com/docs/install/.

The quickstart also needs Pulumi's \`random\` resource plugin, which \`pulumi\`
downloads from GitHub the first time (the version matching the pulumi-random
package, e.g. \`pulumi plugin install resource random v4.21.4\`); offline, install it
from a downloaded archive with
  pulumi plugin install resource random v<version> --file pulumi-resource-random-v<version>-linux-amd64.tar.gz
Nothing was started; nothing to clean up.
EOF
  exit 3
}

if ! find_pulumi; then
  fetch_pulumi || missing_cli
fi
say "pulumi CLI: $PULUMI ($("$PULUMI" version 2>/dev/null || echo 'version unknown'))"

# -- 2. Python with the package, its emulator and pulumi-random ------------------------
if [ -n "${BATCHIP_DEMO_PYTHON:-}" ]; then
  PY="$BATCHIP_DEMO_PYTHON"
  if ! "$PY" -c 'import pulumi_batchip.emulator, pulumi_random, werkzeug' 2>/dev/null; then
    echo "error: BATCHIP_DEMO_PYTHON=$PY cannot import pulumi_batchip.emulator," \
      "pulumi_random and werkzeug; run: (cd examples/quickstart &&" \
      "$PY -m pip install -r requirements.txt), or unset it to use .venv-demo" >&2
    exit 2
  fi
  say "Python: $PY (BATCHIP_DEMO_PYTHON, used as it is)"
else
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "${PYTHON:-python3}" -m venv "$VENV"
    printf '*\n' >"$VENV/.gitignore"
  fi
  PY="$VENV/bin/python"
  say "installing examples/quickstart/requirements.txt into $VENV"
  # Relative paths in requirements.txt (the repository itself) are relative to it.
  (cd "$QUICKSTART" && "$PY" -m pip install --quiet --disable-pip-version-check -r requirements.txt)
fi

# -- 3. the random plugin the quickstart's pulumi-random needs ------------------------
RANDOM_VERSION="$("$PY" -c 'import importlib.metadata as m; print(m.version("pulumi-random"))')"
has_random_plugin() {
  "$PULUMI" plugin ls --json 2>/dev/null | "$PY" -c '
import json, sys
want = sys.argv[1].lstrip("v")
try:
    plugins = json.load(sys.stdin) or []
except ValueError:
    sys.exit(1)
sys.exit(0 if any(p.get("name") == "random" and p.get("kind") == "resource"
                  and str(p.get("version", "")).lstrip("v") == want for p in plugins) else 1)
' "$RANDOM_VERSION"
}
if ! has_random_plugin; then
  say "installing Pulumi's random resource plugin v$RANDOM_VERSION"
  if ! "$PULUMI" plugin install resource random "v$RANDOM_VERSION"; then
    cat >&2 <<EOF

error: the quickstart needs Pulumi's \`random\` resource plugin v$RANDOM_VERSION (for the
pulumi-random package) and \`pulumi plugin install resource random v$RANDOM_VERSION\`
could not download it (from GitHub; no internet access?). Install it where there is
access, or from a downloaded archive:
  pulumi plugin install resource random v$RANDOM_VERSION --file pulumi-resource-random-v$RANDOM_VERSION-linux-amd64.tar.gz
(archives: https://github.com/pulumi/pulumi-random/releases), then run this script again.
Nothing was started; nothing to clean up.
EOF
    exit 3
  fi
fi

# -- 4. a scratch folder, the emulator, and clean-up on every exit ---------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/batchip-demo.XXXXXX")"
EMU_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$EMU_PID" ] && kill -0 "$EMU_PID" 2>/dev/null; then
    kill -TERM "$EMU_PID" 2>/dev/null || true
    local _
    for _ in $(seq 1 50); do
      kill -0 "$EMU_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
    echo "==> emulator stopped"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$PY" -m pulumi_batchip.emulator --port 0 >"$WORK/emulator.out" 2>"$WORK/emulator.log" &
EMU_PID=$!
URL=""
for _ in $(seq 1 150); do
  URL="$(head -n 1 "$WORK/emulator.out" 2>/dev/null || true)"
  case "$URL" in http://*) break ;; esac
  URL=""
  if ! kill -0 "$EMU_PID" 2>/dev/null; then
    echo "error: the emulator exited at start:" >&2
    cat "$WORK/emulator.log" >&2
    exit 1
  fi
  sleep 0.2
done
if [ -z "$URL" ]; then
  echo "error: the emulator printed no URL within 30 s:" >&2
  cat "$WORK/emulator.log" >&2
  exit 1
fi
say "emulator: $URL (pid $EMU_PID)"

emulator_holds() {
  "$PY" - "$URL" "$1" <<'EOF'
import json, sys, urllib.request
url, when = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(url + "/_emulator/state", timeout=10) as response:
    state = json.load(response)
secondary = sum(
    len(ips) for vm in state["bcc"]["instances"].values() for ips in vm["secondary"].values()
)
eips = len(state["eip"]["publicips"])
print(f"==> emulator {when}: {secondary} secondary IPs, {eips} EIPs")
if when == "after destroy" and (secondary or eips):
    sys.exit("error: destroy left resources behind in the emulator")
EOF
}

# -- 5. Pulumi: the project and the Python it runs ------------------------------------
# Pulumi.yaml sets no virtualenv: Pulumi runs the `python3` first on PATH (or
# $PULUMI_PYTHON_CMD), for the program and for the dynamic provider alike.
mkdir -p "$WORK/bin" "$WORK/state" "$WORK/quickstart"
for name in python3 python; do
  printf '#!/bin/sh\nexec "%s" "$@"\n' "$PY" >"$WORK/bin/$name"
  chmod +x "$WORK/bin/$name"
done
export PATH="$WORK/bin:$PATH"
export PULUMI_PYTHON_CMD="$WORK/bin/python3"
export PULUMI_BACKEND_URL="file://$WORK/state"
export PULUMI_CONFIG_PASSPHRASE=""
unset PULUMI_CONFIG_PASSPHRASE_FILE
export PULUMI_SKIP_UPDATE_CHECK=true

cp "$QUICKSTART/Pulumi.yaml" "$QUICKSTART/__main__.py" "$WORK/quickstart/"
cd "$WORK/quickstart"

pulumi_() { "$PULUMI" "$@" --non-interactive; }

say "pulumi stack init $STACK (file backend in $WORK/state)"
pulumi_ stack init "$STACK"
pulumi_ config set baiducloud:accessKey "$BCE_AK"
pulumi_ config set --secret baiducloud:secretKey "$BCE_SK"
pulumi_ config set baiducloud:region bj
pulumi_ config set batchip:bccEndpoint "$URL"
pulumi_ config set huaweicloud:accessKey "$HW_AK"
pulumi_ config set --secret huaweicloud:secretKey "$HW_SK"
pulumi_ config set huaweicloud:region cn-north-4
pulumi_ config set huaweicloud:projectId "$HW_PROJECT_ID"
pulumi_ config set batchip:eipEndpoint "$URL"

say "pulumi up --yes"
pulumi_ up --yes
emulator_holds "after up"

say "pulumi stack output"
pulumi_ stack output

say "pulumi destroy --yes"
pulumi_ destroy --yes
emulator_holds "after destroy"

say "pulumi stack rm --yes $STACK"
pulumi_ stack rm --yes "$STACK"

say "done"
