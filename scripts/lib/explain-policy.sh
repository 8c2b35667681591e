#!/usr/bin/env bash
# explain.sh's screen of the network-policy lesson (policy: on; docs/policy.md):
# for the source pod (explain's first pod), on each family of the lab,
#   - the lesson's policies as Calico sees them: the Calico one from the Calico
#     API server (projectcalico.org/v3), the Kubernetes ones under the names and
#     order Felix gives them (knp.default.<name>, order 1000);
#   - the chains Felix programmed for that workload: its endpoint chains
#     cali-tw-<iface> (to the pod) and cali-fw-<iface> (from it) and the policy
#     chains they jump to (cali-pi-/cali-po-, through group chains cali-gi-/
#     cali-go-), found by the "Policy <ns>/<name> ingress|egress" comment Felix
#     puts on each policy chain, read with iptables-save -c / ip6tables-save -c
#     through the calico-node pod of the pod's node;
#   - their counters before and after one denied IPv4 request and one allowed
#     IPv6 request from the external host to the pod's app port.
#
# Sourced by variant-policy.sh's policy_explain, inside explain.sh (its say,
# note, more, show helpers and SOURCE_POD, POD_NODE, POD_V4, POD_V6).

[[ -n "${_LAB_EXPLAIN_POLICY_SH:-}" ]] && return 0
_LAB_EXPLAIN_POLICY_SH=1

LAB_POLICY_DENY_TIMEOUT=${LAB_POLICY_DENY_TIMEOUT:-3}
LAB_CURL_TIMEOUT=${LAB_CURL_TIMEOUT:-5}

# policy_rules TABLE CHAIN: CHAIN's rules in TABLE, with their counters.
policy_rules() { grep -F -- "] -A $2 " <<<"$1" || true; }

# policy_unhashed: rules without Felix's per-rule hash comment (cali:<hash>), for reading.
policy_unhashed() { sed 's/ -m comment --comment "cali:[^"]*"//'; }

# policy_chains_from TABLE CHAIN: CHAIN, then the policy and group chains it
# jumps to, depth first, each once.
policy_chains_from() {
  local table=$1 chain=$2 target
  local -A seen=()
  local -a todo=("$chain")
  while ((${#todo[@]} > 0)); do
    chain=${todo[0]}
    todo=("${todo[@]:1}")
    [[ -z "${seen[$chain]:-}" ]] || continue
    seen[$chain]=1
    printf '%s\n' "$chain"
    local -a next=()
    while read -r target; do
      [[ -n "$target" ]] && next+=("$target")
    done < <(policy_rules "$table" "$chain" | sed -n 's/.* -j \(cali-p[io]-[^ ]*\|cali-g[io]-[^ ]*\)$/\1/p')
    todo=(${next[@]+"${next[@]}"} ${todo[@]+"${todo[@]}"})
  done
}

# policy_chain_empty TABLE CHAIN: CHAIN holds only Felix's comment, no rule that matches or acts.
policy_chain_empty() { ! policy_rules "$1" "$2" | grep -Eq -- ' -j | -g '; }

# policy_chain_name TABLE CHAIN: the policy a cali-pi-/po- chain is, from Felix's comment.
policy_chain_name() {
  policy_rules "$1" "$2" | sed -n 's/.*--comment "Policy \([^"]*\)".*/\1/p' | head -n 1
}

# policy_show_chains TABLE OTHER ENDPOINT_CHAIN WHAT: the endpoint chain and
# the chains it reaches in TABLE (OTHER: the other family's table, to tell an
# empty policy chain whose rules are all of the other family).
policy_show_chains() {
  local table=$1 other=$2 chain=$3 what=$4 c name
  while read -r c; do
    [[ -n "$c" ]] || continue
    case "$c" in
      cali-tw-* | cali-fw-*) say "  ${c}   (${what})" ;;
      cali-gi-* | cali-go-*) say "  ${c}   (a group: policies with the same selector, tried in turn)" ;;
      *)
        name=$(policy_chain_name "$table" "$c")
        say "  ${c}   (Policy ${name:-?})"
        ;;
    esac
    policy_rules "$table" "$c" | policy_unhashed | sed 's/^/     /'
    if [[ "$c" == cali-p[io]-* ]] && policy_chain_empty "$table" "$c"; then
      if [[ -n "$other" ]] && ! policy_chain_empty "$other" "$c"; then
        note "empty in this family: every rule of ${name%% *} here names addresses of the other family (an ipBlock"
        more "names one family), so Felix renders them only there; the packet falls through to the next policy."
      else
        note "no rule: ${name%% *} allows nothing in this direction; the packet goes on to the next policy, then the drop."
      fi
    fi
  done < <(policy_chains_from "$table" "$chain")
}

