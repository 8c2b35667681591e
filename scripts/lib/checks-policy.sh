#!/usr/bin/env bash
# verify's checks of the network-policy lesson (policy: on; docs/policy.md):
# the external host at its fixed addresses, the lesson's policies in place as
# Calico sees them, and one check per row of the allowed/denied matrix (the
# facts' policy.matrix, lib/policy-matrix.ts), over each family it names.
#
# The rows play between two of the lab's pods on different nodes: the subject
# (verify's peer pod, PEER_POD) and its partner (the client pod, CLIENT_POD,
# the matrix's "pod on another node"); the external host reaches the subject.
# Probes: http (curl, the answer must name the family), dns (dig to the
# kube-dns ClusterIP over IPv4, to a DNS pod's IPv6 address over IPv6: kind's
# kube-dns Service is IPv4-only), ping, tcp-connect (a denied connection:
# curl must time out within LAB_POLICY_DENY_TIMEOUT), neighbour (the pod's
# neighbour table keeps its Calico gateway).
#
# A denied row tells denied from broken: Felix's "Drop if no policies passed
# packet" counter of the deciding endpoint chain (cali-tw-<iface> of the
# destination for ingress, cali-fw-<iface> of the source for egress), read
# with iptables-save -c through the calico-node pod of that pod's node, must
# move across the probe; when the counters cannot be read, the row's control
# (the allowed row along the same path) must answer. A refusal, or an answer,
# is a FAIL: the policy did not drop the packet.
#
# A section of verify's plan (scripts/lib/verify-plan.sh), sourced by
# verify.sh for the active variant "policy" after checks-dataplane.sh, whose
# DP_* tables, calico_node_pod and verify.sh's pod_exec/brief it uses.

[[ -n "${_LAB_CHECKS_POLICY_SH:-}" ]] && return 0
_LAB_CHECKS_POLICY_SH=1

# shellcheck source=scripts/lib/external-host.sh
source "$(dirname "${BASH_SOURCE[0]}")/external-host.sh"
# shellcheck source=scripts/lib/verify-plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/verify-plan.sh"

# Seconds a denied connection is given: Calico drops, so it can only time out.
LAB_POLICY_DENY_TIMEOUT=${LAB_POLICY_DENY_TIMEOUT:-3}

# name|types of each networking.k8s.io/v1 NetworkPolicy (Q_CALICO_POLICY: variant-policy.sh).
# shellcheck disable=SC2016,SC2034 # kubectl JSONPath; read by the tests too
Q_K8S_POLICY='{.metadata.name}{"|"}{.spec.policyTypes[*]}{"\n"}'

# Per row id (filled as the rows run): ok when the probe's expectation held.
declare -gA POLICY_ROW_OK=()
POLICY_SUBJECT="" POLICY_PARTNER="" POLICY_EXT_OK=false POLICY_EXT_WHY=""

# --- the plan ---------------------------------------------------------------------------

# policy_peer_words I END: "the external host", "a multitool pod", ... of row I's END (from|to).
policy_peer_words() { fact "policy.matrix.$1.$2.description"; }

# policy_row_title I: what row I claims, in a line.
policy_row_title() {
  local i=$1 p="policy.matrix.$1" what verdict by="" j
  what="$(fact "$p.protocol")"
  [[ -z "$(fact "$p.port")" ]] || what+=" $(fact "$p.port")"
  [[ -z "$(fact "$p.icmpType")" ]] || what+=" type $(fact "$p.icmpType")"
  [[ -z "$(fact "$p.via.service")" ]] || what+=" via $(fact "$p.via.service"):$(fact "$p.via.port")"
  for ((j = 0; j < $(fact_count "$p.decidedBy"); j++)); do
    by+="${by:+, }$(fact "$p.decidedBy.$j.name") $(fact "$p.decidedBy.$j.direction")"
  done
  if [[ "$(fact "$p.expect")" == allow ]]; then verdict=allowed; else verdict=denied; fi
  printf '%s -> %s over %s, %s: %s (%s)' "$(policy_peer_words "$i" from)" "$(policy_peer_words "$i" to)" \
    "$(fact "$p.family")" "$what" "$verdict" "${by:-not IP: no policy applies}"
}

