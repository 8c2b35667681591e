#!/usr/bin/env bats
# verify.sh's data-path and VXLAN checks (scripts/lib/checks-dataplane.sh,
# scripts/lib/checks-vxlan.sh) against the
# stubs, which replay what real Calico v3.28.5 produced for dist/
# (../shared/calico/v3.28.5/dataplane, re-based on the stub cluster's names).
# Each check passes on those outputs and fails, with its investigate command,
# on a fixture broken for it.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup_deployed
  VERIFY=$REPO_ROOT/verify.sh
  CL=$STUB_STATE/cluster
}

@test "dataplane: every check passes on the real v3.28.5 outputs" {
  run "$VERIFY"
  assert_success
  refute_output --partial FAIL
  refute_output --partial SKIP
  assert_line "PASS  node ipv6-lab-control-plane holds IPv4 block 192.168.40.128/26 and IPv6 block fd00:10:244:2893:e83c:c9a6:7f8b:bb80/122"
  assert_line "PASS  node ipv6-lab-worker2 holds IPv4 block 192.168.98.0/26 and IPv6 block fd00:10:244:d01c:d569:d420:c640:6200/122"
  assert_line "PASS  vxlan.calico on ipv6-lab-control-plane tunnels from the node's IPv4 address 172.18.0.2"
  assert_line "PASS  vxlan-v6.calico on ipv6-lab-control-plane tunnels from the node's IPv6 address fc00:f853:ccd:e793::2"
  assert_line --partial "PASS  HTTP over IPv4 between pods on different nodes: multitool-xp9c5 -> http://192.168.217.1:8080/: multitool-hmbcg answered over IPv4"
  assert_line --partial "PASS  HTTP over IPv6 between pods on different nodes: multitool-xp9c5 -> http://[fd00:10:244:1168:5560:68e4:6df7:2c41]:8080/: multitool-hmbcg answered over IPv6"
  assert_line "PASS  DNS: multitool-dual-stack.default.svc.cluster.local -> A 10.96.45.12, AAAA fd00:10:96::abcd"
  assert_line "PASS  DNS: multitool-ipv6-only.default.svc.cluster.local -> A none, AAAA fd00:10:96::1234"
  assert_line --partial "PASS  curl -4 http://multitool-dual-stack:80/ (by name) answers over IPv4: "
  assert_line --partial "PASS  curl -6 http://multitool-dual-stack:80/ (by name) answers over IPv6: "
  assert_line --partial "PASS  curl -6 http://multitool-ipv6-only:80/ (by name) answers over IPv6: "
  assert_line "PASS  egress over IPv4 to the external host ipv6-lab-external http://172.18.0.5:8080/: seen from node ipv6-lab-control-plane 172.18.0.2, not pod 192.168.40.129 (natOutgoing: true)"
  assert_line "PASS  egress over IPv6 to the external host ipv6-lab-external http://[fc00:f853:ccd:e793::5]:8080/: seen from node ipv6-lab-control-plane fc00:f853:ccd:e793::2, not pod fd00:10:244:2893:e83c:c9a6:7f8b:bb81 (natOutgoing: true)"
  assert_line "PASS  pod eth0 MTU in multitool-xp9c5 is 1430, as Calico's /var/lib/calico/mtu on ipv6-lab-control-plane says"
  assert_line "PASS  don't-fragment IPv6 ping across nodes fits the MTU: 1382-byte payload (1430-byte packet) reaches multitool-hmbcg, 1383 is refused (message too long, mtu: 1430)"
  assert_line "43 checks, 0 failed"
  assert_calls_in_order \
    "kubectl get blockaffinities.crd.projectcalico.org -o jsonpath=" \
    "kubectl exec -n default multitool-xp9c5 -- dig +short multitool-dual-stack.default.svc.cluster.local AAAA" \
    "kubectl exec -n default multitool-xp9c5 -- curl -g -sS --max-time 5 -6 http://multitool-ipv6-only:80/" \
    "docker inspect --format" \
    "kubectl exec -n default multitool-xp9c5 -- ping -6 -M do -s 1382 -c 1 -W 2 fd00:10:244:1168:5560:68e4:6df7:2c41" \
    "kubectl exec -n default multitool-xp9c5 -- ping -6 -M do -s 1383 -c 1 -W 2 fd00:10:244:1168:5560:68e4:6df7:2c41" \
    "kubectl exec -n calico-system calico-node-7hx2m -c calico-node -- ip -d link show vxlan.calico" \
    "kubectl exec -n calico-system calico-node-7hx2m -c calico-node -- ip -d link show vxlan-v6.calico"
  refute_call calicoctl
}

