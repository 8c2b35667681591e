#!/usr/bin/env bash
# kubeadm-check.sh - prove that kind v0.25.0 and kubeadm v1.28.15 accept the lab's kind config,
# also for pools that kube-controller-manager's node masks (/24, /64) cannot split.
#
# For the kind config and for variants of it, this renders the kubeadm config kind writes to the
# control-plane node (kind's own template and patch code, scripts/e2e/kind-kubeadm-config) and runs
# the real `kubeadm config validate` on it, the validation `kubeadm init` starts with:
#   - the config as is, and with podSubnet set to each of EXTRA_POD_SUBNETS: kubeadm must accept it;
#   - the same variants without kubeadmConfigPatches (node CIDR allocation on, kind's default):
#     kubeadm must reject them, so the checks above can fail and the patch is what makes them pass;
#   - a pod subnet with fewer than 14 addresses: kubeadm rejects it whatever the patch (the
#     KindClusterConfig construct refuses it for that reason);
#   - the IPv6-only lab's kind config (`ipFamilies: [IPv6]`, synthesized here unless IPV6_ONLY_KIND_CONFIG
#     names one): ipFamily ipv6, accepted as is and with the IPv6 pod subnets above; kind itself refuses
#     it with a second (IPv4) pod subnet, the mistake the KindClusterConfig construct refuses too.
# The renderer runs kind's own Validate first, as `kind create cluster` does.
#
# Usage:
#   scripts/e2e/kubeadm-check.sh [KIND_CONFIG]      # npm run test:kubeadm; default dist/kind/cluster.yaml
#
# Prints one PASS/FAIL line per check and "N passed, M failed"; exits non-zero if any failed.
# kubeadm and the renderer are built from Go modules once (a minute or two with a warm Go cache,
# longer cold) into KUBEADM_CHECK_CACHE. Without Go it skips loudly (exit 0), unless CI=true.
#
# Environment (defaults in brackets):
#   K8S_VERSION          kubeadm release                 [1.28.15]
#   KIND_VERSION         kind release                    [0.25.0]
#   KUBEADM_CHECK_CACHE  where the binaries go           [${XDG_CACHE_HOME:-$HOME/.cache}/calico-ipv6-lab/kubeadm-check]
#   GO                   go command                      [go on PATH, else /usr/local/go/bin/go]
#   IPV6_ONLY_KIND_CONFIG  the IPv6-only kind config     [synthesized from `ipFamilies: [IPv6]`]
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "${REPO_ROOT}/scripts/lib/common.sh"

K8S_VERSION="${K8S_VERSION:-1.28.15}"
KIND_VERSION="${KIND_VERSION:-0.25.0}"
KUBEADM_CHECK_CACHE="${KUBEADM_CHECK_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/calico-ipv6-lab/kubeadm-check}"
CI="${CI:-false}"
# IPv6 longer than /64, IPv6 more than 16 bits shorter than /64, IPv4 longer than /24.
EXTRA_POD_SUBNETS=("192.168.0.0/16,fd00:10:244::/112" "192.168.0.0/16,fd00::/40" "10.10.0.0/25,fd00:10:244::/48")
# 8 IPv4 addresses, below kubeadm's MinimumAddressesInPodSubnet (14).
TOO_SMALL_POD_SUBNETS="10.0.0.0/29,fd00:10:244::/48"
# The IPv6-only lab's single pod subnet: longer than /64, more than 16 bits shorter than /64.
IPV6_ONLY_EXTRA_POD_SUBNETS=("fd00:10:244::/112" "fd00::/40")
# Two families in an ipFamily ipv6 cluster: kind v0.25.0 validateSubnets refuses it.
IPV6_ONLY_DUAL_POD_SUBNETS="192.168.0.0/16,fd00:10:244::/48"
RENDERER_SRC="${REPO_ROOT}/scripts/e2e/kind-kubeadm-config/main.go"

GO="" WORK_DIR="" KUBEADM="" RENDERER=""
PASSED=0 FAILED=0

