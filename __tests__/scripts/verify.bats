#!/usr/bin/env bats
# verify.sh against a stubbed kubectl replaying the lab README's outputs,
# made dual-stack, and real Calico v3.28.5's (see fixtures/cluster); its plan
# from the lab's facts; Calico's health in the degraded states of the
# calico-node drill (fixtures/drill). Every run of the same dist has the same
# number of checks: HEALTHY_CHECKS.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup_deployed
  VERIFY=$REPO_ROOT/verify.sh
}

# The number of checks the defaults' facts plan, whatever the cluster's state.
HEALTHY_CHECKS=43

@test "verify: passes on the README's (dual-stack) outputs" {
  run "$VERIFY"
  assert_success
  refute_output --partial FAIL
  refute_output --partial SKIP
  assert_line "PASS  node ipv6-lab-worker is Ready with IPv4 and IPv6 InternalIPs (172.18.0.3 fc00:f853:ccd:e793::3)"
  assert_line "PASS  IPPool default-ipv4-ippool: cidr 192.168.0.0/16, natOutgoing true, vxlanMode CrossSubnet, blockSize 26"
  assert_line "PASS  IPPool default-ipv6-ippool: cidr fd00:10:244::/48, natOutgoing true, vxlanMode Always, blockSize 122"
  assert_line "PASS  pod multitool-csttt on ipv6-lab-worker2 is Running and Ready with IPv4 192.168.98.1 and IPv6 fd00:10:244:d01c:d569:d420:c640:6201 from the pools"
  assert_line "PASS  TigeraStatus calico is Available"
  assert_line "PASS  TigeraStatus apiserver is Available"
  assert_line "PASS  TigeraStatus ippools is Available"
  assert_line "PASS  calico-node is Ready on ipv6-lab-worker2 (calico-node-zt6wl)"
  assert_line "PASS  node ipv6-lab-worker2's network is up: NetworkUnavailable False (CalicoIsUp), no node.kubernetes.io/network-unavailable taint"
  assert_line "PASS  DaemonSet multitool runs a Ready pod on each of the lab's 3 nodes (desired 3, ready 3)"
  assert_line "PASS  the cluster has the lab's 3 nodes: ipv6-lab-control-plane ipv6-lab-worker ipv6-lab-worker2"
  assert_line --partial "PASS  IPv6 ping between pods on different nodes: multitool-xp9c5 -> multitool-hmbcg fd00:10:244:1168:5560:68e4:6df7:2c41"
  assert_line "PASS  curl Service multitool-dual-stack over IPv6: http://[fd00:10:96::abcd]:80/ -> HTTP 200"
  assert_line "PASS  curl Service multitool-dual-stack over IPv4: http://10.96.45.12:80/ -> HTTP 200"
  assert_line "PASS  curl Service multitool-ipv6-only over IPv6: http://[fd00:10:96::1234]:80/ -> HTTP 200"
  assert_line "PASS  nginx listens on IPv6 port 8080 in multitool-xp9c5 (:::8080)"
  assert_line "$HEALTHY_CHECKS checks, 0 failed"
  # The checks the README does by hand, as the pods see them.
  assert_calls_in_order \
    "kubectl get ippools.crd.projectcalico.org default-ipv4-ippool -o jsonpath=" \
    "kubectl get pods -n default -l app=multitool -o jsonpath=" \
    "kubectl exec -n default multitool-xp9c5 -- ping -6 -c 3 -W 2 fd00:10:244:1168:5560:68e4:6df7:2c41" \
    "kubectl exec -n default multitool-xp9c5 -- curl -g -sS -o /dev/null -w %{http_code} --max-time 5 http://[fd00:10:96::abcd]:80/" \
    "kubectl exec -n default multitool-xp9c5 -- curl -g -sS -o /dev/null -w %{http_code} --max-time 5 http://10.96.45.12:80/" \
    "kubectl exec -n default multitool-xp9c5 -- curl -g -sS -o /dev/null -w %{http_code} --max-time 5 http://[fd00:10:96::1234]:80/" \
    "kubectl exec -n default multitool-xp9c5 -- netstat -tln"
  refute_call calicoctl
}

