#!/usr/bin/env bats
# scripts/pin-multitool-image.sh against a real registry: crane's own registry
# implementation (`crane registry serve`) on loopback, holding multi-arch and
# single-platform images pushed here. npm is the stub: regenerating dist/ and
# the snapshots is the job of the real `npm run synth` / `npm run test:update`.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
  # crane on PATH, cached, or built once from the Go module proxy (about 20 s).
  if ! CRANE=$(
    # shellcheck source=scripts/lib/common.sh
    source "$REPO_ROOT/scripts/lib/common.sh"
    # shellcheck source=scripts/lib/crane.sh
    source "$REPO_ROOT/scripts/lib/crane.sh"
    ensure_crane 2>"$BATS_FILE_TMPDIR/crane.log"
    echo "$CRANE"
  ); then
    CRANE_MISSING="no crane and it could not be built: $(tail -3 "$BATS_FILE_TMPDIR/crane.log")"
    export CRANE_MISSING
    return 0
  fi
  export CRANE
  start_registry
  push_fixtures
}

teardown_file() {
  [[ -z "${REGISTRY_PID:-}" ]] || kill "$REGISTRY_PID" 2>/dev/null || true
}

# start_registry: crane's in-memory registry on a free loopback port, as REGISTRY.
start_registry() {
  local log=$BATS_FILE_TMPDIR/registry.log i port=""
  "$CRANE" registry serve --address 127.0.0.1:0 >"$log" 2>&1 3>&- &
  export REGISTRY_PID=$!
  for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's/.*serving on port \([0-9][0-9]*\).*/\1/p' "$log")
    [[ -z "$port" ]] || break
    sleep 0.1
  done
  [[ -n "$port" ]] || { echo "crane registry serve did not start within 10s:" && cat "$log"; } >&2
  [[ -n "$port" ]]
  export REGISTRY=127.0.0.1:$port
}

# push_image REF PLATFORM [CONTENT]: a one-layer image for PLATFORM at REF.
push_image() {
  local ref=$1 platform=$2 content=${3:-$2} dir
  dir=$(mktemp -d "$BATS_FILE_TMPDIR/layer.XXXXXX")
  printf '%s\n' "$content" >"$dir/content"
  tar -C "$dir" -cf "$dir.tar" content
  "$CRANE" append -f "$dir.tar" -t "$ref" >/dev/null 2>&1
  "$CRANE" mutate --set-platform "$platform" "$ref" -t "$ref" >/dev/null 2>&1
}

# push_index REF CONTENT PLATFORM...: a multi-arch index at REF; prints its digest.
push_index() {
  local ref=$1 content=$2 platform repo=${1%:*}
  shift 2
  local -a manifests=()
  for platform in "$@"; do
    push_image "$repo:part-${platform//\//-}" "$platform" "$content $platform"
    manifests+=(-m "$repo:part-${platform//\//-}")
  done
  "$CRANE" index append "${manifests[@]}" -t "$ref" >/dev/null 2>&1
  "$CRANE" digest "$ref"
}

push_fixtures() {
  export TAG_REF=$REGISTRY/wbitt/network-multitool:alpine-extra
  INDEX_DIGEST=$(push_index "$TAG_REF" v1 linux/amd64 linux/arm64 linux/s390x)
  export INDEX_DIGEST
  push_image "$REGISTRY/single/tool:v1" linux/amd64
  push_index "$REGISTRY/amd64-only/tool:v1" v1 linux/amd64 >/dev/null
}

setup() {
  load helpers/lab
  [[ -z "${CRANE_MISSING:-}" ]] || skip_or_fail_in_ci "$CRANE_MISSING"
  lab_setup
  cp "$REPO_ROOT/lib/multitool.ts" "$PROJECT/lib/multitool.ts"
  cp "$REPO_ROOT/README.md" "$PROJECT/README.md"
  cp -R "$PROJECT/lib" "$BATS_TEST_TMPDIR/lib.orig"
  cp "$PROJECT/README.md" "$BATS_TEST_TMPDIR/README.orig"
  for v in $(compgen -v MULTITOOL_) $(compgen -v PIN_); do unset "$v"; done
  export MULTITOOL_RESOLVE_FROM=$TAG_REF PIN_TIMEOUT=10
  PIN=$REPO_ROOT/scripts/pin-multitool-image.sh
  DEFAULT_IMAGE=$(sed -n "s/^export const MULTITOOL_DEFAULT_IMAGE = '\([^']*\)';\$/\1/p" "$PROJECT/lib/multitool.ts")
  TAG=${DEFAULT_IMAGE%%@*}
}

teardown() {
  [[ -z "${HANG_PID:-}" ]] || kill "$HANG_PID" 2>/dev/null || true
}

