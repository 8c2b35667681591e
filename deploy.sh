#!/usr/bin/env bash
# deploy.sh: create the Calico dual-stack (IPv4 + IPv6) lab on kind and prove
# that it works.
#
# Usage: ./deploy.sh [--help]
#
# Needs Docker, kind (v0.25.x) and kubectl; npm only when dist/ must be
# (re)synthesized. Safe to run again: an existing cluster is reused, manifests
# are re-applied, and the lab is verified again. Every default below can be
# overridden from the environment; --help lists them.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PROJECT_DIR=${LAB_PROJECT_DIR:-$SCRIPT_DIR}
# shellcheck source=scripts/lib/common.sh
source "$SCRIPT_DIR/scripts/lib/common.sh"
# shellcheck source=scripts/lib/cluster-drift.sh
source "$SCRIPT_DIR/scripts/lib/cluster-drift.sh"
# shellcheck source=scripts/lib/kubectl-skew.sh
source "$SCRIPT_DIR/scripts/lib/kubectl-skew.sh"
# shellcheck source=scripts/lib/external-host.sh
source "$SCRIPT_DIR/scripts/lib/external-host.sh"
# shellcheck source=scripts/lib/calicoctl.sh
source "$SCRIPT_DIR/scripts/lib/calicoctl.sh"

