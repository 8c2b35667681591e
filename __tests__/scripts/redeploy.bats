#!/usr/bin/env bats
# deploy.sh after a configuration change (issue 12 items 3 and 7): a reused
# cluster is compared with dist/, a customized synth goes to .lab/dist/, and
# the names printed are the ones the configuration gives.

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

@test "redeploy: a reused cluster that matches dist/ is converged" {
  cluster_exists_already
  run "$DEPLOY"
  assert_success
  assert_output --partial "cluster ipv6-lab matches $PROJECT/dist (nodes, pod and service subnets, IPPools)"
  assert_calls_in_order "kind export kubeconfig --name ipv6-lab" "kubectl get nodes -o name" \
    "kubectl get configmap -n kube-system kubeadm-config" "kubectl apply -f $PROJECT/dist"
}

@test "redeploy: more workers than the cluster has stops before any change, with the difference and the fix" {
  cluster_exists_already
  synth_into "$PROJECT/dist" 'workers: 3'
  run "$DEPLOY"
  assert_failure
  assert_output --partial "cluster ipv6-lab was created from another configuration; it cannot be changed in place:"
  assert_output --partial "  - nodes: the cluster has 3, $PROJECT/dist/kind/cluster.yaml wants 4 (control plane + 3 workers)"
  assert_output --partial "fix: ./destroy.sh --yes, then ./deploy.sh"
  refute_call "kubectl apply"
}

@test "redeploy: changed pod and service subnets (kubeadm's ClusterConfiguration) are reported" {
  cluster_exists_already
  synth_into "$PROJECT/dist" 'pools: { ipv6: { cidr: "fd00:abcd::/48" } }
serviceSubnets: { ipv6: "fd00:10:97::/112" }'
  run "$DEPLOY"
  assert_failure
  assert_output --partial "  - podSubnet: the cluster has 192.168.0.0/16,fd00:10:244::/48, $PROJECT/dist/kind/cluster.yaml wants 192.168.0.0/16,fd00:abcd::/48"
  assert_output --partial "  - serviceSubnet: the cluster has 10.96.0.0/16,fd00:10:96::/112, $PROJECT/dist/kind/cluster.yaml wants 10.96.0.0/16,fd00:10:97::/112"
  refute_call "kubectl apply"
}

@test "redeploy: a changed IPPool cidr or blockSize is never applied in place" {
  cluster_exists_already
  synth_into "$PROJECT/dist" 'pools: { ipv6: { cidr: "fd00:abcd::/48", blockSize: 120 } }'
  run "$DEPLOY"
  assert_failure
  assert_output --partial "  - IPPool default-ipv6-ippool cidr: the cluster has fd00:10:244::/48, $PROJECT/dist wants fd00:abcd::/48 (Calico does not allow changing a pool's cidr)"
  assert_output --partial "  - IPPool default-ipv6-ippool blockSize: the cluster has 122, $PROJECT/dist wants 120"
  refute_call "kubectl apply"
}

@test "redeploy: a renamed cluster is created under the new name and the old one is mentioned" {
  cluster_exists_already
  synth_into "$PROJECT/dist" 'clusterName: lab-two'
  run "$DEPLOY"
  assert_success
  assert_calls_in_order "kind create cluster --name lab-two --config $PROJECT/dist/kind/cluster.yaml --kubeconfig $PROJECT/lab-two.kubeconfig"
  assert_output --partial 'note: kind also has a cluster "ipv6-lab" (this lab under an earlier clusterName?); it keeps running.'
  assert_output --partial "remove it with: LAB_CLUSTER_NAME=ipv6-lab ./destroy.sh --yes"
  assert_output --partial 'Lab "lab-two" is ready'
}

@test "redeploy: with lab.config.yaml, synth goes to .lab/dist/, the committed dist/ stays, and the banner names the new cluster" {
  local custom=$BATS_TEST_TMPDIR/custom-dist
  synth_into "$custom" 'clusterName: my-lab'
  export STUB_SYNTH_FROM=$custom
  echo 'clusterName: my-lab' >"$PROJECT/lab.config.yaml"
  local before
  before=$(cd "$PROJECT/dist" && find . -type f -exec sha256sum {} + | sort)
  run "$DEPLOY"
  assert_success
  assert_output --partial "$PROJECT/.lab/dist is missing: running 'npm run synth'"
  assert_output --partial "lab \"my-lab\" from $PROJECT/.lab/dist/kind/cluster.yaml (kubeconfig $PROJECT/my-lab.kubeconfig)"
  assert_calls_in_order "kind create cluster --name my-lab --config $PROJECT/.lab/dist/kind/cluster.yaml --kubeconfig $PROJECT/my-lab.kubeconfig" \
    "kubectl apply -f $PROJECT/.lab/dist"
  assert_equal "$(cd "$PROJECT/dist" && find . -type f -exec sha256sum {} + | sort)" "$before"
}

@test "redeploy: LAB_KIND_NODE_IMAGE defaults to the image the kind config pins; no --image unless set" {
  run "$DEPLOY" --help
  assert_output --partial "LAB_KIND_NODE_IMAGE           kind node image; when set, passed as --image (overrides the config) [$(kind_image) (pinned in the kind config)]"
  run "$DEPLOY"
  assert_success
  refute_call "--image"
}

@test "redeploy: kubectl more than one minor from the server warns and carries on" {
  cp "$FIXTURES/kubectl-version-skewed.json" "$STUB_STATE/cluster/kubectl-version.json"
  run "$DEPLOY"
  assert_success
  assert_output --partial "WARNING: version difference between kubectl (1.32) and the lab's API server (1.28) exceeds the supported minor version skew of +/-1; install kubectl 1.27 to 1.29"
}

kind_image() { node -p 'require(process.argv[1]).cluster.nodeImage' "$PROJECT/dist/lab/facts.json"; }

@test "redeploy: destroy names the kind clusters still running (the lab under its earlier name)" {
  printf 'ipv6-lab\nlab-two\n' >"$STUB_STATE/kind-clusters"
  synth_into "$PROJECT/dist" 'clusterName: lab-two'
  run "$REPO_ROOT/destroy.sh" --yes
  assert_success
  assert_calls_in_order "kind delete cluster --name lab-two"
  assert_output --partial 'note: kind also has a cluster "ipv6-lab"'
  assert_output --partial "remove it with: LAB_CLUSTER_NAME=ipv6-lab ./destroy.sh --yes"
}
