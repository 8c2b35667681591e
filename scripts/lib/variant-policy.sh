#!/usr/bin/env bash
# The network-policy lesson (policy: on; docs/policy.md): deploy's part.
#
#   preflight / after_cluster  the external host's fixed addresses (facts
#                              policy.externalHost, the policies name them) lie
#                              inside kind's Docker network and no other
#                              container holds them
#   after_calico               wait for the Calico API server (TigeraStatus
#                              apiserver and APIService v3.projectcalico.org
#                              Available), then kubectl apply -f <dist>/policy/
#   ready                      route the external host to every node's pod
#                              blocks through that node, from its fixed
#                              addresses, so it can reach the pods
#   summary, diagnose          what to try; what to look at when the wait fails
#   explain                    Felix's chains and counters (explain-policy.sh)
#
# external-host.sh starts the external host at the fixed addresses; verify's
# checks are checks-policy.sh. Sourced by scripts/lib/variants.sh after
# common.sh (the facts are loaded), never executed. With policy off none of
# this runs.

[[ -n "${_LAB_VARIANT_POLICY_SH:-}" ]] && return 0
_LAB_VARIANT_POLICY_SH=1

# Seconds for the Calico API server to serve projectcalico.org/v3.
LAB_POLICY_TIMEOUT=${LAB_POLICY_TIMEOUT:-300}
# The rule at the end of an endpoint's policies (felix/rules/endpoints.go).
POLICY_DROP_RULE="Drop if no policies passed packet"
# A projectcalico.org/v3 NetworkPolicy as the Calico API server serves it:
# name|order|types|selector (the selector last: it may hold "|").
# shellcheck disable=SC2016,SC2034 # kubectl JSONPath; read by the tests too
Q_CALICO_POLICY='{.metadata.name}{"|"}{.spec.order}{"|"}{.spec.types[*]}{"|"}{.spec.selector}{"\n"}'
# Which wait is under way, for the diagnosis.
_LAB_POLICY_WAITING=""

policy_active() { [[ "$(fact policy.mode)" == on ]]; }

# policy_dir: where deploy applies the lesson from.
policy_dir() { printf '%s/%s/' "$LAB_DIST_DIR" "$(fact_or policy.directory policy)"; }

# --- the external host's fixed addresses ------------------------------------------------

# policy_network_containers NET: "name|IPv4/len|IPv6/len" per container on NET.
policy_network_containers() {
  docker network inspect "$1" --format '{{range .Containers}}{{.Name}}|{{.IPv4Address}}|{{.IPv6Address}}{{"\n"}}{{end}}' 2>/dev/null | grep . || true
}

