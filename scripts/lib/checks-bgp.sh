#!/usr/bin/env bash
# verify.sh's checks of routing "bgp" (docs/bgp.md, docs/verify-checks.md): every expectation from the
# lab's facts, every answer from Calico itself (CalicoNodeStatus, BlockAffinities) and from the router:
#   router                 the router container runs the dist's image, addresses and configuration
#   bgp-sessions/<node>/<family>
#                          calico-node's BIRD on the node has an Established session of that family to
#                          the router (a GlobalPeer) and to every other node (NodeMesh), as the node's
#                          CalicoNodeStatus reports it
#   router-route/<node>/<family>
#                          the router's table holds each block the node holds (its BlockAffinities) with
#                          the node's own address of that family as next hop
#   router-service/<family> the router holds the Service range of that family, via every node
#   router-pod/<node>/<family>
#                          the router reaches the lab's pod on the node over that family, and the pod
#                          sees the router's own address as the client (no NAT, no tunnel)
#   no-vxlan/<node>        the node has no VXLAN device
# Planned for each node of the facts and each family of the lab, so the count is fixed by the dist:
# 1 + 5 per node and family + 1 per family + 1 per node (24 for the default 3-node dual-stack lab).
# A check that cannot run (no router, no pod) is SKIPped or FAILed with the reason.
#
# A section of verify.sh's plan (scripts/lib/verify-plan.sh), after the core's; uses checks-dataplane.sh's
# Q_BLOCK_AFFINITY, calico_node_pod and DP_* maps, verify.sh's brief, and variant-bgp.sh's router helpers.
# Sourced by verify.sh for the active variant bgp, never executed.

[[ -n "${_LAB_CHECKS_BGP_SH:-}" ]] && return 0
_LAB_CHECKS_BGP_SH=1
# shellcheck source=scripts/lib/verify-plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/verify-plan.sh"
# shellcheck source=scripts/lib/variant-bgp.sh
source "$(dirname "${BASH_SOURCE[0]}")/variant-bgp.sh"

# bgp_peer_ip FAMILY: the router's address the nodes peer with over FAMILY (the facts' BGPPeer).
bgp_peer_ip() {
  local i
  i=$(fact_find bgp.peers family "$1") || return 0
  fact "bgp.peers.$i.peerIP"
}

# bgp_service_range FAMILY: the Service range of FAMILY the nodes advertise.
bgp_service_range() {
  local cidr
  for cidr in $(fact_list bgp.serviceClusterIPs); do
    if [[ "$1" == IPv6 ]] && is_ipv6 "${cidr%/*}"; then printf '%s' "$cidr"; return 0; fi
    if [[ "$1" == IPv4 ]] && ! is_ipv6 "${cidr%/*}"; then printf '%s' "$cidr"; return 0; fi
  done
}

