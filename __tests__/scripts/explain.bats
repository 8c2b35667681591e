#!/usr/bin/env bats
# explain.sh against stubs: kubectl replays the stub cluster, `docker exec NODE`
# replays what real Calico v3.28.5 programmed on node n1 of the dataplane run
# (fixtures/cluster/node/ipv6-lab-control-plane, from
# ../shared/calico/v3.28.5/dataplane/dataplane-n1.txt and tcpdump-v6-n1-n2.txt).

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup_deployed
  EXPLAIN=$REPO_ROOT/explain.sh
  NODE_FX=$STUB_STATE/cluster/node/ipv6-lab-control-plane
}

@test "explain: defaults: IPv4 goes direct (CrossSubnet), IPv6 through vxlan-v6.calico between the nodes' IPv6 addresses" {
  run "$EXPLAIN"
  assert_success
  assert_line "==================== IPv4: multitool-xp9c5 -> multitool-hmbcg ===================="
  assert_line "     vxlan.calico: VXLAN id 4096, UDP port 4789, MTU 1450, local 172.18.0.2"
  assert_line "     -> no tunnel: the block 192.168.217.0/26 goes straight to ipv6-lab-worker (172.18.0.3) over eth0, unencapsulated."
  assert_line "So: 192.168.40.129 -> eth0 of ipv6-lab-control-plane -> 172.18.0.3 (ipv6-lab-worker) -> 192.168.217.1, no encapsulation"
  assert_line "==================== IPv6: multitool-xp9c5 -> multitool-hmbcg ===================="
  assert_line "     vxlan-v6.calico: VXLAN id 4096, UDP port 4789, MTU 1430, local fc00:f853:ccd:e793::2"
  assert_line "     -> its outer packets leave from ipv6-lab-control-plane's own IPv6 address fc00:f853:ccd:e793::2."
  assert_line "        this live device shows it does not."
  assert_line "     fd00:10:244:1168:5560:68e4:6df7:2c40/122 via fd00:10:244:1168:5560:68e4:6df7:2c40 dev vxlan-v6.calico metric 1024 onlink pref medium"
  assert_line "     fd00:10:244:1168:5560:68e4:6df7:2c40 lladdr 66:f4:09:ca:1b:0c PERMANENT "
  assert_line "     -> frames for 66:f4:09:ca:1b:0c are wrapped in UDP and sent to fc00:f853:ccd:e793::3: ipv6-lab-worker's IPv6 InternalIP."
  assert_line "So: fd00:10:244:2893:e83c:c9a6:7f8b:bb81 -> vxlan-v6.calico on ipv6-lab-control-plane -> [outer IPv6 fc00:f853:ccd:e793::2 -> fc00:f853:ccd:e793::3, UDP 4789, VXLAN 4096] -> ipv6-lab-worker -> fd00:10:244:1168:5560:68e4:6df7:2c41"
  refute_output --partial MISMATCH
  assert_calls_in_order \
    "kubectl get nodes -o jsonpath=" \
    "kubectl get pods -n default -l app=multitool -o jsonpath=" \
    "docker exec ipv6-lab-control-plane ip -d link show vxlan.calico" \
    "docker exec ipv6-lab-control-plane ip route" \
    "docker exec ipv6-lab-control-plane ip -d link show vxlan-v6.calico" \
    "docker exec ipv6-lab-control-plane ip -6 route" \
    "docker exec ipv6-lab-control-plane ip -6 neigh show dev vxlan-v6.calico" \
    "docker exec ipv6-lab-control-plane bridge fdb show dev vxlan-v6.calico"
  refute_call "docker run"
}

