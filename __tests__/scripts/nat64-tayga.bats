#!/usr/bin/env bats
# NAT64 with real packets: the real tayga (Debian's package) runs the tayga.conf that synth writes for
# an IPv6-only lab (nat64/tayga.conf), started by the very script deploy.sh's gateway container runs (the
# facts' nat64.gateway.launch), between network namespaces this test creates as deploy lays out the
# containers:
#
#   node (IPv6 only)              gateway (tayga)                             ipv4host (IPv4 only)
#   eth0 fc00:f853:ccd:e793::2 -- eth0 fc00:f853:ccd:e793::64 | eth1 172.19.0.2 -- eth0 172.19.0.4, nginx :8080
#   <prefix> via ::64             tun "nat64": <prefix> and the pool                 <pool> via 172.19.0.2
#
# kind's network on the left (a node: pod traffic leaves it masqueraded to the node's address by
# Calico's natOutgoing), the lab's IPv4-only Docker network on the right, the addresses Docker gives
# there (the gateway joins it first, then the forwarder, then the host). ping6 and curl from the node
# reach the IPv4-only host at <prefix>+IPv4, and the host's nginx answers with the client address it
# saw: one of tayga's pool addresses.
#
# Needs root (ip netns), /dev/net/tun, tayga, ping, curl and nginx; outside CI a missing one skips
# loudly, with CI=true it fails. NAT64_FIXTURES_DIR=dir copies the outputs there (see
# fixtures/ipv6-only/README.md).

load helpers/lab

setup_file() {
  export V6_DIST=$BATS_FILE_TMPDIR/ipv6-only-dist V4_DIST=$BATS_FILE_TMPDIR/dual-stack-dist
  printf 'ipFamilies: [IPv6]\n' >"$BATS_FILE_TMPDIR/ipv6-only.yaml"
  render_config "$BATS_FILE_TMPDIR/ipv6-only.yaml" "$V6_DIST"
  render_defaults "$V4_DIST"
}

setup() {
  local tool
  [[ $(id -u) == 0 ]] || skip_or_fail_in_ci "network namespaces need root"
  [[ -c /dev/net/tun ]] || skip_or_fail_in_ci "/dev/net/tun is missing (tayga needs a TUN device)"
  for tool in ip tayga ping curl nginx stdbuf unshare; do
    command -v "$tool" >/dev/null || skip_or_fail_in_ci "$tool is not installed (apt-get install iproute2 tayga iputils-ping curl nginx)"
  done
  NS=lab-nat64-$$-$RANDOM
  CLIENT=$NS-c GW=$NS-g V4HOST=$NS-4
  WORK=$BATS_TEST_TMPDIR/work
  mkdir -p "$WORK"
  # The lab's values, from the synthesized dist.
  PREFIX=$(sed -n 's/^prefix //p' "$V6_DIST/nat64/tayga.conf")
  POOL=$(sed -n 's/^dynamic-pool //p' "$V6_DIST/nat64/tayga.conf")
  PREFIX_NET=${PREFIX%/96}
  V4_ADDR=172.19.0.4 GW_V4=172.19.0.2 NODE_V6=fc00:f853:ccd:e793::2
  GW_V6=$(facts_value "$V6_DIST" f.nat64.gateway.address)
  V4_HOSTNAME=$(facts_value "$V6_DIST" f.nat64.ipv4Host.name)
  TARGET=${PREFIX_NET}${V4_ADDR}
}

teardown() {
  local pid ns
  for pid in ${TAYGA_PID:-} ${NGINX_PID:-}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for ns in ${CLIENT:-} ${GW:-} ${V4HOST:-}; do
    ip netns del "$ns" 2>/dev/null || true
  done
}