plan_bgp() {
  local n fam others=$((${#LAB_NODES[@]} - 1))
  bgp_defaults
  plan_check router "router ${LAB_ROUTER_NAME} runs ${LAB_ROUTER_IMAGE} at ${ROUTER_IPV4} and ${ROUTER_IPV6}, with the dist's $(fact_or bgp.router.configDir frr)/ as it is"
  for n in "${LAB_NODES[@]}"; do
    for fam in "${LAB_FAMILIES[@]}"; do
      plan_check "bgp-sessions/$n/${fam,,}" "node ${n}'s ${fam} BGP sessions are Established: the router $(bgp_peer_ip "$fam") and the ${others} other nodes (CalicoNodeStatus)"
    done
  done
  for n in "${LAB_NODES[@]}"; do
    for fam in "${LAB_FAMILIES[@]}"; do
      plan_check "router-route/$n/${fam,,}" "the router routes node ${n}'s ${fam} blocks via ${n}'s own ${fam} address"
    done
  done
  for fam in "${LAB_FAMILIES[@]}"; do
    plan_check "router-service/${fam,,}" "the router routes the Service range $(bgp_service_range "$fam") via every node"
  done
  for n in "${LAB_NODES[@]}"; do
    for fam in "${LAB_FAMILIES[@]}"; do
      plan_check "router-pod/$n/${fam,,}" "the router reaches the pod on ${n} over ${fam} and the pod sees $(bgp_peer_ip "$fam"): no NAT, no tunnel"
    done
  done
  for n in "${LAB_NODES[@]}"; do
    plan_check "no-vxlan/$n" "node ${n} has no VXLAN device"
  done
}

# --- the router ----------------------------------------------------------------------------

# check_router: ROUTER_UP=true when it runs (the checks that ask it need that); PASS when it runs the dist.
check_router() {
  local diffs
  ROUTER_UP=false
  if ! have docker; then
    fail router "${PLAN_TITLE[router]}: docker is not on PATH to look at it" "install Docker, or run verify where the lab's Docker daemon is"
    return 0
  fi
  bgp_router_inspect
  case "$ROUTER_STATE" in
    absent)
      fail router "${PLAN_TITLE[router]}: there is no container ${LAB_ROUTER_NAME}" "./deploy.sh   (starts it); docker ps -a --filter name=${LAB_ROUTER_NAME}"
      return 0
      ;;
    stopped)
      fail router "${PLAN_TITLE[router]}: ${LAB_ROUTER_NAME} exists but is not running" "docker logs --tail 20 ${LAB_ROUTER_NAME}; ./deploy.sh starts it again"
      return 0
      ;;
  esac
  ROUTER_UP=true
  diffs=$(bgp_router_differences)
  if [[ -z "$diffs" ]]; then
    pass router "${PLAN_TITLE[router]}"
  else
    fail router "${PLAN_TITLE[router]}: $(paste -sd';' - <<<"$diffs" | sed 's/;/; /g')" \
      "docker inspect ${LAB_ROUTER_NAME}; docker rm -f ${LAB_ROUTER_NAME}, then ./deploy.sh"
  fi
}

# --- the sessions, as calico-node reports them ----------------------------------------------

# bgp_node_ip NODE FAMILY: the node's InternalIP of FAMILY (checks-dataplane.sh's DP_NODE_*).
bgp_node_ip() { if [[ "$2" == IPv4 ]]; then printf '%s' "${DP_NODE_V4[$1]:-}"; else printf '%s' "${DP_NODE_V6[$1]:-}"; fi; }

# peer_state PEERS IP: the "type=state" of IP in a Q_NODE_STATUS peers field ("ip=type=state,...").
peer_state() { tr ',' '\n' <<<"$1" | awk -F= -v ip="$2" '$1 == ip { print $2 "=" $3; exit }'; }

check_bgp_sessions() {
  local out name node updated b4 b6 p4 p6 n fam peers want ip problems other id router_ip got
  local -A status_node=() status_updated=() status_v4=() status_v6=() status_bird=()
  local investigate="kubectl get caliconodestatuses.crd.projectcalico.org -o yaml"
  if ! out=$(kubectl get caliconodestatuses.crd.projectcalico.org -o jsonpath="$(in_list "$Q_NODE_STATUS")" 2>&1); then
    for n in "${LAB_NODES[@]}"; do
      for fam in "${LAB_FAMILIES[@]}"; do
        fail "bgp-sessions/$n/${fam,,}" "${PLAN_TITLE[bgp-sessions/$n/${fam,,}]}: the CalicoNodeStatus objects cannot be listed ($(brief "$out"))" "$investigate"
      done
    done
    return 0
  fi
  while IFS='|' read -r name node updated b4 b6 p4 p6; do
    [[ -n "$name" ]] || continue
    status_node[$node]=$name status_updated[$node]=$updated status_v4[$node]=$p4 status_v6[$node]=$p6
    status_bird[$node/IPv4]=$b4 status_bird[$node/IPv6]=$b6
  done <<<"$out"
  for n in "${LAB_NODES[@]}"; do
    for fam in "${LAB_FAMILIES[@]}"; do
      id="bgp-sessions/$n/${fam,,}"
      if [[ -z "${status_node[$n]:-}" ]]; then
        fail "$id" "${PLAN_TITLE[$id]}: no CalicoNodeStatus reports for ${n}" "kubectl get caliconodestatus; ./deploy.sh applies one per node from ${LAB_DIST_DIR}"
        continue
      fi
      if [[ -z "${status_updated[$n]}" ]]; then
        fail "$id" "${PLAN_TITLE[$id]}: calico-node on ${n} has not reported into CalicoNodeStatus ${status_node[$n]} yet" \
          "kubectl get caliconodestatus ${status_node[$n]} -o yaml; kubectl logs -n ${LAB_CALICO_NAMESPACE} $(calico_node_pod "$n" 2>/dev/null || echo '<calico-node pod>') -c calico-node --tail=20"
        continue
      fi
      if [[ "$fam" == IPv4 ]]; then peers=${status_v4[$n]}; else peers=${status_v6[$n]}; fi
      router_ip=$(bgp_peer_ip "$fam")
      want=("${router_ip}=GlobalPeer")
      for other in "${LAB_NODES[@]}"; do
        [[ "$other" != "$n" ]] || continue
        ip=$(bgp_node_ip "$other" "$fam")
        want+=("${ip:-<${other} has no ${fam} address>}=NodeMesh")
      done
      problems=()
      # Agent: BIRD's own state (birdcl show status); "Ready" once it runs with its configuration.
      [[ "${status_bird[$n/$fam]}" == Ready ]] || problems+=("its ${fam} BIRD is ${status_bird[$n/$fam]:-not reported}")
      for ip in "${want[@]}"; do
        got=$(peer_state "$peers" "${ip%=*}")
        if [[ -z "$got" ]]; then
          problems+=("no session with ${ip%=*} (${ip#*=})")
        elif [[ "$got" != "${ip#*=}=Established" ]]; then
          problems+=("${ip%=*} ${got#*=} (${got%=*})")
        fi
      done
      if ((${#problems[@]} == 0)); then
        pass "$id" "node ${n}'s ${fam} BGP sessions are Established: ${router_ip} (GlobalPeer) and $(printf '%s ' "${want[@]:1}" | sed 's/=NodeMesh//g; s/ $//') (NodeMesh), as of ${status_updated[$n]}"
      else
        fail "$id" "${PLAN_TITLE[$id]}: $(printf '%s; ' "${problems[@]}" | sed 's/; $//') (CalicoNodeStatus ${status_node[$n]}, as of ${status_updated[$n]})" \
          "kubectl get caliconodestatus ${status_node[$n]} -o yaml; docker exec ${LAB_ROUTER_NAME} vtysh -c 'show bgp summary'"
      fi
    done
  done
}

# --- the router's table -------------------------------------------------------------------------

# Filled by load_router_tables: the router's paths per family (frr-json.js routes lines) or the error.
declare -gA ROUTER_PATHS=() ROUTER_TABLE_ERROR=()

load_router_tables() {
  local fam out
  for fam in "${LAB_FAMILIES[@]}"; do
    if out=$(bgp_frr_json routes "show bgp ${fam,,} unicast json"); then
      ROUTER_PATHS[$fam]=$out
    else
      ROUTER_TABLE_ERROR[$fam]=$(brief "$out")
    fi
  done
}

# best_nexthop PATHS PREFIX: the next hop of PREFIX's best path ("" when the router has no such prefix).
best_nexthop() { awk -F'|' -v p="$2" '$1 == p && $4 == 1 { print $3; exit }' <<<"$1"; }

check_router_routes() {
  local out n fam id cidr state blocks block ip via problems pool have_paths blocks_error=""
  local -A node_blocks=()
  local investigate="kubectl get blockaffinities.crd.projectcalico.org; docker exec ${LAB_ROUTER_NAME} vtysh -c 'show bgp"
  if ! out=$(kubectl get blockaffinities.crd.projectcalico.org -o jsonpath="$(in_list "$Q_BLOCK_AFFINITY")" 2>&1); then
    blocks_error=$(brief "$out") out=""
  fi
  while IFS='|' read -r n cidr state; do
    [[ -n "$n" && "$state" == confirmed ]] || continue
    if is_ipv6 "${cidr%/*}"; then fam=IPv6; else fam=IPv4; fi
    node_blocks[$n/$fam]+="${cidr} "
  done <<<"$out"
  for n in "${LAB_NODES[@]}"; do
    for fam in "${LAB_FAMILIES[@]}"; do
      id="router-route/$n/${fam,,}"
      ip=$(bgp_node_ip "$n" "$fam")
      blocks=${node_blocks[$n/$fam]:-}
      if [[ "$ROUTER_UP" != true ]]; then
        skip "$id" "${PLAN_TITLE[$id]}: the router is not running (above)"
      elif [[ -n "${ROUTER_TABLE_ERROR[$fam]:-}" ]]; then
        fail "$id" "${PLAN_TITLE[$id]}: the router does not answer 'show bgp ${fam,,} unicast json' (${ROUTER_TABLE_ERROR[$fam]})" "docker logs --tail 20 ${LAB_ROUTER_NAME}"
      elif [[ -n "$blocks_error" ]]; then
        fail "$id" "${PLAN_TITLE[$id]}: the block affinities cannot be listed (${blocks_error})" "kubectl get blockaffinities.crd.projectcalico.org"
      elif [[ -z "$blocks" ]]; then
        fail "$id" "${PLAN_TITLE[$id]}: ${n} holds no confirmed ${fam} block to look for (blocks/${n} says why)" "${investigate} ${fam,,} unicast'"
      else
        problems=()
        for block in $blocks; do
          via=$(best_nexthop "${ROUTER_PATHS[$fam]}" "$block")
          if [[ -z "$via" ]]; then
            problems+=("${block} is not in the router's table")
          elif [[ "$via" != "$ip" ]]; then
            problems+=("${block} goes via ${via}, not ${n}'s ${ip:-unknown}")
          fi
        done
        if ((${#problems[@]} == 0)); then
          pass "$id" "the router routes node ${n}'s ${fam} block ${blocks% } via ${ip}, ${n}'s own ${fam} address"
        else
          fail "$id" "${PLAN_TITLE[$id]}: $(printf '%s; ' "${problems[@]}" | sed 's/; $//')" "${investigate} ${fam,,} unicast'; kubectl get caliconodestatus ${n} -o yaml"
        fi
      fi
    done
  done
  for fam in "${LAB_FAMILIES[@]}"; do
    id="router-service/${fam,,}"
    pool=$(bgp_service_range "$fam")
    if [[ "$ROUTER_UP" != true ]]; then
      skip "$id" "${PLAN_TITLE[$id]}: the router is not running (above)"
      continue
    elif [[ -n "${ROUTER_TABLE_ERROR[$fam]:-}" ]]; then
      fail "$id" "${PLAN_TITLE[$id]}: the router does not answer 'show bgp ${fam,,} unicast json' (${ROUTER_TABLE_ERROR[$fam]})" "docker logs --tail 20 ${LAB_ROUTER_NAME}"
      continue
    fi
    have_paths=$(awk -F'|' -v p="$pool" '$1 == p && $2 == $3 { print $3 }' <<<"${ROUTER_PATHS[$fam]}")
    problems=()
    for n in "${LAB_NODES[@]}"; do
      ip=$(bgp_node_ip "$n" "$fam")
      grep -qxF -- "$ip" <<<"$have_paths" || problems+=("${n} (${ip:-no ${fam} address})")
    done
    if ((${#problems[@]} == 0)); then
      pass "$id" "the router routes the Service range ${pool} via every node: $(sort <<<"$have_paths" | tr '\n' ' ' | sed 's/ $//')"
    else
      fail "$id" "${PLAN_TITLE[$id]}: no path via $(printf '%s, ' "${problems[@]}" | sed 's/, $//')" \
        "${investigate} ${fam,,} unicast ${pool}'; kubectl get bgpconfiguration default -o yaml"
    fi
  done
}

# --- from the router to the pods --------------------------------------------------------------

check_router_pods() {
  local n fam id pod name ip url out client want
  for n in "${LAB_NODES[@]}"; do
    pod=""
    for name in "${!DP_POD_NODE[@]}"; do
      [[ "${DP_POD_NODE[$name]}" == "$n" ]] && pod=$name && break
    done
    for fam in "${LAB_FAMILIES[@]}"; do
      id="router-pod/$n/${fam,,}"
      want=$(bgp_peer_ip "$fam")
      if [[ "$ROUTER_UP" != true ]]; then
        skip "$id" "${PLAN_TITLE[$id]}: the router is not running (above)"
        continue
      fi
      if [[ "$fam" == IPv4 ]]; then ip=${DP_POD_V4[$pod]:-}; else ip=${DP_POD_V6[$pod]:-}; fi
      if [[ -z "$pod" || -z "$ip" ]]; then
        skip "$id" "${PLAN_TITLE[$id]}: no ${LAB_POD_SELECTOR} pod with an ${fam} address on ${n} (lab-pod/${n} says why)"
        continue
      fi
      url="http://$(url_host "$ip"):${LAB_APP_PORT}/"
      # busybox wget: FRR's image is Alpine's, with no curl.
      out=$(docker exec "$LAB_ROUTER_NAME" wget -q -O - -T "$LAB_CURL_TIMEOUT" "$url" 2>&1) || out="${out:-no answer}"
      client=$(sed -n 's/.*(client \([^)]*\)).*/\1/p' <<<"$out" | head -n 1)
      if [[ "$out" == *"answered over ${fam} "* && "$client" == "$want" ]]; then
        pass "$id" "the router reaches ${pod} on ${n} at ${url}: answered over ${fam}, client ${client}, the router's own address"
      elif [[ -n "$client" ]]; then
        fail "$id" "${PLAN_TITLE[$id]}: ${pod} at ${url} saw ${client}, not the router's ${want}: something translates the router's address on the way" \
          "docker exec ${LAB_ROUTER_NAME} ip route get ${ip}; kubectl get ippools.crd.projectcalico.org -o wide; ./explain.sh"
      else
        fail "$id" "${PLAN_TITLE[$id]}: ${url}: $(brief "$out")" \
          "docker exec ${LAB_ROUTER_NAME} ip route get ${ip}; docker exec ${LAB_ROUTER_NAME} vtysh -c 'show bgp ${fam,,} unicast ${ip}'"
      fi
    done
  done
}

# --- no tunnel -----------------------------------------------------------------------------------

check_no_vxlan() {
  local n pod out devs id
  for n in "${LAB_NODES[@]}"; do
    id="no-vxlan/$n"
    if ! pod=$(calico_node_pod "$n"); then
      fail "$id" "${PLAN_TITLE[$id]}: no calico-node pod to look through ($(brief "$pod"))" "kubectl get pods -n ${LAB_CALICO_NAMESPACE} -l k8s-app=calico-node -o wide"
      continue
    fi
    local cmd="kubectl exec -n ${LAB_CALICO_NAMESPACE} ${pod} -c calico-node -- ip -d link show type vxlan"
    if ! out=$(kubectl exec -n "$LAB_CALICO_NAMESPACE" "$pod" -c calico-node -- ip -d link show type vxlan 2>&1); then
      fail "$id" "${PLAN_TITLE[$id]}: $(brief "$out")" "$cmd"
      continue
    fi
    devs=$(sed -n 's/^[0-9]*: \([^:@]*\).*/\1/p' <<<"$out" | tr '\n' ' ')
    if [[ -z "$devs" ]]; then
      pass "$id" "node ${n} has no VXLAN device: pod packets leave it as they are"
    else
      fail "$id" "${PLAN_TITLE[$id]}: it has ${devs% } (a pool with vxlanMode other than Never, or Felix's leftovers)" \
        "${cmd}; kubectl get ippools.crd.projectcalico.org -o custom-columns=NAME:.metadata.name,VXLAN:.spec.vxlanMode"
    fi
  done
}

check_bgp() {
  bgp_defaults
  [[ ${#DP_NODE_V4[@]} -gt 0 || ${#DP_NODE_V6[@]} -gt 0 ]] || dataplane_load_cluster
  check_router
  check_bgp_sessions
  [[ "$ROUTER_UP" != true ]] || load_router_tables
  check_router_routes
  check_router_pods
  check_no_vxlan
}

verify_section bgp
