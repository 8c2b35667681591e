#!/usr/bin/env bats
# explain.sh on the routing "bgp" lab (scripts/lib/explain-bgp.sh), against the stubs: the source node's
# routes under BIRD (fixtures/bgp/cluster/node/ipv6-lab-control-plane: the real FRR run's node table in the
# shape BIRD programs it, see fixtures/bgp/README.md), the router's real vtysh answers, and a real capture of
# a pod-to-pod IPv6 ping on a node's eth0.

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
  EXPLAIN=$REPO_ROOT/explain.sh
  NODE_FX=$STUB_STATE/cluster/node/ipv6-lab-control-plane
}

@test "bgp explain: per family, no tunnel, the BIRD route via the peer node's own address, the router's view" {
  run "$EXPLAIN"
  assert_success
  assert_line "==================== IPv4: multitool-xp9c5 -> multitool-hmbcg (routing: bgp) ===================="
  assert_line "     (no VXLAN device)"
  assert_line "        so the pods' MTU is the link's: 1500 (/var/lib/calico/mtu; the VXLAN lab's pods get 1430)."
  assert_line "     192.168.217.0/26 via 172.18.0.3 dev eth0 proto bird "
  assert_line "     -> next hop 172.18.0.3: ipv6-lab-worker's own IPv4 address, on eth0, the link all nodes share: one hop, no tunnel."
  assert_line "==================== IPv6: multitool-xp9c5 -> multitool-hmbcg (routing: bgp) ===================="
  assert_line "     fd00:10:244:1168:5560:68e4:6df7:2c40/122 via fc00:f853:ccd:e793::3 dev eth0 proto bird metric 1024 pref medium"
  assert_line "     fd00:10:244:d01c:d569:d420:c640:6200/122 via fc00:f853:ccd:e793::4 dev eth0 proto bird metric 1024 pref medium"
  assert_line "     blackhole fd00:10:244:2893:e83c:c9a6:7f8b:bb80/122 dev lo proto bird metric 1024 pref medium"
  assert_line "     -> next hop fc00:f853:ccd:e793::3: ipv6-lab-worker's own IPv6 address, on eth0, the link all nodes share: one hop, no tunnel."
  assert_line "3. The router ipv6-lab-router (AS 65000) peers with every node   (docker exec ipv6-lab-router vtysh -c 'show bgp ipv6 unicast summary')"
  assert_line "     *fc00:f853:ccd:e793::3 4      64512         6         3        0    0    0 00:00:02            4        0 N/A"
  assert_line "   Its table   (docker exec ipv6-lab-router vtysh -c 'show bgp ipv6 unicast')"
  assert_line "So: fd00:10:244:2893:e83c:c9a6:7f8b:bb81 -> eth0 of ipv6-lab-control-plane -> fc00:f853:ccd:e793::3 (ipv6-lab-worker) -> fd00:10:244:1168:5560:68e4:6df7:2c41, as it is, no encapsulation;"
  refute_output --partial MISMATCH
  refute_output --partial "vxlan.calico"
  assert_calls_in_order \
    "docker exec ipv6-lab-control-plane ip -d link show type vxlan" \
    "docker exec ipv6-lab-control-plane ip route" \
    "docker exec ipv6-lab-router vtysh -c show bgp ipv4 unicast summary" \
    "docker exec ipv6-lab-router vtysh -c show bgp ipv4 unicast" \
    "docker exec ipv6-lab-control-plane ip -d link show type vxlan" \
    "docker exec ipv6-lab-control-plane ip -6 route" \
    "docker exec ipv6-lab-router vtysh -c show bgp ipv6 unicast summary" \
    "docker exec ipv6-lab-router vtysh -c show bgp ipv6 unicast"
  refute_call "docker run"
}

