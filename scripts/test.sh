#!/usr/bin/env bash
# The one command that runs every test on a fresh clone: it installs what is
# missing (npm dependencies of the program, both apps and the e2e harness, and
# Debian's Chromium for the browser tests), builds or reuses the local
# Kubernetes cluster's binaries (cluster/build.sh, cached outside the
# repository), then runs the unit/integration tests and the end-to-end run on
# that cluster (it starts the cluster and stops it at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "error: missing ${need_apt[*]}; install it (Debian: sudo apt-get install -y ${need_apt[*]}) and run again" >&2
    exit 1
  fi
fi

log "npm ci (Pulumi program)"
npm ci --no-audit --no-fund
log "npm ci (app/backend, app/frontend)"
npm run setup:apps

log "npm test"
npm test

log "local cluster binaries (built from source once, then reused): scripts/local-cluster.sh build"
./scripts/local-cluster.sh build

log "npm run test:e2e"
npm run test:e2e