assert_sources_unchanged() {
  diff -r "$BATS_TEST_TMPDIR/lib.orig" "$PROJECT/lib" || fail "lib/ changed"
  diff "$BATS_TEST_TMPDIR/README.orig" "$PROJECT/README.md" || fail "README.md changed"
}

# changed_lines ORIG NEW: the lines of NEW that differ from ORIG.
changed_lines() {
  diff "$1" "$2" | sed -n 's/^> //p'
}

@test "pin: writes the tag's multi-arch index digest into lib/multitool.ts and README.md, then regenerates" {
  run --separate-stderr "$PIN"
  assert_success
  assert_output "$TAG@$INDEX_DIGEST"
  # Exactly the default's declaration, its @default doc and README's config example change.
  run changed_lines "$BATS_TEST_TMPDIR/lib.orig/multitool.ts" "$PROJECT/lib/multitool.ts"
  assert_output "$(printf '%s\n' "   * @default \"$TAG@$INDEX_DIGEST\"" "export const MULTITOOL_DEFAULT_IMAGE = '$TAG@$INDEX_DIGEST';")"
  run changed_lines "$BATS_TEST_TMPDIR/README.orig" "$PROJECT/README.md"
  assert_output "  image: $TAG@$INDEX_DIGEST"
  assert_calls_in_order "npm run --silent synth (in $PROJECT) CDK8S_CHECK_UPGRADE=false" "npm run --silent test:update (in $PROJECT)"
}

@test "pin: the digest is the registry's, read by digest, not by the moving tag" {
  run --separate-stderr "$PIN" --dry-run
  assert_success
  assert_equal "$output" "$TAG@$("$CRANE" digest "$TAG_REF")"
  assert_stderr --partial "check that $REGISTRY/wbitt/network-multitool@$INDEX_DIGEST is a multi-arch index"
}

@test "pin --dry-run prints the reference and changes nothing" {
  run --separate-stderr "$PIN" --dry-run
  assert_success
  assert_output "$TAG@$INDEX_DIGEST"
  assert_stderr --partial "nothing changed"
  assert_sources_unchanged
  refute_call "npm"
}

@test "pin: a second run finds the image pinned and changes nothing" {
  PIN_REGENERATE=false run "$PIN"
  assert_success
  cp "$PROJECT/lib/multitool.ts" "$BATS_TEST_TMPDIR/pinned.ts"
  cp "$PROJECT/README.md" "$BATS_TEST_TMPDIR/pinned.md"
  run "$PIN"
  assert_success
  assert_output --partial "already pinned: $TAG@$INDEX_DIGEST"
  diff "$BATS_TEST_TMPDIR/pinned.ts" "$PROJECT/lib/multitool.ts"
  diff "$BATS_TEST_TMPDIR/pinned.md" "$PROJECT/README.md"
  refute_call "npm"
}

@test "pin: when the tag has moved, the new digest replaces the old one" {
  PIN_REGENERATE=false run "$PIN"
  assert_success
  local moved_ref=$REGISTRY/moved/network-multitool:alpine-extra old new
  old=$(push_index "$moved_ref" v1 linux/amd64 linux/arm64)
  PIN_REGENERATE=false MULTITOOL_RESOLVE_FROM=$moved_ref run --separate-stderr "$PIN"
  assert_success
  assert_output "$TAG@$old"
  new=$(push_index "$moved_ref" v2 linux/amd64 linux/arm64)
  assert_not_equal "$old" "$new"
  PIN_REGENERATE=false MULTITOOL_RESOLVE_FROM=$moved_ref run --separate-stderr "$PIN"
  assert_success
  assert_output "$TAG@$new"
  run grep -c "$old" "$PROJECT/lib/multitool.ts" "$PROJECT/README.md"
  assert_output "$(printf '%s\n' "$PROJECT/lib/multitool.ts:0" "$PROJECT/README.md:0")"
  run grep -c "@default \"$TAG@$new\"\|MULTITOOL_DEFAULT_IMAGE = '$TAG@$new'" "$PROJECT/lib/multitool.ts"
  assert_output 2
}

@test "pin: fails if the tag is a single-platform image" {
  MULTITOOL_RESOLVE_FROM=$REGISTRY/single/tool:v1 run "$PIN"
  assert_failure
  assert_output --partial "ERROR: $REGISTRY/single/tool@sha256:"
  assert_output --partial "is not a readable multi-arch image index"
  assert_output --partial "failed while trying to check that"
  assert_sources_unchanged
  refute_call "npm"
}

@test "pin: fails if the index lacks a required platform" {
  MULTITOOL_RESOLVE_FROM=$REGISTRY/amd64-only/tool:v1 run "$PIN"
  assert_failure
  assert_output --partial "has no image for: linux/arm64 (it lists: linux/amd64 )"
  assert_sources_unchanged
}

