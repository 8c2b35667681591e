#!/usr/bin/env bash
# run-ipv6-only.sh - the API-server suite (scripts/e2e/run.sh) on an IPv6-only lab, with its DNS:
# synthesizes `ipFamilies: [IPv6]` to a temp dist, then runs run.sh on it inside a network namespace
# this script makes, beside a second one that plays the forwarder's container on kind's network:
#
#   cluster namespace: etcd, kube-apiserver (IPv6 service range), kubectl, and CoreDNS v1.10.1 on the
#     Corefile the API server stored (fc00:f853:ccd:e793::2, a kind node's address)
#   forwarder namespace: the lab's DNS forwarder, CoreDNS v1.10.1 on the Corefile the facts give deploy
#     (dns64.forwarder.corefile) at the dist's dns.upstream address, asking 127.0.0.11, where a second
#     CoreDNS stands in for Docker's embedded DNS: an A-only name (the IPv4-only host, on a network
#     without IPv6) and a name with its own AAAA (the external host, on kind's network)
#
# Usage:
#   scripts/e2e/run-ipv6-only.sh           # part of npm run test:e2e
#
# Needs root (network and mount namespaces), ip, dig and a CoreDNS binary (built once by
# scripts/e2e/build-coredns.sh into ~/.cache/calico-ipv6-lab/coredns). Without them run.sh still runs
# on the IPv6-only dist, outside a namespace, and the CoreDNS check says SKIP (FAIL with CI=true).
# E2E_FIXTURES_DIR=dir keeps the dig answers, CoreDNS's log and the forwarder's and the stand-in's
# query logs there.
#
# Environment (defaults in brackets): as run.sh, plus
#   E2E_COREDNS     CoreDNS binary                       [built by scripts/e2e/build-coredns.sh]
#   E2E_NO_COREDNS  true: run without the DNS check      [false]
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HELPER="${REPO_ROOT}/scripts/e2e/manifests.js"
CI="${CI:-false}"
E2E_NO_COREDNS="${E2E_NO_COREDNS:-false}"
# The stand-in embedded DNS's names: the IPv4-only host (A only, on the lab's IPv4-only network, as
# deploy lays it out: the gateway, the forwarder, then the host) and the external host on kind's network.
A_ONLY_NAME=ipv6-lab-ipv4-host A_ONLY_ADDR=172.19.0.4
AAAA_NAME=ipv6-lab-external AAAA_ADDR=fc00:f853:ccd:e793::5 AAAA_NAME_V4=172.18.0.5
CLUSTER_ADDR=fc00:f853:ccd:e793::2
# Docker's embedded DNS, as each container sees it.
EMBEDDED_DNS=127.0.0.11

WORK_DIR="" NS_CLUSTER="" NS_UPSTREAM="" UPSTREAM_PID="" EMBEDDED_PID=""

log() {
  echo "run-ipv6-only: $*" >&2
}

cleanup() {
  local rc=$?
  set +e
  local pid log
  for pid in ${UPSTREAM_PID} ${EMBEDDED_PID}; do
    kill "${pid}" 2>/dev/null
    wait "${pid}" 2>/dev/null
  done
  for log in forwarder embedded-dns; do
    if ((rc != 0)) && [[ -s "${WORK_DIR}/${log}.log" ]]; then
      echo "----- ${log}.log -----" >&2
      tail -n 20 "${WORK_DIR}/${log}.log" >&2
    fi
  done
  [[ -n "${NS_CLUSTER}" ]] && ip netns del "${NS_CLUSTER}" 2>/dev/null
  [[ -n "${NS_UPSTREAM}" ]] && ip netns del "${NS_UPSTREAM}" 2>/dev/null
  [[ -n "${WORK_DIR}" ]] && rm -rf "${WORK_DIR}"
  exit "${rc}"
}

synth_ipv6_only() {
  printf 'ipFamilies: [IPv6]\n' >"${WORK_DIR}/ipv6-only.yaml"
  (cd "${REPO_ROOT}" && CDK8S_OUTDIR="${WORK_DIR}/staging" LAB_CONFIG="${WORK_DIR}/ipv6-only.yaml" \
    LAB_DIST_DIR="${WORK_DIR}/dist" node -r ./scripts/swc-register.js main.ts) >"${WORK_DIR}/synth.log" 2>&1 || {
    cat "${WORK_DIR}/synth.log" >&2
    log "ERROR: synth of ipFamilies [IPv6] failed"
    exit 1
  }
  log "$(tail -n 1 "${WORK_DIR}/synth.log")"
}

# why_no_namespaces: what the DNS check lacks here, or nothing.
why_no_namespaces() {
  [[ "${E2E_NO_COREDNS}" == true ]] && { echo "E2E_NO_COREDNS=true"; return; }
  [[ $(id -u) == 0 ]] || { echo "network namespaces need root"; return; }
  local tool
  for tool in ip dig unshare; do
    command -v "${tool}" >/dev/null || { echo "${tool} is not installed"; return; }
  done
}

find_coredns() {
  if [[ -z "${E2E_COREDNS:-}" ]]; then
    E2E_COREDNS="$(bash "${REPO_ROOT}/scripts/e2e/build-coredns.sh" | tail -n 1)"
  fi
  [[ -x "${E2E_COREDNS}" ]] || { log "ERROR: no CoreDNS binary at ${E2E_COREDNS}"; exit 1; }
}

