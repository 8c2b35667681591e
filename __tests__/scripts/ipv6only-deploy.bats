#!/usr/bin/env bats
# deploy.sh and destroy.sh for the IPv6-only lab (`ipFamilies: [IPv6]`, rendered by the real synth),
# against the stubbed docker/kind/kubectl: the variant's hooks (scripts/lib/variant-ipv6only.sh) check
# the host, start the DNS forwarder, the NAT64 and the IPv4-only host, route the prefix on every node,
# roll CoreDNS onto the dist's Corefile; a second deploy changes nothing; destroy removes it all, by name
# too. The dual-stack default does none of it.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  load helpers/ipv6only
  ipv6only_setup_file
}

setup() {
  load helpers/lab
  load helpers/ipv6only
  lab_setup
  DEPLOY=$REPO_ROOT/deploy.sh
  DESTROY=$REPO_ROOT/destroy.sh
}

# v6_deploy_ready: the IPv6-only dist, nothing deployed yet.
v6_deploy_ready() {
  ipv6only_lab
  ipv6only_not_deployed
}

@test "deploy, IPv6-only: checks the host, starts the forwarder, the NAT64 and the IPv4-only host, routes the prefix, rolls CoreDNS, verifies" {
  v6_deploy_ready
  run "$DEPLOY"
  assert_success
  assert_calls_in_order \
    "docker run --device /dev/net/tun --rm --network host --entrypoint sh kindest/node:v1.28.15@sha256:" \
    "kind create cluster --name ipv6-lab" \
    "docker network inspect kind --format {{range .IPAM.Config}}" \
    "docker network create --driver bridge --label calico-ipv6-lab/cluster=ipv6-lab ipv6-lab-ipv4" \
    "docker build -t calico-ipv6-lab/tayga:0.9.2-8 -" \
    "docker create --name ipv6-lab-nat64 --hostname ipv6-lab-nat64 --network kind --ip6 fc00:f853:ccd:e793::64 --cap-add NET_ADMIN --device /dev/net/tun --sysctl net.ipv4.ip_forward=1 --sysctl net.ipv6.conf.all.forwarding=1" \
    "docker cp " \
    "docker network connect ipv6-lab-ipv4 ipv6-lab-nat64" \
    "docker start ipv6-lab-nat64" \
    "docker logs ipv6-lab-nat64" \
    "docker pull registry.k8s.io/coredns/coredns:v1.10.1@sha256:a0ead06651cf580044aeb0a0feba63591858fb2e43ade8c9dea45a6a89ae7e5e" \
    "docker create --name ipv6-lab-dns --hostname ipv6-lab-dns --network kind --ip6 fc00:f853:ccd:e793::53" \
    "docker network connect ipv6-lab-ipv4 ipv6-lab-dns" \
    "docker start ipv6-lab-dns" \
    "docker create --name ipv6-lab-ipv4-host --hostname ipv6-lab-ipv4-host --network ipv6-lab-ipv4 --cap-add NET_ADMIN" \
    "docker start ipv6-lab-ipv4-host" \
    "docker exec ipv6-lab-ipv4-host ip route replace 192.168.255.0/24 via 172.19.0.2" \
    "docker exec ipv6-lab-control-plane ip -6 route replace fd00:10:64::/96 via fc00:f853:ccd:e793::64" \
    "docker exec ipv6-lab-worker ip -6 route replace fd00:10:64::/96 via fc00:f853:ccd:e793::64" \
    "docker exec ipv6-lab-worker2 ip -6 route replace fd00:10:64::/96 via fc00:f853:ccd:e793::64" \
    "kubectl apply -f $V6_PROJECT_DIST" \
    "kubectl patch deployment -n kube-system coredns --type merge -p {\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"calico-ipv6-lab/corefile-sha256\":\"$(facts_value "$V6_PROJECT_DIST" f.dns64.coreDns.corefileSha256)\"}}}}}" \
    "kubectl rollout status -n default daemonset/multitool" \
    "kubectl rollout status -n kube-system deployment/coredns" \
    "kubectl get --raw=/readyz"
  # What went into the containers is the dist's: tayga.conf, the forwarder's Corefile, the image's recipe.
  assert_equal "$(cat "$STUB_STATE/docker-cp/ipv6-lab-nat64/tayga.conf")" "$(cat "$V6_PROJECT_DIST/nat64/tayga.conf")"
  assert_equal "$(cat "$STUB_STATE/docker-cp/ipv6-lab-dns/Corefile")" "$(facts_value "$V6_PROJECT_DIST" f.dns64.forwarder.corefile)"
  assert_equal "$(cat "$STUB_STATE/docker-build.Dockerfile")" "$(facts_value "$V6_PROJECT_DIST" f.nat64.gateway.dockerfile)"
  assert_output --partial "  docker host /dev/net/tun: present (tayga's TUN device)"
  assert_output --partial "  NAT64 ipv6-lab-nat64: tayga translates fd00:10:64::/96 <-> pool 192.168.255.0/24 (fc00:f853:ccd:e793::64, 172.19.0.2/16 on ipv6-lab-ipv4)"
  assert_output --partial "  every node: ip -6 route replace fd00:10:64::/96 via fc00:f853:ccd:e793::64 (3 nodes; a node's default route goes to the Docker host, which knows no NAT64)"
  assert_output --partial "    deployment.apps/coredns patched"
  assert_output --partial "48 checks, 0 failed, 3 skipped"
  assert_output --partial "  From a pod: kubectl exec ds/multitool -- curl -6 http://ipv6-lab-ipv4-host:8080/   (an IPv4-only host)"
}

