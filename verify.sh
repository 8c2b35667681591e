#!/usr/bin/env bash
# verify.sh: check that the Calico dual-stack lab works, as the lab README's
# "Verification" and "IPv6 Services" sections do by hand.
#
# Usage: ./verify.sh [--help]
#
# One PASS/FAIL line per check; a FAIL line is followed by a command to
# investigate with. Exit status: the number of failed checks (0 = healthy,
# capped at 255). Needs only kubectl: no calicoctl, no jq; the egress checks
# find the external host with docker (or LAB_EXTERNAL_IPV4/LAB_EXTERNAL_IPV6).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PROJECT_DIR=${LAB_PROJECT_DIR:-$SCRIPT_DIR}
# shellcheck source=scripts/lib/common.sh
source "$SCRIPT_DIR/scripts/lib/common.sh"
# shellcheck source=scripts/lib/queries.sh
source "$SCRIPT_DIR/scripts/lib/queries.sh"
# shellcheck source=scripts/lib/kubectl-skew.sh
source "$SCRIPT_DIR/scripts/lib/kubectl-skew.sh"
# shellcheck source=scripts/lib/checks-dataplane.sh
source "$SCRIPT_DIR/scripts/lib/checks-dataplane.sh"
lab_init_defaults
lab_use_exported_kubeconfig

# The expectations (LAB_SVC_PORT, LAB_IPV6_POOL_CIDR, ...) come from the
# environment, else dist/, else the lab's defaults: lab_init_expectations.
LAB_CURL_TIMEOUT=${LAB_CURL_TIMEOUT:-5}

CHECKS=0
FAILURES=0
# Filled by check_pods, used by the checks that exec into pods.
CLIENT_POD=""
PEER_POD=""
PEER_IPV6=""

