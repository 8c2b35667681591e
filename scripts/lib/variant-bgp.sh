#!/usr/bin/env bash
# The routing "bgp" variant (docs/bgp.md): native routing, BIRD in calico-node, and an external router,
# FRR in a container on kind's Docker network, that every node peers with over IPv4 and IPv6.
#
# Hooks (scripts/lib/variants.sh):
#   bgp_preflight      deploy step 3, before kind create: the router's configuration is in the dist; kind's
#                      network (when it exists) is the one the configuration names and holds both router
#                      addresses, no other container holds them; a router already running runs this dist
#   bgp_after_cluster  deploy step 3: the same checks on the network kind now has, then the router started
#                      (or the running one kept: it runs this dist)
#   bgp_after_calico   deploy step 6: waits (bounded) until every node's session to the router is
#                      Established, over each family of the lab, as the router sees them
#   bgp_summary, bgp_diagnose, bgp_destroy
#
# The router container: `docker run --name <cluster>-router --hostname <cluster>-router --network kind
# --ip6 <router IPv6> --cap-add NET_ADMIN --cap-add NET_RAW --cap-add SYS_ADMIN -v <dist>/frr:/etc/frr:ro`,
# FRR's image, its command adding the router's IPv4 address to eth0 before FRR's own start script runs.
# Why not `--ip`: Docker accepts a fixed address only on a family whose subnet the network's creator
# configured (moby's ErrUnsupportedNetworkNoSubnetAndIP, "user specified IP address is supported only
# when connecting to networks with user configured subnets"); kind v0.25 creates its network with
# `--ipv6 --subnet <its ULA /64>` only, the IPv4 /16 is Docker's pick. So Docker gives the container an
# IPv4 address of its own, and the lab's sits beside it on eth0; frr.conf makes the router's routes to
# the pods leave from the lab's (zebra `set src`). SYS_ADMIN: FRR's daemons exit at start without it
# ("privs_init: initial cap_set_proc failed", lib/privs.c; zebra and bgpd ask for it, measured here with
# Debian's FRR 8.4.4). The labels record what the router was started from, for the drift check.
#
# Sourced by the scripts through lab_load_variants, after common.sh; never executed.

[[ -n "${_LAB_VARIANT_BGP_SH:-}" ]] && return 0
_LAB_VARIANT_BGP_SH=1
# shellcheck source=scripts/lib/queries.sh
source "$(dirname "${BASH_SOURCE[0]}")/queries.sh"

# Where FRR's image reads its configuration, and the image's own start script (FRR's
# docker/alpine/Dockerfile: ENTRYPOINT tini, CMD /usr/lib/frr/docker-start, which runs watchfrr).
ROUTER_CONFIG_MOUNT=/etc/frr
ROUTER_START=/usr/lib/frr/docker-start
ROUTER_LABEL=calico-ipv6-lab

# bgp_active: the facts say routing "bgp". destroy.sh also removes a router of this cluster that a
# routing "bgp" lab left behind after its facts changed or went away (found by its labels).
bgp_active() {
  [[ "$(lab_routing)" == bgp ]] && return 0
  [[ "${0##*/}" == destroy.sh && -n "${LAB_CLUSTER_NAME:-}" ]] && have docker || return 1
  [[ -n "$(bgp_leftover_routers)" ]]
}

# bgp_leftover_routers: the names of this cluster's router containers, by their labels.
bgp_leftover_routers() {
  docker ps -a --filter "label=${ROUTER_LABEL}/role=router" --filter "label=${ROUTER_LABEL}/cluster=${LAB_CLUSTER_NAME}" \
    --format '{{.Names}}' 2>/dev/null || true
}