log() {
  echo "kubeadm-check: $*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

cleanup() {
  local rc=$?
  [[ -n "${WORK_DIR}" && -d "${WORK_DIR}" ]] && rm -rf "${WORK_DIR}"
  if ((rc != 0)); then
    log "failed (exit ${rc}); build logs, if any, are in ${KUBEADM_CHECK_CACHE}/*.log"
  fi
}

find_go() {
  GO="$(go_command)"
  if [[ -z "${GO}" ]]; then
    [[ "${CI}" == "true" ]] && die "CI=true but no Go toolchain found (set GO=/path/to/go)"
    log "SKIPPED: no Go toolchain on this machine (set GO=/path/to/go); CI runs this check."
    exit 0
  fi
}

# build_kubeadm: k8s.io/kubernetes/cmd/kubeadm at K8S_VERSION, in a throw-away module that pins each
# k8s.io staging module (v0.0.0 => ./staging/... in kubernetes's go.mod) to v0.<minor>.<patch>.
build_kubeadm() {
  KUBEADM="${KUBEADM_CHECK_CACHE}/kubeadm"
  if [[ -x "${KUBEADM}" && "$("${KUBEADM}" version -o short 2>/dev/null)" == "v${K8S_VERSION}" ]]; then
    return 0
  fi
  local dir="${WORK_DIR}/kubeadm" gomod modules m minor="${K8S_VERSION#*.}" pkg=k8s.io/component-base/version
  minor="${minor%%.*}"
  mkdir -p "${dir}"
  log "building kubeadm v${K8S_VERSION} (log: ${KUBEADM_CHECK_CACHE}/kubeadm-build.log)"
  gomod="$(cd "${dir}" && "${GO}" mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [[ -f "${gomod}" ]] || die "could not download go.mod of k8s.io/kubernetes@v${K8S_VERSION}"
  modules="$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "${gomod}" | sort -u)"
  {
    echo "module calico-ipv6-lab.local/kubeadm-build"
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "${gomod}")"
    echo "require k8s.io/kubernetes v${K8S_VERSION}"
    echo "replace ("
    for m in ${modules}; do echo "	${m} => ${m} v0.${K8S_VERSION#*.}"; done
    echo ")"
  } >"${dir}/go.mod"
  (cd "${dir}" && "${GO}" get "k8s.io/kubernetes/cmd/kubeadm@v${K8S_VERSION}" &&
    GOFLAGS="${GOFLAGS:+${GOFLAGS} }-mod=mod" CGO_ENABLED=0 "${GO}" build -trimpath \
      -ldflags "-s -w -X ${pkg}.gitVersion=v${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}" \
      -o "${KUBEADM}.tmp" k8s.io/kubernetes/cmd/kubeadm) >"${KUBEADM_CHECK_CACHE}/kubeadm-build.log" 2>&1 ||
    die "building kubeadm failed; see ${KUBEADM_CHECK_CACHE}/kubeadm-build.log"
  mv -f "${KUBEADM}.tmp" "${KUBEADM}"
}

