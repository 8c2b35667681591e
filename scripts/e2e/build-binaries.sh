#!/usr/bin/env bash
# build-binaries.sh - build the envtest control-plane binaries (etcd and
# kube-apiserver) from Go modules, for scripts/e2e/run.sh.
#
# Usage:
#   scripts/e2e/build-binaries.sh          # build (or reuse) and print the dir
#
# The binaries go to a cache outside the repo, so later runs (and CI runs on the
# same machine) reuse them:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/calico-ipv6-lab/envtest/<K8S_VERSION>/
# The last line printed on stdout is that directory; everything else goes to
# stderr. Use it as KUBEBUILDER_ASSETS for run.sh.
#
# kube-apiserver: k8s.io/kubernetes/cmd/kube-apiserver at K8S_VERSION, built in
# a throw-away module whose replace directives pin every k8s.io staging module
# (listed in k8s.io/kubernetes's go.mod as v0.0.0 => ./staging/...) to the
# matching v0.<minor>.<patch> tag.
# etcd: go.etcd.io/etcd/server/v3 at ETCD_VERSION (the etcd main package).
#
# Environment (defaults in brackets):
#   K8S_VERSION        Kubernetes release to build      [1.28.15]
#   ETCD_VERSION       etcd release to build            [3.5.17]
#   E2E_CACHE_DIR      output directory                 [see above]
#   GO                 go command                       [go on PATH, else /usr/local/go/bin/go]
#   E2E_BUILD_JOBS     go build -p                      [nproc]
#   E2E_FORCE_REBUILD  rebuild even if cached (true)    [false]
set -euo pipefail

# go_command; this script's own log/die below keep their "build-binaries:" prefix.
# shellcheck source=scripts/lib/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib/common.sh"

K8S_VERSION="${K8S_VERSION:-1.28.15}"
ETCD_VERSION="${ETCD_VERSION:-3.5.17}"
E2E_CACHE_DIR="${E2E_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/calico-ipv6-lab/envtest/${K8S_VERSION}}"
E2E_BUILD_JOBS="${E2E_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
E2E_FORCE_REBUILD="${E2E_FORCE_REBUILD:-false}"
GO="${GO:-}"

WORK_DIR=""

log() {
  echo "build-binaries: $*" >&2
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

find_go() {
  GO=$(go_command)
  [[ -n "${GO}" ]] || die "no Go toolchain found (set GO=/path/to/go)"
  log "using $("${GO}" version)"
}

# version_of BINARY: its --version output (captured whole: no SIGPIPE races).
version_of() {
  [[ -x "$1" ]] && "$1" --version 2>/dev/null
}

# apiserver_is_current: true if the cached kube-apiserver reports K8S_VERSION.
apiserver_is_current() {
  local out
  out="$(version_of "${E2E_CACHE_DIR}/kube-apiserver")" || return 1
  [[ "${out}" == "Kubernetes v${K8S_VERSION}" ]]
}

etcd_is_current() {
  local out
  out="$(version_of "${E2E_CACHE_DIR}/etcd")" || return 1
  [[ $'\n'"${out}"$'\n' == *$'\n'"etcd Version: ${ETCD_VERSION}"$'\n'* ]]
}

# write_apiserver_module DIR: a module that requires k8s.io/kubernetes and pins
# each staging module it replaces with ./staging/src/... to v0.<minor>.<patch>.
write_apiserver_module() {
  local dir="$1" gomod staging_version="v0.${K8S_VERSION#*.}"
  (cd "${dir}" && "${GO}" mod init calico-ipv6-lab.local/envtest-build >/dev/null 2>&1)
  gomod="$(cd "${dir}" && "${GO}" mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [[ -f "${gomod}" ]] || die "could not download go.mod of k8s.io/kubernetes@v${K8S_VERSION}"

  local modules
  modules="$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "${gomod}" | sort -u)"
  [[ -n "${modules}" ]] || die "no staging replace directives found in ${gomod}"

  {
    echo "module calico-ipv6-lab.local/envtest-build"
    echo
    # An old go line keeps the GODEBUG defaults close to what Kubernetes
    # ${K8S_VERSION} was released with; go get raises it if a dependency needs it.
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "${gomod}")"
    echo
    echo "require k8s.io/kubernetes v${K8S_VERSION}"
    echo
    echo "replace ("
    local m
    for m in ${modules}; do
      echo "	${m} => ${m} ${staging_version}"
    done
    echo ")"
  } >"${dir}/go.mod"
  log "pinned $(wc -w <<<"${modules}") staging modules to ${staging_version}"
}

