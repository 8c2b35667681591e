#!/usr/bin/env bats
# deploy.sh and destroy.sh on the routing "bgp" lab (scripts/lib/variant-bgp.sh), against the stubs:
# the router started after the cluster, kept when it runs this dist, refused when it runs another; the
# kind network and the router's addresses checked; the sessions waited for; the router removed.

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
  DEPLOY=$REPO_ROOT/deploy.sh
  DESTROY=$REPO_ROOT/destroy.sh
  FRR_DIR=$(cd "$PROJECT/dist/frr" && pwd -P)
}

@test "bgp deploy: the router starts after the cluster, with the dist's frr/, and deploy waits for its sessions" {
  run "$DEPLOY"
  assert_success
  assert_calls_in_order \
    "docker network inspect kind --format {{range .IPAM.Config}}{{.Subnet}} {{end}}" \
    "kind create cluster --name ipv6-lab" \
    "docker network inspect kind --format {{range .IPAM.Config}}{{.Subnet}} {{end}}" \
    "docker network inspect kind --format {{range .Containers}}{{.Name}}|{{.IPv4Address}}|{{.IPv6Address}}" \
    "docker pull quay.io/frrouting/frr:8.4.5" \
    "docker run --detach --name ipv6-lab-router --hostname ipv6-lab-router --network kind --ip6 fc00:f853:ccd:e793::fffe --cap-add NET_ADMIN --cap-add NET_RAW --cap-add SYS_ADMIN --label calico-ipv6-lab/cluster=ipv6-lab --label calico-ipv6-lab/role=router --label calico-ipv6-lab/router-ipv4=172.18.255.254 --label calico-ipv6-lab/router-config=daemons=" \
    "kubectl apply --server-side --force-conflicts" \
    "kubectl apply -f $PROJECT/dist" \
    "kubectl wait --for=condition=Available tigerastatus/calico tigerastatus/apiserver" \
    "docker exec ipv6-lab-router vtysh -c show bgp summary json" \
    "kubectl rollout status -n default daemonset/multitool"
  local deploy_output=$output
  # The configuration read-only on FRR's /etc/frr; the lab's IPv4 address added before FRR starts.
  run calls
  assert_output --partial "--volume ${FRR_DIR}:/etc/frr:ro --env LAB_ROUTER_IPV4=172.18.255.254/16 quay.io/frrouting/frr:8.4.5 sh -c ip address add \"\$LAB_ROUTER_IPV4\" dev eth0 && exec /usr/lib/frr/docker-start"
  output=$deploy_output
  assert_output --partial "docker network kind: absent; the router's addresses are checked once kind creates it"
  assert_output --partial "docker network kind: 172.18.0.0/16 and fc00:f853:ccd:e793::/64 hold the router's 172.18.255.254 and fc00:f853:ccd:e793::fffe, free"
  assert_output --partial "router ipv6-lab-router: running"
  assert_output --partial "waiting up to 180s for every node's BGP session with the router ipv6-lab-router (quay.io/frrouting/frr:8.4.5) to be Established, over IPv4 and IPv6"
  assert_output --partial "the router has an Established session with every node over IPv4 and IPv6, its policy in place"
  assert_output --partial "67 checks, 0 failed, 2 skipped"
  assert_output --partial "docker exec ipv6-lab-router vtysh -c 'show bgp summary'"
}

@test "bgp deploy: a second run keeps the router that runs this dist" {
  run "$DEPLOY"
  assert_success
  : >"$STUB_LOG"
  run "$DEPLOY"
  assert_success
  refute_call "docker run --detach"
  refute_call "docker pull quay.io/frrouting/frr"
  assert_output --partial "router ipv6-lab-router: running, with $PROJECT/dist/frr as it is now"
}

