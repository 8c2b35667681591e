#!/usr/bin/env bats
# Issue 12's "done when": every edit the README documents for
# lab.config.yaml, run through the real synth -> dist -> verify's
# expectations, against a stub cluster built to match that dist (the real
# fixtures, rewritten to the configured names, addresses and ports).
# Each row also proves verify uses the edit: the default cluster fails it.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup
  VERIFY=$REPO_ROOT/verify.sh
}

# customize YAML: synth YAML into the project's .lab/dist with the real app.
customize() {
  printf '%s\n' "$1" >"$PROJECT/lab.config.yaml"
  render_config "$PROJECT/lab.config.yaml" "$PROJECT/.lab/dist"
}

# cluster_like_dist: rewrite the stub cluster's fixtures into what a cluster
# deployed from .lab/dist reports: node names and count, pools, pod IPs in
# the pools, nginx's listening port.
cluster_like_dist() {
  local fx=$STUB_STATE/cluster kind=$PROJECT/.lab/dist/kind/cluster.yaml name nodes i
  # shellcheck source=../../scripts/lib/common.sh
  source "$REPO_ROOT/scripts/lib/common.sh"
  name=$(yaml_top_scalar "$kind" name)
  nodes=$(kind_config_node_count "$kind")
  for ((i = 4; i <= nodes; i++)); do
    echo "ipv6-lab-worker$((i - 1))|True|172.18.0.$((i + 1)) fc00:f853:ccd:e793::$((i + 1))" >>"$fx/nodes.txt"
    echo "multitool-w$i|ipv6-lab-worker$((i - 1))|Running|192.168.$((i + 10)).2 fd00:10:244:$((i + 10))::2" >>"$fx/pods.txt"
  done
  head -n "$nodes" "$fx/nodes.txt" >"$fx/nodes.new" && mv "$fx/nodes.new" "$fx/nodes.txt"
  head -n "$nodes" "$fx/pods.txt" >"$fx/pods.new" && mv "$fx/pods.new" "$fx/pods.txt"
  sed -i "s/ipv6-lab-/${name}-/g" "$fx/nodes.txt" "$fx/pods.txt"
  local pool cidr nat vxlan block
  rm -f "$fx"/ippool-*.txt
  while IFS=$'\t' read -r pool cidr nat vxlan block; do
    echo "${cidr}|${nat}|${vxlan}|${block}" >"$fx/ippool-${pool}.txt"
    # Pod addresses: the real ones with the default /48 (/16) prefix swapped for the pool's.
    if is_ipv6 "$cidr"; then
      local hex
      hex=$(ipv6_expand "${cidr%/*}")
      sed -i "s/fd00:10:244:/${hex:0:4}:${hex:4:4}:${hex:8:4}:/g" "$fx/pods.txt" "$fx/exec-ping.txt"
    else
      sed -i "s/|192\.168\./|${cidr%.0.0/*}./g" "$fx/pods.txt"
    fi
  done < <(dist_ippools "$PROJECT/.lab/dist")
  local port
  port=$(dist_daemonsets "$PROJECT/.lab/dist" | cut -f4)
  sed -i "s/:8080 /:${port} /g" "$fx/exec-netstat.txt"
  dist_services "$PROJECT/.lab/dist" | head -n 1 | cut -f4 >"$fx/service-port.txt"
  # kubeadm stored the subnets kind gave it, and the cluster name.
  local pods svcs
  pods=$(yaml_flatten "$kind" | awk -F'\t' '$2 == "networking.podSubnet" { print $3 }')
  svcs=$(yaml_flatten "$kind" | awk -F'\t' '$2 == "networking.serviceSubnet" { print $3 }')
  sed -i "s|^  podSubnet: .*|  podSubnet: ${pods}|; s|^  serviceSubnet: .*|  serviceSubnet: ${svcs}|; s/ipv6-lab/${name}/g" \
    "$fx/kubeadm-config-ClusterConfiguration.yaml"
  echo 'apiVersion: v1' >"$PROJECT/${name}.kubeconfig"
}