@test "bgp explain --capture: the pods' own IPv6 packet on the node's eth0, no UDP 4789" {
  run "$EXPLAIN" --capture
  assert_success
  local image
  image=$(facts_value "$PROJECT/dist" f.workload.daemonSet.image)
  assert_calls_in_order \
    "docker run --rm --network container:ipv6-lab-control-plane ${image} timeout 15 tcpdump -n -p -i eth0 -c 2 ip6 and host fd00:10:244:1168:5560:68e4:6df7:2c41" \
    "kubectl exec -n default multitool-xp9c5 -- ping -6 -c 2 -W 2 fd00:10:244:1168:5560:68e4:6df7:2c41"
  assert_line --regexp '^     [0-9:.]+ IP6 fd00:10:244:2893:e83c:c9a6:7f8b:bb81 > fd00:10:244:1168:5560:68e4:6df7:2c41: ICMP6, echo request, id [0-9]+, seq 1, length 64$'
  assert_line "     -> the pods' own IPv6 packet, fd00:10:244:2893:e83c:c9a6:7f8b:bb81 -> fd00:10:244:1168:5560:68e4:6df7:2c41, is on ipv6-lab-control-plane's eth0 as it left the pod:"
  refute_output --partial MISMATCH
}

@test "bgp explain --capture: VXLAN on the wire is called out" {
  # The VXLAN lab's real capture (fixtures/cluster): what a pool still encapsulating would show.
  cp "$FIXTURES/cluster/node/ipv6-lab-control-plane/tcpdump.txt" "$NODE_FX/tcpdump.txt"
  run "$EXPLAIN" --capture
  assert_success
  assert_line "     -> MISMATCH: VXLAN (UDP 4789) on the wire: some pool still encapsulates."
}

@test "bgp explain: a missing route to the peer's block says what to look at" {
  grep -v '^192.168.217.0/26 ' "$NODE_FX/ip_route.txt" >"$NODE_FX/ip_route.txt.new"
  mv "$NODE_FX/ip_route.txt.new" "$NODE_FX/ip_route.txt"
  run "$EXPLAIN"
  assert_success
  assert_line "     (no route holds 192.168.217.1)"
  assert_line "        peer with ipv6-lab-control-plane? kubectl get caliconodestatus ipv6-lab-control-plane -o yaml"
}

@test "bgp explain: a VXLAN device on the node, or a route via it, is a MISMATCH" {
  cp "$BGP_FIXTURES/broken/vxlan-device/node/ipv6-lab-worker/ip_-d_link_show_type_vxlan.txt" "$NODE_FX/ip_-d_link_show_type_vxlan.txt"
  sed -i 's|^192.168.217.0/26 via 172.18.0.3 dev eth0 proto bird $|192.168.217.0/26 via 192.168.217.0 dev vxlan.calico onlink |' "$NODE_FX/ip_route.txt"
  run "$EXPLAIN"
  assert_success
  assert_line "     -> MISMATCH: routing bgp has no VXLAN; a pool with vxlanMode other than Never made Felix create vxlan.calico."
  assert_line "     -> not a BIRD route (no 'proto bird'): under routing bgp the peer's block comes from BGP."
  assert_line "     -> MISMATCH: expected via ipv6-lab-worker's own IPv4 address 172.18.0.3 on eth0, got via 192.168.217.0 dev vxlan.calico."
}

@test "bgp explain: without the router, its screen says so and the rest still explains" {
  rm "$STUB_STATE/cluster/node/$ROUTER"/vtysh_*
  run "$EXPLAIN"
  assert_success
  assert_line --regexp "^     \(no answer from ipv6-lab-router: docker stub: no fixture node/ipv6-lab-router/vtysh_-c_show_bgp_ipv6_unicast_summary.txt .*\)$"
  assert_line "     fd00:10:244:1168:5560:68e4:6df7:2c40/122 via fc00:f853:ccd:e793::3 dev eth0 proto bird metric 1024 pref medium"
}

@test "bgp docs: docs/bgp.md's explain sample is the end of explain.sh --capture's output on the stubs" {
  # As after ./deploy.sh, whose image preloading left the multitool image on the host.
  export STUB_HOST_IMAGES=present
  local sample
  sample=$(doc_sample "explain.sh --capture")
  [[ -n "$sample" ]] || fail "docs/bgp.md has no explain sample"
  run "$EXPLAIN" --capture
  assert_success
  [[ "$output" == *"$sample" ]] || fail "docs/bgp.md's explain sample is not the end of explain.sh's output:
$output"
}