# make_topology TAYGA_CONF: the three namespaces, wired and routed for TAYGA_CONF's prefix and pool as
# deploy.sh does: the node's route to the prefix via the gateway, the IPv4-only host's route to the pool
# via the gateway's IPv4 address, forwarding on in the gateway (docker run --sysctl).
make_topology() {
  local conf=$1 prefix pool ns
  prefix=$(sed -n 's/^prefix //p' "$conf")
  pool=$(sed -n 's/^dynamic-pool //p' "$conf")
  for ns in "$CLIENT" "$GW" "$V4HOST"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  # The IPv4-only host has no IPv6 at all.
  ip netns exec "$V4HOST" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip link add eth0 netns "$CLIENT" type veth peer name eth0 netns "$GW"
  ip link add eth1 netns "$GW" type veth peer name eth0 netns "$V4HOST"
  ip -n "$CLIENT" addr add "$NODE_V6/64" dev eth0 nodad
  ip -n "$GW" addr add "$GW_V6/64" dev eth0 nodad
  ip -n "$GW" addr add "$GW_V4/16" dev eth1
  ip -n "$V4HOST" addr add "$V4_ADDR/16" dev eth0
  ip -n "$CLIENT" link set eth0 up
  ip -n "$GW" link set eth0 up
  ip -n "$GW" link set eth1 up
  ip -n "$V4HOST" link set eth0 up
  ip -n "$CLIENT" -6 route replace "$prefix" via "$GW_V6"
  ip -n "$V4HOST" route replace "$pool" via "$GW_V4"
  ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# start_tayga TAYGA_CONF [LAUNCH]: the gateway's launch script (the facts' nat64.gateway.launch, or
# LAUNCH) in the gateway namespace: tayga makes its TUN device, the pool and prefix are routed into it,
# then tayga runs in the foreground with debug messages (-d), logging to tayga.log.
start_tayga() {
  local launch=${2:-$(facts_value "$V6_DIST" f.nat64.gateway.launch)}
  ip netns exec "$GW" sh -c "$launch" sh "$1" >"$WORK/tayga.log" 2>&1 &
  TAYGA_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    grep -q '^Dynamic pool' "$WORK/tayga.log" && return 0
    kill -0 "$TAYGA_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "tayga did not start:" >&2
  cat "$WORK/tayga.log" >&2
  return 1
}

# start_ipv4_host: nginx with the nginx.conf the facts give the IPv4-only host (the lab's dual-stack
# one), under the host's name (its own UTS namespace, as a container has), in the IPv4-only namespace.
start_ipv4_host() {
  facts_value "$V6_DIST" f.nat64.ipv4Host.nginxConfig |
    sed "s#^pid .*#pid $WORK/nginx.pid;#; s#/dev/stderr#$WORK/nginx-error.log#; s#/dev/stdout#$WORK/nginx-access.log#" >"$WORK/nginx.conf"
  # shellcheck disable=SC2016 # expanded by the inner sh
  ip netns exec "$V4HOST" unshare --uts sh -c 'hostname "$1" && shift && exec "$@"' sh "$V4_HOSTNAME" \
    nginx -e "$WORK/nginx-error.log" -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;' &
  NGINX_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    ip netns exec "$V4HOST" curl -fsS -o /dev/null --max-time 1 "http://$V4_ADDR:8080/" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nginx did not answer on $V4_ADDR:8080:" >&2
  cat "$WORK/nginx-error.log" >&2
  return 1
}

save_fixture() { # NAME FILE
  [[ -n "${NAT64_FIXTURES_DIR:-}" ]] || return 0
  mkdir -p "$NAT64_FIXTURES_DIR"
  cp "$2" "$NAT64_FIXTURES_DIR/$1"
}

@test "the dist's tayga.conf, started as deploy's gateway starts it: ping6 and HTTP from an IPv6-only node reach an IPv4-only host, which sees tayga's pool address" {
  local conf=$V6_DIST/nat64/tayga.conf
  [[ "$PREFIX" == fd00:10:64::/96 && "$POOL" == 192.168.255.0/24 ]]
  make_topology "$conf"
  start_tayga "$conf"
  start_ipv4_host

  # The IPv4-only host really has no IPv6 route to the node: only tayga can carry this.
  run ip netns exec "$V4HOST" ping -6 -c 1 -W 1 "$NODE_V6"
  assert_failure

  # What verify and explain read in the gateway and on a node (kubectl exec calico-node / docker exec).
  ip netns exec "$GW" ip -o link show nat64 >"$WORK/ip-o-link-show-nat64.txt"
  ip netns exec "$GW" cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding >"$WORK/forwarding.txt"
  ip netns exec "$CLIENT" ip -6 route show "$PREFIX" >"$WORK/node-route.txt"
  run cat "$WORK/ip-o-link-show-nat64.txt"
  assert_output --regexp "^[0-9]+: nat64: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP>"
  assert_equal "$(cat "$WORK/forwarding.txt")" $'1\n1'
  assert_equal "$(cat "$WORK/node-route.txt")" "$PREFIX via $GW_V6 dev eth0 metric 1024 pref medium"

  run ip netns exec "$CLIENT" ping -6 -n -c 3 -W 2 "$TARGET"
  printf '%s\n' "$output" >"$WORK/ping6.txt"
  assert_success
  assert_output --partial "3 packets transmitted, 3 received, 0% packet loss"
  assert_output --partial "from ${PREFIX_NET}ac13:4: icmp_seq=1"

  run ip netns exec "$CLIENT" curl -sS --max-time 5 "http://[$TARGET]:8080/"
  printf '%s\n' "$output" >"$WORK/curl.txt"
  assert_success
  # nginx on the IPv4-only host: it was reached over IPv4, from tayga's pool (192.168.255.0/24).
  assert_output --regexp "^$V4_HOSTNAME answered over IPv4 on $V4_ADDR port 8080 \\(client 192\\.168\\.255\\.[0-9]+\\)$"
  local seen=${output##*client }
  seen=${seen%)}

  kill "$TAYGA_PID"
  wait "$TAYGA_PID" || true
  TAYGA_PID=""
  # tayga mapped the node's IPv6 address to the very address nginx saw.
  run cat "$WORK/tayga.log"
  assert_output --partial "NAT64 prefix: $PREFIX"
  assert_output --partial "Dynamic pool: $POOL"
  assert_line "assigned new pool address $seen ($NODE_V6)"

  save_fixture tayga.conf "$conf"
  save_fixture tayga-log.txt "$WORK/tayga.log"
  save_fixture ping6.txt "$WORK/ping6.txt"
  save_fixture curl.txt "$WORK/curl.txt"
  save_fixture nginx-access-log.txt "$WORK/nginx-access.log"
  save_fixture ip-o-link-show-nat64.txt "$WORK/ip-o-link-show-nat64.txt"
  save_fixture forwarding.txt "$WORK/forwarding.txt"
  save_fixture node-route.txt "$WORK/node-route.txt"
}

@test "without the launch script's routes into the TUN device, tayga runs but nothing is translated (why deploy routes the prefix and the pool)" {
  local conf=$V6_DIST/nat64/tayga.conf
  make_topology "$conf"
  start_tayga "$conf" "$(facts_value "$V6_DIST" f.nat64.gateway.launch | grep -v ' route replace ')"
  start_ipv4_host
  run ip netns exec "$CLIENT" curl -sS --max-time 2 "http://[$TARGET]:8080/"
  assert_failure
  run cat "$WORK/tayga.log"
  refute_output --partial "assigned new pool address"
}

@test "with the well-known prefix 64:ff9b::/96 tayga drops the IPv4-only host's private address (why the lab uses its own prefix)" {
  local conf=$WORK/tayga-wkp.conf
  # Debian 12's tayga wants an ipv6-addr of its own when the well-known prefix meets a private ipv4-addr.
  sed -e 's#^prefix .*#prefix 64:ff9b::/96#' "$V6_DIST/nat64/tayga.conf" >"$conf"
  printf 'ipv6-addr fd00:10:64:ffff::1\n' >>"$conf"
  make_topology "$conf"
  start_tayga "$conf" "$(facts_value "$V6_DIST" f.nat64.gateway.launch | sed "s#fd00:10:64::/96#64:ff9b::/96#; s#^exec #ip -6 route replace fd00:10:64:ffff::1 dev nat64\\nexec #")"
  start_ipv4_host

  run ip netns exec "$CLIENT" ping -6 -n -c 2 -W 1 "64:ff9b::$V4_ADDR"
  assert_failure
  assert_output --partial "2 packets transmitted, 0 received"
  run ip netns exec "$CLIENT" curl -sS --max-time 2 "http://[64:ff9b::$V4_ADDR]:8080/"
  assert_failure
  run cat "$WORK/tayga.log"
  assert_output --partial "Note: traffic between IPv6 hosts and private IPv4 addresses"
  refute_output --partial "assigned new pool address"
  # Nothing reached the IPv4 host.
  run cat "$WORK/nginx-access.log"
  refute_output --partial "192.168.255."
}
