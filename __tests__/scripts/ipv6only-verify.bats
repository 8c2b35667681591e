#!/usr/bin/env bats
# verify.sh and explain.sh over both family sets: the dual-stack default (unchanged: its plan, no SKIP, no
# IPv6-only check) and the IPv6-only lab (`ipFamilies: [IPv6]`, rendered by the real synth): its plan, the
# core's IPv4 checks SKIPped saying why, scripts/lib/checks-ipv6only.sh's checks, and broken states, each
# failing the checks it should with the same count. The stub cluster replays fixtures/cluster/ with
# fixtures/ipv6-only/cluster/ over it (real tayga and CoreDNS outputs; see fixtures/ipv6-only/README.md).

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  load helpers/ipv6only
  ipv6only_setup_file
}

setup() {
  load helpers/lab
  load helpers/ipv6only
  lab_setup_deployed
  VERIFY=$REPO_ROOT/verify.sh
  EXPLAIN=$REPO_ROOT/explain.sh
}

# The checks each family set's facts plan, whatever the cluster's state; the IPv6-only lab SKIPs 3.
DUAL_STACK_CHECKS=43
IPV6_ONLY_CHECKS=48

# plan_ids: the ids of verify's plan, one per line.
plan_ids() { "$VERIFY" --plan | awk 'NR > 1 { print $1 }'; }

@test "verify --plan, per family set: dual-stack as before; IPv6-only plans the IPv4 checks too (to SKIP them) and its own" {
  local dual v6
  dual=$(plan_ids)
  ipv6only_lab
  v6=$(plan_ids)
  assert_equal "$(grep -c . <<<"$dual") $(grep -c . <<<"$v6")" "$DUAL_STACK_CHECKS $IPV6_ONLY_CHECKS"
  # The dual-stack plan has none of the variant's checks.
  run grep -E '^(no-ipv4|dns64|nat64)' <<<"$dual"
  assert_failure
  # IPv6-only: one pool and one Service (objects follow the facts), both families' data-path checks.
  run diff <(grep -vE '^(no-ipv4|dns64|nat64)' <<<"$v6") <(grep -vE '^(ippool/default-ipv4-ippool|service/multitool-dual-stack.*|dns/multitool-dual-stack|by-name/multitool-dual-stack/.*)$' <<<"$dual")
  assert_success
  assert_equal "$(grep -E '^(no-ipv4|dns64|nat64)' <<<"$v6" | tr '\n' ' ')" \
    "no-ipv4/calico no-ipv4/nodes no-ipv4/pods dns64/corefile dns64/forwarder dns64/outside dns64/synthesized nat64/gateway nat64-route/ipv6-lab-control-plane nat64-route/ipv6-lab-worker nat64-route/ipv6-lab-worker2 nat64/http "
}

@test "verify, IPv6-only: passes; the IPv4 checks SKIP saying why; DNS64 and NAT64 shown at work" {
  ipv6only_lab
  run "$VERIFY"
  assert_success
  refute_output --partial FAIL
  assert_line "Expecting pool default-ipv6-ippool fd00:10:244::/48 (Always), no IPv4 (ipFamilies [IPv6]), from $V6_PROJECT_DIST/lab/facts.json"
  assert_line "PASS  node ipv6-lab-worker is Ready with IPv6 InternalIPs (fc00:f853:ccd:e793::3)"
  assert_line "PASS  pod multitool-csttt on ipv6-lab-worker2 is Running and Ready with IPv6 fd00:10:244:d01c:d569:d420:c640:6201 from the pool"
  assert_line "PASS  node ipv6-lab-worker holds IPv6 block fd00:10:244:1168:5560:68e4:6df7:2c40/122"
  assert_line "SKIP  HTTP over IPv4 between pods on different nodes: the lab has no IPv4 (ipFamilies [IPv6]), so its pods have no IPv4 address"
  assert_line "SKIP  egress over IPv4 to the external host ipv6-lab-external: the lab has no IPv4 (ipFamilies [IPv6]), so its pods have no IPv4 address to leave from"
  assert_line "SKIP  vxlan.calico tunnels from the node's IPv4 address: the lab has no IPv4 (ipFamilies [IPv6]), so no IPv4 pool and no vxlan.calico"
  assert_line "PASS  Calico runs without IPv4: IPPools default-ipv6-ippool fd00:10:244::/48, calico-node IP=none, CNI assign_ipv4 false"
  assert_line "PASS  no pod of the cluster has an IPv4 address (25 pods, host-network ones included)"
  assert_line "PASS  ipv6-lab-ipv4-host AAAA fd00:10:64::ac13:4: synthesized by DNS64 from its A record 172.19.0.4 (fd00:10:64::172.19.0.4)"
  assert_line "PASS  ipv6-lab-external AAAA fc00:f853:ccd:e793::5: outside the cluster, through ipv6-lab-dns and Docker's DNS, its own address (nothing synthesized)"
  assert_line "PASS  node ipv6-lab-worker2: fd00:10:64::/96 via fc00:f853:ccd:e793::64 dev eth0 metric 1024 pref medium"
  assert_line "PASS  multitool-xp9c5 -> http://ipv6-lab-ipv4-host:8080/: answered over IPv4 on 172.19.0.4, seen from 192.168.255.160 (tayga's pool 192.168.255.0/24: NAT64, not the pod fd00:10:244:2893:e83c:c9a6:7f8b:bb81)"
  assert_line "$IPV6_ONLY_CHECKS checks, 0 failed, 3 skipped"
  assert_calls_in_order \
    "kubectl exec -n default multitool-xp9c5 -- dig +short ipv6-lab-ipv4-host AAAA" \
    "docker inspect --format {{.State.Running}}" \
    "kubectl exec -n calico-system calico-node-7hx2m -c calico-node -- ip -6 route show fd00:10:64::/96" \
    "kubectl exec -n default multitool-xp9c5 -- curl -g -sS --max-time 5 -6 http://ipv6-lab-ipv4-host:8080/"
}

