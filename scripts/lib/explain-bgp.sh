#!/usr/bin/env bash
# explain.sh's screens for routing "bgp" (docs/bgp.md): per family, that the source node has no tunnel
# device, its route to the peer pod's block (installed by BIRD from the node-to-node mesh: `proto bird`,
# via the peer node's own address of that family), every block it learned that way, and the external
# router's view of the same (its sessions and its table, with vtysh); --capture records an IPv6 ping
# between the pods on the source node's eth0: the pods' own packet, no UDP 4789.
#
# Sourced by explain.sh after its helpers (on_node, route_for, field, say, note, more, show) and
# load_cluster; entry points explain_bgp FAMILY and capture_bgp. The router's settings come from
# variant-bgp.sh (bgp_defaults).

[[ -n "${_LAB_EXPLAIN_BGP_SH:-}" ]] && return 0
_LAB_EXPLAIN_BGP_SH=1
# shellcheck source=scripts/lib/variant-bgp.sh
source "$(dirname "${BASH_SOURCE[0]}")/variant-bgp.sh"

# show_lines TEXT: every line of TEXT, indented as show indents one.
show_lines() {
  local line
  while IFS= read -r line; do printf '     %s\n' "$line"; done <<<"$1"
}

# on_router CMD...: CMD in the router container; its answer, or why there is none (never dies: the
# router's view is the end of the story, not a step the rest depends on).
on_router() {
  local out
  if ! out=$(docker exec "$LAB_ROUTER_NAME" "$@" 2>&1); then
    printf '(no answer from %s: %s)\n' "$LAB_ROUTER_NAME" "$(head -n 1 <<<"$out")"
    return 1
  fi
  printf '%s\n' "$out"
}

