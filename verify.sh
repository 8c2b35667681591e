#!/usr/bin/env bash
# verify.sh: check that the Calico dual-stack lab works, as the lab README's
# "Verification" and "IPv6 Services" sections do by hand, and that Calico
# itself is healthy.
#
# Usage: ./verify.sh [--plan] [--help]
#
# First the plan: every check's id and title, fixed by the lab's facts
# (<dist>/lab/facts.json) before any call to the cluster; --plan prints only
# that. Then one PASS/FAIL/SKIP line per planned check; a FAIL line is
# followed by a command to investigate with. Exit status: the number of
# failed checks (0 = healthy, capped at 255). Needs only kubectl: no
# calicoctl, no jq; the egress checks find the external host with docker
# (or LAB_EXTERNAL_IPV4/LAB_EXTERNAL_IPV6).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PROJECT_DIR=${LAB_PROJECT_DIR:-$SCRIPT_DIR}
# shellcheck source=scripts/lib/common.sh
source "$SCRIPT_DIR/scripts/lib/common.sh"
# shellcheck source=scripts/lib/queries.sh
source "$SCRIPT_DIR/scripts/lib/queries.sh"
# shellcheck source=scripts/lib/kubectl-skew.sh
source "$SCRIPT_DIR/scripts/lib/kubectl-skew.sh"
# shellcheck source=scripts/lib/verify-plan.sh
source "$SCRIPT_DIR/scripts/lib/verify-plan.sh"
# shellcheck source=scripts/lib/variants.sh
source "$SCRIPT_DIR/scripts/lib/variants.sh"
lab_init_defaults
lab_use_exported_kubeconfig

# The expectations (LAB_SVC_PORT, LAB_IPV6_POOL_CIDR, ...) come from the
# environment, else the lab's facts: lab_init_expectations.
LAB_CURL_TIMEOUT=${LAB_CURL_TIMEOUT:-5}

# Filled by check_workload, used by the checks that exec into pods.
CLIENT_POD=""
PEER_POD=""
PEER_IPV6=""
# From the facts (verify_read_facts): the lab's families, its Services and theirs.
LAB_FAMILIES=()
VERIFY_SERVICES=()
declare -A SVC_FAMILIES=()
# The families a per-family data-path check is planned for: both, in every lab. A family the lab does
# not have SKIPs, saying so (an IPv6-only lab shows what it gives up). Objects (pools, Services) follow
# the facts instead: a lab plans a check for each object it has.
ALL_FAMILIES=(IPv4 IPv6)
# What the lab's pods are, for the messages: "dual-stack" or "IPv6-only" (verify_read_facts).
LAB_POD_KIND=dual-stack

