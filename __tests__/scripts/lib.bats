#!/usr/bin/env bats
# scripts/lib: address arithmetic, reading dist/, and the kubectl templates.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  export LAB_PROJECT_DIR=$REPO_ROOT
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

@test "lab_load_facts: one node call reads the defaults' facts; fact, fact_count, fact_list, fact_find, fact_has" {
  export LAB_FACTS_FILE=$DEFAULTS_DIST/lab/facts.json
  node() { echo "node $*" >>"$BATS_TEST_TMPDIR/node.calls"; command node "$@"; }
  lab_load_facts
  lab_load_facts # already read: no second call
  assert_equal "$(grep -c . "$BATS_TEST_TMPDIR/node.calls")" 1
  assert_equal "$(fact name)" ipv6-lab
  assert_equal "$(fact_count cluster.nodes)" 3
  assert_equal "$(fact cluster.nodes.2.name)" ipv6-lab-worker2
  assert_equal "$(fact calico.pools.1.cidr)" fd00:10:244::/48
  assert_equal "$(fact calico.bgp)" false
  assert_equal "$(fact_list families)" "IPv4 IPv6"
  assert_equal "$(fact_list workload.services.0.ipFamilies)" "IPv4 IPv6"
  assert_equal "$(fact_find calico.pools family IPv6)" 1
  run ! fact_find calico.pools family IPv5
  assert_equal "$(fact cluster.nodes.9.name)" ""
  assert_equal "$(fact_count nothing)" 0
  assert_equal "$(fact_or nothing here)" here
  fact_has calico
  fact_has calico.pools
  fact_has name
  run ! fact_has bgp
  run ! fact_has calico.pool
  # Multi-line values arrive whole.
  assert_equal "$(fact externalHost.nginxConfig | grep -c 'listen \[::\]:8080;')" 1
}

@test "lab-facts.js: values with quotes, dollars and newlines survive the shell; lists have lengths" {
  local d=$BATS_TEST_TMPDIR/odd
  mkdir -p "$d/lab"
  printf '%s\n' '{"factsVersion": 1, "name": "it'"'"'s $(exit 3) `x`", "list": ["a b", "c\nd"], "n": null, "t": true, "k": 7}' >"$d/lab/facts.json"
  export LAB_FACTS_FILE=$d/lab/facts.json
  lab_load_facts
  assert_equal "$(fact name)" 'it'"'"'s $(exit 3) `x`'
  assert_equal "$(fact_count list)" 2
  assert_equal "$(fact list.0)" "a b"
  assert_equal "$(fact list.1)" $'c\nd'
  assert_equal "$(fact n)" ""
  assert_equal "$(fact t)/$(fact k)" true/7
}

@test "lab-facts.js refuses what is not facts, or facts newer than the scripts, with one line" {
  local d=$BATS_TEST_TMPDIR/bad
  mkdir -p "$d"
  echo '{"factsVersion": 2, "name": "x"}' >"$d/new.json"
  run node "$REPO_ROOT/scripts/lab-facts.js" "$d/new.json"
  assert_failure 1
  assert_output "$d/new.json has factsVersion 2; these scripts read version 1 at most (a newer synth wrote it)"
  echo '{"factsVersion": 1,' >"$d/broken.json"
  run node "$REPO_ROOT/scripts/lab-facts.js" "$d/broken.json"
  assert_failure 1
  assert_output --regexp "^the lab's facts $d/broken.json are not valid JSON \("
  echo '[1]' >"$d/list.json"
  run node "$REPO_ROOT/scripts/lab-facts.js" "$d/list.json"
  assert_output "$d/list.json holds no lab facts (no factsVersion)"
  # The version it reads is the one synth writes.
  grep -F 'export const FACTS_VERSION = 1;' "$REPO_ROOT/lib/lab-facts.ts"
  grep -F 'const SUPPORTED_VERSION = 1;' "$REPO_ROOT/scripts/lab-facts.js"
}

@test "a dist without facts: lab_require_facts names the missing file and npm run synth" {
  local d=$BATS_TEST_TMPDIR/handmade
  cp -R "$DEFAULTS_DIST" "$d"
  rm -r "$d/lab"
  run env LAB_PROJECT_DIR="$BATS_TEST_TMPDIR" LAB_DIST_DIR="$d" bash -c 'source "$1"; lab_init_defaults; lab_require_facts; echo unreachable' _ "$REPO_ROOT/scripts/lib/common.sh"
  assert_failure 1
  assert_output "ERROR: no lab facts: $d/lab/facts.json does not exist; the scripts take the lab's names, nodes, pools, ports and Services from it (synth writes it beside the manifests)
  fix: LAB_DIST_DIR=$d npm run synth   (then run this again)"
  run env LAB_PROJECT_DIR="$BATS_TEST_TMPDIR" LAB_CONFIG=/dev/null bash -c 'source "$1"; lab_init_defaults; lab_require_facts' _ "$REPO_ROOT/scripts/lib/common.sh"
  assert_output --partial "fix: npm run synth   (then run this again)"
}

