#!/usr/bin/env bash
# explain.sh: show, from the live cluster, how a packet travels between two
# pods on different nodes, one screen per IP family, in plain words.
#
# Usage: ./explain.sh [--capture] [SOURCE_POD [PEER_POD]] [--help]
#
# Reads the nodes' own tables through `docker exec` (kind nodes are Docker
# containers): the VXLAN devices and their local addresses, the route to the
# peer's block, the neighbour and FDB entries that map the peer's tunnel MAC
# to the peer node. --capture also records an IPv6 pod ping on the source
# node's underlay with tcpdump from a throwaway container in the node's
# network namespace (the kind node image has no tcpdump).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PROJECT_DIR=${LAB_PROJECT_DIR:-$SCRIPT_DIR}
# shellcheck source=scripts/lib/common.sh
source "$SCRIPT_DIR/scripts/lib/common.sh"
# shellcheck source=scripts/lib/queries.sh
source "$SCRIPT_DIR/scripts/lib/queries.sh"
# shellcheck source=scripts/lib/external-host.sh
source "$SCRIPT_DIR/scripts/lib/external-host.sh"
lab_init_defaults
lab_use_exported_kubeconfig

LAB_CAPTURE_IMAGE=${LAB_CAPTURE_IMAGE:-$(fact workload.daemonSet.image)}
LAB_CAPTURE_SECONDS=${LAB_CAPTURE_SECONDS:-15}
LAB_CAPTURE_WARMUP=${LAB_CAPTURE_WARMUP:-10}

CAPTURE=false
SOURCE_POD=""
PEER_POD=""
CAPTURE_OUT=""
POD_MTU=""
declare -A NODE_V4=() NODE_V6=() POD_NODE=() POD_V4=() POD_V6=()

usage() {
  cat <<EOF
Usage: ./explain.sh [--capture] [SOURCE_POD [PEER_POD]] [--help]

Explains, from the live lab "${LAB_CLUSTER_NAME}", how IPv4 and IPv6 packets go from
SOURCE_POD to PEER_POD (default: the first ${LAB_POD_SELECTOR} pod, and the first
pod on another node): addresses, VXLAN devices, routes, neighbour and FDB
entries, read from the nodes with docker exec.
  --capture   also capture one IPv6 pod ping on the source node's eth0
              (tcpdump in a throwaway ${LAB_CAPTURE_IMAGE:-multitool} container)

Environment (current value in brackets):
  LAB_KUBECONFIG       kubeconfig of the lab [${LAB_KUBECONFIG}] (default: \$KUBECONFIG, else ./<cluster name>.kubeconfig)
  LAB_NAMESPACE        namespace of the pods [${LAB_NAMESPACE}]
  LAB_POD_SELECTOR     label selector of the pods [${LAB_POD_SELECTOR}]
  LAB_CAPTURE_IMAGE    image with tcpdump for --capture [${LAB_CAPTURE_IMAGE}]
  LAB_CAPTURE_SECONDS  longest a capture may run [${LAB_CAPTURE_SECONDS}]
  LAB_CAPTURE_WARMUP   longest wait for the capture to listen before the ping [${LAB_CAPTURE_WARMUP}]
EOF
}

cleanup() {
  local rc=$?
  [[ -z "$CAPTURE_OUT" ]] || rm -f "$CAPTURE_OUT"
  ((rc == 0)) || err "explain.sh stopped (exit ${rc}); ./verify.sh checks the same path step by step"
}

parse_args() {
  while (($# > 0)); do
    case "$1" in
      --capture) CAPTURE=true ;;
      -h | --help)
        usage
        exit 0
        ;;
      -*)
        usage >&2
        die "unknown option: $1"
        ;;
      *)
        if [[ -z "$SOURCE_POD" ]]; then SOURCE_POD=$1; elif [[ -z "$PEER_POD" ]]; then PEER_POD=$1; else
          usage >&2
          die "too many arguments: $1"
        fi
        ;;
    esac
    shift
  done
}

# --- the cluster's view ------------------------------------------------------------