CALICO_VERSION=v3.28.5
LAB_TIGERA_OPERATOR_MANIFEST=${LAB_TIGERA_OPERATOR_MANIFEST:-https://raw.githubusercontent.com/projectcalico/calico/${CALICO_VERSION}/manifests/tigera-operator.yaml}
LAB_KIND_VERSION=${LAB_KIND_VERSION:-v0.25.}
LAB_CRD_TIMEOUT=${LAB_CRD_TIMEOUT:-120}
LAB_CALICO_TIMEOUT=${LAB_CALICO_TIMEOUT:-600}
LAB_WORKLOAD_TIMEOUT=${LAB_WORKLOAD_TIMEOUT:-300}
LAB_VERIFY_ATTEMPTS=${LAB_VERIFY_ATTEMPTS:-3}
LAB_VERIFY_RETRY_DELAY=${LAB_VERIFY_RETRY_DELAY:-10}
# npm run synth publishes to dist/ (the defaults) or, with a lab config file,
# .lab/dist/; a LAB_DIST_DIR elsewhere is the caller's to maintain, so it is
# never resynthesized by default.
if lab_dist_dir_is_custom; then
  LAB_SYNTH=${LAB_SYNTH:-never}
else
  LAB_SYNTH=${LAB_SYNTH:-auto}
fi
lab_init_defaults
# shellcheck source=scripts/lib/preflight.sh
source "$SCRIPT_DIR/scripts/lib/preflight.sh"
# shellcheck source=scripts/lib/images.sh
source "$SCRIPT_DIR/scripts/lib/images.sh"
# shellcheck source=scripts/lib/diagnose.sh
source "$SCRIPT_DIR/scripts/lib/diagnose.sh"
# shellcheck source=scripts/lib/variants.sh
source "$SCRIPT_DIR/scripts/lib/variants.sh"
# shellcheck source=scripts/lib/wait.sh
source "$SCRIPT_DIR/scripts/lib/wait.sh"
# Empty: the image the kind config pins per node (read again after a synth).
_LAB_ENV_KIND_NODE_IMAGE=${LAB_KIND_NODE_IMAGE:-}

# CRDs the later steps create objects of or wait on.
CALICO_CRDS=(
  crd/installations.operator.tigera.io
  crd/apiservers.operator.tigera.io
  crd/tigerastatuses.operator.tigera.io
  crd/ippools.crd.projectcalico.org
)
STEPS=(
  "Preflight checks"
  "Synthesize dist/ when missing or stale"
  "Create the kind cluster"
  "Install the tigera-operator (Calico ${CALICO_VERSION})"
  "Apply the lab manifests from dist/"
  "Wait for Calico"
  "Wait for the ${LAB_DAEMONSET} DaemonSet"
  "Verify the lab"
)
CURRENT_STEP=0
STEP_STARTED=0
CLUSTER_UP=false
# Seconds each step took, and notes on where (e.g. "kind load: 1m21s"), by step number.
declare -A STEP_SECONDS=() STEP_NOTES=()
# The external host, started in the background while Calico comes up.
EXTERNAL_PID=""
EXTERNAL_LOG=""

usage() {
  cat <<EOF
Usage: ./deploy.sh [--help]

Creates the kind cluster "${LAB_CLUSTER_NAME:-<named by the facts>}" from ${LAB_KIND_CONFIG},
installs Calico ${CALICO_VERSION} through the tigera-operator, applies ${LAB_DIST_DIR}/*.k8s.yaml,
waits for Calico and the ${LAB_DAEMONSET} DaemonSet (starting the external host for the
egress checks meanwhile), runs ./verify.sh, provides calicoctl ${CALICO_VERSION} in .lab/bin,
and prints the time each step took.
Runs again safely: an existing cluster is reused and converged, after checking that its
nodes, pod/service subnets and IPPools still match (else: ./destroy.sh --yes, then deploy).

Environment (current value in brackets):
  LAB_CLUSTER_NAME              kind cluster name [${LAB_CLUSTER_NAME}] (default: the name in ${LAB_FACTS_FILE})
  LAB_KUBECONFIG                kubeconfig written for the lab [${LAB_KUBECONFIG}]
  LAB_PROJECT_DIR               project root: sources, dist/, kubeconfig [${LAB_PROJECT_DIR}]
  LAB_DIST_DIR                  synthesized manifests [${LAB_DIST_DIR}]
  LAB_KIND_CONFIG               kind cluster config [${LAB_KIND_CONFIG}]
  LAB_KIND_NODE_IMAGE           kind node image; when set, passed as --image (overrides the config) [${_LAB_ENV_KIND_NODE_IMAGE:-$(fact cluster.nodeImage) (pinned in the kind config)}]
  LAB_KIND_VERSION              expected kind version prefix; others only warn [${LAB_KIND_VERSION}]
  LAB_TIGERA_OPERATOR_MANIFEST  URL or local file (air-gapped) [${LAB_TIGERA_OPERATOR_MANIFEST}]
  LAB_TIGERA_OPERATOR_SHA256    its expected sha256 [${LAB_TIGERA_OPERATOR_SHA256}]
  LAB_PRELOAD_IMAGES            pull images once and kind load them (false: each node pulls) [${LAB_PRELOAD_IMAGES}]
  LAB_NODE_TIMEOUT              seconds for all nodes to register after kind create [${LAB_NODE_TIMEOUT}]
  LAB_SYNTH                     auto | always | never: run 'npm run synth' [${LAB_SYNTH}]
  LAB_CONFIG                    lab config read by the synth [${LAB_CONFIG:-$LAB_PROJECT_DIR/lab.config.yaml}]
  LAB_CRD_TIMEOUT               seconds for the Calico CRDs to be Established, and for dist/ to apply [${LAB_CRD_TIMEOUT}]
  LAB_CALICO_TIMEOUT            seconds for the operator, TigeraStatus calico/apiserver and nodes [${LAB_CALICO_TIMEOUT}]
  LAB_WORKLOAD_TIMEOUT          seconds for the ${LAB_DAEMONSET} DaemonSet rollout [${LAB_WORKLOAD_TIMEOUT}]
  LAB_STUCK_GRACE               seconds a pod may fail to get its image or crash-loop before a wait stops [${LAB_STUCK_GRACE}]
  LAB_PROBE_GRACE               seconds a pod may fail its readiness probe with one message before a wait stops [${LAB_PROBE_GRACE}]
  LAB_RETRY_INTERVAL            seconds between retries of a "not yet" answer (NotFound, a new CRD) [${LAB_RETRY_INTERVAL}]
  LAB_POLL_INTERVAL             seconds between polls for the nodes to register [${LAB_POLL_INTERVAL}]
  LAB_VERIFY_ATTEMPTS           verify runs before giving up [${LAB_VERIFY_ATTEMPTS}]
  LAB_VERIFY_RETRY_DELAY        seconds between verify runs [${LAB_VERIFY_RETRY_DELAY}]
  KIND_EXPERIMENTAL_DOCKER_NETWORK  docker network kind uses [${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind}]
  KIND_EXPERIMENTAL_PROVIDER    only docker is supported [${KIND_EXPERIMENTAL_PROVIDER:-docker}]
  LAB_CALICOCTL                 calicoctl to use instead of downloading one (air-gapped) [${LAB_CALICOCTL:-none: download v3.28.5 into .lab/bin}]
  LAB_CALICOCTL_BASE_URL        where the calicoctl release and its SHA256SUMS are [${LAB_CALICOCTL_BASE_URL:-https://github.com/projectcalico/calico/releases/download/v3.28.5}]
  LAB_EXTERNAL_NAME             container outside the cluster for the egress checks [${LAB_CLUSTER_NAME}-external]
  LAB_EXTERNAL_IMAGE            its image [the DaemonSet's image in dist/]
  LAB_EXTERNAL_TIMEOUT          seconds to pull that image on the host's Docker [${LAB_EXTERNAL_TIMEOUT:-300}]
  LAB_POLICY_TIMEOUT            policy: on only: seconds for the Calico API server before policy/ is applied [${LAB_POLICY_TIMEOUT:-300}]
Preflight checks, image preloading and failure logs: docs/preflight.md; waits and timings: docs/scripts.md.
verify.sh's variables (LAB_NAMESPACE, LAB_IPV4_POOL_CIDR, ...) apply too: ./verify.sh --help.
EOF
}

# --- progress and failure handling -------------------------------------------------

step() {
  CURRENT_STEP=$1
  STEP_STARTED=$SECONDS
  info ""
  info "[step ${CURRENT_STEP}/${#STEPS[@]}] ${STEPS[CURRENT_STEP - 1]}  (elapsed $(fmt_duration "$SECONDS"))"
}

step_done() {
  STEP_SECONDS[$CURRENT_STEP]=$((SECONDS - STEP_STARTED))
  info "  ok ($(fmt_duration "${STEP_SECONDS[$CURRENT_STEP]}"))"
}

# timed NOTE CMD...: run CMD; add "NOTE: <its duration>" to the step's timing line.
timed() {
  local note=$1 start=$SECONDS
  shift
  "$@"
  STEP_NOTES[$CURRENT_STEP]+="${STEP_NOTES[$CURRENT_STEP]:+, }${note}: $(fmt_duration $((SECONDS - start)))"
}

# timing_summary [FAILED_STEP]: one line per step run, where the time went.
timing_summary() {
  local failed=${1:-0} n
  info ""
  info "Time per step (total $(fmt_duration "$SECONDS")):"
  for ((n = 1; n <= ${#STEPS[@]}; n++)); do
    [[ -n "${STEP_SECONDS[$n]:-}" ]] || continue
    printf '  %d %-52s %6s%s%s\n' "$n" "${STEPS[n - 1]}" "$(fmt_duration "${STEP_SECONDS[$n]}")" \
      "$( ((n == failed)) && echo "  FAILED")" "${STEP_NOTES[$n]:+   (${STEP_NOTES[$n]})}" >&2
  done
}

# diagnose: what a person needs first when Calico does not come up.
diagnose() {
  info ""
  info "--- diagnosis (KUBECONFIG=${LAB_KUBECONFIG}) ---"
  diagnose_cluster "${STEPS[CURRENT_STEP - 1]}"
  variant_hooks diagnose || true
}

on_exit() {
  local rc=$?
  external_host_abandon
  if ((rc != 0 && CURRENT_STEP > 0)); then
    STEP_SECONDS[$CURRENT_STEP]=${STEP_SECONDS[$CURRENT_STEP]:-$((SECONDS - STEP_STARTED))}
    err "step ${CURRENT_STEP}/${#STEPS[@]} failed: ${STEPS[CURRENT_STEP - 1]} (after $(fmt_duration "$SECONDS"))"
    [[ "$CLUSTER_UP" != true ]] || diagnose
    timing_summary "$CURRENT_STEP"
    if [[ "$CLUSTER_UP" == true ]]; then
      info ""
      info "Fix the cause and run ./deploy.sh again (it reuses the cluster), or ./destroy.sh --yes to start over."
    fi
  fi
  exit "$rc"
}

# --- step 1: preflight --------------------------------------------------------------

check_docker() {
  have docker || die "docker not found on PATH" "install Docker: https://docs.docker.com/get-docker/"
  docker info >/dev/null 2>&1 ||
    die "the Docker daemon is not reachable ('docker info' failed)" \
      "start Docker (Docker Desktop, or: sudo systemctl start docker) and make sure 'docker info' works as this user"
  info "  docker daemon: reachable"
}

check_kind() {
  have kind || die "kind not found on PATH" \
    "install kind ${LAB_KIND_VERSION}x: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
  local version
  version=$(kind version 2>/dev/null | awk '{print $2}') || true
  if [[ "$version" != "$LAB_KIND_VERSION"* ]]; then
    warn "kind ${version:-(unknown version)} found; this lab is tested with kind ${LAB_KIND_VERSION}x. Continuing."
  else
    info "  kind: ${version}"
  fi
}

check_kubectl() {
  have kubectl || die "kubectl not found on PATH" "install kubectl: https://kubernetes.io/docs/tasks/tools/"
  info "  kubectl: found"
}

# kind reuses an existing network as it is; without IPv6 the dual-stack
# control plane cannot start, and kind's own error does not say why.
check_kind_network() {
  local net=${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind} ipv6 users
  if ! ipv6=$(docker network inspect "$net" --format '{{.EnableIPv6}}' 2>/dev/null); then
    info "  docker network ${net}: absent (kind creates it with IPv6)"
    return 0
  fi
  if [[ "$ipv6" != true ]]; then
    users=$(docker network inspect "$net" --format '{{range .Containers}}{{.Name}} {{end}}' 2>/dev/null) || true
    die "the Docker network '${net}' exists without IPv6 (EnableIPv6=${ipv6}); kind reuses it and the dual-stack cluster then fails" \
      "docker network rm ${net}   (only when no other kind cluster uses it; containers on it now: ${users:-none}); kind recreates it with IPv6"
  fi
  info "  docker network ${net}: IPv6 enabled"
}

preflight() {
  check_kind_provider
  check_docker
  check_kind
  check_kubectl
  check_kind_network
  host_preflight
}

# --- step 2: dist/ -----------------------------------------------------------------

# dist_is_stale: true when a synth source is newer than any synthesized file.
dist_is_stale() {
  local sources=() p out
  for p in main.ts lib imports cdk8s.yaml; do
    [[ -e "$LAB_PROJECT_DIR/$p" ]] && sources+=("$LAB_PROJECT_DIR/$p")
  done
  p=${LAB_CONFIG:-$LAB_PROJECT_DIR/lab.config.yaml}
  [[ -e "$p" ]] && sources+=("$p")
  ((${#sources[@]} > 0)) || return 1
  for out in "$LAB_KIND_CONFIG" "$LAB_FACTS_FILE" "$LAB_DIST_DIR"/*.k8s.yaml; do
    [[ -n "$(find "${sources[@]}" -newer "$out" -print 2>/dev/null | head -n 1)" ]] && return 0
  done
  return 1
}

dist_is_present() {
  [[ -f "$LAB_KIND_CONFIG" && -f "$LAB_FACTS_FILE" ]] && compgen -G "$LAB_DIST_DIR/*.k8s.yaml" >/dev/null
}

synthesize_dist() {
  local reason
  case "$LAB_SYNTH" in
    never)
      if [[ ! -f "$LAB_KIND_CONFIG" ]] || ! compgen -G "$LAB_DIST_DIR/*.k8s.yaml" >/dev/null; then
        die "no synthesized manifests in ${LAB_DIST_DIR} (LAB_SYNTH=never)" \
          "run 'npm ci && npm run synth', or point LAB_DIST_DIR at a synthesized dist/"
      fi
      info "  using ${LAB_DIST_DIR} as it is (LAB_SYNTH=never)"
      return 0
      ;;
    always) reason="LAB_SYNTH=always" ;;
    auto)
      if [[ -d "$LAB_DIST_DIR" && ! -f "$LAB_FACTS_FILE" ]]; then
        reason="${LAB_FACTS_FILE} is missing"
      elif ! dist_is_present; then
        reason="${LAB_DIST_DIR} is missing"
      elif dist_is_stale; then
        reason="${LAB_DIST_DIR} is older than its sources"
      else
        info "  ${LAB_DIST_DIR} is up to date"
        return 0
      fi
      ;;
    *) die "LAB_SYNTH=${LAB_SYNTH} is not one of auto, always, never" ;;
  esac
  have npm || die "npm not found, and it is needed to synthesize dist/ (${reason})" \
    "install Node.js >= 20 and run 'npm ci', or provide a synthesized dist/ and set LAB_SYNTH=never"
  info "  ${reason}: running 'npm run synth'"
  # The cdk8s CLI's upgrade check is a network call (a stack trace offline), not synthesis.
  (cd "$LAB_PROJECT_DIR" && CDK8S_CHECK_UPGRADE=false npm run synth) 2>&1 | sed 's/^/    /' >&2 ||
    die "'npm run synth' failed (output above)" "run 'npm ci' when node_modules/ is missing, then ./deploy.sh again"
  dist_is_present || die "'npm run synth' did not produce ${LAB_KIND_CONFIG}, ${LAB_FACTS_FILE} and ${LAB_DIST_DIR}/*.k8s.yaml"
}

# --- step 3: cluster ----------------------------------------------------------------

cluster_exists() {
  # No grep -q: it exits early and pipefail would then fail the pipeline.
  kind get clusters 2>/dev/null | grep -Fx "$LAB_CLUSTER_NAME" >/dev/null
}

create_cluster() {
  check_network_overlap
  if cluster_exists; then
    info "  cluster ${LAB_CLUSTER_NAME} exists: reusing it and re-exporting its kubeconfig"
    kind export kubeconfig --name "$LAB_CLUSTER_NAME" --kubeconfig "$LAB_KUBECONFIG" 2>&1 | sed 's/^/    /' >&2 ||
      die "could not export the kubeconfig of cluster ${LAB_CLUSTER_NAME}" "check 'docker ps' shows its nodes running, or ./destroy.sh --yes and deploy again"
    KUBECONFIG=$LAB_KUBECONFIG check_reused_cluster
  else
    note_other_clusters
    local args=(create cluster --name "$LAB_CLUSTER_NAME" --config "$LAB_KIND_CONFIG" --kubeconfig "$LAB_KUBECONFIG")
    [[ -z "$_LAB_ENV_KIND_NODE_IMAGE" ]] || args+=(--image "$_LAB_ENV_KIND_NODE_IMAGE")
    # No --wait: with the default CNI disabled nodes stay NotReady until Calico runs.
    info "  kind ${args[*]}   (takes a minute or two)"
    kind "${args[@]}" 2>&1 | sed 's/^/    /' >&2 || {
      check_network_ipv6
      die "kind create cluster failed (output above)" \
        "see 'docker info' and kind's known issues: https://kind.sigs.k8s.io/docs/user/known-issues/"
    }
  fi
  CLUSTER_UP=true
  export KUBECONFIG=$LAB_KUBECONFIG
  kubectl_skew_check
  info "  kubeconfig: ${LAB_KUBECONFIG}"
  printf 'export KUBECONFIG=%s\n' "$LAB_KUBECONFIG"
  cluster_preflight
}

# --- step 4: tigera-operator -------------------------------------------------------

# install_operator: the operator's image first, then the operator, which
# starts while Calico's images load (it needs none of them); then the CRDs.
install_operator() {
  local -a images=() first=() rest=()
  local image out
  if preload_enabled; then
    timed "pull" preload_pull
    for image in "${PRELOADED[@]}"; do
      if [[ "$image" == */tigera/operator:* ]]; then first+=("$image"); else rest+=("$image"); fi
    done
    images=("${first[@]}" "${rest[@]}")
    ((${#first[@]} == 0)) || timed "kind load operator" preload_load "${first[@]}"
  fi
  # Server-side: the Installation CRD exceeds the 256 KiB annotation that
  # client-side apply needs; --force-conflicts keeps re-runs idempotent.
  info "  kubectl apply --server-side --force-conflicts -f ${TIGERA_OPERATOR_FILE}"
  if ! out=$(kubectl apply --server-side --force-conflicts -f "$TIGERA_OPERATOR_FILE" 2>&1); then
    printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /' >&2
    die "could not apply the tigera-operator manifest" \
      "offline? download it elsewhere and set LAB_TIGERA_OPERATOR_MANIFEST=/path/to/tigera-operator.yaml"
  fi
  info "  applied $(printf '%s\n' "$out" | grep -c .) objects; the operator starts while the other images load"
  ((${#rest[@]} == 0)) || timed "kind load" preload_load "${rest[@]}"
  ((${#images[@]} == 0)) || info "  ${#images[@]} images in every node"
  # No wait for the operator's rollout: dist/ needs only the CRDs, and step 6
  # waits for what the operator does (its pod is watched there).
  wait_for "the Calico CRDs to be Established" "$LAB_CRD_TIMEOUT" \
    kubectl wait --for condition=established "${CALICO_CRDS[@]}"
}

# --- step 5: dist/ manifests ---------------------------------------------------------

apply_manifests() {
  info "  kubectl apply -f ${LAB_DIST_DIR}"
  # Retried while the new CRDs' APIs are not served yet ("no matches for kind").
  wait_for "kubectl apply -f ${LAB_DIST_DIR} to go through" "$LAB_CRD_TIMEOUT" kubectl apply -f "$LAB_DIST_DIR"
}

# --- step 6: Calico ------------------------------------------------------------------

# watch_calico_pods: the pod watch of step 6 (scripts/lib/wait.sh).
watch_calico_pods() { watch_pods "tigera-operator calico-system calico-apiserver"; }

# The operator creates the TigeraStatus objects once it runs: until then
# kubectl wait answers NotFound, which wait_for retries.
wait_calico() {
  local deadline=$((SECONDS + LAB_CALICO_TIMEOUT)) remaining
  wait_for --watch watch_calico_pods "TigeraStatus calico and apiserver to be Available" "$LAB_CALICO_TIMEOUT" \
    kubectl wait --for=condition=Available tigerastatus/calico tigerastatus/apiserver
  remaining=$((deadline - SECONDS))
  ((remaining > 0)) || remaining=1
  wait_for "all nodes to be Ready" "$remaining" kubectl wait --for=condition=Ready node --all
}

# --- the external host, started while Calico comes up --------------------------------

external_host_start_background() {
  EXTERNAL_LOG=$(mktemp)
  info "  starting the external host ${LAB_EXTERNAL_NAME:-${LAB_CLUSTER_NAME}-external} in the background (docker run), while Calico comes up"
  (external_host_start) >"$EXTERNAL_LOG" 2>&1 &
  EXTERNAL_PID=$!
}

# external_host_join: its output, here; its failure is this step's.
external_host_join() {
  [[ -n "$EXTERNAL_PID" ]] || return 0
  local rc=0
  wait "$EXTERNAL_PID" || rc=$?
  EXTERNAL_PID=""
  cat "$EXTERNAL_LOG" >&2
  rm -f "$EXTERNAL_LOG"
  ((rc == 0)) || die "the external host did not start (output above)"
}

# external_host_abandon: on an early exit, stop a background start and its log.
external_host_abandon() {
  [[ -z "$EXTERNAL_PID" ]] || kill "$EXTERNAL_PID" 2>/dev/null || true
  [[ -z "$EXTERNAL_LOG" ]] || rm -f "$EXTERNAL_LOG"
}

# --- step 7: workload ----------------------------------------------------------------

watch_workload_pods() { watch_pods "$LAB_NAMESPACE" "$LAB_POD_SELECTOR"; }

wait_workload() {
  wait_for --watch watch_workload_pods "daemonset/${LAB_DAEMONSET} to roll out" "$LAB_WORKLOAD_TIMEOUT" \
    kubectl rollout status -n "$LAB_NAMESPACE" "daemonset/${LAB_DAEMONSET}"
  external_host_join
}

# --- step 8: verify ------------------------------------------------------------------

# Retried a few times: right after rollout, Service endpoints and Calico
# routes may still be settling.
run_verify() {
  local attempt=1 failures
  while :; do
    failures=0
    "$SCRIPT_DIR/verify.sh" || failures=$?
    ((failures == 0)) && return 0
    ((attempt < LAB_VERIFY_ATTEMPTS)) ||
      die "verify found ${failures} failing check(s) after ${attempt} attempt(s)" "investigate with the commands printed under each FAIL, then run ./verify.sh"
    attempt=$((attempt + 1))
    info "  ${failures} check(s) failed; verifying again in ${LAB_VERIFY_RETRY_DELAY}s (attempt ${attempt}/${LAB_VERIFY_ATTEMPTS})"
    sleep "$LAB_VERIFY_RETRY_DELAY"
  done
}

main() {
  case "${1:-}" in
    -h | --help)
      usage
      return 0
      ;;
    "") ;;
    *)
      usage >&2
      die "unknown argument: $1"
      ;;
  esac
  trap on_exit EXIT
  trap 'exit 130' INT TERM

  info "Deploying the Calico dual-stack lab on kind"
  # One call per line: set -e does not apply inside functions run from && lists.
  step 1
  preflight
  step_done
  step 2
  synthesize_dist
  lab_facts_reload # dist/ may be new: read the facts again
  lab_init_defaults
  lab_require_facts
  lab_load_variants
  info "  lab \"${LAB_CLUSTER_NAME}\" from ${LAB_KIND_CONFIG} (kubeconfig ${LAB_KUBECONFIG})"
  ((${#LAB_VARIANTS[@]} == 0)) || info "  variants: ${LAB_VARIANTS[*]} (docs/scripts.md#variants)"
  step_done
  step 3
  variant_hooks preflight
  create_cluster
  variant_hooks after_cluster
  step_done
  step 4
  install_operator
  step_done
  step 5
  apply_manifests
  variant_hooks after_apply
  step_done
  step 6
  external_host_defaults
  external_host_start_background # the egress checks' target outside the cluster
  wait_calico
  variant_hooks after_calico
  step_done
  step 7
  wait_workload
  variant_hooks ready
  step_done
  step 8
  run_verify
  step_done

  timing_summary
  info ""
  info "Lab \"${LAB_CLUSTER_NAME}\" is ready after $(fmt_duration "$SECONDS")."
  info "Use it:      export KUBECONFIG=${LAB_KUBECONFIG}"
  info "Re-check it: ./verify.sh      Remove it: ./destroy.sh"
  info "Explain it:  ./explain.sh [--capture]"
  info ""
  calicoctl_provide || warn "calicoctl not provided; the lab, ./verify.sh and ./explain.sh work without it"
  variant_hooks summary
}

main "$@"
