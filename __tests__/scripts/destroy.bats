#!/usr/bin/env bats
# destroy.sh against a stubbed kind.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup_deployed
  DESTROY=$REPO_ROOT/destroy.sh
}

@test "destroy --yes deletes the cluster and the kubeconfig" {
  run "$DESTROY" --yes </dev/null
  assert_success
  assert_calls_in_order "kind get clusters" "kind delete cluster --name ipv6-lab --kubeconfig $PROJECT/ipv6-lab.kubeconfig"
  assert [ ! -e "$PROJECT/ipv6-lab.kubeconfig" ]
  assert [ ! -s "$STUB_STATE/kind-clusters" ]
  assert_output --partial 'Lab "ipv6-lab" removed.'
}

@test "destroy -y with LAB_CLUSTER_NAME and LAB_KUBECONFIG" {
  echo my-lab >>"$STUB_STATE/kind-clusters"
  echo x >"$BATS_TEST_TMPDIR/my.kubeconfig"
  LAB_CLUSTER_NAME=my-lab LAB_KUBECONFIG=$BATS_TEST_TMPDIR/my.kubeconfig run "$DESTROY" -y </dev/null
  assert_success
  assert_calls_in_order "kind delete cluster --name my-lab --kubeconfig $BATS_TEST_TMPDIR/my.kubeconfig"
  assert [ ! -e "$BATS_TEST_TMPDIR/my.kubeconfig" ]
  assert [ -e "$PROJECT/ipv6-lab.kubeconfig" ]
  assert_equal "$(cat "$STUB_STATE/kind-clusters")" ipv6-lab
}

@test "destroy without the lab's facts names the missing file; LAB_CLUSTER_NAME needs none" {
  rm -r "$PROJECT/dist/lab"
  run "$DESTROY" --yes </dev/null
  assert_failure 1
  assert_output --partial "ERROR: no lab facts: $PROJECT/dist/lab/facts.json does not exist"
  assert_output --partial "fix: npm run synth"
  refute_call "kind delete"
  LAB_CLUSTER_NAME=ipv6-lab run "$DESTROY" --yes </dev/null
  assert_success
  assert_calls_in_order "kind delete cluster --name ipv6-lab --kubeconfig $PROJECT/ipv6-lab.kubeconfig"
}

@test "destroy without a terminal and without --yes refuses and deletes nothing" {
  run "$DESTROY" </dev/null
  assert_failure
  assert_output --partial "no terminal to confirm on; refusing to delete cluster ipv6-lab"
  assert_output --partial "fix: run ./destroy.sh --yes"
  refute_call "kind delete"
  assert [ -e "$PROJECT/ipv6-lab.kubeconfig" ]
}

@test "destroy --yes on a missing cluster still removes the kubeconfig and succeeds" {
  : >"$STUB_STATE/kind-clusters"
  run "$DESTROY" --yes </dev/null
  assert_success
  assert_output --partial "kind cluster ipv6-lab does not exist; nothing to delete"
  refute_call "kind delete"
  assert [ ! -e "$PROJECT/ipv6-lab.kubeconfig" ]
}

@test "destroy without kind says how to install it" {
  remove_stub kind
  run "$DESTROY" --yes </dev/null
  assert_failure
  assert_output --partial "kind not found on PATH"
  assert [ -e "$PROJECT/ipv6-lab.kubeconfig" ]
}

@test "destroy asks on a terminal: 'y' deletes, anything else keeps the lab" {
  command -v script >/dev/null || skip_or_fail_in_ci "util-linux script(1) is needed to give destroy.sh a terminal"
  run script -qec "$DESTROY" /dev/null <<<"n"
  assert_failure
  assert_output --partial 'Delete kind cluster "ipv6-lab"'
  assert_output --partial "Nothing deleted."
  refute_call "kind delete"
  run script -qec "$DESTROY" /dev/null <<<"y"
  assert_success
  assert_calls_in_order "kind delete cluster --name ipv6-lab"
  assert [ ! -e "$PROJECT/ipv6-lab.kubeconfig" ]
}

@test "destroy --help and unknown arguments delete nothing" {
  run "$DESTROY" --help
  assert_success
  assert_output --partial "-y, --yes   do not ask for confirmation"
  run "$DESTROY" --force --yes </dev/null
  assert_failure
  assert_output --partial "unknown argument: --force"
  refute_call "kind delete"
}
