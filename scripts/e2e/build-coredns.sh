#!/usr/bin/env bash
# build-coredns.sh - build CoreDNS at the version kubeadm v1.28.15 deploys (v1.10.1, kubeadm's
# constants.CoreDNSVersion) from the Go module proxy, for the IPv6-only e2e run's DNS64 check
# (scripts/e2e/run-ipv6-only.sh).
#
# Usage:
#   scripts/e2e/build-coredns.sh            # build (or reuse) and print the binary's path
#
# COREDNS_BUILD=minimal (the default) builds scripts/e2e/coredns/main.go: CoreDNS's own coremain with
# only the plugins the lab's Corefile and the test's stand-in upstream use (the same plugin packages as
# the full build; a Corefile directive whose plugin is missing fails at start-up, so nothing passes by
# accident). COREDNS_BUILD=full builds github.com/coredns/coredns itself, every plugin. Measured cold
# (empty Go caches, 2 busy cores): minimal 170 s, full 225 s; the kubernetes plugin's client-go is most
# of both.
#
# The binary goes to a cache outside the repo, reused while its version and source match:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/calico-ipv6-lab/coredns/<version>-<build>[-<sha of main.go>]/coredns
# The last line on stdout is its path; everything else goes to stderr.
#
# Environment (defaults in brackets):
#   COREDNS_VERSION    CoreDNS release                  [1.10.1]
#   COREDNS_BUILD      minimal or full                  [minimal]
#   COREDNS_CACHE_DIR  cache root                       [see above]
#   GO                 go command                       [go on PATH, else /usr/local/go/bin/go]
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "${REPO_ROOT}/scripts/lib/common.sh"

COREDNS_VERSION="${COREDNS_VERSION:-1.10.1}"
COREDNS_BUILD="${COREDNS_BUILD:-minimal}"
COREDNS_CACHE_DIR="${COREDNS_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/calico-ipv6-lab/coredns}"
MAIN_SRC="${REPO_ROOT}/scripts/e2e/coredns/main.go"

GO="" WORK_DIR=""

log() {
  echo "build-coredns: $*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

cleanup() {
  if [[ -n "${WORK_DIR}" && -d "${WORK_DIR}" ]]; then
    rm -rf "${WORK_DIR}"
  fi
}

# binary_dir: the cache directory of this version and build (and source, for the minimal one).
binary_dir() {
  case "${COREDNS_BUILD}" in
    minimal) echo "${COREDNS_CACHE_DIR}/${COREDNS_VERSION}-minimal-$(sha256sum "${MAIN_SRC}" | cut -c1-16)" ;;
    full) echo "${COREDNS_CACHE_DIR}/${COREDNS_VERSION}-full" ;;
    *) die "COREDNS_BUILD=${COREDNS_BUILD}: must be minimal or full" ;;
  esac
}

# is_current BINARY: it reports CoreDNS-<version>.
is_current() {
  local out
  [[ -x "$1" ]] || return 1
  out="$("$1" -version 2>/dev/null)" || return 1
  [[ "${out%%$'\n'*}" == "CoreDNS-${COREDNS_VERSION}" ]]
}

build() {
  local out="$1" dir started
  GO="$(go_command)"
  [[ -n "${GO}" ]] || die "no Go toolchain found (set GO=/path/to/go)"
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/calico-ipv6-lab-coredns-build.XXXXXX")"
  dir="${WORK_DIR}/module"
  mkdir -p "${dir}" "$(dirname "${out}")"
  started=${SECONDS}
  log "building CoreDNS v${COREDNS_VERSION} (${COREDNS_BUILD}) with $("${GO}" version) (log: $(dirname "${out}")/build.log)"
  (
    cd "${dir}"
    "${GO}" mod init calico-ipv6-lab.local/coredns-build
    "${GO}" get "github.com/coredns/coredns@v${COREDNS_VERSION}"
    if [[ "${COREDNS_BUILD}" == minimal ]]; then
      cp "${MAIN_SRC}" main.go
      GOFLAGS="${GOFLAGS:+${GOFLAGS} }-mod=mod" CGO_ENABLED=0 "${GO}" build -trimpath -ldflags "-s -w" -o "${out}.tmp" .
    else
      GOFLAGS="${GOFLAGS:+${GOFLAGS} }-mod=mod" CGO_ENABLED=0 "${GO}" build -trimpath -ldflags "-s -w" -o "${out}.tmp" "github.com/coredns/coredns"
    fi
  ) >"$(dirname "${out}")/build.log" 2>&1 || die "building CoreDNS failed; see $(dirname "${out}")/build.log"
  mv -f "${out}.tmp" "${out}"
  is_current "${out}" || die "the built ${out} does not report CoreDNS-${COREDNS_VERSION}"
  log "built in $((SECONDS - started)) s"
}

main() {
  trap cleanup EXIT
  local out
  out="$(binary_dir)/coredns"
  if is_current "${out}"; then
    log "CoreDNS v${COREDNS_VERSION} (${COREDNS_BUILD}) already built"
  else
    build "${out}"
  fi
  echo "${out}"
}

main "$@"