# policy_moved BEFORE AFTER CHAINS...: "[before] -> [after]  rule" for each rule of CHAINS whose counters changed.
policy_moved() {
  local before=$1 after=$2 c a b i
  shift 2
  for c in "$@"; do
    local -a bl=() al=()
    mapfile -t bl < <(policy_rules "$before" "$c")
    mapfile -t al < <(policy_rules "$after" "$c")
    for ((i = 0; i < ${#al[@]}; i++)); do
      a=${al[i]%%]*}] b=${bl[i]:-[?:?]}
      b=${b%%]*}]
      [[ "$a" != "$b" ]] || continue
      printf '     %s -> %s  %s\n' "$b" "$a" "$(policy_unhashed <<<"${al[i]#*] }")"
    done
  done
}

# policy_external_policy: Calico's name of the policy that lets the external host in (row external-http-ipv6).
policy_external_policy() {
  local i
  i=$(fact_find policy.matrix id external-http-ipv6) || return 0
  fact "policy.matrix.$i.decidedBy.0.calicoName"
}

# policy_explain_policies: the lesson's policies in Calico's order.
policy_explain_policies() {
  local ns i name api out order selector types
  ns=$(fact policy.namespace)
  say "The lesson's policies as Calico sees them, in the order it evaluates them   (kubectl get networkpolicies.projectcalico.org -n ${ns})"
  for ((i = 0; i < $(fact_count policy.policies); i++)); do
    name=$(fact "policy.policies.$i.name") api=$(fact "policy.policies.$i.api")
    if [[ "$api" == projectcalico.org/v3 ]]; then
      if out=$(kubectl get networkpolicies.projectcalico.org -n "$ns" "$name" -o jsonpath="$Q_CALICO_POLICY" 2>&1); then
        IFS='|' read -r _ order types selector <<<"$out"
        printf '     order %4s  %-40s %-21s %-15s selector %s\n' "$order" "$(fact "policy.policies.$i.calicoName")" "$api" "$types" "$selector"
      else
        printf '     %-51s %-21s not served: %s\n' "$(fact "policy.policies.$i.calicoName")" "$api" "$(head -n 1 <<<"$out")"
      fi
    else
      printf '     order %4s  %-40s %-21s %s\n' "$(fact "policy.policies.$i.order")" "$(fact "policy.policies.$i.calicoName")" "$api" "$(fact_list "policy.policies.$i.types")"
    fi
  done
  note "lowest order first: allow-ping (a Calico policy, with an explicit order) comes before every Kubernetes NetworkPolicy,"
  more "which Calico converts to knp.default.<name> at order 1000 (then by name). The first allow or deny decides."
  say ""
}

