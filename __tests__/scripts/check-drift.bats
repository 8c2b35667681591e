#!/usr/bin/env bats
# scripts/check-drift.sh: when imports/ cannot be regenerated (offline, no
# CRDs at hand) it says so, instead of reporting that imports/ differ.

bats_require_minimum_version 1.5.0

setup() {
  load helpers/lab
}

@test "check-drift: CRDs unavailable is 'could not regenerate imports/', not drift" {
  CALICO_CRDS_DIR=$BATS_TEST_TMPDIR/no-crds run "$REPO_ROOT/scripts/check-drift.sh"
  assert_failure
  assert_output --partial "ok: dist/ is up to date"
  assert_output --partial "error: could not regenerate imports/ to compare them; 'npm run import' failed:"
  assert_output --partial "has no operator.tigera.io_installations.yaml"
  refute_output --partial "differs from a fresh build"
  refute_output --partial "Published"
}
