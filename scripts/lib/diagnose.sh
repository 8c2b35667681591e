#!/usr/bin/env bash
# Failure diagnosis for deploy.sh: the pods that are not Ready, every
# TigeraStatus condition with its message, each not-Ready pod's containers,
# Warning events and last log lines (the previous container's when it
# restarted), the tigera-operator's warnings and errors, what the operator
# rendered into the CNI config (assign_ipv4/ipv6), kube-proxy's errors when a
# Service check failed, and a `kind export logs` archive under .lab/logs/
# whose path is printed. A section with nothing to show is left out.
# See docs/preflight.md.
#
# Sourced after scripts/lib/common.sh and scripts/lib/wait.sh, never executed.
# Every call is bounded (--request-timeout) and never fails: diagnosis must
# not hide the error.

[[ -n "${_LAB_DIAGNOSE_SH:-}" ]] && return 0
_LAB_DIAGNOSE_SH=1

LAB_DIAG_LOG_LINES=${LAB_DIAG_LOG_LINES:-15}
LAB_DIAG_MAX_PODS=${LAB_DIAG_MAX_PODS:-6}
LAB_LOGS_DIR=${LAB_LOGS_DIR:-}

# TigeraStatus objects: "ts|name", then "cond|type|status|message" per condition;
# a pod's Warning events: "reason: message". *_ITEM: one object's fields.
# shellcheck disable=SC2016 # kubectl JSONPath, not shell
Q_TIGERASTATUS_ITEM='{"ts|"}{.metadata.name}{"\n"}{range .status.conditions[*]}{"cond|"}{.type}{"|"}{.status}{"|"}{.message}{"\n"}{end}'
Q_TIGERASTATUS="{range .items[*]}${Q_TIGERASTATUS_ITEM}{end}"
# shellcheck disable=SC2016
Q_EVENT_ITEM='{.reason}{": "}{.message}{"\n"}'

_diag() { "$@" --request-timeout=10s 2>&1 || true; }
_indent() { sed "s/^/${1:-  }/" >&2; }

# diagnose_pods_not_ready: kubectl get pods -A -o wide, the pods not Ready.
diagnose_pods_not_ready() {
  info "Pods not Ready (kubectl get pods -A -o wide):"
  { kubectl get pods -A -o wide --no-headers --request-timeout=10s 2>&1 || true; } | awk '
    NF < 4 { print "  " $0; next }
    { split($3, r, "/") }
    ($4 != "Completed" && ($4 != "Running" || r[1] != r[2])) { print "  " $0; n++ }
    END { if (n == 0) print "  (none)" }' >&2
}

# diagnose_tigerastatus: each TigeraStatus with its conditions, and under it
# every condition's message (each distinct message once).
diagnose_tigerastatus() {
  local out
  out=$(_diag kubectl get tigerastatuses.operator.tigera.io -o jsonpath="$Q_TIGERASTATUS")
  info "TigeraStatus, the operator's view (kubectl get tigerastatus; -o yaml for all of it):"
  if [[ "$out" != *"ts|"* ]]; then
    # No objects yet, or kubectl's error (say, the CRD is not there).
    printf '%s\n' "${out:-(none yet: the tigera-operator has not reported any)}" | _indent
    return 0
  fi
  awk -F'|' '
    function flush() {
      if (name == "") return
      print "  " name line
      for (i = 1; i <= nmsg; i++) print "    " msgs[i]
    }
    $1 == "ts" { flush(); name = $2; line = ""; nmsg = 0; delete seen; next }
    $1 == "cond" {
      line = line "  " $2 "=" $3
      msg = $0; sub(/^cond\|[^|]*\|[^|]*\|/, "", msg)
      if (msg != "" && !(tolower(msg) in seen)) { seen[tolower(msg)] = 1; msgs[++nmsg] = $2 ": " msg }
    }
    END { flush() }' <<<"$out" >&2
}

