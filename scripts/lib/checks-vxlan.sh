#!/usr/bin/env bash
# VXLAN checks of verify.sh: on the client pod's node, each pool's VXLAN
# device is bound to the node's address of the pool's family (vxlan.calico
# to its IPv4 address, vxlan-v6.calico to its IPv6 one): IPv6 pod traffic
# rides IPv6 between the nodes, not IPv4 as the lab's README says.
#
# A section of verify.sh's plan (scripts/lib/verify-plan.sh): one check per
# family, vxlan/ipv4 and vxlan/ipv6, always planned; a pool whose vxlanMode
# is Never (native routing, e.g. BGP) has no VXLAN device, and a lab without
# the family (IPv6-only) no pool: their checks are SKIPped saying so. Runs after checks-dataplane.sh, whose
# cluster facts (DP_POD_NODE, DP_NODE_V4, DP_NODE_V6) and calico_node_pod it
# uses. Sourced by verify.sh, never executed.

[[ -n "${_LAB_CHECKS_VXLAN_SH:-}" ]] && return 0
_LAB_CHECKS_VXLAN_SH=1
# shellcheck source=scripts/lib/verify-plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/verify-plan.sh"

# vxlan_device FAMILY: the device Felix programs for FAMILY's pool.
vxlan_device() { if [[ "$1" == IPv4 ]]; then echo vxlan.calico; else echo vxlan-v6.calico; fi; }

plan_vxlan() {
  local fam
  for fam in "${ALL_FAMILIES[@]}"; do
    plan_check "vxlan/${fam,,}" "$(vxlan_device "$fam") tunnels from the node's ${fam} address"
  done
}

# check_tunnel_endpoint FAMILY NODE POD: the device's "local" address is the
# node's InternalIP of FAMILY.
check_tunnel_endpoint() {
  local family=$1 node=$2 pod=$3 id="vxlan/${1,,}" dev want out local_addr
  dev=$(vxlan_device "$family")
  if [[ "$family" == IPv4 ]]; then want=${DP_NODE_V4[$node]:-}; else want=${DP_NODE_V6[$node]:-}; fi
  local cmd="kubectl exec -n ${LAB_CALICO_NAMESPACE} ${pod} -c calico-node -- ip -d link show ${dev}"
  if ! out=$(kubectl exec -n "$LAB_CALICO_NAMESPACE" "$pod" -c calico-node -- ip -d link show "$dev" 2>&1); then
    fail "$id" "${dev} exists on ${node}: $(brief "$out")" "${cmd}; kubectl get ippools.crd.projectcalico.org -o wide"
    return 0
  fi
  local_addr=$(vxlan_local "$out")
  if [[ -n "$want" && "$local_addr" == "$want" ]]; then
    pass "$id" "${dev} on ${node} tunnels from the node's ${family} address ${local_addr}"
  else
    fail "$id" "${dev} on ${node} tunnels from the node's ${family} address ${want:-unknown}: its local address is ${local_addr:-none}" \
      "${cmd}; kubectl get node ${node} -o jsonpath='{.status.addresses}'"
  fi
}

check_vxlan() {
  local fam node="" pod="" pod_error="" mode
  if [[ -n "$CLIENT_POD" ]]; then
    node=${DP_POD_NODE[$CLIENT_POD]:-}
    pod=$(calico_node_pod "$node") || { pod_error=$pod pod=""; }
  fi
  for fam in "${ALL_FAMILIES[@]}"; do
    mode=$(pool_var "$fam" VXLAN_MODE)
    if ! lab_has_family "$fam"; then
      skip "vxlan/${fam,,}" "${PLAN_TITLE[vxlan/${fam,,}]}: $(no_family_reason "$fam"), so no ${fam} pool and no $(vxlan_device "$fam")"
    elif [[ "$mode" == Never ]]; then
      skip "vxlan/${fam,,}" "${PLAN_TITLE[vxlan/${fam,,}]}: pool $(pool_var "$fam" POOL) has vxlanMode Never, so no VXLAN device"
    elif [[ -z "$CLIENT_POD" ]]; then
      skip "vxlan/${fam,,}" "${PLAN_TITLE[vxlan/${fam,,}]}: no Running pod to pick a node by"
    elif [[ -z "$pod" ]]; then
      fail "vxlan/${fam,,}" "$(vxlan_device "$fam") on ${node}: no calico-node pod to look through ($(brief "$pod_error"))" \
        "kubectl get pods -n ${LAB_CALICO_NAMESPACE} -l k8s-app=calico-node -o wide"
    else
      check_tunnel_endpoint "$fam" "$node" "$pod"
    fi
  done
}

verify_section vxlan
