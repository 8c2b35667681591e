#!/usr/bin/env bash
# The lab's "external" host: a plain container on kind's Docker network,
# outside the cluster and its pools, serving the pods' nginx config (which
# answers with the client address it saw). Pods reach it over IPv4 and IPv6;
# its answers show whether Calico's natOutgoing translated the pod address.
#
# With the policy lesson on (facts policy.externalHost), the policies name the
# host by address, so it runs at exactly those: the IPv6 one by `docker run
# --ip6`; the IPv4 one as a second address its entry script adds (NET_ADMIN),
# because Docker refuses `--ip` on kind's network, whose IPv4 subnet Docker
# chose rather than kind ("user specified IP address is supported only when
# connecting to networks with user configured subnets"; docs/policy.md).
# Without the lesson it runs as it always has, at the addresses Docker picks.
#
# Sourced by deploy.sh (start), destroy.sh (remove) and verify's data-path
# checks (addresses). Callers run lab_init_defaults first.

[[ -n "${_LAB_EXTERNAL_HOST_SH:-}" ]] && return 0
_LAB_EXTERNAL_HOST_SH=1

# external_host_defaults: the settings, from the facts' externalHost, each
# overridable from the environment.
external_host_defaults() {
  LAB_EXTERNAL_NAME=${LAB_EXTERNAL_NAME:-$(lab_rebase_name "$(fact externalHost.name)")}
  LAB_EXTERNAL_NETWORK=${LAB_EXTERNAL_NETWORK:-${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind}}
  LAB_EXTERNAL_IMAGE=${LAB_EXTERNAL_IMAGE:-$(fact externalHost.image)}
  LAB_EXTERNAL_IPV4=${LAB_EXTERNAL_IPV4:-}
  LAB_EXTERNAL_IPV6=${LAB_EXTERNAL_IPV6:-}
  LAB_EXTERNAL_TIMEOUT=${LAB_EXTERNAL_TIMEOUT:-300}
  # The policy lesson's fixed addresses (empty without it).
  EXTERNAL_FIXED_IPV4=$(fact policy.externalHost.ipv4)
  EXTERNAL_FIXED_IPV6=$(fact policy.externalHost.ipv6)
}

# external_host_pull: the image on the host's Docker (kind nodes have their
# own copy in containerd), pulled within LAB_EXTERNAL_TIMEOUT seconds.
external_host_pull() {
  docker_pull_within "$LAB_EXTERNAL_IMAGE" "$LAB_EXTERNAL_TIMEOUT" LAB_EXTERNAL_TIMEOUT \
    "offline? set LAB_EXTERNAL_IMAGE to an image you have, with nginx in it (or pull it by hand: docker pull ${LAB_EXTERNAL_IMAGE})"
}

# external_host_addresses: EXTERNAL_IPV4 and EXTERNAL_IPV6 from the
# environment or `docker inspect`; false with EXTERNAL_ERROR set when the
# container is not running. With fixed addresses: those, once docker inspect
# shows the container runs at the fixed IPv6 (its entry script added the
# IPv4 before nginx started; Docker does not list it).
external_host_addresses() {
  external_host_defaults
  EXTERNAL_IPV4=$LAB_EXTERNAL_IPV4 EXTERNAL_IPV6=$LAB_EXTERNAL_IPV6 EXTERNAL_ERROR=""
  [[ -z "$EXTERNAL_IPV4$EXTERNAL_IPV6" ]] || return 0
  if ! have docker; then
    EXTERNAL_ERROR="docker is not on PATH to look it up"
    return 1
  fi
  local out running
  if ! out=$(docker inspect --format "{{.State.Running}}|{{with index .NetworkSettings.Networks \"${LAB_EXTERNAL_NETWORK}\"}}{{.IPAddress}}|{{.GlobalIPv6Address}}{{end}}" "$LAB_EXTERNAL_NAME" 2>&1); then
    EXTERNAL_ERROR=$(head -n 1 <<<"$out")
    return 1
  fi
  IFS='|' read -r running EXTERNAL_IPV4 EXTERNAL_IPV6 <<<"$out"
  if [[ "$running" != true ]]; then
    EXTERNAL_ERROR="the container exists but is not running"
    return 1
  fi
  [[ -n "$EXTERNAL_FIXED_IPV6" ]] || return 0
  if [[ "$EXTERNAL_IPV6" != "$EXTERNAL_FIXED_IPV6" ]]; then
    EXTERNAL_ERROR="it runs at ${EXTERNAL_IPV6:-no IPv6}, not at the policy lesson's ${EXTERNAL_FIXED_IPV6} (started without the lesson)"
    return 1
  fi
  EXTERNAL_IPV4=$EXTERNAL_FIXED_IPV4
}

