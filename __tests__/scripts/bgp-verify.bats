#!/usr/bin/env bats
# verify.sh on the routing "bgp" lab (scripts/lib/checks-bgp.sh), against the stubs: the healthy lab and
# broken states, always with the same number of checks.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  load helpers/bgp
  bgp_setup_file
}

setup() {
  load helpers/lab
  load helpers/bgp
  bgp_setup
  cluster_exists_already
  echo "apiVersion: v1" >"$PROJECT/ipv6-lab.kubeconfig"
  bgp_router_running
  VERIFY=$REPO_ROOT/verify.sh
}

# failed_checks: the FAIL lines of the last run, without their investigate lines.
failed_checks() { grep '^FAIL  ' <<<"$output" || true; }

@test "bgp verify: the healthy lab passes its 67 checks; the VXLAN tunnel checks skip, saying why" {
  run "$VERIFY"
  assert_success
  assert_output --partial "67 checks, 0 failed, 2 skipped"
  assert_line "SKIP  vxlan.calico tunnels from the node's IPv4 address: pool default-ipv4-ippool has vxlanMode Never, so no VXLAN device"
  assert_line "SKIP  vxlan-v6.calico tunnels from the node's IPv6 address: pool default-ipv6-ippool has vxlanMode Never, so no VXLAN device"
  assert_line "PASS  router ipv6-lab-router runs quay.io/frrouting/frr:8.4.5 at 172.18.255.254 and fc00:f853:ccd:e793::fffe, with the dist's frr/ as it is"
  assert_line "PASS  node ipv6-lab-worker's IPv6 BGP sessions are Established: fc00:f853:ccd:e793::fffe (GlobalPeer) and fc00:f853:ccd:e793::2 fc00:f853:ccd:e793::4 (NodeMesh), as of 2026-12-02T06:02:21Z"
  assert_line "PASS  the router routes node ipv6-lab-worker's IPv6 block fd00:10:244:1168:5560:68e4:6df7:2c40/122 via fc00:f853:ccd:e793::3, ipv6-lab-worker's own IPv6 address"
  assert_line "PASS  the router routes the Service range fd00:10:96::/112 via every node: fc00:f853:ccd:e793::2 fc00:f853:ccd:e793::3 fc00:f853:ccd:e793::4"
  assert_line "PASS  the router reaches multitool-hmbcg on ipv6-lab-worker at http://[fd00:10:244:1168:5560:68e4:6df7:2c41]:8080/: answered over IPv6, client fc00:f853:ccd:e793::fffe, the router's own address"
  assert_line "PASS  node ipv6-lab-worker2 has no VXLAN device: pod packets leave it as they are"
  # No encapsulation: the pods get the link's MTU (Felix v3.28.5 determinePodMTU: no encap enabled, the host's).
  assert_line "PASS  pod eth0 MTU in multitool-xp9c5 is 1500, as Calico's /var/lib/calico/mtu on ipv6-lab-control-plane says"
  # What it asked: Calico itself (CalicoNodeStatus, BlockAffinities) and the router (vtysh, busybox wget).
  assert_calls_in_order \
    "kubectl get caliconodestatuses.crd.projectcalico.org -o jsonpath=" \
    "docker exec ipv6-lab-router vtysh -c show bgp ipv4 unicast json" \
    "docker exec ipv6-lab-router vtysh -c show bgp ipv6 unicast json" \
    "kubectl get blockaffinities.crd.projectcalico.org" \
    "docker exec ipv6-lab-router wget -q -O - -T 5 http://192.168.40.129:8080/" \
    "kubectl exec -n calico-system calico-node-7hx2m -c calico-node -- ip -d link show type vxlan"
}

@test "bgp verify --plan: 24 checks of the variant after the core's 43, from the facts alone" {
  run "$VERIFY" --plan
  assert_success
  assert_line "Plan: 67 checks, from $PROJECT/dist/lab/facts.json"
  assert_equal "$(grep -cE '^  (router|bgp-sessions/|router-route/|router-service/|router-pod/|no-vxlan/)' <<<"$output")" 24
  assert_equal "$(calls)" ""
}

@test "bgp verify --plan: an IPv6-only lab plans the variant's checks for IPv6 only" {
  synth_into "$PROJECT/dist" $'routing: bgp\nipFamilies: [IPv6]'
  run "$VERIFY" --plan
  assert_success
  # 1 router + per node (3): sessions, route, pod, no-vxlan over IPv6 + 1 Service range.
  assert_equal "$(grep -cE '^  (router|bgp-sessions/|router-route/|router-service/|router-pod/|no-vxlan/)' <<<"$output")" 14
  refute_output --regexp '^  (bgp-sessions|router-route|router-service|router-pod)/[^ ]*ipv4 '
  assert_line --regexp '^  router-service/ipv6 +the router routes the Service range fd00:10:96::/112 via every node$'
}

