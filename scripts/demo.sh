#!/usr/bin/env bash
# The main job, end to end: examples/quickstart deployed with a real `pulumi up`
# against the local emulator, the state checked to hold no credential in plain text
# (all four are set as secrets), the stack's outputs and the nginx file it writes
# shown, `pulumi destroy`, the emulator checked empty (and the nginx file gone), the
# stack removed, the emulator stopped. Nothing is left running, and the repository is
# not written to except .venv-demo/: the stack lives in a temporary copy of the
# project, its state in a temporary file backend and Pulumi's home (logs, plugins,
# credentials) in a temporary PULUMI_HOME, so the user's ~/.pulumi is not touched; all
# of it is removed on every exit.
#
#   bash scripts/demo.sh
#
# The Pulumi toolchain (the CLI, the Python language host, the dynamic-provider
# launcher) comes from scripts/pulumi-cli.sh: a `pulumi` on PATH, the per-user cache,
# Pulumi's installer or a build from Go modules. No plugin is downloaded: the
# quickstart needs none besides those.
#
# Optional environment:
#   PYTHON                  interpreter that creates the venv (default: python3)
#   BATCHIP_DEMO_VENV       the venv (default: <repo>/.venv-demo; reused when present)
#   BATCHIP_DEMO_PYTHON     use this interpreter (a path or a command name) as it is
#                           instead of a venv; it must already hold
#                           examples/quickstart/requirements.txt
#   BATCHIP_DEMO_STACK      the stack name (default: demo)
#   BATCHIP_PULUMI_ROUTES   passed on to scripts/pulumi-cli.sh (which routes it tries)
#
# Exit status: 0 done; 3 no Pulumi toolchain could be had (scripts/pulumi-cli.sh
# failed); 2 BATCHIP_DEMO_PYTHON lacks the requirements; anything else: the failing
# step's status.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUICKSTART="$ROOT/examples/quickstart"
STACK="${BATCHIP_DEMO_STACK:-demo}"
VENV="${BATCHIP_DEMO_VENV:-$ROOT/.venv-demo}"

# The emulator's default credentials and project id (README, "The emulator").
BCE_AK=emulator-bce-ak
BCE_SK=emulator-bce-sk
HW_AK=emulator-hw-ak
HW_SK=emulator-hw-sk
HW_PROJECT_ID=0123456789abcdef0123456789abcdef

say() { printf '==> %s\n' "$*"; }

# -- 0. a scratch folder, and clean-up on every exit -----------------------------------
# Pulumi writes to its home (PULUMI_HOME, default ~/.pulumi) from the first command on,
# even for `pulumi version` (a log in logs/): it gets one of its own, in the scratch
# folder, before any `pulumi` runs (scripts/pulumi-cli.sh runs some too).
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
mkdir -p "$WORK/pulumi-home"
export PULUMI_HOME="$WORK/pulumi-home"

# -- 1. the Pulumi toolchain (before anything is installed or started) -----------------
# scripts/pulumi-cli.sh reports its progress on stderr (passed through) and prints the
# toolchain's directory as its last stdout line.
say "Pulumi toolchain (scripts/pulumi-cli.sh)"
CLI_STATUS=0
CLI_OUT="$(bash "$ROOT/scripts/pulumi-cli.sh" </dev/null)" || CLI_STATUS=$?
PULUMI_DIR="$(printf '%s\n' "$CLI_OUT" | tail -n 1)"
if [ "$CLI_STATUS" -ne 0 ] || [ -z "$PULUMI_DIR" ] || [ ! -x "$PULUMI_DIR/pulumi" ]; then
  cat >&2 <<EOF

error: this demo needs a Pulumi toolchain and scripts/pulumi-cli.sh could not provide
one (exit status $CLI_STATUS; its messages are above). Install the Pulumi CLI
(https://www.pulumi.com/docs/install/), or install Go (https://go.dev/dl/) so that
scripts/pulumi-cli.sh can build it from its Go modules, then run this script again.
Nothing was started; nothing to clean up.
EOF
  exit 3
fi
export PATH="$PULUMI_DIR:$PATH"
PULUMI="$PULUMI_DIR/pulumi"
say "pulumi CLI: $PULUMI ($("$PULUMI" version 2>/dev/null || echo 'version unknown'))"

# -- 2. Python with the package and its emulator ---------------------------------------
if [ -n "${BATCHIP_DEMO_PYTHON:-}" ]; then
  PY="$BATCHIP_DEMO_PYTHON"
  case "$PY" in  # absolute: Pulumi runs it from another folder
    /*) ;;
    */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" ;;
    *) PY="$(command -v "$PY" || echo "$PY")" ;;
  esac
  if ! "$PY" -c 'import pulumi, pulumi_batchip.emulator, werkzeug' 2>/dev/null; then
    echo "error: BATCHIP_DEMO_PYTHON=$PY cannot import pulumi, pulumi_batchip.emulator" \
      "and werkzeug; run: (cd examples/quickstart &&" \
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