@test "verify, IPv6-only: docs/ipv6-only.md's sample is ./verify.sh's output on the stubs" {
  ipv6only_lab
  run "$VERIFY"
  assert_success
  local documented
  documented=$(doc_block "$REPO_ROOT/docs/ipv6-only.md" verify)
  [[ -n "$documented" ]] || fail "docs/ipv6-only.md has no \`\`\`text verify block"
  assert_equal "$documented" "$(sed "s#$PROJECT#/path/to/calico-ipv6-lab#g" <<<"$output")"
}

# Broken states: each fails the checks it must, and the count stays the plan's.
@test "verify, IPv6-only: DNS64 missing (kubeadm's Corefile back, the Deployment rolled onto it): no synthesized AAAA, no NAT64 by name" {
  ipv6only_lab
  # What CoreDNS answers without dns64, for a name with an A record only: NOERROR, no AAAA.
  fixture coredns-corefile.txt "$(sed '/^    dns64 {$/,/^    }$/d' "$FIXTURES/ipv6-only/dns/Corefile")"
  : >"$STUB_STATE/cluster/dns/ipv6-lab-ipv4-host_AAAA.txt"
  local f
  f=$STUB_STATE/cluster/http/curl_$(key -6 http://ipv6-lab-ipv4-host:8080/).txt
  echo "curl: (6) Could not resolve host: ipv6-lab-ipv4-host" >"$f"
  echo 6 >"$f.rc"
  run "$VERIFY"
  assert_failure 3
  assert_line --regexp "^FAIL  CoreDNS runs the dist's Corefile: the ConfigMap's Corefile is not the dist's \(no dns64 in it; sha256 [0-9a-f]{12}, the dist's [0-9a-f]{12}\)$"
  assert_line "FAIL  ipv6-lab-ipv4-host (an A record only) gets an AAAA in fd00:10:64::/96 (DNS64): no AAAA: CoreDNS synthesized nothing (no dns64 in its Corefile, or no A record upstream: is ipv6-lab-ipv4-host running?)"
  assert_line "FAIL  curl -6 http://ipv6-lab-ipv4-host:8080/ from a pod answers over IPv4, from tayga's pool 192.168.255.0/24 (NAT64): curl: (6) Could not resolve host: ipv6-lab-ipv4-host"
  assert_line "$IPV6_ONLY_CHECKS checks, 3 failed, 3 skipped"
}

@test "verify, IPv6-only: the Deployment not rolled onto the dist's Corefile fails dns64/corefile only" {
  ipv6only_lab
  fixture deployment-coredns.txt "|2|2|2"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  CoreDNS runs the dist's Corefile: deployment/coredns not rolled onto it (annotation calico-ipv6-lab/corefile-sha256: none)"
}

@test "verify, IPv6-only: NAT64 down (the gateway stopped): the gateway fails, and the pod reaches nothing IPv4" {
  ipv6only_lab
  echo "false|||/0" >"$STUB_STATE/cluster/docker/ipv6-lab-nat64.inspect"
  no_answer_from "-6 http://ipv6-lab-ipv4-host:8080/"
  run "$VERIFY"
  assert_failure 2
  assert_line "FAIL  tayga runs in ipv6-lab-nat64 at fc00:f853:ccd:e793::64: nat64 up, forwarding on: ipv6-lab-nat64 is not running (tayga is its main process)"
  assert_line "      investigate: docker logs --tail 20 ipv6-lab-nat64; ./deploy.sh starts it again"
  assert_line "FAIL  curl -6 http://ipv6-lab-ipv4-host:8080/ from a pod answers over IPv4, from tayga's pool 192.168.255.0/24 (NAT64): curl: (28) Connection timed out after 5001 milliseconds"
  # DNS64 does not need the NAT64: the name still resolves.
  assert_line --partial "PASS  ipv6-lab-ipv4-host AAAA fd00:10:64::ac13:4"
  assert_line "$IPV6_ONLY_CHECKS checks, 2 failed, 3 skipped"
}

@test "verify, IPv6-only: a node that lost its route to the prefix (its container restarted) fails, naming it" {
  ipv6only_lab
  : >"$STUB_STATE/cluster/node/ipv6-lab-worker2/ip_-6_route_show_fd00_10_64___96.txt"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  node ipv6-lab-worker2 routes fd00:10:64::/96 via fc00:f853:ccd:e793::64: no route (lost when the node container restarts)"
  assert_line "      investigate: kubectl exec -n calico-system calico-node-zt6wl -c calico-node -- ip -6 route show fd00:10:64::/96; ./deploy.sh adds it again (docker exec ipv6-lab-worker2 ip -6 route replace fd00:10:64::/96 via fc00:f853:ccd:e793::64)"
}

@test "verify, IPv6-only: the DNS forwarder gone: it fails, and with it every name outside the cluster" {
  ipv6only_lab
  rm "$STUB_STATE/cluster/docker/ipv6-lab-dns.inspect"
  # CoreDNS's forward gets no answer: SERVFAIL, which dig +short prints as nothing.
  : >"$STUB_STATE/cluster/dns/ipv6-lab-external_AAAA.txt"
  : >"$STUB_STATE/cluster/dns/ipv6-lab-ipv4-host_AAAA.txt"
  local f
  f=$STUB_STATE/cluster/http/curl_$(key -6 http://ipv6-lab-ipv4-host:8080/).txt
  echo "curl: (6) Could not resolve host: ipv6-lab-ipv4-host" >"$f"
  echo 6 >"$f.rc"
  run "$VERIFY"
  assert_failure 4
  assert_line "FAIL  the DNS forwarder ipv6-lab-dns runs at fc00:f853:ccd:e793::53 on the Docker network kind: there is no container ipv6-lab-dns"
  assert_line "FAIL  a name outside the cluster resolves: ipv6-lab-external AAAA, its own address: no answer (CoreDNS forwards to fc00:f853:ccd:e793::53: is ipv6-lab-dns there?)"
  assert_line "$IPV6_ONLY_CHECKS checks, 4 failed, 3 skipped"
}

@test "verify, IPv6-only: an IPv4 address on a pod fails no-ipv4/pods, naming the pod" {
  ipv6only_lab
  sed -i 's#^\(default/multitool-hmbcg|\)#\1192.168.217.1 #' "$STUB_STATE/cluster/pods-ips-all.txt"
  sed -i 's#^\(multitool-hmbcg|.*|\)\(fd00\)#\1192.168.217.1 \2#' "$STUB_STATE/cluster/pods.txt"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  no pod of the cluster has an IPv4 address: default/multitool-hmbcg 192.168.217.1"
  # The pod still has its one IPv6 address: the other checks use it.
  assert_line "PASS  pod multitool-hmbcg on ipv6-lab-worker is Running and Ready with IPv6 fd00:10:244:1168:5560:68e4:6df7:2c41 from the pool"
  assert_line "$IPV6_ONLY_CHECKS checks, 1 failed, 3 skipped"
}

@test "verify, IPv6-only: an IPv4 pool left in the cluster (a dual-stack lab's) fails Calico's, the nodes' and the pods' no-IPv4 checks" {
  ipv6only_lab
  cp "$FIXTURES/cluster/ippool-default-ipv4-ippool.txt" "$STUB_STATE/cluster/"
  cp "$FIXTURES/cluster/cni-config.txt" "$STUB_STATE/cluster/"
  echo autodetect >"$STUB_STATE/cluster/daemonset-calico-node-ip.txt"
  grep '|192\.168\.' "$FIXTURES/cluster/blockaffinities.txt" >>"$STUB_STATE/cluster/blockaffinities.txt"
  sed -i 's#^\(default/multitool-hmbcg|\)#\1192.168.217.1 #' "$STUB_STATE/cluster/pods-ips-all.txt"
  run "$VERIFY"
  assert_failure 3
  assert_line "FAIL  Calico runs without IPv4: IPv4 IPPool default-ipv4-ippool 192.168.0.0/16 (the operator then turns IPv4 autodetection back on); calico-node IP=autodetect, want none; CNI assign_ipv4 true, want false"
  assert_line --partial "FAIL  no node has an IPv4 InternalIP, pod CIDR, Calico IPv4 address or IPv4 block: ipv6-lab-control-plane holds IPv4 block 192.168.40.128/26 (confirmed);"
  assert_line "FAIL  no pod of the cluster has an IPv4 address: default/multitool-hmbcg 192.168.217.1"
  assert_line "$IPV6_ONLY_CHECKS checks, 3 failed, 3 skipped"
}

@test "verify, IPv6-only: the IPv4-only host answering from a non-pool address (masqueraded, not tayga's) fails" {
  ipv6only_lab
  echo "ipv6-lab-ipv4-host answered over IPv4 on 172.19.0.4 port 8080 (client 172.19.0.2)" >"$STUB_STATE/cluster/http/curl_$(key -6 http://ipv6-lab-ipv4-host:8080/).txt"
  run "$VERIFY"
  assert_failure 1
  assert_line --partial "FAIL  curl -6 http://ipv6-lab-ipv4-host:8080/ from a pod answers over IPv4, from tayga's pool 192.168.255.0/24 (NAT64): the host saw 172.19.0.2, not an address of tayga's pool"
}

@test "verify, IPv6-only: without an API server every check, IPv4 and variant ones included, is skipped; the count stays" {
  ipv6only_lab
  export STUB_API=down
  run "$VERIFY"
  assert_failure 1
  assert_line "$IPV6_ONLY_CHECKS checks, 1 failed, $((IPV6_ONLY_CHECKS - 1)) skipped"
}

@test "explain, per family set: dual-stack shows both screens; IPv6-only says it has no IPv4, then DNS64 and NAT64 at work" {
  run "$EXPLAIN"
  assert_success
  assert_line --partial "==================== IPv4: multitool-xp9c5 -> multitool-hmbcg"
  refute_output --partial "none in this lab"
  refute_output --partial "IPv6-only"
  ipv6only_lab
  run "$EXPLAIN"
  assert_success
  assert_line "==================== IPv4: none in this lab ===================="
  assert_line "  The lab has no IPv4 (ipFamilies [IPv6]): no IPv4 pool, pod address, tunnel or pod route."
  assert_line --partial "==================== IPv6: multitool-xp9c5 -> multitool-hmbcg"
  assert_line "        pods get 1430 (/var/lib/calico/mtu): the MTU of the lab's one tunnel."
  assert_line "     AAAA fd00:10:64::ac13:4"
  assert_line "     fd00:10:64::/96 via fc00:f853:ccd:e793::64 dev eth0 metric 1024 pref medium"
  assert_line "     assigned new pool address 192.168.255.160 (fc00:f853:ccd:e793::2)"
  assert_line "So: fd00:10:244:2893:e83c:c9a6:7f8b:bb81 -> [natOutgoing] fc00:f853:ccd:e793::2 -> fd00:10:64::ac13:4 -> ipv6-lab-nat64 (tayga) -> [192.168.255.160 -> 172.19.0.4] -> ipv6-lab-ipv4-host"
}

@test "explain, IPv6-only: docs/ipv6-only.md's sample is ./explain.sh's output on the stubs" {
  ipv6only_lab
  run "$EXPLAIN"
  assert_success
  local documented
  documented=$(doc_block "$REPO_ROOT/docs/ipv6-only.md" explain)
  [[ -n "$documented" ]] || fail "docs/ipv6-only.md has no \`\`\`text explain block"
  assert_equal "$documented" "$output"
}

@test "explain, IPv6-only: a synthesized AAAA outside the prefix and no answer through the NAT64 are called out" {
  ipv6only_lab
  echo "fc00:f853:ccd:e793::99" >"$STUB_STATE/cluster/dns/ipv6-lab-ipv4-host_AAAA.txt"
  no_answer_from "-6 http://ipv6-lab-ipv4-host:8080/"
  run "$EXPLAIN"
  assert_success
  assert_line "     -> expected fd00:10:64::ac13:4 (the prefix + the A record); got fc00:f853:ccd:e793::99: ./verify.sh checks dns64/* step by step."
  assert_line "     -> no answer through the NAT64: ./verify.sh (nat64/*) says where it stops."
}
