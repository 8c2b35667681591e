#!/usr/bin/env bash
# verify.sh's checks of the IPv6-only lab (ipFamilies [IPv6], docs/ipv6-only.md), after the core's,
# whose IPv4 checks SKIP in this lab (http/ipv4, egress/ipv4, vxlan/ipv4) while these show what replaces
# IPv4: nothing IPv4 in the cluster, DNS64 and NAT64 at work.
#
#   no-ipv4/calico        no IPv4 IPPool, calico-node IP=none, the CNI's assign_ipv4 "false" (an IPv4
#                         pool would turn the operator's IPv4 autodetection back on)
#   no-ipv4/nodes         no node has an IPv4 InternalIP, pod CIDR, Calico IPv4 address or IPv4 block
#   no-ipv4/pods          no pod of the cluster has an IPv4 address (host-network ones included)
#   dns64/corefile        CoreDNS runs the dist's Corefile: the ConfigMap is the dist's, the Deployment
#                         rolled onto it (the corefile-sha256 annotation) and Ready
#   dns64/forwarder       the DNS forwarder runs at dns.upstream on kind's network
#   dns64/outside         a name outside the cluster resolves through it (the external host's own AAAA,
#                         nothing synthesized)
#   dns64/synthesized     the IPv4-only host's name (an A record only) gets an AAAA: the NAT64 prefix
#                         plus its IPv4 address
#   nat64/gateway         tayga runs in the gateway at nat64.gateway, its TUN device up, forwarding on
#   nat64-route/<node>    each node routes the NAT64 prefix via the gateway
#   nat64/http            a pod reaches the IPv4-only host by name: it answers over IPv4 and saw an
#                         address of tayga's pool, not the pod's or the node's
#
# A section of verify.sh's plan (scripts/lib/verify-plan.sh), sourced for the active variant after the
# core's sections, whose CLIENT_POD, DP_* arrays, pod_exec, brief and dig_short it uses; the container
# names and addresses come from variant-ipv6only.sh (ipv6only_defaults). Needs kubectl, and docker for
# the containers outside the cluster (as the egress checks do).

[[ -n "${_LAB_CHECKS_IPV6ONLY_SH:-}" ]] && return 0
_LAB_CHECKS_IPV6ONLY_SH=1
# shellcheck source=scripts/lib/verify-plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/verify-plan.sh"
# shellcheck source=scripts/lib/variant-ipv6only.sh
source "$(dirname "${BASH_SOURCE[0]}")/variant-ipv6only.sh"

# name|InternalIPs|podCIDRs|Calico's IPv4 address|Calico's IPv4 VXLAN tunnel address, per node.
Q_NODE_IPV4='{.metadata.name}{"|"}{.status.addresses[?(@.type=="InternalIP")].address}{"|"}{.spec.podCIDRs[*]}{"|"}{.metadata.annotations.projectcalico\.org/IPv4Address}{"|"}{.metadata.annotations.projectcalico\.org/IPv4VXLANTunnelAddr}{"\n"}'
# namespace/name|pod IPs (space-separated), every pod.
Q_POD_IPS='{.metadata.namespace}{"/"}{.metadata.name}{"|"}{.status.podIPs[*].ip}{"\n"}'
# The coredns Deployment: the Corefile hash its pod template carries|replicas|updated|ready.
q_coredns_deployment() {
  printf '{.spec.template.metadata.annotations.%s}{"|"}{.status.replicas}{"|"}{.status.updatedReplicas}{"|"}{.status.readyReplicas}{"\\n"}' "$1"
}

