#!/usr/bin/env bash
# Calico's own health, for verify.sh (issue 19): routes, VXLAN devices and
# IPAM blocks survive calico-node's death, so the data-path checks can pass
# on a lab whose Calico is broken. These ask Calico itself:
#   tigerastatus/<name>   the operator's TigeraStatus calico, apiserver (when
#                         the lab has an APIServer) and ippools are Available;
#                         on failure, every condition with its message;
#   calico-node/<node>    a calico-node pod is Ready on every node of the lab;
#   node-network/<node>   Calico marked the node's network up
#                         (NetworkUnavailable=False, CalicoIsUp) and the node
#                         is not tainted node.kubernetes.io/network-unavailable.
#
# A section of verify.sh's plan (scripts/lib/verify-plan.sh): plan_calico,
# check_calico. Sourced by verify.sh, never executed.

[[ -n "${_LAB_CHECKS_CALICO_SH:-}" ]] && return 0
_LAB_CHECKS_CALICO_SH=1
# shellcheck source=scripts/lib/verify-plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/verify-plan.sh"

LAB_CALICO_NAMESPACE=${LAB_CALICO_NAMESPACE:-calico-system}
# Taint the node lifecycle controller puts on a node whose NetworkUnavailable is True.
NETWORK_UNAVAILABLE_TAINT=node.kubernetes.io/network-unavailable

# calico_tigerastatuses: the TigeraStatus objects the operator keeps for this
# lab: calico (the Installation), apiserver (the APIServer), ippools.
calico_tigerastatuses() {
  echo calico
  [[ "$(fact calico.apiServer)" != true ]] || echo apiserver
  echo ippools
}

plan_calico() {
  local ts n
  for ts in $(calico_tigerastatuses); do
    plan_check "tigerastatus/$ts" "TigeraStatus ${ts} is Available"
  done
  for n in "${LAB_NODES[@]}"; do
    plan_check "calico-node/$n" "calico-node is Ready on ${n}"
  done
  for n in "${LAB_NODES[@]}"; do
    plan_check "node-network/$n" "node ${n}'s network is up: NetworkUnavailable False, no ${NETWORK_UNAVAILABLE_TAINT} taint"
  done
}

# check_tigerastatus NAME: Available=True, else every condition and its message.
check_tigerastatus() {
  local name=$1 id="tigerastatus/$1" out type status message available="" conditions=()
  local investigate="kubectl get tigerastatus ${name} -o yaml; kubectl logs -n tigera-operator deployment/tigera-operator --tail=50"
  if ! out=$(kubectl get tigerastatus "$name" -o jsonpath="$Q_TIGERASTATUS" 2>&1); then
    fail "$id" "TigeraStatus ${name} is Available: $(brief "$out")" "kubectl get tigerastatus; ${investigate#*; }"
    return 0
  fi
  while IFS='|' read -r type status message; do
    [[ -n "$type" ]] || continue
    [[ "$type" != Available ]] || available=$status
    if [[ -n "$message" && ("$type" != Available || "$status" != True) ]]; then
      conditions+=("${type}=${status} (${message})")
    else
      conditions+=("${type}=${status}")
    fi
  done <<<"$out"
  if [[ "$available" == True ]]; then
    pass "$id" "TigeraStatus ${name} is Available"
  else
    fail "$id" "TigeraStatus ${name} is Available: $(printf '%s, ' "${conditions[@]:-no conditions}" | sed 's/, $//')" "$investigate"
  fi
}

check_calico_nodes() {
  local out name node ready reason n pod
  local -A pods=()
  if ! out=$(kubectl get pods -n "$LAB_CALICO_NAMESPACE" -l k8s-app=calico-node -o jsonpath="$(in_list "$Q_CALICO_NODE_READY")" 2>&1); then
    for n in "${LAB_NODES[@]}"; do
      fail "calico-node/$n" "calico-node is Ready on ${n}: the calico-node pods cannot be listed ($(brief "$out"))" \
        "kubectl get pods -n ${LAB_CALICO_NAMESPACE} -o wide"
    done
    return 0
  fi
  while IFS='|' read -r name node ready reason; do
    [[ -n "$name" ]] || continue
    pods[$node]+="${name}|${ready}|${reason}"$'\n'
  done <<<"$out"
  for n in "${LAB_NODES[@]}"; do
    if [[ -z "${pods[$n]:-}" ]]; then
      fail "calico-node/$n" "calico-node is Ready on ${n}: there is no calico-node pod on ${n}" \
        "kubectl get daemonset -n ${LAB_CALICO_NAMESPACE} calico-node; kubectl get pods -n ${LAB_CALICO_NAMESPACE} -o wide; kubectl describe node ${n}"
      continue
    fi
    IFS='|' read -r pod ready reason <<<"${pods[$n]}"
    if [[ "$ready" == True ]]; then
      pass "calico-node/$n" "calico-node is Ready on ${n} (${pod})"
    else
      fail "calico-node/$n" "calico-node is Ready on ${n}: ${pod} is not Ready (Ready=${ready:-unknown}${reason:+, waiting: ${reason}})" \
        "kubectl describe pod -n ${LAB_CALICO_NAMESPACE} ${pod}; kubectl logs -n ${LAB_CALICO_NAMESPACE} ${pod} -c calico-node --tail=20"
    fi
  done
}

check_node_networks() {
  local out name status reason taints n problems
  local -A network=()
  if ! out=$(kubectl get nodes -o jsonpath="$(in_list "$Q_NODE_NETWORK")" 2>&1); then
    for n in "${LAB_NODES[@]}"; do
      fail "node-network/$n" "node ${n}'s network is up: the nodes cannot be listed ($(brief "$out"))" "kubectl get nodes"
    done
    return 0
  fi
  while IFS='|' read -r name status reason taints; do
    [[ -n "$name" ]] || continue
    network[$name]="${status}|${reason}|${taints}"
  done <<<"$out"
  for n in "${LAB_NODES[@]}"; do
    if [[ -z "${network[$n]:-}" ]]; then
      fail "node-network/$n" "node ${n}'s network is up: it is not in the cluster" "kubectl get nodes"
      continue
    fi
    IFS='|' read -r status reason taints <<<"${network[$n]}"
    problems=()
    case "$status" in
      False) ;;
      "") problems+=("no NetworkUnavailable condition: calico-node has never started on it") ;;
      *) problems+=("NetworkUnavailable=${status}${reason:+ (${reason})}") ;;
    esac
    [[ " $taints " != *" ${NETWORK_UNAVAILABLE_TAINT} "* ]] || problems+=("tainted ${NETWORK_UNAVAILABLE_TAINT}: no new pods are scheduled there")
    if ((${#problems[@]} == 0)); then
      pass "node-network/$n" "node ${n}'s network is up: NetworkUnavailable False (${reason:-no reason}), no ${NETWORK_UNAVAILABLE_TAINT} taint"
    else
      fail "node-network/$n" "node ${n}'s network is up: $(printf '%s; ' "${problems[@]}" | sed 's/; $//')" \
        "kubectl describe node ${n}; kubectl get pods -n ${LAB_CALICO_NAMESPACE} -o wide --field-selector spec.nodeName=${n}"
    fi
  done
}

check_calico() {
  local ts
  for ts in $(calico_tigerastatuses); do check_tigerastatus "$ts"; done
  check_calico_nodes
  check_node_networks
}

verify_section calico