@test "bgp verify: a node's IPv6 session to the router down fails that check only, naming the peer and its state" {
  bgp_broken session-down-worker-ipv6
  run "$VERIFY"
  assert_failure 1
  assert_output --partial "67 checks, 1 failed, 2 skipped"
  assert_equal "$(failed_checks)" "FAIL  node ipv6-lab-worker's IPv6 BGP sessions are Established: the router fc00:f853:ccd:e793::fffe and the 2 other nodes (CalicoNodeStatus): fc00:f853:ccd:e793::fffe Active (GlobalPeer) (CalicoNodeStatus ipv6-lab-worker, as of 2026-12-02T06:02:21Z)"
  assert_output --partial "investigate: kubectl get caliconodestatus ipv6-lab-worker -o yaml; docker exec ipv6-lab-router vtysh -c 'show bgp summary'"
  # The router still routes worker's block: the other nodes pass it on with worker as next hop.
  assert_line "PASS  the router routes node ipv6-lab-worker's IPv6 block fd00:10:244:1168:5560:68e4:6df7:2c40/122 via fc00:f853:ccd:e793::3, ipv6-lab-worker's own IPv6 address"
}

@test "bgp verify: a block missing from the router's table fails that node's route check" {
  bgp_broken block-missing
  run "$VERIFY"
  assert_failure 1
  assert_output --partial "67 checks, 1 failed, 2 skipped"
  assert_equal "$(failed_checks)" "FAIL  the router routes node ipv6-lab-worker's IPv4 blocks via ipv6-lab-worker's own IPv4 address: 192.168.217.0/26 is not in the router's table"
}

@test "bgp verify: IPv6 routes via link-local next hops (the router without prefer-global, a real FRR run) fail the IPv6 route checks" {
  bgp_broken wrong-next-hop
  run "$VERIFY"
  assert_failure 4
  assert_output --partial "67 checks, 4 failed, 2 skipped"
  assert_line --regexp "^FAIL  the router routes node ipv6-lab-worker's IPv6 blocks via ipv6-lab-worker's own IPv6 address: fd00:10:244:1168:5560:68e4:6df7:2c40/122 goes via fe80::[0-9a-f:]+, not ipv6-lab-worker's fc00:f853:ccd:e793::3$"
  assert_line --regexp "^FAIL  the router routes the Service range fd00:10:96::/112 via every node: no path via ipv6-lab-control-plane \(fc00:f853:ccd:e793::2\), ipv6-lab-worker \(fc00:f853:ccd:e793::3\), ipv6-lab-worker2 \(fc00:f853:ccd:e793::4\)$"
  assert_line "PASS  the router routes node ipv6-lab-worker's IPv4 block 192.168.217.0/26 via 172.18.0.3, ipv6-lab-worker's own IPv4 address"
}

@test "bgp verify: a VXLAN device on a node fails its no-vxlan check, naming it" {
  bgp_broken vxlan-device
  run "$VERIFY"
  assert_failure 1
  assert_output --partial "67 checks, 1 failed, 2 skipped"
  assert_equal "$(failed_checks)" "FAIL  node ipv6-lab-worker has no VXLAN device: it has vxlan.calico (a pool with vxlanMode other than Never, or Felix's leftovers)"
}

@test "bgp verify: no router fails once; what needs it skips, with the reason; same 67 checks" {
  rm "$STUB_STATE/cluster/docker/$ROUTER.inspect"
  run "$VERIFY"
  assert_failure 1
  assert_output --partial "67 checks, 1 failed, 16 skipped"
  assert_equal "$(failed_checks)" "FAIL  router ipv6-lab-router runs quay.io/frrouting/frr:8.4.5 at 172.18.255.254 and fc00:f853:ccd:e793::fffe, with the dist's frr/ as it is: there is no container ipv6-lab-router"
  assert_line "SKIP  the router routes node ipv6-lab-worker's IPv6 blocks via ipv6-lab-worker's own IPv6 address: the router is not running (above)"
  assert_line "SKIP  the router reaches the pod on ipv6-lab-worker2 over IPv4 and the pod sees 172.18.255.254: no NAT, no tunnel: the router is not running (above)"
  # The sessions are Calico's own view: still checked.
  assert_line --partial "PASS  node ipv6-lab-worker's IPv4 BGP sessions are Established"
}