@test "dataplane: a node without an IPv6 block fails" {
  sed -i '/^ipv6-lab-worker|fd00/d' "$CL/blockaffinities.txt"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  node ipv6-lab-worker holds a confirmed /26 block of 192.168.0.0/16 and a /122 block of fd00:10:244::/48 (holds: 192.168.217.0/26 (confirmed))"
  assert_line "      investigate: kubectl get blockaffinities.crd.projectcalico.org -o custom-columns=NODE:.spec.node,CIDR:.spec.cidr,STATE:.spec.state; kubectl logs -n calico-system -l k8s-app=calico-node --tail=50"
}

@test "dataplane: a block of the wrong size fails; the block sizes come from the facts" {
  edit_facts "$PROJECT/dist" 'f.calico.pools[0].blockSize = 28'
  # The pool says /28 as dist/ does (its check passes), but the nodes still hold /26 blocks.
  sed -i 's/|26$/|28/' "$CL/ippool-default-ipv4-ippool.txt"
  run "$VERIFY"
  assert_failure 3
  assert_line "PASS  IPPool default-ipv4-ippool: cidr 192.168.0.0/16, natOutgoing true, vxlanMode CrossSubnet, blockSize 28"
  assert_line --partial "FAIL  node ipv6-lab-control-plane holds a confirmed /28 block of 192.168.0.0/16"
}

@test "dataplane: an IPv6 tunnel bound to an IPv4 address fails" {
  sed -i 's/local fc00:f853:ccd:e793::2 dev eth0/local 172.18.0.2 dev eth0/' "$CL/node/ipv6-lab-control-plane/$(key ip -d link show vxlan-v6.calico).txt"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  vxlan-v6.calico on ipv6-lab-control-plane tunnels from the node's IPv6 address fc00:f853:ccd:e793::2: its local address is 172.18.0.2"
  assert_line "      investigate: kubectl exec -n calico-system calico-node-7hx2m -c calico-node -- ip -d link show vxlan-v6.calico; kubectl get node ipv6-lab-control-plane -o jsonpath='{.status.addresses}'"
}

@test "vxlan: a pool with vxlanMode Never has no VXLAN device; its check is skipped, saying so, and the count stays" {
  edit_facts "$PROJECT/dist" 'f.calico.pools[1].vxlanMode = "Never"; f.calico.bgp = true'
  sed -i 's/|Always|/|Never|/' "$CL/ippool-default-ipv6-ippool.txt"
  run "$VERIFY"
  assert_success
  assert_line "PASS  vxlan.calico on ipv6-lab-control-plane tunnels from the node's IPv4 address 172.18.0.2"
  assert_line "SKIP  vxlan-v6.calico tunnels from the node's IPv6 address: pool default-ipv6-ippool has vxlanMode Never, so no VXLAN device"
  assert_line "43 checks, 0 failed, 1 skipped"
  refute_call "ip -d link show vxlan-v6.calico"
}