# build_renderer: scripts/e2e/kind-kubeadm-config inside a copy of the sigs.k8s.io/kind module
# (it imports kind's internal packages); rebuilt when its source changes.
build_renderer() {
  local sum dir kind_dir
  sum="$(sha256sum "${RENDERER_SRC}" | cut -c1-16)"
  RENDERER="${KUBEADM_CHECK_CACHE}/kind-${KIND_VERSION}-kubeadm-config-${sum}"
  [[ -x "${RENDERER}" ]] && return 0
  log "building the kind v${KIND_VERSION} kubeadm config renderer"
  kind_dir="$(cd "${WORK_DIR}" && "${GO}" mod download -json "sigs.k8s.io/kind@v${KIND_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  [[ -d "${kind_dir}" ]] || die "could not download sigs.k8s.io/kind@v${KIND_VERSION}"
  dir="${WORK_DIR}/kind"
  cp -r "${kind_dir}" "${dir}"
  chmod -R u+w "${dir}"
  mkdir -p "${dir}/pkg/cluster/labkubeadmconfig"
  cp "${RENDERER_SRC}" "${dir}/pkg/cluster/labkubeadmconfig/main.go"
  (cd "${dir}" && GOFLAGS="${GOFLAGS:+${GOFLAGS} }-mod=mod" CGO_ENABLED=0 "${GO}" build -trimpath \
    -o "${RENDERER}.tmp" ./pkg/cluster/labkubeadmconfig) >"${KUBEADM_CHECK_CACHE}/renderer-build.log" 2>&1 ||
    die "building the renderer failed; see ${KUBEADM_CHECK_CACHE}/renderer-build.log"
  mv -f "${RENDERER}.tmp" "${RENDERER}"
}

# variant SRC DST POD_SUBNET STRIP_PATCHES: SRC with podSubnet replaced (unless empty) and, if
# STRIP_PATCHES is true, without kubeadmConfigPatches.
variant() {
  (cd "${REPO_ROOT}" && node -e '
    const fs = require("fs"), YAML = require("yaml");
    const [src, dst, podSubnet, strip] = process.argv.slice(1);
    const config = YAML.parse(fs.readFileSync(src, "utf8"));
    if (podSubnet) config.networking.podSubnet = podSubnet;
    if (strip === "true") delete config.kubeadmConfigPatches;
    fs.writeFileSync(dst, YAML.stringify(config));
  ' "$@")
}

# check WANT NAME KIND_CONFIG: renders KIND_CONFIG as kind does and validates it with kubeadm;
# WANT is "accept" or "reject" (kubeadm's verdict), or "kind-reject" (kind refuses the config itself).
check() {
  local want="$1" name="$2" config="$3" out got
  if ! out="$("${RENDERER}" "${config}" "v${K8S_VERSION}" 2>&1 >"${config}.kubeadm.yaml")"; then
    out="$(tr '\n' ' ' <<<"${out}")"
    if [[ "${want}" == kind-reject ]]; then
      echo "PASS ${name}: kind refuses it (${out% })"
      PASSED=$((PASSED + 1))
    else
      echo "FAIL ${name}: kind could not render a kubeadm config: ${out% }"
      FAILED=$((FAILED + 1))
    fi
    return 0
  fi
  if [[ "${want}" == kind-reject ]]; then
    echo "FAIL ${name}: kind accepts it, expected kind to refuse it"
    FAILED=$((FAILED + 1))
    return 0
  fi
  if out="$("${KUBEADM}" config validate --config "${config}.kubeadm.yaml" 2>&1)"; then got=accept; else got=reject; fi
  out="$(grep -v 'Ignored YAML document' <<<"${out}" | grep -v '^To see the stack trace' | tr '\n' ' ')"
  if [[ "${got}" == "${want}" ]]; then
    echo "PASS ${name}: kubeadm ${got}s it (${out% })"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL ${name}: kubeadm ${got}s it, expected ${want}: ${out% }"
    FAILED=$((FAILED + 1))
  fi
}

# ipv6_only_kind_config: IPV6_ONLY_KIND_CONFIG, or the kind config synth writes for `ipFamilies: [IPv6]`.
ipv6_only_kind_config() {
  if [[ -n "${IPV6_ONLY_KIND_CONFIG:-}" ]]; then
    echo "${IPV6_ONLY_KIND_CONFIG}"
    return
  fi
  printf 'ipFamilies: [IPv6]\n' >"${WORK_DIR}/ipv6-only.lab.yaml"
  (cd "${REPO_ROOT}" && CDK8S_OUTDIR="${WORK_DIR}/ipv6-only-staging" LAB_CONFIG="${WORK_DIR}/ipv6-only.lab.yaml" \
    LAB_DIST_DIR="${WORK_DIR}/ipv6-only-dist" node -r ./scripts/swc-register.js main.ts) >"${WORK_DIR}/synth.log" 2>&1 ||
    die "synth of ipFamilies [IPv6] failed: $(cat "${WORK_DIR}/synth.log")"
  echo "${WORK_DIR}/ipv6-only-dist/kind/cluster.yaml"
}

main() {
  local kind_config="${1:-${REPO_ROOT}/dist/kind/cluster.yaml}" subnet i=0 v6_config
  [[ -f "${kind_config}" ]] || die "no kind config at ${kind_config} (run npm run synth)"
  trap cleanup EXIT
  find_go
  mkdir -p "${KUBEADM_CHECK_CACHE}"
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/calico-ipv6-lab-kubeadm-check.XXXXXX")"
  build_kubeadm
  build_renderer
  log "kubeadm $("${KUBEADM}" version -o short), kind v${KIND_VERSION} templates, config ${kind_config}"

  check accept "the lab's kind config" "$(cp "${kind_config}" "${WORK_DIR}/lab.yaml" && echo "${WORK_DIR}/lab.yaml")"
  for subnet in "${EXTRA_POD_SUBNETS[@]}"; do
    i=$((i + 1))
    variant "${kind_config}" "${WORK_DIR}/off-${i}.yaml" "${subnet}" false
    check accept "podSubnet ${subnet}, node CIDR allocation off (the lab's patch)" "${WORK_DIR}/off-${i}.yaml"
    variant "${kind_config}" "${WORK_DIR}/on-${i}.yaml" "${subnet}" true
    check reject "podSubnet ${subnet}, node CIDR allocation on (kind's default)" "${WORK_DIR}/on-${i}.yaml"
  done
  variant "${kind_config}" "${WORK_DIR}/tiny.yaml" "${TOO_SMALL_POD_SUBNETS}" false
  check reject "podSubnet ${TOO_SMALL_POD_SUBNETS}, node CIDR allocation off" "${WORK_DIR}/tiny.yaml"

  v6_config="$(ipv6_only_kind_config)"
  log "IPv6-only: ${v6_config}"
  check accept "the IPv6-only lab's kind config (ipFamily ipv6, podSubnet $(node "${REPO_ROOT}/scripts/e2e/manifests.js" pod-subnet "${v6_config}"))" \
    "$(cp "${v6_config}" "${WORK_DIR}/v6.yaml" && echo "${WORK_DIR}/v6.yaml")"
  for subnet in "${IPV6_ONLY_EXTRA_POD_SUBNETS[@]}"; do
    i=$((i + 1))
    variant "${v6_config}" "${WORK_DIR}/v6-off-${i}.yaml" "${subnet}" false
    check accept "IPv6-only, podSubnet ${subnet}, node CIDR allocation off (the lab's patch)" "${WORK_DIR}/v6-off-${i}.yaml"
    variant "${v6_config}" "${WORK_DIR}/v6-on-${i}.yaml" "${subnet}" true
    check reject "IPv6-only, podSubnet ${subnet}, node CIDR allocation on (kind's default)" "${WORK_DIR}/v6-on-${i}.yaml"
  done
  variant "${v6_config}" "${WORK_DIR}/v6-dual.yaml" "${IPV6_ONLY_DUAL_POD_SUBNETS}" false
  check kind-reject "IPv6-only with a second, IPv4 pod subnet ${IPV6_ONLY_DUAL_POD_SUBNETS}" "${WORK_DIR}/v6-dual.yaml"
  echo "${PASSED} passed, ${FAILED} failed"
  ((FAILED == 0))
}

main "$@"
