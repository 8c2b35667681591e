#!/usr/bin/env bash
# The IPv6-only variant (ipFamilies [IPv6], docs/ipv6-only.md): what deploy, destroy and explain do
# beyond the core for a lab whose pods and nodes have no IPv4, so that the pods still resolve and reach
# everything, IPv4-only hosts included. Three containers, named in the facts' dns64 and nat64 sections:
#
#   <cluster>-dns        the DNS forwarder: CoreDNS at dns.upstream on kind's network (docker run --ip6),
#                        asking Docker's embedded DNS, which listens on 127.0.0.11 inside containers only;
#                        the cluster's CoreDNS forwards names outside the cluster to it over IPv6
#   <cluster>-nat64      the NAT64: tayga at nat64.gateway on kind's network, and on the IPv4-only network
#   <cluster>-ipv4-host  nginx on <cluster>-ipv4, a Docker network without IPv6: its name has an A record
#                        only, so CoreDNS's dns64 synthesizes its AAAA in the NAT64 prefix
#
# and routes: the NAT64 prefix via the gateway on every node (a kind node's default route goes to the
# Docker host, which knows nothing of the prefix), tayga's pool back via the gateway on the IPv4-only
# host. Then CoreDNS is rolled onto the dist's Corefile (a pod-template annotation with its sha256).
#
# Hooks (scripts/lib/variants.sh): ipv6only_preflight, _after_cluster, _after_apply, _ready, _summary,
# _diagnose, _explain, and ipv6only_cleanup (destroy, by name, with or without facts). verify's checks
# are scripts/lib/checks-ipv6only.sh. Sourced by lab_load_variants, never executed.

[[ -n "${_LAB_VARIANT_IPV6ONLY_SH:-}" ]] && return 0
_LAB_VARIANT_IPV6ONLY_SH=1

# The label every container and network of the variant carries, with a hash of what it was made from:
# a running container whose hash is current is kept, any other is made again.
IPV6ONLY_HASH_LABEL=calico-ipv6-lab/config-sha256

# ipv6only_active: the lab has IPv6 only.
ipv6only_active() { [[ "$(fact_list families)" == IPv6 ]]; }

# ipv6only_defaults: the names, addresses and images, from the facts (names following
# LAB_CLUSTER_NAME); without facts, the names deploy gives them for LAB_CLUSTER_NAME (destroy).
ipv6only_defaults() {
  local cluster=${LAB_CLUSTER_NAME:-$(fact name)}
  IPV6ONLY_KIND_NETWORK=${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind}
  IPV6ONLY_FORWARDER=$(lab_rebase_name "$(fact_or dns64.forwarder.name "${cluster}-dns")")
  IPV6ONLY_GATEWAY=$(lab_rebase_name "$(fact_or nat64.gateway.name "${cluster}-nat64")")
  IPV6ONLY_V4HOST=$(lab_rebase_name "$(fact_or nat64.ipv4Host.name "${cluster}-ipv4-host")")
  IPV6ONLY_V4NET=$(lab_rebase_name "$(fact_or nat64.ipv4Host.network "${cluster}-ipv4")")
  IPV6ONLY_UPSTREAM=$(fact dns64.forwarder.address)
  IPV6ONLY_GATEWAY_ADDRESS=$(fact nat64.gateway.address)
  IPV6ONLY_PREFIX=$(fact nat64.prefix)
  IPV6ONLY_POOL=$(fact nat64.ipv4Pool)
  # shellcheck disable=SC2034 # read by checks-ipv6only.sh
  IPV6ONLY_TUN=$(fact nat64.tunDevice)
  IPV6ONLY_V4HOST_PORT=$(fact nat64.ipv4Host.port)
  IPV6ONLY_FORWARDER_IMAGE=${LAB_DNS_FORWARDER_IMAGE:-$(fact dns64.forwarder.image)}
  IPV6ONLY_GATEWAY_IMAGE=${LAB_NAT64_IMAGE:-$(fact nat64.gateway.image)}
  IPV6ONLY_V4HOST_IMAGE=${LAB_IPV4_HOST_IMAGE:-$(fact nat64.ipv4Host.image)}
  LAB_IPV6ONLY_TIMEOUT=${LAB_IPV6ONLY_TIMEOUT:-300}
}

# --- helpers ------------------------------------------------------------------------------

# ipv6only_sha TEXT...: sha256 of the arguments, one per line.
ipv6only_sha() {
  if have sha256sum; then
    printf '%s\n' "$@" | sha256sum | awk '{ print $1 }'
  else
    printf '%s\n' "$@" | shasum -a 256 | awk '{ print $1 }'
  fi
}