plan_ipv6only() {
  local n
  ipv6only_defaults
  plan_check no-ipv4/calico "Calico runs without IPv4: no IPv4 IPPool, calico-node IP=none, CNI assign_ipv4 \"false\""
  plan_check no-ipv4/nodes "no node has an IPv4 InternalIP, pod CIDR, Calico IPv4 address or IPv4 block"
  plan_check no-ipv4/pods "no pod of the cluster has an IPv4 address"
  plan_check dns64/corefile "CoreDNS runs the dist's Corefile (dns64 in ${IPV6ONLY_PREFIX}, forward to ${IPV6ONLY_UPSTREAM})"
  plan_check dns64/forwarder "the DNS forwarder ${IPV6ONLY_FORWARDER} runs at ${IPV6ONLY_UPSTREAM} on the Docker network ${IPV6ONLY_KIND_NETWORK}"
  plan_check dns64/outside "a name outside the cluster resolves: ${LAB_EXTERNAL_NAME} AAAA, its own address"
  plan_check dns64/synthesized "${IPV6ONLY_V4HOST} (an A record only) gets an AAAA in ${IPV6ONLY_PREFIX} (DNS64)"
  plan_check nat64/gateway "tayga runs in ${IPV6ONLY_GATEWAY} at ${IPV6ONLY_GATEWAY_ADDRESS}: ${IPV6ONLY_TUN} up, forwarding on"
  for n in "${LAB_NODES[@]}"; do
    plan_check "nat64-route/$n" "node ${n} routes ${IPV6ONLY_PREFIX} via ${IPV6ONLY_GATEWAY_ADDRESS}"
  done
  plan_check nat64/http "curl -6 http://${IPV6ONLY_V4HOST}:${IPV6ONLY_V4HOST_PORT}/ from a pod answers over IPv4, from tayga's pool ${IPV6ONLY_POOL} (NAT64)"
}

# problems_text ITEM...: "a; b; c"
problems_text() { printf '%s; ' "$@" | sed 's/; $//'; }