@test "deploy, IPv6-only: a second run keeps the running containers, routes again, patches nothing new" {
  v6_deploy_ready
  run "$DEPLOY"
  assert_success
  : >"$STUB_LOG"
  run "$DEPLOY"
  assert_success
  refute_call "docker create"
  refute_call "docker build"
  refute_call "docker network create"
  refute_call "docker rm -f ipv6-lab-"
  assert_output --partial "  NAT64 ipv6-lab-nat64: running (fc00:f853:ccd:e793::64, 172.19.0.2/16)"
  assert_output --partial "  DNS forwarder ipv6-lab-dns: running (fc00:f853:ccd:e793::53)"
  assert_output --partial "  IPv4-only host ipv6-lab-ipv4-host: running (172.19.0.4/16)"
  assert_output --partial "    deployment.apps/coredns patched (no change)"
  assert_calls_in_order "docker exec ipv6-lab-worker2 ip -6 route replace fd00:10:64::/96 via fc00:f853:ccd:e793::64"
}

@test "deploy, IPv6-only: a container made from another configuration is made again" {
  v6_deploy_ready
  run "$DEPLOY"
  assert_success
  # The forwarder as an older deploy left it: another config hash.
  sed -i 's/^true|[0-9a-f]*|/true|0123abcd|/' "$STUB_STATE/cluster/docker/ipv6-lab-dns.inspect"
  : >"$STUB_LOG"
  run "$DEPLOY"
  assert_success
  assert_calls_in_order "docker rm -f ipv6-lab-dns" "docker create --name ipv6-lab-dns"
  refute_call "docker create --name ipv6-lab-nat64"
}

@test "deploy, IPv6-only, preflight: no /dev/net/tun on the Docker host stops before kind create, with the fix" {
  v6_deploy_ready
  export STUB_DOCKER_TUN=missing
  run "$DEPLOY"
  assert_failure
  assert_output --partial 'ERROR: the Docker host has no /dev/net/tun: the NAT64 gateway (tayga) needs a TUN device (docker: Error response from daemon: error gathering device information while adding custom device "/dev/net/tun": no such file or directory.)'
  assert_output --partial "fix: on the Docker host: sudo modprobe tun"
  assert_output --partial "step 3/8 failed: Create the kind cluster"
  refute_call "kind create"
}

@test "deploy, IPv6-only, preflight: legacy ip6tables without nat is fatal here (the dual-stack lab only warns)" {
  v6_deploy_ready
  export STUB_HOST_IP6_TABLES="filter " STUB_HOST_IP6TABLE_NAT=0
  run "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: the Docker host's ip6tables has tables (filter) but no 'nat' table, and ip6table_nat is not loaded: an IPv6-only cluster's Services (the cluster DNS included) are IPv6 DNAT by kube-proxy"
  assert_output --partial "fix: on the Docker host: sudo modprobe ip6table_nat"
  refute_call "kind create"
}

@test "deploy, IPv6-only, preflight: the host's IPv6 forwarding off is a warning with its fix" {
  v6_deploy_ready
  export STUB_HOST_IPV6_FORWARDING=0
  run "$DEPLOY"
  assert_success
  assert_output --partial "WARNING: the Docker host forwards no IPv6 (net.ipv6.conf.all.forwarding=0)"
  assert_output --partial "fix: sudo sysctl -w net.ipv6.conf.all.forwarding=1"
}