@test "verify: a pod with only an IPv4 address fails, exit status 1, with a command to investigate" {
  fixture pods.txt "$(sed 's/^\(multitool-hmbcg|.*|192.168.217.1\) .*/\1/' "$STUB_STATE/cluster/pods.txt")"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  pod multitool-hmbcg on ipv6-lab-worker is Running and Ready with one IPv4 and one IPv6 address from the pools: 0 IPv6 addresses (pod IPs: 192.168.217.1)"
  assert_line "      investigate: kubectl get pod -n default multitool-hmbcg -o jsonpath='{.status.phase} {.status.podIPs}'; kubectl describe pod -n default multitool-hmbcg"
  # The ping then goes to the next healthy pod on another node.
  assert_line --partial "PASS  IPv6 ping between pods on different nodes: multitool-xp9c5 -> multitool-csttt"
  assert_line "$HEALTHY_CHECKS checks, 1 failed"
}

@test "verify: a pod IP outside its pool fails" {
  fixture pods.txt "multitool-xp9c5|ipv6-lab-control-plane|Running|True|10.244.0.5 fd00:10:244::5
multitool-hmbcg|ipv6-lab-worker|Running|True|192.168.217.1 fd00:10:245::7
$(grep worker2 "$STUB_STATE/cluster/pods.txt")"
  run "$VERIFY"
  assert_failure 3 # both pods, and the HTTP check to the moved IPv6 address (no fixture answers it)
  assert_line --partial "FAIL  pod multitool-xp9c5 on ipv6-lab-control-plane is Running and Ready with one IPv4 and one IPv6 address from the pools: 10.244.0.5 outside 192.168.0.0/16"
  assert_line --partial "FAIL  pod multitool-hmbcg on ipv6-lab-worker is Running and Ready with one IPv4 and one IPv6 address from the pools: fd00:10:245::7 outside fd00:10:244::/48"
  # Both pods can still be used for the connectivity checks.
  assert_line --partial "PASS  IPv6 ping between pods on different nodes: multitool-xp9c5 -> multitool-hmbcg fd00:10:245::7"
}

@test "verify: a pod that is not Running fails" {
  fixture pods.txt "$(sed 's/^\(multitool-csttt|ipv6-lab-worker2|\)Running|.*/\1Pending|False|/' "$STUB_STATE/cluster/pods.txt")"
  fixture daemonset-multitool.txt "3|3|2"
  run "$VERIFY"
  assert_failure 2
  assert_line --partial "FAIL  pod multitool-csttt on ipv6-lab-worker2 is Running and Ready with one IPv4 and one IPv6 address from the pools: phase Pending, Ready=False, 0 IPv4 addresses, 0 IPv6 addresses"
  assert_line "FAIL  DaemonSet multitool runs a Ready pod on each of the lab's 3 nodes: desired 3, current 3, ready 2; no Ready pod on ipv6-lab-worker2"
  assert_line "$HEALTHY_CHECKS checks, 2 failed"
}

@test "verify: a Running pod that is not Ready fails, naming its node" {
  fixture pods.txt "$(sed 's/^\(multitool-hmbcg|ipv6-lab-worker|Running|\)True|/\1False|/' "$STUB_STATE/cluster/pods.txt")"
  fixture daemonset-multitool.txt "3|3|2"
  run "$VERIFY"
  assert_failure 2
  assert_line "FAIL  pod multitool-hmbcg on ipv6-lab-worker is Running and Ready with one IPv4 and one IPv6 address from the pools: Ready=False (pod IPs: 192.168.217.1 fd00:10:244:1168:5560:68e4:6df7:2c41)"
  assert_line --partial "no Ready pod on ipv6-lab-worker"
  assert_line "$HEALTHY_CHECKS checks, 2 failed"
}

@test "verify: two lab pods on one node fail" {
  fixture pods.txt "$(cat "$STUB_STATE/cluster/pods.txt")
multitool-extra|ipv6-lab-worker|Running|True|192.168.217.2 fd00:10:244:1168:5560:68e4:6df7:2c42"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  2 app=multitool pods on node ipv6-lab-worker, want one: multitool-hmbcg multitool-extra"
  assert_line "$HEALTHY_CHECKS checks, 1 failed"
}