@test "explain --capture: tcpdump in the node's network namespace while one IPv6 pod ping runs" {
  run "$EXPLAIN" --capture
  assert_success
  local image
  image=$(facts_value "$PROJECT/dist" f.workload.daemonSet.image)
  assert_calls_in_order \
    "docker image inspect ${image}" \
    "docker pull ${image}" \
    "docker run --rm --network container:ipv6-lab-control-plane ${image} timeout 15 tcpdump -n -p -i eth0 -c 4 ip6 and udp port 4789" \
    "kubectl exec -n default multitool-xp9c5 -- ping -6 -c 2 -W 2 fd00:10:244:1168:5560:68e4:6df7:2c41"
  # Not on the host yet (no deploy preloaded it): pulled once.
  assert_line "  docker pull ${image} (once)"
  assert_line "     15:23:02.113262 IP6 fc00:f853:ccd:e793::2.44484 > fc00:f853:ccd:e793::3.4789: VXLAN, flags [I] (0x08), vni 4096"
  assert_line "     -> outer header: IPv6 fc00:f853:ccd:e793::2 -> fc00:f853:ccd:e793::3, UDP port 4789 (VXLAN); inner: the pods' own IPv6 packet."
  assert_line "        those are the two nodes' IPv6 InternalIPs: IPv6 pod traffic crosses the underlay as IPv6."
}

@test "explain: answers, where it shows them, what proto 80, the MTUs, the random-looking blocks and 'the lab's README' are" {
  run "$EXPLAIN"
  assert_success
  # Under the route that carries it (Felix v3.28.5 vxlan_mgr.go: defaultVXLANProto = 80).
  assert_line "     -> proto 80: the mark Felix puts on routes it adds outside its own devices (this one, and its blackhole"
  assert_line "        for the local block); it only ever removes routes that carry it (Felix v3.28.5, vxlan_mgr.go)."
  # Under each tunnel device: its MTU, and the pods' (the node's /var/lib/calico/mtu).
  assert_line "     -> MTU 1450 = 1500 - 50: the node's MTU less VXLAN over IPv4 (outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14)."
  assert_line "     -> MTU 1430 = 1500 - 70: VXLAN over IPv6 costs 20 bytes more (the outer IPv6 header is 40 bytes)."
  assert_output --partial "pods get 1430 (/var/lib/calico/mtu): the smaller tunnel MTU, so one pod MTU fits both tunnels."
  # Under the peer's block: why it looks random.
  assert_output --partial "why this block: Calico IPAM starts each node's search at a pseudo-random block of the pool, seeded by the"
  assert_output --partial "node's name (libcalico-go ipam_block_reader_writer.go, randomBlockGenerator)"
  assert_output --partial "one of 2^74 /122 blocks in fd00:10:244::/48"
  # Which README.
  assert_line "     -> so IPv6 pod traffic is carried in IPv6 between the nodes. The course's lab README (\"Calico IPv6"
  assert_line "        Pod Networking\", not this project's) says the IPv6 tunnel rides IPv4-only infrastructure;"
  assert_calls_in_order "docker exec ipv6-lab-control-plane cat /var/lib/calico/mtu"
}

@test "explain: a node without /var/lib/calico/mtu still explains, without the pods' MTU" {
  rm "$NODE_FX/$(key cat /var/lib/calico/mtu).txt"
  run "$EXPLAIN"
  assert_success
  assert_line "     -> MTU 1450 = 1500 - 50: the node's MTU less VXLAN over IPv4 (outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14)."
  refute_output --partial "pods get"
}

@test "explain: an IPv6 tunnel bound to an IPv4 address is called out" {
  sed -i 's/local fc00:f853:ccd:e793::2 dev eth0/local 172.18.0.2 dev eth0/' "$NODE_FX/$(key ip -d link show vxlan-v6.calico).txt"
  run "$EXPLAIN"
  assert_success
  assert_line "     -> MISMATCH: the IPv6 tunnel is bound to 172.18.0.2, not to the node's IPv6 address fc00:f853:ccd:e793::2."
}

@test "explain: an FDB entry that sends the peer's MAC elsewhere is called out" {
  sed -i 's/dst fc00:f853:ccd:e793::3 /dst fc00:f853:ccd:e793::9 /' "$NODE_FX/$(key bridge fdb show dev vxlan-v6.calico).txt"
  run "$EXPLAIN"
  assert_success
  assert_line "     -> MISMATCH: the FDB sends 66:f4:09:ca:1b:0c to fc00:f853:ccd:e793::9, but ipv6-lab-worker's IPv6 InternalIP is fc00:f853:ccd:e793::3."
}