plan_policy() {
  local i name
  fact_has policy || return 0
  plan_check policy/external-host "the external host ${LAB_EXTERNAL_NAME} runs at the lesson's fixed $(fact policy.externalHost.ipv4) and $(fact policy.externalHost.ipv6)"
  for ((i = 0; i < $(fact_count policy.policies); i++)); do
    name=$(fact "policy.policies.$i.name")
    plan_check "policy-object/$name" "$(fact "policy.policies.$i.api") NetworkPolicy $(fact "policy.policies.$i.namespace")/${name} is in place (Calico: $(fact "policy.policies.$i.calicoName"), order $(fact "policy.policies.$i.order"))"
  done
  for ((i = 0; i < $(fact_count policy.matrix); i++)); do
    plan_check "policy/$(fact "policy.matrix.$i.id")" "$(policy_row_title "$i")"
  done
}

# --- helpers ------------------------------------------------------------------------------

# policy_label ID: a row's id and title, as its PASS/FAIL/SKIP line starts.
policy_label() { printf '%s: %s' "${1#policy/}" "${PLAN_TITLE[$1]}"; }

# policy_pod_ip POD FAMILY
policy_pod_ip() { if [[ "$2" == IPv4 ]]; then printf '%s' "${DP_POD_V4[$1]:-}"; else printf '%s' "${DP_POD_V6[$1]:-}"; fi; }

# policy_end I END: the pod playing row I's END (from|to): the partner for
# "a pod on another node", the subject otherwise; nothing for other peers.
policy_end() {
  [[ "$(fact "policy.matrix.$1.$2.kind")" == pod && "$(fact "policy.matrix.$1.$2.namespace")" == "$LAB_NAMESPACE" ]] || return 0
  if [[ "$(fact "policy.matrix.$1.$2.onAnotherNode")" == true ]]; then printf '%s' "$POLICY_PARTNER"; else printf '%s' "$POLICY_SUBJECT"; fi
}

# Cluster DNS: the kube-dns ClusterIP (IPv4) and a DNS pod's IPv6, looked up once.
POLICY_DNS_LOADED=false POLICY_DNS_V4="" POLICY_DNS_V6="" POLICY_DNS_WHY=""
policy_load_dns() {
  [[ "$POLICY_DNS_LOADED" == false ]] || return 0
  POLICY_DNS_LOADED=true
  local i svc ns sel out name node phase ips
  i=$(fact_find policy.matrix probe dns) || return 0
  svc=$(fact "policy.matrix.$i.via.service") ns=$(fact "policy.matrix.$i.to.namespace") sel=$(fact "policy.matrix.$i.to.selector")
  if [[ -n "$svc" ]] && out=$(kubectl get service -n "${svc%%/*}" "${svc#*/}" -o jsonpath="$Q_SERVICE" 2>&1); then
    split_families "$out"
    POLICY_DNS_V4=${V4[0]:-}
  else
    POLICY_DNS_WHY="service ${svc}: $(brief "${out:-none}")"
  fi
  if out=$(kubectl get pods -n "$ns" -l "$sel" -o jsonpath="$(in_list "$Q_POD")" 2>&1); then
    while IFS='|' read -r name node phase ips; do
      [[ "$phase" == Running ]] || continue
      split_families "$ips"
      POLICY_DNS_V6=${POLICY_DNS_V6:-${V6[0]:-}}
    done <<<"$out"
  else
    POLICY_DNS_WHY+="${POLICY_DNS_WHY:+; }pods -n ${ns} -l ${sel}: $(brief "$out")"
  fi
}

# policy_dns_name FAMILY: NAME TYPE of a record to ask for: the lab's first
# Service with that family (A for IPv4, AAAA for IPv6).
policy_dns_name() {
  local svc type=AAAA
  [[ "$1" == IPv6 ]] || type=A
  for svc in "${VERIFY_SERVICES[@]}"; do
    [[ " ${SVC_FAMILIES[$svc]} " != *" $1 "* ]] || { printf '%s.%s.svc.%s %s' "$svc" "$LAB_NAMESPACE" "$LAB_CLUSTER_DOMAIN" "$type"; return 0; }
  done
  printf 'kubernetes.default.svc.%s %s' "$LAB_CLUSTER_DOMAIN" "$type"
}

