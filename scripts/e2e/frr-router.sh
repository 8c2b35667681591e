#!/usr/bin/env bash
# frr-router.sh - run the lab's synthesized router configuration (<dist>/frr/) in a real FRR, peering with
# real FRRs that play the Calico nodes, all in network namespaces this script creates and removes.
#
#   kind's Docker network   one bridge in its own namespace; the router and every node hang off it
#   the router              FRR (zebra + bgpd) loading <dist>/frr/frr.conf as the image does (vtysh -b), on
#                           an eth0 addressed as deploy.sh's container is: first the IPv4 address Docker
#                           picks, then the lab's IPv4 address beside it, and the lab's IPv6 address
#   each node               FRR in the cluster's AS, as calico-node's BIRD peers: an eBGP session per
#                           family to the router from the node's own address (BGPPeer sourceAddress
#                           UseNodeIP), the iBGP node-to-node mesh, its /26 and /122 block announced from a
#                           blackhole route (as BIRD's protocol static), the Service ranges announced
#                           (serviceClusterIPs), mesh-learned blocks passed on with their next hop
#                           (keepOriginalNextHop), and one stray prefix per family the router must refuse
#   one pod per node        a namespace behind a veth, with Calico's addressing (a /32 and a /128 from
#                           the node's blocks, default routes through proxy ARP and fe80::ecee:eeff:feee:eeee),
#                           running nginx with the lab's pod configuration (NGINX_CONF), under the pod's name
#
# It waits (bounded) until the router has every session Established and every block installed in its
# kernel table, then writes what the test asserts into OUT_DIR: the router's `show ... json` outputs, its
# kernel routes and links, a node's view, pings and HTTP requests from the router to every pod over IPv4 and
# IPv6 (nginx's answers name the client address it saw), an IPv6 ping between two pods on different nodes as
# tcpdump sees it on the first node's eth0, and the same router without its inbound route-maps (RFC 8212:
# nothing accepted).
#
# Usage: scripts/e2e/frr-router.sh FRR_DIR OUT_DIR [NGINX_CONF]
#   FRR_DIR     the synthesized frr/ directory (frr.conf, daemons, vtysh.conf)
#   OUT_DIR     where the outputs go (created)
#   NGINX_CONF  the pods' nginx.conf (the facts' externalHost.nginxConfig); without it the pods run no nginx
# Environment (defaults: the lab's defaults, three nodes with blocks from a real kind run):
#   FRR_ROUTER_IPV4, FRR_ROUTER_IPV6   the router's addresses with the network's prefix length
#   FRR_ROUTER_DOCKER_IPV4             the IPv4 address Docker gives the router's container first [172.18.0.6/16]
#   FRR_CLUSTER_AS                     the nodes' AS (the router's comes from frr.conf)
#   FRR_NODES                          space-separated NAME,IPV4/LEN,IPV6/LEN,IPV4_BLOCK,IPV6_BLOCK[,POD_NAME]
#   FRR_SERVICES                       the Service ranges the nodes announce
#   FRR_STRAY                          one IPv4 and one IPv6 prefix the first node also announces
#   FRR_FAMILIES                       "ipv4 ipv6", or "ipv6" for an IPv6-only lab: no IPv4 address
#                                      anywhere, the nodes' router IDs hashed from their names as
#                                      calico-node's CALICO_ROUTER_ID=hash does (NODES' IPv4 fields "-")
#   FRR_TIMEOUT                        seconds to wait for sessions and routes          [90]
#   FRR_BIN_DIR                        where zebra and bgpd are                         [/usr/lib/frr]
#   NGINX_BIN                          nginx                                            [nginx]
# Exit status: 0 when everything converged and the outputs are written; 2 when FRR, nginx, tcpdump or `ip netns` is missing
# (the caller decides whether that skips or fails); 1 otherwise, after printing the daemons' logs.
set -euo pipefail