usage() {
  cat <<EOF
Usage: ./verify.sh [--plan] [--help]

Checks the lab "${LAB_CLUSTER_NAME}" against its facts (${LAB_FACTS_FILE}):
the cluster has the lab's nodes, each Ready with IPv4 and IPv6 InternalIPs; Calico
is healthy (TigeraStatus calico, apiserver and ippools Available, calico-node Ready
on every node, no node NetworkUnavailable or tainted network-unavailable); both
IPPools; the DaemonSet runs one Ready pod on every node, with one IPv4 and one IPv6
address from the pools; IPv6 ping between pods on different nodes; curl to each
Service over each of its families; nginx listening on IPv6; the data path: block
affinities, pod-to-pod HTTP, Service DNS (A/AAAA), egress NAT to an external host,
pod MTU, VXLAN tunnel endpoints (docs/verify-checks.md).
  --plan   print the plan (every check's id and title, from the facts alone) and
           exit, without touching the cluster
Exit status = number of failed checks.

Environment (current value in brackets; expectations from ${LAB_EXPECTATIONS_FROM}):
  LAB_KUBECONFIG       kubeconfig of the lab [${LAB_KUBECONFIG}] (default: \$KUBECONFIG, else ./<cluster name>.kubeconfig)
  LAB_CLUSTER_NAME     kind cluster name [${LAB_CLUSTER_NAME}]
  LAB_PROJECT_DIR      project root [${LAB_PROJECT_DIR}]
  LAB_DIST_DIR         synthesized lab whose facts (lab/facts.json) the expectations come from [${LAB_DIST_DIR}]
  LAB_DAEMONSET        DaemonSet of the test pods [${LAB_DAEMONSET}]
  LAB_NAMESPACE        namespace of the test workload [${LAB_NAMESPACE}]
  LAB_POD_SELECTOR     label selector of the test pods [${LAB_POD_SELECTOR}]
  LAB_SVC_DUAL_STACK   dual-stack Service [${LAB_SVC_DUAL_STACK}]
  LAB_SVC_IPV6_ONLY    IPv6-only Service [${LAB_SVC_IPV6_ONLY}]
  LAB_SVC_PORT         Service port [${LAB_SVC_PORT}]
  LAB_APP_PORT         port nginx listens on in the pods [${LAB_APP_PORT}]
  LAB_CURL_TIMEOUT     seconds per curl [${LAB_CURL_TIMEOUT}]
  LAB_POLICY_DENY_TIMEOUT  policy: on only: seconds a denied connection is given to time out [${LAB_POLICY_DENY_TIMEOUT:-3}]
  LAB_IPV4_POOL, LAB_IPV4_POOL_CIDR, LAB_IPV4_VXLAN_MODE, LAB_IPV4_BLOCK_SIZE, LAB_IPV4_NAT_OUTGOING
                       [${LAB_IPV4_POOL} ${LAB_IPV4_POOL_CIDR} ${LAB_IPV4_VXLAN_MODE} ${LAB_IPV4_BLOCK_SIZE} ${LAB_IPV4_NAT_OUTGOING}]
  LAB_IPV6_POOL, LAB_IPV6_POOL_CIDR, LAB_IPV6_VXLAN_MODE, LAB_IPV6_BLOCK_SIZE, LAB_IPV6_NAT_OUTGOING
                       [${LAB_IPV6_POOL} ${LAB_IPV6_POOL_CIDR} ${LAB_IPV6_VXLAN_MODE} ${LAB_IPV6_BLOCK_SIZE} ${LAB_IPV6_NAT_OUTGOING}]
Data-path checks (block affinities, pod-to-pod HTTP, DNS, egress NAT, MTU):
  LAB_CLUSTER_DOMAIN   DNS domain of Services [${LAB_CLUSTER_DOMAIN:-cluster.local}]
  LAB_EXTERNAL_NAME    the external host's container [${LAB_EXTERNAL_NAME:-$(lab_rebase_name "$(fact externalHost.name)")}]
  LAB_EXTERNAL_IPV4, LAB_EXTERNAL_IPV6
                       its addresses [from docker inspect]
  LAB_POD_MTU          expected pod MTU [Calico's /var/lib/calico/mtu, via the calico-node pod]
EOF
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

# and_join "IPv4 IPv6" -> "IPv4 and IPv6"
and_join() { printf '%s' "${1// / and }"; }

# no_family_reason FAMILY: why a check of FAMILY SKIPs in a lab without it.
no_family_reason() { printf 'the lab has no %s (ipFamilies [%s])' "$1" "$(lab_families | sed 's/ /, /g')"; }

# has_lab_addresses: true when V4 and V6 (split_families) hold exactly one
# address of each of the lab's families.
has_lab_addresses() {
  { ! lab_has_family IPv4 || ((${#V4[@]} == 1)); } && { ! lab_has_family IPv6 || ((${#V6[@]} == 1)); }
}

# verify_read_facts: the families and the Services of the facts; the
# environment's LAB_SVC_DUAL_STACK / LAB_SVC_IPV6_ONLY rename the dual-stack
# and the IPv6-only one.
verify_read_facts() {
  local i name families
  read -r -a LAB_FAMILIES <<<"$(fact_list families)"
  lab_has_family IPv4 || LAB_POD_KIND=IPv6-only
  for ((i = 0; i < $(fact_count workload.services); i++)); do
    name=$(fact "workload.services.$i.name")
    families=$(fact_list "workload.services.$i.ipFamilies")
    case "$families" in
      "IPv4 IPv6" | "IPv6 IPv4") name=${LAB_SVC_DUAL_STACK:-$name} ;;
      IPv6) name=${LAB_SVC_IPV6_ONLY:-$name} ;;
    esac
    VERIFY_SERVICES+=("$name")
    SVC_FAMILIES[$name]=$families
  done
}

# --- access ----------------------------------------------------------------------------

plan_access() { plan_check api "API server of ${LAB_CLUSTER_NAME} answers"; }

# check_access: without kubectl or an API server nothing else can be checked.
check_access() {
  if ! have kubectl; then
    fail api "kubectl is on PATH" "install kubectl: https://kubernetes.io/docs/tasks/tools/"
    return 1
  fi
  if ! kubeconfig_readable "$LAB_KUBECONFIG"; then
    fail api "kubeconfig ${LAB_KUBECONFIG} exists" "./deploy.sh   (or set LAB_KUBECONFIG to the lab's kubeconfig)"
    return 1
  fi
  if ! kubectl get --raw=/readyz --request-timeout=10s >/dev/null 2>&1; then
    fail api "API server of ${LAB_CLUSTER_NAME} answers" "kind get clusters; docker ps --filter name=${LAB_CLUSTER_NAME}; kubectl cluster-info"
    return 1
  fi
  pass api "API server of ${LAB_CLUSTER_NAME} answers"
}

# --- nodes -------------------------------------------------------------------------------

plan_nodes() {
  local n
  plan_check nodes "the cluster's nodes are the lab's ${#LAB_NODES[@]}: ${LAB_NODES[*]}"
  for n in "${LAB_NODES[@]}"; do
    plan_check "node/$n" "node $n is Ready with $(and_join "${LAB_FAMILIES[*]}") InternalIPs"
  done
}

check_nodes() {
  local out name ready ips n fam missing=() extra=() problems=()
  local -A node_ready=() node_ips=()
  if ! out=$(kubectl get nodes -o jsonpath="$(in_list "$Q_NODE")" 2>&1) || [[ -z "$out" ]]; then
    fail nodes "the nodes are listed ($(brief "${out:-no nodes}"))" "kubectl get nodes -o wide"
    for n in "${LAB_NODES[@]}"; do skip "node/$n" "${PLAN_TITLE[node/$n]}: the nodes could not be listed"; done
    return 0
  fi
  while IFS='|' read -r name ready ips; do
    [[ -n "$name" ]] || continue
    node_ready[$name]=$ready node_ips[$name]=$ips
  done <<<"$out"
  for n in "${LAB_NODES[@]}"; do [[ -n "${node_ready[$n]+x}" ]] || missing+=("$n"); done
  for name in "${!node_ready[@]}"; do
    [[ " ${LAB_NODES[*]} " == *" $name "* ]] || extra+=("$name")
  done
  if ((${#missing[@]} == 0 && ${#extra[@]} == 0)); then
    pass nodes "the cluster has the lab's ${#LAB_NODES[@]} nodes: ${LAB_NODES[*]}"
  else
    ((${#missing[@]} == 0)) || problems+=("missing ${missing[*]}")
    ((${#extra[@]} == 0)) || problems+=("not in the lab: $(printf '%s\n' "${extra[@]}" | sort | tr '\n' ' ' | sed 's/ $//')")
    fail nodes "the cluster's nodes are the lab's ${#LAB_NODES[@]} (${LAB_NODES[*]}): $(printf '%s; ' "${problems[@]}" | sed 's/; $//') (KUBECONFIG=${LAB_KUBECONFIG})" \
      "kubectl config current-context; kind get clusters; kubectl get nodes   (another lab's cluster, or one from another configuration: ./destroy.sh --yes, then ./deploy.sh)"
  fi
  for n in "${LAB_NODES[@]}"; do
    if [[ -z "${node_ready[$n]+x}" ]]; then
      fail "node/$n" "${PLAN_TITLE[node/$n]}: it is not in the cluster" "kubectl get nodes -o wide"
      continue
    fi
    ready=${node_ready[$n]} ips=${node_ips[$n]}
    split_families "$ips"
    problems=()
    [[ "$ready" == True ]] || problems+=(Ready)
    for fam in "${LAB_FAMILIES[@]}"; do
      if [[ "$fam" == IPv4 ]]; then ((${#V4[@]} >= 1)) || problems+=(IPv4); else ((${#V6[@]} >= 1)) || problems+=(IPv6); fi
    done
    if ((${#problems[@]} == 0)); then
      pass "node/$n" "${PLAN_TITLE[node/$n]} (${ips})"
    else
      fail "node/$n" "${PLAN_TITLE[node/$n]} (Ready=${ready:-unknown}, InternalIPs: ${ips:-none})" \
        "kubectl get node ${n} -o jsonpath='{.status.addresses}{\"\\n\"}{.status.conditions}'"
    fi
  done
}

# --- IP pools ------------------------------------------------------------------------------

# pool_var FAMILY FIELD: the expectation variable LAB_<FAMILY>_<FIELD>'s value.
pool_var() {
  local v="LAB_${1^^}_$2"
  printf '%s' "${!v:-}"
}

plan_pools() {
  local fam
  for fam in "${LAB_FAMILIES[@]}"; do
    plan_check "ippool/$(pool_var "$fam" POOL)" "IPPool $(pool_var "$fam" POOL) is as the lab configures it"
  done
}

# check_pool NAME CIDR VXLAN_MODE NAT_OUTGOING BLOCK_SIZE
check_pool() {
  local name=$1 want_cidr=$2 want_vxlan=$3 want_nat=$4 want_block=$5 out cidr nat vxlan block
  local investigate="kubectl get ippools.crd.projectcalico.org ${name} -o yaml"
  if ! out=$(kubectl get ippools.crd.projectcalico.org "$name" -o jsonpath="$Q_IPPOOL" 2>&1); then
    fail "ippool/$name" "IPPool ${name} exists ($(brief "$out"))" "kubectl get ippools.crd.projectcalico.org"
    return 0
  fi
  IFS='|' read -r cidr nat vxlan block <<<"$out"
  # crd.projectcalico.org/v1 gets no defaulting: an unset natOutgoing is false.
  if [[ "$cidr" == "$want_cidr" && "${nat:-false}" == "$want_nat" && "$vxlan" == "$want_vxlan" && "$block" == "$want_block" ]]; then
    pass "ippool/$name" "IPPool ${name}: cidr ${cidr}, natOutgoing ${nat:-false}, vxlanMode ${vxlan}, blockSize ${block}"
  else
    fail "ippool/$name" "IPPool ${name}: want cidr ${want_cidr}, natOutgoing ${want_nat}, vxlanMode ${want_vxlan}, blockSize ${want_block}; got ${cidr:-none}, ${nat:-unset}, ${vxlan:-unset}, ${block:-unset}" "$investigate"
  fi
}

check_pools() {
  local fam
  for fam in "${LAB_FAMILIES[@]}"; do
    check_pool "$(pool_var "$fam" POOL)" "$(pool_var "$fam" POOL_CIDR)" "$(pool_var "$fam" VXLAN_MODE)" \
      "$(pool_var "$fam" NAT_OUTGOING)" "$(pool_var "$fam" BLOCK_SIZE)"
  done
}

# --- the workload: DaemonSet, pods, ping, Services, listener -------------------------------

# Service families in curl order: IPv6 first, the lab's point.
curl_families() {
  local fam
  for fam in IPv6 IPv4; do [[ " $1 " != *" $fam "* ]] || printf '%s\n' "$fam"; done
}

plan_workload() {
  local n svc fam families want
  plan_check daemonset "DaemonSet ${LAB_DAEMONSET} runs a Ready pod on each of the lab's ${#LAB_NODES[@]} nodes"
  for n in "${LAB_NODES[@]}"; do
    plan_check "lab-pod/$n" "one Ready ${LAB_POD_SELECTOR} pod on ${n}, Running with $(and_join "${LAB_FAMILIES[*]}") addresses from the pools"
  done
  plan_check ping "IPv6 ping between pods on different nodes"
  for svc in "${VERIFY_SERVICES[@]}"; do
    families=${SVC_FAMILIES[$svc]}
    want="$(and_join "$families") ClusterIPs"
    [[ "$families" == *" "* ]] || want="${families} ClusterIP only"
    plan_check "service/$svc" "Service ${svc} has ${want}"
    for fam in $(curl_families "$families"); do
      plan_check "service/$svc/${fam,,}" "curl Service ${svc} over ${fam}"
    done
  done
  plan_check listen "nginx listens on IPv6 port ${LAB_APP_PORT}"
}

# pod_exec POD CMD...: run CMD in POD; output on stdout, status preserved.
pod_exec() {
  local pod=$1
  shift
  kubectl exec -n "$LAB_NAMESPACE" "$pod" -- "$@" 2>&1
}

# The lab's pods, by node (check_workload): "name|phase|ready|ips" lines.
declare -A NODE_PODS=()
PODS_ERROR=""

load_lab_pods() {
  local out name node phase ready ips client_node="" c c_name c_node c_ip
  local -a candidates=()
  NODE_PODS=()
  if ! out=$(kubectl get pods -n "$LAB_NAMESPACE" -l "$LAB_POD_SELECTOR" -o jsonpath="$(in_list "$Q_LAB_POD")" 2>&1); then
    PODS_ERROR=$(brief "$out")
    return 0
  fi
  while IFS='|' read -r name node phase ready ips; do
    [[ -n "$name" ]] || continue
    NODE_PODS[$node]+="${name}|${phase}|${ready}|${ips}"$'\n'
    split_families "$ips"
    # A pod outside its pool, or not Ready, can still ping and curl: keep it usable.
    if [[ "$phase" == Running ]] && has_lab_addresses; then
      candidates+=("${name}|${node}|${V6[0]}")
    fi
  done <<<"$out"
  # The exec checks' pods: a client, and a peer on another node for the cross-node ping.
  for c in "${candidates[@]}"; do
    IFS='|' read -r c_name c_node c_ip <<<"$c"
    if [[ -z "$CLIENT_POD" ]]; then
      CLIENT_POD=$c_name client_node=$c_node
    elif [[ -z "$PEER_POD" && "$c_node" != "$client_node" ]]; then
      PEER_POD=$c_name PEER_IPV6=$c_ip
    fi
  done
}

# ready_pod_on NODE: true when NODE runs a Ready lab pod.
ready_pod_on() { grep -q '^[^|]*|[^|]*|True|' <<<"${NODE_PODS[$1]:-}"; }

check_daemonset() {
  local out desired current ready n want=${#LAB_NODES[@]} without=()
  local investigate="kubectl get daemonset -n ${LAB_NAMESPACE} ${LAB_DAEMONSET}; kubectl get pods -n ${LAB_NAMESPACE} -l ${LAB_POD_SELECTOR} -o wide"
  if ! out=$(kubectl get daemonset -n "$LAB_NAMESPACE" "$LAB_DAEMONSET" -o jsonpath="$Q_DAEMONSET" 2>&1); then
    fail daemonset "DaemonSet ${LAB_DAEMONSET} exists ($(brief "$out"))" "kubectl get daemonsets -n ${LAB_NAMESPACE}"
    return 0
  fi
  IFS='|' read -r desired current ready <<<"$out"
  for n in "${LAB_NODES[@]}"; do ready_pod_on "$n" || without+=("$n"); done
  if [[ "$desired" == "$want" && "$ready" == "$want" ]] && ((${#without[@]} == 0)); then
    pass daemonset "DaemonSet ${LAB_DAEMONSET} runs a Ready pod on each of the lab's ${want} nodes (desired ${desired}, ready ${ready})"
  else
    local why="desired ${desired:-?}, current ${current:-?}, ready ${ready:-?}"
    ((${#without[@]} == 0)) || why+="; no Ready pod on ${without[*]}"
    fail daemonset "DaemonSet ${LAB_DAEMONSET} runs a Ready pod on each of the lab's ${want} nodes: ${why}" \
      "${investigate}${without[0]:+; kubectl describe node ${without[0]}}"
  fi
}

# check_lab_pod NODE: exactly one pod of the DaemonSet on NODE, Running and
# Ready, with exactly one address per family, each inside its pool.
check_lab_pod() {
  local node=$1 id="lab-pod/$1" lines count name phase ready ips problems=() fam cidr
  if [[ -n "$PODS_ERROR" ]]; then
    fail "$id" "pods -l ${LAB_POD_SELECTOR} are listed in namespace ${LAB_NAMESPACE} (${PODS_ERROR})" \
      "kubectl get daemonset,pods -n ${LAB_NAMESPACE} -l ${LAB_POD_SELECTOR} -o wide"
    return 0
  fi
  lines=${NODE_PODS[$node]:-}
  count=$(grep -c . <<<"$lines" || true)
  if ((count == 0)); then
    fail "$id" "no ${LAB_POD_SELECTOR} pod on node ${node}: the DaemonSet ${LAB_DAEMONSET} runs one on every node" \
      "kubectl get daemonset,pods -n ${LAB_NAMESPACE} -l ${LAB_POD_SELECTOR} -o wide; kubectl describe node ${node}"
    return 0
  fi
  if ((count > 1)); then
    fail "$id" "${count} ${LAB_POD_SELECTOR} pods on node ${node}, want one: $(cut -d'|' -f1 <<<"${lines%$'\n'}" | paste -sd' ' -)" \
      "kubectl get pods -n ${LAB_NAMESPACE} -l ${LAB_POD_SELECTOR} -o wide"
    return 0
  fi
  IFS='|' read -r name phase ready ips <<<"$lines"
  split_families "$ips"
  [[ "$phase" == Running ]] || problems+=("phase ${phase:-unknown}")
  [[ "$ready" == True ]] || problems+=("Ready=${ready:-unknown}")
  for fam in "${LAB_FAMILIES[@]}"; do
    cidr=$(pool_var "$fam" POOL_CIDR)
    if [[ "$fam" == IPv4 ]]; then
      ((${#V4[@]} == 1)) || problems+=("${#V4[@]} IPv4 addresses")
      ((${#V4[@]} != 1)) || ip_in_cidr "${V4[0]}" "$cidr" || problems+=("${V4[0]} outside ${cidr}")
    else
      ((${#V6[@]} == 1)) || problems+=("${#V6[@]} IPv6 addresses")
      ((${#V6[@]} != 1)) || ip_in_cidr "${V6[0]}" "$cidr" || problems+=("${V6[0]} outside ${cidr}")
    fi
  done
  local got="IPv4 ${V4[0]:-none} and IPv6 ${V6[0]:-none} from the pools" want="one IPv4 and one IPv6 address from the pools"
  lab_has_family IPv4 || got="IPv6 ${V6[0]:-none} from the pool" want="one IPv6 address from the pool"
  if ((${#problems[@]} == 0)); then
    pass "$id" "pod ${name} on ${node} is Running and Ready with ${got}"
  else
    fail "$id" "pod ${name} on ${node} is Running and Ready with ${want}: $(printf '%s, ' "${problems[@]}" | sed 's/, $//') (pod IPs: ${ips:-none})" \
      "kubectl get pod -n ${LAB_NAMESPACE} ${name} -o jsonpath='{.status.phase} {.status.podIPs}'; kubectl describe pod -n ${LAB_NAMESPACE} ${name}"
  fi
}

check_ping() {
  local what="IPv6 ping between pods on different nodes"
  if [[ -z "$CLIENT_POD" ]]; then
    skip ping "${what}: no Running ${LAB_POD_KIND} pod to ping from"
    return 0
  fi
  if [[ -z "$PEER_POD" ]]; then
    fail ping "${what}: no Running ${LAB_POD_KIND} pod on a second node to ping" "kubectl get nodes; kubectl get pods -n ${LAB_NAMESPACE} -l ${LAB_POD_SELECTOR} -o wide"
    return 0
  fi
  local cmd=(ping -6 -c 3 -W 2 "$PEER_IPV6") out
  if out=$(pod_exec "$CLIENT_POD" "${cmd[@]}"); then
    pass ping "${what}: ${CLIENT_POD} -> ${PEER_POD} ${PEER_IPV6} ($(grep -Eo '[0-9]+ packets received|[0-9]+ received' <<<"$out" | head -n 1 || true))"
  else
    local summary
    summary=$(grep -E 'packet loss|exit code' <<<"$out" | head -n 1) || true
    fail ping "${what}: ${CLIENT_POD} -> ${PEER_POD} ${PEER_IPV6}: $(brief "${summary:-$out}")" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- ${cmd[*]}; kubectl get blockaffinities"
  fi
}

# curl_service ID SERVICE IP: HTTP GET to IP:LAB_SVC_PORT from the client pod.
curl_service() {
  local id=$1 svc=$2 ip=$3 host family=IPv4 out
  host=$ip
  if is_ipv6 "$ip"; then
    host="[${ip}]"
    family=IPv6
  fi
  # -g: brackets are an IPv6 literal, not a curl URL glob.
  local cmd=(curl -g -sS -o /dev/null -w '%{http_code}' --max-time "$LAB_CURL_TIMEOUT" "http://${host}:${LAB_SVC_PORT}/")
  if out=$(pod_exec "$CLIENT_POD" "${cmd[@]}") && [[ "$out" =~ ^[23][0-9][0-9]$ ]]; then
    pass "$id" "curl Service ${svc} over ${family}: http://${host}:${LAB_SVC_PORT}/ -> HTTP ${out}"
  else
    fail "$id" "curl Service ${svc} over ${family}: http://${host}:${LAB_SVC_PORT}/ -> $(brief "$out")" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- curl -g -v --max-time ${LAB_CURL_TIMEOUT} http://${host}:${LAB_SVC_PORT}/; kubectl get endpointslices -n ${LAB_NAMESPACE} -l kubernetes.io/service-name=${svc}"
  fi
}

# check_service NAME: its ClusterIPs are of exactly the families the facts
# give it; then curl it over each of them.
check_service() {
  local name=$1 families=${SVC_FAMILIES[$1]} out fam ip want_v4=0 want_v6=0
  local investigate="kubectl get service -n ${LAB_NAMESPACE} ${name} -o yaml"
  [[ " $families " != *" IPv4 "* ]] || want_v4=1
  [[ " $families " != *" IPv6 "* ]] || want_v6=1
  if ! out=$(kubectl get service -n "$LAB_NAMESPACE" "$name" -o jsonpath="$Q_SERVICE" 2>&1); then
    fail "service/$name" "Service ${name} exists ($(brief "$out"))" "kubectl get services -n ${LAB_NAMESPACE}"
    for fam in $(curl_families "$families"); do
      skip "service/$name/${fam,,}" "curl Service ${name} over ${fam}: the Service does not exist"
    done
    return 0
  fi
  split_families "$out"
  if ((${#V4[@]} == want_v4 && ${#V6[@]} == want_v6)); then
    pass "service/$name" "${PLAN_TITLE[service/$name]} (${out})"
  else
    fail "service/$name" "${PLAN_TITLE[service/$name]} (got: ${out:-none})" "$investigate"
  fi
  for fam in $(curl_families "$families"); do
    if [[ "$fam" == IPv6 ]]; then ip=${V6[0]:-}; else ip=${V4[0]:-}; fi
    if [[ -z "$ip" ]]; then
      skip "service/$name/${fam,,}" "curl Service ${name} over ${fam}: it has no ${fam} ClusterIP"
    elif [[ -z "$CLIENT_POD" ]]; then
      skip "service/$name/${fam,,}" "curl Service ${name} at ${ip}: no Running ${LAB_POD_KIND} pod to curl from"
    else
      curl_service "service/$name/${fam,,}" "$name" "$ip"
    fi
  done
}

# The lab README's point: an app bound to 0.0.0.0 only breaks IPv6 Services.
check_listen() {
  local what="nginx listens on IPv6 port ${LAB_APP_PORT}"
  if [[ -z "$CLIENT_POD" ]]; then
    skip listen "${what}: no Running ${LAB_POD_KIND} pod to look into"
    return 0
  fi
  local out
  if ! out=$(pod_exec "$CLIENT_POD" netstat -tln); then
    fail listen "${what} in ${CLIENT_POD}: netstat failed: $(brief "$out")" "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- netstat -tln"
    return 0
  fi
  if grep -Eq "(:::|\[::\]:)${LAB_APP_PORT}[[:space:]]" <<<"$out"; then
    pass listen "${what} in ${CLIENT_POD} (:::${LAB_APP_PORT})"
  else
    fail listen "${what} in ${CLIENT_POD}: no :::${LAB_APP_PORT} listener (listeners: $(awk 'NR > 2 {printf "%s ", $4}' <<<"$out"))" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- netstat -tln; kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- nginx -T"
  fi
}

check_workload() {
  local n svc
  load_lab_pods
  check_daemonset
  for n in "${LAB_NODES[@]}"; do check_lab_pod "$n"; done
  check_ping
  for svc in "${VERIFY_SERVICES[@]}"; do check_service "$svc"; done
  check_listen
}

# --- the sections, in order ------------------------------------------------------------------

# The core's own sections, then each section file's (Calico's health, the
# data path, the VXLAN tunnels; a variant adds its checks-<variant>.sh here).
verify_section access
verify_section nodes
# shellcheck source=scripts/lib/checks-calico.sh
source "$SCRIPT_DIR/scripts/lib/checks-calico.sh"
verify_section pools
verify_section workload
# shellcheck source=scripts/lib/checks-dataplane.sh
source "$SCRIPT_DIR/scripts/lib/checks-dataplane.sh"
# shellcheck source=scripts/lib/checks-vxlan.sh
source "$SCRIPT_DIR/scripts/lib/checks-vxlan.sh"
# The active variants' own sections (scripts/lib/checks-<variant>.sh), after the core's.
lab_load_variants
for _variant in ${LAB_VARIANTS[@]+"${LAB_VARIANTS[@]}"}; do
  # shellcheck source=/dev/null
  [[ ! -r "$SCRIPT_DIR/scripts/lib/checks-${_variant}.sh" ]] || source "$SCRIPT_DIR/scripts/lib/checks-${_variant}.sh"
done
unset _variant

finish() {
  plan_finish
  ((PLAN_FAILURES == 0)) || printf '(the investigate commands assume: export KUBECONFIG=%s)\n' "$LAB_KUBECONFIG"
  exit $((PLAN_FAILURES > 255 ? 255 : PLAN_FAILURES))
}

main() {
  local plan_only=false s
  case "${1:-}" in
    -h | --help)
      usage
      return 0
      ;;
    --plan) plan_only=true ;;
    "") ;;
    *)
      usage >&2
      err "unknown argument: $1"
      exit 255
      ;;
  esac
  lab_require_facts
  verify_read_facts
  plan_build
  if [[ "$plan_only" == true ]]; then
    plan_print "$LAB_FACTS_FILE"
    return 0
  fi
  export KUBECONFIG=$LAB_KUBECONFIG
  printf 'Verifying lab "%s" (KUBECONFIG=%s)\n' "$LAB_CLUSTER_NAME" "$LAB_KUBECONFIG"
  if lab_has_family IPv4; then
    printf 'Expecting pools %s %s (%s) and %s %s (%s), from %s\n' \
      "$LAB_IPV4_POOL" "$LAB_IPV4_POOL_CIDR" "$LAB_IPV4_VXLAN_MODE" \
      "$LAB_IPV6_POOL" "$LAB_IPV6_POOL_CIDR" "$LAB_IPV6_VXLAN_MODE" "$LAB_EXPECTATIONS_FROM"
  else
    printf 'Expecting pool %s %s (%s), no IPv4 (ipFamilies [%s]), from %s\n' \
      "$LAB_IPV6_POOL" "$LAB_IPV6_POOL_CIDR" "$LAB_IPV6_VXLAN_MODE" "$(lab_families)" "$LAB_EXPECTATIONS_FROM"
  fi
  printf 'Expecting Services %s on port %s -> %s, pods -l %s of daemonset/%s in %s\n\n' \
    "$(and_join "${VERIFY_SERVICES[*]}")" "$LAB_SVC_PORT" "$LAB_APP_PORT" \
    "$LAB_POD_SELECTOR" "$LAB_DAEMONSET" "$LAB_NAMESPACE"
  plan_print
  printf '\n'
  kubectl_skew_check
  if ! check_access; then
    skip_unreported "no API server to ask"
    finish
  fi
  for s in "${VERIFY_SECTIONS[@]:1}"; do "check_$s"; done
  finish
}

main "$@"