@test "deploy, IPv6-only, preflight: the forwarder and the NAT64 outside kind's existing network's IPv6 subnet stop before kind create" {
  v6_deploy_ready
  export STUB_KIND_NETWORK=ipv6 STUB_KIND_NETWORK_SUBNETS="172.19.0.0/16 fc00:f853:ccd:e794::/64"
  run "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: dns.upstream fc00:f853:ccd:e793::53, nat64.gateway fc00:f853:ccd:e793::64 outside the IPv6 subnet fc00:f853:ccd:e794::/64 of the Docker network kind"
  assert_output --partial "fix: in lab.config.yaml, set dns.upstream and nat64.gateway to free addresses of fc00:f853:ccd:e794::/64"
  refute_call "kind create"
}

@test "deploy, IPv6-only: the gateway image's build failing stops step 3, naming what to check" {
  v6_deploy_ready
  export STUB_DOCKER_BUILD=fail
  run "$DEPLOY"
  assert_failure
  assert_output --partial "    E: Version '0.9.2-8' for 'tayga' was not found"
  assert_output --partial "ERROR: docker build of calico-ipv6-lab/tayga:0.9.2-8 failed (output above)"
  assert_output --partial "fix: check that Docker can pull debian:bookworm-slim and reach deb.debian.org; or set LAB_NAT64_IMAGE to an image with tayga, ip, sh and stdbuf"
  assert_output --partial "step 3/8 failed: Create the kind cluster"
}

@test "deploy, IPv6-only: an address Docker will not give (--ip6 in use) names the configuration key to change" {
  v6_deploy_ready
  export STUB_DOCKER_IP6=taken
  run "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: docker create ipv6-lab-nat64 failed: Error response from daemon: Address already in use"
  assert_output --partial "fix: another container may hold fc00:f853:ccd:e793::64 on the Docker network kind (docker network inspect kind); set nat64.gateway in lab.config.yaml to a free address of its IPv6 subnet"
}

@test "deploy, IPv6-only: LAB_NAT64_IMAGE is pulled, not built" {
  v6_deploy_ready
  export LAB_NAT64_IMAGE=registry.example/tayga:1
  run "$DEPLOY"
  assert_success
  refute_call "docker build"
  assert_calls_in_order "docker pull registry.example/tayga:1" "docker create --name ipv6-lab-nat64"
  assert_output --partial "NAT64 ipv6-lab-nat64: tayga translates fd00:10:64::/96"
  run grep -F -- "--entrypoint sh registry.example/tayga:1 -c" "$STUB_LOG"
  assert_success
}

@test "deploy, dual-stack: none of the IPv6-only steps" {
  run "$DEPLOY"
  assert_success
  refute_call "docker run --device"
  refute_call "docker create"
  refute_call "docker network create"
  refute_call "kubectl patch deployment -n kube-system coredns"
  refute_output --partial "IPv6-only"
}

@test "destroy, IPv6-only: removes the three containers and the IPv4-only network" {
  v6_deploy_ready
  run "$DEPLOY"
  assert_success
  : >"$STUB_LOG"
  run "$DESTROY" --yes
  assert_success
  assert_calls_in_order "kind delete cluster --name ipv6-lab" "docker rm -f ipv6-lab-ipv4-host" "docker rm -f ipv6-lab-dns" "docker rm -f ipv6-lab-nat64" "docker network rm ipv6-lab-ipv4"
  assert_output --partial "Removed the IPv6-only lab's container ipv6-lab-nat64"
  assert_output --partial "Removed the IPv6-only lab's Docker network ipv6-lab-ipv4"
  # Nothing left: a second destroy has nothing to remove.
  : >"$STUB_LOG"
  run "$DESTROY" --yes
  assert_success
  refute_call "docker rm -f ipv6-lab-"
  refute_call "docker network rm"
}

@test "destroy, IPv6-only: without facts (LAB_CLUSTER_NAME names the lab), or after the configuration went back to dual-stack, by name" {
  v6_deploy_ready
  run "$DEPLOY"
  assert_success
  # The configuration went back to the dual-stack default: the facts no longer name the containers.
  rm "$PROJECT/lab.config.yaml"
  : >"$STUB_LOG"
  run "$DESTROY" --yes
  assert_success
  assert_calls_in_order "docker rm -f ipv6-lab-ipv4-host" "docker rm -f ipv6-lab-dns" "docker rm -f ipv6-lab-nat64" "docker network rm ipv6-lab-ipv4"
  # No facts at all: the names follow LAB_CLUSTER_NAME.
  v6_deploy_ready
  run "$DEPLOY"
  assert_success
  rm -rf "$V6_PROJECT_DIST"
  : >"$STUB_LOG"
  LAB_CLUSTER_NAME=ipv6-lab run "$DESTROY" --yes
  assert_success
  assert_calls_in_order "docker rm -f ipv6-lab-ipv4-host" "docker rm -f ipv6-lab-dns" "docker rm -f ipv6-lab-nat64" "docker network rm ipv6-lab-ipv4"
}