@test "lab_init_expectations: the environment first, then the facts" {
  local d=$BATS_TEST_TMPDIR/custom
  cp -R "$DEFAULTS_DIST" "$d"
  edit_facts "$d" 'f.calico.pools.forEach(p => p.natOutgoing = false); f.workload.services.forEach(s => s.port = 8081)'
  run env LAB_SVC_PORT=9999 LAB_PROJECT_DIR="$BATS_TEST_TMPDIR" LAB_DIST_DIR="$d" bash -c '
    source "$1"; lab_init_defaults
    echo "$LAB_SVC_PORT $LAB_APP_PORT $LAB_IPV4_NAT_OUTGOING $LAB_IPV6_NAT_OUTGOING $LAB_IPV6_BLOCK_SIZE $LAB_IPV6_POOL_BLOCK_SIZE $LAB_EXPECTATIONS_FROM"' _ "$REPO_ROOT/scripts/lib/common.sh"
  assert_output "9999 8080 false false 122 122 $d/lab/facts.json"
  run env LAB_PROJECT_DIR="$BATS_TEST_TMPDIR" LAB_DIST_DIR="$d" bash -c '
    source "$1"; lab_init_defaults
    echo "$LAB_SVC_PORT $LAB_SVC_DUAL_STACK $LAB_SVC_IPV6_ONLY $LAB_DAEMONSET $LAB_NAMESPACE $LAB_POD_SELECTOR $LAB_IPV4_VXLAN_MODE $LAB_IPV6_POOL_CIDR"' _ "$REPO_ROOT/scripts/lib/common.sh"
  assert_output "8081 multitool-dual-stack multitool-ipv6-only multitool default app=multitool CrossSubnet fd00:10:244::/48"
}

