#!/usr/bin/env bash
# Shared helpers for deploy.sh, verify.sh and destroy.sh: logging, lab
# defaults, and reading the synthesized dist/ without yq or jq.
#
# Sourced, never executed. Callers set LAB_PROJECT_DIR before sourcing
# (default: the repository root, one level above scripts/).

# Guard against double sourcing (verify.sh is sourced by deploy tests too).
[[ -n "${_LAB_COMMON_SH:-}" ]] && return 0
_LAB_COMMON_SH=1

# macOS still ships bash 3.2; these scripts use bash 4 features.
if ((BASH_VERSINFO[0] < 4)); then
  printf 'ERROR: bash >= 4 is needed, this is %s\n  fix: brew install bash (then run the script again)\n' "$BASH_VERSION" >&2
  exit 1
fi

LAB_DEFAULT_CLUSTER_NAME=ipv6-lab
# What the caller's environment said, kept so lab_init_defaults can run again
# after deploy.sh synthesizes dist/ (the cluster name comes from dist/).
_LAB_ENV_CLUSTER_NAME=${LAB_CLUSTER_NAME:-}
_LAB_ENV_KUBECONFIG=${LAB_KUBECONFIG:-}

# --- logging -----------------------------------------------------------------
# Everything goes to stderr except verify's check lines, so callers can
# capture command output without the chatter.