@test "bgp verify: a router started from another frr.conf fails the router check, naming the file" {
  bgp_router_running "daemons=$(sha256sum "$PROJECT/dist/frr/daemons" | cut -d' ' -f1) frr.conf=0123456789abcdef0123 vtysh.conf=$(sha256sum "$PROJECT/dist/frr/vtysh.conf" | cut -d' ' -f1)"
  run "$VERIFY"
  assert_failure 1
  assert_output --partial "67 checks, 1 failed, 2 skipped"
  assert_line --regexp "^FAIL  router ipv6-lab-router .*: frr.conf: changed since the router started \(sha256 0123456789ab then, [0-9a-f]{12} now\): FRR still runs the old one$"
}

@test "bgp verify: a pod that sees another client than the router (NAT) fails, naming both" {
  echo "multitool-hmbcg answered over IPv4 on 192.168.217.1 port 8080 (client 172.18.0.6)" \
    >"$STUB_STATE/cluster/node/$ROUTER/$(key "wget -q -O - -T 5 http://192.168.217.1:8080/").txt"
  run "$VERIFY"
  assert_failure 1
  assert_equal "$(failed_checks)" "FAIL  the router reaches the pod on ipv6-lab-worker over IPv4 and the pod sees 172.18.255.254: no NAT, no tunnel: multitool-hmbcg at http://192.168.217.1:8080/ saw 172.18.0.6, not the router's 172.18.255.254: something translates the router's address on the way"
}

@test "bgp verify: no CalicoNodeStatus (not applied, or calico-node not reporting yet) fails every session check, saying which" {
  rm "$STUB_STATE/cluster/caliconodestatuses.txt"
  run "$VERIFY"
  assert_failure 6
  assert_output --partial "67 checks, 6 failed, 2 skipped"
  assert_line "FAIL  node ipv6-lab-worker's IPv4 BGP sessions are Established: the router 172.18.255.254 and the 2 other nodes (CalicoNodeStatus): no CalicoNodeStatus reports for ipv6-lab-worker"
  assert_output --partial "investigate: kubectl get caliconodestatus; ./deploy.sh applies one per node from $PROJECT/dist"
}

# The kubectl stub replays fixtures/bgp/cluster/caliconodestatuses.txt; this proves it is what
# Q_NODE_STATUS makes of the CalicoNodeStatus objects (fixtures/bgp/json, shaped as Calico v3.28.5 writes them).
@test "bgp fixtures: the CalicoNodeStatus template renders the JSON fixtures into the replayed texts" {
  local real
  real=$(PATH=/usr/local/bin:/usr/bin:/bin command -v kubectl) || skip_or_fail_in_ci "no real kubectl to render jsonpath with"
  source "$REPO_ROOT/scripts/lib/common.sh"
  source "$REPO_ROOT/scripts/lib/variant-bgp.sh"
  run "$real" label --local -f "$BGP_FIXTURES/json/caliconodestatuses.json" lab-test=render -o jsonpath="$Q_NODE_STATUS"
  assert_success
  assert_output "$(cat "$BGP_FIXTURES/cluster/caliconodestatuses.txt")"
  run "$real" label --local -f "$BGP_FIXTURES/json/caliconodestatuses-worker-ipv6-router-down.json" lab-test=render -o jsonpath="$Q_NODE_STATUS"
  assert_output "$(cat "$BGP_FIXTURES/broken/session-down-worker-ipv6/caliconodestatuses.txt")"
}

@test "bgp fixtures: frr-json.js reads FRR's real answers" {
  run node "$REPO_ROOT/scripts/frr-json.js" summary <"$BGP_FIXTURES/show-bgp-summary.json"
  assert_success
  assert_line "ipv4|172.18.0.3|Established|OK|4|0"
  assert_line "ipv6|fc00:f853:ccd:e793::4|Established|OK|4|0"
  assert_equal "${#lines[@]}" 6
  run node "$REPO_ROOT/scripts/frr-json.js" routes <"$BGP_FIXTURES/show-bgp-ipv4-unicast.json"
  assert_success
  # keepOriginalNextHop: the best path of worker's block, from whichever node, goes via worker.
  assert_line --regexp '^192\.168\.217\.0/26\|172\.18\.0\.[234]\|172\.18\.0\.3\|1\|0$'
  assert_equal "$(grep -c '^10\.96\.0\.0/16|' <<<"$output")" 3
  run node "$REPO_ROOT/scripts/frr-json.js" routes <<<"not json"
  assert_failure 1
  assert_output --partial "not FRR's JSON"
}

@test "bgp docs: docs/bgp.md's verify sample is the end of verify.sh's output on the stubs" {
  local sample
  sample=$(doc_sample verify.sh)
  [[ -n "$sample" ]] || fail "docs/bgp.md has no verify sample"
  run "$VERIFY"
  assert_success
  [[ "$output" == *"$sample" ]] || fail "docs/bgp.md's verify sample is not the end of verify.sh's output:
$output"
}