@test "bgp deploy: a router running another frr.conf is refused before anything changes, naming the file and the fix" {
  cluster_exists_already
  bgp_router_running "daemons=$(sha256sum "$FRR_DIR/daemons" | cut -d' ' -f1) frr.conf=aaaaaaaaaaaaaaaaaaaa vtysh.conf=$(sha256sum "$FRR_DIR/vtysh.conf" | cut -d' ' -f1)"
  run "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: router ipv6-lab-router runs another configuration than $PROJECT/dist; FRR does not reload it by itself:"
  assert_output --regexp "  - frr.conf: changed since the router started \(sha256 aaaaaaaaaaaa then, [0-9a-f]{12} now\): FRR still runs the old one"
  assert_output --partial "fix: docker rm -f ipv6-lab-router, then ./deploy.sh   (deploy starts it again from $PROJECT/dist/frr; the cluster stays)"
  assert_output --partial "step 3/8 failed: Create the kind cluster"
  refute_call "kind export kubeconfig"
  refute_call "kind create"
  refute_call "docker run --detach"
}

@test "bgp deploy: a router of another image and address is refused, each difference named" {
  cluster_exists_already
  bgp_router_running
  sed -i 's/|quay.io\/frrouting\/frr:8.4.5|fc00:f853:ccd:e793::fffe|/|quay.io\/frrouting\/frr:8.4.2|fc00:f853:ccd:e793::fffd|/' "$STUB_STATE/cluster/docker/$ROUTER.inspect"
  run "$DEPLOY"
  assert_failure
  assert_output --partial "  - image: the router runs quay.io/frrouting/frr:8.4.2, $PROJECT/dist wants quay.io/frrouting/frr:8.4.5"
  assert_output --partial "  - IPv6 address: the router has fc00:f853:ccd:e793::fffd, $PROJECT/dist wants fc00:f853:ccd:e793::fffe"
  refute_call "kind create"
}

@test "bgp deploy preflight: kind's network on another IPv4 range is refused before kind create, with the fix" {
  export STUB_KIND_NETWORK=ipv6 STUB_KIND_NETWORK_SUBNETS="172.19.0.0/16 fc00:f853:ccd:e793::/64"
  run "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: the router cannot join the Docker network kind as the lab configures it:"
  assert_output --partial "  - router.network.ipv4 is 172.18.0.0/16, but the Docker network kind has 172.19.0.0/16: the router would accept no node's IPv4 session"
  assert_output --partial "  - router.peerIPs.ipv4 172.18.255.254 is outside the Docker network kind's 172.19.0.0/16"
  assert_output --partial "fix: docker network inspect kind; set router.network and router.peerIPs in lab.config.yaml to that network (docs/bgp.md), then ./deploy.sh"
  refute_call "kind create"
  refute_call "docker run --detach"
}

@test "bgp deploy preflight: a container holding the router's address is refused" {
  export STUB_KIND_NETWORK=ipv6
  printf 'ipv6-lab-external|172.18.0.5/16|fc00:f853:ccd:e793::5/64\nsquatter|172.18.255.254/16|\n' >"$STUB_STATE/kind-network-containers"
  run "$DEPLOY"
  assert_failure
  assert_output --partial "  - the container squatter holds 172.18.255.254, the router's IPv4 address"
  refute_call "kind create"
}

@test "bgp deploy preflight: the router's configuration missing from the dist stops with the synth command" {
  rm "$PROJECT/dist/frr/frr.conf"
  export LAB_SYNTH=never
  run "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: the router's configuration $PROJECT/dist/frr/frr.conf is missing (routing: bgp)"
  assert_output --partial "fix: npm run synth"
  refute_call "kind create"
}

@test "bgp deploy preflight: LAB_CLUSTER_NAME other than the config's name is refused (the dist's CalicoNodeStatus objects name the config's nodes)" {
  export LAB_CLUSTER_NAME=other-lab
  run "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: LAB_CLUSTER_NAME=other-lab, but this routing: bgp dist names its nodes after ipv6-lab (CalicoNodeStatus ipv6-lab-control-plane, ...): verify could read no BGP session of other-lab's nodes"
  assert_output --partial "fix: set name: other-lab in lab.config.yaml, then npm run synth (or unset LAB_CLUSTER_NAME)"
  refute_call "kind create"
}

@test "bgp deploy: a router that stops at once (FRR without its capabilities) fails step 3 with its log" {
  export STUB_ROUTER_RUN=exits
  run "$DEPLOY"
  assert_failure
  assert_output --partial "privs_init: initial cap_set_proc failed: Operation not permitted"
  assert_output --partial "ERROR: the router ipv6-lab-router stopped right after it started (its log above)"
  assert_output --partial "step 3/8 failed: Create the kind cluster"
}

