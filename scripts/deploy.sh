#!/usr/bin/env bash
# Deploys the Todo AI Chatbot with Pulumi, with no Pulumi account needed.
#
#   ./scripts/deploy.sh <stack> [pulumi command [args...]]     (default command: up)
#
#   ./scripts/deploy.sh minikube                  build both images into minikube and deploy
#   ./scripts/deploy.sh minikube up --yes         the same, without the confirmation prompt
#   ./scripts/deploy.sh minikube stack output     show the outputs (how to reach the app)
#   ./scripts/deploy.sh minikube destroy          tear it down
#   ./scripts/deploy.sh dev preview               any pulumi command, against the dev stack
#
# What it sets up before running pulumi:
#   - state in a local backend, .pulumi/state in this repository (unless PULUMI_BACKEND_URL is set);
#   - the passphrase that encrypts the stack's secrets: PULUMI_CONFIG_PASSPHRASE or
#     PULUMI_CONFIG_PASSPHRASE_FILE if you set one, else a random one generated once into
#     .pulumi/passphrase (keep it: the stack's secrets cannot be read without it);
#   - on the minikube stack, minikube's Docker daemon (`minikube docker-env`), so the images
#     are built where the cluster can run them;
#   - the stack, selected or created.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

fail() {
  printf 'deploy: %s\n' "$1" >&2
  exit 1
}
say() { printf 'deploy: %s\n' "$1" >&2; }

[ $# -ge 1 ] || fail "usage: ./scripts/deploy.sh <stack> [pulumi command [args...]]; stacks: $(ls Pulumi.*.yaml | sed 's/^Pulumi\.\(.*\)\.yaml$/\1/' | tr '\n' ' ')"
stack="$1"
shift
[ -f "Pulumi.$stack.yaml" ] || fail "no stack file Pulumi.$stack.yaml; stacks: $(ls Pulumi.*.yaml | sed 's/^Pulumi\.\(.*\)\.yaml$/\1/' | tr '\n' ' ')"
[ $# -ge 1 ] || set -- up
command="$1"

# --- prerequisites -----------------------------------------------------------
command -v node >/dev/null 2>&1 || fail "Node.js is not installed: install Node.js 20 or newer (https://nodejs.org)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || fail "Node.js $(node --version) is too old: this program needs Node.js 20 or newer"
command -v pulumi >/dev/null 2>&1 || fail "the Pulumi CLI is not installed: see https://www.pulumi.com/docs/iac/download-install/ (e.g. curl -fsSL https://get.pulumi.com | sh)"
# Pulumi.yaml declares `type: object` config keys, which older CLIs reject
# with "value must be one of"; a CLI at or above the SDK pin is known to work.
# Keep equal to @pulumi/pulumi in package.json (a test checks it).
min_cli=3.248.0
cli="$(pulumi version 2>/dev/null | tr -d '[:space:]')" || cli=""
cli="${cli#v}"
[ -n "$cli" ] || fail "\`pulumi version\` printed no version: this program needs the Pulumi CLI v$min_cli or newer"
if [ "$(printf '%s\n' "$min_cli" "$cli" | sort -V | head -1)" != "$min_cli" ]; then
  fail "the Pulumi CLI is v$cli; this program needs v$min_cli or newer (Pulumi.yaml declares object config keys, which older CLIs reject): upgrade it (https://www.pulumi.com/docs/iac/download-install/)"
fi

if [ ! -d node_modules/@pulumi/pulumi ]; then
  say "installing the program's dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

# --- state backend and secrets passphrase -------------------------------------
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  mkdir -p .pulumi/state
  export PULUMI_BACKEND_URL="file://$here/.pulumi/state"
fi
if [ -z "${PULUMI_CONFIG_PASSPHRASE+x}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  if [ ! -s .pulumi/passphrase ]; then
    mkdir -p .pulumi
    (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))' > .pulumi/passphrase)
    say "generated a passphrase for this stack's secrets in .pulumi/passphrase (keep it; it is not committed)"
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE="$here/.pulumi/passphrase"
fi

# --- the Docker daemon the images are built in --------------------------------
# Only commands that build images need it. The profile comes from the stack
# file (todo-chatbot:minikubeProfile).
profile="$(sed -n 's/^[[:space:]]*todo-chatbot:minikubeProfile:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "Pulumi.$stack.yaml" | tr -d '"'"'")"
if [ -n "$profile" ] && { [ "$command" = "up" ] || [ "$command" = "update" ] || [ "$command" = "preview" ]; }; then
  command -v minikube >/dev/null 2>&1 || fail "minikube is not installed: see https://minikube.sigs.k8s.io/docs/start/"
  if ! minikube status -p "$profile" >/dev/null 2>&1; then
    fail "minikube profile \"$profile\" is not running: start it with enough memory for PostgreSQL, the backend and two frontends, e.g.
    minikube start -p $profile --memory 4096 --cpus 2"
  fi
  # Every time, even when MINIKUBE_ACTIVE_DOCKERD says it was done: the
  # daemon's address changes when minikube restarts (its port, with the docker
  # driver on macOS and Windows), so an inherited docker-env may be stale.
  say "using minikube's Docker daemon: eval \$(minikube -p $profile docker-env)"
  docker_env="$(minikube -p "$profile" docker-env --shell bash)" ||
    fail "minikube -p $profile docker-env failed (minikube's docker-env needs the docker container runtime)"
  eval "$docker_env"
fi

# --- stack ---------------------------------------------------------------------
pulumi stack select --create --non-interactive "$stack" >/dev/null || fail "could not select or create stack $stack in $PULUMI_BACKEND_URL"

say "pulumi $* (stack $stack, state $PULUMI_BACKEND_URL)"
exec pulumi "$@" --stack "$stack"