# --- one probe -------------------------------------------------------------------------------

# policy_probe I: runs row I's probe; sets P_RESULT (answered | timeout |
# refused | unreachable | error | none), P_OUT (what it printed), P_CMD (the
# command, to run again), P_WHY (when it could not run: none).
policy_probe() {
  local i=$1 p="policy.matrix.$1" family probe from to port src_pod dst_pod dst="" url rc=0 flag
  family=$(fact "$p.family") probe=$(fact "$p.probe") port=$(fact "$p.port")
  from=$(fact "$p.from.kind") to=$(fact "$p.to.kind")
  src_pod=$(policy_end "$i" from) dst_pod=$(policy_end "$i" to)
  flag=-4
  [[ "$family" == IPv4 ]] || flag=-6
  P_RESULT=none P_OUT="" P_CMD="" P_WHY=""
  local -a exec_cmd=()
  case "$from" in
    pod) exec_cmd=(kubectl exec -n "$LAB_NAMESPACE" "$src_pod" --) ;;
    host)
      if [[ "$POLICY_EXT_OK" != true ]]; then
        P_WHY="the external host is not usable (policy/external-host: ${POLICY_EXT_WHY})"
        return 0
      fi
      exec_cmd=(docker exec "$LAB_EXTERNAL_NAME")
      ;;
  esac
  # The destination: a Service's ClusterIP, a pod, the external host, the cluster DNS.
  if [[ -n "$(fact "$p.via.service")" && "$probe" == http ]]; then
    local svc ips
    svc=$(fact "$p.via.service")
    ips=$(kubectl get service -n "$LAB_NAMESPACE" "$svc" -o jsonpath="$Q_SERVICE" 2>/dev/null) || ips=""
    split_families "$ips"
    if [[ "$family" == IPv4 ]]; then dst=${V4[0]:-}; else dst=${V6[0]:-}; fi
    port=$(fact "$p.via.port")
    [[ -n "$dst" ]] || { P_WHY="Service ${svc} has no ${family} ClusterIP"; return 0; }
  elif [[ "$to" == pod && -n "$dst_pod" ]]; then
    dst=$(policy_pod_ip "$dst_pod" "$family")
  elif [[ "$to" == host ]]; then
    if [[ "$family" == IPv4 ]]; then dst=$EXTERNAL_IPV4; else dst=$EXTERNAL_IPV6; fi
  elif [[ "$probe" == dns ]]; then
    policy_load_dns
    if [[ "$family" == IPv4 ]]; then dst=$POLICY_DNS_V4; else dst=$POLICY_DNS_V6; fi
    [[ -n "$dst" ]] || { P_WHY="no cluster DNS address over ${family} (${POLICY_DNS_WHY:-none found})"; return 0; }
  fi
  local -a cmd=()
  case "$probe" in
    http | tcp-connect)
      local timeout=$LAB_CURL_TIMEOUT
      [[ "$probe" == http ]] || timeout=$LAB_POLICY_DENY_TIMEOUT
      url="http://$(url_host "$dst"):${port}/"
      cmd=(curl -g -sS --max-time "$timeout" "$url")
      ;;
    ping) cmd=(ping "$flag" -c 1 -W 2 "$dst") ;;
    dns)
      local transport=+notcp name type
      [[ "$(fact "$p.protocol")" != TCP ]] || transport=+tcp
      read -r name type <<<"$(policy_dns_name "$family")"
      cmd=(dig +short "$transport" "@${dst}" +time=2 +tries=1 "$name" "$type")
      ;;
    neighbour) cmd=(ip "$flag" neigh show dev eth0) ;;
  esac
  [[ -n "$dst" || "$probe" == neighbour ]] || { P_WHY="no ${family} address for $(policy_peer_words "$i" to)"; return 0; }
  P_CMD="${exec_cmd[*]} ${cmd[*]}"
  P_OUT=$("${exec_cmd[@]}" "${cmd[@]}" 2>&1) || rc=$?
  P_OUT=$(grep -v '^command terminated with exit code' <<<"$P_OUT" || true)
  # kubectl exec passes the command's status on (docker exec too): curl's 28 is a timeout, 7 no connection.
  case "$probe" in
    http | tcp-connect)
      if ((rc == 0)); then
        P_RESULT=answered
      elif [[ "$P_OUT" == *"(28)"* ]]; then
        P_RESULT=timeout
      elif [[ "$P_OUT" == *"Connection refused"* ]]; then
        P_RESULT=refused
      elif [[ "$P_OUT" == *"(7)"* ]]; then
        P_RESULT=unreachable
      else
        P_RESULT=error
      fi
      ;;
    ping | dns)
      if ((rc == 0)) && { [[ "$probe" == ping ]] || grep -Eq '^[0-9a-fA-F.:]+$' <<<"$P_OUT"; }; then P_RESULT=answered; else P_RESULT=error; fi
      ;;
    neighbour) P_RESULT=answered ;;
  esac
  return 0
}

