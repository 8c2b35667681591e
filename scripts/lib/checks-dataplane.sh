#!/usr/bin/env bash
# Data-path checks of verify.sh: block affinities, pod-to-pod HTTP, Service
# DNS, egress through NAT to a host outside the cluster, and the pod MTU.
#
# A section of verify.sh's plan (scripts/lib/verify-plan.sh): plan_dataplane
# plans them from the facts (a block check per node of the lab, DNS and
# by-name checks per Service and family, HTTP and egress per family: both
# families in every lab, a family the lab lacks SKIPped); check_dataplane
# runs them after verify's workload section has picked CLIENT_POD and
# PEER_POD. Uses verify.sh's brief, pod_exec, LAB_FAMILIES, ALL_FAMILIES,
# LAB_POD_KIND, no_family_reason, VERIFY_SERVICES and SVC_FAMILIES;
# split_families comes from common.sh, lab_has_family from variants.sh. The VXLAN tunnel
# checks are checks-vxlan.sh's. Needs kubectl; docker only to learn the
# external host's addresses (or set LAB_EXTERNAL_IPV4 / LAB_EXTERNAL_IPV6).
# shellcheck disable=SC2034 # Q_BLOCK_AFFINITY is read by the tests too

[[ -n "${_LAB_CHECKS_DATAPLANE_SH:-}" ]] && return 0
_LAB_CHECKS_DATAPLANE_SH=1

# shellcheck source=scripts/lib/external-host.sh
source "$(dirname "${BASH_SOURCE[0]}")/external-host.sh"
# shellcheck source=scripts/lib/verify-plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/verify-plan.sh"

# node|cidr|state of one BlockAffinity (crd.projectcalico.org/v1).
Q_BLOCK_AFFINITY='{.spec.node}{"|"}{.spec.cidr}{"|"}{.spec.state}{"\n"}'
# Payload of an ICMPv6 echo that fills an MTU: IPv6 header 40 + ICMPv6 header 8.
ICMP6_OVERHEAD=48

# dataplane_resolve_expectations: the names the data-path checks use beyond
# the pools' natOutgoing and blockSize, which lab_init_expectations
# (common.sh) has set from the environment, dist/ or the lab's defaults.
dataplane_resolve_expectations() {
  LAB_CLUSTER_DOMAIN=${LAB_CLUSTER_DOMAIN:-cluster.local}
  LAB_CALICO_NAMESPACE=${LAB_CALICO_NAMESPACE:-calico-system}
  LAB_POD_MTU=${LAB_POD_MTU:-}
}

# --- cluster facts, read once --------------------------------------------------------

declare -gA DP_NODE_V4=() DP_NODE_V6=() DP_POD_NODE=() DP_POD_V4=() DP_POD_V6=()

dataplane_load_cluster() {
  local out name ready ips node phase
  if out=$(kubectl get nodes -o jsonpath="$(in_list "$Q_NODE")" 2>/dev/null); then
    while IFS='|' read -r name ready ips; do
      [[ -n "$name" ]] || continue
      split_families "$ips"
      DP_NODE_V4[$name]=${V4[0]:-}
      DP_NODE_V6[$name]=${V6[0]:-}
    done <<<"$out"
  fi
  if out=$(kubectl get pods -n "$LAB_NAMESPACE" -l "$LAB_POD_SELECTOR" -o jsonpath="$(in_list "$Q_POD")" 2>/dev/null); then
    while IFS='|' read -r name node phase ips; do
      [[ -n "$name" ]] || continue
      split_families "$ips"
      DP_POD_NODE[$name]=$node
      DP_POD_V4[$name]=${V4[0]:-}
      DP_POD_V6[$name]=${V6[0]:-}
    done <<<"$out"
  fi
}

# --- the plan ---------------------------------------------------------------------------

