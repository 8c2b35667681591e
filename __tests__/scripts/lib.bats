#!/usr/bin/env bats
# scripts/lib: address arithmetic, reading dist/, and the kubectl templates.

bats_require_minimum_version 1.5.0

setup() {
  load helpers/lab
  LAB_PROJECT_DIR=$REPO_ROOT
  # shellcheck source=../../scripts/lib/common.sh
  source "$REPO_ROOT/scripts/lib/common.sh"
  source "$REPO_ROOT/scripts/lib/queries.sh"
}

@test "ip_in_cidr: IPv4 and IPv6 inside and outside, across nibble boundaries" {
  # "run !": bats does not fail a test on a plain "! cmd".
  ip_in_cidr 192.168.195.201 192.168.0.0/16
  run ! ip_in_cidr 192.169.0.1 192.168.0.0/16
  run ! ip_in_cidr 10.96.45.12 192.168.0.0/16
  ip_in_cidr 10.0.0.1 0.0.0.0/0
  ip_in_cidr fd00:10:244:2893:e83c:c9a6:7f8b:bb81 fd00:10:244::/48
  run ! ip_in_cidr fd00:10:245::1 fd00:10:244::/48
  ip_in_cidr fd00:10:96::abcd fd00:10:96::/112
  run ! ip_in_cidr fd00:10:96::1:abcd fd00:10:96::/112
  ip_in_cidr fd00:10:245::1 fd00:10:244::/47
  run ! ip_in_cidr fd00:10:246::1 fd00:10:244::/47
  # Never across families.
  run ! ip_in_cidr 192.168.0.1 fd00:10:244::/48
  run ! ip_in_cidr fd00:10:244::1 192.168.0.0/16
}

@test "ipv6_expand: compressed forms, and garbage refused" {
  assert_equal "$(ipv6_expand fd00:10:244::1:5)" fd000010024400000000000000010005
  assert_equal "$(ipv6_expand ::)" 00000000000000000000000000000000
  assert_equal "$(ipv6_expand FD00:0:0:0:0:0:0:1)" fd000000000000000000000000000001
  run ! ipv6_expand fd00::1::2
  run ! ipv6_expand fd00:zz::1
  run ! ipv6_expand 1:2:3
}

@test "dist_ippools reads name, cidr, natOutgoing and vxlanMode of each IPPool, nothing else" {
  run dist_ippools "$LAB_PROJECT_DIR/dist"
  assert_success
  assert_output "default-ipv4-ippool	192.168.0.0/16	true	CrossSubnet
default-ipv6-ippool	fd00:10:244::/48	true	Always"
}

@test "dist_ippools: quoted values, several files, no files" {
  local d=$BATS_TEST_TMPDIR/dist
  mkdir -p "$d"
  printf 'apiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata:\n  name: "p6"\nspec:\n  cidr: "fd00:1::/48"\n  natOutgoing: true\n  vxlanMode: Always\n' >"$d/b.k8s.yaml"
  printf 'kind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  cidr: 1.2.3.0/24\n' >"$d/a.k8s.yaml"
  run dist_ippools "$d"
  assert_output "p6	fd00:1::/48	true	Always"
  run dist_ippools "$BATS_TEST_TMPDIR/none"
  assert_success
  assert_output ""
}

@test "the kind config's name: is the cluster name" {
  run yaml_top_scalar "$LAB_PROJECT_DIR/dist/kind/cluster.yaml" name
  assert_output ipv6-lab
  run yaml_top_scalar "$BATS_TEST_TMPDIR/missing.yaml" name
  assert_output ""
}

# The kubectl stub replays fixtures/cluster/*.txt; this proves those texts are
# what verify's jsonpath templates make of real API objects (fixtures/json).
@test "kubectl templates render the JSON fixtures into the replayed texts" {
  command -v kubectl >/dev/null || skip_or_fail_in_ci "no real kubectl to render jsonpath with"
  local fx=$BATS_TEST_DIRNAME/fixtures
  render() { kubectl label --local -f "$1" lab-test=render -o jsonpath="$2"; }
  assert_equal "$(render "$fx/json/nodes.json" "$Q_NODE")" "$(cat "$fx/cluster/nodes.txt")"
  assert_equal "$(render "$fx/json/pods.json" "$Q_POD")" "$(cat "$fx/cluster/pods.txt")"
  local f
  for f in ippool-default-ipv4-ippool ippool-default-ipv6-ippool; do
    assert_equal "$(render "$fx/json/$f.json" "$Q_IPPOOL")" "$(cat "$fx/cluster/$f.txt")"
  done
  for f in service-multitool-dual-stack service-multitool-ipv6-only; do
    assert_equal "$(render "$fx/json/$f.json" "$Q_SERVICE")" "$(cat "$fx/cluster/$f.txt")"
  done
}