load_cluster() {
  have kubectl || die "kubectl not found on PATH" "install kubectl: https://kubernetes.io/docs/tasks/tools/"
  have docker || die "docker not found on PATH; explain reads the kind nodes with docker exec" "install Docker, or run it where the lab's Docker daemon is"
  kubeconfig_readable "$LAB_KUBECONFIG" || die "kubeconfig ${LAB_KUBECONFIG} not found" "./deploy.sh (or set LAB_KUBECONFIG)"
  export KUBECONFIG=$LAB_KUBECONFIG
  local out name ips node phase
  out=$(kubectl get nodes -o jsonpath="$(in_list "$Q_NODE")" 2>&1) || die "cannot list nodes: ${out}" "./verify.sh"
  while IFS='|' read -r name _ ips; do
    [[ -n "$name" ]] || continue
    split_families "$ips"
    NODE_V4[$name]=${V4[0]:-} NODE_V6[$name]=${V6[0]:-}
  done <<<"$out"
  out=$(kubectl get pods -n "$LAB_NAMESPACE" -l "$LAB_POD_SELECTOR" -o jsonpath="$(in_list "$Q_POD")" 2>&1) ||
    die "cannot list pods -l ${LAB_POD_SELECTOR}: ${out}" "./verify.sh"
  local first=""
  while IFS='|' read -r name node phase ips; do
    [[ -n "$name" && "$phase" == Running ]] || continue
    split_families "$ips"
    POD_NODE[$name]=$node POD_V4[$name]=${V4[0]:-} POD_V6[$name]=${V6[0]:-}
    first=${first:-$name}
  done <<<"$out"
  SOURCE_POD=${SOURCE_POD:-$first}
  [[ -n "$SOURCE_POD" && -n "${POD_NODE[$SOURCE_POD]:-}" ]] ||
    die "no Running pod ${SOURCE_POD:-with -l ${LAB_POD_SELECTOR}} in namespace ${LAB_NAMESPACE}" "kubectl get pods -n ${LAB_NAMESPACE} -o wide"
  if [[ -z "$PEER_POD" ]]; then
    while IFS='|' read -r name node phase ips; do
      if [[ -n "${POD_NODE[$name]:-}" && "$node" != "${POD_NODE[$SOURCE_POD]}" ]]; then
        PEER_POD=$name
        break
      fi
    done <<<"$out"
  fi
  [[ -n "$PEER_POD" && -n "${POD_NODE[$PEER_POD]:-}" ]] ||
    die "no Running pod ${PEER_POD:-on a node other than ${POD_NODE[$SOURCE_POD]}}" "kubectl get pods -n ${LAB_NAMESPACE} -o wide"
  [[ "${POD_NODE[$PEER_POD]}" != "${POD_NODE[$SOURCE_POD]}" ]] ||
    die "${SOURCE_POD} and ${PEER_POD} are both on ${POD_NODE[$SOURCE_POD]}: pick pods on two nodes"
}

# on_node NODE CMD...: CMD inside the kind node container.
on_node() {
  local node=$1 out
  shift
  if ! out=$(docker exec "$node" "$@" 2>&1); then
    die "docker exec ${node} $* failed: ${out}" "docker ps --filter name=${node}   (is ${node} a kind node container of this Docker daemon?)"
  fi
  printf '%s\n' "$out"
}

# --- reading the tables ------------------------------------------------------------------

# route_for IP ROUTES: the most specific route line whose prefix holds IP.
route_for() {
  local ip=$1 line prefix bits best="" best_bits=-1
  while IFS= read -r line; do
    prefix=${line%% *}
    case "$prefix" in blackhole | unreachable | prohibit | default | local | broadcast) continue ;; esac
    if [[ "$prefix" == */* ]]; then bits=${prefix#*/}; else
      bits=32
      is_ipv6 "$prefix" && bits=128
      prefix="${prefix}/${bits}"
    fi
    if ip_in_cidr "$ip" "$prefix" && ((bits > best_bits)); then
      best=$line best_bits=$bits
    fi
  done <<<"$2"
  printf '%s' "$best"
}

# field LINE WORD: the word after WORD in LINE ("via", "dev", "lladdr", "dst", "local").
field() { awk -v w="$2" '{ for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }' <<<"$1"; }

say() { printf '%s\n' "$*"; }
# note TEXT: the plain-words explanation under a table line.
note() { printf '     -> %s\n' "$*"; }
# more TEXT: a note's next line.
more() { printf '        %s\n' "$*"; }
show() { printf '     %s\n' "$@"; }

# wait_capture_started PID: until the capture in the background (output in
# CAPTURE_OUT) says it listens, at most LAB_CAPTURE_WARMUP seconds: a
# container can take longer than that to start on a busy machine.
wait_capture_started() {
  local deadline=$((SECONDS + ${LAB_CAPTURE_WARMUP%.*}))
  until grep -q '^listening on ' "$CAPTURE_OUT" 2>/dev/null; do
    kill -0 "$1" 2>/dev/null || return 0
    ((SECONDS < deadline)) || return 0
    sleep 0.2
  done
}

# explain_no_family FAMILY: the screen of a family the lab does not have
# (an IPv6-only lab's IPv4): said once, so nobody looks for what is not there.
explain_no_family() {
  say "==================== $1: none in this lab ===================="
  say "  The lab has no $1 (ipFamilies [$(lab_families | sed 's/ /, /g')]): no $1 pool, pod address, tunnel or pod route."
  say ""
}

