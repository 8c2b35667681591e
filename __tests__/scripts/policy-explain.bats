#!/usr/bin/env bats
# explain.sh with the network-policy lesson on (scripts/lib/explain-policy.sh):
# the pod multitool-x79cb on ipv6-lab-worker of the real kind run, whose node
# tables (ip, bridge) are ../shared/calico/v3.28.5/kind's, read at test time,
# and whose Felix filter tables are the phase-1 fixtures: before and after one
# denied IPv4 and one allowed IPv6 request from the external host
# (fixtures/policy/README.md).

bats_require_minimum_version 1.5.0

load helpers/lab

SHARED=${SHARED:-$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)/shared/calico/v3.28.5}

setup_file() { lab_setup_file; }

setup() {
  lab_setup_deployed
  synth_into "$PROJECT/dist" 'policy: on'
  cp -R "$FIXTURES/policy/cluster/." "$STUB_STATE/cluster/"
  worker_node_from_shared
  # The counters explain reads: before (1) and after (2) the two requests, per family.
  local v seq
  for v in iptables ip6tables; do
    seq=$STUB_STATE/cluster/seq/policy-$v-ipv6-lab-worker
    rm -f "$seq"/*.out
    cp "$FIXTURES/policy/$v-save.before.txt" "$seq/1.out"
    cp "$FIXTURES/policy/$v-save.after.txt" "$seq/2.out"
  done
  EXPLAIN=$REPO_ROOT/explain.sh
}

# worker_node_from_shared: `docker exec ipv6-lab-worker CMD` answers as the
# real run's worker did (../shared/calico/v3.28.5/kind/node-ipv6-lab-worker_*.txt,
# without their "$ docker exec" line).
worker_node_from_shared() {
  local dir=$STUB_STATE/cluster/node/ipv6-lab-worker f
  [[ -r "$SHARED/kind/node-ipv6-lab-worker_ip_-6_neigh.txt" ]] || skip_or_fail_in_ci "$SHARED/kind not found (the real kind run's data beside the repo)"
  mkdir -p "$dir"
  from() { tail -n +2 "$SHARED/kind/node-ipv6-lab-worker_$1.txt"; }
  from ip_-d_link_show_vxlan.calico >"$dir/ip_-d_link_show_vxlan.calico.txt"
  from ip_-d_link_show_vxlan-v6.calico >"$dir/ip_-d_link_show_vxlan-v6.calico.txt"
  from ip_-4_route >"$dir/ip_route.txt"
  from ip_-6_route >"$dir/ip_-6_route.txt"
  from ip_-4_neigh_show_dev_vxlan.calico >"$dir/ip_neigh_show_dev_vxlan.calico.txt"
  # `ip -6 neigh show dev D` prints `ip -6 neigh`'s lines of D without "dev D".
  from ip_-6_neigh | sed -n 's/ dev vxlan-v6.calico / /p' >"$dir/ip_-6_neigh_show_dev_vxlan-v6.calico.txt"
  from bridge_fdb_show_dev_vxlan.calico >"$dir/bridge_fdb_show_dev_vxlan.calico.txt"
  from bridge_fdb_show_dev_vxlan-v6.calico >"$dir/bridge_fdb_show_dev_vxlan-v6.calico.txt"
  tail -n +2 "$SHARED/kind/node-ipv6-lab-worker_cat_var_lib_calico_mtu.txt" | sed 's/\$ .*//' >"$dir/cat__var_lib_calico_mtu.txt"
  for f in "$dir"/*.txt; do [[ -s "$f" ]] || fail "empty fixture $f"; done
}

@test "policy explain: the policies in Calico's order, the chains Felix programmed for the pod on each family, and what one denied IPv4 and one allowed IPv6 request counted" {
  run "$EXPLAIN" multitool-x79cb multitool-hldd4
  assert_success
  assert_line "==================== The policy lesson: multitool-x79cb on ipv6-lab-worker ===================="
  assert_line "     order  100  default/allow-ping                       projectcalico.org/v3  Ingress Egress  selector app == 'multitool'"
  assert_line "     order 1000  default/knp.default.allow-external-host  networking.k8s.io/v1  Ingress Egress"
  assert_line "IPv4: the chains Felix programmed for multitool-x79cb (calia2764010265) on ipv6-lab-worker   (kubectl exec -n calico-system calico-node-78zhj -c calico-node -- iptables-nft-save -c -t filter; rule hashes left out)"
  assert_line "IPv6: the chains Felix programmed for multitool-x79cb (calia2764010265) on ipv6-lab-worker   (kubectl exec -n calico-system calico-node-78zhj -c calico-node -- ip6tables-nft-save -c -t filter; rule hashes left out)"
  # The endpoint chains and the policy chains they jump to, named by Felix's comments.
  assert_line "  cali-tw-calia2764010265   (to the pod: its ingress policies in order, then the drop)"
  assert_line "  cali-fw-calia2764010265   (from the pod: its egress policies in order, then the drop)"
  assert_line "  cali-pi-_MgDXY5lXvcFri414uva   (Policy default/knp.default.allow-external-host ingress)"
  assert_line "  cali-po-_N0mE1uEul9nsAbL_P-4   (Policy default/knp.default.allow-dns egress)"
  # The lesson in the tables: allow-external-host's IPv4 ingress chain is empty, its IPv6 one holds the /128 rule.
  assert_line "     [0:0] -A cali-pi-_MgDXY5lXvcFri414uva -m comment --comment \"Policy default/knp.default.allow-external-host ingress\""
  assert_line "     -> empty in this family: every rule of default/knp.default.allow-external-host here names addresses of the other family (an ipBlock"
  assert_line "     [0:0] -A cali-pi-_MgDXY5lXvcFri414uva -s fc00:f853:ccd:e793:ffff::fa/128 -p tcp -m comment --comment \"Policy default/knp.default.allow-external-host ingress\" -m multiport --dports 8080 -j MARK --set-xmark 0x10000/0x10000"
  assert_line "     -> no rule: default/knp.default.default-deny allows nothing in this direction; the packet goes on to the next policy, then the drop."
  # The counters, before and after.
  assert_line "       -> curl: (28) Connection timed out after 3000 milliseconds (exit 28)"
  assert_line "     [0:0] -> [3:180]  -A cali-tw-calia2764010265 -m comment --comment \"Drop if no policies passed packet\" -m mark --mark 0x0/0x20000 -j DROP"
  assert_line "     [0:0] -> [1:80]  -A cali-pi-_MgDXY5lXvcFri414uva -s fc00:f853:ccd:e793:ffff::fa/128 -p tcp -m comment --comment \"Policy default/knp.default.allow-external-host ingress\" -m multiport --dports 8080 -j MARK --set-xmark 0x10000/0x10000"
  assert_line "        and \"Drop if no policies passed packet\" counted them: +3. Dropped, so curl timed out."
  assert_line "     -> allowed: the SYN matched default/knp.default.allow-external-host's /128 rule in cali-pi-_MgDXY5lXvcFri414uva, which sets the accept mark 0x10000;"
  assert_calls_in_order \
    "kubectl get networkpolicies.projectcalico.org -n default allow-ping" \
    "kubectl exec -n calico-system calico-node-78zhj -c calico-node -- iptables-nft-save -c -t filter" \
    "kubectl exec -n calico-system calico-node-78zhj -c calico-node -- ip6tables-nft-save -c -t filter" \
    "docker exec ipv6-lab-external curl -g -sS --max-time 3 http://192.168.106.130:8080/" \
    "docker exec ipv6-lab-external curl -g -sS --max-time 5 http://[fd00:10:244:6a81:e39d:1504:3117:bc82]:8080/" \
    "kubectl exec -n calico-system calico-node-78zhj -c calico-node -- iptables-nft-save -c -t filter" \
    "kubectl exec -n calico-system calico-node-78zhj -c calico-node -- ip6tables-nft-save -c -t filter"
}

@test "policy explain: docs/policy.md shows explain's counters on the stubs" {
  run "$EXPLAIN" multitool-x79cb multitool-hldd4
  assert_success
  local documented
  documented=$(doc_block "$REPO_ROOT/docs/policy.md" "" "<!-- BEGIN explain counters")
  [[ -n "$documented" ]] || fail "docs/policy.md has no explain counters block"
  [[ "$output" == *"$documented"* ]] || fail "docs/policy.md's explain sample is not explain's output on the stubs:
$(diff <(printf '%s\n' "$documented") <(printf '%s\n' "$output") | head -40)"
}

@test "policy explain: the external host not running: the chains, and why nothing was counted" {
  rm "$STUB_STATE/cluster/docker/ipv6-lab-external.inspect"
  run "$EXPLAIN" multitool-x79cb multitool-hldd4
  assert_success
  assert_line "  cali-tw-calia2764010265   (to the pod: its ingress policies in order, then the drop)"
  assert_line "The external host is not running (Error: No such object: ipv6-lab-external): no requests to count. ./deploy.sh starts it."
  refute_call "docker exec ipv6-lab-external"
}

@test "policy explain: policy off: no policy screen, nothing read from calico-node" {
  rm -rf "$PROJECT/dist"
  cp -R "$DEFAULTS_DIST" "$PROJECT/dist"
  run "$EXPLAIN" multitool-x79cb multitool-hldd4
  assert_success
  refute_output --partial "The policy lesson"
  refute_call "calico-node -- ip"
  refute_call "networkpolicies"
}