@test "explain: a peer on another subnet: IPv4 goes through vxlan.calico (node n3 of the real run)" {
  # The real run's third node sat on another subnet; give worker2 its addresses.
  sed -i 's/^ipv6-lab-worker2|True|.*/ipv6-lab-worker2|True|172.20.0.2 fc00:f853:ccd:e794::2/' "$STUB_STATE/cluster/nodes.txt"
  run "$EXPLAIN" multitool-xp9c5 multitool-csttt
  assert_success
  assert_line "     192.168.98.0/26 via 192.168.98.0 dev vxlan.calico onlink "
  assert_line "     -> the peer pod's block 192.168.98.0/26 is routed into vxlan.calico; next hop 192.168.98.0, the peer node's tunnel address."
  assert_line "     192.168.98.0 lladdr 66:26:c2:ce:28:d0 PERMANENT "
  assert_line "     -> frames for 66:26:c2:ce:28:d0 are wrapped in UDP and sent to 172.20.0.2: ipv6-lab-worker2's IPv4 InternalIP."
  assert_line "So: 192.168.40.129 -> vxlan.calico on ipv6-lab-control-plane -> [outer IPv4 172.18.0.2 -> 172.20.0.2, UDP 4789, VXLAN 4096] -> ipv6-lab-worker2 -> 192.168.98.1"
  refute_output --partial MISMATCH
}

@test "explain: no route to the peer's block says so" {
  sed -i '/^fd00:10:244:1168/d' "$NODE_FX/$(key ip -6 route).txt"
  run "$EXPLAIN"
  assert_success
  assert_line "     (no route holds fd00:10:244:1168:5560:68e4:6df7:2c41)"
}

@test "explain fails if both pods are on one node" {
  run "$EXPLAIN" multitool-xp9c5 multitool-xp9c5
  assert_failure
  assert_output --partial "ERROR: multitool-xp9c5 and multitool-xp9c5 are both on ipv6-lab-control-plane: pick pods on two nodes"
}

@test "explain fails if a node cannot be read, naming the command" {
  rm "$NODE_FX/$(key ip -6 route).txt"
  run "$EXPLAIN"
  assert_failure
  assert_output --partial "ERROR: docker exec ipv6-lab-control-plane ip -6 route failed: "
  assert_output --partial "fix: docker ps --filter name=ipv6-lab-control-plane"
}

@test "explain fails if docker is missing" {
  remove_stub docker
  run "$EXPLAIN"
  assert_failure
  assert_output --partial "ERROR: docker not found on PATH; explain reads the kind nodes with docker exec"
}

@test "explain --help lists its options" {
  run "$EXPLAIN" --help
  assert_success
  assert_output --partial "Usage: ./explain.sh [--capture] [SOURCE_POD [PEER_POD]] [--help]"
  assert_output --partial "LAB_CAPTURE_IMAGE"
}

@test "explain: docs/explain.md shows the current output on the stubs" {
  # As after ./deploy.sh, whose image preloading left the multitool image on the host.
  export STUB_HOST_IMAGES=present
  run "$EXPLAIN" --capture
  assert_success
  local documented
  documented=$(doc_block "$REPO_ROOT/docs/explain.md")
  assert_equal "$documented" "$output"
}

@test "explain: an exported KUBECONFIG is the cluster explained; LAB_KUBECONFIG still wins" {
  echo "apiVersion: v1" >"$BATS_TEST_TMPDIR/other.kubeconfig"
  rm "$PROJECT/ipv6-lab.kubeconfig"
  export KUBECONFIG=$BATS_TEST_TMPDIR/other.kubeconfig
  run "$EXPLAIN"
  assert_success
  assert_calls_in_order "kubectl get pods"
  LAB_KUBECONFIG=$BATS_TEST_TMPDIR/missing.kubeconfig run "$EXPLAIN"
  assert_failure
  assert_output --partial "kubeconfig $BATS_TEST_TMPDIR/missing.kubeconfig not found"
}

@test "explain fails if the lab has no facts, naming the file and the command that writes it" {
  rm -r "$PROJECT/dist/lab"
  run "$EXPLAIN"
  assert_failure 1
  assert_output --partial "ERROR: no lab facts: $PROJECT/dist/lab/facts.json does not exist"
  assert_output --partial "fix: npm run synth"
  refute_call "kubectl"
}