# ipv6only_inspect NAME: IV_RUNNING, IV_HASH, IV_V6 (its IPv6 address on kind's network) and IV_V4
# (its IPv4 address/prefix length on the IPv4-only network); false when NAME does not exist.
ipv6only_inspect() {
  local out
  IV_RUNNING="" IV_HASH="" IV_V6="" IV_V4=""
  out=$(docker inspect --format "{{.State.Running}}|{{index .Config.Labels \"${IPV6ONLY_HASH_LABEL}\"}}|{{with index .NetworkSettings.Networks \"${IPV6ONLY_KIND_NETWORK}\"}}{{.GlobalIPv6Address}}{{end}}|{{with index .NetworkSettings.Networks \"${IPV6ONLY_V4NET}\"}}{{.IPAddress}}/{{.IPPrefixLen}}{{end}}" "$1" 2>/dev/null) || return 1
  IFS='|' read -r IV_RUNNING IV_HASH IV_V6 IV_V4 <<<"$out"
  [[ "$IV_V4" != /* ]] || IV_V4=""
}

# ipv6only_current NAME HASH: NAME runs, made from HASH.
ipv6only_current() { ipv6only_inspect "$1" && [[ "$IV_RUNNING" == true && "$IV_HASH" == "$2" ]]; }

# ipv6only_bounded WHAT FIX CMD...: CMD within LAB_IPV6ONLY_TIMEOUT seconds (run_within in common.sh).
ipv6only_bounded() {
  local what=$1 fix=$2
  shift 2
  run_within "$LAB_IPV6ONLY_TIMEOUT" LAB_IPV6ONLY_TIMEOUT "$what" "$fix" "$@"
}

# ipv6only_pull IMAGE: on the Docker host, pulled when missing.
ipv6only_pull() {
  docker_pull_within "$1" "$LAB_IPV6ONLY_TIMEOUT" LAB_IPV6ONLY_TIMEOUT "pull it by hand (docker pull $1)"
}

# ipv6only_docker WHAT FIX CMD...: one docker call that must succeed.
ipv6only_docker() {
  local what=$1 fix=$2 out
  shift 2
  out=$("$@" 2>&1) || {
    printf '%s\n' "$out" | tail -n 5 | sed 's/^/    /' >&2
    die "${what} failed: $(tail -n 1 <<<"$out")" "$fix"
  }
}

# ipv6only_address_fix ROLE KEY ADDRESS: what to do when Docker refuses --ip6 ADDRESS.
ipv6only_address_fix() {
  printf 'another container may hold %s on the Docker network %s (docker network inspect %s); set %s in lab.config.yaml to a free address of its IPv6 subnet, then ./deploy.sh again' \
    "$3" "$IPV6ONLY_KIND_NETWORK" "$IPV6ONLY_KIND_NETWORK" "$2"
}

# ipv6only_copy_text NAME PATH TEXT: TEXT as the file PATH in container NAME (docker cp, so a remote
# Docker daemon works too; the images have no shell to take it otherwise).
ipv6only_copy_text() {
  local file
  file=$(mktemp)
  printf '%s' "$3" >"$file"
  chmod 644 "$file"
  ipv6only_docker "docker cp to $1:$2" "check 'docker info', then ./deploy.sh again" docker cp "$file" "$1:$2"
  rm -f "$file"
}

# --- deploy step 3, before kind create: what IPv6-only needs of the host -----------------------

# ipv6only_kind_subnet: the IPv6 subnet of kind's network, or nothing (no network, no IPv6).
ipv6only_kind_subnet() {
  local subnet
  while IFS= read -r subnet; do
    if is_ipv6 "$subnet"; then
      printf '%s' "$subnet"
      return 0
    fi
  done < <(network_subnets "$IPV6ONLY_KIND_NETWORK")
}

# ipv6only_check_addresses: dns.upstream and nat64.gateway lie in kind's IPv6 subnet (Docker refuses a
# --ip6 outside it: "no configured subnet or ip-range contain the IP address").
ipv6only_check_addresses() {
  local subnet addr key bad=()
  subnet=$(ipv6only_kind_subnet)
  if [[ -z "$subnet" ]]; then
    info "  docker network ${IPV6ONLY_KIND_NETWORK}: absent (kind creates it: for \"kind\", with fc00:f853:ccd:e793::/64, derived from the name); the addresses are checked once it exists"
    return 0
  fi
  for key in "dns.upstream=${IPV6ONLY_UPSTREAM}" "nat64.gateway=${IPV6ONLY_GATEWAY_ADDRESS}"; do
    addr=${key#*=}
    ip_in_cidr "$addr" "$subnet" || bad+=("${key%%=*} ${addr}")
  done
  ((${#bad[@]} == 0)) || die "$(printf '%s, ' "${bad[@]}" | sed 's/, $//') outside the IPv6 subnet ${subnet} of the Docker network ${IPV6ONLY_KIND_NETWORK}: Docker gives a container a fixed address (--ip6) only inside its network's subnet" \
    "in lab.config.yaml, set dns.upstream and nat64.gateway to free addresses of ${subnet} (the far end of it is safest: Docker hands out addresses from the start), then ./deploy.sh again (it synthesizes the change)"
  info "  IPv6-only: dns.upstream ${IPV6ONLY_UPSTREAM} and nat64.gateway ${IPV6ONLY_GATEWAY_ADDRESS} lie in ${IPV6ONLY_KIND_NETWORK}'s ${subnet}"
}

# ipv6only_probe_host: one throwaway container with the TUN device tayga needs, on the host's network
# namespace, reading the Docker host's forwarding and ip6tables state (key=value lines).
ipv6only_probe_host() {
  # shellcheck disable=SC2016 # expanded by the container's sh
  docker run --device /dev/net/tun --rm --network host --entrypoint sh "$(kind_node_image)" -c '
    printf "tun=%s\n" "$(test -c /dev/net/tun && echo present || echo missing)"
    printf "ip_forward=%s\n" "$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)"
    printf "ipv6_forwarding=%s\n" "$(cat /proc/sys/net/ipv6/conf/all/forwarding 2>/dev/null)"
    printf "ip6_tables_names=%s\n" "$(tr "\n" " " </proc/net/ip6_tables_names 2>/dev/null)"
    printf "ip6table_nat=%s\n" "$(grep -c "^ip6table_nat " /proc/modules 2>/dev/null)"' 2>&1
}

ipv6only_preflight() {
  local probe tables nat fwd6
  ipv6only_defaults
  ipv6only_check_addresses
  info "  probing the Docker host for the IPv6-only lab (docker run --device /dev/net/tun --rm --network host $(kind_node_image))"
  if ! probe=$(ipv6only_probe_host); then
    if [[ "$probe" == *"/dev/net/tun"* ]]; then
      die "the Docker host has no /dev/net/tun: the NAT64 gateway (tayga) needs a TUN device ($(tail -n 1 <<<"$probe"))" \
        "on the Docker host: sudo modprobe tun   (persist it in /etc/modules-load.d/); Docker Desktop's VM has it"
    fi
    warn "could not probe the Docker host for the IPv6-only lab ($(tail -n 1 <<<"$probe")); TUN device, forwarding and ip6tables nat are unchecked"
    return 0
  fi
  info "  docker host /dev/net/tun: $(probe_value tun "$probe") (tayga's TUN device)"
  tables=$(probe_value ip6_tables_names "$probe")
  nat=$(probe_value ip6table_nat "$probe")
  # As the core's check, but fatal: without IPv6 NAT an IPv6-only cluster has no Service at all.
  if [[ -n "${tables// /}" && " $tables " != *" nat "* && "${nat:-0}" == 0 ]]; then
    die "the Docker host's ip6tables has tables (${tables% }) but no 'nat' table, and ip6table_nat is not loaded: an IPv6-only cluster's Services (the cluster DNS included) are IPv6 DNAT by kube-proxy, and its pods reach outside through Calico's IPv6 natOutgoing; neither works without it" \
      "on the Docker host: sudo modprobe ip6table_nat   (persist it in /etc/modules-load.d/), then ./deploy.sh again"
  fi
  fwd6=$(probe_value ipv6_forwarding "$probe")
  if [[ "$fwd6" == 0 ]]; then
    warn "the Docker host forwards no IPv6 (net.ipv6.conf.all.forwarding=0): the lab's paths stay on Docker's bridges (node to NAT64, NAT64 to the IPv4-only host) and the NAT64 forwards in its own namespace (docker run --sysctl), but nothing IPv6 leaves Docker's networks. Continuing."
    info "  fix: sudo sysctl -w net.ipv6.conf.all.forwarding=1   (Docker usually sets it for IPv6 networks, unless dockerd runs with --ip-forward=false)"
  else
    info "  docker host forwarding: IPv4 $(probe_value ip_forward "$probe"), IPv6 ${fwd6:-unknown}; the NAT64 gateway forwards in its own namespace (--sysctl)"
  fi
}

# --- deploy step 3, after kind create: the containers and routes --------------------------------

# ipv6only_network: the IPv4-only network, created when absent (no --ipv6: IPv4 only).
ipv6only_network() {
  local out
  out=$(docker network ls --filter "name=^${IPV6ONLY_V4NET}$" --format '{{.Name}}|{{.IPv6}}' 2>&1) ||
    die "docker network ls failed: ${out}" "check 'docker info', then ./deploy.sh again"
  if [[ -z "$out" ]]; then
    ipv6only_docker "docker network create ${IPV6ONLY_V4NET}" "check 'docker network ls' and Docker's default-address-pools, then ./deploy.sh again" \
      docker network create --driver bridge --label "calico-ipv6-lab/cluster=${LAB_CLUSTER_NAME}" "$IPV6ONLY_V4NET"
    out=$(docker network ls --filter "name=^${IPV6ONLY_V4NET}$" --format '{{.Name}}|{{.IPv6}}' 2>&1) || out=""
    info "  docker network ${IPV6ONLY_V4NET}: created, IPv4 only (the IPv4-only host's)"
  fi
  [[ "${out#*|}" != true ]] || die "the Docker network ${IPV6ONLY_V4NET} has IPv6: the IPv4-only host on it would get an AAAA record, and DNS64 would synthesize nothing" \
    "docker network rm ${IPV6ONLY_V4NET} (after ./destroy.sh --yes), and make sure dockerd's default-network-opts do not enable IPv6; then ./deploy.sh again"
}

ipv6only_start_gateway() {
  local conf launch hash
  conf=$(cat "$LAB_DIST_DIR/$(fact nat64.config)") || die "no $(fact nat64.config) in ${LAB_DIST_DIR}" "$(lab_synth_command)"
  launch=$(fact nat64.gateway.launch)
  hash=$(ipv6only_sha gateway "$IPV6ONLY_GATEWAY_IMAGE" "$IPV6ONLY_KIND_NETWORK" "$IPV6ONLY_GATEWAY_ADDRESS" "$IPV6ONLY_V4NET" "$conf" "$launch")
  if ipv6only_current "$IPV6ONLY_GATEWAY" "$hash"; then
    info "  NAT64 ${IPV6ONLY_GATEWAY}: running (${IV_V6}, ${IV_V4})"
    return 0
  fi
  docker rm -f "$IPV6ONLY_GATEWAY" >/dev/null 2>&1 || true
  if ! docker image inspect "$IPV6ONLY_GATEWAY_IMAGE" >/dev/null 2>&1; then
    if [[ -n "${LAB_NAT64_IMAGE:-}" ]]; then
      ipv6only_pull "$IPV6ONLY_GATEWAY_IMAGE"
    else
      info "  docker build -t ${IPV6ONLY_GATEWAY_IMAGE}   (once: Debian's tayga, up to ${LAB_IPV6ONLY_TIMEOUT}s)"
      ipv6only_bounded "docker build of ${IPV6ONLY_GATEWAY_IMAGE}" \
        "check that Docker can pull $(fact nat64.gateway.dockerfile | sed -n 's/^FROM //p') and reach deb.debian.org; or set LAB_NAT64_IMAGE to an image with tayga, ip, sh and stdbuf" \
        docker build -t "$IPV6ONLY_GATEWAY_IMAGE" - <<<"$(fact nat64.gateway.dockerfile)"
    fi
  fi
  info "  docker create ${IPV6ONLY_GATEWAY} (${IPV6ONLY_GATEWAY_IMAGE}) at ${IPV6ONLY_GATEWAY_ADDRESS} on ${IPV6ONLY_KIND_NETWORK}, and on ${IPV6ONLY_V4NET}: tayga, NET_ADMIN, /dev/net/tun, forwarding on"
  ipv6only_docker "docker create ${IPV6ONLY_GATEWAY}" "$(ipv6only_address_fix gateway nat64.gateway "$IPV6ONLY_GATEWAY_ADDRESS")" \
    docker create --name "$IPV6ONLY_GATEWAY" --hostname "$IPV6ONLY_GATEWAY" \
    --network "$IPV6ONLY_KIND_NETWORK" --ip6 "$IPV6ONLY_GATEWAY_ADDRESS" \
    --cap-add NET_ADMIN --device /dev/net/tun --sysctl net.ipv4.ip_forward=1 --sysctl net.ipv6.conf.all.forwarding=1 \
    --label "calico-ipv6-lab/cluster=${LAB_CLUSTER_NAME}" --label "${IPV6ONLY_HASH_LABEL}=${hash}" \
    --entrypoint sh "$IPV6ONLY_GATEWAY_IMAGE" -c "$launch" sh /etc/tayga.conf
  ipv6only_copy_text "$IPV6ONLY_GATEWAY" /etc/tayga.conf "$conf"
  ipv6only_docker "docker network connect ${IPV6ONLY_V4NET} ${IPV6ONLY_GATEWAY}" "check 'docker network ls', then ./deploy.sh again" \
    docker network connect "$IPV6ONLY_V4NET" "$IPV6ONLY_GATEWAY"
  ipv6only_docker "docker start ${IPV6ONLY_GATEWAY}" "$(ipv6only_address_fix gateway nat64.gateway "$IPV6ONLY_GATEWAY_ADDRESS")" \
    docker start "$IPV6ONLY_GATEWAY"
  ipv6only_wait_tayga
}

# ipv6only_wait_tayga: tayga said it runs (its log's "Dynamic pool:" line), within 30 s.
ipv6only_wait_tayga() {
  local deadline=$((SECONDS + 30)) out=""
  while ((SECONDS < deadline)); do
    out=$(docker logs "$IPV6ONLY_GATEWAY" 2>&1) || true
    if grep -q '^Dynamic pool' <<<"$out"; then
      ipv6only_inspect "$IPV6ONLY_GATEWAY" || true
      info "  NAT64 ${IPV6ONLY_GATEWAY}: tayga translates ${IPV6ONLY_PREFIX} <-> pool ${IPV6ONLY_POOL} (${IV_V6:-?}, ${IV_V4:-?} on ${IPV6ONLY_V4NET})"
      return 0
    fi
    if ! ipv6only_inspect "$IPV6ONLY_GATEWAY" || [[ "$IV_RUNNING" != true ]]; then break; fi
    sleep 1
  done
  printf '%s\n' "$out" | tail -n 8 | sed 's/^/    /' >&2
  die "tayga did not start in ${IPV6ONLY_GATEWAY} (its log above)" "docker logs ${IPV6ONLY_GATEWAY}; docker run needs /dev/net/tun on the Docker host (sudo modprobe tun)"
}

ipv6only_start_forwarder() {
  local corefile hash
  corefile=$(fact dns64.forwarder.corefile)
  hash=$(ipv6only_sha forwarder "$IPV6ONLY_FORWARDER_IMAGE" "$IPV6ONLY_KIND_NETWORK" "$IPV6ONLY_UPSTREAM" "$IPV6ONLY_V4NET" "$corefile")
  if ipv6only_current "$IPV6ONLY_FORWARDER" "$hash"; then
    info "  DNS forwarder ${IPV6ONLY_FORWARDER}: running (${IV_V6})"
    return 0
  fi
  docker rm -f "$IPV6ONLY_FORWARDER" >/dev/null 2>&1 || true
  ipv6only_pull "$IPV6ONLY_FORWARDER_IMAGE"
  info "  docker create ${IPV6ONLY_FORWARDER} (CoreDNS) at ${IPV6ONLY_UPSTREAM} on ${IPV6ONLY_KIND_NETWORK}, and on ${IPV6ONLY_V4NET} (whose names Docker's DNS then knows)"
  # The image is FROM scratch, /coredns its entrypoint: the Corefile is copied in, not written by a shell.
  ipv6only_docker "docker create ${IPV6ONLY_FORWARDER}" "$(ipv6only_address_fix forwarder dns.upstream "$IPV6ONLY_UPSTREAM")" \
    docker create --name "$IPV6ONLY_FORWARDER" --hostname "$IPV6ONLY_FORWARDER" \
    --network "$IPV6ONLY_KIND_NETWORK" --ip6 "$IPV6ONLY_UPSTREAM" \
    --label "calico-ipv6-lab/cluster=${LAB_CLUSTER_NAME}" --label "${IPV6ONLY_HASH_LABEL}=${hash}" \
    "$IPV6ONLY_FORWARDER_IMAGE" -conf /Corefile
  ipv6only_copy_text "$IPV6ONLY_FORWARDER" /Corefile "$corefile"
  ipv6only_docker "docker network connect ${IPV6ONLY_V4NET} ${IPV6ONLY_FORWARDER}" "check 'docker network ls', then ./deploy.sh again" \
    docker network connect "$IPV6ONLY_V4NET" "$IPV6ONLY_FORWARDER"
  ipv6only_docker "docker start ${IPV6ONLY_FORWARDER}" "$(ipv6only_address_fix forwarder dns.upstream "$IPV6ONLY_UPSTREAM")" \
    docker start "$IPV6ONLY_FORWARDER"
  { ipv6only_inspect "$IPV6ONLY_FORWARDER" && [[ "$IV_RUNNING" == true ]]; } ||
    die "the DNS forwarder ${IPV6ONLY_FORWARDER} did not stay up" "docker logs ${IPV6ONLY_FORWARDER}"
  info "  DNS forwarder ${IPV6ONLY_FORWARDER}: ${IV_V6} (CoreDNS asks it; it asks Docker's DNS)"
}

ipv6only_start_ipv4_host() {
  local conf hash
  conf=$(fact nat64.ipv4Host.nginxConfig)
  hash=$(ipv6only_sha ipv4-host "$IPV6ONLY_V4HOST_IMAGE" "$IPV6ONLY_V4NET" "$conf")
  if ipv6only_current "$IPV6ONLY_V4HOST" "$hash"; then
    info "  IPv4-only host ${IPV6ONLY_V4HOST}: running (${IV_V4})"
    return 0
  fi
  docker rm -f "$IPV6ONLY_V4HOST" >/dev/null 2>&1 || true
  ipv6only_pull "$IPV6ONLY_V4HOST_IMAGE"
  info "  docker create ${IPV6ONLY_V4HOST} (${IPV6ONLY_V4HOST_IMAGE}) on ${IPV6ONLY_V4NET} only: nginx, NET_ADMIN for its route back to tayga's pool"
  # As the external host: the config in an environment variable; /run/nginx is Alpine's pid dir.
  # shellcheck disable=SC2016 # $LAB_NGINX_CONF is expanded by the container's sh
  ipv6only_docker "docker create ${IPV6ONLY_V4HOST}" "docker run --rm ${IPV6ONLY_V4HOST_IMAGE} true   (does the image pull?), then ./deploy.sh again" \
    docker create --name "$IPV6ONLY_V4HOST" --hostname "$IPV6ONLY_V4HOST" --network "$IPV6ONLY_V4NET" --cap-add NET_ADMIN \
    --label "calico-ipv6-lab/cluster=${LAB_CLUSTER_NAME}" --label "${IPV6ONLY_HASH_LABEL}=${hash}" \
    -e "LAB_NGINX_CONF=${conf}" --entrypoint sh "$IPV6ONLY_V4HOST_IMAGE" \
    -c 'mkdir -p /run/nginx && printf "%s\n" "$LAB_NGINX_CONF" >/tmp/nginx.conf && exec nginx -c /tmp/nginx.conf -g "daemon off;"'
  ipv6only_docker "docker start ${IPV6ONLY_V4HOST}" "docker logs ${IPV6ONLY_V4HOST}" docker start "$IPV6ONLY_V4HOST"
  { ipv6only_inspect "$IPV6ONLY_V4HOST" && [[ "$IV_RUNNING" == true && -n "$IV_V4" ]]; } ||
    die "the IPv4-only host ${IPV6ONLY_V4HOST} did not stay up" "docker logs ${IPV6ONLY_V4HOST}"
  info "  IPv4-only host ${IPV6ONLY_V4HOST}: ${IV_V4} on ${IPV6ONLY_V4NET}, no IPv6"
}

# ipv6only_routes: the IPv4-only host routes tayga's pool back to the gateway (it then sees the pool
# address tayga gave the client, not the gateway's), and every node routes the prefix to the gateway.
# `replace`: running it again changes nothing; a node or host that restarted gets its route back.
ipv6only_routes() {
  local gw_v4 v4_net node
  ipv6only_inspect "$IPV6ONLY_GATEWAY" && gw_v4=${IV_V4%/*} || gw_v4=""
  [[ -n "$gw_v4" ]] || die "the NAT64 ${IPV6ONLY_GATEWAY} has no address on ${IPV6ONLY_V4NET}" "docker inspect ${IPV6ONLY_GATEWAY}; ./destroy.sh --yes && ./deploy.sh"
  ipv6only_inspect "$IPV6ONLY_V4HOST" || true
  v4_net=$IV_V4
  if [[ -n "$v4_net" ]] && { cidrs_overlap "$v4_net" "$IPV6ONLY_POOL"; }; then
    die "the Docker network ${IPV6ONLY_V4NET} (${v4_net}) overlaps tayga's pool ${IPV6ONLY_POOL}: translated packets would not come back to the NAT64" \
      "in lab.config.yaml set nat64.ipv4Pool to a range outside Docker's networks, or ./destroy.sh --yes and change Docker's default-address-pools; then ./deploy.sh again"
  fi
  ipv6only_docker "ip route replace ${IPV6ONLY_POOL} via ${gw_v4} in ${IPV6ONLY_V4HOST}" "docker logs ${IPV6ONLY_V4HOST} (the container needs NET_ADMIN and ip)" \
    docker exec "$IPV6ONLY_V4HOST" ip route replace "$IPV6ONLY_POOL" via "$gw_v4"
  info "  ${IPV6ONLY_V4HOST}: ip route replace ${IPV6ONLY_POOL} via ${gw_v4} (tayga's pool, back through the NAT64)"
  for node in "${LAB_NODES[@]}"; do
    ipv6only_docker "ip -6 route replace ${IPV6ONLY_PREFIX} via ${IPV6ONLY_GATEWAY_ADDRESS} on ${node}" "docker ps --filter name=${node}; then ./deploy.sh again" \
      docker exec "$node" ip -6 route replace "$IPV6ONLY_PREFIX" via "$IPV6ONLY_GATEWAY_ADDRESS"
  done
  info "  every node: ip -6 route replace ${IPV6ONLY_PREFIX} via ${IPV6ONLY_GATEWAY_ADDRESS} (${#LAB_NODES[@]} nodes; a node's default route goes to the Docker host, which knows no NAT64)"
}

ipv6only_after_cluster() {
  ipv6only_defaults
  ipv6only_check_addresses
  ipv6only_network
  # In this order, so that Docker hands out the IPv4-only network's addresses as the fixtures show them.
  ipv6only_start_gateway
  ipv6only_start_forwarder
  ipv6only_start_ipv4_host
  ipv6only_routes
}

# --- deploy steps 5 and 7: CoreDNS onto the dist's Corefile ------------------------------------

# ipv6only_after_apply: `kubectl apply` replaced kubeadm's Corefile; the pod-template annotation with
# its sha256 rolls CoreDNS's pods onto it now (its reload plugin would take up to a minute or two), and
# only when it changed: a second deploy patches nothing.
ipv6only_after_apply() {
  local ns deploy annotation sha out
  ns=$(fact dns64.coreDns.namespace) deploy=$(fact dns64.coreDns.deployment)
  annotation=$(fact dns64.coreDns.hashAnnotation) sha=$(fact dns64.coreDns.corefileSha256)
  info "  kubectl patch deployment -n ${ns} ${deploy}: ${annotation}=${sha:0:12}... (CoreDNS onto the dist's Corefile: dns64, forward to ${IPV6ONLY_UPSTREAM:-$(fact dns64.forwarder.address)})"
  out=$(kubectl patch deployment -n "$ns" "$deploy" --type merge \
    -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"${annotation}\":\"${sha}\"}}}}}" 2>&1) ||
    die "could not patch deployment ${ns}/${deploy}: ${out}" "kubectl get deployment -n ${ns} ${deploy}; then ./deploy.sh again"
  info "    ${out}"
}

# ipv6only_ready: CoreDNS's rollout, bounded like the workload's.
ipv6only_ready() {
  local ns deploy
  ns=$(fact dns64.coreDns.namespace) deploy=$(fact dns64.coreDns.deployment)
  wait_for "deployment/${deploy} (CoreDNS with DNS64) to roll out" "${LAB_WORKLOAD_TIMEOUT:-300}" \
    kubectl rollout status -n "$ns" "deployment/${deploy}"
}

ipv6only_summary() {
  ipv6only_defaults
  info "IPv6-only: CoreDNS forwards to ${IPV6ONLY_FORWARDER} (${IPV6ONLY_UPSTREAM}) and synthesizes AAAA in ${IPV6ONLY_PREFIX};"
  info "  ${IPV6ONLY_GATEWAY} (${IPV6ONLY_GATEWAY_ADDRESS}) translates it to IPv4 (tayga, pool ${IPV6ONLY_POOL})."
  info "  From a pod: kubectl exec ds/$(fact workload.daemonSet.name) -- curl -6 http://${IPV6ONLY_V4HOST}:${IPV6ONLY_V4HOST_PORT}/   (an IPv4-only host)"
  info "  Watch it:   docker logs -f ${IPV6ONLY_GATEWAY}   (tayga's mappings);  docker logs -f ${IPV6ONLY_FORWARDER}   (the cluster's DNS questions)"
}

ipv6only_diagnose() {
  local name
  ipv6only_defaults
  info ""
  info "IPv6-only containers (docker ps -a):"
  for name in "$IPV6ONLY_FORWARDER" "$IPV6ONLY_GATEWAY" "$IPV6ONLY_V4HOST"; do
    if ipv6only_inspect "$name"; then
      info "  ${name}: running=${IV_RUNNING} ${IV_V6:+${IPV6ONLY_KIND_NETWORK} ${IV_V6} }${IV_V4:+${IPV6ONLY_V4NET} ${IV_V4}}"
    else
      info "  ${name}: absent"
    fi
  done
  info "  last lines of the NAT64's log (docker logs --tail 5 ${IPV6ONLY_GATEWAY}):"
  { docker logs --tail 5 "$IPV6ONLY_GATEWAY" 2>&1 || true; } | sed 's/^/    /' >&2
}

# ipv6only_cleanup: destroy.sh, active or not, facts or not: the containers and the network, by name.
ipv6only_cleanup() {
  local name out
  have docker || return 0
  ipv6only_defaults
  for name in "$IPV6ONLY_V4HOST" "$IPV6ONLY_FORWARDER" "$IPV6ONLY_GATEWAY"; do
    if docker inspect --format '{{.Name}}' "$name" >/dev/null 2>&1; then
      docker rm -f "$name" >/dev/null || die "docker rm -f ${name} failed" "check 'docker info', then run ./destroy.sh again"
      info "Removed the IPv6-only lab's container ${name}"
    fi
  done
  out=$(docker network ls --filter "name=^${IPV6ONLY_V4NET}$" --format '{{.Name}}' 2>/dev/null) || out=""
  if [[ -n "$out" ]]; then
    docker network rm "$IPV6ONLY_V4NET" >/dev/null || die "docker network rm ${IPV6ONLY_V4NET} failed" "docker network inspect ${IPV6ONLY_V4NET} (a container still on it?), then ./destroy.sh again"
    info "Removed the IPv6-only lab's Docker network ${IPV6ONLY_V4NET}"
  fi
}

# --- explain --------------------------------------------------------------------------------

# ipv6only_explain: how a pod reaches the IPv4-only host by name: the synthesized AAAA, the node's
# route to the prefix, and tayga's translation as the host sees it.
ipv6only_explain() {
  local pod=$SOURCE_POD node prefix_net aaaa a route answer client mapping from v4 synthesized
  ipv6only_defaults
  node=${POD_NODE[$pod]}
  prefix_net=${IPV6ONLY_PREFIX%/*}
  say "==================== IPv6-only: ${pod} -> ${IPV6ONLY_V4HOST}, an IPv4-only host, by name ===================="
  say "1. DNS64: the pod asks for ${IPV6ONLY_V4HOST}'s AAAA   (kubectl exec ${pod} -- dig +short ${IPV6ONLY_V4HOST} AAAA, then A)"
  aaaa=$(kubectl exec -n "$LAB_NAMESPACE" "$pod" -- dig +short "$IPV6ONLY_V4HOST" AAAA 2>&1 | grep -v '^command terminated' | head -n 1) || aaaa=""
  a=$(kubectl exec -n "$LAB_NAMESPACE" "$pod" -- dig +short "$IPV6ONLY_V4HOST" A 2>&1 | grep -v '^command terminated' | head -n 1) || a=""
  show "AAAA ${aaaa:-(none)}" "A    ${a:-(none)}"
  synthesized=$(ipv6only_synthesized "$a")
  if [[ -n "$aaaa" && -n "$synthesized" ]] && [[ "$(ipv6_expand "$aaaa")" == "$(ipv6_expand "$synthesized")" ]]; then
    note "${IPV6ONLY_V4HOST} has only an A record: it is on ${IPV6ONLY_V4NET}, a Docker network without IPv6."
    more "CoreDNS's dns64 got no AAAA from its upstream ${IPV6ONLY_FORWARDER}, asked for the A record itself,"
    more "and answered the NAT64 prefix ${IPV6ONLY_PREFIX} + the 32 bits of ${a}: ${aaaa} (${prefix_net}${a}, RFC 6052)."
  else
    note "expected ${synthesized:-an AAAA in ${IPV6ONLY_PREFIX}} (the prefix + the A record); got ${aaaa:-nothing}: ./verify.sh checks dns64/* step by step."
  fi
  say ""
  say "2. ${node}'s route to the prefix   (docker exec ${node} ip -6 route show ${IPV6ONLY_PREFIX})"
  route=$(on_node "$node" ip -6 route show "$IPV6ONLY_PREFIX")
  show "${route:-(no route for ${IPV6ONLY_PREFIX})}"
  if [[ "$route" == *"via ${IPV6ONLY_GATEWAY_ADDRESS} "* ]]; then
    note "the packet leaves the pool, so Calico's natOutgoing gives it the node's IPv6 address ${NODE_V6[$node]:-}."
    more "the node sends the prefix to the NAT64 ${IPV6ONLY_GATEWAY} (${IPV6ONLY_GATEWAY_ADDRESS}); its default route"
    more "goes to the Docker host, which has no NAT64."
  else
    note "no route via ${IPV6ONLY_GATEWAY_ADDRESS}: the packet follows the default route to the Docker host and is lost; ./deploy.sh adds it again."
  fi
  say ""
  say "3. The translation   (kubectl exec ${pod} -- curl -6 http://${IPV6ONLY_V4HOST}:${IPV6ONLY_V4HOST_PORT}/; docker logs ${IPV6ONLY_GATEWAY})"
  answer=$(kubectl exec -n "$LAB_NAMESPACE" "$pod" -- curl -g -sS --max-time "${LAB_CURL_TIMEOUT:-5}" -6 "http://${IPV6ONLY_V4HOST}:${IPV6ONLY_V4HOST_PORT}/" 2>&1 | grep -v '^command terminated' | head -n 1) || answer=""
  show "${answer:-(no answer)}"
  client=$(sed -n 's/.*(client \([^)]*\)).*/\1/p' <<<"$answer")
  v4=$(sed -n 's/.* answered over IPv4 on \([^ ]*\) .*/\1/p' <<<"$answer")
  mapping=$(docker logs "$IPV6ONLY_GATEWAY" 2>&1 | grep "^assigned new pool address ${client:-NONE} " | tail -n 1) || mapping=""
  [[ -z "$mapping" ]] || show "$mapping"
  if [[ -n "$client" && -n "$v4" ]] && ip_in_cidr "$client" "$IPV6ONLY_POOL"; then
    note "the host was reached over IPv4 on ${v4} and saw ${client}, an address of tayga's pool ${IPV6ONLY_POOL}."
    if [[ -n "$mapping" ]]; then
      from=${mapping##*(} from=${from%)}
      more "tayga mapped ${from} to it: the node's address, not the pod's (natOutgoing came first)."
    fi
    say ""
    say "So: ${POD_V6[$pod]:-pod} -> [natOutgoing] ${NODE_V6[$node]:-node} -> ${aaaa:-AAAA} -> ${IPV6ONLY_GATEWAY} (tayga) -> [${client} -> ${v4}] -> ${IPV6ONLY_V4HOST}"
  else
    note "no answer through the NAT64: ./verify.sh (nat64/*) says where it stops."
  fi
  say ""
}

# ipv6only_synthesized IPV4: the AAAA DNS64 makes of IPV4 in the NAT64 prefix (a /96), written as dig
# writes it; nothing for garbage.
ipv6only_synthesized() {
  local v4=$1 a b c d hex full out="" i group
  is_ipv4 "$v4" || return 0
  full=$(ipv6_expand "${IPV6ONLY_PREFIX%/*}") || return 0
  IFS=. read -r a b c d <<<"$v4"
  hex=${full:0:24}$(printf '%02x%02x%02x%02x' "$a" "$b" "$c" "$d")
  for ((i = 0; i < 32; i += 4)); do
    group=$(printf '%x' "0x${hex:i:4}")
    out+="${out:+:}${group}"
  done
  ipv6_compress "$out"
}

# ipv6_compress ADDR: ADDR (8 groups, no leading zeros) with its longest run of two or more zero
# groups written ::, as RFC 5952 (and dig) writes it.
ipv6_compress() {
  local -a g
  local i best=-1 best_len=0 run=0 start=0 out=""
  IFS=: read -r -a g <<<"$1"
  for ((i = 0; i <= 8; i++)); do
    if ((i < 8)) && [[ "${g[i]}" == 0 ]]; then
      ((run == 0)) && start=$i
      run=$((run + 1))
    else
      if ((run > best_len && run >= 2)); then best=$start best_len=$run; fi
      run=0
    fi
  done
  if ((best < 0)); then
    printf '%s' "$1"
    return 0
  fi
  for ((i = 0; i < best; i++)); do out+="${g[i]}:"; done
  out=${out%:}
  out+="::"
  for ((i = best + best_len; i < 8; i++)); do out+="${g[i]}:"; done
  printf '%s' "${out%:}"
}
