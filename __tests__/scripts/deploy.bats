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
    "kubectl wait --for condition=established crd/installations.operator.tigera.io crd/apiservers.operator.tigera.io crd/tigerastatuses.operator.tigera.io crd/ippools.crd.projectcalico.org --timeout=2s" \
    "kubectl apply -f $PROJECT/dist" \
    "kubectl wait --for=condition=Available tigerastatus/calico tigerastatus/apiserver --timeout=2s" \
    "kubectl wait --for=condition=Ready node --all --timeout=" \
    "kubectl rollout status -n default daemonset/multitool --timeout=2s" \
    "kubectl get --raw=/readyz" \
    "kubectl get nodes -o jsonpath=" \
    "kubectl exec -n default multitool-xp9c5 -- ping -6 -c 3 -W 2 fd00:10:244:1168:5560:68e4:6df7:2c41"
  refute_call "npm run synth"
  refute_call "kind export kubeconfig"
  assert_line "export KUBECONFIG=$PROJECT/ipv6-lab.kubeconfig"
  assert_output --partial "[step 1/8] Preflight checks"
  assert_output --partial "[step 8/8] Verify the lab"
  assert_output --partial "waiting up to 2s for TigeraStatus calico and apiserver to be Available"
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
  assert_output --partial "timed out after 2s waiting for TigeraStatus calico and apiserver to be Available"
  assert_output --partial "step 6/8 failed: Wait for Calico"
  assert_output --partial "--- diagnosis"
  # Pods not Ready, and only those.
  assert_output --partial "calico-node-7hx2m"
  assert_output --partial "coredns-7db6d8ff4d-4vbnp"
  refute_output --partial "calico-typha-7c9d8f5b8-k2x9p"
  assert_output --partial "  calico  Available=False  Progressing=True  Degraded=True"
  assert_output --partial "    Degraded: Error creating IP pool: the IPv6 pool fd00:10:244::/48 overlaps with an existing pool"
  assert_output --partial '"msg":"Error creating IP pool"'
  refute_call "daemonset/multitool"
}