usage() {
  cat <<EOF
Usage: ./verify.sh [--help]

Checks the lab "${LAB_CLUSTER_NAME}": nodes Ready with IPv4 and IPv6 InternalIPs; both
IPPools; every ${LAB_POD_SELECTOR} pod Running with one IPv4 and one IPv6 IP in
its pool; IPv6 ping between pods on different nodes; curl to the dual-stack
Service over each family and to the IPv6-only Service; nginx listening on IPv6;
the data path: block affinities, VXLAN tunnel endpoints, pod-to-pod HTTP, Service
DNS (A/AAAA), egress NAT to an external host, pod MTU (docs/verify-checks.md).
Exit status = number of failed checks.

Environment (current value in brackets; expectations from ${LAB_EXPECTATIONS_FROM}):
  LAB_KUBECONFIG       kubeconfig of the lab [${LAB_KUBECONFIG}] (default: \$KUBECONFIG, else ./<cluster name>.kubeconfig)
  LAB_CLUSTER_NAME     kind cluster name [${LAB_CLUSTER_NAME}]
  LAB_PROJECT_DIR      project root [${LAB_PROJECT_DIR}]
  LAB_DIST_DIR         synthesized manifests the expectations come from [${LAB_DIST_DIR}]
  LAB_DAEMONSET        DaemonSet of the test pods [${LAB_DAEMONSET}]
  LAB_NAMESPACE        namespace of the test workload [${LAB_NAMESPACE}]
  LAB_POD_SELECTOR     label selector of the test pods [${LAB_POD_SELECTOR}]
  LAB_SVC_DUAL_STACK   dual-stack Service [${LAB_SVC_DUAL_STACK}]
  LAB_SVC_IPV6_ONLY    IPv6-only Service [${LAB_SVC_IPV6_ONLY}]
  LAB_SVC_PORT         Service port [${LAB_SVC_PORT}]
  LAB_APP_PORT         port nginx listens on in the pods [${LAB_APP_PORT}]
  LAB_CURL_TIMEOUT     seconds per curl [${LAB_CURL_TIMEOUT}]
  LAB_IPV4_POOL, LAB_IPV4_POOL_CIDR, LAB_IPV4_VXLAN_MODE, LAB_IPV4_BLOCK_SIZE, LAB_IPV4_NAT_OUTGOING
                       [${LAB_IPV4_POOL} ${LAB_IPV4_POOL_CIDR} ${LAB_IPV4_VXLAN_MODE} ${LAB_IPV4_BLOCK_SIZE} ${LAB_IPV4_NAT_OUTGOING}]
  LAB_IPV6_POOL, LAB_IPV6_POOL_CIDR, LAB_IPV6_VXLAN_MODE, LAB_IPV6_BLOCK_SIZE, LAB_IPV6_NAT_OUTGOING
                       [${LAB_IPV6_POOL} ${LAB_IPV6_POOL_CIDR} ${LAB_IPV6_VXLAN_MODE} ${LAB_IPV6_BLOCK_SIZE} ${LAB_IPV6_NAT_OUTGOING}]
Data-path checks (block affinities, pod-to-pod HTTP, DNS, egress NAT, MTU):
  LAB_CLUSTER_DOMAIN   DNS domain of Services [${LAB_CLUSTER_DOMAIN:-cluster.local}]
  LAB_EXTERNAL_NAME    the external host's container [${LAB_EXTERNAL_NAME:-${LAB_CLUSTER_NAME}-external}]
  LAB_EXTERNAL_IPV4, LAB_EXTERNAL_IPV6
                       its addresses [from docker inspect]
  LAB_POD_MTU          expected pod MTU [Calico's /var/lib/calico/mtu, via the calico-node pod]
EOF
}

# --- reporting ----------------------------------------------------------------------

pass() {
  CHECKS=$((CHECKS + 1))
  printf 'PASS  %s\n' "$1"
}

# fail WHAT [COMMAND]: COMMAND is what a person runs to look closer.
fail() {
  CHECKS=$((CHECKS + 1))
  FAILURES=$((FAILURES + 1))
  printf 'FAIL  %s\n' "$1"
  [[ -z "${2:-}" ]] || printf '      investigate: %s\n' "$2"
}

# skip WHAT: a check that could not run because an earlier one failed; the
# earlier failure is the one counted.
skip() { printf 'SKIP  %s\n' "$1"; }

finish() {
  printf '\n%d checks, %d failed\n' "$CHECKS" "$FAILURES"
  ((FAILURES == 0)) || printf '(the investigate commands assume: export KUBECONFIG=%s)\n' "$LAB_KUBECONFIG"
  exit $((FAILURES > 255 ? 255 : FAILURES))
}

# brief TEXT: TEXT on one line, without kubectl's "command terminated" note,
# cut to 160 characters: enough to see why, short enough for one line.
brief() {
  local text
  text=$(grep -v '^command terminated with exit code' <<<"$1" | tr -s '\n' ' ')
  text=${text% }
  [[ -n "$text" ]] || text=$(tr -s '\n' ' ' <<<"$1")
  ((${#text} <= 160)) || text="${text:0:157}..."
  printf '%s' "${text:-no output}"
}

# --- checks ---------------------------------------------------------------------------

# check_access: without kubectl or an API server nothing else can be checked.
check_access() {
  if ! have kubectl; then
    fail "kubectl is on PATH" "install kubectl: https://kubernetes.io/docs/tasks/tools/"
    return 1
  fi
  if ! kubeconfig_readable "$LAB_KUBECONFIG"; then
    fail "kubeconfig ${LAB_KUBECONFIG} exists" "./deploy.sh   (or set LAB_KUBECONFIG to the lab's kubeconfig)"
    return 1
  fi
  if ! kubectl get --raw=/readyz --request-timeout=10s >/dev/null 2>&1; then
    fail "API server of ${LAB_CLUSTER_NAME} answers" "kind get clusters; docker ps --filter name=${LAB_CLUSTER_NAME}; kubectl cluster-info"
    return 1
  fi
  pass "API server of ${LAB_CLUSTER_NAME} answers"
}

check_nodes() {
  local out name ready ips want count
  if ! out=$(kubectl get nodes -o jsonpath="$(in_list "$Q_NODE")" 2>&1) || [[ -z "$out" ]]; then
    fail "nodes are listed" "kubectl get nodes -o wide"
    return 0
  fi
  while IFS='|' read -r name ready ips; do
    [[ -n "$name" ]] || continue
    split_families "$ips"
    if [[ "$ready" == True ]] && ((${#V4[@]} >= 1 && ${#V6[@]} >= 1)); then
      pass "node ${name} is Ready with IPv4 and IPv6 InternalIPs (${ips})"
    else
      fail "node ${name} is Ready with IPv4 and IPv6 InternalIPs (Ready=${ready:-unknown}, InternalIPs: ${ips:-none})" \
        "kubectl get node ${name} -o jsonpath='{.status.addresses}{\"\\n\"}{.status.conditions}'"
    fi
  done <<<"$out"
  # kind names its nodes <cluster>-control-plane, <cluster>-worker, ...
  if ! grep -q "^${LAB_CLUSTER_NAME}-" <<<"$out"; then
    fail "the nodes are kind cluster ${LAB_CLUSTER_NAME}'s (${LAB_CLUSTER_NAME}-control-plane, ...); KUBECONFIG=${LAB_KUBECONFIG} shows: $(cut -d'|' -f1 <<<"$out" | tr '\n' ' ')" \
      "kubectl config current-context; kind get clusters"
  fi
  want=$(kind_config_node_count "$LAB_KIND_CONFIG")
  count=$(grep -c . <<<"$out")
  if [[ -n "$want" && "$count" != "$want" ]]; then
    fail "the cluster has ${want} nodes as ${LAB_KIND_CONFIG} asks (it has ${count})" "kubectl get nodes; ./destroy.sh --yes, then ./deploy.sh"
  fi
}

# check_pool NAME CIDR VXLAN_MODE NAT_OUTGOING BLOCK_SIZE
check_pool() {
  local name=$1 want_cidr=$2 want_vxlan=$3 want_nat=$4 want_block=$5 out cidr nat vxlan block
  local investigate="kubectl get ippools.crd.projectcalico.org ${name} -o yaml"
  if ! out=$(kubectl get ippools.crd.projectcalico.org "$name" -o jsonpath="$Q_IPPOOL" 2>&1); then
    fail "IPPool ${name} exists ($(brief "$out"))" "kubectl get ippools.crd.projectcalico.org"
    return 0
  fi
  IFS='|' read -r cidr nat vxlan block <<<"$out"
  # crd.projectcalico.org/v1 gets no defaulting: an unset natOutgoing is false.
  if [[ "$cidr" == "$want_cidr" && "${nat:-false}" == "$want_nat" && "$vxlan" == "$want_vxlan" && "$block" == "$want_block" ]]; then
    pass "IPPool ${name}: cidr ${cidr}, natOutgoing ${nat:-false}, vxlanMode ${vxlan}, blockSize ${block}"
  else
    fail "IPPool ${name}: want cidr ${want_cidr}, natOutgoing ${want_nat}, vxlanMode ${want_vxlan}, blockSize ${want_block}; got ${cidr:-none}, ${nat:-unset}, ${vxlan:-unset}, ${block:-unset}" "$investigate"
  fi
}

check_pools() {
  check_pool "$LAB_IPV4_POOL" "$LAB_IPV4_POOL_CIDR" "$LAB_IPV4_VXLAN_MODE" "$LAB_IPV4_NAT_OUTGOING" "$LAB_IPV4_BLOCK_SIZE"
  check_pool "$LAB_IPV6_POOL" "$LAB_IPV6_POOL_CIDR" "$LAB_IPV6_VXLAN_MODE" "$LAB_IPV6_NAT_OUTGOING" "$LAB_IPV6_BLOCK_SIZE"
}

# check_pods: every test pod Running with exactly one address per family,
# each inside its pool. Picks the pods the exec checks use: a client, and a
# peer on another node for the cross-node ping.
check_pods() {
  local out name node phase ips problems client_node=""
  local -a candidates=()
  if ! out=$(kubectl get pods -n "$LAB_NAMESPACE" -l "$LAB_POD_SELECTOR" -o jsonpath="$(in_list "$Q_POD")" 2>&1) || [[ -z "$out" ]]; then
    fail "pods -l ${LAB_POD_SELECTOR} exist in namespace ${LAB_NAMESPACE}" \
      "kubectl get daemonset,pods -n ${LAB_NAMESPACE} -l ${LAB_POD_SELECTOR} -o wide"
    return 0
  fi
  while IFS='|' read -r name node phase ips; do
    [[ -n "$name" ]] || continue
    split_families "$ips"
    problems=()
    [[ "$phase" == Running ]] || problems+=("phase ${phase:-unknown}")
    ((${#V4[@]} == 1)) || problems+=("${#V4[@]} IPv4 addresses")
    ((${#V6[@]} == 1)) || problems+=("${#V6[@]} IPv6 addresses")
    if ((${#V4[@]} == 1)) && ! ip_in_cidr "${V4[0]}" "$LAB_IPV4_POOL_CIDR"; then
      problems+=("${V4[0]} outside ${LAB_IPV4_POOL_CIDR}")
    fi
    if ((${#V6[@]} == 1)) && ! ip_in_cidr "${V6[0]}" "$LAB_IPV6_POOL_CIDR"; then
      problems+=("${V6[0]} outside ${LAB_IPV6_POOL_CIDR}")
    fi
    # A pod outside its pool can still ping and curl: keep it usable.
    if [[ "$phase" == Running ]] && ((${#V4[@]} == 1 && ${#V6[@]} == 1)); then
      candidates+=("${name}|${node}|${V6[0]}")
    fi
    if ((${#problems[@]} == 0)); then
      pass "pod ${name} on ${node} is Running with IPv4 ${V4[0]} and IPv6 ${V6[0]} from the pools"
    else
      local joined
      joined=$(printf '%s, ' "${problems[@]}")
      fail "pod ${name} on ${node:-no node} is Running with one IPv4 and one IPv6 address from the pools: ${joined%, } (pod IPs: ${ips:-none})" \
        "kubectl get pod -n ${LAB_NAMESPACE} ${name} -o jsonpath='{.status.phase} {.status.podIPs}'; kubectl describe pod -n ${LAB_NAMESPACE} ${name}"
    fi
  done <<<"$out"

  local c c_name c_node c_ip
  for c in "${candidates[@]}"; do
    IFS='|' read -r c_name c_node c_ip <<<"$c"
    if [[ -z "$CLIENT_POD" ]]; then
      CLIENT_POD=$c_name client_node=$c_node
    elif [[ -z "$PEER_POD" && "$c_node" != "$client_node" ]]; then
      PEER_POD=$c_name PEER_IPV6=$c_ip
    fi
  done
}

# pod_exec POD CMD...: run CMD in POD; output on stdout, status preserved.
pod_exec() {
  local pod=$1
  shift
  kubectl exec -n "$LAB_NAMESPACE" "$pod" -- "$@" 2>&1
}

check_ping() {
  local what="IPv6 ping between pods on different nodes"
  if [[ -z "$CLIENT_POD" ]]; then
    skip "${what}: no Running dual-stack pod to ping from"
    return 0
  fi
  if [[ -z "$PEER_POD" ]]; then
    fail "${what}: no Running dual-stack pod on a second node to ping" "kubectl get nodes; kubectl get pods -n ${LAB_NAMESPACE} -l ${LAB_POD_SELECTOR} -o wide"
    return 0
  fi
  local cmd=(ping -6 -c 3 -W 2 "$PEER_IPV6") out
  if out=$(pod_exec "$CLIENT_POD" "${cmd[@]}"); then
    pass "${what}: ${CLIENT_POD} -> ${PEER_POD} ${PEER_IPV6} ($(grep -Eo '[0-9]+ packets received|[0-9]+ received' <<<"$out" | head -n 1 || true))"
  else
    local summary
    summary=$(grep -E 'packet loss|exit code' <<<"$out" | head -n 1) || true
    fail "${what}: ${CLIENT_POD} -> ${PEER_POD} ${PEER_IPV6}: $(brief "${summary:-$out}")" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- ${cmd[*]}; kubectl get blockaffinities"
  fi
}

# curl_service SERVICE IP: HTTP GET to IP:LAB_SVC_PORT from the client pod.
curl_service() {
  local svc=$1 ip=$2 host family=IPv4 out
  host=$ip
  if is_ipv6 "$ip"; then
    host="[${ip}]"
    family=IPv6
  fi
  # -g: brackets are an IPv6 literal, not a curl URL glob.
  local cmd=(curl -g -sS -o /dev/null -w '%{http_code}' --max-time "$LAB_CURL_TIMEOUT" "http://${host}:${LAB_SVC_PORT}/")
  if out=$(pod_exec "$CLIENT_POD" "${cmd[@]}") && [[ "$out" =~ ^[23][0-9][0-9]$ ]]; then
    pass "curl Service ${svc} over ${family}: http://${host}:${LAB_SVC_PORT}/ -> HTTP ${out}"
  else
    fail "curl Service ${svc} over ${family}: http://${host}:${LAB_SVC_PORT}/ -> $(brief "$out")" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- curl -g -v --max-time ${LAB_CURL_TIMEOUT} http://${host}:${LAB_SVC_PORT}/; kubectl get endpointslices -n ${LAB_NAMESPACE} -l kubernetes.io/service-name=${svc}"
  fi
}

# check_service NAME WANT_V4 WANT_V6: ClusterIP families, then curl each.
check_service() {
  local name=$1 want_v4=$2 want_v6=$3 out
  local investigate="kubectl get service -n ${LAB_NAMESPACE} ${name} -o yaml"
  if ! out=$(kubectl get service -n "$LAB_NAMESPACE" "$name" -o jsonpath="$Q_SERVICE" 2>&1); then
    fail "Service ${name} exists ($(brief "$out"))" "kubectl get services -n ${LAB_NAMESPACE}"
    return 0
  fi
  split_families "$out"
  local want="IPv6 ClusterIP only"
  ((want_v4 == 0)) || want="IPv4 and IPv6 ClusterIPs"
  if ((${#V4[@]} == want_v4 && ${#V6[@]} == want_v6)); then
    pass "Service ${name} has ${want} (${out})"
  else
    fail "Service ${name} has ${want} (got: ${out:-none})" "$investigate"
  fi
  local ip
  for ip in ${V6[@]+"${V6[@]}"} ${V4[@]+"${V4[@]}"}; do
    if [[ -z "$CLIENT_POD" ]]; then
      skip "curl Service ${name} at ${ip}: no Running dual-stack pod to curl from"
    else
      curl_service "$name" "$ip"
    fi
  done
  ((${#V6[@]} > 0)) || skip "curl Service ${name} over IPv6: it has no IPv6 ClusterIP"
  ((want_v4 == 0 || ${#V4[@]} > 0)) || skip "curl Service ${name} over IPv4: it has no IPv4 ClusterIP"
}

check_services() {
  check_service "$LAB_SVC_DUAL_STACK" 1 1
  check_service "$LAB_SVC_IPV6_ONLY" 0 1
}

# The lab README's point: an app bound to 0.0.0.0 only breaks IPv6 Services.
check_listen() {
  local what="nginx listens on IPv6 port ${LAB_APP_PORT}"
  if [[ -z "$CLIENT_POD" ]]; then
    skip "${what}: no Running dual-stack pod to look into"
    return 0
  fi
  local out
  if ! out=$(pod_exec "$CLIENT_POD" netstat -tln); then
    fail "${what} in ${CLIENT_POD}: netstat failed: $(brief "$out")" "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- netstat -tln"
    return 0
  fi
  if grep -Eq "(:::|\[::\]:)${LAB_APP_PORT}[[:space:]]" <<<"$out"; then
    pass "${what} in ${CLIENT_POD} (:::${LAB_APP_PORT})"
  else
    fail "${what} in ${CLIENT_POD}: no :::${LAB_APP_PORT} listener (listeners: $(awk 'NR > 2 {printf "%s ", $4}' <<<"$out"))" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- netstat -tln; kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- nginx -T"
  fi
}

main() {
  case "${1:-}" in
    -h | --help)
      usage
      return 0
      ;;
    "") ;;
    *)
      usage >&2
      err "unknown argument: $1"
      exit 255
      ;;
  esac
  export KUBECONFIG=$LAB_KUBECONFIG
  printf 'Verifying lab "%s" (KUBECONFIG=%s)\n' "$LAB_CLUSTER_NAME" "$LAB_KUBECONFIG"
  printf 'Expecting pools %s %s (%s) and %s %s (%s), from %s\n' \
    "$LAB_IPV4_POOL" "$LAB_IPV4_POOL_CIDR" "$LAB_IPV4_VXLAN_MODE" \
    "$LAB_IPV6_POOL" "$LAB_IPV6_POOL_CIDR" "$LAB_IPV6_VXLAN_MODE" "$LAB_EXPECTATIONS_FROM"
  printf 'Expecting Services %s and %s on port %s -> %s, pods -l %s of daemonset/%s in %s\n\n' \
    "$LAB_SVC_DUAL_STACK" "$LAB_SVC_IPV6_ONLY" "$LAB_SVC_PORT" "$LAB_APP_PORT" \
    "$LAB_POD_SELECTOR" "$LAB_DAEMONSET" "$LAB_NAMESPACE"
  kubectl_skew_check
  check_access || finish
  check_nodes
  check_pools
  check_pods
  check_ping
  check_services
  check_listen
  check_dataplane
  finish
}

main "$@"