@test "the cluster name and the nodes come from the facts; LAB_CLUSTER_NAME renames the nodes as kind would" {
  local d=$BATS_TEST_TMPDIR/named
  cp -R "$DEFAULTS_DIST" "$d"
  edit_facts "$d" 'f.name = "lab-b"; f.cluster.nodes = [{name: "lab-b-control-plane", role: "control-plane"}, {name: "lab-b-worker", role: "worker"}]; f.externalHost.name = "lab-b-external"'
  nodes_of() { env LAB_PROJECT_DIR="$BATS_TEST_TMPDIR" LAB_DIST_DIR="$d" "$@" bash -c 'source "$1"; lab_init_defaults; echo "$LAB_CLUSTER_NAME $LAB_KUBECONFIG ${LAB_NODES[*]} $(lab_rebase_name "$(fact externalHost.name)")"' _ "$REPO_ROOT/scripts/lib/common.sh"; }
  assert_equal "$(nodes_of)" "lab-b $BATS_TEST_TMPDIR/lab-b.kubeconfig lab-b-control-plane lab-b-worker lab-b-external"
  assert_equal "$(nodes_of LAB_CLUSTER_NAME=mine)" "mine $BATS_TEST_TMPDIR/mine.kubeconfig mine-control-plane mine-worker mine-external"
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

# The kubectl stub replays fixtures/cluster/*.txt; this proves those texts are
# what the scripts' jsonpath templates make of real API objects (fixtures/json:
# the TigeraStatus objects are ../shared/calico/v3.28.5/kind/tigerastatus.yaml's;
# fixtures/json/drill/ and fixtures/drill/ are the drill's degraded states).
@test "kubectl templates render the JSON fixtures into the replayed texts" {
  command -v kubectl >/dev/null || skip_or_fail_in_ci "no real kubectl to render jsonpath with"
  local fx=$BATS_TEST_DIRNAME/fixtures
  render() { kubectl label --local -f "$1" lab-test=render -o jsonpath="$2"; }
  assert_equal "$(render "$fx/json/nodes.json" "$Q_NODE")" "$(cat "$fx/cluster/nodes.txt")"
  assert_equal "$(render "$fx/json/nodes.json" "$Q_NODE_NETWORK")" "$(cat "$fx/cluster/nodes-network.txt")"
  assert_equal "$(render "$fx/json/pods.json" "$Q_LAB_POD")" "$(cat "$fx/cluster/pods.txt")"
  assert_equal "$(render "$fx/json/pods.json" "$Q_POD")" "$(cut -d'|' -f1-3,5 "$fx/cluster/pods.txt")"
  assert_equal "$(render "$fx/json/calico-node-pods.json" "$Q_CALICO_NODE_READY")" "$(cat "$fx/cluster/calico-node-ready.txt")"
  assert_equal "$(render "$fx/json/daemonset-multitool.json" "$Q_DAEMONSET")" "$(cat "$fx/cluster/daemonset-multitool.txt")"
  local f
  for f in calico apiserver ippools; do
    assert_equal "$(render "$fx/json/tigerastatus-$f.json" "$Q_TIGERASTATUS")" "$(cat "$fx/cluster/tigerastatus-$f.txt")"
  done
  for f in ippool-default-ipv4-ippool ippool-default-ipv6-ippool; do
    assert_equal "$(render "$fx/json/$f.json" "$Q_IPPOOL")" "$(cat "$fx/cluster/$f.txt")"
  done
  for f in service-multitool-dual-stack service-multitool-ipv6-only; do
    assert_equal "$(render "$fx/json/$f.json" "$Q_SERVICE")" "$(cat "$fx/cluster/$f.txt")"
  done
  # deploy's re-use check reads kubeadm's stored ClusterConfiguration with kubectl's YAML parser.
  assert_equal "$(KUBECONFIG=$BATS_TEST_TMPDIR/no-kubeconfig kubectl label --local -f - lab-test=render -o jsonpath='{.networking.podSubnet}' \
    <"$fx/cluster/kubeadm-config-ClusterConfiguration.yaml")" "192.168.0.0/16,fd00:10:244::/48"
  # The drill's states.
  assert_equal "$(render "$fx/json/drill/calico-node-pods.json" "$Q_CALICO_NODE_READY")" "$(cat "$fx/drill/calico-node-errimagepull/calico-node-ready.txt")"
  assert_equal "$(render "$fx/json/drill/tigerastatus-calico.json" "$Q_TIGERASTATUS")" "$(cat "$fx/drill/tigerastatus-degraded/tigerastatus-calico.txt")"
  assert_equal "$(render "$fx/json/drill/nodes.json" "$Q_NODE_NETWORK")" "$(cat "$fx/drill/node-network-unavailable/nodes-network.txt")"
  assert_equal "$(render "$fx/json/drill/daemonset-multitool.json" "$Q_DAEMONSET")" "$(cat "$fx/drill/daemonset-2-of-3/daemonset-multitool.txt")"
  assert_equal "$(render "$fx/json/drill/pods.json" "$Q_LAB_POD")" "$(cat "$fx/drill/daemonset-2-of-3/pods.txt")"
}

@test "fixtures: the TigeraStatus JSON and the drill's degraded states are the real run's" {
  local kind=$REPO_ROOT/../shared/calico/v3.28.5/kind
  [[ -d "$kind" ]] || skip_or_fail_in_ci "no $kind"
  local fx=$BATS_TEST_DIRNAME/fixtures f
  for f in calico apiserver ippools; do
    assert_equal "$(node -e 'const f = require(process.argv[1]); process.stdout.write(JSON.stringify(f))' "$fx/json/tigerastatus-$f.json")" \
      "$(node -e 'const y = require(process.argv[2]); const l = y.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        process.stdout.write(JSON.stringify(l.items.find(i => i.metadata.name === process.argv[3])))' "$kind/tigerastatus.yaml" "$REPO_ROOT/node_modules/yaml" "$f")"
  done
  local drill=$kind/drill-calico-node-image-removed.txt
  grep -F "Degraded=True $(sed -n 's/^Degraded|True|//p' "$fx/drill/tigerastatus-degraded/tigerastatus-calico.txt")" "$drill"
  grep -E "^calico-node-k4b7k +0/1 +ErrImagePull .* ipv6-lab-worker2 " "$drill"
  grep -E "^calico-node-k4b7k +0/1 +ImagePullBackOff .* ipv6-lab-worker2 " "$drill"
  grep -F "NetworkUnavailable=True CalicoIsDown" "$drill"
  grep -F '"key":"node.kubernetes.io/network-unavailable"' "$drill"
  grep -E "^multitool +2 +2 +2 " "$drill"
}

# --- verify's plan (scripts/lib/verify-plan.sh) -------------------------------------------

# plan_run BODY: BODY in a shell with the plan functions, as verify runs them.
plan_run() {
  run bash -c 'set -euo pipefail; source "$1"; source "$2"; eval "$3"' _ \
    "$REPO_ROOT/scripts/lib/common.sh" "$REPO_ROOT/scripts/lib/verify-plan.sh" "$1"
}

@test "plan: a planned check that never reports is a FAIL, 'did not run'; the count is the plan's" {
  plan_run 'plan_check a "A holds"; plan_check b "B holds"; plan_check c "C holds"
    pass a "A holds (seen)"; skip c "C holds: nothing to look at"; plan_finish; echo "failures=$PLAN_FAILURES"'
  assert_success
  assert_line "PASS  A holds (seen)"
  assert_line "FAIL  B holds: did not run (verify.sh bug: its check never reported)"
  assert_line "3 checks, 1 failed, 1 skipped"
  assert_line "failures=1"
}

@test "plan: reporting an unplanned id, or one id twice, fails loudly and counts" {
  plan_run 'plan_check a "A holds"; pass a "A"; fail zz "Z"; pass a "A again"; plan_finish; echo "failures=$PLAN_FAILURES"'
  assert_line "FAIL  verify.sh bug: reported check zz, which is not in the plan"
  assert_line "FAIL  verify.sh bug: check a reported twice (PASS, then PASS)"
  assert_line "1 checks, 2 failed"
  assert_line "failures=2"
  plan_run 'plan_check a "A"; plan_check a "A"'
  assert_failure 255
  assert_output "verify.sh bug: check a is planned twice"
}

@test "plan: sections run in registration order; plan_print aligns ids; skip_unreported skips the rest with a reason" {
  plan_run 'plan_one() { plan_check first "the first"; }; plan_two() { plan_check second/long-id "the second"; }
    verify_section one; verify_section two; verify_section one; plan_build; plan_print /x/facts.json
    fail first "the first: no"; skip_unreported "no API server to ask"; plan_finish'
  assert_line --index 0 "Plan: 2 checks, from /x/facts.json"
  assert_line --index 1 "  first           the first"
  assert_line --index 2 "  second/long-id  the second"
  assert_line "SKIP  the second: no API server to ask"
  assert_line "2 checks, 1 failed, 1 skipped"
}

@test "variants: hooks run for the active variants only, in their order; a missing hook is skipped" {
  source "$REPO_ROOT/scripts/lib/variants.sh"
  bgp_after_cluster() { echo "bgp after_cluster $*"; }
  policy_after_cluster() { echo "policy after_cluster $*"; }
  ipv6only_after_cluster() { echo "ipv6only after_cluster $*"; }
  LAB_VARIANTS=(bgp policy)
  run variant_hooks after_cluster x
  assert_success
  assert_output $'bgp after_cluster x\npolicy after_cluster x'
  run variant_hooks no_such_hook
  assert_success
  assert_output ""
  variant_active policy
  run ! variant_active ipv6only
  # shellcheck disable=SC2034 # read by variant_hooks
  LAB_VARIANTS=()
  run variant_hooks after_cluster
  assert_output ""
}

@test "variants: the default lab's facts turn none on; routing and families come from the facts" {
  run env -u LAB_CONFIG LAB_PROJECT_DIR="$REPO_ROOT" LAB_DIST_DIR="$DEFAULTS_DIST" bash -c '
    source "$1/scripts/lib/common.sh"
    lab_init_defaults
    source "$1/scripts/lib/variants.sh"
    lab_load_variants
    echo "variants=${#LAB_VARIANTS[@]} routing=$(lab_routing) families=$(lab_families)"
    lab_has_family IPv4 && ! lab_has_family IPv5 && echo has-ok' _ "$REPO_ROOT"
  assert_success
  assert_output $'variants=0 routing=vxlan families=IPv4 IPv6\nhas-ok'
}

@test "run_within: the output on success; on failure its last lines and the fix; past the bound 'did not finish' and the setting to raise" {
  run bash -c 'source "$1/scripts/lib/common.sh"; run_within 5 LAB_X "echo" "fix it" echo hello; echo "got: $RUN_OUT"' _ "$REPO_ROOT"
  assert_success
  assert_output "got: hello"
  run bash -c 'source "$1/scripts/lib/common.sh"; run_within 5 LAB_X "the copy" "check the disk" sh -c "echo no space left >&2; exit 3"' _ "$REPO_ROOT"
  assert_failure
  assert_line "    no space left"
  assert_line "ERROR: the copy failed (output above)"
  assert_line "  fix: check the disk"
  run bash -c 'source "$1/scripts/lib/common.sh"; run_within 1 LAB_X "the pull" "pull it by hand" sleep 30' _ "$REPO_ROOT"
  assert_failure
  assert_line "ERROR: the pull did not finish within 1s"
  assert_line "  fix: pull it by hand, or raise LAB_X, then ./deploy.sh again"
}