@test "deploy: a TigeraStatus that never appears is waited for a bounded time, then named" {
  export STUB_TIGERASTATUS=absent LAB_CALICO_TIMEOUT=3
  local start=$SECONDS
  run "$DEPLOY"
  assert_failure
  assert [ $((SECONDS - start)) -lt 15 ]
  assert_output --partial 'timed out after 3s waiting for TigeraStatus calico and apiserver to be Available (last answer: Error from server (NotFound): tigerastatuses.operator.tigera.io "apiserver" not found)'
  assert_output --partial "--- diagnosis"
  assert [ "$(grep -c 'kubectl wait --for=condition=Available tigerastatus/calico' "$STUB_LOG")" -gt 1 ]
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
    LAB_CRD_TIMEOUT LAB_CALICO_TIMEOUT LAB_WORKLOAD_TIMEOUT LAB_POLL_INTERVAL LAB_STUCK_GRACE LAB_PROBE_GRACE LAB_RETRY_INTERVAL \
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

# --- waits: errors are not timeouts, "not yet" is retried (issue 19, item 2) ---------------

@test "deploy: the CRD wait's .status.conditions race is retried and deploy goes on" {
  scenario crd-wait-race
  run "$DEPLOY"
  assert_success
  assert_output --partial "error: .status.conditions accessor error: <nil> is of the type <nil>, expected []interface{}   (not yet: retrying)"
  assert_equal "$(grep -c '^kubectl wait --for condition=established ' "$STUB_LOG")" 2
  refute_output --partial "timed out"
}

@test "deploy: a CRD that never comes is a timeout after the whole bound, with kubectl's last answer" {
  scenario crd-wait-notfound
  export LAB_CRD_TIMEOUT=3
  run "$DEPLOY"
  assert_failure
  assert_output --partial 'timed out after 3s waiting for the Calico CRDs to be Established (last answer: Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "tigerastatuses.operator.tigera.io" not found)'
  assert_output --partial "step 4/8 failed"
  assert [ "$(grep -c '^kubectl wait --for condition=established ' "$STUB_LOG")" -gt 1 ]
}

@test "deploy: any other kubectl error in a wait is shown as itself, at once, not as a timeout" {
  scenario crd-wait-error
  run "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: kubectl failed while waiting for the Calico CRDs to be Established (after 0s; not a timeout): The connection to the server 127.0.0.1:41925 was refused - did you specify the right host or port?"
  refute_output --partial "timed out"
  assert_equal "$(grep -c '^kubectl wait --for condition=established ' "$STUB_LOG")" 1
  assert_output --partial "step 4/8 failed"
}

# --- stop early on a pod that will not recover (item 3) -------------------------------------

@test "deploy: a calico-node that cannot get its image stops step 6 early, naming the pod and the cause" {
  scenario calico-node-image-pull
  export STUB_TIGERASTATUS=unavailable LAB_STUCK_GRACE=0 LAB_CALICO_TIMEOUT=600
  run timeout 120 "$DEPLOY"
  assert_failure
  assert_output --partial 'ERROR: pod calico-system/calico-node-k4b7k on ipv6-lab-worker2 will not recover by itself: container calico-node ImagePullBackOff: Back-off pulling image "docker.io/calico/node:v3.28.5", for 0s (grace 0s)'
  assert_output --partial "fix: ipv6-lab-worker2 cannot get docker.io/calico/node:v3.28.5"
  assert_output --partial "step 6/8 failed: Wait for Calico"
  refute_output --partial "timed out"
  # The diagnosis carries the operator's word and the kubelet's events for that pod.
  assert_output --partial "Degraded: Pod calico-system/calico-node-k4b7k failed to pull container image for: calico-node"
  assert_output --partial "Failed: Error: ImagePullBackOff"
}

@test "deploy: a crash-looping calico-node stops step 6 early, pointing at its previous log" {
  export STUB_TIGERASTATUS=unavailable LAB_STUCK_GRACE=0 LAB_CALICO_TIMEOUT=600
  run timeout 120 "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: pod calico-system/calico-node-7hx2m on ipv6-lab-control-plane will not recover by itself: container calico-node CrashLoopBackOff: back-off 40s restarting failed container=calico-node"
  assert_output --partial "(restarts: 3)"
  assert_output --partial "fix: why it exits: kubectl logs -n calico-system calico-node-7hx2m -c calico-node --previous"
  refute_output --partial "timed out"
}

@test "deploy: a readiness probe failing with one message stops step 6 after LAB_PROBE_GRACE" {
  scenario kube-controllers-not-ready
  export STUB_TIGERASTATUS=unavailable LAB_PROBE_GRACE=0 LAB_CALICO_TIMEOUT=600
  run timeout 120 "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: pod calico-system/calico-kube-controllers-b6476f9f5-r62rn on ipv6-lab-worker will not recover by itself: container calico-kube-controllers not Ready: Readiness probe failed: Failed to read status file /status/status.json: unexpected end of JSON input"
  refute_output --partial "timed out"
}

@test "deploy: within its grace period a slow pod is waited for, up to the bound" {
  scenario calico-node-image-pull
  export STUB_TIGERASTATUS=unavailable LAB_STUCK_GRACE=3600 LAB_CALICO_TIMEOUT=2
  run "$DEPLOY"
  assert_failure
  assert_output --partial 'calico-system/calico-node-k4b7k (ipv6-lab-worker2): calico-node ImagePullBackOff: Back-off pulling image "docker.io/calico/node:v3.28.5"; deploy stops in 3600s unless it recovers'
  assert_output --partial "timed out after 2s waiting for TigeraStatus calico and apiserver to be Available"
  refute_output --partial "will not recover"
}

@test "deploy: a multitool pod that cannot get its image stops step 7 early" {
  scenario multitool-image-pull
  export STUB_ROLLOUT=timeout LAB_STUCK_GRACE=0 LAB_WORKLOAD_TIMEOUT=600
  run timeout 120 "$DEPLOY"
  assert_failure
  assert_output --partial 'ERROR: pod default/multitool-csttt on ipv6-lab-worker2 will not recover by itself: container multitool ImagePullBackOff: Back-off pulling image "wbitt/network-multitool:alpine-extra"'
  assert_output --partial "step 7/8 failed"
  assert_calls_in_order "kubectl get pods -A -l app=multitool -o jsonpath="
}

# --- the scripts' own synth (item 5) ----------------------------------------------------------

@test "deploy: its own synth skips the cdk8s CLI's upgrade check (a network call)" {
  rm -rf "$PROJECT/dist"
  run "$DEPLOY"
  assert_success
  assert_calls_in_order "npm run synth (in $PROJECT) CDK8S_CHECK_UPGRADE=false"
}

# --- time to a lab (item 7) -------------------------------------------------------------------

@test "deploy: prints the time of every step at the end" {
  run "$DEPLOY"
  assert_success
  assert_output --partial "Time per step (total "
  local n
  for n in 1 2 3 4 5 6 7 8; do
    assert_output --regexp "
  ${n} [^
]+ +[0-9]+(m[0-9]{2})?s"
  done
  assert_output --regexp "kind load: [0-9]+s"
}

@test "deploy: a failed deploy prints the time of the steps it ran too" {
  export STUB_TIGERASTATUS=unavailable
  run "$DEPLOY"
  assert_failure
  assert_output --partial "Time per step (total "
  assert_output --regexp "
  6 Wait for Calico +[0-9]+s  FAILED"
  refute_output --regexp "
  7 Wait for the multitool"
}

@test "deploy: dist/ is applied as soon as the CRDs are Established, without a wait for the operator's rollout" {
  run "$DEPLOY"
  assert_success
  refute_call "kubectl rollout status -n tigera-operator"
  assert_calls_in_order \
    "kubectl apply --server-side --force-conflicts -f " \
    "kubectl wait --for condition=established crd/" \
    "kubectl apply -f $PROJECT/dist" \
    "kubectl wait --for=condition=Available tigerastatus/calico tigerastatus/apiserver --timeout="
}

@test "deploy: the operator's image is loaded first, and the operator starts while the other images load" {
  run "$DEPLOY"
  assert_success
  assert_calls_in_order \
    "kind load docker-image --name ipv6-lab quay.io/tigera/operator:v1.34.13" \
    "kubectl apply --server-side --force-conflicts -f " \
    "kind load docker-image --name ipv6-lab docker.io/calico/node:v3.28.5" \
    "kubectl wait --for condition=established crd/" \
    "kubectl apply -f $PROJECT/dist"
  refute_call "kind load docker-image --name ipv6-lab quay.io/tigera/operator:v1.34.13 docker.io"
}

@test "deploy: the external host starts while Calico comes up" {
  rm "$STUB_STATE/cluster/docker/ipv6-lab-external.inspect"
  run "$DEPLOY"
  assert_success
  local started calico
  started=$(grep -n "starting the external host ipv6-lab-external in the background" <<<"$output" | cut -d: -f1)
  calico=$(grep -n "waiting up to .* for TigeraStatus calico and apiserver" <<<"$output" | cut -d: -f1)
  assert [ -n "$started" ]
  assert [ -n "$calico" ]
  assert [ "$started" -lt "$calico" ]
  assert_output --partial "external host ipv6-lab-external: 172.18.0.5 fc00:f853:ccd:e793::5"
  # Started after dist/ is applied, done before verify runs.
  assert_calls_in_order "kubectl apply -f $PROJECT/dist" "docker run -d --name ipv6-lab-external" "kubectl get --raw=/readyz"
}