build_apiserver() {
  if [[ "${E2E_FORCE_REBUILD}" != "true" ]] && apiserver_is_current; then
    log "kube-apiserver v${K8S_VERSION} already built"
    return 0
  fi
  local dir="${WORK_DIR}/apiserver" minor="${K8S_VERSION#*.}"
  minor="${minor%%.*}"
  mkdir -p "${dir}"
  write_apiserver_module "${dir}"
  log "resolving k8s.io/kubernetes/cmd/kube-apiserver@v${K8S_VERSION}"
  (cd "${dir}" && "${GO}" get "k8s.io/kubernetes/cmd/kube-apiserver@v${K8S_VERSION}" >&2)

  local pkg=k8s.io/component-base/version ldflags
  ldflags="-s -w"
  ldflags+=" -X ${pkg}.gitVersion=v${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
  ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=v${K8S_VERSION}"
  log "building kube-apiserver v${K8S_VERSION} (slow: ~10+ minutes on 2 cores)"
  (cd "${dir}" && GOFLAGS="${GOFLAGS:+${GOFLAGS} }-mod=mod" CGO_ENABLED=0 "${GO}" build -trimpath -p "${E2E_BUILD_JOBS}" \
    -ldflags "${ldflags}" -o "${E2E_CACHE_DIR}/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
  mv -f "${E2E_CACHE_DIR}/kube-apiserver.tmp" "${E2E_CACHE_DIR}/kube-apiserver"
  apiserver_is_current || die "built kube-apiserver does not report v${K8S_VERSION}"
}

build_etcd() {
  if [[ "${E2E_FORCE_REBUILD}" != "true" ]] && etcd_is_current; then
    log "etcd v${ETCD_VERSION} already built"
    return 0
  fi
  local dir="${WORK_DIR}/etcd"
  mkdir -p "${dir}"
  (cd "${dir}" && "${GO}" mod init calico-ipv6-lab.local/etcd-build >/dev/null 2>&1)
  log "resolving go.etcd.io/etcd/server/v3@v${ETCD_VERSION}"
  (cd "${dir}" && "${GO}" get "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}" >&2)
  log "building etcd v${ETCD_VERSION}"
  (cd "${dir}" && GOFLAGS="${GOFLAGS:+${GOFLAGS} }-mod=mod" CGO_ENABLED=0 "${GO}" build -trimpath -p "${E2E_BUILD_JOBS}" \
    -ldflags "-s -w" -o "${E2E_CACHE_DIR}/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv -f "${E2E_CACHE_DIR}/etcd.tmp" "${E2E_CACHE_DIR}/etcd"
  etcd_is_current || die "built etcd does not report ${ETCD_VERSION}"
}

main() {
  trap cleanup EXIT
  mkdir -p "${E2E_CACHE_DIR}"
  if ! { [[ "${E2E_FORCE_REBUILD}" != "true" ]] && apiserver_is_current && etcd_is_current; }; then
    find_go
    WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/calico-ipv6-lab-envtest-build.XXXXXX")"
    build_etcd
    build_apiserver
  fi
  local etcd_version
  etcd_version="$(version_of "${E2E_CACHE_DIR}/etcd")"
  log "kube-apiserver: $(version_of "${E2E_CACHE_DIR}/kube-apiserver")"
  log "etcd: ${etcd_version%%$'\n'*}"
  log "binaries are in ${E2E_CACHE_DIR} (use as KUBEBUILDER_ASSETS)"
  echo "${E2E_CACHE_DIR}"
}

main "$@"