# policy_check_addresses: dies, one line per problem naming the config key,
# when a fixed address lies outside kind's network or another container
# holds it. Returns 1 (nothing checked) when the network does not exist yet.
policy_check_addresses() {
  local net=${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind} fam key addr subnet inside name v4 v6 ext containers
  local -a subnets=() problems=()
  mapfile -t subnets < <(network_subnets "$net")
  ((${#subnets[@]} > 0)) || return 1
  containers=$(policy_network_containers "$net")
  ext=${LAB_EXTERNAL_NAME:-$(lab_rebase_name "$(fact externalHost.name)")}
  for fam in ipv4 ipv6; do
    key=externalHost.$fam addr=$(fact "policy.externalHost.$fam")
    [[ -n "$addr" ]] || continue
    inside=""
    for subnet in "${subnets[@]}"; do
      if ip_in_cidr "$addr" "$subnet"; then inside=$subnet; fi
    done
    if [[ -z "$inside" ]]; then
      problems+=("${key}: got ${addr}, outside the Docker network '${net}' (subnets: ${subnets[*]}); allowed: an unused address inside its ${fam^^} subnet")
      continue
    fi
    while IFS='|' read -r name v4 v6; do
      [[ -n "$name" && "$name" != "$ext" ]] || continue
      if [[ "${v4%/*}" == "$addr" || "${v6%/*}" == "$addr" ]]; then
        problems+=("${key}: got ${addr}, which container ${name} already holds on the Docker network '${net}'; allowed: an unused address inside ${inside}")
      fi
    done <<<"$containers"
  done
  if ((${#problems[@]} > 0)); then
    printf 'ERROR: %s\n' "${problems[@]}" >&2
    die "the policy lesson's external host cannot run at its fixed addresses (${#problems[@]} problem(s) above): the policies name it by them" \
      "set externalHost.ipv4 / externalHost.ipv6 in lab.config.yaml to unused addresses of the Docker network '${net}' (docker network inspect ${net}), then ./deploy.sh again (it synthesizes the change)"
  fi
  info "  policy lesson: the external host's $(fact policy.externalHost.ipv4) and $(fact policy.externalHost.ipv6) are inside the Docker network ${net} (${subnets[*]}) and unused"
}

policy_preflight() {
  policy_check_addresses ||
    info "  policy lesson: the Docker network ${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind} does not exist yet; its external host's addresses are checked once kind has created it"
}

policy_after_cluster() {
  policy_check_addresses || die "the Docker network ${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind} has no subnets after kind create cluster" \
    "docker network inspect ${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind}"
}

# --- apply policy/ once the Calico API server serves projectcalico.org/v3 --------------------

policy_watch_apiserver() { watch_pods "calico-apiserver"; }

policy_after_calico() {
  local status apiservice dir
  status=$(fact_or policy.apiServer.tigeraStatus apiserver)
  apiservice=$(fact_or policy.apiServer.apiService v3.projectcalico.org)
  dir=$(policy_dir)
  info "  policy lesson: ${dir} holds a projectcalico.org/v3 policy, served by the Calico API server"
  # NotFound (not created yet) is "not yet" for wait_for: it asks again until the deadline.
  _LAB_POLICY_WAITING=apiserver
  wait_for --watch policy_watch_apiserver "TigeraStatus ${status} and APIService ${apiservice} to be Available" "$LAB_POLICY_TIMEOUT" \
    kubectl wait --for=condition=Available "tigerastatus/${status}" "apiservice/${apiservice}"
  # Retried while kubectl cannot map the kind yet ("no matches for kind").
  _LAB_POLICY_WAITING=apply
  info "  kubectl apply -f ${dir}"
  wait_for "kubectl apply -f ${dir} to go through" "${LAB_CRD_TIMEOUT:-120}" kubectl apply -f "$dir"
  _LAB_POLICY_WAITING=""
}

policy_diagnose() {
  local status apiservice
  status=$(fact_or policy.apiServer.tigeraStatus apiserver)
  apiservice=$(fact_or policy.apiServer.apiService v3.projectcalico.org)
  case "$_LAB_POLICY_WAITING" in
    apiserver)
      info ""
      info "The policy lesson waited for the Calico API server, which serves projectcalico.org/v3 (allow-ping). Look at:"
      info "  kubectl get tigerastatus ${status} -o yaml"
      info "  kubectl get apiservice ${apiservice} -o yaml"
      info "  kubectl -n calico-apiserver get pods"
      ;;
    apply)
      info ""
      info "The policy lesson's apply failed. Look at: kubectl apply -f $(policy_dir); kubectl get apiservice ${apiservice}"
      ;;
  esac
}

# --- route the external host to the pods ------------------------------------------------------

# policy_ready: per confirmed block of a node, a route on the external host
# through that node (the block's pods are there: no detour, replies come back
# the same way), from the fixed address of the block's family.
policy_ready() {
  local out name ips node cidr state via src fam count=0 ext
  local -A node_v4=() node_v6=()
  external_host_defaults
  ext=$LAB_EXTERNAL_NAME
  out=$(kubectl get nodes -o jsonpath="$(in_list "$Q_NODE")" 2>&1) || die "cannot list the nodes to route the external host: ${out}" "kubectl get nodes -o wide"
  while IFS='|' read -r name _ ips; do
    [[ -n "$name" ]] || continue
    split_families "$ips"
    node_v4[$name]=${V4[0]:-} node_v6[$name]=${V6[0]:-}
  done <<<"$out"
  # shellcheck disable=SC2016 # kubectl JSONPath
  out=$(kubectl get blockaffinities.crd.projectcalico.org -o jsonpath='{range .items[*]}{.spec.node}{"|"}{.spec.cidr}{"|"}{.spec.state}{"\n"}{end}' 2>&1) ||
    die "cannot list the block affinities to route the external host: ${out}" "kubectl get blockaffinities.crd.projectcalico.org"
  info "  policy lesson: routing ${ext} to the pods' blocks through their nodes (ip route replace ... src <fixed address>)"
  while IFS='|' read -r node cidr state; do
    [[ -n "$node" && "$state" == confirmed ]] || continue
    if is_ipv6 "$cidr"; then
      fam=-6 via=${node_v6[$node]:-} src=$EXTERNAL_FIXED_IPV6
    else
      fam=-4 via=${node_v4[$node]:-} src=$EXTERNAL_FIXED_IPV4
    fi
    [[ -n "$via" ]] || continue
    if ! out=$(docker exec "$ext" ip "$fam" route replace "$cidr" via "$via" src "$src" 2>&1); then
      die "could not route ${ext} to ${cidr} via ${node} ${via}: ${out}" \
        "docker exec ${ext} ip ${fam} route   (the container needs NET_ADMIN: ./destroy.sh --yes or docker rm -f ${ext}, then ./deploy.sh starts it again)"
    fi
    info "    ${cidr} via ${via} (${node}) src ${src}"
    count=$((count + 1))
  done <<<"$out"
  ((count > 0)) || die "no confirmed block affinity to route the external host to" "kubectl get blockaffinities.crd.projectcalico.org"
}

policy_summary() {
  local families
  families=$(lab_families)
  info "Policy lesson: $(fact_count policy.policies) policies from $(policy_dir) (docs/policy.md). ./verify.sh proves its $(fact_count policy.matrix) matrix rows on ${families// / and };"
  info "  ./explain.sh shows the chains Felix programmed for a pod and their counters before and after a denied and an allowed request."
}

# --- Felix's tables, read through calico-node (verify and explain) --------------------------

# policy_iface NAMESPACE POD: the host side of the pod's veth, as Calico's CNI
# plugin names it: "cali" + the first 11 hex digits of SHA-1("<ns>.<pod>").
policy_iface() {
  local sum
  if have sha1sum; then
    sum=$(printf '%s.%s' "$1" "$2" | sha1sum)
  else
    sum=$(printf '%s.%s' "$1" "$2" | shasum -a 1)
  fi
  printf 'cali%s' "${sum:0:11}"
}

# policy_save FAMILY NODE: the filter table of NODE with counters, through its
# calico-node pod (iptables-nft-save, as on kind's nodes; legacy when the nft
# one holds no Calico chain). Fails, printing why, when it cannot be read.
policy_save() {
  local family=$1 node=$2 pod out backend tool
  pod=$(calico_node_pod "$node") || { printf '%s' "$pod"; return 1; }
  for backend in nft legacy; do
    if [[ "$family" == IPv4 ]]; then tool=iptables-${backend}-save; else tool=ip6tables-${backend}-save; fi
    if out=$(kubectl exec -n "${LAB_CALICO_NAMESPACE:-calico-system}" "$pod" -c calico-node -- "$tool" -c -t filter 2>&1) && [[ "$out" == *":cali-"* ]]; then
      printf '%s\n' "$out"
      return 0
    fi
  done
  printf 'no Calico chains in %s on %s: %s' "$tool" "$pod" "$(tr -s '\n' ' ' <<<"$out" | cut -c1-160)"
  return 1
}

# policy_drop_count TABLE CHAIN: the packets of CHAIN's "Drop if no policies
# passed packet" rule in TABLE (iptables-save -c); fails when not exactly one.
policy_drop_count() {
  local hits
  hits=$(grep -F -- "-A $2 " <<<"$1" | grep -F -- "\"${POLICY_DROP_RULE}\"" || true)
  [[ -n "$hits" && "$(grep -c . <<<"$hits")" == 1 && "$hits" =~ ^\[([0-9]+): ]] || return 1
  printf '%s' "${BASH_REMATCH[1]}"
}

# --- explain ------------------------------------------------------------------------------------

policy_explain() {
  # shellcheck source=scripts/lib/explain-policy.sh
  source "$(dirname "${BASH_SOURCE[0]}")/explain-policy.sh"
  explain_policy
}