# diagnose_pods: for each pod that is not Ready (LAB_DIAG_MAX_PODS at most), its
# containers' states, its Warning events and its containers' last log lines
# (the previous container's when one restarted: a crash's cause is there).
diagnose_pods() {
  local out type a b c d e f g ns="" pod="" node="" phase="" shown=0 more=0 never
  local -a pods=() containers=()
  local -A where=() state=() not_ready=()
  out=$(pod_containers 2>/dev/null) || return 0
  while IFS='|' read -r type a b c d e f g; do
    case "$type" in
      pod)
        ns=$a pod=$b node=$c phase=$d
        [[ "$phase" != Succeeded ]] || { pod=""; continue; }
        pods+=("$ns/$pod")
        where[$ns/$pod]=$node
        # A pod that is not Running (say, Pending without containers yet) is not Ready either.
        [[ "$phase" == Running ]] || not_ready[$ns/$pod]=1
        ;;
      init | ctr)
        [[ -n "$pod" && "$c" != true ]] || continue
        # a=name d=restarts e=waiting reason f=waiting message (g: a '|' in it)
        f=${f}${g:+|$g}
        never=""
        [[ -z "$e" || "$e" == CrashLoopBackOff || "${d:-0}" != 0 ]] || never=1
        not_ready[$ns/$pod]=1
        containers+=("$ns/$pod/$a")
        state[$ns/$pod/$a]="${type}|${e:-running, not Ready}|${d:-0}|${never}|${f}"
        ;;
    esac
  done <<<"$out"
  local key ckey name kind st restarts message prev events
  for key in "${pods[@]}"; do
    [[ -n "${not_ready[$key]:-}" ]] || continue
    if ((shown >= LAB_DIAG_MAX_PODS)); then
      more=$((more + 1))
      continue
    fi
    shown=$((shown + 1))
    ns=${key%%/*} pod=${key#*/}
    info "Pod ${key} on ${where[$key]:-no node yet}, not Ready:"
    for ckey in "${containers[@]}"; do
      [[ "$ckey" == "$key/"* ]] || continue
      IFS='|' read -r kind st restarts never message <<<"${state[$ckey]}"
      info "  $([[ "$kind" == init ]] && echo "init container" || echo container) ${ckey#"$key/"}: ${st}$([[ "$restarts" == 0 ]] || echo ", restarts ${restarts}")${message:+ (${message})}${never:+ (never started: no log yet)}"
    done
    events=$(_diag kubectl get events -n "$ns" --field-selector "involvedObject.name=${pod},type=Warning" \
      --sort-by=.metadata.creationTimestamp -o jsonpath="{range .items[*]}${Q_EVENT_ITEM}{end}" | grep . | tail -n 5) || true
    info "  Warning events, last 5 (kubectl get events -n ${ns} --field-selector involvedObject.name=${pod},type=Warning):"
    printf '%s\n' "${events:-(none)}" | _indent "    "
    for ckey in "${containers[@]}"; do
      [[ "$ckey" == "$key/"* ]] || continue
      IFS='|' read -r kind st restarts never message <<<"${state[$ckey]}"
      [[ -z "$never" ]] || continue
      name=${ckey#"$key/"}
      prev=()
      [[ "$restarts" == 0 ]] || prev=(--previous)
      info "  last ${LAB_DIAG_LOG_LINES} log lines of the ${prev:+previous }container (kubectl logs -n ${ns} ${pod} -c ${name}${prev:+ --previous} --tail=${LAB_DIAG_LOG_LINES}):"
      _diag kubectl logs -n "$ns" "$pod" -c "$name" "${prev[@]}" --tail="$LAB_DIAG_LOG_LINES" | _indent "    "
    done
  done
  ((more == 0)) || info "(${more} more pods not Ready: kubectl get pods -A)"
  return 0
}

# diagnose_operator_log: only the tigera-operator's warnings and errors (its
# log is mostly "Reconciling ..." info lines, which say nothing about a cause).
diagnose_operator_log() {
  local out problems
  info "tigera-operator warnings and errors, last 10 (kubectl logs -n tigera-operator deployment/tigera-operator --tail=500):"
  out=$(_diag kubectl logs -n tigera-operator deployment/tigera-operator --tail=500)
  if ! grep -q '^{' <<<"$out"; then
    # Not its log: kubectl's answer (say, the pod is still starting).
    printf '%s\n' "${out:-(no log yet)}" | head -n 3 | _indent
    return 0
  fi
  problems=$(grep -E '"level":"(warn|warning|error|dpanic|panic|fatal)"' <<<"$out" | tail -n 10) || true
  printf '%s\n' "${problems:-(no warnings or errors in its last 500 lines)}" | _indent
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

# diagnose_cluster FAILED_STEP_NAME: everything above, in the order a person reads it.
diagnose_cluster() {
  diagnose_pods_not_ready
  diagnose_tigerastatus
  diagnose_pods
  diagnose_operator_log
  diagnose_cni_config
  [[ "${1:-}" != "Verify the lab" ]] || diagnose_kube_proxy
  export_kind_logs
}