@test "verify: a dual-stack Service with one family fails and its IPv6 curl is skipped" {
  fixture service-multitool-dual-stack.txt "10.96.45.12"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  Service multitool-dual-stack has IPv4 and IPv6 ClusterIPs (got: 10.96.45.12)"
  assert_line "      investigate: kubectl get service -n default multitool-dual-stack -o yaml"
  assert_line "SKIP  curl Service multitool-dual-stack over IPv6: it has no IPv6 ClusterIP"
  assert_line "PASS  curl Service multitool-dual-stack over IPv4: http://10.96.45.12:80/ -> HTTP 200"
  assert_line "$HEALTHY_CHECKS checks, 1 failed, 1 skipped"
}

@test "verify: an IPv6-only Service with an IPv4 ClusterIP fails" {
  fixture service-multitool-ipv6-only.txt "10.96.77.1"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  Service multitool-ipv6-only has IPv6 ClusterIP only (got: 10.96.77.1)"
  assert_line "SKIP  curl Service multitool-ipv6-only over IPv6: it has no IPv6 ClusterIP"
  assert_line "$HEALTHY_CHECKS checks, 1 failed, 1 skipped"
}

@test "verify: a missing Service fails" {
  rm "$STUB_STATE/cluster/service-multitool-ipv6-only.txt"
  run "$VERIFY"
  assert_failure 1
  assert_line --partial "FAIL  Service multitool-ipv6-only exists (Error from server (NotFound)"
  assert_line "SKIP  curl Service multitool-ipv6-only over IPv6: the Service does not exist"
  assert_line "$HEALTHY_CHECKS checks, 1 failed, 1 skipped"
}

@test "verify: nginx listening on IPv4 only fails the listener check and the IPv6 curls" {
  fixture exec-netstat.txt "$(grep -v ':::' "$STUB_STATE/cluster/exec-netstat.txt")"
  fixture exec-curl-ipv6.txt "curl: (7) Failed to connect to fd00:10:96::abcd port 80 after 0 ms: Couldn't connect to server
000command terminated with exit code 7"
  fixture exec-curl-ipv6.rc 7
  run "$VERIFY"
  assert_failure 3
  assert_line "FAIL  nginx listens on IPv6 port 8080 in multitool-xp9c5: no :::8080 listener (listeners: 0.0.0.0:8080 0.0.0.0:443 )"
  assert_line "      investigate: kubectl exec -n default multitool-xp9c5 -- netstat -tln; kubectl exec -n default multitool-xp9c5 -- nginx -T"
  assert_line "FAIL  curl Service multitool-dual-stack over IPv6: http://[fd00:10:96::abcd]:80/ -> curl: (7) Failed to connect to fd00:10:96::abcd port 80 after 0 ms: Couldn't connect to server 000command terminated with exit code 7"
  assert_line "PASS  curl Service multitool-dual-stack over IPv4: http://10.96.45.12:80/ -> HTTP 200"
  assert_line "$HEALTHY_CHECKS checks, 3 failed"
}

@test "verify: an HTTP error from a Service fails even when curl exits 0" {
  printf '503' >"$STUB_STATE/cluster/exec-curl-ipv4.txt"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  curl Service multitool-dual-stack over IPv4: http://10.96.45.12:80/ -> 503"
}

@test "verify: a node without an IPv6 InternalIP fails (the README's 'IPv4-only nodes' do not hold in kind)" {
  fixture nodes.txt "$(sed 's/^\(ipv6-lab-worker2|True|172.18.0.4\) .*/\1/' "$STUB_STATE/cluster/nodes.txt")"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  node ipv6-lab-worker2 is Ready with IPv4 and IPv6 InternalIPs (Ready=True, InternalIPs: 172.18.0.4)"
  assert_line --partial "investigate: kubectl get node ipv6-lab-worker2 -o jsonpath="
}

@test "verify: a NotReady node fails" {
  fixture nodes.txt "$(sed 's/^ipv6-lab-worker|True|/ipv6-lab-worker|False|/' "$STUB_STATE/cluster/nodes.txt")"
  run "$VERIFY"
  assert_failure 1
  assert_line --partial "FAIL  node ipv6-lab-worker is Ready with IPv4 and IPv6 InternalIPs (Ready=False"
}

