#!/usr/bin/env bash
# Bounded waits for deploy.sh: one helper, wait_for, for every kubectl wait,
# rollout and poll, and the pod watch that ends a wait early when a pod's
# state says it will not recover by itself. See docs/scripts.md ("Waits").
#
# wait_for tells three outcomes apart, because a user does something different
# for each: the condition was met; time ran out ("timed out after N s waiting
# for ..."); kubectl failed for another reason (shown as it is, at once). Two
# failures only mean "not yet" and are retried until the deadline:
#   - `.status.conditions accessor error: <nil> is of the type <nil>, ...`:
#     kubectl wait reading an object created a moment before, whose status
#     has no conditions yet (kubernetes/kubernetes#66439; kubectl v1.28's
#     wait.go fails at once on it instead of waiting);
#   - NotFound, "the server doesn't have a resource type", "no matching
#     resources found", "no matches for kind": an object, or the API of a CRD,
#     that is about to exist.
#
# Sourced after scripts/lib/common.sh, never executed.

[[ -n "${_LAB_WAIT_SH:-}" ]] && return 0
_LAB_WAIT_SH=1

# Seconds between retries of a "not yet" answer.
LAB_RETRY_INTERVAL=${LAB_RETRY_INTERVAL:-2}
# Longest single kubectl wait of a watched wait: the pod watch runs between them.
LAB_WAIT_SLICE=${LAB_WAIT_SLICE:-10}
# Seconds a pod may show an image pull error or a crash loop before deploy
# stops waiting for it (kubelet retries pulls after 10, 20, 40 s: a passing
# registry hiccup recovers within this; a rate limit or a missing image does not).
LAB_STUCK_GRACE=${LAB_STUCK_GRACE:-60}
# Seconds a running container may fail its readiness probe with one unchanged
# message before deploy stops waiting for it (calico-node's probe fails for
# tens of seconds while Felix starts, with changing messages).
LAB_PROBE_GRACE=${LAB_PROBE_GRACE:-180}

# _wait_line_kind LINE: progress | timeout | notyet | error
_wait_line_kind() {
  case "$1" in
    *"condition met" | *"successfully rolled out" | "Waiting for "* | *" rolled out"* | \
      *" created" | *" configured" | *" unchanged" | *" serverside-applied" | "Warning: "*) echo progress ;;
    *"timed out waiting for the condition"*) echo timeout ;;
    *".status.conditions accessor error"* | *"(NotFound)"* | *" not found" | \
      *"the server doesn't have a resource type"* | *"no matching resources found"* | *"no matches for kind"* | \
      "ensure CRDs are installed first") echo notyet ;;
    *) echo error ;;
  esac
}

# wait_for [--watch FN] WHAT TIMEOUT CMD...: run CMD until it succeeds or
# TIMEOUT seconds have passed. A `kubectl wait` or `kubectl rollout status`
# CMD gets --timeout=<what is left>s appended (at most LAB_WAIT_SLICE with a
# watch). FN runs between attempts and may stop the wait (it dies with the
# cause). Prints CMD's progress lines once each; dies on a timeout, naming
# it, or on any other kubectl error, showing it.
wait_for() {
  local watch=""
  if [[ "$1" == --watch ]]; then
    watch=$2
    shift 2
  fi
  local what=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout)) started=$SECONDS remaining slice attempt_start out rc line kind
  local watched=-1000 watch_every=$((LAB_WAIT_SLICE < 5 ? LAB_WAIT_SLICE : 5))
  local last_notyet="" errors
  local -a cmd
  local -A shown=()
  info "  waiting up to ${timeout}s for ${what}"
  while :; do
    remaining=$((deadline - SECONDS))
    if ((remaining <= 0)); then
      die "timed out after ${timeout}s waiting for ${what}${last_notyet:+ (last answer: ${last_notyet})}"
    fi
    slice=$remaining
    [[ -z "$watch" ]] || ((slice <= LAB_WAIT_SLICE)) || slice=$LAB_WAIT_SLICE
    cmd=("$@")
    if [[ "$1" == kubectl && ("$2" == wait || "$2 ${3:-}" == "rollout status") ]]; then
      cmd+=("--timeout=${slice}s")
    fi
    attempt_start=$SECONDS
    rc=0
    out=$("${cmd[@]}" 2>&1) || rc=$?
    errors=""
    while IFS= read -r line; do
      [[ -n "$line" ]] || continue
      kind=$(_wait_line_kind "$line")
      case "$kind" in
        timeout) continue ;;
        notyet) last_notyet=$line ;;
        error) ((rc == 0)) || errors+="${line}"$'\n' ;;
      esac
      if [[ -z "${shown[$line]:-}" ]]; then
        shown[$line]=1
        if [[ "$kind" == notyet ]]; then
          info "    ${line}   (not yet: retrying)"
        else
          info "    ${line}"
        fi
      fi
    done <<<"$out"
    ((rc != 0)) || return 0
    if [[ -n "$errors" ]]; then
      die "kubectl failed while waiting for ${what} (after $((SECONDS - started))s; not a timeout): $(head -n 1 <<<"$errors")" \
        "see kubectl's answer above; run it yourself: KUBECONFIG=${KUBECONFIG:-${LAB_KUBECONFIG:-}} ${cmd[*]}"
    fi
    # The watch lists every pod: at most every few seconds, even while "not yet" answers come fast.
    if [[ -n "$watch" ]] && ((SECONDS - watched >= watch_every)); then
      watched=$SECONDS
      "$watch"
    fi
    # A "not yet" answer, or a kubectl that gave up before its slice ended:
    # pause instead of asking again at once.
    if ((SECONDS - attempt_start < slice && SECONDS < deadline)); then
      sleep "$LAB_RETRY_INTERVAL"
    fi
  done
}

