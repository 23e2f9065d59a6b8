#!/usr/bin/env bash
# Builds the local cluster's binaries from their Go sources through the module
# proxy, into a cache outside the repository keyed by the pinned versions:
#
#   cluster/build.sh            build what is missing, print the cache folder
#   cluster/build.sh --print    print the cache folder only (built or not)
#
# Each project is built from a small wrapper module that requires it: `go
# install pkg@version` refuses modules with replace directives, and the
# Kubernetes and etcd modules replace their own sub-modules with local paths.
# The wrapper requires those sub-modules at the published version of the same
# release instead. One wrapper per project keeps dependency graphs apart.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/todo-chatbot"
# Each project is cached in a folder of its own named by its pinned version
# (changing one pin rebuilds that project only); bin/ of the set folder, keyed
# by a digest of all pins and of this script, links them together.
provisioner_digest="$(cat $(find "$here/provisioner" -type f | sort) | sha256sum | cut -c1-12)"
digest="$(cat "$here/versions.env" "$here/build.sh" | sha256sum | cut -c1-12)-$provisioner_digest"
out="$cache_root/cluster-$digest"

if [ "${1:-}" = "--print" ]; then
  echo "$out"
  exit 0
fi

log() { printf 'cluster build: %s\n' "$*" >&2; }
fail() {
  printf 'cluster build: error: %s\n' "$*" >&2
  exit 1
}

command -v go >/dev/null 2>&1 || fail "go is not on PATH (expected Go 1.26 at /usr/local/go/bin)"
command -v jq >/dev/null 2>&1 || fail "jq is not installed (Debian: apt-get install -y jq)"

export CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=mod"
work="$cache_root/work"
mkdir -p "$work"

# download MODULE VERSION: the module's go.mod path; stops naming the module if
# the proxy refuses it.
download() {
  local json
  if ! json="$(go mod download -json "$1@$2" 2>&1)" || jq -e '.Error' <<<"$json" >/dev/null 2>&1; then
    fail "the Go module proxy refused $1@$2: $(jq -r '.Error // empty' <<<"$json" 2>/dev/null || echo "$json")"
  fi
  jq -r '.GoMod' <<<"$json"
}