# external_host_start: run the container, or keep the running one.
external_host_start() {
  external_host_defaults
  [[ -n "$LAB_EXTERNAL_IMAGE" ]] || die "no image for the external host in ${LAB_FACTS_FILE}" \
    "set LAB_EXTERNAL_IMAGE to the multitool image"
  if external_host_addresses; then
    info "  external host ${LAB_EXTERNAL_NAME}: running (${EXTERNAL_IPV4:-no IPv4} ${EXTERNAL_IPV6:-no IPv6})"
    return 0
  fi
  docker rm -f "$LAB_EXTERNAL_NAME" >/dev/null 2>&1 || true
  external_host_pull
  local conf out
  conf=$(fact externalHost.nginxConfig)
  [[ -n "$conf" ]] || die "no nginx config for the external host in ${LAB_FACTS_FILE}" "$(lab_synth_command)"
  info "  docker run ${LAB_EXTERNAL_NAME} (${LAB_EXTERNAL_IMAGE}) on the Docker network ${LAB_EXTERNAL_NETWORK}"
  # The config travels in an environment variable, not a bind mount, so a
  # remote Docker daemon works too. /run/nginx: Alpine's default pid dir.
  # shellcheck disable=SC2016 # $LAB_NGINX_CONF is expanded by the container's sh
  local script='mkdir -p /run/nginx && printf "%s\n" "$LAB_NGINX_CONF" >/tmp/nginx.conf && exec nginx -c /tmp/nginx.conf -g "daemon off;"'
  local -a fixed=()
  if [[ -n "$EXTERNAL_FIXED_IPV6" ]]; then
    info "  at the policy lesson's fixed addresses: --ip6 ${EXTERNAL_FIXED_IPV6}, and ${EXTERNAL_FIXED_IPV4} added inside (Docker refuses --ip on kind's network)"
    fixed=(--ip6 "$EXTERNAL_FIXED_IPV6" --cap-add NET_ADMIN -e "LAB_EXTERNAL_IPV4=${EXTERNAL_FIXED_IPV4}")
    # No address, no nginx: the container stops, and deploy says so.
    # shellcheck disable=SC2016 # expanded by the container's sh
    script='ip addr add "${LAB_EXTERNAL_IPV4}/32" dev eth0 && '$script
  fi
  if ! out=$(docker run -d --name "$LAB_EXTERNAL_NAME" --hostname "$LAB_EXTERNAL_NAME" \
    --network "$LAB_EXTERNAL_NETWORK" ${fixed[@]+"${fixed[@]}"} --label "calico-ipv6-lab/cluster=${LAB_CLUSTER_NAME}" \
    -e "LAB_NGINX_CONF=${conf}" --entrypoint sh "$LAB_EXTERNAL_IMAGE" \
    -c "$script" 2>&1); then
    printf '%s\n' "$out" | tail -n 5 | sed 's/^/    /' >&2
    die "could not start the external host ${LAB_EXTERNAL_NAME}" \
      "docker run --rm ${LAB_EXTERNAL_IMAGE} true   (does the image pull?), then ./deploy.sh again"
  fi
  external_host_addresses || die "the external host ${LAB_EXTERNAL_NAME} did not stay up: ${EXTERNAL_ERROR}" \
    "docker logs ${LAB_EXTERNAL_NAME}"
  info "  external host ${LAB_EXTERNAL_NAME}: ${EXTERNAL_IPV4:-no IPv4} ${EXTERNAL_IPV6:-no IPv6}"
}

# external_host_remove: delete the container when it exists.
external_host_remove() {
  external_host_defaults
  have docker || return 0
  if docker inspect --format '{{.Name}}' "$LAB_EXTERNAL_NAME" >/dev/null 2>&1; then
    docker rm -f "$LAB_EXTERNAL_NAME" >/dev/null || die "docker rm -f ${LAB_EXTERNAL_NAME} failed" "check 'docker info', then run ./destroy.sh again"
    info "Removed the external host container ${LAB_EXTERNAL_NAME}"
  fi
}
