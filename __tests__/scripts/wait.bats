#!/usr/bin/env bats
# wait_for and watch_pods (scripts/lib/wait.sh): deploy's one wait helper, over
# the kubectl outcomes a wait meets, replayed by the kubectl stub from real
# outputs (fixtures/scenarios/README.md).

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup
  export KUBECONFIG=$BATS_TEST_TMPDIR/kubeconfig
  echo "apiVersion: v1" >"$KUBECONFIG"
  CRDS=(crd/installations.operator.tigera.io crd/apiservers.operator.tigera.io crd/tigerastatuses.operator.tigera.io crd/ippools.crd.projectcalico.org)
}

# run_wait ARGS...: wait_for ARGS in a fresh shell, as deploy.sh runs it.
run_wait() {
  run bash -c 'source "$1/scripts/lib/common.sh"; source "$1/scripts/lib/wait.sh"; shift; wait_for "$@"' _ "$REPO_ROOT" "$@"
}

# reset_stub [SCENARIO]: a fresh stub cluster for the next table row.
reset_stub() {
  rm -rf "$STUB_STATE/cluster"
  cp -R "$FIXTURES/cluster" "$STUB_STATE/cluster"
  [[ -z "${1:-}" || "$1" == - ]] || scenario "$1"
  : >"$STUB_LOG"
}