@test "vxlan: no calico-node pod on the client's node fails each VXLAN check, saying so" {
  sed -i '/ipv6-lab-control-plane/d' "$CL/calico-node-ready.txt"
  run "$VERIFY"
  assert_line "FAIL  vxlan.calico on ipv6-lab-control-plane: no calico-node pod to look through (no calico-node pod on ipv6-lab-control-plane)"
  assert_line "FAIL  calico-node is Ready on ipv6-lab-control-plane: there is no calico-node pod on ipv6-lab-control-plane"
  assert_line --partial "FAIL  pod eth0 MTU: cannot read the MTU Calico configured on ipv6-lab-control-plane"
  assert_line "SKIP  don't-fragment IPv6 ping across nodes fits the MTU: the expected MTU is unknown (above)"
  assert_line "43 checks, 4 failed, 1 skipped"
}

@test "dataplane: pod-to-pod HTTP answered over the wrong family fails" {
  echo "multitool-hmbcg answered over IPv4 on 192.168.217.1 port 8080 (client 192.168.40.129)" \
    >"$CL/http/curl_$(key 'http://[fd00:10:244:1168:5560:68e4:6df7:2c41]:8080/').txt"
  run "$VERIFY"
  assert_failure 1
  assert_line --partial "FAIL  HTTP over IPv6 between pods on different nodes: multitool-xp9c5 -> http://[fd00:10:244:1168:5560:68e4:6df7:2c41]:8080/: multitool-hmbcg answered over IPv4"
  assert_line "      investigate: kubectl exec -n default multitool-xp9c5 -- curl -g -v --max-time 5 http://[fd00:10:244:1168:5560:68e4:6df7:2c41]:8080/; ./explain.sh"
}

@test "dataplane: a dual-stack Service without an AAAA record fails" {
  : >"$CL/dns/$(key multitool-dual-stack.default.svc.cluster.local_AAAA).txt"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  DNS: multitool-dual-stack.default.svc.cluster.local -> A 10.96.45.12, AAAA none: no AAAA record"
  assert_line "      investigate: kubectl exec -n default multitool-xp9c5 -- dig multitool-dual-stack.default.svc.cluster.local A multitool-dual-stack.default.svc.cluster.local AAAA; kubectl get service -n default multitool-dual-stack -o yaml"
}

@test "dataplane: an A record for the IPv6-only Service fails" {
  echo 10.96.77.7 >"$CL/dns/$(key multitool-ipv6-only.default.svc.cluster.local_A).txt"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  DNS: multitool-ipv6-only.default.svc.cluster.local -> A 10.96.77.7, AAAA fd00:10:96::1234: an A record 10.96.77.7 for an IPv6-only Service"
}

@test "dataplane: curl -6 by name that fails is reported with the resolver to look at" {
  echo "curl: (6) Could not resolve host: multitool-ipv6-only" >"$CL/http/curl_$(key -6 http://multitool-ipv6-only:80/).txt"
  echo 6 >"$CL/http/curl_$(key -6 http://multitool-ipv6-only:80/).txt.rc"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  curl -6 http://multitool-ipv6-only:80/ (by name) answers over IPv6: curl: (6) Could not resolve host: multitool-ipv6-only"
  assert_line "      investigate: kubectl exec -n default multitool-xp9c5 -- curl -6 -v --max-time 5 http://multitool-ipv6-only:80/; kubectl exec -n default multitool-xp9c5 -- cat /etc/resolv.conf"
}

@test "dataplane: an external host with only an IPv4 address fails the IPv6 egress" {
  echo 'true|172.18.0.5|' >"$CL/docker/ipv6-lab-external.inspect"
  run "$VERIFY"
  assert_failure 1
  assert_line --partial "PASS  egress over IPv4 to the external host ipv6-lab-external"
  assert_line "FAIL  egress over IPv6 to the external host ipv6-lab-external: it has no IPv6 address on the Docker network kind"
  assert_line --partial "      investigate: docker inspect ipv6-lab-external --format '{{json .NetworkSettings.Networks}}'"
}