info() { printf '%s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
err() { printf 'ERROR: %s\n' "$*" >&2; }

# die MESSAGE [FIX...]: print the problem and how to fix it, then exit 1.
die() {
  err "$1"
  shift
  local fix
  for fix in "$@"; do
    printf '  fix: %s\n' "$fix" >&2
  done
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# go_command: the Go toolchain to use: $GO, go on PATH, or the official
# tarball's /usr/local/go/bin/go (not on PATH in every shell); nothing if none.
go_command() {
  if [[ -n "${GO:-}" ]]; then
    printf '%s\n' "$GO"
  elif have go; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  fi
}

# fmt_duration SECONDS -> "1m05s" / "42s"
fmt_duration() {
  local s=$1
  if ((s >= 60)); then
    printf '%dm%02ds' $((s / 60)) $((s % 60))
  else
    printf '%ds' "$s"
  fi
}

# --- lab configuration ---------------------------------------------------------

# yaml_top_scalar FILE KEY: value of a top-level "KEY: value" line, unquoted.
# Enough for the kind config cdk8s writes; not a YAML parser.
yaml_top_scalar() {
  local file=$1 key=$2
  [[ -r "$file" ]] || return 0
  awk -v key="$key" '
    $0 ~ "^" key ":[[:space:]]" {
      v = $0
      sub("^" key ":[[:space:]]*", "", v)
      sub(/[[:space:]]+#.*$/, "", v)
      gsub(/^["'\'']|["'\'']$/, "", v)
      print v
      exit
    }' "$file"
}

# lab_init_defaults: the values every script shares. Each one keeps an
# existing environment value, so `LAB_X=... ./deploy.sh` overrides it.
lab_init_defaults() {
  : "${LAB_PROJECT_DIR:?LAB_PROJECT_DIR must be set before lab_init_defaults}"
  LAB_DIST_DIR=${LAB_DIST_DIR:-$LAB_PROJECT_DIR/dist}
  LAB_KIND_CONFIG=${LAB_KIND_CONFIG:-$LAB_DIST_DIR/kind/cluster.yaml}
  LAB_CLUSTER_NAME=$_LAB_ENV_CLUSTER_NAME
  if [[ -z "$LAB_CLUSTER_NAME" ]]; then
    LAB_CLUSTER_NAME=$(yaml_top_scalar "$LAB_KIND_CONFIG" name)
    LAB_CLUSTER_NAME=${LAB_CLUSTER_NAME:-$LAB_DEFAULT_CLUSTER_NAME}
  fi
  LAB_KUBECONFIG=${_LAB_ENV_KUBECONFIG:-$LAB_PROJECT_DIR/$LAB_CLUSTER_NAME.kubeconfig}
  LAB_NAMESPACE=${LAB_NAMESPACE:-default}
  LAB_DAEMONSET=${LAB_DAEMONSET:-multitool}
  LAB_POD_SELECTOR=${LAB_POD_SELECTOR:-app=multitool}
  LAB_POLL_INTERVAL=${LAB_POLL_INTERVAL:-5}
  export LAB_PROJECT_DIR LAB_DIST_DIR LAB_KIND_CONFIG LAB_CLUSTER_NAME \
    LAB_KUBECONFIG LAB_NAMESPACE LAB_DAEMONSET LAB_POD_SELECTOR LAB_POLL_INTERVAL
}

# --- dist/ manifests -------------------------------------------------------------

# dist_ippools DIR: one line per IPPool in DIR/*.k8s.yaml:
#   name<TAB>cidr<TAB>natOutgoing<TAB>vxlanMode
# Reads the block-style YAML cdk8s writes (2-space indent, "---" between
# documents) so verify needs neither yq nor jq.
dist_ippools() {
  local dir=$1
  local files=("$dir"/*.k8s.yaml)
  [[ -e "${files[0]}" ]] || return 0
  awk '
    function unq(v) { sub(/[[:space:]]+#.*$/, "", v); gsub(/^["'\'']|["'\'']$/, "", v); return v }
    function flush() {
      if (kind == "IPPool" && name != "") print name "\t" cidr "\t" nat "\t" vxlan
      kind = name = cidr = nat = vxlan = section = ""
    }
    FNR == 1 { flush() }
    /^---/ { flush(); next }
    /^[A-Za-z]/ { section = $1; sub(/:.*/, "", section) }
    /^kind:/ { kind = unq($2) }
    section == "metadata" && /^  name:/ { name = unq($2) }
    section == "spec" && /^  cidr:/ { cidr = unq($2) }
    section == "spec" && /^  natOutgoing:/ { nat = unq($2) }
    section == "spec" && /^  vxlanMode:/ { vxlan = unq($2) }
    END { flush() }
  ' "${files[@]}"
}

# --- addresses ---------------------------------------------------------------------

is_ipv6() { [[ "$1" == *:* ]]; }
is_ipv4() { [[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; }

# ipv6_expand ADDR -> 32 lowercase hex digits (no colons); fails on garbage.
ipv6_expand() {
  local addr=${1,,} head tail out="" g n i
  [[ "$addr" =~ ^[0-9a-f:]+$ ]] || return 1
  local -a hg=() tg=()
  if [[ "$addr" == *::* ]]; then
    head=${addr%%::*}
    tail=${addr#*::}
    [[ "$tail" != *::* ]] || return 1
    [[ -n "$head" ]] && IFS=: read -r -a hg <<<"$head"
    [[ -n "$tail" ]] && IFS=: read -r -a tg <<<"$tail"
    n=$((8 - ${#hg[@]} - ${#tg[@]}))
    ((n >= 1)) || return 1
  else
    IFS=: read -r -a hg <<<"$addr"
    ((${#hg[@]} == 8)) || return 1
    n=0
  fi
  for g in "${hg[@]}"; do out+=$(printf '%04x' "0x${g:-0}"); done
  for ((i = 0; i < n; i++)); do out+=0000; done
  for g in "${tg[@]}"; do out+=$(printf '%04x' "0x${g:-0}"); done
  ((${#out} == 32)) || return 1
  printf '%s' "$out"
}

ipv4_to_int() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  printf '%d' $(((a << 24) | (b << 16) | (c << 8) | d))
}

# ip_in_cidr IP CIDR: true when IP lies inside CIDR (same family only).
ip_in_cidr() {
  local ip=$1 net=${2%/*} bits=${2#*/}
  if is_ipv4 "$ip" && is_ipv4 "$net"; then
    local mask=$(((0xffffffff << (32 - bits)) & 0xffffffff))
    (($(($(ipv4_to_int "$ip") & mask)) == $(($(ipv4_to_int "$net") & mask))))
    return
  fi
  if is_ipv6 "$ip" && is_ipv6 "$net"; then
    local a b full rem
    a=$(ipv6_expand "$ip") || return 1
    b=$(ipv6_expand "$net") || return 1
    full=$((bits / 4))
    rem=$((bits % 4))
    [[ "${a:0:full}" == "${b:0:full}" ]] || return 1
    ((rem == 0)) && return 0
    local m=$(((0xf << (4 - rem)) & 0xf))
    (((0x${a:full:1} & m) == (0x${b:full:1} & m)))
    return
  fi
  return 1
}