check_no_ipv4_calico() {
  local out name cidr problems=() pools=() ip_env assign
  if out=$(kubectl get --request-timeout=10s ippools.crd.projectcalico.org \
    -o jsonpath='{range .items[*]}{.metadata.name}{"|"}{.spec.cidr}{"|"}{.spec.blockSize}{"\n"}{end}' 2>&1); then
    while IFS='|' read -r name cidr _; do
      [[ -n "$name" ]] || continue
      pools+=("${name} ${cidr}")
      is_ipv6 "$cidr" || problems+=("IPv4 IPPool ${name} ${cidr} (the operator then turns IPv4 autodetection back on)")
    done <<<"$out"
  else
    problems+=("IPPools not listed ($(brief "$out"))")
  fi
  ip_env=$(kubectl get daemonset -n "$LAB_CALICO_NAMESPACE" calico-node \
    -o jsonpath='{.spec.template.spec.containers[?(@.name=="calico-node")].env[?(@.name=="IP")].value}' 2>&1) || ip_env="unreadable: $(brief "$ip_env")"
  [[ "$ip_env" == none ]] || problems+=("calico-node IP=${ip_env:-unset}, want none")
  assign=$(kubectl get configmap -n "$LAB_CALICO_NAMESPACE" cni-config -o jsonpath='{.data.config}' 2>&1 | grep -o '"assign_ipv4": *"[a-z]*"' | grep -o '"[a-z]*"$' | tr -d '"') || assign=""
  [[ "$assign" == false ]] || problems+=("CNI assign_ipv4 ${assign:-unreadable}, want false")
  if ((${#problems[@]} == 0)); then
    pass no-ipv4/calico "Calico runs without IPv4: IPPools $(printf '%s, ' "${pools[@]}" | sed 's/, $//'), calico-node IP=none, CNI assign_ipv4 false"
  else
    fail no-ipv4/calico "Calico runs without IPv4: $(problems_text "${problems[@]}")" \
      "kubectl get ippools.crd.projectcalico.org; kubectl get daemonset -n ${LAB_CALICO_NAMESPACE} calico-node -o yaml | grep -A1 'name: IP\$'; kubectl get configmap -n ${LAB_CALICO_NAMESPACE} cni-config -o yaml   (docs/ipv6-only.md: deploy the IPv6-only lab on a fresh cluster)"
  fi
}

check_no_ipv4_nodes() {
  local out name ips cidrs v4addr v4tun ip problems=() blocks n cidr state
  if ! out=$(kubectl get nodes --request-timeout=10s -o jsonpath="$(in_list "$Q_NODE_IPV4")" 2>&1); then
    fail no-ipv4/nodes "${PLAN_TITLE[no-ipv4/nodes]}: the nodes cannot be listed ($(brief "$out"))" "kubectl get nodes -o wide"
    return 0
  fi
  while IFS='|' read -r name ips cidrs v4addr v4tun; do
    [[ -n "$name" ]] || continue
    for ip in $ips; do is_ipv6 "$ip" || problems+=("${name} InternalIP ${ip}"); done
    for ip in $cidrs; do is_ipv6 "$ip" || problems+=("${name} pod CIDR ${ip}"); done
    [[ -z "$v4addr" ]] || problems+=("${name} projectcalico.org/IPv4Address ${v4addr}")
    [[ -z "$v4tun" ]] || problems+=("${name} IPv4 VXLAN tunnel address ${v4tun}")
  done <<<"$out"
  blocks=$(kubectl get blockaffinities.crd.projectcalico.org -o jsonpath="$(in_list "$Q_BLOCK_AFFINITY")" 2>&1) || blocks=""
  while IFS='|' read -r n cidr state; do
    [[ -n "$n" && -n "$cidr" ]] || continue
    is_ipv6 "$cidr" || problems+=("${n} holds IPv4 block ${cidr} (${state})")
  done <<<"$blocks"
  if ((${#problems[@]} == 0)); then
    pass no-ipv4/nodes "no node has an IPv4 InternalIP, pod CIDR, Calico IPv4 address or IPv4 block (${#LAB_NODES[@]} nodes, IPv6 only)"
  else
    fail no-ipv4/nodes "${PLAN_TITLE[no-ipv4/nodes]}: $(problems_text "${problems[@]}")" \
      "kubectl get nodes -o wide; kubectl get blockaffinities.crd.projectcalico.org; kubectl get ippools.crd.projectcalico.org"
  fi
}

check_no_ipv4_pods() {
  local out name ips ip count=0 problems=()
  if ! out=$(kubectl get pods --all-namespaces -o jsonpath="$(in_list "$Q_POD_IPS")" 2>&1); then
    fail no-ipv4/pods "${PLAN_TITLE[no-ipv4/pods]}: the pods cannot be listed ($(brief "$out"))" "kubectl get pods -A -o wide"
    return 0
  fi
  while IFS='|' read -r name ips; do
    [[ -n "$name" ]] || continue
    count=$((count + 1))
    for ip in $ips; do is_ipv6 "$ip" || problems+=("${name} ${ip}"); done
  done <<<"$out"
  if ((${#problems[@]} == 0)); then
    pass no-ipv4/pods "no pod of the cluster has an IPv4 address (${count} pods, host-network ones included)"
  else
    fail no-ipv4/pods "${PLAN_TITLE[no-ipv4/pods]}: $(problems_text "${problems[@]}")" \
      "kubectl get pods -A -o custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,IPS:.status.podIPs[*].ip; kubectl get ippools.crd.projectcalico.org"
  fi
}

check_dns64_corefile() {
  local ns deploy annotation want corefile have out hash replicas updated ready problems=()
  ns=$(fact dns64.coreDns.namespace) deploy=$(fact dns64.coreDns.deployment)
  annotation=$(fact dns64.coreDns.hashAnnotation) want=$(fact dns64.coreDns.corefileSha256)
  if corefile=$(kubectl get configmap -n "$ns" "$(fact dns64.coreDns.configMap)" -o jsonpath='{.data.Corefile}' 2>&1); then
    have=$(ipv6only_sha "$corefile")
    [[ "$have" == "$want" ]] || problems+=("the ConfigMap's Corefile is not the dist's ($(grep -q dns64 <<<"$corefile" && echo "another one" || echo "no dns64 in it"); sha256 ${have:0:12}, the dist's ${want:0:12})")
  else
    problems+=("ConfigMap ${ns}/$(fact dns64.coreDns.configMap) unreadable ($(brief "$corefile"))")
  fi
  if out=$(kubectl get deployment -n "$ns" "$deploy" -o jsonpath="$(q_coredns_deployment "$annotation")" 2>&1); then
    IFS='|' read -r hash replicas updated ready <<<"$out"
    [[ "$hash" == "$want" ]] || problems+=("deployment/${deploy} not rolled onto it (annotation ${annotation}: ${hash:-none})")
    [[ -n "$replicas" && "${ready:-0}" == "$replicas" && "${updated:-0}" == "$replicas" ]] || problems+=("deployment/${deploy}: ${ready:-0} of ${replicas:-?} Ready, ${updated:-0} updated")
  else
    problems+=("deployment ${ns}/${deploy} unreadable ($(brief "$out"))")
  fi
  if ((${#problems[@]} == 0)); then
    pass dns64/corefile "CoreDNS runs the dist's Corefile (sha256 ${want:0:12}, dns64 ${IPV6ONLY_PREFIX}, forward to ${IPV6ONLY_UPSTREAM}): ${ready}/${replicas} pods Ready"
  else
    fail dns64/corefile "CoreDNS runs the dist's Corefile: $(problems_text "${problems[@]}")" \
      "kubectl get configmap -n ${ns} coredns -o yaml; kubectl rollout status -n ${ns} deployment/${deploy}; ./deploy.sh applies and rolls it"
  fi
}

check_dns64_forwarder() {
  local what=${PLAN_TITLE[dns64/forwarder]}
  if ! have docker; then
    fail dns64/forwarder "${what}: docker is not on PATH to look at it" "install Docker, or run verify where the lab's Docker daemon is"
  elif ! ipv6only_inspect "$IPV6ONLY_FORWARDER"; then
    fail dns64/forwarder "${what}: there is no container ${IPV6ONLY_FORWARDER}" "docker ps -a --filter name=${IPV6ONLY_FORWARDER}; ./deploy.sh starts it"
  elif [[ "$IV_RUNNING" != true ]]; then
    fail dns64/forwarder "${what}: ${IPV6ONLY_FORWARDER} is not running" "docker logs --tail 20 ${IPV6ONLY_FORWARDER}; ./deploy.sh starts it again"
  elif [[ "$IV_V6" != "$IPV6ONLY_UPSTREAM" ]]; then
    fail dns64/forwarder "${what}: it has ${IV_V6:-no IPv6 address} on ${IPV6ONLY_KIND_NETWORK}, CoreDNS asks ${IPV6ONLY_UPSTREAM}" "docker inspect ${IPV6ONLY_FORWARDER}; ./destroy.sh --yes && ./deploy.sh"
  else
    pass dns64/forwarder "the DNS forwarder ${IPV6ONLY_FORWARDER} runs at ${IV_V6} on ${IPV6ONLY_KIND_NETWORK}${IV_V4:+ (and ${IV_V4} on ${IPV6ONLY_V4NET})}"
  fi
}

# dig_one NAME TYPE: the first record of dig +short NAME TYPE from the client pod; false when dig failed.
dig_one() {
  local out
  out=$(dig_short "$CLIENT_POD" "$1" "$2") || { DIG_ERROR=$(brief "$out"); return 1; }
  DIG_ERROR=""
  grep -v '^;' <<<"$out" | head -n 1
}

check_dns64_outside() {
  local what=${PLAN_TITLE[dns64/outside]} aaaa want
  if [[ -z "$CLIENT_POD" ]]; then
    skip dns64/outside "${what}: no Running ${LAB_POD_KIND} pod to resolve from"
    return 0
  fi
  external_host_addresses >/dev/null 2>&1 || true
  want=${EXTERNAL_IPV6:-}
  if ! aaaa=$(dig_one "$LAB_EXTERNAL_NAME" AAAA); then
    fail dns64/outside "${what}: dig failed: ${DIG_ERROR}" "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- dig ${LAB_EXTERNAL_NAME} AAAA; docker logs --tail 20 ${IPV6ONLY_FORWARDER}"
  elif [[ -z "$aaaa" ]]; then
    fail dns64/outside "${what}: no answer (CoreDNS forwards to ${IPV6ONLY_UPSTREAM}: is ${IPV6ONLY_FORWARDER} there?)" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- dig ${LAB_EXTERNAL_NAME} AAAA; docker logs --tail 20 ${IPV6ONLY_FORWARDER}; kubectl logs -n kube-system -l k8s-app=kube-dns --tail=20"
  elif ip_in_cidr "$aaaa" "$IPV6ONLY_PREFIX"; then
    fail dns64/outside "${what}: got ${aaaa}, synthesized in ${IPV6ONLY_PREFIX}, though the host has an IPv6 address of its own (${want:-unknown})" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- dig ${LAB_EXTERNAL_NAME} AAAA; docker inspect ${LAB_EXTERNAL_NAME}"
  elif [[ -n "$want" && "$aaaa" != "$want" ]]; then
    fail dns64/outside "${what}: got ${aaaa}, the host has ${want}" "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- dig ${LAB_EXTERNAL_NAME} AAAA; docker inspect ${LAB_EXTERNAL_NAME}"
  else
    pass dns64/outside "${LAB_EXTERNAL_NAME} AAAA ${aaaa}: outside the cluster, through ${IPV6ONLY_FORWARDER} and Docker's DNS, its own address (nothing synthesized)"
  fi
}

check_dns64_synthesized() {
  local what=${PLAN_TITLE[dns64/synthesized]} aaaa v4 want
  if [[ -z "$CLIENT_POD" ]]; then
    skip dns64/synthesized "${what}: no Running ${LAB_POD_KIND} pod to resolve from"
    return 0
  fi
  ipv6only_inspect "$IPV6ONLY_V4HOST" >/dev/null 2>&1 || true
  v4=${IV_V4%/*}
  want=$(ipv6only_synthesized "$v4")
  if ! aaaa=$(dig_one "$IPV6ONLY_V4HOST" AAAA); then
    fail dns64/synthesized "${what}: dig failed: ${DIG_ERROR}" "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- dig ${IPV6ONLY_V4HOST} AAAA"
  elif [[ -z "$aaaa" ]]; then
    fail dns64/synthesized "${what}: no AAAA: CoreDNS synthesized nothing (no dns64 in its Corefile, or no A record upstream: is ${IPV6ONLY_V4HOST} running?)" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- dig ${IPV6ONLY_V4HOST} A; kubectl get configmap -n kube-system coredns -o yaml; docker ps --filter name=${IPV6ONLY_V4HOST}"
  elif ! ip_in_cidr "$aaaa" "$IPV6ONLY_PREFIX"; then
    fail dns64/synthesized "${what}: got ${aaaa}, outside ${IPV6ONLY_PREFIX} (does the host have IPv6? ${IPV6ONLY_V4NET} must have none)" \
      "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- dig ${IPV6ONLY_V4HOST} AAAA; docker network inspect ${IPV6ONLY_V4NET}"
  elif [[ -n "$want" && "$(ipv6_expand "$aaaa")" != "$(ipv6_expand "$want")" ]]; then
    fail dns64/synthesized "${what}: got ${aaaa}, want ${want} (${IPV6ONLY_PREFIX} + ${v4})" "kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- dig ${IPV6ONLY_V4HOST} A"
  else
    pass dns64/synthesized "${IPV6ONLY_V4HOST} AAAA ${aaaa}: synthesized by DNS64 from its A record ${v4:-?} (${IPV6ONLY_PREFIX%/*}${v4:-a.b.c.d})"
  fi
}

check_nat64_gateway() {
  local what=${PLAN_TITLE[nat64/gateway]} link fwd
  if ! have docker; then
    fail nat64/gateway "${what}: docker is not on PATH to look at it" "install Docker, or run verify where the lab's Docker daemon is"
    return 0
  fi
  if ! ipv6only_inspect "$IPV6ONLY_GATEWAY"; then
    fail nat64/gateway "${what}: there is no container ${IPV6ONLY_GATEWAY}" "docker ps -a --filter name=${IPV6ONLY_GATEWAY}; ./deploy.sh starts it"
    return 0
  fi
  if [[ "$IV_RUNNING" != true ]]; then
    fail nat64/gateway "${what}: ${IPV6ONLY_GATEWAY} is not running (tayga is its main process)" "docker logs --tail 20 ${IPV6ONLY_GATEWAY}; ./deploy.sh starts it again"
    return 0
  fi
  if [[ "$IV_V6" != "$IPV6ONLY_GATEWAY_ADDRESS" || -z "$IV_V4" ]]; then
    fail nat64/gateway "${what}: it has ${IV_V6:-no IPv6 address} on ${IPV6ONLY_KIND_NETWORK} (want ${IPV6ONLY_GATEWAY_ADDRESS}) and ${IV_V4:-no address} on ${IPV6ONLY_V4NET}" \
      "docker inspect ${IPV6ONLY_GATEWAY}; ./destroy.sh --yes && ./deploy.sh"
    return 0
  fi
  link=$(docker exec "$IPV6ONLY_GATEWAY" ip -o link show "$IPV6ONLY_TUN" 2>&1) || link=""
  fwd=$(docker exec "$IPV6ONLY_GATEWAY" cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding 2>&1 | tr '\n' ' ') || fwd=""
  if [[ "$link" != *",UP,"* && "$link" != *"<UP,"* ]]; then
    fail nat64/gateway "${what}: its TUN device ${IPV6ONLY_TUN} is not up ($(brief "${link:-absent}"))" "docker exec ${IPV6ONLY_GATEWAY} ip link; docker logs --tail 20 ${IPV6ONLY_GATEWAY}"
  elif [[ "$fwd" != "1 1 " ]]; then
    fail nat64/gateway "${what}: forwarding is off in it (ip_forward and IPv6 forwarding: ${fwd:-unreadable})" "docker inspect ${IPV6ONLY_GATEWAY} --format '{{.HostConfig.Sysctls}}'; ./destroy.sh --yes && ./deploy.sh"
  else
    pass nat64/gateway "tayga runs in ${IPV6ONLY_GATEWAY} at ${IV_V6} and ${IV_V4} on ${IPV6ONLY_V4NET}: ${IPV6ONLY_TUN} up, forwarding on"
  fi
}

check_nat64_routes() {
  local n pod out cmd
  for n in "${LAB_NODES[@]}"; do
    cmd="kubectl exec -n ${LAB_CALICO_NAMESPACE} <calico-node on ${n}> -c calico-node -- ip -6 route show ${IPV6ONLY_PREFIX}"
    if ! pod=$(calico_node_pod "$n"); then
      fail "nat64-route/$n" "${PLAN_TITLE[nat64-route/$n]}: no calico-node pod to look through ($(brief "$pod"))" "docker exec ${n} ip -6 route show ${IPV6ONLY_PREFIX}"
      continue
    fi
    cmd=${cmd/<calico-node on ${n}>/${pod}}
    out=$(kubectl exec -n "$LAB_CALICO_NAMESPACE" "$pod" -c calico-node -- ip -6 route show "$IPV6ONLY_PREFIX" 2>&1) || out="error: $(brief "$out")"
    if [[ "$out" == "${IPV6ONLY_PREFIX} via ${IPV6ONLY_GATEWAY_ADDRESS} "* ]]; then
      pass "nat64-route/$n" "node ${n}: $(head -n 1 <<<"$out")"
    else
      fail "nat64-route/$n" "${PLAN_TITLE[nat64-route/$n]}: ${out:-no route} (lost when the node container restarts)" \
        "${cmd}; ./deploy.sh adds it again (docker exec ${n} ip -6 route replace ${IPV6ONLY_PREFIX} via ${IPV6ONLY_GATEWAY_ADDRESS})"
    fi
  done
}

check_nat64_http() {
  local what=${PLAN_TITLE[nat64/http]} url out client v4
  url="http://${IPV6ONLY_V4HOST}:${IPV6ONLY_V4HOST_PORT}/"
  if [[ -z "$CLIENT_POD" ]]; then
    skip nat64/http "${what}: no Running ${LAB_POD_KIND} pod to curl from"
    return 0
  fi
  ipv6only_inspect "$IPV6ONLY_V4HOST" >/dev/null 2>&1 || true
  v4=${IV_V4%/*}
  local investigate="kubectl exec -n ${LAB_NAMESPACE} ${CLIENT_POD} -- curl -6 -v --max-time ${LAB_CURL_TIMEOUT} ${url}; docker logs --tail 5 ${IPV6ONLY_GATEWAY}; ./explain.sh"
  out=$(http_get "$CLIENT_POD" -6 "$url") || true
  client=$(sed -n 's/.*(client \([^)]*\)).*/\1/p' <<<"$out" | head -n 1)
  if [[ "$out" != *" answered over IPv4 "* ]]; then
    fail nat64/http "${what}: $(brief "$out")" "$investigate"
  elif [[ -n "$v4" && "$out" != *" answered over IPv4 on ${v4} "* ]]; then
    fail nat64/http "${what}: answered, but not by ${IPV6ONLY_V4HOST} at ${v4}: $(brief "$out")" "$investigate"
  elif ! ip_in_cidr "$client" "$IPV6ONLY_POOL"; then
    fail nat64/http "${what}: the host saw ${client:-no client}, not an address of tayga's pool ${IPV6ONLY_POOL}: something else translated or masqueraded" "$investigate"
  else
    pass nat64/http "${CLIENT_POD} -> ${url}: answered over IPv4 on ${v4:-its address}, seen from ${client} (tayga's pool ${IPV6ONLY_POOL}: NAT64, not the pod ${DP_POD_V6[$CLIENT_POD]:-})"
  fi
}

check_ipv6only() {
  check_no_ipv4_calico
  check_no_ipv4_nodes
  check_no_ipv4_pods
  check_dns64_corefile
  check_dns64_forwarder
  check_dns64_outside
  check_dns64_synthesized
  check_nat64_gateway
  check_nat64_routes
  check_nat64_http
}

verify_section ipv6only
