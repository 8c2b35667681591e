#!/usr/bin/env bats
# The README's explain.sh excerpt is what explain.sh prints on the stub cluster
# (which replays real Calico v3.28.5): a contiguous part of its output.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup_deployed
}

@test "readme: the explain.sh excerpt is part of explain.sh's output on the stubs" {
  local excerpt
  excerpt=$(doc_block "$REPO_ROOT/README.md")
  [[ -n "$excerpt" ]] || fail "README.md has no \`\`\`text block"
  run "$REPO_ROOT/explain.sh"
  assert_success
  [[ "$output" == *"$excerpt"* ]] || fail "README.md's explain excerpt is not in the output of ./explain.sh:
$output"
}

@test "docs: docs/scripts.md's sample of ./verify.sh is its output on the stubs" {
  local documented
  documented=$(doc_block "$REPO_ROOT/docs/scripts.md")
  [[ -n "$documented" ]] || fail "docs/scripts.md has no \`\`\`text block"
  run "$REPO_ROOT/verify.sh"
  assert_success
  # The stub project lives in a temporary directory; the doc shows a checkout in ~/calico-ipv6-lab.
  assert_equal "$documented" "${output//$PROJECT/\~/calico-ipv6-lab}"
}

@test "docs: docs/verify-checks.md's sample is the end of ./verify.sh's output on the stubs" {
  local documented
  documented=$(doc_block "$REPO_ROOT/docs/verify-checks.md")
  [[ -n "$documented" ]] || fail "docs/verify-checks.md has no \`\`\`text block"
  run "$REPO_ROOT/verify.sh"
  assert_success
  [[ "$output" == *"$documented" ]] || fail "docs/verify-checks.md's sample is not the end of ./verify.sh's output:
$output"
}