# --- the checks ----------------------------------------------------------------------------------

# check_policy_external_host: running at the fixed IPv6 (docker inspect), and
# the fixed IPv4 on its eth0 (Docker does not know that one).
check_policy_external_host() {
  local id=policy/external-host v4 v6 out
  v4=$(fact policy.externalHost.ipv4) v6=$(fact policy.externalHost.ipv6)
  if ! external_host_addresses; then
    POLICY_EXT_WHY=$EXTERNAL_ERROR
    fail "$id" "${PLAN_TITLE[$id]}: ${EXTERNAL_ERROR}" "docker ps -a --filter name=${LAB_EXTERNAL_NAME}; ./deploy.sh starts it at the fixed addresses"
    return 0
  fi
  if [[ -n "$LAB_EXTERNAL_IPV4$LAB_EXTERNAL_IPV6" ]]; then
    POLICY_EXT_OK=true
    pass "$id" "${PLAN_TITLE[$id]}: taken as given (LAB_EXTERNAL_IPV4=${LAB_EXTERNAL_IPV4:-} LAB_EXTERNAL_IPV6=${LAB_EXTERNAL_IPV6:-})"
    return 0
  fi
  if ! out=$(docker exec "$LAB_EXTERNAL_NAME" ip -o addr show dev eth0 scope global 2>&1); then
    POLICY_EXT_WHY="cannot read its addresses: $(brief "$out")"
    fail "$id" "${PLAN_TITLE[$id]}: ${POLICY_EXT_WHY}" "docker exec ${LAB_EXTERNAL_NAME} ip addr"
    return 0
  fi
  if grep -Fq " inet ${v4}/" <<<"$out" && grep -Fq " inet6 ${v6}/" <<<"$out"; then
    POLICY_EXT_OK=true
    pass "$id" "${PLAN_TITLE[$id]} (eth0: $(awk '{ printf "%s%s", sep, $4; sep = " " }' <<<"$out"))"
  else
    POLICY_EXT_WHY="eth0 has $(awk '{ printf "%s%s", sep, $4; sep = " " }' <<<"$out")"
    fail "$id" "${PLAN_TITLE[$id]}: ${POLICY_EXT_WHY}" \
      "docker exec ${LAB_EXTERNAL_NAME} ip addr; docker rm -f ${LAB_EXTERNAL_NAME} && ./deploy.sh   (starts it at the fixed addresses)"
  fi
}