# --- pods that will not recover by themselves -----------------------------------------

# Every pod with its containers: "pod|namespace|name|node|phase", then per
# container "init|" or "ctr|" name|image|ready|restarts|waiting reason|waiting message.
# *_ITEM: one object's fields (the tests render them with a real kubectl).
# shellcheck disable=SC2016 # kubectl JSONPath, not shell
Q_POD_CONTAINERS_ITEM='{"pod|"}{.metadata.namespace}{"|"}{.metadata.name}{"|"}{.spec.nodeName}{"|"}{.status.phase}{"\n"}{range .status.initContainerStatuses[*]}{"init|"}{.name}{"|"}{.image}{"|"}{.ready}{"|"}{.restartCount}{"|"}{.state.waiting.reason}{"|"}{.state.waiting.message}{"\n"}{end}{range .status.containerStatuses[*]}{"ctr|"}{.name}{"|"}{.image}{"|"}{.ready}{"|"}{.restartCount}{"|"}{.state.waiting.reason}{"|"}{.state.waiting.message}{"\n"}{end}'
Q_POD_CONTAINERS="{range .items[*]}${Q_POD_CONTAINERS_ITEM}{end}"
# Probe failures (Unhealthy events): namespace|pod|fieldPath|message. Sorted by
# creation, not lastTimestamp: events of the events.k8s.io API (the scheduler's)
# have none, and kubectl's --sort-by fails on a list where no item has the field;
# a changed message is a new event, so the last one created is the latest message.
# shellcheck disable=SC2016
Q_UNHEALTHY_ITEM='{.involvedObject.namespace}{"|"}{.involvedObject.name}{"|"}{.involvedObject.fieldPath}{"|"}{.message}{"\n"}'
Q_UNHEALTHY="{range .items[*]}${Q_UNHEALTHY_ITEM}{end}"

# pod_containers [SELECTOR]: Q_POD_CONTAINERS of every pod (-l SELECTOR).
pod_containers() {
  local -a args=(get pods -A)
  [[ -z "${1:-}" ]] || args+=(-l "$1")
  kubectl "${args[@]}" -o jsonpath="$Q_POD_CONTAINERS" --request-timeout=10s
}

# First time (SECONDS) the pod watch saw each problem, by "ns/pod/container/class[/message]".
declare -gA _LAB_STUCK_SINCE=()
declare -gA _LAB_STUCK_NOTED=()