explain_policy() {
  local pod=$SOURCE_POD node iface cn family tool
  node=${POD_NODE[$pod]}
  iface=$(policy_iface "$LAB_NAMESPACE" "$pod")
  say "==================== The policy lesson: ${pod} on ${node} ===================="
  policy_explain_policies
  cn=$(calico_node_pod "$node") || { say "  Felix's chains cannot be read: ${cn}"; say ""; return 0; }
  local -A before=() after=()
  for family in $(lab_families); do
    before[$family]=$(policy_save "$family" "$node") || { say "${family}: Felix's chains cannot be read: ${before[$family]}"; before[$family]=""; }
  done
  for family in $(lab_families); do
    [[ -n "${before[$family]}" ]] || continue
    local other=""
    if [[ "$family" == IPv4 ]]; then tool=iptables-nft-save other=${before[IPv6]:-}; else tool=ip6tables-nft-save other=${before[IPv4]:-}; fi
    say "${family}: the chains Felix programmed for ${pod} (${iface}) on ${node}   (kubectl exec -n ${LAB_CALICO_NAMESPACE:-calico-system} ${cn} -c calico-node -- ${tool} -c -t filter; rule hashes left out)"
    policy_show_chains "${before[$family]}" "$other" "cali-tw-${iface}" "to the pod: its ingress policies in order, then the drop"
    policy_show_chains "${before[$family]}" "$other" "cali-fw-${iface}" "from the pod: its egress policies in order, then the drop"
    note "a policy that allows sets mark 0x10000 and returns; the endpoint chain returns on that mark (\"Return if policy accepted\")."
    more "If no policy set it: \"${POLICY_DROP_RULE}\". A pod no policy selects would go on to its profiles instead."
    say ""
  done

  # One denied IPv4 and one allowed IPv6 request from the external host, and what they counted.
  if ! external_host_addresses; then
    say "The external host is not running (${EXTERNAL_ERROR}): no requests to count. ./deploy.sh starts it."
    say ""
    return 0
  fi
  local v4=${POD_V4[$pod]:-} v6=${POD_V6[$pod]:-} port out rc
  port=$(fact workload.daemonSet.port)
  say "Counters before and after one IPv4 and one IPv6 request from the external host ${LAB_EXTERNAL_NAME} ($(fact policy.externalHost.ipv4), $(fact policy.externalHost.ipv6)) to ${pod}:${port}"
  local -a probes=()
  lab_has_family IPv4 && [[ -n "$v4" ]] && probes+=("IPv4|${LAB_POLICY_DENY_TIMEOUT}|http://${v4}:${port}/")
  lab_has_family IPv6 && [[ -n "$v6" ]] && probes+=("IPv6|${LAB_CURL_TIMEOUT}|http://[${v6}]:${port}/")
  local p t url
  for p in "${probes[@]}"; do
    IFS='|' read -r _ t url <<<"$p"
    rc=0
    out=$(docker exec "$LAB_EXTERNAL_NAME" curl -g -sS --max-time "$t" "$url" 2>&1) || rc=$?
    show "docker exec ${LAB_EXTERNAL_NAME} curl -g -sS --max-time ${t} ${url}"
    show "  -> $(head -n 1 <<<"$out") (exit ${rc})"
  done
  for family in $(lab_families); do
    [[ -n "${before[$family]}" ]] || continue
    after[$family]=$(policy_save "$family" "$node") || { say "  ${family}: cannot read the counters again: ${after[$family]}"; continue; }
    local -a chains=()
    mapfile -t chains < <(policy_chains_from "${before[$family]}" "cali-tw-${iface}")
    say "  ${family}: what moved in cali-tw-${iface} and its policy chains   ([packets:bytes] before -> after)"
    policy_moved "${before[$family]}" "${after[$family]}" "${chains[@]}"
    local b a ext_name ext_chain=""
    ext_name=$(policy_external_policy)
    for c in "${chains[@]}"; do
      [[ "$(policy_chain_name "${before[$family]}" "$c")" != "${ext_name} ingress" ]] || ext_chain=$c
    done
    if [[ "$family" == IPv4 ]]; then
      b=$(policy_drop_count "${before[$family]}" "cali-tw-${iface}") || b=0
      a=$(policy_drop_count "${after[$family]}" "cali-tw-${iface}") || a=0
      if ((a > b)); then
        local empty=""
        [[ -z "$ext_chain" ]] || empty=" (${ext_chain}, the IPv4 ingress chain of ${ext_name}, holds no rule)"
        note "denied: the host's SYNs went through every policy without an accept mark${empty}"
        more "and \"${POLICY_DROP_RULE}\" counted them: +$((a - b)). Dropped, so curl timed out."
      else
        note "the drop counter did not move (+0): the request never reached ${node}'s policies. ./verify.sh tells denied from broken."
      fi
    else
      if [[ -n "$ext_chain" ]] && [[ "$(policy_moved "${before[$family]}" "${after[$family]}" "$ext_chain")" == *"0x10000/0x10000"* ]]; then
        note "allowed: the SYN matched ${ext_name}'s /128 rule in ${ext_chain}, which sets the accept mark 0x10000;"
        more "the rest of the connection is conntrack's (\"RELATED,ESTABLISHED\" ACCEPT at the top of cali-tw-${iface})."
      else
        note "${ext_name}'s IPv6 rule counted nothing: the request did not reach the pod's policies (see curl's answer above)."
      fi
    fi
  done
  say ""
}