@test "wait_for: a table of kubectl outcomes: met, error, race then met, not yet until the deadline, kubectl's own timeout" {
  local name scen tigerastatus timeout want_rc want not_want calls target row=0
  # name | scenario | STUB_TIGERASTATUS | timeout | exit | output has | output has not | kubectl calls
  while IFS='|' read -r name scen tigerastatus timeout want_rc want not_want calls; do
    [[ -n "$name" ]] || continue
    row=$((row + 1))
    reset_stub "$scen"
    target=(--for condition=established "${CRDS[@]}")
    [[ "$tigerastatus" == - ]] || target=(--for=condition=Available tigerastatus/calico tigerastatus/apiserver)
    STUB_TIGERASTATUS=${tigerastatus/#-/available} run_wait "the things" "$timeout" kubectl wait "${target[@]}"
    [[ "$status" == "$want_rc" ]] || fail "row ${row} (${name}): exit ${status}, want ${want_rc}: ${output}"
    [[ "$output" == *"$want"* ]] || fail "row ${row} (${name}): no '${want}' in: ${output}"
    [[ "$not_want" == - || "$output" != *"$not_want"* ]] || fail "row ${row} (${name}): '${not_want}' in: ${output}"
    local n
    n=$(grep -c '^kubectl wait ' "$STUB_LOG" || true)
    case "$calls" in
      +*) ((n >= ${calls#+})) || fail "row ${row} (${name}): ${n} kubectl calls, want at least ${calls#+}" ;;
      *) ((n == calls)) || fail "row ${row} (${name}): ${n} kubectl calls, want ${calls}" ;;
    esac
    # Every attempt asks kubectl for no more than what is left of the bound.
    grep -E "^kubectl wait .* --timeout=[0-9]+s$" "$STUB_LOG" >/dev/null || fail "row ${row} (${name}): no --timeout: $(cat "$STUB_LOG")"
  done <<'ROWS'
condition met|-|-|5|0|customresourcedefinition.apiextensions.k8s.io/tigerastatuses.operator.tigera.io condition met|timed out|1
error, shown as itself|crd-wait-error|-|5|1|kubectl failed while waiting for the things (after 0s; not a timeout): The connection to the server 127.0.0.1:41925 was refused|timed out|1
race, then met|crd-wait-race|-|5|0|.status.conditions accessor error: <nil> is of the type <nil>, expected []interface{}   (not yet: retrying)|timed out|2
NotFound until the deadline|crd-wait-notfound|-|3|1|timed out after 3s waiting for the things (last answer: Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "tigerastatuses.operator.tigera.io" not found)|kubectl failed|+2
not created yet until the deadline|-|absent|3|1|timed out after 3s waiting for the things (last answer: Error from server (NotFound): tigerastatuses.operator.tigera.io "apiserver" not found)|kubectl failed|+2
kubectl's own timeout|-|unavailable|2|1|timed out after 2s waiting for the things|kubectl failed|+1
ROWS
  assert_equal "$row" 6
}

@test "wait_for: progress lines are printed once, kubectl's own timeout line never" {
  scenario crd-wait-race
  run_wait "the CRDs" 5 kubectl wait --for condition=established "${CRDS[@]}"
  assert_success
  assert_equal "$(grep -c 'installations.operator.tigera.io condition met' <<<"$output")" 1
  assert_line --partial "tigerastatuses.operator.tigera.io condition met"
  export STUB_TIGERASTATUS=unavailable
  run_wait "TigeraStatus" 2 kubectl wait --for=condition=Available tigerastatus/calico
  assert_failure
  refute_output --partial "error: timed out waiting for the condition on tigerastatuses/calico"
  assert_output --partial "timed out after 2s waiting for TigeraStatus"
}

@test "wait_for: a command that is not kubectl wait/rollout gets no --timeout and is retried while not found" {
  export STUB_TIGERASTATUS=absent
  run_wait "TigeraStatus calico to exist" 3 kubectl get tigerastatus calico -o name
  assert_failure
  assert_output --partial 'timed out after 3s waiting for TigeraStatus calico to exist (last answer: Error from server (NotFound): tigerastatuses.operator.tigera.io "calico" not found)'
  refute_call "--timeout"
  assert [ "$(grep -c 'kubectl get tigerastatus calico -o name' "$STUB_LOG")" -gt 1 ]
}

@test "watch_pods: an image pull error is noted at once and stops the wait only after LAB_STUCK_GRACE" {
  scenario calico-node-image-pull
  export STUB_TIGERASTATUS=unavailable LAB_STUCK_GRACE=1 LAB_WAIT_SLICE=1
  run bash -c 'source "$1/scripts/lib/common.sh"; source "$1/scripts/lib/wait.sh"
    watch() { watch_pods "tigera-operator calico-system calico-apiserver"; }
    wait_for --watch watch "Calico" 60 kubectl wait --for=condition=Available tigerastatus/calico' _ "$REPO_ROOT"
  assert_failure
  assert_line --index 1 '    calico-system/calico-node-k4b7k (ipv6-lab-worker2): calico-node ImagePullBackOff: Back-off pulling image "docker.io/calico/node:v3.28.5"; deploy stops in 1s unless it recovers'
  assert_output --partial 'ERROR: pod calico-system/calico-node-k4b7k on ipv6-lab-worker2 will not recover by itself: container calico-node ImagePullBackOff: Back-off pulling image "docker.io/calico/node:v3.28.5", for '
  assert_output --partial "fix: ipv6-lab-worker2 cannot get docker.io/calico/node:v3.28.5"
  refute_output --partial "timed out"
  assert [ "$(grep -c 'kubectl wait ' "$STUB_LOG")" -gt 1 ]
}

@test "watch_pods: pods outside the watched namespaces, Ready ones and slow starters are no verdict" {
  # The default stub cluster: coredns and kube-controllers in ContainerCreating, calico-node crash-looping.
  export STUB_TIGERASTATUS=unavailable LAB_STUCK_GRACE=0
  run bash -c 'source "$1/scripts/lib/common.sh"; source "$1/scripts/lib/wait.sh"
    watch() { watch_pods "kube-system tigera-operator"; }
    wait_for --watch watch "Calico" 2 kubectl wait --for=condition=Available tigerastatus/calico' _ "$REPO_ROOT"
  assert_failure
  assert_output --partial "timed out after 2s waiting for Calico"
  refute_output --partial "will not recover"
  refute_output --partial "deploy stops in"
}

@test "watch_pods: a pod that cannot be listed is no verdict either" {
  export STUB_TIGERASTATUS=unavailable LAB_STUCK_GRACE=0
  rm "$STUB_STATE/cluster/pod-containers.txt"
  run bash -c 'source "$1/scripts/lib/common.sh"; source "$1/scripts/lib/wait.sh"
    watch() { watch_pods "calico-system"; }
    wait_for --watch watch "Calico" 2 kubectl wait --for=condition=Available tigerastatus/calico' _ "$REPO_ROOT"
  assert_failure
  assert_output --partial "timed out after 2s waiting for Calico"
}