FRR_ROUTER_IPV4="${FRR_ROUTER_IPV4:-172.18.255.254/16}"
FRR_ROUTER_IPV6="${FRR_ROUTER_IPV6:-fc00:f853:ccd:e793::fffe/64}"
FRR_ROUTER_DOCKER_IPV4="${FRR_ROUTER_DOCKER_IPV4:-172.18.0.6/16}"
FRR_CLUSTER_AS="${FRR_CLUSTER_AS:-64512}"
# The nodes, blocks and pods of the scripts' stub cluster (__tests__/scripts/fixtures/cluster), whose blocks and pod
# addresses Calico v3.28.5's IPAM handed out.
FRR_NODES="${FRR_NODES:-ipv6-lab-control-plane,172.18.0.2/16,fc00:f853:ccd:e793::2/64,192.168.40.128/26,fd00:10:244:2893:e83c:c9a6:7f8b:bb80/122,multitool-xp9c5 ipv6-lab-worker,172.18.0.3/16,fc00:f853:ccd:e793::3/64,192.168.217.0/26,fd00:10:244:1168:5560:68e4:6df7:2c40/122,multitool-hmbcg ipv6-lab-worker2,172.18.0.4/16,fc00:f853:ccd:e793::4/64,192.168.98.0/26,fd00:10:244:d01c:d569:d420:c640:6200/122,multitool-csttt}"
FRR_SERVICES="${FRR_SERVICES:-10.96.0.0/16 fd00:10:96::/112}"
FRR_STRAY="${FRR_STRAY:-203.0.113.0/24 2001:db8:bad::/48}"
FRR_FAMILIES="${FRR_FAMILIES:-ipv4 ipv6}"
FRR_TIMEOUT="${FRR_TIMEOUT:-90}"
FRR_BIN_DIR="${FRR_BIN_DIR:-/usr/lib/frr}"
NGINX_BIN="${NGINX_BIN:-nginx}"

# Calico's pod-side gateway: every cali* interface has this MAC, hence this link-local address.
CALICO_MAC="ee:ee:ee:ee:ee:ee"
CALICO_LINK_LOCAL="fe80::ecee:eeff:feee:eeee"

SUFFIX="$$-${RANDOM}"
WORK_DIR=""
NAMESPACES=()
DAEMON_DIRS=()
# Other processes started here (nginx masters, tcpdump), stopped on exit.
PIDS=()
STEP="setup"

log() {
  echo "frr-router: $*" >&2
}

# ------------------------------------------------------------------ cleanup --