# bgp_defaults: the router's settings, from the facts' bgp section, each overridable from the environment.
bgp_defaults() {
  LAB_ROUTER_NAME=${LAB_ROUTER_NAME:-$(lab_rebase_name "$(fact bgp.router.name)")}
  LAB_ROUTER_NAME=${LAB_ROUTER_NAME:-${LAB_CLUSTER_NAME}-router}
  LAB_ROUTER_IMAGE=${LAB_ROUTER_IMAGE:-$(fact bgp.router.image)}
  LAB_ROUTER_NETWORK=${LAB_ROUTER_NETWORK:-${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind}}
  LAB_ROUTER_TIMEOUT=${LAB_ROUTER_TIMEOUT:-300}
  LAB_BGP_TIMEOUT=${LAB_BGP_TIMEOUT:-180}
  ROUTER_IPV4=$(fact bgp.router.addresses.ipv4)
  ROUTER_IPV6=$(fact bgp.router.addresses.ipv6)
  ROUTER_NET_IPV4=$(fact bgp.router.network.ipv4)
  ROUTER_NET_IPV6=$(fact bgp.router.network.ipv6)
  ROUTER_CONFIG_DIR=$LAB_DIST_DIR/$(fact_or bgp.router.configDir frr)
}

# bgp_config_hashes: "file=sha256 ..." of the router's configuration files in the dist.
bgp_config_hashes() {
  local f sum out=()
  for f in $(fact_list bgp.router.configFiles); do
    sum=$(sha256_of "$ROUTER_CONFIG_DIR/$f" 2>/dev/null) || sum=missing
    out+=("${f}=${sum}")
  done
  printf '%s' "${out[*]}"
}

# bgp_frr_json MODE CMD: a vtysh `show ... json` command in the router, summarized by scripts/frr-json.js
# (MODE summary or routes); fails, printing the error, when the router cannot answer.
bgp_frr_json() {
  local out
  out=$(docker exec "$LAB_ROUTER_NAME" vtysh -c "$2" 2>&1) || { printf '%s' "$out"; return 1; }
  node "$(dirname "${BASH_SOURCE[0]}")/../frr-json.js" "$1" <<<"$out" 2>&1
}

# --- the router container --------------------------------------------------------------

# bgp_router_inspect: ROUTER_STATE (absent | running | stopped) and what the container was started with:
# ROUTER_IMAGE_NOW, ROUTER_IPV6_NOW, ROUTER_IPV4_NOW (its label), ROUTER_CONFIG_NOW (the hashes label),
# ROUTER_MOUNT_NOW (the directory mounted on /etc/frr).
bgp_router_inspect() {
  local out running
  ROUTER_STATE=absent ROUTER_IMAGE_NOW="" ROUTER_IPV6_NOW="" ROUTER_IPV4_NOW="" ROUTER_CONFIG_NOW="" ROUTER_MOUNT_NOW=""
  out=$(docker inspect --format "{{.State.Running}}|{{.Config.Image}}|{{with index .NetworkSettings.Networks \"${LAB_ROUTER_NETWORK}\"}}{{.GlobalIPv6Address}}{{end}}|{{index .Config.Labels \"${ROUTER_LABEL}/router-ipv4\"}}|{{index .Config.Labels \"${ROUTER_LABEL}/router-config\"}}|{{range .Mounts}}{{if eq .Destination \"${ROUTER_CONFIG_MOUNT}\"}}{{.Source}}{{end}}{{end}}" \
    "$LAB_ROUTER_NAME" 2>/dev/null) || return 0
  IFS='|' read -r running ROUTER_IMAGE_NOW ROUTER_IPV6_NOW ROUTER_IPV4_NOW ROUTER_CONFIG_NOW ROUTER_MOUNT_NOW <<<"$out"
  if [[ "$running" == true ]]; then ROUTER_STATE=running; else ROUTER_STATE=stopped; fi
}

