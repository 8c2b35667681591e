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
_LAB_ENV_DIST_DIR=${LAB_DIST_DIR:-}
# verify's expectations: environment first, then dist/, then the lab's defaults.
_LAB_EXPECTATION_VARS=(LAB_NAMESPACE LAB_POD_SELECTOR LAB_DAEMONSET LAB_SVC_DUAL_STACK LAB_SVC_IPV6_ONLY
  LAB_SVC_PORT LAB_APP_PORT LAB_IPV4_POOL LAB_IPV4_POOL_CIDR LAB_IPV4_VXLAN_MODE LAB_IPV4_BLOCK_SIZE
  LAB_IPV4_NAT_OUTGOING LAB_IPV6_POOL LAB_IPV6_POOL_CIDR LAB_IPV6_VXLAN_MODE LAB_IPV6_BLOCK_SIZE
  LAB_IPV6_NAT_OUTGOING)
declare -A _LAB_ENV_EXPECT=()
# LAB_IPV4_POOL_VXLAN_MODE etc. are accepted (and set) as aliases of
# LAB_IPV4_VXLAN_MODE etc.: shared decision 4 spells them both ways.
declare -A _LAB_EXPECT_ALIAS=(
  [LAB_IPV4_VXLAN_MODE]=LAB_IPV4_POOL_VXLAN_MODE [LAB_IPV4_BLOCK_SIZE]=LAB_IPV4_POOL_BLOCK_SIZE
  [LAB_IPV4_NAT_OUTGOING]=LAB_IPV4_POOL_NAT_OUTGOING [LAB_IPV6_VXLAN_MODE]=LAB_IPV6_POOL_VXLAN_MODE
  [LAB_IPV6_BLOCK_SIZE]=LAB_IPV6_POOL_BLOCK_SIZE [LAB_IPV6_NAT_OUTGOING]=LAB_IPV6_POOL_NAT_OUTGOING
)
for _v in "${_LAB_EXPECTATION_VARS[@]}"; do
  _a=${_LAB_EXPECT_ALIAS[$_v]:-}
  if [[ -n "${!_v:-}" ]]; then
    _LAB_ENV_EXPECT[$_v]=${!_v}
  elif [[ -n "$_a" && -n "${!_a:-}" ]]; then
    _LAB_ENV_EXPECT[$_v]=${!_a}
  fi
done
unset _v _a
# The lab's defaults (lib/lab-config.ts), used when dist/ has no such object.
declare -A LAB_EXPECT_DEFAULTS=(
  [LAB_NAMESPACE]=default [LAB_POD_SELECTOR]=app=multitool [LAB_DAEMONSET]=multitool
  [LAB_SVC_DUAL_STACK]=multitool-dual-stack [LAB_SVC_IPV6_ONLY]=multitool-ipv6-only
  [LAB_SVC_PORT]=80 [LAB_APP_PORT]=8080
  [LAB_IPV4_POOL]=default-ipv4-ippool [LAB_IPV4_POOL_CIDR]=192.168.0.0/16 [LAB_IPV4_VXLAN_MODE]=CrossSubnet
  [LAB_IPV4_BLOCK_SIZE]=26 [LAB_IPV4_NAT_OUTGOING]=true
  [LAB_IPV6_POOL]=default-ipv6-ippool [LAB_IPV6_POOL_CIDR]=fd00:10:244::/48 [LAB_IPV6_VXLAN_MODE]=Always
  [LAB_IPV6_BLOCK_SIZE]=122 [LAB_IPV6_NAT_OUTGOING]=true
)

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

# sha256_of FILE: the hex digest (sha256sum on Linux, shasum on macOS);
# fails, saying nothing, when neither is installed: the caller names the fix.
sha256_of() {
  if have sha256sum; then
    sha256sum "$1" | awk '{ print $1 }'
  elif have shasum; then
    shasum -a 256 "$1" | awk '{ print $1 }'
  else
    return 1
  fi
}

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

# lab_config_in_effect: true when synth reads a configuration file: LAB_CONFIG
# names one other than /dev/null, or (LAB_CONFIG unset) ./lab.config.yaml
# exists. lib/synth.ts's configFileInEffect applies the same rule.
lab_config_in_effect() {
  if [[ -n "${LAB_CONFIG:-}" ]]; then
    [[ "$LAB_CONFIG" != /dev/null ]]
  else
    [[ -e "$LAB_PROJECT_DIR/lab.config.yaml" ]]
  fi
}