@test "bgp deploy: sessions that never come up time out naming them, then the diagnosis shows both sides" {
  export LAB_BGP_TIMEOUT=1 LAB_DIAG_LOG_LINES=1
  bgp_broken session-down-worker-ipv6
  run "$DEPLOY"
  assert_failure
  assert_output --partial "Waiting for sessions: fc00:f853:ccd:e793::3 no session"
  assert_output --partial "ERROR: timed out after 1s waiting for every node's BGP session with the router ipv6-lab-router"
  assert_output --partial "step 6/8 failed: Wait for Calico"
  assert_output --partial "The router's BGP sessions (docker exec ipv6-lab-router vtysh -c 'show bgp summary'):"
  assert_output --partial "  IPv6 Unicast Summary (VRF default):"
  assert_output --partial "calico-node's BIRD, per node (kubectl get caliconodestatuses; peer=type=state):"
  assert_output --partial "  ipv6-lab-worker: BIRD Ready/Ready, updated 2026-12-02T06:02:21Z"
  assert_output --partial "    IPv6: fc00:f853:ccd:e793::2=NodeMesh=Established,fc00:f853:ccd:e793::4=NodeMesh=Established,fc00:f853:ccd:e793::fffe=GlobalPeer=Active,"
}

@test "bgp deploy: the router's image present on the host is not pulled" {
  export STUB_HOST_IMAGES=present
  run "$DEPLOY"
  assert_success
  assert_output --partial "router image quay.io/frrouting/frr:8.4.5: present"
  refute_call "docker pull quay.io/frrouting/frr"
}

@test "bgp destroy: removes the router with the cluster" {
  cluster_exists_already
  bgp_router_running
  run "$DESTROY" --yes
  assert_success
  assert_calls_in_order "kind delete cluster --name ipv6-lab" "docker rm -f ipv6-lab-router"
  assert_output --partial "Removed the router container ipv6-lab-router"
  assert [ ! -e "$STUB_STATE/cluster/docker/$ROUTER.inspect" ]
}

@test "bgp destroy: without the facts, finds the cluster's router by its labels" {
  cluster_exists_already
  bgp_router_running
  rm -rf "$PROJECT/dist"
  LAB_CLUSTER_NAME=ipv6-lab run "$DESTROY" --yes
  assert_success
  assert_call() { grep -F -- "$1" "$STUB_LOG" >/dev/null || { echo "missing call: $1"; cat "$STUB_LOG"; false; }; }
  assert_call "docker ps -a --filter label=calico-ipv6-lab/role=router --filter label=calico-ipv6-lab/cluster=ipv6-lab"
  assert_call "docker rm -f ipv6-lab-router"
  assert_output --partial "Removed the router container ipv6-lab-router"
}

@test "bgp destroy: a router left by a bgp lab is removed once the lab is back to vxlan" {
  cluster_exists_already
  bgp_router_running
  rm -rf "$PROJECT/dist"
  cp -R "$DEFAULTS_DIST" "$PROJECT/dist"
  run "$DESTROY" --yes
  assert_success
  assert_output --partial "Removed the router container ipv6-lab-router"
}

@test "vxlan destroy: no router to remove, and nothing said about one" {
  rm -rf "$PROJECT/dist"
  cp -R "$DEFAULTS_DIST" "$PROJECT/dist"
  cluster_exists_already
  run "$DESTROY" --yes
  assert_success
  refute_output --partial "router"
}

@test "bgp docs: docs/bgp.md's deploy samples are deploy.sh's output on the stubs" {
  run "$DEPLOY"
  assert_success
  local sample out=${output//$PROJECT/\~/calico-ipv6-lab}
  for marker in deploy.sh "deploy.sh step 6"; do
    sample=$(doc_sample "$marker")
    [[ -n "$sample" ]] || fail "docs/bgp.md has no sample '$marker'"
    [[ "$out" == *"$sample"* ]] || fail "docs/bgp.md's sample '$marker' is not in deploy.sh's output:
$out"
  done
}