@test "dataplane: an IPv6 request the external host answers over IPv4 fails" {
  echo "ipv6-lab-external answered over IPv4 on 172.18.0.5 port 8080 (client 172.18.0.2)" \
    >"$CL/http/curl_$(key 'http://[fc00:f853:ccd:e793::5]:8080/').txt"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  egress over IPv6 to the external host ipv6-lab-external http://[fc00:f853:ccd:e793::5]:8080/: answered, but not over IPv6: ipv6-lab-external answered over IPv4 on 172.18.0.5 port 8080 (client 172.18.0.2)"
}

@test "dataplane: a pod address reaching the external host while natOutgoing is true fails" {
  echo "ipv6-lab-external answered over IPv6 on fc00:f853:ccd:e793::5 port 8080 (client fd00:10:244:2893:e83c:c9a6:7f8b:bb81)" \
    >"$CL/http/curl_$(key 'http://[fc00:f853:ccd:e793::5]:8080/').txt"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  egress over IPv6 to the external host ipv6-lab-external http://[fc00:f853:ccd:e793::5]:8080/: seen from fd00:10:244:2893:e83c:c9a6:7f8b:bb81, want node ipv6-lab-control-plane fc00:f853:ccd:e793::2 (natOutgoing: true, so the pod address fd00:10:244:2893:e83c:c9a6:7f8b:bb81 must be masqueraded)"
  assert_line "      investigate: kubectl exec -n default multitool-xp9c5 -- curl -g -v --max-time 5 http://[fc00:f853:ccd:e793::5]:8080/; docker logs --tail 5 ipv6-lab-external; kubectl get ippools.crd.projectcalico.org -o custom-columns=NAME:.metadata.name,CIDR:.spec.cidr,NAT:.spec.natOutgoing"
}

@test "dataplane: natOutgoing false in the facts: no answer from the external host is expected, and explained" {
  edit_facts "$PROJECT/dist" 'f.calico.pools.forEach(p => p.natOutgoing = false)'
  no_answer_from "http://172.18.0.5:8080/"
  no_answer_from "http://[fc00:f853:ccd:e793::5]:8080/"
  # The cluster's pools as dist/ says: natOutgoing false.
  sed -i 's/|true|/|false|/' "$CL"/ippool-*.txt
  run "$VERIFY"
  assert_success
  assert_line "PASS  IPPool default-ipv4-ippool: cidr 192.168.0.0/16, natOutgoing false, vxlanMode CrossSubnet, blockSize 26"
  assert_line "PASS  egress over IPv4 to the external host ipv6-lab-external http://172.18.0.5:8080/ gets no answer, as expected: natOutgoing is false, so the host sees pod 192.168.40.129 and has no route back to the pool (curl: (28) Connection timed out after 5001 milliseconds)"
  assert_line --partial "PASS  egress over IPv6 to the external host ipv6-lab-external http://[fc00:f853:ccd:e793::5]:8080/ gets no answer, as expected: natOutgoing is false"
}

@test "dataplane: natOutgoing false but the node's address reaches the external host fails" {
  sed -i 's/|true|/|false|/' "$CL/ippool-default-ipv4-ippool.txt"
  run env LAB_IPV4_NAT_OUTGOING=false "$VERIFY"
  assert_failure 1
  assert_line "PASS  IPPool default-ipv4-ippool: cidr 192.168.0.0/16, natOutgoing false, vxlanMode CrossSubnet, blockSize 26"
  assert_line "FAIL  egress over IPv4 to the external host ipv6-lab-external http://172.18.0.5:8080/: seen from 172.18.0.2, but natOutgoing is false: something else translates the pod address 192.168.40.129"
}

@test "dataplane: a stopped external host is one failure with how to start it" {
  rm "$CL/docker/ipv6-lab-external.inspect"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  the external host ipv6-lab-external is running on the Docker network kind (Error: No such object: ipv6-lab-external)"
  assert_line "      investigate: docker ps -a --filter name=ipv6-lab-external; ./deploy.sh starts it (or set LAB_EXTERNAL_IPV4/LAB_EXTERNAL_IPV6)"
  assert_line "SKIP  egress over IPv6 to the external host ipv6-lab-external: the external host is not running (above)"
  assert_line "43 checks, 1 failed, 1 skipped"
}

