#!/usr/bin/env bats
# scripts/bench-deploy.sh on the stubs: it runs deploy.sh and the bare-minimum
# bring-up side by side, prints the ratio, and leaves no cluster behind. The
# numbers it prints on stubs mean nothing: no assertion is about time.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup
  BENCH=$REPO_ROOT/scripts/bench-deploy.sh
  export STUB_HOST_IMAGES=present
  export LAB_TIGERA_OPERATOR_MANIFEST=$BATS_TEST_TMPDIR/tigera-operator.yaml
  cp "$FIXTURES/tigera-operator-standin.yaml" "$LAB_TIGERA_OPERATOR_MANIFEST"
}

@test "bench-deploy: deploy.sh and the bare minimum, alternating, then the medians and the ratio" {
  run "$BENCH" --runs 2
  assert_success
  assert_line --regexp '^1 +[0-9.]+ +[0-9.]+ +[0-9.]+$'
  assert_line --regexp '^2 +[0-9.]+ +[0-9.]+ +[0-9.]+$'
  assert_line --regexp '^median: deploy [0-9.]+ s, without its closing verify [0-9.]+ s, bare minimum [0-9.]+ s$'
  assert_line --regexp '^deploy vs bare minimum: ([0-9.]+x|inf) \(without verify: ([0-9.]+x|inf)\)$|^deploy vs bare minimum: -?nan'
  assert_output --partial "deploy's own time per step, last run:"
  assert_output --partial "8 Verify the lab"
  # The bare minimum is manual-bringup.sh's sequence, on its own cluster.
  assert_calls_in_order \
    "kind create cluster --name bench-deploy-" \
    "kind delete cluster --name bench-deploy-" \
    "kind create cluster --name bench-bare-" \
    "kind load docker-image --name bench-bare-" \
    "kubectl create -f $LAB_TIGERA_OPERATOR_MANIFEST" \
    "kubectl wait --for condition=established --timeout=120s crd/installations.operator.tigera.io" \
    "kubectl apply -f $PROJECT/dist" \
    "kubectl get pods -n calico-system -l k8s-app=calico-node -o name" \
    "kubectl wait -n calico-system --for=condition=Ready pod -l k8s-app=calico-node --timeout=600s" \
    "kubectl rollout status -n default daemonset/multitool --timeout=300s" \
    "kubectl wait -n default --for=condition=Ready pod -l app=multitool --timeout=300s" \
    "kind delete cluster --name bench-bare-" \
    "kind create cluster --name bench-deploy-"
  # Nothing left behind: no cluster, no temp dir.
  assert [ ! -s "$STUB_STATE/kind-clusters" ]
  run bash -c 'ls -d "${TMPDIR:-/tmp}"/bench-deploy.* 2>/dev/null | grep -c . || true'
  assert_output 0
}

@test "bench-deploy: a failing deploy stops the benchmark, shows its log and still deletes the clusters" {
  export STUB_TIGERASTATUS=unavailable
  run "$BENCH"
  assert_failure
  assert_output --partial "ERROR: deploy.sh failed in run 1: ERROR: step 6/8 failed: Wait for Calico"
  local log
  log=$(sed -n 's/^  fix: its whole output: //p' <<<"$output")
  assert [ -f "$log" ]
  [[ "$log" == "$PROJECT/.lab/logs/bench-deploy-"* ]]
  grep -F "timed out after 2s waiting for TigeraStatus calico and apiserver to be Available" "$log"
  assert [ ! -s "$STUB_STATE/kind-clusters" ]
}

@test "bench-deploy: without kind it refuses before anything runs" {
  remove_stub kind
  run "$BENCH"
  assert_failure
  assert_output --partial "kind not found on PATH: the benchmark runs real kind clusters"
  refute_call "docker pull"
}

@test "bench-deploy: --runs takes a whole number; --help says what it measures" {
  run "$BENCH" --runs 0
  assert_failure
  assert_output --partial "--runs 0: want a whole number of runs, 1 or more"
  run "$BENCH" --help
  assert_success
  assert_output --partial "the bare-minimum bring-up of the"
  assert_output --partial "BENCH_RUNS"
}