# lab_default_dist_dir: where synth publishes without LAB_DIST_DIR: the
# git-ignored .lab/dist for a customized lab, the committed dist/ (the lab's
# defaults) otherwise.
lab_default_dist_dir() {
  if lab_config_in_effect; then
    printf '%s\n' "$LAB_PROJECT_DIR/.lab/dist"
  else
    printf '%s\n' "$LAB_PROJECT_DIR/dist"
  fi
}

# lab_dist_dir_is_custom: true when the caller's LAB_DIST_DIR points away from
# where synth publishes (it is then the caller's to keep up to date).
lab_dist_dir_is_custom() {
  [[ -n "$_LAB_ENV_DIST_DIR" && "$_LAB_ENV_DIST_DIR" != "$(lab_default_dist_dir)" ]]
}

# lab_init_defaults: the values every script shares. Each one keeps an
# existing environment value, so `LAB_X=... ./deploy.sh` overrides it.
lab_init_defaults() {
  : "${LAB_PROJECT_DIR:?LAB_PROJECT_DIR must be set before lab_init_defaults}"
  LAB_DIST_DIR=${_LAB_ENV_DIST_DIR:-$(lab_default_dist_dir)}
  LAB_KIND_CONFIG=${LAB_KIND_CONFIG:-$LAB_DIST_DIR/kind/cluster.yaml}
  LAB_CLUSTER_NAME=$_LAB_ENV_CLUSTER_NAME
  if [[ -z "$LAB_CLUSTER_NAME" ]]; then
    LAB_CLUSTER_NAME=$(yaml_top_scalar "$LAB_KIND_CONFIG" name)
    LAB_CLUSTER_NAME=${LAB_CLUSTER_NAME:-$LAB_DEFAULT_CLUSTER_NAME}
  fi
  LAB_KUBECONFIG=${_LAB_ENV_KUBECONFIG:-$LAB_PROJECT_DIR/$LAB_CLUSTER_NAME.kubeconfig}
  lab_init_expectations
  LAB_POLL_INTERVAL=${LAB_POLL_INTERVAL:-5}
  export LAB_PROJECT_DIR LAB_DIST_DIR LAB_KIND_CONFIG LAB_CLUSTER_NAME LAB_EXPECTATIONS_FROM \
    LAB_KUBECONFIG LAB_NAMESPACE LAB_DAEMONSET LAB_POD_SELECTOR LAB_POLL_INTERVAL
}