plan_dataplane() {
  local n fam svc
  for n in "${LAB_NODES[@]}"; do
    plan_check "blocks/$n" "node ${n} holds a confirmed block of each pool"
  done
  for fam in "${ALL_FAMILIES[@]}"; do
    plan_check "http/${fam,,}" "HTTP over ${fam} between pods on different nodes"
  done
  for svc in "${VERIFY_SERVICES[@]}"; do
    plan_check "dns/$svc" "DNS: ${svc}.${LAB_NAMESPACE}.svc.${LAB_CLUSTER_DOMAIN} resolves to its ClusterIPs"
  done
  for svc in "${VERIFY_SERVICES[@]}"; do
    for fam in ${SVC_FAMILIES[$svc]}; do
      plan_check "by-name/$svc/${fam,,}" "curl -${fam#IPv} http://${svc}:${LAB_SVC_PORT}/ (by name) answers over ${fam}"
    done
  done
  for fam in "${ALL_FAMILIES[@]}"; do
    plan_check "egress/${fam,,}" "egress over ${fam} to the external host ${LAB_EXTERNAL_NAME}"
  done
  plan_check mtu "pod eth0 MTU is the one Calico configured"
  plan_check mtu-ping "don't-fragment IPv6 ping across nodes fits the MTU"
}

# --- block affinities -------------------------------------------------------------------

# check_block_affinities: every node of the lab holds a confirmed block of
# each pool's block size, as the lab's "Block Allocation" section shows.
check_block_affinities() {
  local out node n cidr state v4 v6
  local investigate="kubectl get blockaffinities.crd.projectcalico.org -o custom-columns=NODE:.spec.node,CIDR:.spec.cidr,STATE:.spec.state"
  if ! out=$(kubectl get blockaffinities.crd.projectcalico.org -o jsonpath="$(in_list "$Q_BLOCK_AFFINITY")" 2>&1); then
    for node in "${LAB_NODES[@]}"; do
      fail "blocks/$node" "block affinities are listed ($(brief "$out"))" "$investigate"
    done
    return 0
  fi
  for node in "${LAB_NODES[@]}"; do
    v4="" v6=""
    while IFS='|' read -r n cidr state; do
      [[ "$n" == "$node" && "$state" == confirmed ]] || continue
      if is_ipv6 "$cidr"; then
        [[ "${cidr#*/}" == "$LAB_IPV6_BLOCK_SIZE" ]] && ip_in_cidr "${cidr%/*}" "$LAB_IPV6_POOL_CIDR" && v6=${v6:-$cidr}
      else
        [[ "${cidr#*/}" == "$LAB_IPV4_BLOCK_SIZE" ]] && ip_in_cidr "${cidr%/*}" "$LAB_IPV4_POOL_CIDR" && v4=${v4:-$cidr}
      fi
    done <<<"$out"
    if ! lab_has_family IPv4 && [[ -n "$v6" ]]; then
      pass "blocks/$node" "node ${node} holds IPv6 block ${v6}"
    elif [[ -n "$v4" && -n "$v6" ]]; then
      pass "blocks/$node" "node ${node} holds IPv4 block ${v4} and IPv6 block ${v6}"
    else
      local held want="a confirmed /${LAB_IPV4_BLOCK_SIZE} block of ${LAB_IPV4_POOL_CIDR} and a /${LAB_IPV6_BLOCK_SIZE} block of ${LAB_IPV6_POOL_CIDR}"
      lab_has_family IPv4 || want="a confirmed /${LAB_IPV6_BLOCK_SIZE} block of ${LAB_IPV6_POOL_CIDR}"
      held=$(awk -F'|' -v n="$node" '$1 == n { printf "%s%s (%s)", sep, $2, $3; sep = ", " }' <<<"$out")
      fail "blocks/$node" "node ${node} holds ${want} (holds: ${held:-none})" \
        "${investigate}; kubectl logs -n ${LAB_CALICO_NAMESPACE} -l k8s-app=calico-node --tail=50"
    fi
  done
}

# --- HTTP between pods ----------------------------------------------------------------

# http_get POD [-4|-6] URL: the body nginx answers, e.g.
# "multitool-hmbcg answered over IPv6 on fd00:... port 8080 (client fd00:...)".
http_get() {
  local pod=$1
  shift
  pod_exec "$pod" curl -g -sS --max-time "$LAB_CURL_TIMEOUT" "$@"
}

