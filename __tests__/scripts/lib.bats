#!/usr/bin/env bats
# scripts/lib: address arithmetic, reading dist/, and the kubectl templates.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

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

@test "dist_ippools reads name, cidr, natOutgoing, vxlanMode and blockSize of each IPPool, nothing else" {
  run dist_ippools "$DEFAULTS_DIST"
  assert_success
  assert_output "default-ipv4-ippool	192.168.0.0/16	true	CrossSubnet	26
default-ipv6-ippool	fd00:10:244::/48	true	Always	122"
}

@test "dist_services and dist_daemonsets read what verify expects of the workload" {
  run dist_services "$DEFAULTS_DIST"
  assert_success
  assert_output "multitool-dual-stack	default	IPv4 IPv6	80	8080	app=multitool
multitool-ipv6-only	default	IPv6	80	8080	app=multitool"
  run dist_daemonsets "$DEFAULTS_DIST"
  assert_output "multitool	default	app=multitool	8080"
}

@test "yaml_flatten: nested maps, lists of maps and scalars, block scalars skipped, documents counted" {
  local f=$BATS_TEST_TMPDIR/x.yaml
  printf 'kind: A\nspec:\n  ports:\n    - name: http\n      port: 80\n    - port: 81\n  families:\n    - IPv4\n    - IPv6\ndata:\n  conf: |\n    port: 99\n  after: "x"\n---\nkind: B\n' >"$f"
  run yaml_flatten "$f"
  assert_output "$(printf '1\tkind\tA\n1\tspec.ports.0.name\thttp\n1\tspec.ports.0.port\t80\n1\tspec.ports.1.port\t81\n1\tspec.families.0\tIPv4\n1\tspec.families.1\tIPv6\n1\tdata.after\tx\n2\tkind\tB')"
}

@test "lab_init_expectations: environment first, then dist, then the defaults" {
  local d=$BATS_TEST_TMPDIR/custom
  cp -R "$DEFAULTS_DIST" "$d"
  sed -i 's/natOutgoing: true/natOutgoing: false/; s/port: 80$/port: 8081/' "$d"/*.k8s.yaml
  run env LAB_SVC_PORT=9999 LAB_PROJECT_DIR="$BATS_TEST_TMPDIR" LAB_DIST_DIR="$d" bash -c '
    source "$1"; lab_init_defaults
    echo "$LAB_SVC_PORT $LAB_APP_PORT $LAB_IPV4_NAT_OUTGOING $LAB_IPV6_NAT_OUTGOING $LAB_IPV6_BLOCK_SIZE $LAB_IPV6_POOL_BLOCK_SIZE $LAB_EXPECTATIONS_FROM"' _ "$REPO_ROOT/scripts/lib/common.sh"
  assert_output "9999 8080 false false 122 122 $d"
  run env LAB_PROJECT_DIR="$BATS_TEST_TMPDIR" LAB_DIST_DIR="$BATS_TEST_TMPDIR/none" bash -c '
    source "$1"; lab_init_defaults; echo "$LAB_SVC_PORT $LAB_IPV6_POOL_CIDR $LAB_EXPECTATIONS_FROM"' _ "$REPO_ROOT/scripts/lib/common.sh"
  assert_output "80 fd00:10:244::/48 defaults"
}

@test "the dist dir: dist/ for the defaults, .lab/dist/ under a lab config file, LAB_DIST_DIR wins" {
  local p=$BATS_TEST_TMPDIR/p
  mkdir -p "$p"
  dist_of() { env -u LAB_CONFIG -u LAB_DIST_DIR LAB_PROJECT_DIR="$p" "$@" bash -c 'source "$1"; lab_init_defaults; echo "$LAB_DIST_DIR"' _ "$REPO_ROOT/scripts/lib/common.sh"; }
  assert_equal "$(dist_of)" "$p/dist"
  assert_equal "$(dist_of LAB_CONFIG=/dev/null)" "$p/dist"
  assert_equal "$(dist_of LAB_CONFIG=/some/where.yaml)" "$p/.lab/dist"
  touch "$p/lab.config.yaml"
  assert_equal "$(dist_of)" "$p/.lab/dist"
  assert_equal "$(dist_of LAB_CONFIG=/dev/null)" "$p/dist"
  assert_equal "$(dist_of LAB_DIST_DIR=/x/y)" "/x/y"
}

@test "kubectl_skew_check warns beyond +/-1 minor, stays quiet within it (real version outputs)" {
  source "$REPO_ROOT/scripts/lib/kubectl-skew.sh"
  kubectl() { cat "$VERSION_JSON"; }
  VERSION_JSON=$FIXTURES/cluster/kubectl-version.json run kubectl_skew_check
  assert_success
  assert_output ""
  VERSION_JSON=$FIXTURES/kubectl-version-skewed.json run kubectl_skew_check
  assert_success
  assert_output --partial "WARNING: version difference between kubectl (1.32) and the lab's API server (1.28) exceeds the supported minor version skew of +/-1"
}

@test "dist_ippools: quoted values, several files, no files" {
  local d=$BATS_TEST_TMPDIR/dist
  mkdir -p "$d"
  printf 'apiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata:\n  name: "p6"\nspec:\n  cidr: "fd00:1::/48"\n  natOutgoing: true\n  vxlanMode: Always\n' >"$d/b.k8s.yaml"
  printf 'kind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  cidr: 1.2.3.0/24\n' >"$d/a.k8s.yaml"
  run dist_ippools "$d"
  assert_output "p6	fd00:1::/48	true	Always	"
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
