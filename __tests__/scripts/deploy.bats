#!/usr/bin/env bats
# deploy.sh against stubbed docker/kind/kubectl/npm (see helpers/lab.bash).

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup
  DEPLOY=$REPO_ROOT/deploy.sh
}

@test "deploy: happy path creates, installs, applies, waits and verifies, in order" {
  run "$DEPLOY"
  assert_success
  assert_calls_in_order \
    "docker info" \
    "kind version" \
    "docker network inspect kind --format {{.EnableIPv6}}" \
    "kind get clusters" \
    "kind create cluster --name ipv6-lab --config $PROJECT/dist/kind/cluster.yaml --kubeconfig $PROJECT/ipv6-lab.kubeconfig" \
    "kubectl apply --server-side --force-conflicts -f $PROJECT/.lab/cache/tigera-operator-v3.28.5-" \
    "kubectl wait --for condition=established --timeout=2s crd/installations.operator.tigera.io crd/apiservers.operator.tigera.io crd/tigerastatuses.operator.tigera.io crd/ippools.crd.projectcalico.org" \
    "kubectl rollout status -n tigera-operator deployment/tigera-operator --timeout=2s" \
    "kubectl apply -f $PROJECT/dist" \
    "kubectl get tigerastatus calico -o name" \
    "kubectl wait --for=condition=Available --timeout=" \
    "kubectl get tigerastatus apiserver -o name" \
    "kubectl wait --for=condition=Available --timeout=" \
    "kubectl wait --for=condition=Ready node --all --timeout=" \
    "kubectl rollout status -n default daemonset/multitool --timeout=2s" \
    "kubectl get --raw=/readyz" \
    "kubectl get nodes -o jsonpath=" \
    "kubectl exec -n default multitool-xp9c5 -- ping -6 -c 3 -W 2 fd00:10:244:1168:5560:68e4:6df7:2c41"
  grep -F 'tigerastatus/calico' "$STUB_LOG"
  grep -F 'tigerastatus/apiserver' "$STUB_LOG"
  refute_call "npm run synth"
  refute_call "kind export kubeconfig"
  assert_line "export KUBECONFIG=$PROJECT/ipv6-lab.kubeconfig"
  assert_output --partial "[step 1/8] Preflight checks"
  assert_output --partial "[step 8/8] Verify the lab"
  assert_output --partial "waiting up to 2s for TigeraStatus calico to be Available"
  assert_output --partial "elapsed"
  assert_output --partial '43 checks, 0 failed'
  assert [ -f "$PROJECT/ipv6-lab.kubeconfig" ]
}

@test "deploy: a second run reuses the cluster, re-exports the kubeconfig and converges" {
  run "$DEPLOY"
  assert_success
  rm "$PROJECT/ipv6-lab.kubeconfig"
  : >"$STUB_LOG"
  run "$DEPLOY"
  assert_success
  refute_call "kind create cluster"
  assert_calls_in_order \
    "kind get clusters" \
    "kind export kubeconfig --name ipv6-lab --kubeconfig $PROJECT/ipv6-lab.kubeconfig" \
    "kubectl apply --server-side --force-conflicts -f " \
    "kubectl apply -f $PROJECT/dist" \
    "kubectl rollout status -n default daemonset/multitool" \
    "kubectl get --raw=/readyz"
  assert_output --partial "cluster ipv6-lab exists: reusing it"
  assert [ -f "$PROJECT/ipv6-lab.kubeconfig" ]
}

@test "deploy preflight: no Docker daemon stops before any change, with the fix" {
  export STUB_DOCKER_DAEMON=down
  run "$DEPLOY"
  assert_failure
  assert_output --partial "the Docker daemon is not reachable ('docker info' failed)"
  assert_output --partial "fix: start Docker"
  assert_output --partial "step 1/8 failed: Preflight checks"
  refute_call "kind create"
  refute_call "kubectl"
}

@test "deploy preflight: kind missing" {
  remove_stub kind
  run "$DEPLOY"
  assert_failure
  assert_output --partial "kind not found on PATH"
  assert_output --partial "fix: install kind v0.25.x: https://kind.sigs.k8s.io/"
  refute_call "kubectl"
}

@test "deploy preflight: kubectl missing" {
  remove_stub kubectl
  run "$DEPLOY"
  assert_failure
  assert_output --partial "kubectl not found on PATH"
  assert_output --partial "fix: install kubectl: https://kubernetes.io/docs/tasks/tools/"
  refute_call "kind create"
}

@test "deploy preflight: an existing kind network without IPv6 is explained, nothing created" {
  export STUB_KIND_NETWORK=ipv4
  run "$DEPLOY"
  assert_failure
  assert_output --partial "the Docker network 'kind' exists without IPv6 (EnableIPv6=false)"
  assert_output --partial "fix: docker network rm kind"
  assert_output --partial "containers on it now: old-lab-control-plane old-lab-worker"
  refute_call "kind create"
}

