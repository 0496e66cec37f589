#!/usr/bin/env bash
# Makes sure a working Pulumi toolchain exists and prints, as its LAST stdout line, one
# absolute directory to put first on PATH. That directory holds `pulumi`,
# `pulumi-language-python` (+ its `pulumi-language-python-exec` shim),
# `pulumi-resource-pulumi-python`, the launcher the engine starts for Python dynamic
# resources such as ours, `pulumi-language-yaml`, the host of Pulumi YAML programs
# (examples/yaml-edge), and `pulumi-language-go` and `pulumi-language-nodejs`, our
# hosts of Go and Node.js programs, which also serve `pulumi package gen-sdk`.
#
#   export PATH="$(bash scripts/pulumi-cli.sh | tail -n 1):$PATH"
#
# Routes, first that works wins:
#   1. a `pulumi` already on PATH (with a Python language host beside it or on PATH; a
#      missing YAML host is only reported: Python programs work without it, and the
#      YAML tests skip, or fail under BATCHIP_E2E_REQUIRED=1, naming it);
#   2. the per-user cache: ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-batchip/pulumi-<version>/bin,
#      shared by every clone on this machine;
#   3. Pulumi's official installer (https://get.pulumi.com), into that cache;
#   4. a build from Go modules (tools/pulumi-cli: the CLI from
#      github.com/pulumi/pulumi/pkg/v3, the Python, Go and Node.js language hosts from
#      our small hosts on github.com/pulumi/pulumi/sdk/v3 and pkg/v3's code generators;
#      tools/pulumi-yaml: the YAML language host from
#      github.com/pulumi/pulumi-yaml, a module of its own so that its older Pulumi
#      requirements never move the CLI's), into that cache.
# Progress and the time of each step go to stderr. Exit status 0 with the directory as
# the last stdout line; 1 with a message naming what failed when no route works.
#
# Environment:
#   BATCHIP_PULUMI_ROUTES   routes to try, in order (default: path cache installer build)
#   PULUMI_INSTALL_URL      the official installer (default: https://get.pulumi.com)
#   XDG_CACHE_HOME          the cache's parent (default: ~/.cache)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/tools/pulumi-cli"
YAML_TOOLS="$ROOT/tools/pulumi-yaml"
# The one pinned Pulumi version: the pkg/v3 module in tools/pulumi-cli/go.mod. The dev
# extra pins the Python SDK to the same version (a test checks they agree).
VERSION="$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2; exit }' "$TOOLS/go.mod")"
[ -n "$VERSION" ] || { echo "pulumi-cli: no github.com/pulumi/pulumi/pkg/v3 version in $TOOLS/go.mod" >&2; exit 1; }
YAML_VERSION="$(awk '{ sub(/^require[ \t]+/, "") } $1 == "github.com/pulumi/pulumi-yaml" { print $2; exit }' "$YAML_TOOLS/go.mod")"
[ -n "$YAML_VERSION" ] || { echo "pulumi-cli: no github.com/pulumi/pulumi-yaml version in $YAML_TOOLS/go.mod" >&2; exit 1; }
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-batchip/pulumi-$VERSION"
BIN="$CACHE/bin"
INSTALL_URL="${PULUMI_INSTALL_URL:-https://get.pulumi.com}"
ROUTES="${BATCHIP_PULUMI_ROUTES:-path cache installer build}"
NEEDED="pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python pulumi-language-yaml pulumi-language-go pulumi-language-nodejs"

log() { printf 'pulumi-cli: %s\n' "$*" >&2; }
STEP_START=0
step() { STEP_START=$SECONDS; log "$*"; }
step_done() { log "  done in $((SECONDS - STEP_START)) s"; }

# The sources of our part of the build: a cache built from other sources is rebuilt.
source_id() {
  {
    (cd "$TOOLS" && cat go.mod go.sum $(find . -name '*.go' -type f | LC_ALL=C sort))
    (cd "$YAML_TOOLS" && cat go.mod go.sum tools.go)
  } | sha256sum | cut -c1-16
}

complete_dir() {  # all of NEEDED in $1, executable, and `pulumi version` answers
  local dir="$1" name
  for name in $NEEDED; do [ -x "$dir/$name" ] || return 1; done
  "$dir/pulumi" version >/dev/null 2>&1
}

route_path() {
  local found dir
  found="$(command -v pulumi 2>/dev/null)" || { log "no pulumi on PATH"; return 1; }
  dir="$(cd "$(dirname "$found")" && pwd)"
  if [ -x "$dir/pulumi-language-python" ] || command -v pulumi-language-python >/dev/null 2>&1; then
    log "using the pulumi on PATH: $found ($("$found" version 2>/dev/null || echo '?'))"
    if ! [ -x "$dir/pulumi-language-yaml" ] && ! command -v pulumi-language-yaml >/dev/null 2>&1; then
      log "  note: no pulumi-language-yaml beside it or on PATH: Pulumi YAML programs (examples/yaml-edge) cannot run with it"
    fi
    echo "$dir"
    return 0
  fi
  log "the pulumi on PATH ($found) has no pulumi-language-python beside it or on PATH: not using it"
  return 1
}

