#!/usr/bin/env bash
# crane.sh - find or build crane (github.com/google/go-containerregistry), the
# registry client scripts/pin-multitool-image.sh and its tests use.
#
# Sourced, never executed; needs info/die/go_command from scripts/lib/common.sh.
# ensure_crane sets CRANE to, in order: $CRANE, crane on PATH, the cached
# pinned build, or a fresh pinned build from the Go module proxy into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/calico-ipv6-lab/tools/crane-<CRANE_VERSION>/

[[ -n "${_LAB_CRANE_SH:-}" ]] && return 0
_LAB_CRANE_SH=1

CRANE_VERSION=${CRANE_VERSION:-v0.22.1}
CRANE_BUILD_TIMEOUT=${CRANE_BUILD_TIMEOUT:-600}

crane_cache_dir() {
  printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/calico-ipv6-lab/tools/crane-${CRANE_VERSION}"
}

# build_crane DIR: go install the pinned crane into DIR, atomically (a killed
# build never leaves a half-written binary behind to be trusted next time).
build_crane() {
  local dir=$1 go staging
  go=$(go_command)
  [[ -n "$go" ]] || die "crane is not installed and there is no Go toolchain to build it" \
    "install crane: https://github.com/google/go-containerregistry/tree/main/cmd/crane" \
    "or install Go (https://go.dev/dl/), or point CRANE at a crane binary"
  mkdir -p "$dir"
  staging=$(mktemp -d "$dir/.build.XXXXXX")
  info "building crane ${CRANE_VERSION} from the Go module proxy (once; cached in $dir)"
  if ! GOBIN="$staging" GOFLAGS=-mod=mod timeout "$CRANE_BUILD_TIMEOUT" \
    "$go" install "github.com/google/go-containerregistry/cmd/crane@${CRANE_VERSION}" >&2; then
    rm -rf "$staging"
    die "building crane ${CRANE_VERSION} failed or took over ${CRANE_BUILD_TIMEOUT}s" \
      "check that the Go module proxy ($("$go" env GOPROXY)) is reachable, or set CRANE"
  fi
  mv "$staging/crane" "$dir/crane"
  rm -rf "$staging"
}

ensure_crane() {
  if [[ -n "${CRANE:-}" ]]; then
    [[ -x "$CRANE" ]] || die "CRANE=$CRANE is not an executable file" "unset CRANE to use crane from PATH or a pinned build"
    return 0
  fi
  if have crane; then
    CRANE=$(command -v crane)
    return 0
  fi
  local dir
  dir=$(crane_cache_dir)
  [[ -x "$dir/crane" ]] || build_crane "$dir"
  CRANE=$dir/crane
}