@test "deploy preflight: a kind network with IPv6 is fine; KIND_EXPERIMENTAL_DOCKER_NETWORK is honoured" {
  export STUB_KIND_NETWORK=ipv6 KIND_EXPERIMENTAL_DOCKER_NETWORK=lab-net
  run "$DEPLOY"
  assert_success
  assert_output --partial "docker network lab-net: IPv6 enabled"
  assert_calls_in_order "docker network inspect lab-net" "kind create cluster"
}

@test "deploy preflight: another kind version only warns" {
  export STUB_KIND_VERSION="kind v0.20.0 go1.20.4 linux/amd64"
  run "$DEPLOY"
  assert_success
  assert_output --partial "WARNING: kind v0.20.0 found; this lab is tested with kind v0.25.x. Continuing."
  assert_calls_in_order "kind create cluster"
}

@test "deploy preflight: a missing local operator manifest is reported before any change" {
  export LAB_TIGERA_OPERATOR_MANIFEST=$BATS_TEST_TMPDIR/missing/tigera-operator.yaml
  run "$DEPLOY"
  assert_failure
  assert_output --partial "LAB_TIGERA_OPERATOR_MANIFEST=$BATS_TEST_TMPDIR/missing/tigera-operator.yaml is not a readable file"
  refute_call "kind create"
}

@test "deploy: environment overrides reach kind and kubectl (name, image, kubeconfig, manifest)" {
  local manifest=$BATS_TEST_TMPDIR/tigera-operator.yaml
  echo "# offline copy" >"$manifest"
  LAB_TIGERA_OPERATOR_SHA256=$(sha256sum "$manifest" | cut -d' ' -f1)
  export LAB_TIGERA_OPERATOR_MANIFEST=$manifest LAB_TIGERA_OPERATOR_SHA256 LAB_CLUSTER_NAME=my-lab \
    LAB_KIND_NODE_IMAGE=kindest/node:v1.31.2 LAB_KUBECONFIG=$BATS_TEST_TMPDIR/my.kubeconfig
  run "$DEPLOY"
  assert_success
  assert_calls_in_order \
    "kind create cluster --name my-lab --config $PROJECT/dist/kind/cluster.yaml --kubeconfig $BATS_TEST_TMPDIR/my.kubeconfig --image kindest/node:v1.31.2" \
    "kubectl apply --server-side --force-conflicts -f $manifest"
  assert_line "export KUBECONFIG=$BATS_TEST_TMPDIR/my.kubeconfig"
}

@test "deploy: the cluster name and kubeconfig come from the facts' name" {
  synth_into "$PROJECT/dist" 'clusterName: other-lab'
  run "$DEPLOY"
  assert_success
  assert_calls_in_order "kind create cluster --name other-lab --config $PROJECT/dist/kind/cluster.yaml --kubeconfig $PROJECT/other-lab.kubeconfig"
}

@test "deploy: a missing dist/ is synthesized first" {
  rm -rf "$PROJECT/dist"
  run "$DEPLOY"
  assert_success
  assert_calls_in_order "npm run synth (in $PROJECT)" "kind create cluster"
  assert_output --partial "$PROJECT/dist is missing: running 'npm run synth'"
}

@test "deploy: a dist/ without facts (synthesized before synth wrote them) is synthesized again" {
  rm -r "$PROJECT/dist/lab"
  run "$DEPLOY"
  assert_success
  assert_output --partial "$PROJECT/dist/lab/facts.json is missing: running 'npm run synth'"
  assert_calls_in_order "npm run synth (in $PROJECT)" "kind create cluster --name ipv6-lab"
}

@test "deploy: a LAB_DIST_DIR without facts stops at step 2 with the file and the command, nothing changed" {
  local dist=$BATS_TEST_TMPDIR/handmade/dist
  mkdir -p "${dist%/dist}"
  cp -R "$DEFAULTS_DIST" "$dist"
  rm -r "$dist/lab"
  export LAB_DIST_DIR=$dist
  run "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: no lab facts: $dist/lab/facts.json does not exist"
  assert_output --partial "fix: LAB_DIST_DIR=$dist npm run synth   (then run this again)"
  assert_output --partial "step 2/8 failed"
  refute_call "kind create"
  refute_call "npm"
}

