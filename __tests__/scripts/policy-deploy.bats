#!/usr/bin/env bats
# deploy.sh with the network-policy lesson on (scripts/lib/variant-policy.sh,
# scripts/lib/external-host.sh): the fixed addresses checked against kind's
# network, the external host started at them, policy/ applied once the
# Calico API server serves projectcalico.org/v3, the external host routed to
# the pods' blocks; and nothing of it with policy off. The stub cluster is the
# recorded kind run (fixtures/policy/cluster/, see policy-verify.bats).

bats_require_minimum_version 1.5.0

load helpers/lab

setup_file() { lab_setup_file; }

setup() {
  lab_setup
  synth_into "$PROJECT/dist" 'policy: on'
  cp -R "$FIXTURES/policy/cluster/." "$STUB_STATE/cluster/"
  # Not running yet: deploy starts it.
  rm "$STUB_STATE/cluster/docker/ipv6-lab-external.inspect"
  export LAB_POLICY_TIMEOUT=2
  DEPLOY=$REPO_ROOT/deploy.sh
  EXT_CMDS=$STUB_STATE/cluster/node/ipv6-lab-external
  # What kubectl answers to the lesson's wait and apply (real kubectl's words for these objects).
  seq_answer policy-wait "wait --for=condition=Available tigerastatus/apiserver apiservice/v3.projectcalico.org" 0 \
    "tigerastatus.operator.tigera.io/apiserver condition met" \
    "apiservice.apiregistration.k8s.io/v3.projectcalico.org condition met"
  seq_answer policy-apply "apply -f $PROJECT/dist/policy/" 0 \
    "networkpolicy.projectcalico.org/allow-ping created" \
    "networkpolicy.networking.k8s.io/allow-dns created" \
    "networkpolicy.networking.k8s.io/allow-external-host created" \
    "networkpolicy.networking.k8s.io/allow-multitool created" \
    "networkpolicy.networking.k8s.io/default-deny created"
  # `ip route replace` prints nothing.
  local block
  for block in "-4 route replace 192.168.195.192/26 via 172.18.0.2 src 172.18.255.250" \
    "-6 route replace fd00:10:244:a1f9:396e:2dd6:3f70:c3c0/122 via fc00:f853:ccd:e793::2 src fc00:f853:ccd:e793:ffff::fa" \
    "-4 route replace 192.168.106.128/26 via 172.18.0.3 src 172.18.255.250" \
    "-6 route replace fd00:10:244:6a81:e39d:1504:3117:bc80/122 via fc00:f853:ccd:e793::3 src fc00:f853:ccd:e793:ffff::fa" \
    "-4 route replace 192.168.129.192/26 via 172.18.0.4 src 172.18.255.250" \
    "-6 route replace fd00:10:244:4c62:c4fa:dbc4:afce:81c0/122 via fc00:f853:ccd:e793::4 src fc00:f853:ccd:e793:ffff::fa"; do
    : >"$EXT_CMDS/$(key "ip $block").txt"
  done
}