# make_namespaces UPSTREAM_ADDR: the cluster and upstream namespaces on one link, as kind's network.
make_namespaces() {
  local upstream="$1" suffix="$$-${RANDOM}"
  NS_CLUSTER="lab-e2e-v6-${suffix}" NS_UPSTREAM="lab-e2e-dns-${suffix}"
  ip netns add "${NS_CLUSTER}"
  ip netns add "${NS_UPSTREAM}"
  ip -n "${NS_CLUSTER}" link set lo up
  ip -n "${NS_UPSTREAM}" link set lo up
  ip link add eth0 netns "${NS_CLUSTER}" type veth peer name eth0 netns "${NS_UPSTREAM}"
  ip -n "${NS_CLUSTER}" addr add "${CLUSTER_ADDR}/64" dev eth0 nodad
  ip -n "${NS_UPSTREAM}" addr add "${upstream}/64" dev eth0 nodad
  ip -n "${NS_CLUSTER}" link set eth0 up
  ip -n "${NS_UPSTREAM}" link set eth0 up
}

# start_upstream UPSTREAM_ADDR: the forwarder on the facts' Corefile, and the stand-in for Docker's
# embedded DNS behind it, both in the forwarder namespace (one container's view).
start_upstream() {
  local upstream="$1" i
  cat >"${WORK_DIR}/embedded-dns.Corefile" <<EOF
.:53 {
    bind ${EMBEDDED_DNS}
    log
    hosts {
        ${A_ONLY_ADDR} ${A_ONLY_NAME}
        ${AAAA_NAME_V4} ${AAAA_NAME}
        ${AAAA_ADDR} ${AAAA_NAME}
    }
}
EOF
  node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).dns64.forwarder.corefile)' \
    "${WORK_DIR}/dist/lab/facts.json" >"${WORK_DIR}/forwarder.Corefile"
  grep -q "^    bind ${upstream}$" "${WORK_DIR}/forwarder.Corefile" || {
    log "ERROR: the facts' forwarder Corefile does not bind ${upstream}:"
    cat "${WORK_DIR}/forwarder.Corefile" >&2
    exit 1
  }
  ip netns exec "${NS_UPSTREAM}" "${E2E_COREDNS}" -conf "${WORK_DIR}/embedded-dns.Corefile" >"${WORK_DIR}/embedded-dns.log" 2>&1 &
  EMBEDDED_PID=$!
  ip netns exec "${NS_UPSTREAM}" "${E2E_COREDNS}" -conf "${WORK_DIR}/forwarder.Corefile" >"${WORK_DIR}/forwarder.log" 2>&1 &
  UPSTREAM_PID=$!
  for ((i = 0; i < 100; i++)); do
    if ip netns exec "${NS_CLUSTER}" dig @"${upstream}" +tries=1 +time=1 +short "${A_ONLY_NAME}" A 2>/dev/null | grep -qx "${A_ONLY_ADDR}"; then
      log "the dist's forwarder at ${upstream} answers from the stand-in embedded DNS at ${EMBEDDED_DNS}: ${A_ONLY_NAME} A ${A_ONLY_ADDR}; ${AAAA_NAME} A ${AAAA_NAME_V4}, AAAA ${AAAA_ADDR}"
      return 0
    fi
    if ! kill -0 "${UPSTREAM_PID}" 2>/dev/null || ! kill -0 "${EMBEDDED_PID}" 2>/dev/null; then break; fi
    sleep 0.1
  done
  log "ERROR: the forwarder did not answer on ${upstream}"
  exit 1
}

main() {
  trap cleanup EXIT
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/calico-ipv6-lab-e2e-ipv6-only.XXXXXX")"
  synth_ipv6_only
  local why upstream
  why="$(why_no_namespaces)"
  if [[ -n "${why}" ]]; then
    log "no network namespaces (${why}): run.sh runs on the IPv6-only dist without the CoreDNS check"
    E2E_MANIFEST_DIR="${WORK_DIR}/dist" E2E_COREDNS="" bash "${REPO_ROOT}/scripts/e2e/run.sh"
    return
  fi
  find_coredns
  upstream="$(node "${HELPER}" corefile "${WORK_DIR}/dist" | sed -n 's/^upstreams=//p')"
  [[ -n "${upstream}" && "${upstream}" != *" "* ]] || { log "ERROR: the dist's Corefile names no single upstream (${upstream})"; exit 1; }
  make_namespaces "${upstream}"
  start_upstream "${upstream}"
  # run.sh in the cluster namespace: its loopback API server, CoreDNS on :53, the upstream one link away.
  ip netns exec "${NS_CLUSTER}" env E2E_MANIFEST_DIR="${WORK_DIR}/dist" E2E_COREDNS="${E2E_COREDNS}" \
    E2E_DNS_A_ONLY="${A_ONLY_NAME}=${A_ONLY_ADDR}" E2E_DNS_WITH_AAAA="${AAAA_NAME}=${AAAA_ADDR}" \
    bash "${REPO_ROOT}/scripts/e2e/run.sh"
  if [[ -n "${E2E_FIXTURES_DIR:-}" ]]; then
    mkdir -p "${E2E_FIXTURES_DIR}"
    cp "${WORK_DIR}/forwarder.Corefile" "${E2E_FIXTURES_DIR}/forwarder.Corefile"
    cp "${WORK_DIR}/forwarder.log" "${E2E_FIXTURES_DIR}/forwarder-log.txt"
    cp "${WORK_DIR}/embedded-dns.Corefile" "${E2E_FIXTURES_DIR}/embedded-dns.Corefile"
    cp "${WORK_DIR}/embedded-dns.log" "${E2E_FIXTURES_DIR}/embedded-dns-log.txt"
  fi
}

main "$@"
