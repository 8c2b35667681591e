#!/usr/bin/env bats
# verify.sh with the network-policy lesson on (scripts/lib/checks-policy.sh).
# The stubs replay the real kind run's cluster (../shared/calico/v3.28.5/kind:
# pods multitool-hldd4, -x79cb, -xjh25; fixtures/policy/cluster/) and, for
# what crosses the subject pod's node (ipv6-lab-worker), the probes and the
# Felix filter tables of real runs in network namespaces
# (fixtures/policy/regenerate-verify.ts): healthy, a policy that wrongly
# allows the external host's IPv4 (scenarios/wrong-allow), and a broken path
# from the external host (scenarios/broken). See fixtures/policy/README.md.

bats_require_minimum_version 1.5.0

load helpers/lab

setup_file() { lab_setup_file; }

setup() {
  lab_setup_deployed
  policy_lab
  VERIFY=$REPO_ROOT/verify.sh
}

# policy_lab [SCENARIO]: the project's dist/ is the synthesized `policy: on`
# lab; the stub cluster is that lab on the recorded cluster, in SCENARIO's state.
policy_lab() {
  synth_into "$PROJECT/dist" 'policy: on'
  cp -R "$FIXTURES/policy/cluster/." "$STUB_STATE/cluster/"
  [[ -z "${1:-}" ]] || cp -R "$FIXTURES/policy/scenarios/$1/." "$STUB_STATE/cluster/"
}

# matrix_ids: the facts' matrix rows, in order.
matrix_ids() { facts_value "$PROJECT/dist" 'f.policy.matrix.map(r => r.id).join("\n")'; }

# row_line ID: verify's result line of matrix row ID.
row_line() { grep -E "^(PASS|FAIL|SKIP)  $1: " <<<"$output"; }