# seq_answer NAME MATCH RC LINE...: kubectl answers calls starting with MATCH with LINEs and RC.
seq_answer() {
  local dir=$STUB_STATE/cluster/seq/$1
  mkdir -p "$dir"
  printf '%s\n' "$2" >"$dir/match"
  echo "$3" >"$dir/1.rc"
  shift 3
  if (($# > 0)); then printf '%s\n' "$@" >"$dir/1.out"; else rm -f "$dir/1.out"; fi
}

@test "policy deploy: after Calico, waits for the Calico API server, applies policy/, routes the external host, verifies the lesson" {
  run "$DEPLOY"
  assert_success
  assert_calls_in_order \
    "kind create cluster --name ipv6-lab" \
    "docker network inspect kind --format {{range .IPAM.Config}}" \
    "docker network inspect kind --format {{range .Containers}}{{.Name}}|{{.IPv4Address}}|{{.IPv6Address}}" \
    "kubectl apply -f $PROJECT/dist" \
    "kubectl wait --for=condition=Available tigerastatus/calico tigerastatus/apiserver" \
    "kubectl wait --for=condition=Available tigerastatus/apiserver apiservice/v3.projectcalico.org --timeout=2s" \
    "kubectl apply -f $PROJECT/dist/policy/" \
    "kubectl rollout status -n default daemonset/multitool" \
    "kubectl get blockaffinities.crd.projectcalico.org" \
    "docker exec ipv6-lab-external ip -4 route replace 192.168.195.192/26 via 172.18.0.2 src 172.18.255.250" \
    "docker exec ipv6-lab-external ip -6 route replace fd00:10:244:a1f9:396e:2dd6:3f70:c3c0/122 via fc00:f853:ccd:e793::2 src fc00:f853:ccd:e793:ffff::fa" \
    "kubectl get --raw=/readyz"
  # Started in the background while Calico comes up, at the fixed addresses; done before the routes.
  assert_calls_in_order "kubectl apply -f $PROJECT/dist" \
    "docker run -d --name ipv6-lab-external --hostname ipv6-lab-external --network kind --ip6 fc00:f853:ccd:e793:ffff::fa --cap-add NET_ADMIN -e LAB_EXTERNAL_IPV4=172.18.255.250 --label calico-ipv6-lab/cluster=ipv6-lab" \
    "docker exec ipv6-lab-external ip -4 route replace"
  # The IPv4 address is added inside the container: Docker refuses --ip on kind's network.
  refute_call "--ip 172.18.255.250"
  # (The log holds docker run's arguments, the nginx.conf's lines included; the script is the last one.)
  grep -F -- '--entrypoint sh wbitt/network-multitool:alpine-extra -c ip addr add "${LAB_EXTERNAL_IPV4}/32" dev eth0 && mkdir -p /run/nginx' "$STUB_LOG" >/dev/null ||
    fail "the external host's entry script does not add the fixed IPv4 before nginx starts"
  assert_output --partial "  policy lesson: the Docker network kind does not exist yet; its external host's addresses are checked once kind has created it"
  assert_output --partial "  policy lesson: the external host's 172.18.255.250 and fc00:f853:ccd:e793:ffff::fa are inside the Docker network kind (172.18.0.0/16 fc00:f853:ccd:e793::/64) and unused"
  assert_output --partial "  at the policy lesson's fixed addresses: --ip6 fc00:f853:ccd:e793:ffff::fa, and 172.18.255.250 added inside (Docker refuses --ip on kind's network)"
  assert_output --partial "external host ipv6-lab-external: 172.18.255.250 fc00:f853:ccd:e793:ffff::fa"
  assert_output --partial "waiting up to 2s for TigeraStatus apiserver and APIService v3.projectcalico.org to be Available"
  assert_output --partial "    apiservice.apiregistration.k8s.io/v3.projectcalico.org condition met"
  assert_output --partial "    networkpolicy.projectcalico.org/allow-ping created"
  assert_output --partial "    192.168.106.128/26 via 172.18.0.3 (ipv6-lab-worker) src 172.18.255.250"
  assert_output --partial "71 checks, 0 failed"
  assert_output --partial "Policy lesson: 5 policies from $PROJECT/dist/policy/ (docs/policy.md). ./verify.sh proves its 22 matrix rows on IPv4 and IPv6;"
  [[ "$(grep -c 'docker exec ipv6-lab-external ip -[46] route replace' "$STUB_LOG")" == 6 ]] || fail "want one route per block"
}

@test "policy deploy: the Calico API server never Available: step 6 fails in bounded time, naming the wait and what to look at" {
  seq_answer policy-wait "wait --for=condition=Available tigerastatus/apiserver apiservice/v3.projectcalico.org" 1
  echo "error: timed out waiting for the condition on apiservices/v3.projectcalico.org" >"$STUB_STATE/cluster/seq/policy-wait/1.err"
  local start=$SECONDS
  run "$DEPLOY"
  assert_failure
  assert [ $((SECONDS - start)) -lt 20 ]
  assert_output --partial "timed out after 2s waiting for TigeraStatus apiserver and APIService v3.projectcalico.org to be Available"
  assert_output --partial "step 6/8 failed: Wait for Calico"
  assert_output --partial "The policy lesson waited for the Calico API server, which serves projectcalico.org/v3 (allow-ping). Look at:"
  assert_line "  kubectl get tigerastatus apiserver -o yaml"
  assert_line "  kubectl get apiservice v3.projectcalico.org -o yaml"
  assert_line "  kubectl -n calico-apiserver get pods"
  refute_call "kubectl apply -f $PROJECT/dist/policy/"
}

@test "policy deploy: the APIService not there yet (NotFound) is waited for, not an error" {
  seq_answer policy-wait "wait --for=condition=Available tigerastatus/apiserver apiservice/v3.projectcalico.org" 1
  echo 'Error from server (NotFound): apiservices.apiregistration.k8s.io "v3.projectcalico.org" not found' >"$STUB_STATE/cluster/seq/policy-wait/1.err"
  printf '%s\n' "tigerastatus.operator.tigera.io/apiserver condition met" "apiservice.apiregistration.k8s.io/v3.projectcalico.org condition met" >"$STUB_STATE/cluster/seq/policy-wait/2.out"
  echo 0 >"$STUB_STATE/cluster/seq/policy-wait/2.rc"
  run "$DEPLOY"
  assert_success
  assert_output --partial '    Error from server (NotFound): apiservices.apiregistration.k8s.io "v3.projectcalico.org" not found   (not yet: retrying)'
  assert_calls_in_order "kubectl wait --for=condition=Available tigerastatus/apiserver apiservice/v3.projectcalico.org" \
    "kubectl wait --for=condition=Available tigerastatus/apiserver apiservice/v3.projectcalico.org" \
    "kubectl apply -f $PROJECT/dist/policy/"
}

@test "policy deploy preflight: a fixed address outside kind's network is refused before kind create, naming the key" {
  export STUB_KIND_NETWORK=ipv6
  synth_into "$PROJECT/dist" $'policy: on\nexternalHost:\n  ipv4: 172.19.0.250'
  run "$DEPLOY"
  assert_failure
  assert_line "ERROR: externalHost.ipv4: got 172.19.0.250, outside the Docker network 'kind' (subnets: 172.18.0.0/16 fc00:f853:ccd:e793::/64); allowed: an unused address inside its IPV4 subnet"
  assert_output --partial "ERROR: the policy lesson's external host cannot run at its fixed addresses (1 problem(s) above): the policies name it by them"
  assert_output --partial "fix: set externalHost.ipv4 / externalHost.ipv6 in lab.config.yaml to unused addresses of the Docker network 'kind'"
  assert_output --partial "step 3/8 failed"
  refute_call "kind create cluster"
}

@test "policy deploy preflight: a fixed address another container holds is refused, naming the container" {
  export STUB_KIND_NETWORK=ipv6
  printf '%s\n' "other-lab-control-plane|172.18.255.250/16|fc00:f853:ccd:e793::2/64" "ipv6-lab-external|172.18.0.5/16|fc00:f853:ccd:e793:ffff::fa/64" >"$STUB_STATE/kind-network-containers"
  run "$DEPLOY"
  assert_failure
  assert_line "ERROR: externalHost.ipv4: got 172.18.255.250, which container other-lab-control-plane already holds on the Docker network 'kind'; allowed: an unused address inside 172.18.0.0/16"
  # The lab's own external host (a re-run) holds its addresses rightly.
  refute_output --partial "which container ipv6-lab-external"
  refute_call "kind create cluster"
}

@test "policy deploy: an external host started without the lesson is replaced by one at the fixed addresses" {
  echo "true|172.18.0.5|fc00:f853:ccd:e793::5" >"$STUB_STATE/cluster/docker/ipv6-lab-external.inspect"
  run "$DEPLOY"
  assert_success
  assert_calls_in_order "docker rm -f ipv6-lab-external" "docker run -d --name ipv6-lab-external --hostname ipv6-lab-external --network kind --ip6 fc00:f853:ccd:e793:ffff::fa"
}

@test "policy deploy: policy off changes nothing: no API server wait, no policy/, the external host as Docker places it" {
  rm -rf "$PROJECT/dist"
  cp -R "$DEFAULTS_DIST" "$PROJECT/dist"
  cp -R "$FIXTURES/cluster/." "$STUB_STATE/cluster/"
  rm -rf "$STUB_STATE/cluster/seq"
  rm "$STUB_STATE/cluster/docker/ipv6-lab-external.inspect"
  run "$DEPLOY"
  assert_success
  refute_call "apiservice"
  refute_call "/policy/"
  refute_call "--ip6"
  refute_call "NET_ADMIN"
  refute_call "route replace"
  refute_call "{{.IPv4Address}}"
  refute_output --partial "policy lesson"
  assert_output --partial "43 checks, 0 failed"
}
