#!/usr/bin/env bash
# Failure diagnosis for deploy.sh, beyond the pods/TigeraStatus/operator log
# it prints itself: why calico-node is not Ready (probe message, last log
# lines), what the operator rendered into the CNI config (assign_ipv4/ipv6),
# kube-proxy's errors when a Service check failed, and a `kind export logs`
# archive under .lab/logs/ whose path is printed. See docs/preflight.md.
#
# Sourced after scripts/lib/common.sh, never executed. Every call is bounded
# (--request-timeout) and never fails: diagnosis must not hide the error.

[[ -n "${_LAB_DIAGNOSE_SH:-}" ]] && return 0
_LAB_DIAGNOSE_SH=1

LAB_DIAG_LOG_LINES=${LAB_DIAG_LOG_LINES:-15}
LAB_LOGS_DIR=${LAB_LOGS_DIR:-}

# calico-node pods: name|node|Ready|restarts|waiting reason
Q_CALICO_NODE='{.metadata.name}{"|"}{.spec.nodeName}{"|"}{.status.conditions[?(@.type=="Ready")].status}{"|"}{.status.containerStatuses[?(@.name=="calico-node")].restartCount}{"|"}{.status.containerStatuses[?(@.name=="calico-node")].state.waiting.reason}{"\n"}'

_diag() { "$@" --request-timeout=10s 2>&1 || true; }
_indent() { sed "s/^/${1:-  }/" >&2; }

# diagnose_calico_node: for each calico-node pod that is not Ready, its
# readiness probe's message and its last log lines (the previous container's
# when it restarted: calico-node exits on a fatal startup error).
diagnose_calico_node() {
  local pods name node ready restarts reason prev
  pods=$(_diag kubectl get pods -n calico-system -l k8s-app=calico-node -o jsonpath="{range .items[*]}${Q_CALICO_NODE}{end}")
  info "calico-node pods not Ready (kubectl get pods -n calico-system -l k8s-app=calico-node):"
  if [[ "$pods" != *"|"* ]]; then
    printf '%s\n' "${pods:-(none: the operator has not created the calico-node DaemonSet)}" | _indent
    return 0
  fi
  while IFS='|' read -r name node ready restarts reason; do
    [[ -n "$name" && "$ready" != True ]] || continue
    info "  ${name} on ${node}: Ready=${ready:-Unknown} restarts=${restarts:-0}${reason:+ (${reason})}"
    info "    readiness (kubectl get events -n calico-system --field-selector involvedObject.name=${name},reason=Unhealthy):"
    _diag kubectl get events -n calico-system --field-selector "involvedObject.name=${name},reason=Unhealthy" \
      -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | tail -n 3 | _indent "      "
    prev=()
    [[ "${restarts:-0}" =~ ^[1-9] ]] && prev=(--previous)
    info "    last ${LAB_DIAG_LOG_LINES} log lines (kubectl logs -n calico-system ${name} -c calico-node ${prev[*]}):"
    _diag kubectl logs -n calico-system "$name" -c calico-node "${prev[@]}" --tail="$LAB_DIAG_LOG_LINES" | _indent "      "
  done <<<"$pods"
}

# diagnose_cni_config: the IPAM families the operator rendered into the CNI
# config; "false" for a family means its pool never reached the operator.
diagnose_cni_config() {
  local config assign
  info "CNI IPAM rendered by the operator (kubectl get configmap -n calico-system cni-config):"
  config=$(_diag kubectl get configmap -n calico-system cni-config -o jsonpath='{.data.config}')
  assign=$(grep -o '"assign_ipv[46]"[[:space:]]*:[[:space:]]*"[a-z]*"' <<<"$config" | tr -d ' "' | tr ':' '=' | paste -sd' ' -) || true
  if [[ -n "$assign" ]]; then
    info "  ${assign}"
    [[ "$assign" == *"assign_ipv6=true"* ]] ||
      info "  (pods get no IPv6 address: the Installation/IPPools did not give the operator an IPv6 pool)"
  else
    printf '%s\n' "${config:-(no cni-config yet)}" | head -n 3 | _indent
  fi
}

# diagnose_kube_proxy: kube-proxy's error lines (klog "E" prefix), the first
# suspect when a Service's ClusterIP does not answer.
diagnose_kube_proxy() {
  local out
  info "kube-proxy errors, last 10 (kubectl logs -n kube-system -l k8s-app=kube-proxy --prefix):"
  out=$(_diag kubectl logs -n kube-system -l k8s-app=kube-proxy --prefix --tail=200)
  out=$(grep -E '\] E[0-9]{4} |^E[0-9]{4} |error' <<<"$out" | tail -n 10) || true
  printf '%s\n' "${out:-(none)}" | _indent
}

# export_kind_logs: everything kind can collect (journals, containerd,
# pod logs, node inspect) into .lab/logs/<UTC timestamp>; prints the path.
export_kind_logs() {
  local dir=${LAB_LOGS_DIR:-$LAB_PROJECT_DIR/.lab/logs/$(date -u +%Y%m%dT%H%M%SZ)}
  info "kind export logs ${dir} --name ${LAB_CLUSTER_NAME}:"
  mkdir -p "$dir"
  if kind export logs "$dir" --name "$LAB_CLUSTER_NAME" >/dev/null 2>&1; then
    info "  logs of every node: ${dir}"
  else
    info "  kind export logs failed; see 'kind get nodes --name ${LAB_CLUSTER_NAME}'"
  fi
}

# diagnose_more FAILED_STEP_NAME: what deploy's diagnose adds after its own.
diagnose_more() {
  diagnose_calico_node
  diagnose_cni_config
  [[ "${1:-}" != "Verify the lab" ]] || diagnose_kube_proxy
  export_kind_logs
}