# wrapper NAME MODULE VERSION LOCAL_VERSION: a module in $work/NAME that requires
# MODULE@VERSION, with every local-path replace of MODULE's go.mod turned into a
# require of the published sub-module at LOCAL_VERSION (Kubernetes' staging
# modules are v0.<minor>.<patch>) and other replaces carried over.
wrapper() {
  local name="$1" module="$2" version="$3" localver="$4" gomod dir
  gomod="$(download "$module" "$version")"
  dir="$work/$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  (
    cd "$dir"
    go mod init "todo-chatbot.local/build/$name" >/dev/null 2>&1
    go mod edit -go="$(go mod edit -json "$gomod" | jq -r '.Go')" -require="$module@$version"
    # A local replace of a module the project does not require (etcd's
    # ./FORBIDDEN_DEPENDENCY guards) is left out.
    go mod edit -json "$gomod" | jq -r '[.Require[]?.Path] as $req | .Replace[]? | [.Old.Path, (.Old.Version // ""), .New.Path, (.New.Version // ""), (.Old.Path as $p | $req | index($p) != null)] | map(tostring) | join("|")' |
      while IFS='|' read -r old oldv new newv required; do
        if [[ "$new" == ./* || "$new" == ../* ]]; then
          [ "$required" = true ] && go mod edit -replace="$old=$old@$localver"
        else
          go mod edit -replace="$old${oldv:+@$oldv}=$new${newv:+@$newv}"
        fi
      done
  )
  echo "$dir"
}

# build NAME VERSION DIR LDFLAGS PACKAGE...: one `go build` for the packages
# (shared packages compile once) into $cache_root/NAME-VERSION/bin, timed.
build() {
  local name="$1" version="$2" dir="$3" ldflags="$4" start dest
  shift 4
  dest="$cache_root/$name-$version/bin"
  start=$SECONDS
  log "building $name $version: $*"
  rm -rf "$dest.tmp"
  (cd "$dir" && go build -trimpath -pgo=off ${BUILD_TAGS:+-tags "$BUILD_TAGS"} -ldflags "-s -w $ldflags" -o "$dest.tmp/" "$@") ||
    fail "go build of $name $version failed (see above)"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  ls "$dest" | while read -r b; do
    printf 'cluster build: built %-26s %5ss  (%s %s)\n' "$b" "$((SECONDS - start))" "$name" "$version" >&2
  done
  echo "$name $version $((SECONDS - start))" >>"$cache_root/build-times"
}

# have NAME VERSION BINARY...: the cached build is complete.
have() {
  local name="$1" version="$2" b
  shift 2
  for b in "$@"; do [ -x "$cache_root/$name-$version/bin/$b" ] || return 1; done
}

total=$SECONDS

# --- Kubernetes ----------------------------------------------------------------
if ! have kubernetes "$KUBERNETES_VERSION" kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kubeadm; then
  kminor="$(cut -d. -f2 <<<"$KUBERNETES_VERSION")"
  kstaging="v0.${KUBERNETES_VERSION#v1.}"
  dir="$(wrapper kubernetes k8s.io/kubernetes "$KUBERNETES_VERSION" "$kstaging")"
  # Without the version stamps the server says v0.0.0-master, which clients
  # (the Pulumi kubernetes provider among them) refuse.
  kflags=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    kflags+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$kminor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  build kubernetes "$KUBERNETES_VERSION" "$dir" "$kflags" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy \
    k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubeadm
fi

# --- etcd ----------------------------------------------------------------------
if ! have etcd "$ETCD_VERSION" etcd; then
  dir="$(wrapper etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$ETCD_VERSION")"
  # The main package is the module root, which go build would name "v3".
  mkdir -p "$dir/cmd/etcd"
  cat >"$dir/cmd/etcd/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  build etcd "$ETCD_VERSION" "$dir" "" ./cmd/etcd
fi

# --- the node's runtime: runc, containerd, the Docker Engine, buildx -------------
if ! have runc "$RUNC_VERSION" runc; then
  # runc needs cgo and libseccomp for the RuntimeDefault seccomp profile that
  # the restricted Pod Security profile requires.
  [ -e /usr/include/seccomp.h ] || fail "libseccomp-dev is not installed (Debian: apt-get install -y libseccomp-dev pkg-config)"
  dir="$(wrapper runc github.com/opencontainers/runc "$RUNC_VERSION" "$RUNC_VERSION")"
  CGO_ENABLED=1 BUILD_TAGS=seccomp build runc "$RUNC_VERSION" "$dir" "-X main.version=${RUNC_VERSION#v}" github.com/opencontainers/runc
fi
if ! have containerd "$CONTAINERD_VERSION" containerd containerd-shim-runc-v2 ctr; then
  dir="$(wrapper containerd github.com/containerd/containerd/v2 "$CONTAINERD_VERSION" "$CONTAINERD_VERSION")"
  BUILD_TAGS="no_btrfs no_devmapper no_zfs" build containerd "$CONTAINERD_VERSION" "$dir" \
    "-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
    github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
    github.com/containerd/containerd/v2/cmd/ctr
fi
if ! have moby "$MOBY_VERSION" dockerd; then
  dir="$(wrapper moby github.com/moby/moby/v2 "$MOBY_VERSION" "$MOBY_VERSION")"
  BUILD_TAGS="exclude_graphdriver_btrfs exclude_graphdriver_devicemapper exclude_disk_quota" build moby "$MOBY_VERSION" "$dir" \
    "-X github.com/moby/moby/v2/dockerversion.Version=$MOBY_VERSION" github.com/moby/moby/v2/cmd/dockerd
fi
if ! have buildx "$BUILDX_VERSION" buildx; then
  dir="$(wrapper buildx github.com/docker/buildx "$BUILDX_VERSION" "$BUILDX_VERSION")"
  build buildx "$BUILDX_VERSION" "$dir" "-X github.com/docker/buildx/version.Version=$BUILDX_VERSION" github.com/docker/buildx/cmd/buildx
fi

# --- networking and DNS ---------------------------------------------------------
if ! have cni-plugins "$CNI_PLUGINS_VERSION" bridge host-local loopback portmap; then
  dir="$(wrapper cni-plugins github.com/containernetworking/plugins "$CNI_PLUGINS_VERSION" "$CNI_PLUGINS_VERSION")"
  p=github.com/containernetworking/plugins/plugins
  build cni-plugins "$CNI_PLUGINS_VERSION" "$dir" "" $p/main/bridge $p/ipam/host-local $p/main/loopback $p/meta/portmap
fi
if ! have coredns "$COREDNS_VERSION" coredns; then
  dir="$(wrapper coredns github.com/coredns/coredns "$COREDNS_VERSION" "$COREDNS_VERSION")"
  build coredns "$COREDNS_VERSION" "$dir" "" github.com/coredns/coredns
fi

if ! have kube-router "$KUBE_ROUTER_VERSION" kube-router; then
  dir="$(wrapper kube-router github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION" "$KUBE_ROUTER_VERSION")"
  build kube-router "$KUBE_ROUTER_VERSION" "$dir" "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
fi

# --- the pause image's binary, from the Kubernetes source ---------------------
if ! have pause "$PAUSE_VERSION" pause; then
  src="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | jq -r .Dir)/build/pause/linux/pause.c"
  start=$SECONDS
  mkdir -p "$cache_root/pause-$PAUSE_VERSION/bin"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION" -o "$cache_root/pause-$PAUSE_VERSION/bin/pause" "$src" ||
    fail "gcc could not build $src (needs gcc and libc6-dev)"
  printf 'cluster build: built %-28s %4ss  (%s)\n' pause "$((SECONDS - start))" "kubernetes build/pause" >&2
  echo "pause $PAUSE_VERSION $((SECONDS - start))" >>"$cache_root/build-times"
fi

# --- the hostpath provisioner (cluster/provisioner, this repository) ------------
if ! have provisioner "$provisioner_digest" hostpath-provisioner; then
  GOFLAGS="-buildvcs=false -mod=readonly" build provisioner "$provisioner_digest" "$here/provisioner" "" ./
  mv "$cache_root/provisioner-$provisioner_digest/bin/provisioner" "$cache_root/provisioner-$provisioner_digest/bin/hostpath-provisioner"
fi

# --- the set: one bin/ for PATH ---------------------------------------------------
rm -rf "$out.tmp" && mkdir -p "$out.tmp/bin"
for d in kubernetes-$KUBERNETES_VERSION etcd-$ETCD_VERSION runc-$RUNC_VERSION containerd-$CONTAINERD_VERSION moby-$MOBY_VERSION \
  buildx-$BUILDX_VERSION cni-plugins-$CNI_PLUGINS_VERSION coredns-$COREDNS_VERSION kube-router-$KUBE_ROUTER_VERSION \
  pause-$PAUSE_VERSION provisioner-$provisioner_digest; do
  for b in "$cache_root/$d/bin/"*; do ln -s "$b" "$out.tmp/bin/"; done
done
cp "$here/versions.env" "$out.tmp/versions.env"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "$out"
log "all binaries in $out/bin ($((SECONDS - total)) s)"
