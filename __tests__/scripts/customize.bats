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

# fixtures_rewrite FROM TO: FROM becomes TO in every fixture's text, and in
# the file names that carry it (in key form: http/ answers are keyed by URL,
# node/ and docker/ by name).
fixtures_rewrite() {
  local fx=$STUB_STATE/cluster from=$1 to=$2 f base
  [[ "$from" != "$to" ]] || return 0
  grep -rlF -- "$from" "$fx" | xargs -r sed -i "s|${from//./\\.}|${to}|g"
  find "$fx" -depth -name "*$(key "$from")*" | while IFS= read -r f; do
    base=${f##*/}
    mv "$f" "${f%/*}/${base//"$(key "$from")"/"$(key "$to")"}"
  done
}

# block_of ADDRESS BITS: the network of the /BITS block holding ADDRESS, as
# Calico names a block (IPv6 blocks are /116 to /128: only the last group changes).
block_of() {
  local addr=$1 bits=$2 n last
  if is_ipv6 "$addr"; then
    last=${addr##*:}
    [[ -n "$last" ]] || { printf '%s' "$addr"; return 0; }
    printf '%s:%x' "${addr%:*}" $((16#$last & (0xffff << (128 - bits)) & 0xffff))
  else
    n=$(($(ipv4_to_int "$addr") & ((0xffffffff << (32 - bits)) & 0xffffffff)))
    printf '%d.%d.%d.%d' $((n >> 24)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255))
  fi
}

# dist_facts: the facts of .lab/dist, read as the scripts read them (common.sh).
dist_facts() {
  # shellcheck source=../../scripts/lib/common.sh
  source "$REPO_ROOT/scripts/lib/common.sh"
  export LAB_FACTS_FILE=$PROJECT/.lab/dist/lab/facts.json
  lab_facts_reload
  lab_load_facts
}

# cluster_like_dist: rewrite the stub cluster's fixtures into what a cluster
# deployed from .lab/dist reports (as its facts say): node names and count,
# each with its calico-node, network condition and lab pod; the pools, and with
# them the pod and peer addresses, block affinities (prefix and block size)
# and every answer naming them; nginx's port and the Service port (the HTTP
# answers are keyed by URL); and, with natOutgoing false, no answer from the
# external host (it has no route back to the pool), as verify expects.
cluster_like_dist() {
  local fx=$STUB_STATE/cluster name nodes i f
  dist_facts
  name=$(fact name)
  nodes=$(fact_count cluster.nodes)
  for ((i = 4; i <= nodes; i++)); do
    echo "ipv6-lab-worker$((i - 1))|True|172.18.0.$((i + 1)) fc00:f853:ccd:e793::$((i + 1))" >>"$fx/nodes.txt"
    echo "ipv6-lab-worker$((i - 1))|False|CalicoIsUp|" >>"$fx/nodes-network.txt"
    echo "calico-node-w$i|ipv6-lab-worker$((i - 1))|True|" >>"$fx/calico-node-ready.txt"
    echo "multitool-w$i|ipv6-lab-worker$((i - 1))|Running|True|192.168.$((i + 10)).2 fd00:10:244:$((i + 10))::2" >>"$fx/pods.txt"
    printf 'ipv6-lab-worker%d|192.168.%d.0/26|confirmed\nipv6-lab-worker%d|fd00:10:244:%d::/122|confirmed\n' \
      $((i - 1)) $((i + 10)) $((i - 1)) $((i + 10)) >>"$fx/blockaffinities.txt"
  done
  for f in nodes.txt nodes-network.txt calico-node-ready.txt pods.txt; do
    head -n "$nodes" "$fx/$f" >"$fx/$f.new" && mv "$fx/$f.new" "$fx/$f"
  done
  echo "${nodes}|${nodes}|${nodes}" >"$fx/daemonset-multitool.txt"
  [[ "$name" == ipv6-lab ]] || fixtures_rewrite ipv6-lab- "${name}-"

  # Pools: the real addresses with the default /48 (/16) prefix swapped for the pool's.
  local pool cidr nat vxlan block hex v4_bits=26 v6_bits=122 unanswered=()
  rm -f "$fx"/ippool-*.txt
  for ((i = 0; i < $(fact_count calico.pools); i++)); do
    pool=$(fact "calico.pools.$i.name") cidr=$(fact "calico.pools.$i.cidr") nat=$(fact "calico.pools.$i.natOutgoing")
    vxlan=$(fact "calico.pools.$i.vxlanMode") block=$(fact "calico.pools.$i.blockSize")
    echo "${cidr}|${nat}|${vxlan}|${block}" >"$fx/ippool-${pool}.txt"
    if is_ipv6 "$cidr"; then
      hex=$(ipv6_expand "${cidr%/*}")
      # Canonical text, as Kubernetes prints addresses (fd00:abcd:0:..., not fd00:abcd:0000:...).
      fixtures_rewrite fd00:10:244: "$(printf '%x:%x:%x:' "0x${hex:0:4}" "0x${hex:4:4}" "0x${hex:8:4}")"
      v6_bits=$block
      [[ "$nat" == true ]] || unanswered+=(IPv6)
    else
      fixtures_rewrite 192.168. "${cidr%.0.0/*}."
      v4_bits=$block
      [[ "$nat" == true ]] || unanswered+=(IPv4)
    fi
  done
  local n state addr
  while IFS='|' read -r n cidr state; do
    addr=${cidr%/*}
    if is_ipv6 "$addr"; then block=$v6_bits; else block=$v4_bits; fi
    echo "${n}|$(block_of "$addr" "$block")/${block}|${state}"
  done <"$fx/blockaffinities.txt" >"$fx/blockaffinities.new"
  mv "$fx/blockaffinities.new" "$fx/blockaffinities.txt"

  # nginx's port (pods and the external host serve dist's config) and the Service port.
  local port svc_port
  port=$(fact workload.daemonSet.port)
  svc_port=$(fact workload.services.0.port)
  if [[ "$port" != 8080 ]]; then
    sed -i "s/ port 8080 / port ${port} /" "$fx"/http/*.txt
    sed -i "s/:8080 /:${port} /g" "$fx/exec-netstat.txt"
    for f in "$fx"/http/*_8080_.txt; do mv "$f" "${f%_8080_.txt}_${port}_.txt"; done
  fi
  echo "$svc_port" >"$fx/service-port.txt"
  if [[ "$svc_port" != 80 ]]; then
    for f in "$fx"/http/*_80_.txt; do mv "$f" "${f%_80_.txt}_${svc_port}_.txt"; done
  fi

  # natOutgoing false: the external host sees the pod's address and cannot answer it.
  local ext4 ext6 family url
  IFS='|' read -r _ ext4 ext6 <"$fx/docker/${name}-external.inspect"
  for family in "${unanswered[@]}"; do
    if [[ "$family" == IPv4 ]]; then url="http://${ext4}:${port}/"; else url="http://[${ext6}]:${port}/"; fi
    no_answer_from "$url"
  done

  # kubeadm stored the subnets kind gave it, and the cluster name.
  local pods svcs
  pods=$(fact cluster.podSubnets.ipv4),$(fact cluster.podSubnets.ipv6)
  svcs=$(fact cluster.serviceSubnets.ipv4),$(fact cluster.serviceSubnets.ipv6)
  sed -i "s|^  podSubnet: .*|  podSubnet: ${pods}|; s|^  serviceSubnet: .*|  serviceSubnet: ${svcs}|; s/ipv6-lab/${name}/g" \
    "$fx/kubeadm-config-ClusterConfiguration.yaml"
  echo 'apiVersion: v1' >"$PROJECT/${name}.kubeconfig"
}

# row YAML EXPECTED_LINE...: the customized lab verifies clean and shows each
# EXPECTED_LINE (a substring of one output line); the default cluster does not.
row() {
  local yaml=$1 line checks
  shift
  customize "$yaml"
  dist_facts
  # The plan of this lab's facts fixes the number of checks, whatever the cluster.
  checks=$("$VERIFY" --plan | sed -n 's/^Plan: \([0-9]*\) checks.*/\1/p')
  # The default cluster (fixtures as deployed from dist/) must fail this lab's expectations.
  echo 'apiVersion: v1' >"$PROJECT/$(fact name).kubeconfig"
  run "$VERIFY"
  assert_failure
  assert_line --regexp '^FAIL  '
  refute_line --partial "FAIL  kubeconfig"
  assert_line --regexp "^${checks} checks, [1-9][0-9]* failed"
  cluster_like_dist
  run "$VERIFY"
  assert_success
  assert_line "${checks} checks, 0 failed"
  # Every check ran: a skipped one would pass this row without testing it.
  refute_output --partial SKIP
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
    "PASS  calico-node is Ready on ipv6-lab-worker3" \
    "PASS  DaemonSet multitool runs a Ready pod on each of the lab's 4 nodes (desired 4, ready 4)" \
    "48 checks, 0 failed" \
    "PASS  pod multitool-w4 on ipv6-lab-worker3 is Running" \
    "PASS  node ipv6-lab-worker3 holds IPv4 block 192.168.14.0/26 and IPv6 block fd00:10:244:14::/122"
}

@test "customize: another clusterName" {
  row 'clusterName: other-lab' \
    "Verifying lab \"other-lab\" (KUBECONFIG=$PROJECT/other-lab.kubeconfig)" \
    "PASS  node other-lab-control-plane is Ready" \
    "PASS  vxlan-v6.calico on other-lab-control-plane tunnels from the node's IPv6 address" \
    "PASS  egress over IPv4 to the external host other-lab-external"
}

@test "customize: pools.ipv6: { cidr: fd00:abcd::/48, blockSize: 120 }" {
  row 'pools:
  ipv6: { cidr: "fd00:abcd::/48", blockSize: 120 }' \
    "Expecting pools default-ipv4-ippool 192.168.0.0/16 (CrossSubnet) and default-ipv6-ippool fd00:abcd::/48 (Always)" \
    "PASS  IPPool default-ipv6-ippool: cidr fd00:abcd::/48, natOutgoing true, vxlanMode Always, blockSize 120" \
    "IPv6 fd00:abcd:0:2893:e83c:c9a6:7f8b:bb81 from the pools" \
    "PASS  node ipv6-lab-control-plane holds IPv4 block 192.168.40.128/26 and IPv6 block fd00:abcd:0:2893:e83c:c9a6:7f8b:bb00/120" \
    "PASS  HTTP over IPv6 between pods on different nodes: multitool-xp9c5 -> http://[fd00:abcd:0:1168:5560:68e4:6df7:2c41]:8080/"
}

@test "customize: natOutgoing: false" {
  row 'pools:
  ipv4: { natOutgoing: false }
  ipv6: { natOutgoing: false }' \
    "PASS  IPPool default-ipv4-ippool: cidr 192.168.0.0/16, natOutgoing false, vxlanMode CrossSubnet, blockSize 26" \
    "PASS  IPPool default-ipv6-ippool: cidr fd00:10:244::/48, natOutgoing false, vxlanMode Always, blockSize 122" \
    "PASS  egress over IPv4 to the external host ipv6-lab-external http://172.18.0.5:8080/ gets no answer, as expected: natOutgoing is false" \
    "PASS  egress over IPv6 to the external host ipv6-lab-external http://[fc00:f853:ccd:e793::5]:8080/ gets no answer, as expected: natOutgoing is false"
}

@test "customize: multitool.port: 9090" {
  row 'multitool: { port: 9090 }' \
    "Expecting Services multitool-dual-stack and multitool-ipv6-only on port 80 -> 9090" \
    "PASS  nginx listens on IPv6 port 9090" \
    "PASS  HTTP over IPv4 between pods on different nodes: multitool-xp9c5 -> http://192.168.217.1:9090/" \
    "PASS  egress over IPv6 to the external host ipv6-lab-external http://[fc00:f853:ccd:e793::5]:9090/: seen from node"
}

@test "customize: multitool.servicePort: 8081" {
  row 'multitool: { servicePort: 8081 }' \
    "Expecting Services multitool-dual-stack and multitool-ipv6-only on port 8081 -> 8080" \
    "PASS  curl Service multitool-dual-stack over IPv4: http://10.96.45.12:8081/ -> HTTP 200" \
    "PASS  curl Service multitool-ipv6-only over IPv6: http://[fd00:10:96::1234]:8081/ -> HTTP 200" \
    "PASS  curl -4 http://multitool-dual-stack:8081/ (by name) answers over IPv4" \
    "PASS  curl -6 http://multitool-ipv6-only:8081/ (by name) answers over IPv6"
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
    "PASS  nginx listens on IPv6 port 9090" \
    "PASS  node other-lab-worker3 holds IPv4 block 192.168.14.0/26 and IPv6 block fd00:abcd:0:14::/120" \
    "PASS  egress over IPv6 to the external host other-lab-external http://[fc00:f853:ccd:e793::5]:9090/ gets no answer, as expected"
}