url_host() { if is_ipv6 "$1"; then printf '[%s]' "$1"; else printf '%s' "$1"; fi; }

# check_pod_http FAMILY: curl the peer pod's address of FAMILY on the app port;
# the answer must name FAMILY (nginx reports the family it was reached over).
check_pod_http() {
  local family=$1 ip url out id="http/${1,,}"
  local what="HTTP over ${family} between pods on different nodes"
  if ! lab_has_family "$family"; then
    skip "$id" "${what}: $(no_family_reason "$family"), so its pods have no ${family} address"
    return 0
  fi
  if [[ -z "$CLIENT_POD" || -z "$PEER_POD" ]]; then
    skip "$id" "${what}: no pair of Running ${LAB_POD_KIND} pods on two nodes"
    return 0
  fi
  if [[ "$family" == IPv4 ]]; then ip=${DP_POD_V4[$PEER_POD]:-}; else ip=${DP_POD_V6[$PEER_POD]:-}; fi
  url="http://$(url_host "$ip"):${LAB_APP_PORT}/"
  if out=$(http_get "$CLIENT_POD" "$url") && [[ "$out" == *"answered over ${family} "* ]]; then
    pass "$id" "${what}: ${CLIENT_POD} -> ${url}: $(brief "$out")"
  else
    fail "$id" "${what}: ${CLIENT_POD} -> ${url}: $(brief "$out")" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- curl -g -v --max-time ${LAB_CURL_TIMEOUT} ${url}; ./explain.sh"
  fi
}

# --- DNS ----------------------------------------------------------------------------------

# dig_short POD NAME TYPE: the records, one per line (dig +short prints nothing for none).
dig_short() { pod_exec "$1" dig +short "$2" "$3"; }

