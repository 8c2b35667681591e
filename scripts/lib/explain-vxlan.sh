#!/usr/bin/env bash
# explain.sh's screens for routing "vxlan" (the default lab): per family, the
# VXLAN device and the address its outer packets leave from, the route to the
# peer's block, the neighbour and FDB entries that map the peer's tunnel MAC
# to the peer node; --capture records an IPv6 pod ping on the underlay.
#
# Sourced by explain.sh after its helpers (on_node, route_for, field, say,
# note, more, show) and load_cluster; entry points explain_vxlan FAMILY and
# capture_vxlan. A routing variant has its own explain-<routing>.sh with
# explain_<routing> and capture_<routing>.

[[ -n "${_LAB_EXPLAIN_VXLAN_SH:-}" ]] && return 0
_LAB_EXPLAIN_VXLAN_SH=1

# --- one screen per family ---------------------------------------------------------------

explain_vxlan() {
  local family=$1 src_node dst_node src_ip dst_ip src_node_ip dst_node_ip dev route_cmd neigh_cmd
  src_node=${POD_NODE[$SOURCE_POD]} dst_node=${POD_NODE[$PEER_POD]}
  if [[ "$family" == IPv4 ]]; then
    src_ip=${POD_V4[$SOURCE_POD]} dst_ip=${POD_V4[$PEER_POD]}
    src_node_ip=${NODE_V4[$src_node]:-} dst_node_ip=${NODE_V4[$dst_node]:-}
    dev=vxlan.calico route_cmd=(ip route) neigh_cmd=(ip neigh show dev vxlan.calico)
  else
    src_ip=${POD_V6[$SOURCE_POD]} dst_ip=${POD_V6[$PEER_POD]}
    src_node_ip=${NODE_V6[$src_node]:-} dst_node_ip=${NODE_V6[$dst_node]:-}
    dev=vxlan-v6.calico route_cmd=(ip -6 route) neigh_cmd=(ip -6 neigh show dev vxlan-v6.calico)
  fi
  screen_header "$family" "" "$src_ip" "$dst_ip" || return 0

  # 1. The tunnel device and the address its outer packets leave from.
  local link local_addr vni port mtu
  say "1. The ${family} tunnel device on ${src_node}   (docker exec ${src_node} ip -d link show ${dev})"
  link=$(on_node "$src_node" ip -d link show "$dev")
  local_addr=$(vxlan_local "$link")
  vni=$(sed -n 's/.*vxlan id \([0-9]*\).*/\1/p' <<<"$link" | head -n 1)
  port=$(sed -n 's/.* dstport \([0-9]*\).*/\1/p' <<<"$link" | head -n 1)
  mtu=$(sed -n 's/.* mtu \([0-9]*\) .*/\1/p' <<<"$link" | head -n 1)
  show "${dev}: VXLAN id ${vni:-?}, UDP port ${port:-?}, MTU ${mtu:-?}, local ${local_addr:-?}"
  if [[ "$local_addr" == "$src_node_ip" ]]; then
    note "its outer packets leave from ${src_node}'s own ${family} address ${local_addr}."
    if [[ "$family" == IPv6 ]]; then
      note "so IPv6 pod traffic is carried in IPv6 between the nodes. The course's lab README (\"Calico IPv6"
      more "Pod Networking\", not this project's) says the IPv6 tunnel rides IPv4-only infrastructure;"
      more "this live device shows it does not."
    fi
  else
    note "MISMATCH: the ${family} tunnel is bound to ${local_addr:-nothing}, not to the node's ${family} address ${src_node_ip:-(none)}."
    more "Calico takes the tunnel address from the node's InternalIP; check: kubectl get node ${src_node} -o wide"
  fi
  explain_mtu "$family" "$mtu"
  say ""

  # 2. The route to the peer's block.
  local routes route via rdev
  say "2. ${src_node}'s route towards ${dst_ip}   (docker exec ${src_node} ${route_cmd[*]})"
  routes=$(on_node "$src_node" "${route_cmd[@]}")
  route=$(route_for "$dst_ip" "$routes")
  if [[ -z "$route" ]]; then
    show "(no route holds ${dst_ip})"
    note "without a route the packet follows the default route and is lost: is calico-node Ready on ${dst_node}?"
    say ""
    return 0
  fi
  show "$route"
  via=$(field "$route" via) rdev=$(field "$route" dev)
  local block=${route%% *} pool=$LAB_IPV4_POOL_CIDR
  [[ "$family" == IPv4 ]] || pool=$LAB_IPV6_POOL_CIDR
  if [[ "$rdev" == "$dev" ]]; then
    note "the peer pod's block ${block} is routed into ${dev}; next hop ${via}, the peer node's tunnel address."
    if [[ "$family" == IPv4 ]]; then
      more "vxlanMode CrossSubnet encapsulates only towards other subnets: ${dst_node} ${dst_node_ip} is on another one."
    fi
  elif [[ -n "$via" && "$via" == "$dst_node_ip" ]]; then
    note "no tunnel: the block ${block} goes straight to ${dst_node} (${via}) over ${rdev}, unencapsulated."
    more "that is vxlanMode CrossSubnet: both nodes share a subnet, so the underlay delivers pod addresses as they are."
    explain_route_details "$route" "$block" "$pool"
    say ""
    explain_fdb_for "$family" "$dev" "$dst_node" "$dst_node_ip" "$src_node" "" "${neigh_cmd[@]}"
    say ""
    say "So: ${src_ip} -> ${rdev} of ${src_node} -> ${via} (${dst_node}) -> ${dst_ip}, no encapsulation"
    say ""
    return 0
  else
    note "the route leaves through ${rdev:-?} via ${via:-nothing}: not the VXLAN device and not the peer node (${dst_node_ip})."
  fi
  explain_route_details "$route" "$block" "$pool"
  say ""
  explain_fdb_for "$family" "$dev" "$dst_node" "$dst_node_ip" "$src_node" "$via" "${neigh_cmd[@]}"
  say ""
  say "So: ${src_ip} -> ${dev} on ${src_node} -> [outer ${family} ${local_addr} -> ${dst_node_ip}, UDP ${port:-4789}, VXLAN ${vni:-?}] -> ${dst_node} -> ${dst_ip}"
  say ""
}