# screen_header FAMILY SUFFIX SRC_IP DST_IP: a routing screen's title and who is
# where; false, after saying so, when one of the pods has no FAMILY address.
screen_header() {
  local family=$1 suffix=$2 src_ip=$3 dst_ip=$4 src_node=${POD_NODE[$SOURCE_POD]} dst_node=${POD_NODE[$PEER_POD]}
  say "==================== ${family}: ${SOURCE_POD} -> ${PEER_POD}${suffix} ===================="
  if [[ -z "$src_ip" || -z "$dst_ip" ]]; then
    say "  One of the pods has no ${family} address (${src_ip:-none} -> ${dst_ip:-none}): nothing to explain; ./verify.sh says why."
    say ""
    return 1
  fi
  say "Who is where (kubectl get pods,nodes -o wide)"
  printf '     %-7s %-24s %-40s on %s (node IPv4 %s, IPv6 %s)\n' \
    source "$SOURCE_POD" "$src_ip" "$src_node" "${NODE_V4[$src_node]:-none}" "${NODE_V6[$src_node]:-none}" \
    peer "$PEER_POD" "$dst_ip" "$dst_node" "${NODE_V4[$dst_node]:-none}" "${NODE_V6[$dst_node]:-none}"
  say ""
}

# capture_ping6 COUNT FILTER: the capture both routings' --capture share: one IPv6
# ping SOURCE_POD -> PEER_POD while tcpdump (in a throwaway LAB_CAPTURE_IMAGE
# container in the source node's network namespace: the kind node image has
# none) records up to COUNT packets matching FILTER on the node's eth0. Prints
# the banner, the command and what tcpdump printed; leaves it in CAPTURE_OUT.
capture_ping6() {
  local count=$1 filter=$2 src_node=${POD_NODE[$SOURCE_POD]} dst_ip=${POD_V6[$PEER_POD]} pid waited=0
  say "==================== on the wire: an IPv6 ping ${SOURCE_POD} -> ${PEER_POD} ===================="
  [[ -n "$LAB_CAPTURE_IMAGE" ]] || die "no image with tcpdump: set LAB_CAPTURE_IMAGE"
  docker image inspect "$LAB_CAPTURE_IMAGE" >/dev/null 2>&1 || {
    info "  docker pull ${LAB_CAPTURE_IMAGE} (once)"
    docker pull "$LAB_CAPTURE_IMAGE" >/dev/null || die "docker pull ${LAB_CAPTURE_IMAGE} failed" "set LAB_CAPTURE_IMAGE to an image with tcpdump"
  }
  CAPTURE_OUT=$(mktemp)
  local cmd=(docker run --rm --network "container:${src_node}" "$LAB_CAPTURE_IMAGE"
    timeout "$LAB_CAPTURE_SECONDS" tcpdump -n -p -i eth0 -c "$count" "$filter")
  say "   (${cmd[*]})"
  "${cmd[@]}" >"$CAPTURE_OUT" 2>&1 &
  pid=$!
  wait_capture_started "$pid"
  kubectl exec -n "$LAB_NAMESPACE" "$SOURCE_POD" -- ping -6 -c 2 -W 2 "$dst_ip" >/dev/null 2>&1 || warn "the ping itself failed: ./verify.sh"
  while kill -0 "$pid" 2>/dev/null && ((waited < LAB_CAPTURE_SECONDS + 5)); do
    sleep 1
    waited=$((waited + 1))
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sed 's/^/     /' "$CAPTURE_OUT"
}

# The screens of the lab's routing: explain_<routing> FAMILY and capture_<routing>
# (scripts/lib/explain-<routing>.sh), and the variants' own (<variant>_explain).
# shellcheck source=scripts/lib/explain-vxlan.sh
source "$SCRIPT_DIR/scripts/lib/explain-vxlan.sh"
# shellcheck source=scripts/lib/variants.sh
source "$SCRIPT_DIR/scripts/lib/variants.sh"
ROUTING_EXPLAIN=$SCRIPT_DIR/scripts/lib/explain-$(lab_routing).sh
# shellcheck source=/dev/null
[[ ! -r "$ROUTING_EXPLAIN" ]] || source "$ROUTING_EXPLAIN"

main() {
  parse_args "$@"
  trap cleanup EXIT
  lab_require_facts
  load_cluster
  # What Felix wrote for the CNI plugin: the pods' MTU (absent on older Calico).
  POD_MTU=$(docker exec "${POD_NODE[$SOURCE_POD]}" cat /var/lib/calico/mtu 2>/dev/null) || POD_MTU=""
  [[ "$POD_MTU" =~ ^[0-9]+$ ]] || POD_MTU=""
  lab_load_variants
  local routing family
  routing=$(lab_routing)
  for family in IPv4 IPv6; do
    if lab_has_family "$family"; then "explain_${routing}" "$family"; else explain_no_family "$family"; fi
  done
  [[ "$CAPTURE" != true ]] || "capture_${routing}"
  variant_hooks explain
  say "Check all of it at once: ./verify.sh"
}

main "$@"
