#!/usr/bin/env bash
# calicoctl for the lab's own commands (`calicoctl get ippools -o wide`,
# `calicoctl get workloadendpoints -o wide`): downloaded once into
# .lab/bin/calicoctl-<version>, checked against the SHA256SUMS file the
# Calico release publishes, or taken from LAB_CALICOCTL (air-gapped).
#
# Sourced by deploy.sh (calicoctl_provide) and verify.sh (calicoctl_path);
# callers run lab_init_defaults first. Nothing here is needed for the lab to
# work: a failure is reported and returned, never fatal.

[[ -n "${_LAB_CALICOCTL_SH:-}" ]] && return 0
_LAB_CALICOCTL_SH=1

calicoctl_defaults() {
  LAB_CALICOCTL_VERSION=${LAB_CALICOCTL_VERSION:-v3.28.5}
  LAB_CALICOCTL=${LAB_CALICOCTL:-}
  LAB_CALICOCTL_BASE_URL=${LAB_CALICOCTL_BASE_URL:-https://github.com/projectcalico/calico/releases/download/${LAB_CALICOCTL_VERSION}}
  LAB_BIN_DIR=${LAB_BIN_DIR:-$LAB_PROJECT_DIR/.lab/bin}
}

# calicoctl_asset: the release asset for this machine, e.g. calicoctl-linux-amd64.
calicoctl_asset() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) return 1 ;;
  esac
  printf 'calicoctl-%s-%s' "$os" "$arch"
}

# calicoctl_path: the calicoctl verify and the user can run, or nothing.
calicoctl_path() {
  calicoctl_defaults
  if [[ -n "$LAB_CALICOCTL" ]]; then
    [[ -x "$LAB_CALICOCTL" ]] && printf '%s' "$LAB_CALICOCTL"
  elif [[ -x "$LAB_BIN_DIR/calicoctl-${LAB_CALICOCTL_VERSION}" ]]; then
    printf '%s' "$LAB_BIN_DIR/calicoctl-${LAB_CALICOCTL_VERSION}"
  fi
  return 0
}

# calicoctl_download: fetch the asset and SHA256SUMS, install the asset only
# when its sha256 is the one SHA256SUMS lists for it.
calicoctl_download() {
  local asset tmp want got out target=$LAB_BIN_DIR/calicoctl-${LAB_CALICOCTL_VERSION}
  if ! asset=$(calicoctl_asset); then
    warn "no calicoctl release asset for $(uname -s)/$(uname -m); set LAB_CALICOCTL to a calicoctl ${LAB_CALICOCTL_VERSION} binary"
    return 1
  fi
  have curl || {
    warn "curl not found to download calicoctl; set LAB_CALICOCTL to a calicoctl ${LAB_CALICOCTL_VERSION} binary"
    return 1
  }
  tmp=$(mktemp -d)
  info "  downloading ${LAB_CALICOCTL_BASE_URL}/${asset} and SHA256SUMS"
  if ! out=$(curl -fsSL --retry 2 -o "$tmp/SHA256SUMS" "${LAB_CALICOCTL_BASE_URL}/SHA256SUMS" 2>&1) ||
    ! out=$(curl -fsSL --retry 2 -o "$tmp/$asset" "${LAB_CALICOCTL_BASE_URL}/${asset}" 2>&1); then
    warn "calicoctl download failed: ${out}"
    printf '  fix: offline? download %s/%s elsewhere, check it against %s/SHA256SUMS, and set LAB_CALICOCTL=/path/to/it\n' \
      "$LAB_CALICOCTL_BASE_URL" "$asset" "$LAB_CALICOCTL_BASE_URL" >&2
    rm -rf "$tmp"
    return 1
  fi
  # Lines are "<sha256>  <file>"; the file may carry a directory or sha256sum's binary-mode "*".
  want=$(awk -v a="$asset" '{ f = $2; sub(/^\*/, "", f); sub(/^.*\//, "", f) } f == a { print $1; exit }' "$tmp/SHA256SUMS")
  if [[ ! "$want" =~ ^[0-9a-f]{64}$ ]]; then
    warn "the release's SHA256SUMS has no checksum for ${asset}; refusing to install an unchecked calicoctl"
    rm -rf "$tmp"
    return 1
  fi
  if ! got=$(sha256_of "$tmp/$asset"); then
    warn "neither sha256sum nor shasum found to check calicoctl; set LAB_CALICOCTL to a checked binary"
    rm -rf "$tmp"
    return 1
  fi
  if [[ "$got" != "$want" ]]; then
    warn "calicoctl checksum mismatch for ${asset}: SHA256SUMS says ${want}, the download is ${got}; not installed"
    rm -rf "$tmp"
    return 1
  fi
  mkdir -p "$LAB_BIN_DIR"
  chmod +x "$tmp/$asset"
  mv "$tmp/$asset" "$target"
  rm -rf "$tmp"
  info "  calicoctl ${LAB_CALICOCTL_VERSION}: sha256 ${got} matches the release's SHA256SUMS"
}

# calicoctl_provide: make calicoctl available and say how to use it.
calicoctl_provide() {
  calicoctl_defaults
  local bin
  if [[ -n "$LAB_CALICOCTL" ]]; then
    if [[ ! -x "$LAB_CALICOCTL" ]]; then
      warn "LAB_CALICOCTL=${LAB_CALICOCTL} is not an executable file"
      return 1
    fi
    info "  calicoctl: ${LAB_CALICOCTL} (LAB_CALICOCTL)"
  elif [[ -x "$LAB_BIN_DIR/calicoctl-${LAB_CALICOCTL_VERSION}" ]]; then
    info "  calicoctl: ${LAB_BIN_DIR}/calicoctl-${LAB_CALICOCTL_VERSION} (downloaded and checked before)"
  else
    calicoctl_download || return 1
  fi
  bin=$(calicoctl_path)
  # A stable name on PATH, so the lab's commands work as written.
  if [[ "$bin" != "$LAB_BIN_DIR/calicoctl" ]]; then
    mkdir -p "$LAB_BIN_DIR"
    ln -sfn "$bin" "$LAB_BIN_DIR/calicoctl"
  fi
  info "  the lab's calicoctl commands, as written:"
  info "    export PATH=\"${LAB_BIN_DIR}:\$PATH\" DATASTORE_TYPE=kubernetes KUBECONFIG=${LAB_KUBECONFIG}"
  info "    calicoctl get ippools -o wide"
  info "    calicoctl get workloadendpoints -o wide"
}
