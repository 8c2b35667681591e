#!/usr/bin/env bats
# NAT64 with real packets: the real tayga (Debian's package) runs the tayga.conf that synth writes for
# an IPv6-only lab (nat64/tayga.conf), between network namespaces this test creates:
#
#   client (IPv6 only)            gateway (tayga)                         ipv4host (IPv4 only)
#   fc00:f853:ccd:e793::2 ---- fc00:f853:ccd:e793::64 | 172.18.0.64 ---- 172.18.0.5, nginx :8080
#   route <prefix> via ::64    tun "nat64": <prefix> and the pool        route <pool> via 172.18.0.64
#
# The addresses are the lab's: a kind node and the NAT64 gateway on kind's network, the IPv4-only host
# on Docker's private IPv4 range. ping6 and curl from the client reach the IPv4 host at <prefix>+IPv4,
# and the host's nginx answers with the client address it saw: one of tayga's pool addresses.
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
  for tool in ip tayga ping curl nginx stdbuf; do
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
  V4_ADDR=172.18.0.5
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

# make_topology TAYGA_CONF: the three namespaces, wired and routed for TAYGA_CONF's prefix and pool.
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
  ip link add c0 netns "$CLIENT" type veth peer name g0 netns "$GW"
  ip link add g1 netns "$GW" type veth peer name h0 netns "$V4HOST"
  ip -n "$CLIENT" addr add fc00:f853:ccd:e793::2/64 dev c0 nodad
  ip -n "$GW" addr add fc00:f853:ccd:e793::64/64 dev g0 nodad
  ip -n "$GW" addr add 172.18.0.64/24 dev g1
  ip -n "$V4HOST" addr add "$V4_ADDR/24" dev h0
  ip -n "$CLIENT" link set c0 up
  ip -n "$GW" link set g0 up
  ip -n "$GW" link set g1 up
  ip -n "$V4HOST" link set h0 up
  ip -n "$CLIENT" -6 route add "$prefix" via fc00:f853:ccd:e793::64
  ip -n "$V4HOST" route add "$pool" via 172.18.0.64
  ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  # tayga translates; the host routes the prefix and the pool into its TUN device.
  ip netns exec "$GW" tayga -c "$conf" --mktun >"$WORK/tayga-mktun.log" 2>&1
  ip -n "$GW" link set nat64 up
  ip -n "$GW" route add "$pool" dev nat64
  ip -n "$GW" -6 route add "$prefix" dev nat64
}

# start_tayga TAYGA_CONF: the daemon in the foreground with debug messages (-d), logging to tayga.log.
start_tayga() {
  # Line-buffered: tayga logs with stdio, and the readiness check below reads the log.
  ip netns exec "$GW" stdbuf -oL -eL tayga -c "$1" -d >"$WORK/tayga.log" 2>&1 &
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

# start_ipv4_host: nginx with the lab's (dual-stack) nginx.conf, the one the external host serves, in
# the IPv4-only namespace; pid and logs in the work dir.
start_ipv4_host() {
  awk '/^  nginx\.conf: \|/ { inside = 1; next } inside && /^    / { sub(/^    /, ""); print; next }
    inside && /^[[:space:]]*$/ { print ""; next } inside { exit }' "$V4_DIST/0001-multitool.k8s.yaml" |
    sed "s#^pid .*#pid $WORK/nginx.pid;#; s#/dev/stderr#$WORK/nginx-error.log#; s#/dev/stdout#$WORK/nginx-access.log#" >"$WORK/nginx.conf"
  ip netns exec "$V4HOST" nginx -e "$WORK/nginx-error.log" -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;' &
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

@test "the dist's tayga.conf: ping6 and HTTP from an IPv6-only namespace reach an IPv4-only host, which sees tayga's pool address" {
  local conf=$V6_DIST/nat64/tayga.conf
  [[ "$PREFIX" == fd00:10:64::/96 && "$POOL" == 192.168.255.0/24 ]]
  make_topology "$conf"
  start_tayga "$conf"
  start_ipv4_host

  # The IPv4-only host really has no IPv6 route to the client: only tayga can carry this.
  run ip netns exec "$V4HOST" ping -6 -c 1 -W 1 fc00:f853:ccd:e793::2
  assert_failure

  run ip netns exec "$CLIENT" ping -6 -n -c 3 -W 2 "$TARGET"
  printf '%s\n' "$output" >"$WORK/ping6.txt"
  assert_success
  assert_output --partial "3 packets transmitted, 3 received, 0% packet loss"
  assert_output --partial "from ${PREFIX_NET}ac12:5: icmp_seq=1"

  run ip netns exec "$CLIENT" curl -sS --max-time 5 "http://[$TARGET]:8080/"
  printf '%s\n' "$output" >"$WORK/curl.txt"
  assert_success
  # nginx on the IPv4-only host: it was reached over IPv4, from tayga's pool (192.168.255.0/24).
  assert_output --regexp "answered over IPv4 on $V4_ADDR port 8080 \\(client 192\\.168\\.255\\.[0-9]+\\)$"
  local seen=${output##*client }
  seen=${seen%)}

  kill "$TAYGA_PID"
  wait "$TAYGA_PID" || true
  TAYGA_PID=""
  # tayga mapped the client's IPv6 address to the very address nginx saw.
  run cat "$WORK/tayga.log"
  assert_output --partial "NAT64 prefix: $PREFIX"
  assert_output --partial "Dynamic pool: $POOL"
  assert_line "assigned new pool address $seen (fc00:f853:ccd:e793::2)"

  save_fixture tayga.conf "$conf"
  save_fixture tayga.log "$WORK/tayga.log"
  save_fixture ping6.txt "$WORK/ping6.txt"
  save_fixture curl.txt "$WORK/curl.txt"
  save_fixture nginx-access.log "$WORK/nginx-access.log"
}

@test "with the well-known prefix 64:ff9b::/96 tayga drops the IPv4-only host's private address (why the lab uses its own prefix)" {
  local conf=$WORK/tayga-wkp.conf
  # Debian 12's tayga wants an ipv6-addr of its own when the well-known prefix meets a private ipv4-addr.
  sed -e 's#^prefix .*#prefix 64:ff9b::/96#' "$V6_DIST/nat64/tayga.conf" >"$conf"
  printf 'ipv6-addr fd00:10:64:ffff::1\n' >>"$conf"
  make_topology "$conf"
  ip -n "$GW" -6 route add fd00:10:64:ffff::1 dev nat64
  start_tayga "$conf"
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