@test "verify: an IPPool with the wrong vxlanMode, natOutgoing or CIDR fails; a missing one too" {
  fixture ippool-default-ipv6-ippool.txt "fd00:10:244::/48|true|Never|122"
  rm "$STUB_STATE/cluster/ippool-default-ipv4-ippool.txt"
  run "$VERIFY"
  assert_failure 2
  assert_line "FAIL  IPPool default-ipv6-ippool: want cidr fd00:10:244::/48, natOutgoing true, vxlanMode Always, blockSize 122; got fd00:10:244::/48, true, Never, 122"
  assert_line "      investigate: kubectl get ippools.crd.projectcalico.org default-ipv6-ippool -o yaml"
  assert_line --partial "FAIL  IPPool default-ipv4-ippool exists (Error from server (NotFound)"
  fixture ippool-default-ipv6-ippool.txt "fd00:10:244::/48|false|Always|122"
  run "$VERIFY"
  assert_line --partial "FAIL  IPPool default-ipv6-ippool: want cidr fd00:10:244::/48, natOutgoing true, vxlanMode Always, blockSize 122; got fd00:10:244::/48, false, Always, 122"
  fixture ippool-default-ipv6-ippool.txt "fd00:10:244::/64|true|Always|122"
  run "$VERIFY"
  assert_line --partial "FAIL  IPPool default-ipv6-ippool: want cidr fd00:10:244::/48, natOutgoing true, vxlanMode Always, blockSize 122; got fd00:10:244::/64, true, Always, 122"
  fixture ippool-default-ipv6-ippool.txt "fd00:10:244::/48|true|Always|120"
  run "$VERIFY"
  assert_line --partial "FAIL  IPPool default-ipv6-ippool: want cidr fd00:10:244::/48, natOutgoing true, vxlanMode Always, blockSize 122; got fd00:10:244::/48, true, Always, 120"
}

@test "verify: a failing cross-node IPv6 ping fails with the command to rerun" {
  fixture exec-ping.txt "PING fd00:10:244:1168:5560:68e4:6df7:2c41 (fd00:10:244:1168:5560:68e4:6df7:2c41): 56 data bytes

--- fd00:10:244:1168:5560:68e4:6df7:2c41 ping statistics ---
3 packets transmitted, 0 packets received, 100% packet loss
command terminated with exit code 1"
  fixture exec-ping.rc 1
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  IPv6 ping between pods on different nodes: multitool-xp9c5 -> multitool-hmbcg fd00:10:244:1168:5560:68e4:6df7:2c41: 3 packets transmitted, 0 packets received, 100% packet loss"
  assert_line "      investigate: kubectl exec -n default multitool-xp9c5 -- ping -6 -c 3 -W 2 fd00:10:244:1168:5560:68e4:6df7:2c41; kubectl get blockaffinities"
}

@test "verify: all pods on one node cannot prove cross-node IPv6 and fail" {
  fixture pods.txt "$(sed 's/|ipv6-lab-worker2\{0,1\}|/|ipv6-lab-control-plane|/' "$STUB_STATE/cluster/pods.txt")"
  run "$VERIFY"
  assert_line --partial "FAIL  IPv6 ping between pods on different nodes: no Running dual-stack pod on a second node to ping"
  assert_line "FAIL  3 app=multitool pods on node ipv6-lab-control-plane, want one: multitool-xp9c5 multitool-hmbcg multitool-csttt"
  assert_line --partial "FAIL  no app=multitool pod on node ipv6-lab-worker: the DaemonSet multitool runs one on every node"
  # + the DaemonSet and the worker2 pod; skipped: pod-to-pod HTTP over each family and the MTU ping (no pods on two nodes).
  assert_line "$HEALTHY_CHECKS checks, 5 failed, 3 skipped"
}

@test "verify: no multitool pods: every node's pod check fails, the checks that need a pod skip, the count stays" {
  fixture pods.txt ""
  fixture daemonset-multitool.txt "3|3|0"
  run "$VERIFY"
  assert_failure 4
  assert_line "FAIL  no app=multitool pod on node ipv6-lab-control-plane: the DaemonSet multitool runs one on every node"
  assert_line "      investigate: kubectl get daemonset,pods -n default -l app=multitool -o wide; kubectl describe node ipv6-lab-control-plane"
  assert_line "SKIP  nginx listens on IPv6 port 8080: no Running dual-stack pod to look into"
  assert_line --regexp "^$HEALTHY_CHECKS checks, 4 failed, [0-9]+ skipped$"
  refute_call "kubectl exec"
}