# -- 3. the emulator -------------------------------------------------------------------
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

# -- 4. Pulumi: the project, the Python it runs, its state -----------------------------
# Pulumi.yaml sets no virtualenv: Pulumi runs $PULUMI_PYTHON_CMD (or the `python3`
# first on PATH) for the program and for the dynamic provider alike. The shims go
# before the toolchain's directory, which may be one holding another python3.
mkdir -p "$WORK/bin" "$WORK/state" "$WORK/quickstart"
for name in python3 python; do
  printf '#!/bin/sh\nexec "%s" "$@"\n' "$PY" >"$WORK/bin/$name"
  chmod +x "$WORK/bin/$name"
done
export PATH="$WORK/bin:$PATH"
export PULUMI_PYTHON_CMD="$WORK/bin/python3"
export PULUMI_BACKEND_URL="file://$WORK/state"
export PULUMI_CONFIG_PASSPHRASE=""
unset PULUMI_CONFIG_PASSPHRASE_FILE PULUMI_ACCESS_TOKEN
export PULUMI_SKIP_UPDATE_CHECK=true
# Offline: never try to download a plugin (the quickstart needs none).
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

cp "$QUICKSTART/Pulumi.yaml" "$QUICKSTART/__main__.py" "$WORK/quickstart/"
cd "$WORK/quickstart"

pulumi_() { "$PULUMI" "$@" --non-interactive; }

say "pulumi stack init $STACK (file backend in $WORK/state)"
pulumi_ stack init "$STACK"
# Pulumi records the whole stack config as the inputs of the default
# `pulumi:providers:pulumi-python` provider in the state: every credential is set as
# a secret, so the state holds it encrypted, never in plain text.
pulumi_ config set --secret baiducloud:accessKey "$BCE_AK"
pulumi_ config set --secret baiducloud:secretKey "$BCE_SK"
pulumi_ config set baiducloud:region bj
pulumi_ config set batchip:bccEndpoint "$URL"
pulumi_ config set --secret huaweicloud:accessKey "$HW_AK"
pulumi_ config set --secret huaweicloud:secretKey "$HW_SK"
pulumi_ config set huaweicloud:region cn-north-4
pulumi_ config set huaweicloud:projectId "$HW_PROJECT_ID"
pulumi_ config set batchip:eipEndpoint "$URL"

say "pulumi up --yes"
pulumi_ up --yes
emulator_holds "after up"

# What the secrets above are for: the state (as `pulumi stack export` shows it) holds
# no credential in plain text.
pulumi_ stack export | "$PY" -c '
import sys
state = sys.stdin.read()
leaked = [n for n, v in zip(sys.argv[1::2], sys.argv[2::2]) if v in state]
if leaked:
    sys.exit("error: the state holds credentials in plain text: " + ", ".join(leaked))
print("==> the state holds no credential in plain text")
' baiducloud:accessKey "$BCE_AK" baiducloud:secretKey "$BCE_SK" \
  huaweicloud:accessKey "$HW_AK" huaweicloud:secretKey "$HW_SK"

say "pulumi stack output"
pulumi_ stack output

NGINX_CONF="$(pulumi_ stack output nginx_conf)"
say "the nginx file the stack wrote ($NGINX_CONF):"
cat "$NGINX_CONF"

say "pulumi destroy --yes"
pulumi_ destroy --yes
emulator_holds "after destroy"
if [ -e "$NGINX_CONF" ]; then
  echo "error: destroy left the nginx file behind: $NGINX_CONF" >&2
  exit 1
fi
say "nginx file removed"

say "pulumi stack rm --yes $STACK"
pulumi_ stack rm --yes "$STACK"

say "done"