# lab_init_expectations: sets every _LAB_EXPECTATION_VARS variable from the
# caller's environment, else $LAB_DIST_DIR's IPPools, Services and DaemonSet,
# else LAB_EXPECT_DEFAULTS. LAB_EXPECTATIONS_FROM names the source per variable
# group, for the scripts' banners.
lab_init_expectations() {
  local -A found=()
  local name cidr nat vxlan block fam ns families port target selector cport v
  while IFS=$'\t' read -r name cidr nat vxlan block; do
    [[ -n "$cidr" ]] || continue
    fam=IPV4
    is_ipv6 "$cidr" && fam=IPV6
    found[LAB_${fam}_POOL]=$name found[LAB_${fam}_POOL_CIDR]=$cidr found[LAB_${fam}_VXLAN_MODE]=$vxlan
    found[LAB_${fam}_BLOCK_SIZE]=$block found[LAB_${fam}_NAT_OUTGOING]=$nat
  done < <(dist_ippools "$LAB_DIST_DIR")
  while IFS=$'\t' read -r name ns cport selector; do
    found[LAB_DAEMONSET]=$name found[LAB_NAMESPACE]=$ns found[LAB_POD_SELECTOR]=$selector
    found[LAB_APP_PORT]=$cport
  done < <(dist_daemonsets "$LAB_DIST_DIR" | head -n 1 | awk -F'\t' -v OFS='\t' '{ print $1, $2, $4, $3 }')
  while IFS=$'\t' read -r name ns families port target selector; do
    case "$families" in
      "IPv6") found[LAB_SVC_IPV6_ONLY]=$name ;;
      *IPv4*IPv6* | *IPv6*IPv4*) found[LAB_SVC_DUAL_STACK]=$name ;;
      *) continue ;;
    esac
    found[LAB_SVC_PORT]=$port found[LAB_NAMESPACE]=$ns found[LAB_POD_SELECTOR]=$selector
    # A named targetPort is the DaemonSet's containerPort, read above.
    [[ ! "$target" =~ ^[0-9]+$ ]] || found[LAB_APP_PORT]=$target
  done < <(dist_services "$LAB_DIST_DIR")
  LAB_EXPECTATIONS_FROM=defaults
  ((${#found[@]} == 0)) || LAB_EXPECTATIONS_FROM=$LAB_DIST_DIR
  for v in "${_LAB_EXPECTATION_VARS[@]}"; do
    printf -v "$v" '%s' "${_LAB_ENV_EXPECT[$v]:-${found[$v]:-${LAB_EXPECT_DEFAULTS[$v]}}}"
    # shellcheck disable=SC2163 # exports the variable named by $v
    export "$v"
    if [[ -n "${_LAB_EXPECT_ALIAS[$v]:-}" ]]; then
      printf -v "${_LAB_EXPECT_ALIAS[$v]}" '%s' "${!v}"
      export "${_LAB_EXPECT_ALIAS[$v]?}"
    fi
  done
}

# lab_use_exported_kubeconfig: for the scripts that only read the cluster
# (verify, explain): an exported KUBECONFIG names the cluster to check, as
# the lab's own instructions say (`export KUBECONFIG=...`); LAB_KUBECONFIG
# still wins. deploy and destroy keep the lab's own file.
lab_use_exported_kubeconfig() {
  if [[ -z "$_LAB_ENV_KUBECONFIG" && -n "${KUBECONFIG:-}" ]]; then
    LAB_KUBECONFIG=$KUBECONFIG
  fi
}

# kubeconfig_readable PATHS: KUBECONFIG may list files, ':'-separated; one readable is enough.
kubeconfig_readable() {
  local f
  local -a files
  IFS=: read -r -a files <<<"$1"
  for f in "${files[@]}"; do
    [[ ! -r "$f" ]] || return 0
  done
  return 1
}

# --- dist/ manifests -------------------------------------------------------------

# yaml_flatten FILE...: one line per scalar of the block-style YAML cdk8s
# writes (2-space indent, lists indented under their key, "---" between
# documents): doc<TAB>path<TAB>value, doc counting documents across FILEs
# from 1, path dotted with list indexes (spec.ports.0.port). Block scalars
# (|, >) are skipped. Not a YAML parser: enough for dist/ without yq or jq.
yaml_flatten() {
  awk '
    function unq(v) { sub(/[[:space:]]+#.*$/, "", v); gsub(/^["\047]|["\047]$/, "", v); return v }
    function pop(i) { while (n > 0 && ind[n] >= i) n-- }
    function top() { return n > 0 ? pth[n] : "" }
    function join(a, b) { return a == "" ? b : a "." b }
    # entry TEXT INDENT: a "key: value", "key:" or scalar item at INDENT.
    function entry(c, i,   key, val, parent) {
      if (c !~ /^[^ ]+:( |$)/) { return 0 }
      key = c; sub(/:.*/, "", key); key = unq(key)
      val = c; sub(/^[^ ]+:[[:space:]]*/, "", val)
      if (val ~ /^[|>]/) { skip = i; return 1 }
      if (val == "") { parent = top(); n++; ind[n] = i; pth[n] = join(parent, key); return 1 }
      print doc "\t" join(top(), key) "\t" unq(val)
      return 1
    }
    BEGIN { doc = 1; skip = -1 }
    FNR == 1 && NR > 1 { doc++; n = 0; skip = -1 }
    /^---/ { doc++; n = 0; skip = -1; next }
    /^[[:space:]]*(#.*)?$/ { next }
    {
      match($0, /^ */); i = RLENGTH; c = substr($0, i + 1)
      if (skip >= 0 && i > skip) next
      skip = -1
      if (c ~ /^- /) {
        pop(i)
        parent = top(); idx = cnt[doc, parent]++
        n++; ind[n] = i; pth[n] = join(parent, idx)
        c = substr(c, 3)
        if (!entry(c, i + 2)) print doc "\t" pth[n] "\t" unq(c)
        next
      }
      pop(i)
      entry(c, i)
    }
  ' "$@"
}

# dist_files DIR: the manifests of a dist dir (none when it has none).
dist_files() {
  local files=("$1"/*.k8s.yaml)
  [[ -e "${files[0]}" ]] || return 0
  printf '%s\n' "${files[@]}"
}

# dist_objects DIR KIND FIELDS...: one line per KIND object in DIR's
# manifests, FIELDS (dotted paths; "a.*" = every key under a, as k=v,k=v; a
# path naming a list = its values space-separated) TAB-separated.
dist_objects() {
  local dir=$1 kind=$2
  shift 2
  local -a files
  mapfile -t files < <(dist_files "$dir")
  ((${#files[@]} > 0)) || return 0
  yaml_flatten "${files[@]}" | awk -F'\t' -v kind="$kind" -v fields="$*" '
    BEGIN { nf = split(fields, f, " ") }
    function emit(   k, i, p, v, out, key) {
      if (cur == "" || val[cur, "kind"] != kind) return
      out = ""
      for (k = 1; k <= nf; k++) {
        v = ""
        if (f[k] ~ /\.\*$/) {
          p = substr(f[k], 1, length(f[k]) - 1)
          for (i = 1; i <= cntk[cur]; i++) {
            key = keys[cur, i]
            if (index(key, p) == 1 && substr(key, length(p) + 1) !~ /\./)
              v = v (v == "" ? "" : ",") substr(key, length(p) + 1) "=" val[cur, key]
          }
        } else if ((cur, f[k]) in val) {
          v = val[cur, f[k]]
        } else {
          for (i = 0; (cur, f[k] "." i) in val; i++) v = v (i ? " " : "") val[cur, f[k] "." i]
        }
        out = out (k > 1 ? "\t" : "") v
      }
      print out
    }
    $1 != cur { emit(); cur = $1 }
    { val[$1, $2] = $3; keys[$1, ++cntk[$1]] = $2 }
    END { emit() }
  '
}

# dist_ippools DIR: one line per IPPool in DIR/*.k8s.yaml:
#   name<TAB>cidr<TAB>natOutgoing<TAB>vxlanMode<TAB>blockSize
dist_ippools() {
  dist_objects "$1" IPPool metadata.name spec.cidr spec.natOutgoing spec.vxlanMode spec.blockSize
}

# dist_services DIR: one line per Service:
#   name<TAB>namespace<TAB>ipFamilies<TAB>port<TAB>targetPort<TAB>selector (k=v,k=v)
dist_services() {
  dist_objects "$1" Service metadata.name metadata.namespace spec.ipFamilies \
    spec.ports.0.port spec.ports.0.targetPort 'spec.selector.*'
}

# dist_daemonsets DIR: one line per DaemonSet:
#   name<TAB>namespace<TAB>selector (k=v,k=v)<TAB>first containerPort
dist_daemonsets() {
  dist_objects "$1" DaemonSet metadata.name metadata.namespace 'spec.selector.matchLabels.*' \
    spec.template.spec.containers.0.ports.0.containerPort
}

# kind_config_node_count FILE: how many nodes the kind config asks for.
kind_config_node_count() {
  [[ -r "$1" ]] || return 0
  yaml_flatten "$1" | awk -F'\t' '$2 ~ /^nodes\.[0-9]+\.role$/ { n++ } END { print n + 0 }'
}

# kind_config_value FILE PATH: one scalar of the kind config (dotted path,
# e.g. networking.podSubnet or nodes.0.image); nothing when absent.
kind_config_value() {
  [[ -r "$1" ]] || return 0
  yaml_flatten "$1" | awk -F'\t' -v p="$2" '$2 == p { print $3; exit }'
}

# kind_config_node_image FILE: the image the kind config pins for its first node.
kind_config_node_image() { kind_config_value "$1" nodes.0.image; }

# --- addresses ---------------------------------------------------------------------

is_ipv6() { [[ "$1" == *:* ]]; }
is_ipv4() { [[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; }

# split_families "IP IP...": sets V4 and V6 arrays.
split_families() {
  local ip
  V4=()
  V6=()
  for ip in $1; do
    if is_ipv6 "$ip"; then V6+=("$ip"); else V4+=("$ip"); fi
  done
}

# vxlan_local DETAILS: the "local" address of `ip -d link show` output of a VXLAN device.
vxlan_local() { sed -n 's/.*vxlan id [0-9]* local \([^ ]*\).*/\1/p' <<<"$1" | head -n 1; }

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