route_cache() {
  if complete_dir "$BIN" && [ "$(cat "$CACHE/source-id" 2>/dev/null)" = "$(source_id)" ]; then
    log "using the cached toolchain $BIN ($("$BIN/pulumi" version))"
    echo "$BIN"
    return 0
  fi
  log "no complete cached toolchain for $VERSION in $CACHE"
  return 1
}

route_installer() {
  command -v curl >/dev/null 2>&1 || { log "no curl for Pulumi's installer"; return 1; }
  step "trying Pulumi's official installer ($INSTALL_URL)"
  local tmp
  tmp="$(mktemp -d)"
  if ! curl -fsSL --connect-timeout 10 --max-time 60 -o "$tmp/install.sh" "$INSTALL_URL" 2>"$tmp/err"; then
    log "  cannot reach it: $(tr '\n' ' ' <"$tmp/err")"
    rm -rf "$tmp"
    return 1
  fi
  if ! sh "$tmp/install.sh" --version "${VERSION#v}" --install-root "$tmp/root" --no-edit-path >&2; then
    log "  the installer failed"
    rm -rf "$tmp"
    return 1
  fi
  mkdir -p "$CACHE"
  rm -rf "$BIN"
  mv "$tmp/root/bin" "$BIN"
  rm -rf "$tmp"
  source_id >"$CACHE/source-id"
  step_done
  complete_dir "$BIN" || { log "  the installer left no complete toolchain in $BIN"; return 1; }
  echo "$BIN"
}

route_build() {
  command -v go >/dev/null 2>&1 || { log "no Go toolchain (go) on PATH to build Pulumi from its modules"; return 1; }
  local staging sdk ldflags
  mkdir -p "$CACHE"
  staging="$(mktemp -d "$CACHE/build.XXXXXX")"
  ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION"
  # Whatever fails below, no half-built folder stays in the cache.
  trap 'rm -rf "$staging"' RETURN
  cd "$TOOLS"
  step "downloading and building pulumi $VERSION (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi; about 10 minutes on a fresh machine, seconds with a warm Go cache)"
  GOFLAGS=-mod=readonly go build -trimpath -ldflags "$ldflags" -o "$staging/pulumi" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi || { log "  building pulumi failed"; return 1; }
  step_done
  step "building pulumi-language-python (tools/pulumi-cli/pulumi-language-python)"
  GOFLAGS=-mod=readonly go build -trimpath -ldflags "$ldflags" -o "$staging/pulumi-language-python" \
    ./pulumi-language-python || { log "  building pulumi-language-python failed"; return 1; }
  step_done
  for lang in go nodejs; do
    step "building pulumi-language-$lang (tools/pulumi-cli/pulumi-language-$lang)"
    GOFLAGS=-mod=readonly go build -trimpath -ldflags "$ldflags" -o "$staging/pulumi-language-$lang" \
      "./pulumi-language-$lang" || { log "  building pulumi-language-$lang failed"; return 1; }
    step_done
  done
  step "downloading and building pulumi-language-yaml $YAML_VERSION (github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml; about 2 minutes on a fresh machine, seconds with a warm Go cache)"
  (cd "$YAML_TOOLS" && GOFLAGS=-mod=readonly go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$YAML_VERSION" \
    -o "$staging/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml) ||
    { log "  building pulumi-language-yaml failed"; return 1; }
  step_done
  # The Python-side shims ship in the sdk/v3 module, next to its toolchain code.
  sdk="$(GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$staging/pulumi-language-python-exec"
  install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$staging/pulumi-resource-pulumi-python"
  rm -rf "$BIN"
  mv "$staging" "$BIN"
  source_id >"$CACHE/source-id"
  complete_dir "$BIN" || { log "  the build left no working toolchain in $BIN"; return 1; }
  log "  pulumi $("$BIN/pulumi" version) built into $BIN"
  echo "$BIN"
}

# One build at a time per cache folder: a second caller waits, then finds the cache.
mkdir -p "$(dirname "$CACHE")"
exec 9>"$CACHE.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

TOTAL_START=$SECONDS
for route in $ROUTES; do
  case "$route" in
    path | cache | installer | build) ;;
    *) log "unknown route '$route' in BATCHIP_PULUMI_ROUTES (path, cache, installer, build)"; exit 1 ;;
  esac
  if dir="$("route_$route")"; then
    log "toolchain ready in $((SECONDS - TOTAL_START)) s (route: $route)"
    echo "$dir"
    exit 0
  fi
done
log "error: no Pulumi toolchain: every route failed ($ROUTES); see the lines above for each."
log "Install the Pulumi CLI (https://www.pulumi.com/docs/install/), or install Go (https://go.dev/dl/)"
log "and run this script again to build Pulumi $VERSION from its Go modules."
exit 1