# watch_pods NAMESPACES [SELECTOR]: the pod watch of wait_for --watch. Looks at
# the pods of NAMESPACES (space-separated; -l SELECTOR when given) and dies,
# naming the pod and the cause, when a container has been, for longer than
# its grace period (LAB_STUCK_GRACE, LAB_PROBE_GRACE):
#   - unable to get its image (ErrImagePull, ImagePullBackOff, InvalidImageName, ErrImageNeverPull);
#   - in CrashLoopBackOff (and not Ready since);
#   - running but failing its readiness probe with one unchanged message.
# A failed look is no verdict: it returns and the wait goes on.
watch_pods() {
  local namespaces=" $1 " selector=${2:-} out now=$SECONDS
  out=$(pod_containers "$selector" 2>/dev/null) || return 0
  local type a b c d e f g ns="" pod="" node="" phase="" in_scope=false key class
  local -A current=() detail=() probing=()
  while IFS='|' read -r type a b c d e f g; do
    case "$type" in
      pod)
        ns=$a pod=$b node=$c phase=$d
        in_scope=false
        [[ "$namespaces" != *" $ns "* ]] || in_scope=true
        ;;
      init | ctr)
        [[ "$in_scope" == true && "$c" != true ]] || continue
        # a=name b=image c=ready d=restarts e=waiting reason f=waiting message (g: a '|' in it)
        f=${f}${g:+|$g}
        class=""
        case "$e" in
          ErrImagePull | ImagePullBackOff | InvalidImageName | ErrImageNeverPull) class=image ;;
          CrashLoopBackOff) class=crash ;;
          "")
            # Between two crashes the container runs for a moment: still the same crash loop.
            if [[ -n "${_LAB_STUCK_SINCE[$ns/$pod/$a/crash]:-}" && "${d:-0}" != 0 ]]; then
              class=crash e=CrashLoopBackOff
            elif [[ "$type" == ctr && "$phase" == Running ]]; then
              probing[$ns/$pod/$a]="$node|$b"
            fi
            ;;
        esac
        [[ -n "$class" ]] || continue
        key=$ns/$pod/$a/$class
        current[$key]=1
        detail[$key]="$node|$b|$e|$f|$d"
        ;;
    esac
  done <<<"$out"
  if ((${#probing[@]} > 0)); then
    local ev_ns ev_pod ev_path ev_msg container
    local -A last_probe=()
    out=$(kubectl get events -A --field-selector reason=Unhealthy --sort-by=.metadata.creationTimestamp \
      -o jsonpath="$Q_UNHEALTHY" --request-timeout=10s 2>/dev/null) || out=""
    while IFS='|' read -r ev_ns ev_pod ev_path ev_msg; do
      [[ "$ev_msg" == "Readiness probe failed:"* ]] || continue
      container=${ev_path#spec.containers\{}
      container=${container%\}}
      [[ -n "${probing[$ev_ns/$ev_pod/$container]:-}" ]] && last_probe[$ev_ns/$ev_pod/$container]=$ev_msg
    done <<<"$out"
    for key in "${!last_probe[@]}"; do
      current["$key/probe/${last_probe[$key]}"]=1
      IFS='|' read -r node b <<<"${probing[$key]}"
      detail["$key/probe/${last_probe[$key]}"]="$node|$b|not Ready|${last_probe[$key]}|"
    done
  fi
  # Keep the first-seen time of problems that persist; forget the others.
  local -A since=()
  for key in "${!current[@]}"; do
    since[$key]=${_LAB_STUCK_SINCE[$key]:-$now}
  done
  _LAB_STUCK_SINCE=()
  for key in "${!since[@]}"; do
    _LAB_STUCK_SINCE[$key]=${since[$key]}
  done
  local grace
  for key in "${!since[@]}"; do
    class=${key#*/*/*/}
    class=${class%%/*}
    grace=$LAB_STUCK_GRACE
    [[ "$class" != probe ]] || grace=$LAB_PROBE_GRACE
    if ((now - since[$key] >= grace)); then
      stuck_pod_die "$key" "$class" "$((now - since[$key]))" "$grace" "${detail[$key]}"
    elif [[ -z "${_LAB_STUCK_NOTED[$key]:-}" ]]; then
      _LAB_STUCK_NOTED[$key]=1
      IFS='|' read -r node b e f d <<<"${detail[$key]}"
      info "    $(cut -d/ -f1-2 <<<"$key") (${node:-no node}): $(cut -d/ -f3 <<<"$key") ${e}${f:+: $f}; deploy stops in ${grace}s unless it recovers"
    fi
  done
  return 0
}

# stuck_pod_die KEY CLASS SEEN GRACE DETAIL: the verdict and what to do.
stuck_pod_die() {
  local ns pod container node image reason message restarts fix
  IFS=/ read -r ns pod container _ <<<"$1"
  IFS='|' read -r node image reason message restarts <<<"$5"
  case "$2" in
    image) fix="${node:-the node} cannot get ${image}: check the image name and the registry (a Docker Hub rate limit? 'docker login' on this host and LAB_PRELOAD_IMAGES=true pull it once here and kind-load it); then ./deploy.sh again" ;;
    crash) fix="why it exits: kubectl logs -n ${ns} ${pod} -c ${container} --previous" ;;
    *) fix="kubectl describe pod -n ${ns} ${pod}; kubectl logs -n ${ns} ${pod} -c ${container}" ;;
  esac
  [[ "${restarts:-0}" != 0 ]] || restarts=""
  die "pod ${ns}/${pod} on ${node:-no node} will not recover by itself: container ${container} ${reason}${message:+: ${message}}${restarts:+ (restarts: ${restarts})}, for ${3}s (grace ${4}s)" "$fix"
}