@test "dataplane: a wrong pod MTU fails, and the ping sizes follow the MTU" {
  echo 1450 >"$CL/pod-eth0-mtu.txt"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  pod eth0 MTU in multitool-xp9c5 is 1450, Calico's /var/lib/calico/mtu on ipv6-lab-control-plane says 1430"
  assert_line "      investigate: kubectl exec -n default multitool-xp9c5 -- ip link show eth0; kubectl get installation default -o jsonpath='{.spec.calicoNetwork.mtu}'"
  assert_line "SKIP  don't-fragment IPv6 ping across nodes fits the MTU: the pod MTU is not Calico's (above)"
  assert_line "43 checks, 1 failed, 1 skipped"
  refute_call "ping -6 -M do"
}

@test "dataplane: LAB_POD_MTU overrides Calico's file" {
  run env LAB_POD_MTU=1450 "$VERIFY"
  assert_failure 1
  assert_line "FAIL  pod eth0 MTU in multitool-xp9c5 is 1430, LAB_POD_MTU says 1450"
  refute_call "cat /var/lib/calico/mtu"
}

@test "dataplane: a full-size don't-fragment ping that does not cross nodes fails" {
  cp "$CL/ping-df-1383.txt" "$CL/ping-df-1382.txt"
  cp "$CL/ping-df-1383.txt.rc" "$CL/ping-df-1382.txt.rc"
  run "$VERIFY"
  assert_failure 1
  assert_line --partial "FAIL  don't-fragment IPv6 ping across nodes fits the MTU: 1382-byte payload (1430-byte packet) does not reach multitool-hmbcg fd00:10:244:1168:5560:68e4:6df7:2c41: ping: local error: message too long, mtu: 1430"
}

@test "dataplane: one byte over the MTU getting through fails" {
  cp "$CL/ping-df-1382.txt" "$CL/ping-df-1383.txt"
  cp "$CL/ping-df-1382.txt.rc" "$CL/ping-df-1383.txt.rc"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  don't-fragment IPv6 ping across nodes fits the MTU: 1383-byte payload (1431-byte packet) got through, so the path MTU is larger than the pod's 1430"
}

@test "dataplane: the block affinity template renders the JSON fixture into the replayed text" {
  local real
  real=$(PATH=/usr/local/bin:/usr/bin:/bin command -v kubectl) || skip_or_fail_in_ci "no real kubectl to render jsonpath with"
  source "$REPO_ROOT/scripts/lib/common.sh"
  source "$REPO_ROOT/scripts/lib/checks-dataplane.sh"
  run "$real" label --local -f "$FIXTURES/json/blockaffinities.json" lab-test=render -o jsonpath="$Q_BLOCK_AFFINITY"
  assert_success
  assert_output "$(cat "$FIXTURES/cluster/blockaffinities.txt")"
}

@test "dataplane: the external host's settings come from the facts" {
  source "$REPO_ROOT/scripts/lib/common.sh"
  source "$REPO_ROOT/scripts/lib/external-host.sh"
  lab_init_defaults
  external_host_defaults
  assert_equal "$LAB_EXTERNAL_NAME" ipv6-lab-external
  assert_equal "$LAB_EXTERNAL_IMAGE" "$(facts_value "$PROJECT/dist" f.workload.daemonSet.image)"
  run fact externalHost.nginxConfig
  assert_line --index 0 "# nginx for the multitool pods of the Calico IPv6 lab; rendered by calico-ipv6-lab."
  assert_line '      return 200 "$hostname answered over $lab_ip_family on $server_addr port $server_port (client $remote_addr)\n";'
  assert_line '    listen [::]:8080;   # IPv6 - must be explicitly added!'
  # That it is the ConfigMap's nginx.conf, as the pods run it: __tests__/lab-facts.test.ts.
}