explain_bgp() {
  local family=$1 src_node dst_node src_ip dst_ip dst_node_ip route_cmd fam
  bgp_defaults
  src_node=${POD_NODE[$SOURCE_POD]} dst_node=${POD_NODE[$PEER_POD]}
  if [[ "$family" == IPv4 ]]; then
    src_ip=${POD_V4[$SOURCE_POD]} dst_ip=${POD_V4[$PEER_POD]}
    dst_node_ip=${NODE_V4[$dst_node]:-}
    route_cmd=(ip route) fam=ipv4
  else
    src_ip=${POD_V6[$SOURCE_POD]} dst_ip=${POD_V6[$PEER_POD]}
    dst_node_ip=${NODE_V6[$dst_node]:-}
    route_cmd=(ip -6 route) fam=ipv6
  fi
  screen_header "$family" " (routing: bgp)" "$src_ip" "$dst_ip" || return 0

  # 1. No tunnel device.
  local links devs
  say "1. Tunnels on ${src_node}   (docker exec ${src_node} ip -d link show type vxlan)"
  links=$(on_node "$src_node" ip -d link show type vxlan)
  devs=$(sed -n 's/^[0-9]*: \([^:@]*\).*/\1/p' <<<"$links" | tr '\n' ' ')
  if [[ -z "$devs" ]]; then
    show "(no VXLAN device)"
    note "nothing wraps the pods' packets: they leave ${src_node} as they are, with the pods' own addresses."
    [[ -z "$POD_MTU" ]] || more "so the pods' MTU is the link's: ${POD_MTU} (/var/lib/calico/mtu; the VXLAN lab's pods get 1430)."
  else
    show "${devs% }"
    note "MISMATCH: routing bgp has no VXLAN; a pool with vxlanMode other than Never made Felix create ${devs% }."
  fi
  say ""

  # 2. The route to the peer's block.
  local routes route via rdev block learned
  say "2. ${src_node}'s route towards ${dst_ip}   (docker exec ${src_node} ${route_cmd[*]})"
  routes=$(on_node "$src_node" "${route_cmd[@]}")
  route=$(route_for "$dst_ip" "$routes")
  if [[ -z "$route" ]]; then
    show "(no route holds ${dst_ip})"
    note "without it the packet follows the default route to Docker's gateway and is lost: does ${dst_node}'s BIRD"
    more "peer with ${src_node}? kubectl get caliconodestatus ${src_node} -o yaml"
    say ""
    return 0
  fi
  show "$route"
  block=${route%% *} via=$(field "$route" via) rdev=$(field "$route" dev)
  if [[ " $route " == *" proto bird "* ]]; then
    note "proto bird: BIRD, calico-node's BGP daemon, installed it: ${dst_node} announced its block ${block}"
    more "over the node-to-node mesh (an iBGP session per pair of nodes and family), and BIRD wrote what it learned"
    more "into the kernel (Felix writes only the routes to local pods; the VXLAN lab's routes are Felix's, proto 80)."
  else
    note "not a BIRD route (no 'proto bird'): under routing bgp the peer's block comes from BGP."
  fi
  if [[ -n "$via" && "$via" == "$dst_node_ip" && "$rdev" == eth0 ]]; then
    note "next hop ${via}: ${dst_node}'s own ${family} address, on eth0, the link all nodes share: one hop, no tunnel."
  else
    note "MISMATCH: expected via ${dst_node}'s own ${family} address ${dst_node_ip:-?} on eth0, got via ${via:-nothing} dev ${rdev:-?}."
  fi
  say ""
  say "   Every block ${src_node} learned by BGP, and its own   (the same table)"
  learned=$(awk '/ proto bird/ && / via /' <<<"$routes")
  show_lines "${learned:-(none)}"
  local own
  own=$(grep -E '^blackhole .* proto bird' <<<"$routes" || true)
  [[ -z "$own" ]] || show_lines "$own"
  note "one route per other node's block, each via that node's own ${family} address."
  [[ -z "$own" ]] || more "its own block is a blackhole: BIRD announces it from there; the /32 or /128 routes Felix writes for"
  [[ -z "$own" ]] || more "local pods are longer, so only an address no pod holds ends in the blackhole."
  say ""

  # 3. The router's view.
  local summary table
  say "3. The router ${LAB_ROUTER_NAME} (AS $(fact bgp.router.asNumber)) peers with every node   (docker exec ${LAB_ROUTER_NAME} vtysh -c 'show bgp ${fam} unicast summary')"
  summary=$(on_router vtysh -c "show bgp ${fam} unicast summary") || true
  show_lines "$summary"
  note "one ${family} session per node (AS $(fact bgp.asNumber)), opened by the node from its own ${family} address to"
  more "$(bgp_peer_ip_of "$family"), accepted by the router's listen range ('*': dynamic). PfxRcd: each node's"
  more "block, the blocks it learned over the mesh, the Service range; PfxSnt 0: the router announces nothing."
  say ""
  say "   Its table   (docker exec ${LAB_ROUTER_NAME} vtysh -c 'show bgp ${fam} unicast')"
  table=$(on_router vtysh -c "show bgp ${fam} unicast") || true
  show_lines "$table"
  note "every block, once from each node ('*' valid, '>' best); the next hop is always the owner, ${dst_node}'s"
  more "${dst_node_ip} for ${block} (keepOriginalNextHop): the router sends a packet for ${dst_ip} straight to ${dst_node}."
  more "The Service range comes from every node ('=' multipath): the router spreads it over them all."
  say ""
  say "So: ${src_ip} -> eth0 of ${src_node} -> ${dst_node_ip} (${dst_node}) -> ${dst_ip}, as it is, no encapsulation;"
  say "    the router, outside the cluster, reaches ${dst_ip} the same way: via ${dst_node_ip}."
  say ""
}

# bgp_peer_ip_of FAMILY: the router's address for FAMILY (the facts' BGPPeer of that family).
bgp_peer_ip_of() {
  local i
  i=$(fact_find bgp.peers family "$1") || return 0
  fact "bgp.peers.$i.peerIP"
}

# --- capture ------------------------------------------------------------------------------

capture_bgp() {
  local src_node=${POD_NODE[$SOURCE_POD]} src_ip=${POD_V6[$SOURCE_POD]} dst_ip=${POD_V6[$PEER_POD]} line
  capture_ping6 2 "ip6 and host ${dst_ip}"
  if grep -q '\.4789: VXLAN' "$CAPTURE_OUT"; then
    note "MISMATCH: VXLAN (UDP 4789) on the wire: some pool still encapsulates."
    return 0
  fi
  line=$(grep -m1 -E "^[0-9:.]+ IP6 ${src_ip} > ${dst_ip}: ICMP6" "$CAPTURE_OUT" || true)
  if [[ -z "$line" ]]; then
    note "no IPv6 packet from ${src_ip} to ${dst_ip} seen on ${src_node}'s eth0 in ${LAB_CAPTURE_SECONDS}s."
    return 0
  fi
  note "the pods' own IPv6 packet, ${src_ip} -> ${dst_ip}, is on ${src_node}'s eth0 as it left the pod:"
  more "no outer header, no UDP 4789. The VXLAN lab's capture shows the nodes' addresses outside and this inside."
  say ""
}
