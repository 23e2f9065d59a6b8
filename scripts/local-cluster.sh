#!/usr/bin/env bash
# A single-node Kubernetes cluster on this machine, built from source, shaped
# like minikube with its Docker driver: one node whose Docker Engine builds
# the images the kubelet runs (`imagePullPolicy: Never` works as after
# `eval $(minikube docker-env)`).
#
#   scripts/local-cluster.sh build     build (or reuse) the binaries: cluster/build.sh
#   scripts/local-cluster.sh up        start the cluster (builds first if needed); waits for node and DNS Ready
#   scripts/local-cluster.sh env       the export lines for this shell: eval "$(scripts/local-cluster.sh env)"
#   scripts/local-cluster.sh status    what runs
#   scripts/local-cluster.sh down      stop every process it started and remove the cluster's data
#
# What runs, each a process of this machine (logs and PIDs in the state folder):
#   etcd, kube-apiserver (default admission plugins, PodSecurity among them;
#   Node,RBAC authorization), kube-controller-manager, kube-scheduler,
#   containerd (the CRI runtime, with runc and the bridge/portmap CNI plugins),
#   dockerd (the node's Docker Engine, its images in containerd's k8s.io
#   namespace, which is where the kubelet's images are), kubelet, kube-proxy
#   (iptables), the hostpath provisioner (default StorageClass "standard"),
#   and CoreDNS as a Deployment in kube-system (Service kube-dns).
# Certificates and kubeconfigs come from `kubeadm init phase certs/kubeconfig`.
#
# Runs as root on Linux (it starts a container runtime and changes iptables).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../cluster/versions.env
. "$repo/cluster/versions.env"

name=todo-local
state="${TODO_CLUSTER_HOME:-${XDG_STATE_HOME:-$HOME/.local/state}/todo-chatbot/cluster}"
run="$state/run"
pki="$state/pki"
apiserver_port=8443
service_cidr=10.96.0.0/16
dns_ip=10.96.0.10
pod_cidr=10.244.0.0/16
node_pod_cidr=10.244.0.0/24
docker_bridge=todo-docker0
docker_bridge_cidr=172.30.0.1/24
cni_bridge=todo-cni0

log() { printf 'local-cluster: %s\n' "$*" >&2; }
fail() {
  printf 'local-cluster: error: %s\n' "$*" >&2
  exit 1
}

set_dir() { "$repo/cluster/build.sh" --print; }

node_ip() {
  ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1
}

# --- processes ----------------------------------------------------------------
# Every component is a child of setsid, its PID in run/NAME.pid, its output in
# logs/NAME.log; `down` stops exactly those PIDs.
components=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd dockerd kubelet kube-proxy hostpath-provisioner kube-router)