# check_dns SERVICE: the Service's name resolves to its ClusterIPs: an A
# record only when it has the IPv4 family, an AAAA record always.
check_dns() {
  local svc=$1 want_a=0 fqdn ips a aaaa problems=() id="dns/$1"
  [[ " ${SVC_FAMILIES[$svc]} " != *" IPv4 "* ]] || want_a=1
  fqdn="${svc}.${LAB_NAMESPACE}.svc.${LAB_CLUSTER_DOMAIN}"
  local what="DNS: ${fqdn}"
  if [[ -z "$CLIENT_POD" ]]; then
    skip "$id" "${what}: no Running ${LAB_POD_KIND} pod to resolve from"
    return 0
  fi
  ips=$(kubectl get service -n "$LAB_NAMESPACE" "$svc" -o jsonpath="$Q_SERVICE" 2>/dev/null) || ips=""
  split_families "$ips"
  if ! a=$(dig_short "$CLIENT_POD" "$fqdn" A) || ! aaaa=$(dig_short "$CLIENT_POD" "$fqdn" AAAA); then
    fail "$id" "${what} resolves: $(brief "${a:-}${aaaa:-}")" "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- dig ${fqdn} ANY; kubectl get pods -n kube-system -l k8s-app=kube-dns"
    return 0
  fi
  a=$(tr '\n' ' ' <<<"$a") a=${a% }
  aaaa=$(tr '\n' ' ' <<<"$aaaa") aaaa=${aaaa% }
  if ((want_a == 1)); then
    [[ -n "$a" ]] || problems+=("no A record")
    [[ -z "$a" || -z "${V4[0]:-}" || "$a" == "${V4[0]}" ]] || problems+=("A ${a} is not ClusterIP ${V4[0]}")
  else
    [[ -z "$a" ]] || problems+=("an A record ${a} for an IPv6-only Service")
  fi
  [[ -n "$aaaa" ]] || problems+=("no AAAA record")
  [[ -z "$aaaa" || -z "${V6[0]:-}" || "$aaaa" == "${V6[0]}" ]] || problems+=("AAAA ${aaaa} is not ClusterIP ${V6[0]}")
  local got="A ${a:-none}, AAAA ${aaaa:-none}"
  if ((${#problems[@]} == 0)); then
    pass "$id" "${what} -> ${got}"
  else
    local joined
    joined=$(printf '%s, ' "${problems[@]}")
    fail "$id" "${what} -> ${got}: ${joined%, }" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- dig ${fqdn} A ${fqdn} AAAA; kubectl get service -n ${LAB_NAMESPACE} ${svc} -o yaml"
  fi
}

# check_http_by_name SERVICE FAMILY: curl -4/-6 http://SERVICE/ answers over FAMILY.
check_http_by_name() {
  local svc=$1 family=$2 flag=-4 url out id="by-name/$1/${2,,}"
  [[ "$family" == IPv4 ]] || flag=-6
  url="http://${svc}:${LAB_SVC_PORT}/"
  local what="curl ${flag} ${url} (by name) answers over ${family}"
  if [[ -z "$CLIENT_POD" ]]; then
    skip "$id" "${what}: no Running ${LAB_POD_KIND} pod to curl from"
    return 0
  fi
  if out=$(http_get "$CLIENT_POD" "$flag" "$url") && [[ "$out" == *"answered over ${family} "* ]]; then
    pass "$id" "${what}: $(brief "$out")"
  else
    fail "$id" "${what}: $(brief "$out")" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- curl ${flag} -v --max-time ${LAB_CURL_TIMEOUT} ${url}; kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- cat /etc/resolv.conf"
  fi
}

# --- egress: NAT to a host outside the cluster ------------------------------------------

# check_egress FAMILY EXTERNAL_IP NAT_OUTGOING: the external host answers the
# client pod and names the source it saw. natOutgoing true: that source is the
# pod's node. false: the host has no route back to the pool, so no answer.
check_egress() {
  local family=$1 ext=$2 nat=$3 url out client node node_ip pod_ip id="egress/${1,,}"
  local what="egress over ${family} to the external host ${LAB_EXTERNAL_NAME}"
  if [[ -z "$CLIENT_POD" ]]; then
    skip "$id" "${what}: no Running ${LAB_POD_KIND} pod to send from"
    return 0
  fi
  if [[ -z "$ext" ]]; then
    fail "$id" "${what}: it has no ${family} address on the Docker network ${LAB_EXTERNAL_NETWORK}" \
      "docker inspect ${LAB_EXTERNAL_NAME} --format '{{json .NetworkSettings.Networks}}'; ./deploy.sh starts it (or set LAB_EXTERNAL_IPV4/LAB_EXTERNAL_IPV6)"
    return 0
  fi
  node=${DP_POD_NODE[$CLIENT_POD]:-}
  if [[ "$family" == IPv4 ]]; then
    node_ip=${DP_NODE_V4[$node]:-} pod_ip=${DP_POD_V4[$CLIENT_POD]:-}
  else
    node_ip=${DP_NODE_V6[$node]:-} pod_ip=${DP_POD_V6[$CLIENT_POD]:-}
  fi
  url="http://$(url_host "$ext"):${LAB_APP_PORT}/"
  local investigate="kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- curl -g -v --max-time ${LAB_CURL_TIMEOUT} ${url}; docker logs --tail 5 ${LAB_EXTERNAL_NAME}"
  if out=$(http_get "$CLIENT_POD" "$url"); then
    client=$(sed -n 's/.*(client \([^)]*\)).*/\1/p' <<<"$out" | head -n 1)
  else
    client=""
  fi
  if [[ "$nat" == true ]]; then
    if [[ -z "$client" ]]; then
      fail "$id" "${what} ${url}: no answer naming the client ($(brief "$out"))" "$investigate"
    elif [[ "$out" != *"answered over ${family} "* ]]; then
      fail "$id" "${what} ${url}: answered, but not over ${family}: $(brief "$out")" "$investigate"
    elif [[ "$client" == "$node_ip" ]]; then
      pass "$id" "${what} ${url}: seen from node ${node} ${node_ip}, not pod ${pod_ip} (natOutgoing: true)"
    else
      fail "$id" "${what} ${url}: seen from ${client}, want node ${node} ${node_ip:-unknown} (natOutgoing: true, so the pod address ${pod_ip} must be masqueraded)" \
        "${investigate}; kubectl get ippools.crd.projectcalico.org -o custom-columns=NAME:.metadata.name,CIDR:.spec.cidr,NAT:.spec.natOutgoing"
    fi
  else
    if [[ -z "$client" ]]; then
      pass "$id" "${what} ${url} gets no answer, as expected: natOutgoing is false, so the host sees pod ${pod_ip} and has no route back to the pool ($(brief "$out"))"
    elif [[ "$client" == "$pod_ip" ]]; then
      pass "$id" "${what} ${url}: seen from pod ${pod_ip} itself (natOutgoing: false; this host routes back to the pool)"
    else
      fail "$id" "${what} ${url}: seen from ${client}, but natOutgoing is false: something else translates the pod address ${pod_ip}" "$investigate"
    fi
  fi
}

# check_egress_all: the egress check of each family; without the external
# host, the first fails saying so and the others skip.
check_egress_all() {
  local fam first=true
  for fam in "${ALL_FAMILIES[@]}"; do
    lab_has_family "$fam" ||
      skip "egress/${fam,,}" "${PLAN_TITLE[egress/${fam,,}]}: $(no_family_reason "$fam"), so its pods have no ${fam} address to leave from"
  done
  if ! external_host_addresses; then
    for fam in "${LAB_FAMILIES[@]}"; do
      if [[ "$first" == true ]]; then
        fail "egress/${fam,,}" "the external host ${LAB_EXTERNAL_NAME} is running on the Docker network ${LAB_EXTERNAL_NETWORK} (${EXTERNAL_ERROR})" \
          "docker ps -a --filter name=${LAB_EXTERNAL_NAME}; ./deploy.sh starts it (or set LAB_EXTERNAL_IPV4/LAB_EXTERNAL_IPV6)"
        first=false
      else
        skip "egress/${fam,,}" "${PLAN_TITLE[egress/${fam,,}]}: the external host is not running (above)"
      fi
    done
    return 0
  fi
  for fam in "${LAB_FAMILIES[@]}"; do
    if [[ "$fam" == IPv4 ]]; then
      check_egress IPv4 "$EXTERNAL_IPV4" "$LAB_IPV4_NAT_OUTGOING"
    else
      check_egress IPv6 "$EXTERNAL_IPV6" "$LAB_IPV6_NAT_OUTGOING"
    fi
  done
}

# --- MTU ------------------------------------------------------------------------------

# calico_mtu NODE: the MTU Calico wrote for pods on NODE (/var/lib/calico/mtu,
# which the CNI plugin reads when its config says mtu 0), read through the
# calico-node pod there.
calico_mtu() {
  local pod
  pod=$(calico_node_pod "$1") || { printf '%s' "$pod"; return 1; }
  kubectl exec -n "$LAB_CALICO_NAMESPACE" "$pod" -c calico-node -- cat /var/lib/calico/mtu 2>&1
}

check_mtu() {
  local what="pod eth0 MTU" node want pod_mtu from
  if [[ -z "$CLIENT_POD" ]]; then
    skip mtu "${what}: no Running ${LAB_POD_KIND} pod to look into"
    skip mtu-ping "${PLAN_TITLE[mtu-ping]}: no Running ${LAB_POD_KIND} pod to ping from"
    return 0
  fi
  node=${DP_POD_NODE[$CLIENT_POD]:-}
  if [[ -n "$LAB_POD_MTU" ]]; then
    want=$LAB_POD_MTU from="LAB_POD_MTU"
  elif want=$(calico_mtu "$node") && [[ "$want" =~ ^[0-9]+$ ]]; then
    from="Calico's /var/lib/calico/mtu on ${node}"
  else
    fail mtu "${what}: cannot read the MTU Calico configured on ${node}: $(brief "$want")" \
      "kubectl get pods -n ${LAB_CALICO_NAMESPACE} -l k8s-app=calico-node -o wide; or set LAB_POD_MTU"
    skip mtu-ping "${PLAN_TITLE[mtu-ping]}: the expected MTU is unknown (above)"
    return 0
  fi
  pod_mtu=$(pod_exec "$CLIENT_POD" cat /sys/class/net/eth0/mtu) || pod_mtu=""
  pod_mtu=${pod_mtu//[[:space:]]/}
  if [[ "$pod_mtu" == "$want" ]]; then
    pass mtu "${what} in ${CLIENT_POD} is ${pod_mtu}, as ${from} says"
  else
    fail mtu "${what} in ${CLIENT_POD} is ${pod_mtu:-unreadable}, ${from} says ${want}" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- ip link show eth0; kubectl get installation default -o jsonpath='{.spec.calicoNetwork.mtu}'"
    skip mtu-ping "${PLAN_TITLE[mtu-ping]}: the pod MTU is not Calico's (above)"
    return 0
  fi
  check_mtu_ping "$pod_mtu"
}

# check_mtu_ping MTU: a don't-fragment IPv6 echo of exactly MTU bytes crosses
# nodes; one byte more is refused.
check_mtu_ping() {
  local mtu=$1 fit big out_fit out_big rc_fit=0 rc_big=0 peer
  local what="don't-fragment IPv6 ping across nodes fits the MTU"
  if [[ -z "$PEER_POD" ]]; then
    skip mtu-ping "${what}: no ${LAB_POD_KIND} pod on a second node"
    return 0
  fi
  peer=${DP_POD_V6[$PEER_POD]:-$PEER_IPV6}
  fit=$((mtu - ICMP6_OVERHEAD)) big=$((mtu - ICMP6_OVERHEAD + 1))
  local cmd_fit=(ping -6 -M "do" -s "$fit" -c 1 -W 2 "$peer") cmd_big=(ping -6 -M "do" -s "$big" -c 1 -W 2 "$peer")
  out_fit=$(pod_exec "$CLIENT_POD" "${cmd_fit[@]}") || rc_fit=$?
  out_big=$(pod_exec "$CLIENT_POD" "${cmd_big[@]}") || rc_big=$?
  if ((rc_fit == 0 && rc_big != 0)); then
    pass mtu-ping "${what}: ${fit}-byte payload (${mtu}-byte packet) reaches ${PEER_POD}, ${big} is refused ($(grep -m1 -Eo 'message too long[^ ]*( mtu[:=] *[0-9]+)?' <<<"$out_big" || echo "no reply"))"
  elif ((rc_fit != 0)); then
    fail mtu-ping "${what}: ${fit}-byte payload (${mtu}-byte packet) does not reach ${PEER_POD} ${peer}: $(brief "$(grep -E 'error|loss' <<<"$out_fit" || echo "$out_fit")")" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- ${cmd_fit[*]}; ./explain.sh (compare the MTUs of vxlan-v6.calico and eth0)"
  else
    fail mtu-ping "${what}: ${big}-byte payload ($((mtu + 1))-byte packet) got through, so the path MTU is larger than the pod's ${mtu}" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- ${cmd_big[*]}; kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- ip link show eth0"
  fi
}

# --- entry point --------------------------------------------------------------------------

check_dataplane() {
  local fam svc
  dataplane_load_cluster
  check_block_affinities
  for fam in "${ALL_FAMILIES[@]}"; do check_pod_http "$fam"; done
  for svc in "${VERIFY_SERVICES[@]}"; do check_dns "$svc"; done
  # By name, over each family the Service has (the IPv6-only one: AAAA only, so -6).
  for svc in "${VERIFY_SERVICES[@]}"; do
    for fam in ${SVC_FAMILIES[$svc]}; do check_http_by_name "$svc" "$fam"; done
  done
  check_egress_all
  check_mtu
}

# The names the plan uses are known before any cluster call.
dataplane_resolve_expectations
external_host_defaults
verify_section dataplane