# check_policy_objects: each policy of the facts exists: the Calico one with
# its order and types as the Calico API server serves it, the Kubernetes ones
# with their policyTypes.
check_policy_objects() {
  local i name api ns want_types want_order out k8s="" k8s_err="" got_order got_types line
  ns=$(fact policy.namespace)
  if ! k8s=$(kubectl get networkpolicies.networking.k8s.io -n "$ns" -o jsonpath="$(in_list "$Q_K8S_POLICY")" 2>&1); then
    k8s_err=$(brief "$k8s") k8s=""
  fi
  for ((i = 0; i < $(fact_count policy.policies); i++)); do
    name=$(fact "policy.policies.$i.name") api=$(fact "policy.policies.$i.api") want_order=$(fact "policy.policies.$i.order")
    want_types=$(fact_list "policy.policies.$i.types")
    local id=policy-object/$name
    if [[ "$api" == projectcalico.org/v3 ]]; then
      if ! out=$(kubectl get networkpolicies.projectcalico.org -n "$ns" "$name" -o jsonpath="$Q_CALICO_POLICY" 2>&1); then
        fail "$id" "${PLAN_TITLE[$id]}: $(brief "$out")" \
          "kubectl get apiservice v3.projectcalico.org; kubectl apply -f $(fact policy.directory)/ of ${LAB_DIST_DIR} (./deploy.sh does, once the Calico API server is Available)"
        continue
      fi
      IFS='|' read -r _ got_order got_types _ <<<"$out"
      if [[ "$got_order" == "$want_order" && "$got_types" == "$want_types" ]]; then
        pass "$id" "projectcalico.org/v3 NetworkPolicy ${ns}/${name}: order ${got_order}, types ${got_types} (served by the Calico API server)"
      else
        fail "$id" "${PLAN_TITLE[$id]}: want order ${want_order}, types ${want_types}; got order ${got_order:-none}, types ${got_types:-none}" \
          "kubectl get networkpolicies.projectcalico.org -n ${ns} ${name} -o yaml"
      fi
      continue
    fi
    line=$(grep "^${name}|" <<<"$k8s" || true)
    if [[ -n "$k8s_err" || -z "$line" ]]; then
      fail "$id" "${PLAN_TITLE[$id]}: ${k8s_err:-not found in namespace ${ns}}" "kubectl get networkpolicies -n ${ns}; kubectl apply -f ${LAB_DIST_DIR}/$(fact policy.directory)/"
      continue
    fi
    got_types=${line#*|}
    if [[ "$got_types" == "$want_types" ]]; then
      pass "$id" "networking.k8s.io/v1 NetworkPolicy ${ns}/${name}: policyTypes ${got_types} (Calico: $(fact "policy.policies.$i.calicoName"), order ${want_order})"
    else
      fail "$id" "${PLAN_TITLE[$id]}: want policyTypes ${want_types}, got ${got_types:-none}" "kubectl get networkpolicy -n ${ns} ${name} -o yaml"
    fi
  done
}

# policy_allow_note I: for an allowed ICMP row, the denied TCP row of the same
# ends and family, if any: a ping proves nothing about TCP.
policy_allow_note() {
  local i=$1 j p="policy.matrix.$1" q
  [[ "$(fact "$p.probe")" == ping ]] || return 0
  for ((j = 0; j < $(fact_count policy.matrix); j++)); do
    q="policy.matrix.$j"
    if [[ "$(fact "$q.expect")" == deny && "$(fact "$q.family")" == "$(fact "$p.family")" && "$(fact "$q.port")" == "$(fact workload.daemonSet.port)" &&
      "$(fact "$q.from.description")" == "$(fact "$p.from.description")" && "$(fact "$q.to.description")" == "$(fact "$p.to.description")" ]]; then
      printf '; while TCP %s on the same path is denied (policy/%s): a ping proves nothing about TCP' "$(fact "$q.port")" "$(fact "$q.id")"
      return 0
    fi
  done
}

# check_policy_allowed I ID: the probe must succeed.
check_policy_allowed() {
  local i=$1 id=$2 p="policy.matrix.$1" probe family text client want_client
  probe=$(fact "$p.probe") family=$(fact "$p.family")
  case "$probe" in
    neighbour)
      local gw state line
      gw=$(fact "$p.to.${family,,}")
      line=$(grep -F -- "${gw} " <<<"$P_OUT" | head -n 1 || true)
      state=$(awk '{ print $NF }' <<<"$line")
      case "$state" in
        REACHABLE | STALE | DELAY | PROBE | PERMANENT)
          POLICY_ROW_OK[$id]=1
          pass "$id" "$(policy_label "$id"): ${POLICY_SUBJECT} keeps its gateway: ${line% }"
          ;;
        *)
          fail "$id" "$(policy_label "$id"): ${POLICY_SUBJECT}'s neighbour ${gw} is ${state:-absent} ($(brief "${P_OUT:-empty table}"))" \
            "${P_CMD}; ./explain.sh (the cali-wl-to-host counters of ICMPv6 135/136)"
          ;;
      esac
      return 0
      ;;
  esac
  if [[ "$P_RESULT" != answered ]] || { [[ "$probe" == http ]] && [[ "$P_OUT" != *"answered over ${family} "* ]]; }; then
    text=$P_OUT
    # ping: its verdict lines, not its banner.
    [[ "$probe" != ping ]] || text=$(grep -E 'Unreachable|unreachable|packet loss|exit code' <<<"$P_OUT" || printf '%s' "$P_OUT")
    fail "$id" "$(policy_label "$id"): ${P_RESULT}: $(brief "${text:-no output}")" \
      "${P_CMD}; kubectl get networkpolicies -n $(fact policy.namespace); ./explain.sh"
    return 0
  fi
  text=$(brief "$P_OUT")
  [[ "$probe" != ping ]] || text=$(grep -Eo '[0-9]+ (packets )?received' <<<"$P_OUT" | head -n 1 || echo answered)
  [[ "$probe" != dns ]] || text="$(sed -n 's/.*\(@[^ ]*\) .*/\1/p' <<<"$P_CMD") answered $(tr '\n' ' ' <<<"$P_OUT" | sed 's/ $//')"
  # The host's own rows: the pod must have seen the fixed address the policies name.
  if [[ "$probe" == http && "$(fact "$p.from.kind")" == host ]]; then
    client=$(sed -n 's/.*(client \([^)]*\)).*/\1/p' <<<"$P_OUT" | head -n 1)
    if [[ "$family" == IPv4 ]]; then want_client=$EXTERNAL_IPV4; else want_client=$EXTERNAL_IPV6; fi
    if [[ -n "$client" && "$client" != "$want_client" ]]; then
      fail "$id" "$(policy_label "$id"): answered, but the pod saw client ${client}, not the fixed ${want_client} the policies name" \
        "docker exec ${LAB_EXTERNAL_NAME} ip ${family/IPv/-} route get $(policy_pod_ip "$POLICY_SUBJECT" "$family")   (deploy routes the pods' blocks with src ${want_client})"
      return 0
    fi
  fi
  POLICY_ROW_OK[$id]=1
  pass "$id" "$(policy_label "$id"): ${text}$(policy_allow_note "$i")"
}

