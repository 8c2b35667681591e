#!/usr/bin/env bats
# verify.sh against a stubbed kubectl replaying the lab README's outputs,
# made dual-stack (see fixtures/cluster).

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

@test "verify: passes on the README's (dual-stack) outputs" {
  run "$VERIFY"
  assert_success
  refute_output --partial FAIL
  refute_output --partial SKIP
  assert_line "PASS  node ipv6-lab-worker is Ready with IPv4 and IPv6 InternalIPs (172.18.0.3 fc00:f853:ccd:e793::3)"
  assert_line "PASS  IPPool default-ipv4-ippool: cidr 192.168.0.0/16, natOutgoing true, vxlanMode CrossSubnet, blockSize 26"
  assert_line "PASS  IPPool default-ipv6-ippool: cidr fd00:10:244::/48, natOutgoing true, vxlanMode Always, blockSize 122"
  assert_line "PASS  pod multitool-csttt on ipv6-lab-worker2 is Running with IPv4 192.168.98.1 and IPv6 fd00:10:244:d01c:d569:d420:c640:6201 from the pools"
  assert_line --partial "PASS  IPv6 ping between pods on different nodes: multitool-xp9c5 -> multitool-hmbcg fd00:10:244:1168:5560:68e4:6df7:2c41"
  assert_line "PASS  curl Service multitool-dual-stack over IPv6: http://[fd00:10:96::abcd]:80/ -> HTTP 200"
  assert_line "PASS  curl Service multitool-dual-stack over IPv4: http://10.96.45.12:80/ -> HTTP 200"
  assert_line "PASS  curl Service multitool-ipv6-only over IPv6: http://[fd00:10:96::1234]:80/ -> HTTP 200"
  assert_line "PASS  nginx listens on IPv6 port 8080 in multitool-xp9c5 (:::8080)"
  assert_line "32 checks, 0 failed"
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
  assert_line "FAIL  pod multitool-hmbcg on ipv6-lab-worker is Running with one IPv4 and one IPv6 address from the pools: 0 IPv6 addresses (pod IPs: 192.168.217.1)"
  assert_line "      investigate: kubectl get pod -n default multitool-hmbcg -o jsonpath='{.status.phase} {.status.podIPs}'; kubectl describe pod -n default multitool-hmbcg"
  # The ping then goes to the next healthy pod on another node.
  assert_line --partial "PASS  IPv6 ping between pods on different nodes: multitool-xp9c5 -> multitool-csttt"
  assert_line "32 checks, 1 failed"
}

@test "verify: a pod IP outside its pool fails" {
  fixture pods.txt "multitool-xp9c5|ipv6-lab-control-plane|Running|10.244.0.5 fd00:10:244::5
multitool-hmbcg|ipv6-lab-worker|Running|192.168.217.1 fd00:10:245::7"
  run "$VERIFY"
  assert_failure 3 # both pods, and the HTTP check to the moved IPv6 address (no fixture answers it)
  assert_line --partial "FAIL  pod multitool-xp9c5 on ipv6-lab-control-plane is Running with one IPv4 and one IPv6 address from the pools: 10.244.0.5 outside 192.168.0.0/16"
  assert_line --partial "FAIL  pod multitool-hmbcg on ipv6-lab-worker is Running with one IPv4 and one IPv6 address from the pools: fd00:10:245::7 outside fd00:10:244::/48"
  # Both pods can still be used for the connectivity checks.
  assert_line --partial "PASS  IPv6 ping between pods on different nodes: multitool-xp9c5 -> multitool-hmbcg fd00:10:245::7"
}

@test "verify: a pod that is not Running fails" {
  fixture pods.txt "$(sed 's/^\(multitool-csttt|ipv6-lab-worker2|\)Running|.*/\1Pending|/' "$STUB_STATE/cluster/pods.txt")"
  run "$VERIFY"
  assert_failure 1
  assert_line --partial "FAIL  pod multitool-csttt on ipv6-lab-worker2 is Running with one IPv4 and one IPv6 address from the pools: phase Pending, 0 IPv4 addresses, 0 IPv6 addresses"
}

@test "verify: a dual-stack Service with one family fails and its IPv6 curl is skipped" {
  fixture service-multitool-dual-stack.txt "10.96.45.12"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  Service multitool-dual-stack has IPv4 and IPv6 ClusterIPs (got: 10.96.45.12)"
  assert_line "      investigate: kubectl get service -n default multitool-dual-stack -o yaml"
  assert_line "SKIP  curl Service multitool-dual-stack over IPv6: it has no IPv6 ClusterIP"
  assert_line "PASS  curl Service multitool-dual-stack over IPv4: http://10.96.45.12:80/ -> HTTP 200"
}

@test "verify: an IPv6-only Service with an IPv4 ClusterIP fails" {
  fixture service-multitool-ipv6-only.txt "10.96.77.1"
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  Service multitool-ipv6-only has IPv6 ClusterIP only (got: 10.96.77.1)"
}

@test "verify: a missing Service fails" {
  rm "$STUB_STATE/cluster/service-multitool-ipv6-only.txt"
  run "$VERIFY"
  assert_failure 1
  assert_line --partial "FAIL  Service multitool-ipv6-only exists (Error from server (NotFound)"
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
  assert_line "32 checks, 3 failed"
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
  assert_failure 1
  assert_line --partial "FAIL  IPv6 ping between pods on different nodes: no Running dual-stack pod on a second node to ping"
}

@test "verify: no multitool pods fails once and skips the checks that need a pod" {
  fixture pods.txt ""
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  pods -l app=multitool exist in namespace default"
  assert_line "SKIP  nginx listens on IPv6 port 8080: no Running dual-stack pod to look into"
  refute_call "kubectl exec"
}

@test "verify: expected pools come from dist/, and the environment overrides dist/" {
  sed -i 's|fd00:10:244::/48|fd00:10:250::/48|; s|vxlanMode: Always|vxlanMode: CrossSubnet|' "$PROJECT/dist/0000-calico.k8s.yaml"
  run "$VERIFY"
  assert_failure 7 # the IPv6 pool, each of the 3 pods' IPv6 addresses, and each node's IPv6 block
  assert_line --partial "want cidr fd00:10:250::/48, natOutgoing true, vxlanMode CrossSubnet, blockSize 122"
  LAB_IPV6_POOL_CIDR=fd00:10:244::/48 LAB_IPV6_VXLAN_MODE=Always run "$VERIFY"
  assert_success
}

@test "verify: without dist/ the README's values are expected" {
  rm -rf "$PROJECT/dist"
  run "$VERIFY"
  assert_success
  assert_output --partial "default-ipv6-ippool fd00:10:244::/48 (Always), from defaults"
}

@test "verify: an unreachable API server is one failure and stops there" {
  export STUB_API=down
  run "$VERIFY"
  assert_failure 1
  assert_line "FAIL  API server of ipv6-lab answers"
  assert_line --partial "investigate: kind get clusters;"
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

@test "verify: natOutgoing, Service port and targetPort come from dist/ (issue 12 item 1)" {
  sed -i 's/natOutgoing: true/natOutgoing: false/' "$PROJECT/dist/0000-calico.k8s.yaml"
  sed -i 's/port: 80$/port: 8081/; s/targetPort: 8080$/targetPort: 9090/' "$PROJECT/dist/0001-multitool.k8s.yaml"
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