@test "deploy: a dist/ older than its sources is synthesized again" {
  touch "$PROJECT/lib/lab.ts"
  touch -d '2024-01-01 00:00' "$PROJECT/dist/kind/cluster.yaml" "$PROJECT"/dist/*.k8s.yaml
  run "$DEPLOY"
  assert_success
  assert_calls_in_order "npm run synth (in $PROJECT)"
  assert_output --partial "is older than its sources"
}

@test "deploy: LAB_CONFIG newer than dist/ counts as a source" {
  local cfg=$BATS_TEST_TMPDIR/my-lab.config.yaml
  echo "clusterName: ipv6-lab" >"$cfg"
  touch -d '2024-01-01 00:00' "$PROJECT/dist/kind/cluster.yaml" "$PROJECT"/dist/*.k8s.yaml
  touch -d '2023-01-01 00:00' "$PROJECT/main.ts" "$PROJECT/lib" "$PROJECT/lib/lab.ts" "$PROJECT/cdk8s.yaml" "$PROJECT/imports" "$PROJECT/imports/ippool.ts"
  export LAB_CONFIG=$cfg
  run "$DEPLOY"
  assert_success
  assert_calls_in_order "npm run synth"
}

@test "deploy: a failing synth stops before the cluster is touched" {
  rm -rf "$PROJECT/dist"
  export STUB_NPM_FAIL=1
  run "$DEPLOY"
  assert_failure
  assert_output --partial "'npm run synth' failed"
  assert_output --partial "step 2/8 failed"
  refute_call "kind create"
}

@test "deploy: TigeraStatus never Available fails in bounded time with a diagnosis" {
  export STUB_TIGERASTATUS=unavailable
  local start=$SECONDS
  run "$DEPLOY"
  assert_failure
  assert [ $((SECONDS - start)) -lt 10 ]
  assert_output --partial "timed out after"
  assert_output --partial "waiting for TigeraStatus calico to be Available"
  assert_output --partial "step 6/8 failed: Wait for Calico"
  assert_output --partial "--- diagnosis"
  # Pods not Ready, and only those.
  assert_output --partial "calico-node-7hx2m"
  assert_output --partial "coredns-7db6d8ff4d-4vbnp"
  refute_output --partial "calico-typha-7c9d8f5b8-k2x9p"
  assert_output --partial "calico  Available=False  Progressing=True  Degraded=True  Error creating IP pool"
  assert_output --partial '"msg":"Error creating IP pool"'
  refute_call "daemonset/multitool"
}

@test "deploy: a TigeraStatus that never appears is polled for a bounded time" {
  export STUB_TIGERASTATUS=absent LAB_CALICO_TIMEOUT=1
  local start=$SECONDS
  run "$DEPLOY"
  assert_failure
  assert [ $((SECONDS - start)) -lt 10 ]
  assert_output --partial "TigeraStatus calico did not appear within 1s"
  assert_output --partial "--- diagnosis"
  assert [ "$(grep -c 'kubectl get tigerastatus calico -o name' "$STUB_LOG")" -gt 1 ]
}

@test "deploy: failing verification fails the deploy after the configured attempts" {
  export LAB_VERIFY_ATTEMPTS=2
  fixture exec-ping.rc 1
  run "$DEPLOY"
  assert_failure
  assert_output --partial "verifying again in 0s (attempt 2/2)"
  assert_output --partial "verify found 1 failing check(s) after 2 attempt(s)"
  assert_output --partial "step 8/8 failed: Verify the lab"
  assert [ "$(grep -c 'kubectl get --raw=/readyz' "$STUB_LOG")" -eq 2 ]
}

@test "deploy --help lists every overridable value" {
  run "$DEPLOY" --help
  assert_success
  local v
  for v in LAB_CLUSTER_NAME LAB_KUBECONFIG LAB_KIND_NODE_IMAGE LAB_TIGERA_OPERATOR_MANIFEST \
    LAB_CRD_TIMEOUT LAB_OPERATOR_TIMEOUT LAB_CALICO_TIMEOUT LAB_WORKLOAD_TIMEOUT LAB_POLL_INTERVAL \
    LAB_SYNTH LAB_DIST_DIR LAB_VERIFY_ATTEMPTS; do
    assert_output --partial "$v"
  done
  assert_output --partial "https://raw.githubusercontent.com/projectcalico/calico/v3.28.5/manifests/tigera-operator.yaml"
  assert [ ! -s "$STUB_LOG" ]
}

@test "deploy: an unknown argument is refused" {
  run "$DEPLOY" --bogus
  assert_failure
  assert_output --partial "unknown argument: --bogus"
  assert [ ! -s "$STUB_LOG" ]
}

@test "deploy: a custom LAB_DIST_DIR is used as it is, never resynthesized" {
  local dist=$BATS_TEST_TMPDIR/elsewhere/dist
  mkdir -p "${dist%/dist}"
  cp -R "$DEFAULTS_DIST" "$dist"
  touch -d '2000-01-01 00:00' "$dist/kind/cluster.yaml" "$dist"/*.k8s.yaml
  export LAB_DIST_DIR=$dist
  run "$DEPLOY"
  assert_success
  refute_call "npm"
  assert_calls_in_order "kind create cluster --name ipv6-lab --config $dist/kind/cluster.yaml" "kubectl apply -f $dist"
  assert_output --partial "using $dist as it is (LAB_SYNTH=never)"
}