# check_policy_denied I ID: the probe must time out, and Felix's drop counter
# (or, unreadable, the control row) must say the policy dropped it.
check_policy_denied() {
  local i=$1 id=$2 p="policy.matrix.$1" family direction pod node chain before="" after="" why="" delta="" control control_ok=false
  family=$(fact "$p.family") direction=$(fact "$p.decidedBy.0.direction")
  control=$(fact "$p.control")
  if [[ "$direction" == ingress ]]; then pod=$(policy_end "$i" to); else pod=$(policy_end "$i" from); fi
  node=${DP_POD_NODE[$pod]:-}
  if [[ "$direction" == ingress ]]; then chain=cali-tw-$(policy_iface "$LAB_NAMESPACE" "$pod"); else chain=cali-fw-$(policy_iface "$LAB_NAMESPACE" "$pod"); fi
  if [[ -z "$node" ]]; then
    why="no node known for ${pod:-the deciding pod}"
  elif ! before=$(policy_save "$family" "$node"); then
    why=$before before=""
  fi
  policy_probe "$i"
  if [[ -n "$before" ]]; then
    if after=$(policy_save "$family" "$node"); then
      local b a
      if b=$(policy_drop_count "$before" "$chain") && a=$(policy_drop_count "$after" "$chain"); then
        delta=$((a - b))
      else
        why="no \"${POLICY_DROP_RULE}\" rule in ${chain} on ${node}"
      fi
    else
      why=$after
    fi
  fi
  [[ -z "$control" || -z "${POLICY_ROW_OK[policy/$control]:-}" ]] || control_ok=true
  local tool=iptables-nft-save
  [[ "$family" == IPv4 ]] || tool=ip6tables-nft-save
  local counted="" investigate="${P_CMD}; ./explain.sh; kubectl exec -n ${LAB_CALICO_NAMESPACE} \$(kubectl get pods -n ${LAB_CALICO_NAMESPACE} -l k8s-app=calico-node --field-selector spec.nodeName=${node} -o name) -c calico-node -- ${tool} -c -t filter | grep ${chain}"
  [[ -z "$delta" ]] || counted="\"${POLICY_DROP_RULE}\" in ${chain} on ${node} counted +${delta}"
  local control_words=""
  [[ -z "$control" ]] || control_words="policy/${control} on the same path $([[ "$control_ok" == true ]] && echo answers || echo fails too)"
  case "$P_RESULT" in
    none)
      skip "$id" "$(policy_label "$id"): ${P_WHY}"
      return 0
      ;;
    answered)
      fail "$id" "$(policy_label "$id"): answered ($(brief "$P_OUT")): the policies allow what the lesson denies${counted:+ (${counted})}" \
        "kubectl get networkpolicies -n $(fact policy.namespace) -o yaml; ./explain.sh"
      return 0
      ;;
    refused | unreachable)
      # Calico drops denied packets without a word: a connection that fails at once was not dropped by a policy.
      if [[ "$P_RESULT" == refused || "$control_ok" == true ]]; then
        fail "$id" "$(policy_label "$id"): refused at once ($(brief "$P_OUT"))${control_words:+ while ${control_words}}: something answered the SYN, so no policy dropped it (Calico drops denied packets silently; they time out)${counted:+; ${counted}}" "$investigate"
      else
        fail "$id" "$(policy_label "$id"): broken, not denied: no connection at once ($(brief "$P_OUT"))${control_words:+, and ${control_words}}${counted:+; ${counted}}" "$investigate"
      fi
      return 0
      ;;
  esac
  # A timeout (or another failure): denied, or broken?
  if [[ -n "$delta" ]]; then
    if ((delta > 0)) && [[ "$P_RESULT" == timeout ]]; then
      POLICY_ROW_OK[$id]=1
      pass "$id" "$(policy_label "$id"): timed out after ${LAB_POLICY_DENY_TIMEOUT}s, dropped by policy: ${counted}${control_words:+; ${control_words}}"
    elif ((delta > 0)); then
      fail "$id" "$(policy_label "$id"): ${P_RESULT} ($(brief "$P_OUT")) although ${counted}: a denied connection times out" "$investigate"
    elif [[ "$control_ok" == true ]]; then
      fail "$id" "$(policy_label "$id"): ${P_RESULT} ($(brief "$P_OUT")), but ${counted}: lost elsewhere, not dropped by the policy (${control_words})" "$investigate"
    else
      fail "$id" "$(policy_label "$id"): broken, not denied: ${P_RESULT} ($(brief "$P_OUT")), ${counted}${control_words:+, and ${control_words}}" "$investigate"
    fi
    return 0
  fi
  if [[ "$control_ok" == true && "$P_RESULT" == timeout ]]; then
    POLICY_ROW_OK[$id]=1
    pass "$id" "$(policy_label "$id"): timed out after ${LAB_POLICY_DENY_TIMEOUT}s while ${control_words} (Felix's counters unread: ${why})"
  else
    fail "$id" "$(policy_label "$id"): broken, not denied: ${P_RESULT} ($(brief "$P_OUT")); ${control_words:-no control row} and Felix's counters unread (${why})" "$investigate"
  fi
}

check_policy() {
  local i id
  fact_has policy || return 0
  POLICY_SUBJECT=$PEER_POD POLICY_PARTNER=$CLIENT_POD
  check_policy_external_host
  check_policy_objects
  for ((i = 0; i < $(fact_count policy.matrix); i++)); do
    id=policy/$(fact "policy.matrix.$i.id")
    if [[ -z "$POLICY_SUBJECT" || -z "$POLICY_PARTNER" ]]; then
      skip "$id" "$(policy_label "$id"): no pair of Running dual-stack pods on two nodes to play it"
      continue
    fi
    if [[ "$(fact "policy.matrix.$i.expect")" == deny ]]; then
      check_policy_denied "$i" "$id"
      continue
    fi
    policy_probe "$i"
    if [[ "$P_RESULT" == none ]]; then
      skip "$id" "$(policy_label "$id"): ${P_WHY}"
    else
      check_policy_allowed "$i" "$id"
    fi
  done
}

verify_section policy