@test "verify: expected pools come from the facts, and the environment overrides them" {
  edit_facts "$PROJECT/dist" 'f.calico.pools[1].cidr = "fd00:10:250::/48"; f.calico.pools[1].vxlanMode = "CrossSubnet"'
  run "$VERIFY"
  assert_failure 7 # the IPv6 pool, each of the 3 pods' IPv6 addresses, and each node's IPv6 block
  assert_line --partial "want cidr fd00:10:250::/48, natOutgoing true, vxlanMode CrossSubnet, blockSize 122"
  LAB_IPV6_POOL_CIDR=fd00:10:244::/48 LAB_IPV6_VXLAN_MODE=Always run "$VERIFY"
  assert_success
}

@test "verify: a dist without facts is one clear error naming the file and the command that writes it" {
  rm -r "$PROJECT/dist/lab"
  run "$VERIFY"
  assert_failure 1
  assert_output "ERROR: no lab facts: $PROJECT/dist/lab/facts.json does not exist; the scripts take the lab's names, nodes, pools, ports and Services from it (synth writes it beside the manifests)
  fix: npm run synth   (then run this again)"
  assert [ ! -s "$STUB_LOG" ]
  rm -rf "$PROJECT/dist"
  run "$VERIFY" --plan
  assert_failure 1
  assert_output --partial "ERROR: no lab facts: $PROJECT/dist/lab/facts.json does not exist"
}

@test "verify --plan prints the plan from the facts alone, without touching the cluster" {
  run "$VERIFY" --plan
  assert_success
  assert_line --index 0 "Plan: $HEALTHY_CHECKS checks, from $PROJECT/dist/lab/facts.json"
  assert_equal "${#lines[@]}" $((HEALTHY_CHECKS + 1))
  assert_line --regexp '^  api +API server of ipv6-lab answers$'
  assert_line --regexp '^  calico-node/ipv6-lab-worker2 +calico-node is Ready on ipv6-lab-worker2$'
  assert_line --regexp '^  lab-pod/ipv6-lab-worker2 +one Ready app=multitool pod on ipv6-lab-worker2, Running with IPv4 and IPv6 addresses from the pools$'
  assert_line --regexp '^  vxlan/ipv6 +vxlan-v6.calico tunnels from the node'"'"'s IPv6 address$'
  assert [ ! -s "$STUB_LOG" ]
  # Without a kubeconfig or kubectl, the same plan.
  remove_stub kubectl
  rm "$PROJECT/ipv6-lab.kubeconfig"
  run "$VERIFY" --plan
  assert_success
  assert_line --index 0 "Plan: $HEALTHY_CHECKS checks, from $PROJECT/dist/lab/facts.json"
}

@test "verify: the plan is printed first, before any call to the cluster; results come in its order" {
  run "$VERIFY"
  assert_success
  local plan_line first_result
  plan_line=$(grep -n '^Plan: ' <<<"$output" | cut -d: -f1)
  first_result=$(grep -n '^PASS  ' <<<"$output" | head -n 1 | cut -d: -f1)
  assert [ "$plan_line" -lt "$first_result" ]
  # The ids of the plan, and the PASS lines, in the same order as the plan's titles.
  local ids
  ids=$(sed -n '/^Plan: /,/^$/p' <<<"$output" | awk 'NR > 1 && NF { print $1 }')
  assert_equal "$(grep -c . <<<"$ids")" "$HEALTHY_CHECKS"
  assert_equal "$(grep -c '^PASS  ' <<<"$output")" "$HEALTHY_CHECKS"
  assert_equal "$(sed -n 2p <<<"$ids") $(sed -n 6p <<<"$ids") $(tail -n 1 <<<"$ids")" "nodes tigerastatus/calico vxlan/ipv6"
}

@test "verify: more nodes in the facts than in the cluster: the missing node fails its checks, the count is the facts'" {
  edit_facts "$PROJECT/dist" 'f.cluster.nodes.push({ name: "ipv6-lab-worker3", role: "worker" })'
  run "$VERIFY"
  assert_failure
  assert_line --partial "FAIL  the cluster's nodes are the lab's 4 (ipv6-lab-control-plane ipv6-lab-worker ipv6-lab-worker2 ipv6-lab-worker3): missing ipv6-lab-worker3"
  assert_line "FAIL  node ipv6-lab-worker3 is Ready with IPv4 and IPv6 InternalIPs: it is not in the cluster"
  assert_line "FAIL  calico-node is Ready on ipv6-lab-worker3: there is no calico-node pod on ipv6-lab-worker3"
  assert_line "FAIL  no app=multitool pod on node ipv6-lab-worker3: the DaemonSet multitool runs one on every node"
  assert_line --partial "FAIL  node ipv6-lab-worker3 holds a confirmed /26 block"
  # 5 per-node checks more (node, calico-node, node-network, lab-pod, blocks), all failing; + nodes, the DaemonSet.
  assert_line "$((HEALTHY_CHECKS + 5)) checks, 7 failed"
}