# bgp_router_differences: one line per way the running router differs from the dist (nothing when it runs
# this dist's configuration); call bgp_router_inspect first.
bgp_router_differences() {
  local want_config pair file now was dir
  [[ "$ROUTER_IMAGE_NOW" == "$LAB_ROUTER_IMAGE" ]] ||
    printf 'image: the router runs %s, %s wants %s\n' "${ROUTER_IMAGE_NOW:-none}" "$LAB_DIST_DIR" "$LAB_ROUTER_IMAGE"
  [[ "$ROUTER_IPV6_NOW" == "$ROUTER_IPV6" ]] ||
    printf 'IPv6 address: the router has %s, %s wants %s\n' "${ROUTER_IPV6_NOW:-none}" "$LAB_DIST_DIR" "$ROUTER_IPV6"
  [[ "$ROUTER_IPV4_NOW" == "$ROUTER_IPV4" ]] ||
    printf 'IPv4 address: the router has %s, %s wants %s\n' "${ROUTER_IPV4_NOW:-none}" "$LAB_DIST_DIR" "$ROUTER_IPV4"
  dir=$(cd "$ROUTER_CONFIG_DIR" 2>/dev/null && pwd -P) || dir=$ROUTER_CONFIG_DIR
  [[ "$ROUTER_MOUNT_NOW" == "$dir" ]] ||
    printf 'configuration: the router reads %s, this lab'"'"'s is %s\n' "${ROUTER_MOUNT_NOW:-nothing}" "$dir"
  want_config=$(bgp_config_hashes)
  for pair in $want_config; do
    file=${pair%%=*} now=${pair#*=}
    was=$(tr ' ' '\n' <<<"$ROUTER_CONFIG_NOW" | sed -n "s/^${file//./\\.}=//p")
    [[ "$was" == "$now" ]] ||
      printf '%s: changed since the router started (sha256 %s then, %s now): FRR still runs the old one\n' \
        "$file" "${was:0:12}" "${now:0:12}"
  done
}

# bgp_check_router_drift: stop, naming each difference and what to run, when a router of this name runs
# another configuration than the dist's.
bgp_check_router_drift() {
  local diffs
  bgp_router_inspect
  [[ "$ROUTER_STATE" == running ]] || return 0
  diffs=$(bgp_router_differences)
  if [[ -z "$diffs" ]]; then
    info "  router ${LAB_ROUTER_NAME}: running, with ${ROUTER_CONFIG_DIR} as it is now"
    return 0
  fi
  die_listing "router ${LAB_ROUTER_NAME} runs another configuration than ${LAB_DIST_DIR}; FRR does not reload it by itself:" "$diffs" \
    "re-deploying would leave the router as it is" \
    "docker rm -f ${LAB_ROUTER_NAME}, then ./deploy.sh   (deploy starts it again from ${ROUTER_CONFIG_DIR}; the cluster stays)"
}

# --- kind's network ------------------------------------------------------------------------

# bgp_check_network: kind's network, when it exists, is the one the configuration names
# (router.network) and no other container on it holds a router address. NETWORK_STATE: absent | ok.
bgp_check_network() {
  local subnets subnet v4="" v6="" problems=() name ip4 ip6 containers
  NETWORK_STATE=absent
  subnets=$(docker network inspect "$LAB_ROUTER_NETWORK" --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}' 2>/dev/null) || return 0
  NETWORK_STATE=ok
  for subnet in $subnets; do
    if is_ipv6 "${subnet%/*}"; then v6=${v6:-$subnet}; else v4=${v4:-$subnet}; fi
  done
  [[ "$v4" == "$ROUTER_NET_IPV4" ]] ||
    problems+=("router.network.ipv4 is ${ROUTER_NET_IPV4}, but the Docker network ${LAB_ROUTER_NETWORK} has ${v4:-no IPv4 subnet}: the router would accept no node's IPv4 session")
  [[ "$v6" == "$ROUTER_NET_IPV6" ]] ||
    problems+=("router.network.ipv6 is ${ROUTER_NET_IPV6}, but the Docker network ${LAB_ROUTER_NETWORK} has ${v6:-no IPv6 subnet}: the router would accept no node's IPv6 session")
  [[ -z "$v4" ]] || ip_in_cidr "$ROUTER_IPV4" "$v4" ||
    problems+=("router.peerIPs.ipv4 ${ROUTER_IPV4} is outside the Docker network ${LAB_ROUTER_NETWORK}'s ${v4}")
  [[ -z "$v6" ]] || ip_in_cidr "$ROUTER_IPV6" "$v6" ||
    problems+=("router.peerIPs.ipv6 ${ROUTER_IPV6} is outside the Docker network ${LAB_ROUTER_NETWORK}'s ${v6}")
  containers=$(docker network inspect "$LAB_ROUTER_NETWORK" \
    --format '{{range .Containers}}{{.Name}}|{{.IPv4Address}}|{{.IPv6Address}}{{"\n"}}{{end}}' 2>/dev/null) || containers=""
  while IFS='|' read -r name ip4 ip6; do
    [[ -n "$name" && "$name" != "$LAB_ROUTER_NAME" ]] || continue
    [[ "${ip4%/*}" != "$ROUTER_IPV4" ]] || problems+=("the container ${name} holds ${ROUTER_IPV4}, the router's IPv4 address")
    [[ "${ip6%/*}" != "$ROUTER_IPV6" ]] || problems+=("the container ${name} holds ${ROUTER_IPV6}, the router's IPv6 address")
  done <<<"$containers"
  if ((${#problems[@]} > 0)); then
    err "the router cannot join the Docker network ${LAB_ROUTER_NETWORK} as the lab configures it:"
    printf '  - %s\n' "${problems[@]}" >&2
    die "the nodes could not peer with the router" \
      "docker network inspect ${LAB_ROUTER_NETWORK}; set router.network and router.peerIPs in lab.config.yaml to that network (docs/bgp.md), then ./deploy.sh"
  fi
  info "  docker network ${LAB_ROUTER_NETWORK}: ${v4} and ${v6} hold the router's ${ROUTER_IPV4} and ${ROUTER_IPV6}, free"
}

# --- hooks ------------------------------------------------------------------------------------

bgp_preflight() {
  local f name
  bgp_defaults
  # The dist holds one CalicoNodeStatus per node, named at synth after the config's name: under
  # another cluster name they would watch nodes that don't exist and no session could be read.
  name=$(fact name)
  if [[ "$LAB_CLUSTER_NAME" != "$name" ]]; then
    die "LAB_CLUSTER_NAME=${LAB_CLUSTER_NAME}, but this routing: bgp dist names its nodes after ${name} (CalicoNodeStatus $(fact bgp.nodeStatuses.0.name), ...): verify could read no BGP session of ${LAB_CLUSTER_NAME}'s nodes" \
      "set name: ${LAB_CLUSTER_NAME} in lab.config.yaml, then $(lab_synth_command) (or unset LAB_CLUSTER_NAME)"
  fi
  for f in $(fact_list bgp.router.configFiles); do
    [[ -r "$ROUTER_CONFIG_DIR/$f" ]] || die "the router's configuration ${ROUTER_CONFIG_DIR}/${f} is missing (routing: bgp)" \
      "$(lab_synth_command)   (writes ${ROUTER_CONFIG_DIR} beside the manifests)"
  done
  bgp_check_network
  [[ "$NETWORK_STATE" != absent ]] || info "  docker network ${LAB_ROUTER_NETWORK}: absent; the router's addresses are checked once kind creates it"
  bgp_check_router_drift
  if docker image inspect "$LAB_ROUTER_IMAGE" >/dev/null 2>&1; then
    info "  router image ${LAB_ROUTER_IMAGE}: present"
  else
    info "  router image ${LAB_ROUTER_IMAGE}: pulled once the cluster is up (up to ${LAB_ROUTER_TIMEOUT}s)"
  fi
}

# bgp_pull: the router's image on the host's Docker, within LAB_ROUTER_TIMEOUT seconds.
bgp_pull() {
  docker_pull_within "$LAB_ROUTER_IMAGE" "$LAB_ROUTER_TIMEOUT" LAB_ROUTER_TIMEOUT \
    "offline? set router.image in lab.config.yaml (or LAB_ROUTER_IMAGE) to an FRR image you have (or pull it by hand: docker pull ${LAB_ROUTER_IMAGE})"
}

# bgp_router_start: the router container, from the dist's configuration.
bgp_router_start() {
  local prefix=${ROUTER_NET_IPV4#*/} out dir
  dir=$(cd "$ROUTER_CONFIG_DIR" && pwd -P)
  bgp_pull
  info "  docker run ${LAB_ROUTER_NAME} (${LAB_ROUTER_IMAGE}) on ${LAB_ROUTER_NETWORK}: ${ROUTER_IPV4} (added on eth0) and ${ROUTER_IPV6} (--ip6), ${dir} on ${ROUTER_CONFIG_MOUNT}"
  # shellcheck disable=SC2016 # $LAB_ROUTER_IPV4 is expanded by the container's sh
  if ! out=$(docker run --detach --name "$LAB_ROUTER_NAME" --hostname "$LAB_ROUTER_NAME" \
    --network "$LAB_ROUTER_NETWORK" --ip6 "$ROUTER_IPV6" \
    --cap-add NET_ADMIN --cap-add NET_RAW --cap-add SYS_ADMIN \
    --label "${ROUTER_LABEL}/cluster=${LAB_CLUSTER_NAME}" --label "${ROUTER_LABEL}/role=router" \
    --label "${ROUTER_LABEL}/router-ipv4=${ROUTER_IPV4}" --label "${ROUTER_LABEL}/router-config=$(bgp_config_hashes)" \
    --volume "${dir}:${ROUTER_CONFIG_MOUNT}:ro" --env "LAB_ROUTER_IPV4=${ROUTER_IPV4}/${prefix}" \
    "$LAB_ROUTER_IMAGE" sh -c 'ip address add "$LAB_ROUTER_IPV4" dev eth0 && exec '"$ROUTER_START" 2>&1); then
    printf '%s\n' "$out" | tail -n 5 | sed 's/^/    /' >&2
    die "could not start the router ${LAB_ROUTER_NAME} (docker's answer above)" \
      "docker rm -f ${LAB_ROUTER_NAME}; check the address is free (docker network inspect ${LAB_ROUTER_NETWORK}), then ./deploy.sh"
  fi
  bgp_router_inspect
  if [[ "$ROUTER_STATE" != running ]]; then
    docker logs --tail 20 "$LAB_ROUTER_NAME" 2>&1 | sed 's/^/    /' >&2 || true
    die "the router ${LAB_ROUTER_NAME} stopped right after it started (its log above)" "docker logs ${LAB_ROUTER_NAME}"
  fi
  info "  router ${LAB_ROUTER_NAME}: running"
}

bgp_after_cluster() {
  bgp_defaults
  bgp_check_network
  [[ "$NETWORK_STATE" == ok ]] || die "the Docker network ${LAB_ROUTER_NETWORK} does not exist after kind create cluster" \
    "docker network ls; KIND_EXPERIMENTAL_DOCKER_NETWORK names the network kind uses"
  bgp_check_router_drift
  case "$ROUTER_STATE" in
    running) return 0 ;;
    stopped)
      info "  router ${LAB_ROUTER_NAME}: stopped; starting it anew"
      docker rm -f "$LAB_ROUTER_NAME" >/dev/null
      ;;
  esac
  bgp_router_start
}

# bgp_node_addresses FAMILY: every node's InternalIP of FAMILY (IPv4 or IPv6), one per line.
bgp_node_addresses() {
  local out name ips
  out=$(kubectl get nodes -o jsonpath="$(in_list "$Q_NODE")" --request-timeout=10s 2>/dev/null) || return 1
  while IFS='|' read -r name _ ips; do
    [[ -n "$name" ]] || continue
    split_families "$ips"
    if [[ "$1" == IPv4 ]]; then printf '%s\n' "${V4[@]:0:1}"; else printf '%s\n' "${V6[@]:0:1}"; fi
  done <<<"$out"
}

# bgp_sessions_up: true when the router has an Established session, with its policy in place, to every
# node's address of each of the lab's families; else one "Waiting for ..." line naming what is missing.
bgp_sessions_up() {
  local summary fam ip line missing=() state
  summary=$(bgp_frr_json summary 'show bgp summary json') || {
    printf 'Waiting for the router to answer: %s\n' "$(head -n 1 <<<"$summary")"
    return 1
  }
  for fam in $(lab_families); do
    for ip in $(bgp_node_addresses "$fam"); do
      line=$(awk -F'|' -v ip="$ip" '$2 == ip' <<<"$summary")
      IFS='|' read -r _ _ state peer_state _ <<<"$line"
      [[ "$state" == Established && "$peer_state" == OK ]] || missing+=("${ip} ${state:-no session}${peer_state:+/$peer_state}")
    done
  done
  ((${#missing[@]} == 0)) && return 0
  printf 'Waiting for sessions: %s\n' "${missing[*]}"
  return 1
}

bgp_after_calico() {
  bgp_defaults
  wait_for "every node's BGP session with the router ${LAB_ROUTER_NAME} (${LAB_ROUTER_IMAGE}) to be Established, over $(lab_families | sed 's/ / and /')" \
    "$LAB_BGP_TIMEOUT" bgp_sessions_up
  info "  the router has an Established session with every node over $(lab_families | sed 's/ / and /'), its policy in place"
}

bgp_summary() {
  bgp_defaults
  info "BGP (routing: bgp): the router ${LAB_ROUTER_NAME} peers with every node, as AS $(fact bgp.router.asNumber) with AS $(fact bgp.asNumber):"
  info "  docker exec ${LAB_ROUTER_NAME} vtysh -c 'show bgp summary'          the sessions, as the router sees them"
  info "  docker exec ${LAB_ROUTER_NAME} vtysh -c 'show bgp ipv6 unicast'     every block and Service range, via its node"
  info "  kubectl get caliconodestatus <node> -o yaml                      the same sessions, as calico-node's BIRD sees them"
}

# The CalicoNodeStatus objects: name|node|lastUpdated|BIRDv4 state|BIRDv6 state|peersV4|peersV6, the peers
# as "peerIP=type=state," each (calico-node v3.28.5 writes them: node/pkg/status/populators).
Q_NODE_STATUS='{.metadata.name}{"|"}{.spec.node}{"|"}{.status.lastUpdated}{"|"}{.status.agent.birdV4.state}{"|"}{.status.agent.birdV6.state}{"|"}{range .status.bgp.peersV4[*]}{.peerIP}{"="}{.type}{"="}{.state}{","}{end}{"|"}{range .status.bgp.peersV6[*]}{.peerIP}{"="}{.type}{"="}{.state}{","}{end}{"\n"}'

bgp_diagnose() {
  local out
  bgp_defaults
  info "The router's BGP sessions (docker exec ${LAB_ROUTER_NAME} vtysh -c 'show bgp summary'):"
  out=$(docker exec "$LAB_ROUTER_NAME" vtysh -c 'show bgp summary' 2>&1) || true
  printf '%s\n' "${out:-(no answer)}" | sed 's/^/  /' >&2
  info "calico-node's BIRD, per node (kubectl get caliconodestatuses; peer=type=state):"
  out=$(kubectl get caliconodestatuses.crd.projectcalico.org -o jsonpath="$(in_list "$Q_NODE_STATUS")" --request-timeout=10s 2>&1) || true
  awk -F'|' 'NF >= 7 { printf "  %s: BIRD %s/%s, updated %s\n    IPv4: %s\n    IPv6: %s\n", $2, ($4 == "" ? "?" : $4), ($5 == "" ? "?" : $5), ($3 == "" ? "never" : $3), ($6 == "" ? "no session" : $6), ($7 == "" ? "no session" : $7); next }
    { print "  " $0 }' <<<"${out:-(no CalicoNodeStatus)}" >&2
}

bgp_destroy() {
  local name names
  bgp_defaults
  names=$( { [[ -z "$(fact bgp.router.name)" ]] || echo "$LAB_ROUTER_NAME"; bgp_leftover_routers; } | sort -u)
  for name in $names; do
    docker inspect --format '{{.Name}}' "$name" >/dev/null 2>&1 || continue
    docker rm -f "$name" >/dev/null || die "docker rm -f ${name} failed" "check 'docker info', then run ./destroy.sh again"
    info "Removed the router container ${name}"
  done
}