print_logs() {
  local dir log
  for dir in "${DAEMON_DIRS[@]}"; do
    for log in "${dir}"/run/*.log; do
      [[ -s "${log}" ]] || continue
      echo "----- last 20 lines of ${log#"${WORK_DIR}/"} -----" >&2
      tail -n 20 "${log}" >&2
    done
  done
}

any_alive() { # PID...
  local pid
  for pid in "$@"; do
    kill -0 "${pid}" 2>/dev/null && return 0
  done
  return 1
}

# stop_daemons: SIGTERM to every daemon at once, SIGKILL to those still running 5 s later.
stop_daemons() {
  local dir pidfile pid i pids=()
  for dir in "${DAEMON_DIRS[@]}"; do
    for pidfile in "${dir}"/run/*.pid; do
      [[ -s "${pidfile}" ]] && pids+=("$(cat "${pidfile}")")
    done
  done
  ((${#pids[@]} > 0)) || return 0
  kill "${pids[@]}" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    any_alive "${pids[@]}" || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    kill -9 "${pid}" 2>/dev/null
  done
  return 0
}

cleanup() {
  local rc=$? ns pid
  set +e
  trap '' PIPE
  if ((rc != 0)); then
    log "FAILED at: ${STEP} (exit ${rc})"
    [[ -n "${WORK_DIR}" ]] && print_logs
  fi
  stop_daemons
  for pid in "${PIDS[@]}"; do
    kill "${pid}" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    wait "${pid}" 2>/dev/null
  done
  for ns in "${NAMESPACES[@]}"; do
    ip netns delete "${ns}" 2>/dev/null
  done
  [[ -n "${WORK_DIR}" ]] && rm -rf "${WORK_DIR}"
  exit "${rc}"
}

# ----------------------------------------------------------------- plumbing --

# netns NS CMD...: run CMD inside namespace NS.
netns() {
  local ns="$1"
  shift
  ip netns exec "${ns}" "$@"
}

new_namespace() { # NAME
  ip netns add "$1"
  NAMESPACES+=("$1")
  netns "$1" ip link set lo up
  # No duplicate address detection: addresses are usable at once, as Docker's are.
  netns "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
}

# plug NS: a veth from NS's eth0 to a port of the bridge, as Docker attaches a container to its network.
plug() {
  local ns="$1" port="p${#NAMESPACES[@]}"
  ip link add eth0 netns "${ns}" type veth peer name "${port}" netns "${BRIDGE_NS}"
  netns "${BRIDGE_NS}" ip link set "${port}" master br0 up
  netns "${ns}" ip link set eth0 up
}

first_host() { # CIDR -> the block's first address after the network address (a pod's, as Calico hands out)
  node -e 'const ip = require(process.argv[2]); const [a] = ip.parseCIDR(process.argv[1]);
    const b = a.toByteArray(); for (let i = b.length - 1; i >= 0; i--) { if (++b[i] <= 255) break; b[i] = 0; }
    console.log(ip.fromByteArray(b).toString());' "$1" "${IPADDR_JS}"
}

# ------------------------------------------------------------------- FRR --

# start_frr NS DIR HOSTNAME: zebra and bgpd in NS with their own sockets, pid files and logs under DIR/run,
# then the integrated DIR/etc/frr.conf through `vtysh -b`, as FRR's start script (watchfrr) does in the
# image. Each in its own UTS namespace named HOSTNAME, as a container has: bgpd tells its peers that name
# (the hostname capability), which must not be this machine's.
start_frr() {
  local ns="$1" dir="$2" hostname="$3" daemon
  DAEMON_DIRS+=("${dir}")
  mkdir -p "${dir}/run"
  # The daemons drop to the frr user: it needs the socket directory and to read the configuration.
  chown frr:frr "${dir}/run"
  chgrp -R frr "${dir}/etc"
  chmod -R g+rX "${dir}/etc"
  for daemon in zebra bgpd; do
    # shellcheck disable=SC2016 # expanded by the inner shell
    netns "${ns}" unshare --uts sh -c 'hostname "$1" && shift && exec "$@"' sh "${hostname}" \
      "${FRR_BIN_DIR}/${daemon}" -d -F traditional -P 0 -f /dev/null \
      -i "${dir}/run/${daemon}.pid" -z "${dir}/run/zserv.api" --vty_socket "${dir}/run" \
      --log "file:${dir}/run/${daemon}.log" 2>>"${dir}/run/${daemon}.log"
  done
  netns "${ns}" vtysh --vty_socket "${dir}/run" --config_dir "${dir}/etc" -b >"${dir}/run/vtysh-b.log" 2>&1 || {
    cat "${dir}/run/vtysh-b.log" >&2
    return 1
  }
}

has_family() { [[ " ${FRR_FAMILIES} " == *" $1 "* ]]; }

# hashed_router_id NAME: Calico v3.28.5 confd's hashToIPv4 (CALICO_ROUTER_ID=hash): the first four bytes of
# sha256(NAME), the first lowered by 32 when above 223.
hashed_router_id() {
  local hex b0
  hex="$(printf '%s' "$1" | sha256sum | cut -c1-8)"
  b0=$((16#${hex:0:2}))
  ((b0 <= 223)) || b0=$((b0 - 32))
  echo "${b0}.$((16#${hex:2:2})).$((16#${hex:4:2})).$((16#${hex:6:2}))"
}

vtysh_in() { # NS DIR CMD
  netns "$1" vtysh --vty_socket "$2/run" -c "$3"
}

# node_frr_conf NAME V4 V6 BLOCK4 BLOCK6 STRAY...: what calico-node's BIRD does, in FRR words.
node_frr_conf() {
  local name="$1" v4="$2" v6="$3" block4="$4" block6="$5" other family prefix
  local router4="${FRR_ROUTER_IPV4%/*}" router6="${FRR_ROUTER_IPV6%/*}"
  echo "frr defaults traditional"
  echo "hostname ${name}"
  echo "service integrated-vtysh-config"
  # BIRD installs a mesh-learned IPv6 block via the peer node's global address (Calico's CalicoNodeStatus
  # samples: gateway = the peer's IPv6 InternalIP); FRR would pick the link-local one.
  echo "route-map MESH-IN permit 10"
  echo " set ipv6 next-hop prefer-global"
  echo "exit"
  echo "router bgp ${FRR_CLUSTER_AS}"
  if has_family ipv4; then echo " bgp router-id ${v4}"; else echo " bgp router-id $(hashed_router_id "${name}")"; fi
  echo " no bgp default ipv4-unicast"
  # BIRD has no RFC 8212 default; its export filter (calico_export_to_bgp_peers) decides what goes out.
  echo " no bgp ebgp-requires-policy"
  # The Service ranges and the stray prefixes have no kernel route, as BIRD's static ones have none.
  echo " no bgp network import-check"
  if has_family ipv4; then
    echo " neighbor ${router4} remote-as external"
    echo " neighbor ${router4} update-source ${v4}"
  fi
  echo " neighbor ${router6} remote-as external"
  echo " neighbor ${router6} update-source ${v6}"
  # BIRD's connect retry time 5 (Calico's bgp_template), not FRR's 120 s.
  if has_family ipv4; then echo " neighbor ${router4} timers connect 5"; fi
  echo " neighbor ${router6} timers connect 5"
  for other in "${NODE_V4[@]}" "${NODE_V6[@]}"; do
    [[ "${other}" == "${v4}" || "${other}" == "${v6}" || "${other}" == - ]] && continue
    echo " neighbor ${other} remote-as internal"
    echo " neighbor ${other} timers connect 5"
  done
  for family in ${FRR_FAMILIES}; do
    echo " address-family ${family} unicast"
    if [[ "${family}" == ipv4 ]]; then
      echo "  network ${block4}"
    else
      echo "  network ${block6}"
    fi
    for prefix in ${FRR_SERVICES} ${STRAY_PREFIXES}; do
      if [[ ("${family}" == ipv4 && "${prefix}" != *:*) || ("${family}" == ipv6 && "${prefix}" == *:*) ]]; then
        echo "  network ${prefix}"
      fi
    done
    if [[ "${family}" == ipv4 ]]; then
      echo "  neighbor ${router4} activate"
      echo "  neighbor ${router4} attribute-unchanged next-hop"
    else
      echo "  neighbor ${router6} activate"
      echo "  neighbor ${router6} attribute-unchanged next-hop"
    fi
    for other in "${NODE_V4[@]}" "${NODE_V6[@]}"; do
      [[ "${other}" == "${v4}" || "${other}" == "${v6}" || "${other}" == - ]] && continue
      if [[ "${family}" == ipv4 && "${other}" != *:* ]]; then
        echo "  neighbor ${other} activate"
      elif [[ "${family}" == ipv6 && "${other}" == *:* ]]; then
        echo "  neighbor ${other} activate"
        echo "  neighbor ${other} route-map MESH-IN in"
      fi
    done
    echo " exit-address-family"
  done
  echo "exit"
}

# ---------------------------------------------------------------- topology --

build_network() {
  BRIDGE_NS="frr-net-${SUFFIX}"
  new_namespace "${BRIDGE_NS}"
  netns "${BRIDGE_NS}" ip link add br0 type bridge
  netns "${BRIDGE_NS}" ip link set br0 up
}

build_router() {
  ROUTER_NS="frr-router-${SUFFIX}"
  new_namespace "${ROUTER_NS}"
  plug "${ROUTER_NS}"
  if has_family ipv4; then
    # As in the container deploy.sh starts: Docker's own IPv4 address first (the primary), then the lab's.
    netns "${ROUTER_NS}" ip addr add "${FRR_ROUTER_DOCKER_IPV4}" dev eth0
    netns "${ROUTER_NS}" ip addr add "${FRR_ROUTER_IPV4}" dev eth0
  fi
  netns "${ROUTER_NS}" ip addr add "${FRR_ROUTER_IPV6}" dev eth0 nodad
  ROUTER_DIR="${WORK_DIR}/router"
  mkdir -p "${ROUTER_DIR}/etc"
  cp "${FRR_DIR}/frr.conf" "${FRR_DIR}/vtysh.conf" "${FRR_DIR}/daemons" "${ROUTER_DIR}/etc/"
  start_frr "${ROUTER_NS}" "${ROUTER_DIR}" "$(sed -n 's/^hostname //p' "${FRR_DIR}/frr.conf")"
}

build_node() { # INDEX NAME V4/LEN V6/LEN BLOCK4 BLOCK6 POD_NAME
  local i="$1" name="$2" v4="$3" v6="$4" block4="$5" block6="$6" pod_name="$7" ns pod pod4 pod6 dir
  ns="frr-node${i}-${SUFFIX}"
  pod="frr-pod${i}-${SUFFIX}"
  new_namespace "${ns}"
  plug "${ns}"
  if has_family ipv4; then netns "${ns}" ip addr add "${v4}" dev eth0; fi
  netns "${ns}" ip addr add "${v6}" dev eth0 nodad
  netns "${ns}" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  # Calico's BIRD programs a blackhole route for each block the node holds; pods get /32 and /128 routes.
  if has_family ipv4; then netns "${ns}" ip route add blackhole "${block4}"; fi
  netns "${ns}" ip -6 route add blackhole "${block6}"

  new_namespace "${pod}"
  ip link add cali0 netns "${ns}" address "${CALICO_MAC}" type veth peer name eth0 netns "${pod}"
  netns "${ns}" sysctl -qw net.ipv4.conf.cali0.proxy_arp=1 net.ipv6.conf.cali0.accept_dad=0
  netns "${ns}" ip link set cali0 up
  netns "${pod}" ip link set eth0 up
  pod4=-
  if has_family ipv4; then
    pod4="$(first_host "${block4}")"
    netns "${pod}" ip addr add "${pod4}/32" dev eth0
    netns "${pod}" ip route add default dev eth0
    netns "${ns}" ip route add "${pod4}/32" dev cali0
  fi
  pod6="$(first_host "${block6}")"
  netns "${pod}" ip addr add "${pod6}/128" dev eth0 nodad
  netns "${pod}" ip -6 route add default via "${CALICO_LINK_LOCAL}" dev eth0
  netns "${ns}" ip -6 route add "${pod6}/128" dev cali0

  dir="${WORK_DIR}/node${i}"
  mkdir -p "${dir}/etc"
  node_frr_conf "${name}" "${v4%/*}" "${v6%/*}" "${block4}" "${block6}" >"${dir}/etc/frr.conf"
  echo "service integrated-vtysh-config" >"${dir}/etc/vtysh.conf"
  NODE_NS+=("${ns}")
  NODE_NAMES+=("${name}")
  NODE_DIRS+=("${dir}")
  POD4+=("${pod4}")
  POD6+=("${pod6}")
  POD_NS+=("${pod}")
  [[ -z "${NGINX_CONF}" ]] || start_nginx "${pod}" "${pod_name}" "${dir}"
}

# start_nginx NS HOSTNAME DIR: the lab's pod nginx in NS, under HOSTNAME (nginx's $hostname), as the
# multitool pod runs it; its pid file and logs under DIR.
start_nginx() {
  local ns="$1" hostname="$2" dir="$3" i
  sed "s|^pid .*|pid ${dir}/nginx.pid;|" "${NGINX_CONF}" >"${dir}/nginx.conf"
  # ip netns exec itself, not the netns function: a function in the background is a subshell whose
  # pid ($!) is not nginx's, and nginx outlived the run.
  # shellcheck disable=SC2016 # expanded by the inner shell
  ip netns exec "${ns}" unshare --uts sh -c 'hostname "$1" && shift && exec "$@"' sh "${hostname}" \
    "${NGINX_BIN}" -c "${dir}/nginx.conf" -g 'daemon off;' >"${dir}/nginx.log" 2>&1 &
  PIDS+=("$!")
  for ((i = 0; i < 50; i++)); do
    [[ -s "${dir}/nginx.pid" ]] && return 0
    sleep 0.1
  done
  log "nginx did not start in ${ns}:"
  cat "${dir}/nginx.log" >&2
  return 1
}

# ------------------------------------------------------------------ waiting --

# converged: every node has an Established IPv4 and IPv6 session to the router, and the router's kernel
# has a BGP route for every node's blocks.
converged() {
  local summary routes4 routes6 block
  summary="$(vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" 'show bgp summary json' 2>/dev/null)" || return 1
  node -e '
    const s = JSON.parse(process.argv[1]); const want = process.argv.slice(2);
    const up = ["ipv4Unicast", "ipv6Unicast"].flatMap(af => Object.entries((s[af] || {}).peers || {})
      .filter(([, p]) => p.state === "Established").map(([ip]) => ip));
    process.exit(want.filter(ip => ip !== "-").every(ip => up.includes(ip)) ? 0 : 1);' "${summary}" "${NODE_V4[@]}" "${NODE_V6[@]}" || return 1
  routes4="$(netns "${ROUTER_NS}" ip route show proto bgp)"
  routes6="$(netns "${ROUTER_NS}" ip -6 route show proto bgp)"
  for block in "${BLOCK4[@]}"; do
    [[ "${block}" == - ]] || grep -q "^${block} " <<<"${routes4}" || return 1
  done
  for block in "${BLOCK6[@]}"; do
    grep -q "^${block} " <<<"${routes6}" || return 1
  done
}

wait_converged() {
  local deadline=$((SECONDS + FRR_TIMEOUT))
  until converged; do
    if ((SECONDS >= deadline)); then
      log "not converged within ${FRR_TIMEOUT}s; the router's view:"
      vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" 'show bgp summary' >&2 || true
      netns "${ROUTER_NS}" ip route >&2 || true
      netns "${ROUTER_NS}" ip -6 route >&2 || true
      return 1
    fi
    sleep 1
  done
}

# ----------------------------------------------------------------- capture --

capture_router() { # SUBDIR
  local out="${OUT_DIR}/$1" cmd file
  mkdir -p "${out}"
  for cmd in 'show bgp summary json' 'show bgp ipv4 unicast json' 'show bgp ipv6 unicast json' 'show bgp neighbors json'; do
    file="${cmd% json}"
    file="${file// /-}.json"
    vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" "${cmd}" >"${out}/${file}"
  done
  vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" 'show running-config' >"${out}/show-running-config.txt"
  for cmd in 'show bgp summary' 'show bgp ipv4 unicast summary' 'show bgp ipv6 unicast summary' 'show bgp ipv4 unicast' 'show bgp ipv6 unicast'; do
    vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" "${cmd}" >"${out}/${cmd// /-}.txt"
  done
  netns "${ROUTER_NS}" ip -j route show >"${out}/ip-route.json"
  netns "${ROUTER_NS}" ip -j -6 route show >"${out}/ip-6-route.json"
  netns "${ROUTER_NS}" ip route show >"${out}/ip-route.txt"
  netns "${ROUTER_NS}" ip -6 route show >"${out}/ip-6-route.txt"
  netns "${ROUTER_NS}" ip -j -d link show >"${out}/ip-link.json"
}

capture_node() { # INDEX SUBDIR
  local i="$1" out="${OUT_DIR}/$2"
  mkdir -p "${out}"
  vtysh_in "${NODE_NS[i]}" "${NODE_DIRS[i]}" 'show bgp ipv4 unicast json' >"${out}/show-bgp-ipv4-unicast.json"
  vtysh_in "${NODE_NS[i]}" "${NODE_DIRS[i]}" 'show bgp ipv6 unicast json' >"${out}/show-bgp-ipv6-unicast.json"
  vtysh_in "${NODE_NS[i]}" "${NODE_DIRS[i]}" 'show bgp neighbors json' >"${out}/show-bgp-neighbors.json"
  netns "${NODE_NS[i]}" ip route show >"${out}/ip-route.txt"
  netns "${NODE_NS[i]}" ip -6 route show >"${out}/ip-6-route.txt"
  netns "${NODE_NS[i]}" ip -d link show type vxlan >"${out}/ip-d-link-show-type-vxlan.txt"
}

# http_pods: from the router, one HTTP request to each pod's nginx per family: "family pod exit-status" lines
# in http.txt, each answer in http-<family>-<pod>.txt (nginx names the client address it saw).
http_pods() {
  local i family pod url rc
  for i in "${!POD4[@]}"; do
    for family in ipv4 ipv6; do
      if [[ "${family}" == ipv4 ]]; then pod="${POD4[i]}" url="http://${POD4[i]}:8080/"; else pod="${POD6[i]}" url="http://[${POD6[i]}]:8080/"; fi
      rc=0
      netns "${ROUTER_NS}" curl -g -sS --max-time 5 "${url}" >"${OUT_DIR}/http-${family}-${pod}.txt" 2>&1 || rc=$?
      echo "${family} ${pod} ${rc}" >>"${OUT_DIR}/http.txt"
    done
  done
}

# capture_pod_to_pod: an IPv6 ping from the first node's pod to the second node's, as tcpdump sees it on the
# first node's eth0 (tcpdump.txt): the pods' own packet, no encapsulation.
capture_pod_to_pod() {
  local out="${OUT_DIR}/tcpdump.txt" pid i
  ip netns exec "${NODE_NS[0]}" tcpdump -n -p -l -i eth0 -c 2 "ip6 and host ${POD6[1]}" >"${out}" 2>&1 &
  pid=$!
  PIDS+=("${pid}")
  for ((i = 0; i < 50; i++)); do
    grep -q '^listening on ' "${out}" 2>/dev/null && break
    sleep 0.1
  done
  netns "${POD_NS[0]}" ping -6 -c 1 -W 2 "${POD6[1]}" >>"${OUT_DIR}/ping.log" 2>&1 || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.1
  done
  kill "${pid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
}

# ping_pods: from the router, one ping to each pod per family; one "family pod exit-status" line each.
ping_pods() {
  local i rc
  for i in "${!POD4[@]}"; do
    if has_family ipv4; then
      rc=0
      netns "${ROUTER_NS}" ping -4 -c 1 -W 2 "${POD4[i]}" >>"${OUT_DIR}/ping.log" 2>&1 || rc=$?
      echo "ipv4 ${POD4[i]} ${rc}" >>"${OUT_DIR}/pings.txt"
    fi
    rc=0
    netns "${ROUTER_NS}" ping -6 -c 1 -W 2 "${POD6[i]}" >>"${OUT_DIR}/ping.log" 2>&1 || rc=$?
    echo "ipv6 ${POD6[i]} ${rc}" >>"${OUT_DIR}/pings.txt"
  done
}

# without_inbound_policy: the same router with its inbound route-maps removed, so that RFC 8212
# (bgp ebgp-requires-policy) alone decides; bounded wait until the router holds no route.
without_inbound_policy() {
  local family deadline=$((SECONDS + FRR_TIMEOUT))
  for family in ${FRR_FAMILIES}; do
    vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" "configure terminal
router bgp
address-family ${family} unicast
no neighbor CALICO-${family^^} route-map CALICO-${family^^}-IN in" >/dev/null
  done
  vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" 'clear bgp * soft in' >/dev/null
  until [[ -z "$(netns "${ROUTER_NS}" ip route show proto bgp)$(netns "${ROUTER_NS}" ip -6 route show proto bgp)" ]]; do
    if ((SECONDS >= deadline)); then
      log "the router still has BGP routes ${FRR_TIMEOUT}s after losing its inbound policy"
      return 1
    fi
    sleep 1
  done
  capture_router without-inbound-policy
}

# without_router_id: an IPv6-only router (no IPv4 address to take an ID from) without its configured
# router ID: bgpd's ID becomes 0.0.0.0, the nodes refuse its OPEN (Bad BGP Identifier) and no session
# comes up again; bounded. Keeps bgpd's view and log.
without_router_id() {
  local i up=1
  vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" "configure terminal
router bgp
no bgp router-id" >/dev/null
  vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" 'clear bgp *' >/dev/null
  # Past the nodes' connect retry (5 s): sessions that could come up would be up.
  for ((i = 0; i < 12; i++)); do
    sleep 1
    up=$(vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" 'show bgp summary json' | node -e '
      const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
      console.log(Object.values((s.ipv6Unicast || {}).peers || {}).filter(p => p.state === "Established").length)')
  done
  capture_router without-router-id
  echo "established_after_12s ${up}" >>"${OUT_DIR}/without-router-id/meta.txt"
  vtysh_in "${ROUTER_NS}" "${ROUTER_DIR}" 'show bgp vrf default json' >"${OUT_DIR}/without-router-id/show-bgp-vrf-default.json" 2>&1 || true
  cp "${ROUTER_DIR}/run/bgpd.log" "${OUT_DIR}/without-router-id/bgpd-log.txt"
}

# ------------------------------------------------------------------- main --

require_tools() {
  local missing=() tool
  for tool in "${FRR_BIN_DIR}/zebra" "${FRR_BIN_DIR}/bgpd"; do
    [[ -x "${tool}" ]] || missing+=("${tool}")
  done
  if [[ -n "${NGINX_CONF}" ]] && ! command -v "${NGINX_BIN}" >/dev/null 2>&1; then
    missing+=("${NGINX_BIN}")
  fi
  for tool in vtysh ip node ping curl tcpdump; do
    command -v "${tool}" >/dev/null 2>&1 || missing+=("${tool}")
  done
  id frr >/dev/null 2>&1 || missing+=("the frr user (Debian's frr package creates it)")
  if ((${#missing[@]} > 0)); then
    log "missing: ${missing[*]} (apt-get install frr iproute2 iputils-ping curl tcpdump nginx)"
    exit 2
  fi
  if ! ip netns add "frr-probe-${SUFFIX}" 2>/dev/null; then
    log "cannot create network namespaces (ip netns add needs root)"
    exit 2
  fi
  ip netns delete "frr-probe-${SUFFIX}"
}

main() {
  if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 FRR_DIR OUT_DIR [NGINX_CONF]" >&2
    exit 64
  fi
  FRR_DIR="$1"
  OUT_DIR="$2"
  NGINX_CONF="${3:-}"
  require_tools
  IPADDR_JS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/node_modules/ipaddr.js"
  trap cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkdir -p "${OUT_DIR}"
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/frr-router.XXXXXX")"
  # The daemons run as the frr user and must reach their directories.
  chmod 755 "${WORK_DIR}"
  if ! runuser -u frr -- test -x "${WORK_DIR}"; then
    log "the frr user cannot reach ${WORK_DIR}: a directory above it is private (TMPDIR=${TMPDIR:-/tmp})"
    log "  fix: chmod o+x the directories above it, or run with TMPDIR=/tmp"
    exit 1
  fi

  local spec name v4 v6 block4 block6 pod_name i=0 started
  NODE_NS=() NODE_NAMES=() NODE_DIRS=() NODE_V4=() NODE_V6=() BLOCK4=() BLOCK6=() POD4=() POD6=() POD_NS=()
  for spec in ${FRR_NODES}; do
    IFS=, read -r name v4 v6 block4 block6 pod_name <<<"${spec}"
    NODE_V4+=("${v4%/*}")
    NODE_V6+=("${v6%/*}")
    BLOCK4+=("${block4}")
    BLOCK6+=("${block6}")
  done
  STRAY_PREFIXES=""

  STEP="building the network and the router"
  build_network
  build_router
  STEP="building the nodes and their pods"
  for spec in ${FRR_NODES}; do
    IFS=, read -r name v4 v6 block4 block6 pod_name <<<"${spec}"
    # The first node also announces the stray prefixes: a node cannot inject other networks.
    if ((i == 0)); then STRAY_PREFIXES="${FRR_STRAY}"; else STRAY_PREFIXES=""; fi
    build_node "${i}" "${name}" "${v4}" "${v6}" "${block4}" "${block6}" "${pod_name:-pod${i}}"
    i=$((i + 1))
  done
  STEP="starting the nodes' FRR"
  started=${SECONDS}
  for i in "${!NODE_NS[@]}"; do
    start_frr "${NODE_NS[i]}" "${NODE_DIRS[i]}" "${NODE_NAMES[i]}"
  done
  STEP="waiting for the sessions and routes (at most ${FRR_TIMEOUT}s)"
  wait_converged
  echo "converged_seconds $((SECONDS - started))" >"${OUT_DIR}/meta.txt"
  "${FRR_BIN_DIR}/bgpd" --version | head -n 1 | sed 's/^/version /' >>"${OUT_DIR}/meta.txt"
  STEP="capturing the router's and a node's view"
  capture_router router
  capture_node 0 node0
  STEP="pinging every pod from the router"
  ping_pods
  if [[ -n "${NGINX_CONF}" ]]; then
    STEP="asking every pod's nginx from the router"
    http_pods
  fi
  STEP="capturing a pod-to-pod IPv6 ping on the first node's eth0"
  capture_pod_to_pod
  STEP="removing the router's inbound policy"
  without_inbound_policy
  if ! has_family ipv4; then
    STEP="removing the IPv6-only router's router ID"
    without_router_id
  fi
  log "done: outputs in ${OUT_DIR}"
}

main "$@"
