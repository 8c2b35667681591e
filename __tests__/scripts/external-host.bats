#!/usr/bin/env bats
# The external host (scripts/lib/external-host.sh): deploy.sh starts it on
# kind's Docker network, destroy.sh removes it (stubbed docker).

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup
  EXT=$STUB_STATE/cluster/docker/ipv6-lab-external.inspect
}

@test "deploy starts the external host on the kind network with dist/'s image and nginx config, before verifying" {
  rm "$EXT"
  run "$REPO_ROOT/deploy.sh"
  assert_success
  local image
  image=$(facts_value "$PROJECT/dist" f.workload.daemonSet.image)
  # In the background while Calico comes up (step 6), after dist/ is applied.
  assert_calls_in_order \
    "kubectl apply -f $PROJECT/dist" \
    "docker inspect --format {{.State.Running}}|{{with index .NetworkSettings.Networks \"kind\"}}{{.IPAddress}}|{{.GlobalIPv6Address}}{{end}} ipv6-lab-external" \
    "docker run -d --name ipv6-lab-external --hostname ipv6-lab-external --network kind --label calico-ipv6-lab/cluster=ipv6-lab -e LAB_NGINX_CONF=# nginx for the multitool pods" \
    "kubectl get --raw=/readyz"
  grep -F -- "--entrypoint sh ${image} -c mkdir -p /run/nginx" "$STUB_LOG"
  # The config carries the line that makes the host name its client.
  grep -F -- '(client $remote_addr)' "$STUB_LOG"
  assert_output --partial "external host ipv6-lab-external: 172.18.0.5 fc00:f853:ccd:e793::5"
  assert [ -f "$EXT" ]
  assert_output --partial "egress over IPv6 to the external host ipv6-lab-external"
}

@test "deploy keeps a running external host" {
  run "$REPO_ROOT/deploy.sh"
  assert_success
  assert_output --partial "external host ipv6-lab-external: running (172.18.0.5 fc00:f853:ccd:e793::5)"
  refute_call "docker run -d"
}

@test "deploy replaces a stopped external host" {
  echo 'false||' >"$EXT"
  run "$REPO_ROOT/deploy.sh"
  assert_success
  assert_calls_in_order "docker rm -f ipv6-lab-external" "docker run -d --name ipv6-lab-external"
}

@test "deploy: the external host follows the cluster name and LAB_EXTERNAL_IMAGE" {
  LAB_CLUSTER_NAME=lab2 LAB_EXTERNAL_IMAGE=example.org/multitool:1 run "$REPO_ROOT/deploy.sh"
  assert_success
  assert_calls_in_order "docker run -d --name lab2-external --hostname lab2-external --network kind --label calico-ipv6-lab/cluster=lab2"
  grep -F -- "--entrypoint sh example.org/multitool:1 -c" "$STUB_LOG"
}

@test "destroy removes the external host" {
  cluster_exists_already
  run "$REPO_ROOT/destroy.sh" --yes </dev/null
  assert_success
  assert_calls_in_order "kind delete cluster --name ipv6-lab" "docker rm -f ipv6-lab-external"
  assert_output --partial "Removed the external host container ipv6-lab-external"
  assert [ ! -e "$EXT" ]
}

@test "destroy without an external host does not try to remove one" {
  cluster_exists_already
  rm "$EXT"
  run "$REPO_ROOT/destroy.sh" --yes </dev/null
  assert_success
  refute_call "docker rm"
}

@test "deploy pulls the external host's image when the host's Docker lacks it" {
  rm "$EXT"
  # Image preloading (step 4) would pull the same image first: off, the external host pulls it.
  LAB_PRELOAD_IMAGES=false STUB_DOCKER_IMAGES=absent run "$REPO_ROOT/deploy.sh"
  assert_success
  assert_calls_in_order "docker image inspect wbitt/network-multitool:alpine-extra" \
    "docker pull wbitt/network-multitool:alpine-extra" "docker run -d --name ipv6-lab-external"
}

@test "deploy fails in step 7 when the external host's image cannot be pulled, saying what to do" {
  rm "$EXT"
  LAB_PRELOAD_IMAGES=false STUB_DOCKER_IMAGES=absent STUB_DOCKER_PULL=fail run "$REPO_ROOT/deploy.sh"
  assert_failure
  assert_output --partial "lookup registry-1.docker.io: no such host"
  assert_output --partial "failed (output above)"
  assert_output --partial "fix: offline? set LAB_EXTERNAL_IMAGE to an image you have, with nginx in it"
  assert_output --partial "step 7/8 failed"
  refute_call "docker run -d"
}