# row YAML EXPECTED_LINE...: the customized lab verifies clean and shows each
# EXPECTED_LINE (a substring of one output line); the default cluster does not.
row() {
  local yaml=$1 line
  shift
  customize "$yaml"
  # shellcheck source=../../scripts/lib/common.sh
  source "$REPO_ROOT/scripts/lib/common.sh"
  # The default cluster (fixtures as deployed from dist/) must fail this lab's expectations.
  echo 'apiVersion: v1' >"$PROJECT/$(yaml_top_scalar "$PROJECT/.lab/dist/kind/cluster.yaml" name).kubeconfig"
  run "$VERIFY"
  assert_failure
  assert_line --regexp '^FAIL  '
  refute_line --partial "FAIL  kubeconfig"
  cluster_like_dist
  run "$VERIFY"
  assert_success
  assert_output --partial "from $PROJECT/.lab/dist"
  for line in "$@"; do
    assert_output --partial "$line"
  done
  # deploy's re-use check agrees: the matching cluster shows no difference.
  run env KUBECONFIG="$PROJECT/ipv6-lab.kubeconfig" bash -c 'source "$1"; source "$2"; lab_init_defaults; cluster_differences' _ \
    "$REPO_ROOT/scripts/lib/common.sh" "$REPO_ROOT/scripts/lib/cluster-drift.sh"
  assert_output ""
}

@test "customize: workers: 3" {
  row 'workers: 3' \
    "PASS  node ipv6-lab-worker3 is Ready" \
    "PASS  pod multitool-w4 on ipv6-lab-worker3 is Running"
}

@test "customize: another clusterName" {
  row 'clusterName: other-lab' \
    "Verifying lab \"other-lab\" (KUBECONFIG=$PROJECT/other-lab.kubeconfig)" \
    "PASS  node other-lab-control-plane is Ready"
}

@test "customize: pools.ipv6: { cidr: fd00:abcd::/48, blockSize: 120 }" {
  row 'pools:
  ipv6: { cidr: "fd00:abcd::/48", blockSize: 120 }' \
    "Expecting pools default-ipv4-ippool 192.168.0.0/16 (CrossSubnet) and default-ipv6-ippool fd00:abcd::/48 (Always)" \
    "PASS  IPPool default-ipv6-ippool: cidr fd00:abcd::/48, natOutgoing true, vxlanMode Always, blockSize 120" \
    "IPv6 fd00:abcd:0000:2893:e83c:c9a6:7f8b:bb81 from the pools"
}

@test "customize: natOutgoing: false" {
  row 'pools:
  ipv4: { natOutgoing: false }
  ipv6: { natOutgoing: false }' \
    "PASS  IPPool default-ipv4-ippool: cidr 192.168.0.0/16, natOutgoing false, vxlanMode CrossSubnet, blockSize 26" \
    "PASS  IPPool default-ipv6-ippool: cidr fd00:10:244::/48, natOutgoing false, vxlanMode Always, blockSize 122"
}

@test "customize: multitool.port: 9090" {
  row 'multitool: { port: 9090 }' \
    "Expecting Services multitool-dual-stack and multitool-ipv6-only on port 80 -> 9090" \
    "PASS  nginx listens on IPv6 port 9090"
}

@test "customize: multitool.servicePort: 8081" {
  row 'multitool: { servicePort: 8081 }' \
    "Expecting Services multitool-dual-stack and multitool-ipv6-only on port 8081 -> 8080" \
    "PASS  curl Service multitool-dual-stack over IPv4: http://10.96.45.12:8081/ -> HTTP 200" \
    "PASS  curl Service multitool-ipv6-only over IPv6: http://[fd00:10:96::1234]:8081/ -> HTTP 200"
}

@test "customize: all of the README's edits at once" {
  row 'clusterName: other-lab
workers: 3
pools:
  ipv4: { natOutgoing: false }
  ipv6: { cidr: "fd00:abcd::/48", blockSize: 120, natOutgoing: false }
multitool: { port: 9090, servicePort: 8081 }' \
    "Verifying lab \"other-lab\" (KUBECONFIG=$PROJECT/other-lab.kubeconfig)" \
    "PASS  node other-lab-worker3 is Ready" \
    "PASS  IPPool default-ipv6-ippool: cidr fd00:abcd::/48, natOutgoing false, vxlanMode Always, blockSize 120" \
    "PASS  curl Service multitool-dual-stack over IPv6: http://[fd00:10:96::abcd]:8081/ -> HTTP 200" \
    "PASS  nginx listens on IPv6 port 9090"
}