# assert_rows STATE: every row's line is PASS but those named FAIL in the
# arguments after it (ID=PATTERN: that row FAILs, its line matching PATTERN).
assert_rows() {
  local id line want
  local -A failing=()
  for want in "$@"; do failing[${want%%=*}]=${want#*=}; done
  while read -r id; do
    line=$(row_line "$id") || fail "no result line for matrix row ${id}"
    if [[ -n "${failing[$id]+x}" ]]; then
      [[ "$line" == "FAIL  ${id}: "* && "$line" =~ ${failing[$id]} ]] || fail "row ${id}: want FAIL matching '${failing[$id]}', got: ${line}"
    else
      [[ "$line" == "PASS  ${id}: "* ]] || fail "row ${id}: want PASS, got: ${line}"
    fi
  done < <(matrix_ids)
}

@test "policy verify: the plan adds the lesson's checks to the core's, from the facts alone: the external host, 5 policies, one per matrix row" {
  run "$VERIFY" --plan
  assert_success
  local rows
  rows=$(facts_value "$PROJECT/dist" f.policy.matrix.length)
  assert_equal "$rows" 22
  assert_line "Plan: 71 checks, from ${PROJECT}/dist/lab/facts.json"
  assert_line --regexp '^  policy/external-host +the external host ipv6-lab-external runs at the lesson.s fixed 172\.18\.255\.250 and fc00:f853:ccd:e793:ffff::fa$'
  assert_line --regexp '^  policy-object/allow-ping +projectcalico\.org/v3 NetworkPolicy default/allow-ping is in place \(Calico: default/allow-ping, order 100\)$'
  assert_line --regexp '^  policy/external-http-ipv4 +the external host ipv6-lab-external -> a multitool pod over IPv4, TCP 8080: denied \(default-deny ingress\)$'
  [[ "$(grep -c '^  policy/' <<<"$output")" == $((rows + 1)) ]] || fail "want ${rows} matrix checks and the external host's"
  [[ "$(grep -c '^  policy-object/' <<<"$output")" == 5 ]] || fail "want 5 policy-object checks"
  refute_call "kubectl"
}

@test "policy verify: healthy: every check passes, the core's too (DNS, egress to the external host, the MTU ping under the default deny)" {
  run "$VERIFY"
  assert_success
  assert_line "71 checks, 0 failed"
  refute_line --partial "FAIL"
  # The core's checks that a default deny would break, allowed by the lesson.
  assert_line "PASS  DNS: multitool-dual-stack.default.svc.cluster.local -> A 10.96.200.125, AAAA fd00:10:96::e45a"
  assert_line "PASS  egress over IPv4 to the external host ipv6-lab-external http://172.18.255.250:8080/: seen from node ipv6-lab-control-plane 172.18.0.2, not pod 192.168.195.195 (natOutgoing: true)"
  assert_line --regexp "^PASS  don't-fragment IPv6 ping across nodes fits the MTU"
  assert_line "PASS  the external host ipv6-lab-external runs at the lesson's fixed 172.18.255.250 and fc00:f853:ccd:e793:ffff::fa (eth0: 172.18.0.5/16 172.18.255.250/32 fc00:f853:ccd:e793:ffff::fa/64)"
  assert_line "PASS  projectcalico.org/v3 NetworkPolicy default/allow-ping: order 100, types Ingress Egress (served by the Calico API server)"
  # Denied: a timeout, and Felix's drop counter of the deciding endpoint chain moved.
  assert_line "PASS  external-http-ipv4: the external host ipv6-lab-external -> a multitool pod over IPv4, TCP 8080: denied (default-deny ingress): timed out after 3s, dropped by policy: \"Drop if no policies passed packet\" in cali-tw-calia2764010265 on ipv6-lab-worker counted +3; policy/external-http-ipv6 on the same path answers"
  assert_line --regexp '^PASS  pod-closed-port-ipv6: .*"Drop if no policies passed packet" in cali-fw-calia2764010265 on ipv6-lab-worker counted \+3; policy/pod-http-ipv6 on the same path answers$'
  assert_line --regexp '^PASS  ping-external-ipv4: .*: 1 received; while TCP 8080 on the same path is denied \(policy/external-http-ipv4\): a ping proves nothing about TCP$'
  assert_line --regexp '^PASS  external-http-ipv6: .*\(client fc00:f853:ccd:e793:ffff::fa\)$'
  assert_line "PASS  neighbour-ipv6: a multitool pod -> the pod's node (its Calico gateway) over IPv6, ICMPv6: allowed (cali-wl-to-host egress): multitool-x79cb keeps its gateway: fe80::ecee:eeff:feee:eeee lladdr ee:ee:ee:ee:ee:ee router REACHABLE"
  # The counters come from the calico-node pod of the subject pod's node, before and after each denied probe.
  assert_calls_in_order \
    "kubectl exec -n calico-system calico-node-78zhj -c calico-node -- iptables-nft-save -c -t filter" \
    "docker exec ipv6-lab-external curl -g -sS --max-time 3 http://192.168.106.130:8080/" \
    "kubectl exec -n calico-system calico-node-78zhj -c calico-node -- iptables-nft-save -c -t filter"
  [[ "$(grep -c -- '-save -c -t filter' "$STUB_LOG")" == 8 ]] || fail "want 2 table reads per denied row"
}

# The table test: the matrix (from the facts) drives verify; each state has the same checks.
@test "policy verify, matrix table: healthy -> every row PASSes" {
  run "$VERIFY"
  assert_success
  assert_rows
}

@test "policy verify, matrix table: a policy that wrongly allows the external host's IPv4 -> that row FAILs, naming it; the rest PASS, same count" {
  policy_lab wrong-allow
  run "$VERIFY"
  assert_failure 1
  assert_line "71 checks, 1 failed"
  assert_rows "external-http-ipv4=answered \\(multitool-x79cb answered over IPv4 on 192\\.168\\.106\\.130 port 8080 \\(client 172\\.18\\.255\\.250\\)\\): the policies allow what the lesson denies"
  assert_line "      investigate: kubectl get networkpolicies -n default -o yaml; ./explain.sh"
}

@test "policy verify, matrix table: a broken path from the external host (both families fail) -> its denied rows FAIL as broken, not denied; same count" {
  policy_lab broken
  run "$VERIFY"
  assert_failure 5
  assert_line "71 checks, 5 failed"
  assert_rows \
    "external-http-ipv6=unreachable: curl: \\(7\\) Failed to connect" \
    "external-http-ipv4=broken, not denied: timeout \\(curl: \\(28\\) Connection timed out after 3001 milliseconds\\), \"Drop if no policies passed packet\" in cali-tw-calia2764010265 on ipv6-lab-worker counted \\+0, and policy/external-http-ipv6 on the same path fails too" \
    "ping-external-ipv4=error: .*Destination Host Unreachable" \
    "ping-external-ipv6=error: .*100% packet loss" \
    "external-closed-port-ipv6=broken, not denied: .*counted \\+0, and policy/external-http-ipv6 on the same path fails too"
}

@test "policy verify: without Felix's counters a denied row leans on its control: PASS while the control answers, broken when it fails too" {
  rm -rf "$STUB_STATE/cluster/seq/policy-iptables-ipv6-lab-worker" "$STUB_STATE/cluster/seq/policy-ip6tables-ipv6-lab-worker"
  run "$VERIFY"
  assert_success
  assert_line --regexp '^PASS  external-http-ipv4: .*: timed out after 3s while policy/external-http-ipv6 on the same path answers \(Felix.s counters unread: no Calico chains in iptables-legacy-save on calico-node-78zhj: kubectl stub: no fixture for: .*\)$'
  policy_lab broken
  rm -rf "$STUB_STATE/cluster/seq/policy-iptables-ipv6-lab-worker" "$STUB_STATE/cluster/seq/policy-ip6tables-ipv6-lab-worker"
  run "$VERIFY"
  assert_failure 5
  assert_line --regexp '^FAIL  external-http-ipv4: .*: broken, not denied: timeout \(curl: \(28\) .*\); policy/external-http-ipv6 on the same path fails too and Felix.s counters unread \(no Calico chains in iptables-legacy-save'
}

@test "policy verify: a node whose Felix uses the legacy iptables backend is read with iptables-legacy-save" {
  sed -i 's/-nft-save/-legacy-save/' "$STUB_STATE"/cluster/seq/policy-ip*tables-ipv6-lab-worker/match
  run "$VERIFY"
  assert_success
  assert_calls_in_order \
    "kubectl exec -n calico-system calico-node-78zhj -c calico-node -- iptables-nft-save -c -t filter" \
    "kubectl exec -n calico-system calico-node-78zhj -c calico-node -- iptables-legacy-save -c -t filter"
  assert_line --regexp '^PASS  external-http-ipv4: .* counted \+3; '
}

@test "policy verify: a denied connection refused at once FAILs: the packet reached the pod, no policy dropped it" {
  # curl 8's own words for a refused connection (it no longer says "Connection refused"): a reset, at once.
  local f=$STUB_STATE/cluster/node/ipv6-lab-external/curl_-g_-sS_--max-time_3_http___192.168.106.130_8080_.txt
  echo "curl: (7) Failed to connect to 192.168.106.130 port 8080 after 0 ms: Couldn't connect to server" >"$f"
  echo 7 >"$f.rc"
  # Nothing dropped: the drop counter stays as it was across the probe.
  local seq=$STUB_STATE/cluster/seq/policy-iptables-ipv6-lab-worker
  cp "$seq/1.out" "$seq/2.out"
  cp "$seq/1.out" "$seq/3.out"
  run "$VERIFY"
  assert_failure 1
  assert_line --regexp '^FAIL  external-http-ipv4: .*: refused at once \(curl: \(7\) Failed to connect to 192\.168\.106\.130 port 8080 after 0 ms: Couldn.t connect to server\) while policy/external-http-ipv6 on the same path answers: something answered the SYN, so no policy dropped it \(Calico drops denied packets silently; they time out\); "Drop if no policies passed packet" in cali-tw-calia2764010265 on ipv6-lab-worker counted \+0$'
  assert_line "71 checks, 1 failed"
}

@test "policy verify: a pod whose IPv6 gateway neighbour FAILED fails the Neighbor Discovery row" {
  echo "fe80::ecee:eeff:feee:eeee router FAILED " >"$STUB_STATE/cluster/seq/policy-neigh-ipv6/1.out"
  run "$VERIFY"
  assert_failure 1
  assert_line --regexp "^FAIL  neighbour-ipv6: .*: multitool-x79cb's neighbour fe80::ecee:eeff:feee:eeee is FAILED "
  assert_line --regexp '^      investigate: kubectl exec -n default multitool-x79cb -- ip -6 neigh show dev eth0; ./explain.sh'
}

@test "policy verify: the external host not at the fixed addresses (started without the lesson): that check FAILs, its rows SKIP, same count" {
  echo "true|172.18.0.5|fc00:f853:ccd:e793::5" >"$STUB_STATE/cluster/docker/ipv6-lab-external.inspect"
  run "$VERIFY"
  assert_line "FAIL  the external host ipv6-lab-external runs at the lesson's fixed 172.18.255.250 and fc00:f853:ccd:e793:ffff::fa: it runs at fc00:f853:ccd:e793::5, not at the policy lesson's fc00:f853:ccd:e793:ffff::fa (started without the lesson)"
  assert_line --regexp '^SKIP  external-http-ipv4: .*: the external host is not usable \(policy/external-host: it runs at fc00:f853:ccd:e793::5'
  # The core's egress checks say the same.
  assert_line --regexp '^FAIL  the external host ipv6-lab-external is running on the Docker network kind \(it runs at fc00:f853:ccd:e793::5'
  assert_line --regexp '^71 checks, 2 failed, [0-9]+ skipped$'
}

@test "policy verify: policy/ never applied: the policies FAIL, saying what serves them" {
  mkdir -p "$STUB_STATE/cluster/seq/policy-calico-policy"
  echo 'Error from server (NotFound): networkpolicies.projectcalico.org "allow-ping" not found' >"$STUB_STATE/cluster/seq/policy-calico-policy/1.err"
  rm -f "$STUB_STATE/cluster/seq/policy-calico-policy/1.out"
  echo 1 >"$STUB_STATE/cluster/seq/policy-calico-policy/1.rc"
  : >"$STUB_STATE/cluster/seq/policy-k8s-policies/1.out"
  run "$VERIFY"
  assert_line "FAIL  projectcalico.org/v3 NetworkPolicy default/allow-ping is in place (Calico: default/allow-ping, order 100): Error from server (NotFound): networkpolicies.projectcalico.org \"allow-ping\" not found"
  assert_line "FAIL  networking.k8s.io/v1 NetworkPolicy default/default-deny is in place (Calico: default/knp.default.default-deny, order 1000): not found in namespace default"
  [[ "$(grep -c '^FAIL  .* is in place' <<<"$output")" == 5 ]] || fail "want the 5 policies to FAIL"
}

@test "policy verify: policy off: no policy section, no call for it, the core's 43 checks" {
  rm -rf "$PROJECT/dist"
  cp -R "$DEFAULTS_DIST" "$PROJECT/dist"
  run "$VERIFY" --plan
  assert_line "Plan: 43 checks, from ${PROJECT}/dist/lab/facts.json"
  refute_output --partial "policy"
  run "$VERIFY"
  refute_call "networkpolicies"
  refute_call "-save -c -t filter"
  refute_call "neigh"
}

@test "fixtures: a real kubectl renders the policy queries over the synthesized policy/ into the replayed texts" {
  local real dir=$PROJECT/dist/policy
  real=$(PATH=/usr/local/bin:/usr/bin:/bin command -v kubectl) || skip_or_fail_in_ci "no real kubectl to render jsonpath with"
  Q_K8S_POLICY=$(sed -n "s/^Q_K8S_POLICY='\(.*\)'$/\1/p" "$REPO_ROOT/scripts/lib/checks-policy.sh")
  Q_CALICO_POLICY=$(sed -n "s/^Q_CALICO_POLICY='\(.*\)'$/\1/p" "$REPO_ROOT/scripts/lib/variant-policy.sh")
  render() { "$real" label --local -f "$1" lab-test=render -o jsonpath="$2"; }
  assert_equal "$(render "$dir/0000-calico-policy.k8s.yaml" "$Q_CALICO_POLICY")" "$(cat "$FIXTURES/policy/cluster/seq/policy-calico-policy/1.out")"
  # The API server lists them sorted by name, as the file holds them.
  assert_equal "$(render "$dir/0001-network-policy.k8s.yaml" "$Q_K8S_POLICY")" "$(cat "$FIXTURES/policy/cluster/seq/policy-k8s-policies/1.out")"
}

@test "docs: docs/policy.md's verify samples are verify's output on the stubs (healthy, wrongly allowing, broken)" {
  local doc=$REPO_ROOT/docs/policy.md documented line
  documented=$(doc_block "$doc" "" "<!-- BEGIN verify sample")
  [[ -n "$documented" ]] || fail "docs/policy.md has no verify sample"
  run "$VERIFY"
  [[ "$output" == *"$documented"* ]] || fail "docs/policy.md's verify sample is not verify's output on the stubs:
$(diff <(printf '%s\n' "$documented") <(printf '%s\n' "$output") | head -40)"
  policy_lab wrong-allow
  run "$VERIFY"
  line=$(grep -m1 '^FAIL  external-http-ipv4: .*the policies allow what the lesson denies' "$doc") || fail "no wrongly-allowing sample in docs/policy.md"
  assert_line "$line"
  policy_lab broken
  run "$VERIFY"
  line=$(grep -m1 '^FAIL  external-http-ipv4: .*broken, not denied' "$doc") || fail "no broken sample in docs/policy.md"
  assert_line "$line"
}