pid_of() {
  local f="$run/$1.pid" pid
  [ -s "$f" ] || return 1
  pid="$(cat "$f")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

start() {
  local component="$1"
  shift
  if pid_of "$component" >/dev/null; then
    log "$component already runs (pid $(pid_of "$component"))"
    return
  fi
  mkdir -p "$state/logs" "$run"
  setsid "$@" >>"$state/logs/$component.log" 2>&1 </dev/null &
  echo $! >"$run/$component.pid"
  log "started $component (pid $!)"
}

# wait_for WHAT SECONDS COMMAND...: polls COMMAND until it succeeds; on timeout
# prints the tail of the component's log.
wait_for() {
  local what="$1" timeout="$2" component="$3" deadline
  shift 3
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! pid_of "$component" >/dev/null; then
      tail -n 40 "$state/logs/$component.log" >&2 || true
      fail "$component exited before $what (log above: $state/logs/$component.log)"
    fi
    if ((SECONDS > deadline)); then
      tail -n 40 "$state/logs/$component.log" >&2 || true
      fail "$what: not within ${timeout}s (log above: $state/logs/$component.log)"
    fi
    sleep 0.5
  done
}

stop_pid() {
  local component="$1" pid i
  pid="$(pid_of "$component")" || {
    rm -f "$run/$component.pid"
    return 0
  }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$component (pid $pid) did not stop in 10 s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$run/$component.pid"
  log "stopped $component (pid $pid)"
}

# --- prerequisites ---------------------------------------------------------------
need_packages() {
  local missing=()
  command -v iptables >/dev/null 2>&1 || missing+=(iptables)
  command -v conntrack >/dev/null 2>&1 || missing+=(conntrack)
  command -v ipset >/dev/null 2>&1 || missing+=(ipset)
  command -v jq >/dev/null 2>&1 || missing+=(jq)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
  [ -e /usr/include/seccomp.h ] || missing+=(libseccomp-dev pkg-config)
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null 2>&1 || fail "missing ${missing[*]}: install them and run again"
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

preflight() {
  [ "$(uname -s)" = Linux ] || fail "the local cluster runs on Linux only"
  [ "$(id -u)" -eq 0 ] || fail "run it as root: it starts a container runtime and changes iptables"
  [ -n "$(node_ip)" ] || fail "no IPv4 default route: the node needs an address (ip -4 route get 1.1.1.1 found none)"
  # Ports of a half-started cluster of ours are fine: `up` resumes it.
  pid_of kube-apiserver >/dev/null || pid_of etcd >/dev/null && return 0
  for port in 2379 2380 $apiserver_port 10250 10257 10259; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      fail "port $port is taken on this machine (another cluster?): $(ss -ltnp "sport = :$port" 2>/dev/null | tail -n +2 | head -1)"
    fi
  done
}

# --- configuration ---------------------------------------------------------------
# put FILE: stdin into FILE, only when it differs (kube-proxy exits when its
# configuration file changes, so a repeated `up` must leave it alone).
put() {
  cat >"$1.new"
  if cmp -s "$1.new" "$1"; then rm -f "$1.new"; else mv "$1.new" "$1"; fi
}

write_config() {
  local ip="$1" bin="$2" restrict_oom=false
  # CAP_SYS_RESOURCE is bit 24 of the effective capability set.
  (( (0x$(sed -n 's/^CapEff:\s*//p' /proc/self/status) >> 24) & 1 )) || restrict_oom=true
  mkdir -p "$state"/{etc,cni/net.d,cni/ipam,kubelet,volumes,docker,containerd} "$run" "$pki"

  put "$state/etc/kubeadm.yaml" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: { advertiseAddress: "$ip", bindPort: $apiserver_port }
nodeRegistration: { name: $name, criSocket: "unix://$run/containerd.sock" }
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: $name
kubernetesVersion: $KUBERNETES_VERSION
certificatesDir: "$pki"
controlPlaneEndpoint: "$ip:$apiserver_port"
networking: { serviceSubnet: "$service_cidr", podSubnet: "$pod_cidr", dnsDomain: cluster.local }
apiServer: { certSANs: ["127.0.0.1", "localhost", "$ip", "$name"] }
etcd: { local: { dataDir: "$state/etcd" } }
EOF

  put "$state/etc/containerd.toml" <<EOF
version = 3
root = "$state/containerd/root"
state = "$run/containerd"
[grpc]
  address = "$run/containerd.sock"
[plugins."io.containerd.cri.v1.runtime"]
  # Without CAP_SYS_RESOURCE (these sandboxed machines drop it, even for root)
  # no process may lower its oom_score_adj, and the kubelet asks for -998 for
  # every pod sandbox: clamp to containerd's own value instead of failing.
  restrict_oom_score_adj = $restrict_oom
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "$bin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["$bin"]
    conf_dir = "$state/cni/net.d"
[plugins."io.containerd.cri.v1.images"]
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "registry.k8s.io/pause:$PAUSE_VERSION"
EOF

  # The node's Docker Engine keeps its images in the runtime's containerd,
  # namespace k8s.io, where the kubelet's CRI looks for them.
  put "$state/etc/docker.json" <<EOF
{
  "features": { "containerd-snapshotter": true },
  "data-root": "$state/docker",
  "exec-root": "$run/docker",
  "pidfile": "$run/docker/dockerd.pid",
  "hosts": ["unix://$run/docker.sock"],
  "containerd": "$run/containerd.sock",
  "containerd-namespace": "k8s.io",
  "containerd-plugins-namespace": "k8s.io-plugins",
  "bridge": "$docker_bridge",
  "userland-proxy": false,
  "ip-forward-no-drop": true,
  "exec-opts": ["native.cgroupdriver=cgroupfs"]
}
EOF

  put "$state/cni/net.d/10-$name.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$name",
  "plugins": [
    {
      "type": "bridge", "bridge": "$cni_bridge", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$node_pod_cidr" }]], "routes": [{ "dst": "0.0.0.0/0" }], "dataDir": "$state/cni/ipam" }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF

  put "$state/etc/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: "$pki/ca.crt" }
authorization: { mode: Webhook }
# These machines boot cgroup v1 and PID 1 is not systemd.
cgroupDriver: cgroupfs
containerRuntimeEndpoint: "unix://$run/containerd.sock"
clusterDNS: ["$dns_ip"]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
failSwapOn: false
staticPodPath: ""
# Shared build machines fill their disks: evict only when nearly full.
evictionHard: { memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2% }
imageGCHighThresholdPercent: 98
imageGCLowThresholdPercent: 95
EOF

  put "$state/etc/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: "$state/etc/kube-proxy.conf" }
mode: iptables
clusterCIDR: "$pod_cidr"
hostnameOverride: $name
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the machine's conntrack table size alone.
conntrack: { maxPerCore: 0 }
EOF
}

certs() {
  local bin="$1"
  [ -s "$pki/ca.crt" ] && return 0
  log "certificates and kubeconfigs (kubeadm init phase certs/kubeconfig)"
  "$bin/kubeadm" init phase certs all --config "$state/etc/kubeadm.yaml" >>"$state/logs/kubeadm.log" 2>&1 ||
    fail "kubeadm init phase certs failed: $state/logs/kubeadm.log"
  "$bin/kubeadm" init phase kubeconfig all --config "$state/etc/kubeadm.yaml" --kubeconfig-dir "$state/etc" >>"$state/logs/kubeadm.log" 2>&1 ||
    fail "kubeadm init phase kubeconfig failed: $state/logs/kubeadm.log"
  # Least privilege for the node's other clients: kube-proxy as the user the
  # default RBAC policy binds to system:node-proxier; the provisioner as a user
  # of its own, bound to its ClusterRole below.
  "$bin/kubeadm" kubeconfig user --config "$state/etc/kubeadm.yaml" --client-name system:kube-proxy >"$state/etc/kube-proxy.conf" 2>>"$state/logs/kubeadm.log"
  "$bin/kubeadm" kubeconfig user --config "$state/etc/kubeadm.yaml" --client-name "$name:hostpath-provisioner" >"$state/etc/provisioner.conf" 2>>"$state/logs/kubeadm.log"
  "$bin/kubeadm" kubeconfig user --config "$state/etc/kubeadm.yaml" --client-name "$name:kube-router" >"$state/etc/kube-router.conf" 2>>"$state/logs/kubeadm.log"
  # The user's kubeconfig: the cluster's own file, its one context named $name.
  cp "$state/etc/admin.conf" "$state/kubeconfig"
  chmod 600 "$state/kubeconfig" "$state"/etc/*.conf
  "$bin/kubectl" --kubeconfig "$state/kubeconfig" config rename-context "kubernetes-admin@$name" "$name" >/dev/null
}

# --- images the node needs that no registry here serves --------------------------
# import_binary_image BINARY USER REF: a one-binary image (the binary as its
# entrypoint) in the node's daemon, unless it is there.
import_binary_image() {
  local binary="$1" user="$2" ref="$3" tmp
  docker image inspect "$ref" >/dev/null 2>&1 && return 0
  tmp="$(mktemp -d)"
  cp "$binary" "$tmp/"
  tar -C "$tmp" -c "$(basename "$binary")" |
    docker import -c "ENTRYPOINT [\"/$(basename "$binary")\"]" -c "USER $user" - "$ref" >/dev/null
  rm -rf "$tmp"
  log "imported $ref (built from source)"
}

node_images() {
  local bin="$1"
  export DOCKER_HOST="unix://$run/docker.sock"
  command -v docker >/dev/null 2>&1 || fail "no docker CLI on PATH (Docker CLI 25 or newer): it imports the node's images"
  import_binary_image "$bin/pause" 65535:65535 "registry.k8s.io/pause:$PAUSE_VERSION"
  import_binary_image "$bin/coredns" 65532:65532 "registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
}

addons() {
  local bin="$1"
  sed -e "s|@DNS_IP@|$dns_ip|g" -e "s|@COREDNS_IMAGE@|registry.k8s.io/coredns/coredns:$COREDNS_VERSION|g" \
    -e "s|@PROVISIONER_USER@|$name:hostpath-provisioner|g" -e "s|@KUBE_ROUTER_USER@|$name:kube-router|g" "$repo/cluster/addons.yaml" |
    "$bin/kubectl" --kubeconfig "$state/kubeconfig" apply --server-side --force-conflicts -f - >>"$state/logs/addons.log" 2>&1 ||
    fail "applying cluster/addons.yaml failed: $state/logs/addons.log"
}

# --- commands ------------------------------------------------------------------
cmd_build() {
  need_packages
  "$repo/cluster/build.sh" >/dev/null
}

cmd_up() {
  preflight
  need_packages
  local set bin ip t0
  t0=$SECONDS
  set="$("$repo/cluster/build.sh")"
  bin="$set/bin"
  ip="$(node_ip)"
  mkdir -p "$state/logs"
  echo "$set" >"$state/set"
  write_config "$ip" "$bin"
  certs "$bin"
  local kc="$state/kubeconfig"
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 >/dev/null

  start etcd "$bin/etcd" --name "$name" --data-dir "$state/etcd" \
    --listen-client-urls https://127.0.0.1:2379 --advertise-client-urls https://127.0.0.1:2379 \
    --listen-peer-urls https://127.0.0.1:2380 --initial-advertise-peer-urls https://127.0.0.1:2380 \
    --initial-cluster "$name=https://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381 \
    --cert-file "$pki/etcd/server.crt" --key-file "$pki/etcd/server.key" --client-cert-auth --trusted-ca-file "$pki/etcd/ca.crt" \
    --peer-cert-file "$pki/etcd/peer.crt" --peer-key-file "$pki/etcd/peer.key" --peer-client-cert-auth --peer-trusted-ca-file "$pki/etcd/ca.crt"
  wait_for "etcd healthy" 60 etcd curl -fsS http://127.0.0.1:2381/health

  start kube-apiserver "$bin/kube-apiserver" --advertise-address "$ip" --secure-port "$apiserver_port" \
    --etcd-servers https://127.0.0.1:2379 --etcd-cafile "$pki/etcd/ca.crt" \
    --etcd-certfile "$pki/apiserver-etcd-client.crt" --etcd-keyfile "$pki/apiserver-etcd-client.key" \
    --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range "$service_cidr" --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --requestheader-client-ca-file "$pki/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key"
  wait_for "kube-apiserver ready" 120 kube-apiserver "$bin/kubectl" --kubeconfig "$kc" get --raw /readyz
  # As `kubeadm init` does: admin.conf's group gets cluster-admin, granted
  # once with super-admin.conf (system:masters), which is used for nothing else.
  "$bin/kubectl" --kubeconfig "$state/etc/super-admin.conf" create clusterrolebinding kubeadm:cluster-admins \
    --clusterrole cluster-admin --group kubeadm:cluster-admins --dry-run=client -o yaml |
    "$bin/kubectl" --kubeconfig "$state/etc/super-admin.conf" apply --server-side -f - >>"$state/logs/addons.log" 2>&1 ||
    fail "could not grant kubeadm:cluster-admins cluster-admin: $state/logs/addons.log"

  start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$state/etc/controller-manager.conf" \
    --authentication-kubeconfig "$state/etc/controller-manager.conf" --authorization-kubeconfig "$state/etc/controller-manager.conf" \
    --bind-address 127.0.0.1 --client-ca-file "$pki/ca.crt" --requestheader-client-ca-file "$pki/front-proxy-ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" --root-ca-file "$pki/ca.crt" \
    --service-account-private-key-file "$pki/sa.key" --use-service-account-credentials \
    --allocate-node-cidrs --cluster-cidr "$pod_cidr" --node-cidr-mask-size 24 --service-cluster-ip-range "$service_cidr" \
    --cluster-name "$name" --leader-elect=false
  start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$state/etc/scheduler.conf" \
    --authentication-kubeconfig "$state/etc/scheduler.conf" --authorization-kubeconfig "$state/etc/scheduler.conf" \
    --bind-address 127.0.0.1 --leader-elect=false

  start containerd env PATH="$bin:$PATH" "$bin/containerd" --config "$state/etc/containerd.toml"
  wait_for "containerd serving" 60 containerd "$bin/ctr" --address "$run/containerd.sock" version

  if ! ip link show "$docker_bridge" >/dev/null 2>&1; then
    ip link add "$docker_bridge" type bridge
    ip addr add "$docker_bridge_cidr" dev "$docker_bridge"
    ip link set "$docker_bridge" up
  fi
  start dockerd env PATH="$bin:$PATH" "$bin/dockerd" --config-file "$state/etc/docker.json"
  wait_for "dockerd serving" 60 dockerd env DOCKER_HOST="unix://$run/docker.sock" docker version
  node_images "$bin"

  start kubelet "$bin/kubelet" --config "$state/etc/kubelet.yaml" --kubeconfig "$state/etc/kubelet.conf" \
    --root-dir "$state/kubelet" --cert-dir "$state/kubelet/pki" --node-ip "$ip" --hostname-override "$name"
  start kube-proxy env PATH="$bin:$PATH" "$bin/kube-proxy" --config "$state/etc/kube-proxy.yaml"
  start hostpath-provisioner "$bin/hostpath-provisioner" -kubeconfig "$state/etc/provisioner.conf" \
    -root "$state/volumes" -node "$name"

  wait_for "node $name registered" 120 kubelet "$bin/kubectl" --kubeconfig "$kc" get node "$name"
  addons "$bin"
  # NetworkPolicies, enforced with iptables and ipsets on the pods' traffic
  # (bridged traffic passes iptables: bridge-nf-call-iptables above).
  start kube-router env PATH="$bin:$PATH" "$bin/kube-router" --kubeconfig "$state/etc/kube-router.conf" \
    --run-firewall=true --run-router=false --run-service-proxy=false --hostname-override "$name" \
    --health-port 20244 --metrics-port 0
  wait_for "node $name Ready" 180 kubelet "$bin/kubectl" --kubeconfig "$kc" wait --for=condition=Ready "node/$name" --timeout=5s
  local ready_at=$((SECONDS - t0))
  wait_for "CoreDNS rolled out" 180 kubelet "$bin/kubectl" --kubeconfig "$kc" -n kube-system rollout status deployment/coredns --timeout=5s
  echo "$ready_at" >"$state/node-ready-seconds"
  log "node $name Ready $ready_at s after start; CoreDNS ready after $((SECONDS - t0)) s"
  log "use it: eval \"\$(scripts/local-cluster.sh env)\" && kubectl get nodes"
}

cmd_env() {
  local set
  [ -s "$state/set" ] || fail "no local cluster: scripts/local-cluster.sh up"
  set="$(cat "$state/set")"
  mkdir -p "$state/path"
  ln -sf "$set/bin/kubectl" "$state/path/kubectl"
  cat <<EOF
export KUBECONFIG="$state/kubeconfig"
export TODO_CLUSTER_CONTEXT="$name"
export TODO_CLUSTER_HOME="$state"
export DOCKER_HOST="unix://$run/docker.sock"
unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT
export PATH="$state/path:\$PATH"
# To point your shell to the local cluster (context $name), run:
# eval "\$(scripts/local-cluster.sh env)"
EOF
}

cmd_status() {
  local c pid any=0
  for c in "${components[@]}"; do
    if pid="$(pid_of "$c")"; then
      printf '%-24s running (pid %s)\n' "$c" "$pid"
      any=1
    else
      printf '%-24s stopped\n' "$c"
    fi
  done
  if ((any)) && [ -s "$state/set" ]; then
    "$(cat "$state/set")/bin/kubectl" --kubeconfig "$state/kubeconfig" get nodes -o wide 2>&1 || true
  fi
}

# Kills what the runtime left behind once its daemons are gone: container
# shims (they outlive containerd by design) and any process still in a pod's
# cgroup.
kill_leftovers() {
  local pids p
  pids="$(grep -lsa -- "$run/containerd.sock" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 || true)"
  for d in /sys/fs/cgroup/*/kubepods; do
    [ -d "$d" ] && pids+=" $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null || true)"
  done
  for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
  sleep 0.5
  for d in /sys/fs/cgroup/*/kubepods; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

cmd_down() {
  local set="" c
  [ -s "$state/set" ] && set="$(cat "$state/set")"
  # The kubelet first, so it does not restart what the runtime stops.
  for c in kube-router hostpath-provisioner kubelet kube-proxy dockerd; do stop_pid "$c"; done
  if [ -n "$set" ] && [ -S "$run/containerd.sock" ]; then
    # Stop the pods' containers through the runtime while it still runs.
    for t in $("$set/bin/ctr" --address "$run/containerd.sock" -n k8s.io tasks ls -q 2>/dev/null); do
      "$set/bin/ctr" --address "$run/containerd.sock" -n k8s.io tasks kill -s KILL "$t" >/dev/null 2>&1 || true
    done
  fi
  for c in containerd kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_pid "$c"; done
  kill_leftovers
  if [ -n "$set" ] && [ -x "$set/bin/kube-proxy" ]; then
    "$set/bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
  fi
  if [ -n "$set" ] && [ -x "$set/bin/kube-router" ]; then
    "$set/bin/kube-router" --cleanup-config >/dev/null 2>&1 || true
  fi
  # The kubelet's own chains (KUBE-FIREWALL, canaries), which kube-proxy's
  # cleanup leaves.
  for table in filter nat mangle; do
    iptables -t "$table" -S 2>/dev/null | { grep -E '^-A .*-j KUBE-' || true; } | sed 's/^-A/-D/' | while read -r rule; do
      eval "iptables -t $table $rule" 2>/dev/null || true
    done
    iptables -t "$table" -S 2>/dev/null | sed -n 's/^-N \(KUBE-[^ ]*\)$/\1/p' | while read -r chain; do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
  # kube-router's ipsets, once no rule refers to them.
  ipset list -n 2>/dev/null | { grep -E '^KUBE-' || true; } | while read -r set_name; do ipset destroy "$set_name" 2>/dev/null || true; done
  # Docker's own chains, named for the bridge of this cluster only.
  for table in filter nat; do
    iptables -t "$table" -S 2>/dev/null | { grep -- "$docker_bridge" || true; } | sed 's/^-A/-D/' | while read -r rule; do
      eval "iptables -t $table $rule" 2>/dev/null || true
    done
  done
  for link in "$cni_bridge" "$docker_bridge"; do ip link del "$link" 2>/dev/null || true; done
  if [ -d "$state" ]; then
    findmnt -rn -o TARGET | { grep -F "$state" || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$state"
  fi
  log "down: every process stopped, $state removed"
}

case "${1:-}" in
build) cmd_build ;;
up) cmd_up ;;
env) cmd_env ;;
status) cmd_status ;;
down) cmd_down ;;
*) fail "usage: scripts/local-cluster.sh build | up | env | status | down" ;;
esac