# explain_mtu FAMILY MTU: where the tunnel's MTU comes from, and the pods'.
# Felix sets each VXLAN device to the node's MTU less the encapsulation, and
# writes the smallest of them to /var/lib/calico/mtu for the CNI plugin
# (Felix v3.28.5 int_dataplane.go: vxlanMTUOverhead 50, vxlanV6MTUOverhead 70).
explain_mtu() {
  local family=$1 mtu=$2
  [[ "$mtu" =~ ^[0-9]+$ ]] || return 0
  if [[ "$family" == IPv4 ]]; then
    note "MTU ${mtu} = $((mtu + 50)) - 50: the node's MTU less VXLAN over IPv4 (outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14)."
  else
    note "MTU ${mtu} = $((mtu + 70)) - 70: VXLAN over IPv6 costs 20 bytes more (the outer IPv6 header is 40 bytes)."
  fi
  [[ -n "$POD_MTU" ]] || return 0
  if lab_has_family IPv4; then
    more "pods get ${POD_MTU} (/var/lib/calico/mtu): the smaller tunnel MTU, so one pod MTU fits both tunnels."
  else
    more "pods get ${POD_MTU} (/var/lib/calico/mtu): the MTU of the lab's one tunnel."
  fi
}

# explain_route_details ROUTE BLOCK POOL: what "proto 80" on the route means,
# and why the peer's block looks random.
explain_route_details() {
  local route=$1 block=$2 pool=$3 count=""
  if [[ " $route " == *" proto 80 "* ]]; then
    note "proto 80: the mark Felix puts on routes it adds outside its own devices (this one, and its blackhole"
    more "for the local block); it only ever removes routes that carry it (Felix v3.28.5, vxlan_mgr.go)."
  fi
  [[ "$block" == */* ]] || return 0
  if [[ -n "$pool" ]] && ip_in_cidr "${block%/*}" "$pool" && ((${block#*/} >= ${pool#*/})); then
    count="; this one is one of 2^$((${block#*/} - ${pool#*/})) /${block#*/} blocks in ${pool}"
  fi
  note "why this block: Calico IPAM starts each node's search at a pseudo-random block of the pool, seeded by the"
  more "node's name (libcalico-go ipam_block_reader_writer.go, randomBlockGenerator), so the same name finds the"
  more "same block again${count}."
}

# explain_fdb_for FAMILY DEV PEER_NODE PEER_NODE_IP SRC_NODE NEXT_HOP NEIGH_CMD...:
# steps 3 and 4: the next hop's MAC (neighbour table) and where frames to that
# MAC go (FDB). Without NEXT_HOP (no tunnel used) it shows the peer's entry only.
explain_fdb_for() {
  local family=$1 dev=$2 dst_node=$3 dst_node_ip=$4 src_node=$5 via=$6
  shift 6
  local neigh fdb line mac dst entry
  neigh=$(on_node "$src_node" "$@")
  fdb=$(on_node "$src_node" bridge fdb show dev "$dev")
  if [[ -z "$via" ]]; then
    entry=$(awk -v d="$dst_node_ip" '$2 == "dst" && $3 == d' <<<"$fdb")
    say "3. ${dev} still knows ${dst_node}   (docker exec ${src_node} bridge fdb show dev ${dev})"
    show "${entry:-(no FDB entry for ${dst_node_ip})}"
    note "Felix programs the tunnel to every node anyway; ${family} traffic to other subnets would use it."
    return 0
  fi
  say "3. The next hop's MAC   (docker exec ${src_node} $*)"
  line=$(awk -v h="$via" '$1 == h' <<<"$neigh")
  show "${line:-(no neighbour entry for ${via})}"
  mac=$(field "$line" lladdr)
  if [[ -n "$mac" ]]; then
    note "${via} is the peer's ${dev} with MAC ${mac}; PERMANENT: Felix wrote it, nothing is discovered."
  else
    note "no MAC for ${via}: the kernel cannot build the inner frame. Is calico-node running on ${dst_node}?"
    return 0
  fi
  say ""
  say "4. Where frames for ${mac} go   (docker exec ${src_node} bridge fdb show dev ${dev})"
  line=$(awk -v m="$mac" '$1 == m' <<<"$fdb")
  show "${line:-(no FDB entry for ${mac})}"
  dst=$(field "$line" dst)
  if [[ -n "$dst" && "$dst" == "$dst_node_ip" ]]; then
    note "frames for ${mac} are wrapped in UDP and sent to ${dst}: ${dst_node}'s ${family} InternalIP."
  else
    note "MISMATCH: the FDB sends ${mac} to ${dst:-nowhere}, but ${dst_node}'s ${family} InternalIP is ${dst_node_ip:-none}."
  fi
}

# --- capture ------------------------------------------------------------------------------

capture_vxlan() {
  local src_node=${POD_NODE[$SOURCE_POD]} line
  local src_node_ip=${NODE_V6[${POD_NODE[$SOURCE_POD]}]:-} dst_node_ip=${NODE_V6[${POD_NODE[$PEER_POD]}]:-}
  capture_ping6 4 "ip6 and udp port 4789"
  line=$(grep -m1 -E "^[0-9:.]+ IP6 [0-9a-f:]+\.[0-9]+ > [0-9a-f:]+\.4789: VXLAN" "$CAPTURE_OUT" || true)
  if [[ -z "$line" ]]; then
    note "no IPv6 VXLAN packet seen on ${src_node}'s eth0 in ${LAB_CAPTURE_SECONDS}s."
    return 0
  fi
  local outer_src outer_dst
  outer_src=$(awk '{ print $3 }' <<<"$line") outer_dst=$(awk '{ print $5 }' <<<"$line")
  outer_dst=${outer_dst%:}
  outer_src=${outer_src%.*} outer_dst=${outer_dst%.*}
  note "outer header: IPv6 ${outer_src} -> ${outer_dst}, UDP port 4789 (VXLAN); inner: the pods' own IPv6 packet."
  if [[ "$outer_src" == "$src_node_ip" && "$outer_dst" == "$dst_node_ip" ]]; then
    more "those are the two nodes' IPv6 InternalIPs: IPv6 pod traffic crosses the underlay as IPv6."
  else
    note "MISMATCH: expected ${src_node_ip} -> ${dst_node_ip} (the nodes' IPv6 InternalIPs)."
  fi
  say ""
}
