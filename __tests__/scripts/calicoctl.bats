#!/usr/bin/env bats
# calicoctl for the lab's commands (scripts/lib/calicoctl.sh): downloaded once
# into .lab/bin, checked against the release's SHA256SUMS, or LAB_CALICOCTL.
# A stub curl serves a release directory from $STUB_CURL_DIR (no network here).

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup
  export STUB_CURL_DIR=$BATS_TEST_TMPDIR/release
  mkdir -p "$STUB_CURL_DIR"
  source "$REPO_ROOT/scripts/lib/common.sh"
  source "$REPO_ROOT/scripts/lib/calicoctl.sh"
  lab_init_defaults
  ASSET=$(calicoctl_asset)
  # A stand-in binary; what matters is that its bytes are checked.
  printf '#!/bin/sh\necho "Client Version:    v3.28.5"\n' >"$STUB_CURL_DIR/$ASSET"
  SUM=$(sha256sum "$STUB_CURL_DIR/$ASSET" | awk '{ print $1 }')
  # The published file lists every asset of the release, one "sha256  name" per line.
  printf '%s  %s\n' \
    0000000000000000000000000000000000000000000000000000000000000000 calicoctl-windows-amd64.exe \
    "$SUM" "$ASSET" \
    1111111111111111111111111111111111111111111111111111111111111111 release-v3.28.5.tgz >"$STUB_CURL_DIR/SHA256SUMS"
  BIN=$PROJECT/.lab/bin
}

@test "calicoctl: downloaded from the v3.28.5 release, checked against SHA256SUMS, put on a stable name" {
  run calicoctl_provide
  assert_success
  assert_calls_in_order \
    "curl -fsSL --retry 2 -o" \
    "curl -fsSL --retry 2 -o"
  grep -F "https://github.com/projectcalico/calico/releases/download/v3.28.5/SHA256SUMS" "$STUB_LOG"
  grep -F "https://github.com/projectcalico/calico/releases/download/v3.28.5/${ASSET}" "$STUB_LOG"
  assert [ -x "$BIN/calicoctl-v3.28.5" ]
  assert_equal "$(readlink "$BIN/calicoctl")" "$BIN/calicoctl-v3.28.5"
  assert_output --partial "calicoctl v3.28.5: sha256 ${SUM} matches the release's SHA256SUMS"
  assert_output --partial "export PATH=\"${BIN}:\$PATH\" DATASTORE_TYPE=kubernetes KUBECONFIG=${PROJECT}/ipv6-lab.kubeconfig"
  assert_output --partial "    calicoctl get ippools -o wide"
  assert_output --partial "    calicoctl get workloadendpoints -o wide"
  run "$BIN/calicoctl"
  assert_output "Client Version:    v3.28.5"
}

@test "calicoctl: a second run reuses the checked download" {
  calicoctl_provide 2>/dev/null
  : >"$STUB_LOG"
  run calicoctl_provide
  assert_success
  assert_output --partial "calicoctl: ${BIN}/calicoctl-v3.28.5 (downloaded and checked before)"
  refute_call curl
}

@test "calicoctl: SHA256SUMS lines with a directory or binary-mode star are matched by file name" {
  sed -i "s|  ${ASSET}\$| *bin/${ASSET}|" "$STUB_CURL_DIR/SHA256SUMS"
  run calicoctl_provide
  assert_success
  assert [ -x "$BIN/calicoctl-v3.28.5" ]
}

@test "calicoctl fails if the download does not match SHA256SUMS, and installs nothing" {
  echo tampered >>"$STUB_CURL_DIR/$ASSET"
  run calicoctl_provide
  assert_failure
  assert_output --partial "WARNING: calicoctl checksum mismatch for ${ASSET}: SHA256SUMS says ${SUM}, the download is "
  assert [ ! -e "$BIN/calicoctl-v3.28.5" ]
  assert [ ! -e "$BIN/calicoctl" ]
}

@test "calicoctl fails if SHA256SUMS does not list the asset" {
  sed -i "/ ${ASSET}\$/d" "$STUB_CURL_DIR/SHA256SUMS"
  run calicoctl_provide
  assert_failure
  assert_output --partial "WARNING: the release's SHA256SUMS has no checksum for ${ASSET}; refusing to install an unchecked calicoctl"
  assert [ ! -e "$BIN/calicoctl-v3.28.5" ]
}

@test "calicoctl fails offline with how to provide it by hand" {
  rm "$STUB_CURL_DIR/SHA256SUMS"
  run calicoctl_provide
  assert_failure
  assert_output --partial "WARNING: calicoctl download failed: curl: (22) The requested URL returned error: 404"
  assert_output --partial "and set LAB_CALICOCTL=/path/to/it"
}

@test "calicoctl: LAB_CALICOCTL (air-gapped) is used as it is, without a download" {
  local mine=$BATS_TEST_TMPDIR/my-calicoctl
  cp "$STUB_CURL_DIR/$ASSET" "$mine"
  chmod +x "$mine"
  LAB_CALICOCTL=$mine run calicoctl_provide
  assert_success
  assert_output --partial "calicoctl: ${mine} (LAB_CALICOCTL)"
  assert_equal "$(readlink "$BIN/calicoctl")" "$mine"
  refute_call curl
}

@test "calicoctl fails if LAB_CALICOCTL is not executable" {
  LAB_CALICOCTL=$BATS_TEST_TMPDIR/missing run calicoctl_provide
  assert_failure
  assert_output --partial "WARNING: LAB_CALICOCTL=${BATS_TEST_TMPDIR}/missing is not an executable file"
}

@test "deploy provides calicoctl at the end, and a failed download only warns" {
  run "$REPO_ROOT/deploy.sh"
  assert_success
  assert [ -x "$BIN/calicoctl-v3.28.5" ]
  assert_output --partial "    calicoctl get workloadendpoints -o wide"
  rm -rf "$PROJECT/.lab" "$STUB_CURL_DIR/SHA256SUMS"
  run "$REPO_ROOT/deploy.sh"
  assert_success
  assert_output --partial "WARNING: calicoctl not provided; the lab, ./verify.sh and ./explain.sh work without it"
}