@test "verify: a node of another cluster is named" {
  fixture nodes.txt "$(cat "$STUB_STATE/cluster/nodes.txt")
old-lab-worker|True|172.18.0.9 fc00:f853:ccd:e793::9"
  run "$VERIFY"
  assert_failure 1
  assert_line --partial "FAIL  the cluster's nodes are the lab's 3 (ipv6-lab-control-plane ipv6-lab-worker ipv6-lab-worker2): not in the lab: old-lab-worker (KUBECONFIG="
}

# --- Calico's health: the degraded states of the calico-node drill (issue 19) ---------------

@test "verify: calico-node in ErrImagePull on worker2 fails, naming the node and the reason" {
  drill calico-node-errimagepull
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  calico-node is Ready on ipv6-lab-worker2: calico-node-k4b7k is not Ready (Ready=False, waiting: ErrImagePull)"
  assert_line "      investigate: kubectl describe pod -n calico-system calico-node-k4b7k; kubectl logs -n calico-system calico-node-k4b7k -c calico-node --tail=20"
  assert_line "PASS  calico-node is Ready on ipv6-lab-worker (calico-node-q8v4d)"
  assert_line "$HEALTHY_CHECKS checks, 1 failed"
}

@test "verify: calico-node in ImagePullBackOff on worker2 fails, naming the node and the reason" {
  drill calico-node-imagepullbackoff
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  calico-node is Ready on ipv6-lab-worker2: calico-node-k4b7k is not Ready (Ready=False, waiting: ImagePullBackOff)"
  assert_line "$HEALTHY_CHECKS checks, 1 failed"
}

@test "verify: TigeraStatus calico Degraded fails with its condition messages" {
  drill tigerastatus-degraded
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  TigeraStatus calico is Available: Progressing=False, Degraded=True (Pod calico-system/calico-node-k4b7k failed to pull container image for: calico-node), Available=False"
  assert_line "      investigate: kubectl get tigerastatus calico -o yaml; kubectl logs -n tigera-operator deployment/tigera-operator --tail=50"
  assert_line "PASS  TigeraStatus apiserver is Available"
  assert_line "$HEALTHY_CHECKS checks, 1 failed"
}

@test "verify: a missing TigeraStatus fails" {
  rm "$STUB_STATE/cluster/tigerastatus-ippools.txt"
  run "$VERIFY"
  assert_failure 1
  assert_line 'FAIL  TigeraStatus ippools is Available: Error from server (NotFound): tigerastatuses.operator.tigera.io "ippools" not found'
  assert_line "$HEALTHY_CHECKS checks, 1 failed"
}

@test "verify: a node with NetworkUnavailable=True (CalicoIsDown), tainted network-unavailable, fails naming both" {
  drill node-network-unavailable
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  node ipv6-lab-worker2's network is up: NetworkUnavailable=True (CalicoIsDown); tainted node.kubernetes.io/network-unavailable: no new pods are scheduled there"
  assert_line "      investigate: kubectl describe node ipv6-lab-worker2; kubectl get pods -n calico-system -o wide --field-selector spec.nodeName=ipv6-lab-worker2"
  assert_line "$HEALTHY_CHECKS checks, 1 failed"
}

@test "verify: the DaemonSet with 2 of 3 pods fails, naming the node without one; no check disappears" {
  drill daemonset-2-of-3
  run "$VERIFY"
  assert_failure 2
  assert_line "FAIL  DaemonSet multitool runs a Ready pod on each of the lab's 3 nodes: desired 2, current 2, ready 2; no Ready pod on ipv6-lab-worker2"
  assert_line "FAIL  no app=multitool pod on node ipv6-lab-worker2: the DaemonSet multitool runs one on every node"
  assert_line "$HEALTHY_CHECKS checks, 2 failed"
}