@test "pin: MULTITOOL_PLATFORMS names the platforms the index must carry" {
  MULTITOOL_PLATFORMS="linux/s390x linux/ppc64le linux/386" run "$PIN" --dry-run
  assert_failure
  assert_output --partial "has no image for: linux/ppc64le linux/386"
  MULTITOOL_PLATFORMS="linux/s390x" run --separate-stderr "$PIN" --dry-run
  assert_success
}

@test "pin: fails if the tag does not exist" {
  MULTITOOL_RESOLVE_FROM=$REGISTRY/wbitt/network-multitool:no-such-tag run "$PIN"
  assert_failure
  assert_output --partial "ERROR: could not resolve $REGISTRY/wbitt/network-multitool:no-such-tag within 10s"
  assert_output --partial "MANIFEST_UNKNOWN"
  assert_sources_unchanged
}

@test "pin: a registry that never answers fails within PIN_TIMEOUT" {
  local port_file=$BATS_TEST_TMPDIR/hang.port
  # Accepts connections and never answers them.
  node -e 'const s = require("net").createServer(() => {}); s.listen(0, "127.0.0.1", () => require("fs").writeFileSync(process.argv[1], String(s.address().port)));' "$port_file" 3>&- &
  HANG_PID=$!
  for ((i = 0; i < 50; i++)); do [[ -s "$port_file" ]] && break; sleep 0.1; done
  local start=$SECONDS
  PIN_TIMEOUT=2 MULTITOOL_RESOLVE_FROM=127.0.0.1:$(<"$port_file")/hang/tool:v1 run "$PIN"
  assert_failure
  assert_output --partial "could not resolve 127.0.0.1:$(<"$port_file")/hang/tool:v1 within 2s"
  ((SECONDS - start < 8)) || fail "took $((SECONDS - start))s"
  assert_sources_unchanged
}

@test "pin: fails if lib/multitool.ts no longer declares the default image" {
  sed -i '/^export const MULTITOOL_DEFAULT_IMAGE/d' "$PROJECT/lib/multitool.ts"
  cp "$PROJECT/lib/multitool.ts" "$BATS_TEST_TMPDIR/lib.orig/multitool.ts"
  run "$PIN"
  assert_failure
  assert_output --partial "expected one line \"export const MULTITOOL_DEFAULT_IMAGE = '<image>';\" in $PROJECT/lib/multitool.ts, found 0"
  assert_sources_unchanged
}

@test "pin: fails and edits nothing if README.md lacks the configuration example's image line" {
  sed -i "s|^  image: $DEFAULT_IMAGE\$|  image: somewhere/else:v1|" "$PROJECT/README.md"
  cp "$PROJECT/README.md" "$BATS_TEST_TMPDIR/README.orig"
  run "$PIN"
  assert_failure
  assert_output --partial "expected one line with '  image: $DEFAULT_IMAGE' in $PROJECT/README.md, found 0"
  assert_sources_unchanged
}

@test "pin: fails if regenerating fails, saying what is pinned and how to finish" {
  STUB_NPM_FAIL=1 run "$PIN"
  assert_failure
  assert_output --partial "now pin $TAG@$INDEX_DIGEST, but regenerating failed"
  assert_output --partial "fix: fix the cause, then run: npm run synth && npm run test:update"
}

@test "pin: fails on bad settings, naming the setting, the value and what is allowed" {
  PIN_REGENERATE=yes run "$PIN"
  assert_failure
  assert_output "ERROR: PIN_REGENERATE: got 'yes'; allowed: true or false"
  PIN_TIMEOUT=0 run "$PIN"
  assert_failure
  assert_output "ERROR: PIN_TIMEOUT: got '0'; allowed: a whole number of seconds"
  MULTITOOL_TAG=$TAG@$INDEX_DIGEST run "$PIN"
  assert_failure
  assert_output --partial "ERROR: MULTITOOL_TAG: got '$TAG@$INDEX_DIGEST'; allowed: a tag reference without a digest"
  MULTITOOL_TAG=wbitt/network-multitool run "$PIN"
  assert_failure
  assert_output --partial "allowed: a reference with an explicit tag"
  run "$PIN" --bogus
  assert_failure
  assert_output --partial "unknown argument: '--bogus'"
  assert_sources_unchanged
}

@test "pin --help prints the usage" {
  run "$PIN" --help
  assert_success
  assert_line --index 0 "pin-multitool-image.sh - pin the lab's multitool image to the digest its tag"
  assert_output --partial "MULTITOOL_RESOLVE_FROM"
  refute_output --partial "set -euo pipefail"
}