@test "verify: the whole drill (calico-node image removed on worker2, its lab pod deleted) fails on each cause, same count" {
  drill calico-node-imagepullbackoff tigerastatus-degraded node-network-unavailable daemonset-2-of-3
  run "$VERIFY"
  assert_failure 5
  assert_line --partial "FAIL  TigeraStatus calico is Available: Progressing=False, Degraded=True (Pod calico-system/calico-node-k4b7k failed to pull container image for: calico-node)"
  assert_line --partial "FAIL  calico-node is Ready on ipv6-lab-worker2: calico-node-k4b7k is not Ready"
  assert_line --partial "FAIL  node ipv6-lab-worker2's network is up: NetworkUnavailable=True (CalicoIsDown)"
  assert_line --partial "FAIL  DaemonSet multitool runs a Ready pod on each of the lab's 3 nodes: desired 2"
  assert_line --partial "FAIL  no app=multitool pod on node ipv6-lab-worker2"
  # What the drill's real run passed, on the data path, passes here too: only Calico's health tells.
  assert_line --partial "PASS  node ipv6-lab-worker2 holds IPv4 block"
  assert_line "$HEALTHY_CHECKS checks, 5 failed"
}

@test "verify: an unreachable API server is one failure; every other planned check is skipped, saying why" {
  export STUB_API=down
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  API server of ipv6-lab answers"
  assert_line --partial "investigate: kind get clusters;"
  assert_line "SKIP  calico-node is Ready on ipv6-lab-worker2: no API server to ask"
  assert_line "$HEALTHY_CHECKS checks, 1 failed, $((HEALTHY_CHECKS - 1)) skipped"
  refute_call "kubectl get nodes"
}

@test "verify: a missing kubeconfig says to deploy first" {
  rm "$PROJECT/ipv6-lab.kubeconfig"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  kubeconfig $PROJECT/ipv6-lab.kubeconfig exists"
  assert_line "      investigate: ./deploy.sh   (or set LAB_KUBECONFIG to the lab's kubeconfig)"
}

@test "verify: no kubectl is one failure" {
  remove_stub kubectl
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  kubectl is on PATH"
}

@test "verify --help lists its variables" {
  run "$VERIFY" --help
  assert_success
  assert_output --partial LAB_SVC_DUAL_STACK
  assert_output --partial LAB_IPV6_POOL_CIDR
  assert [ ! -s "$STUB_LOG" ]
}

@test "verify: natOutgoing, Service port and the app port come from the facts (issue 12 item 1)" {
  edit_facts "$PROJECT/dist" 'f.calico.pools.forEach(p => p.natOutgoing = false);
    f.workload.services.forEach(s => { s.port = 8081; s.targetPort = 9090 }); f.workload.daemonSet.port = 9090'
  fixture service-port.txt 8081
  run "$VERIFY" --help
  assert_output --partial "LAB_SVC_PORT         Service port [8081]"
  assert_output --partial "LAB_APP_PORT         port nginx listens on in the pods [9090]"
  run "$VERIFY"
  assert_line --partial "FAIL  IPPool default-ipv4-ippool: want cidr 192.168.0.0/16, natOutgoing false,"
  assert_line "PASS  curl Service multitool-dual-stack over IPv4: http://10.96.45.12:8081/ -> HTTP 200"
  assert_line --partial "FAIL  nginx listens on IPv6 port 9090"
}

@test "verify: an exported KUBECONFIG is the cluster checked; LAB_KUBECONFIG still wins (issue 12 item 7)" {
  echo "apiVersion: v1" >"$BATS_TEST_TMPDIR/other.kubeconfig"
  export KUBECONFIG=$BATS_TEST_TMPDIR/other.kubeconfig
  run "$VERIFY"
  assert_success
  assert_line "Verifying lab \"ipv6-lab\" (KUBECONFIG=$BATS_TEST_TMPDIR/other.kubeconfig)"
  LAB_KUBECONFIG=$BATS_TEST_TMPDIR/missing.kubeconfig run "$VERIFY"
  assert_failure 1
  assert_line --partial "FAIL  kubeconfig $BATS_TEST_TMPDIR/missing.kubeconfig exists"
}

@test "verify: kubectl more than one minor from the server warns (issue 12 item 7)" {
  cp "$FIXTURES/kubectl-version-skewed.json" "$STUB_STATE/cluster/kubectl-version.json"
  run "$VERIFY"
  assert_success
  assert_output --partial "WARNING: version difference between kubectl (1.32) and the lab's API server (1.28)"
}
