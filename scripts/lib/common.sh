#!/usr/bin/env bash
# Shared helpers for deploy.sh, verify.sh, explain.sh and destroy.sh: logging,
# where the lab's dist directory is, and the lab's facts: what synth wrote to
# <dist>/lab/facts.json, read once per run by scripts/lab-facts.js into the
# associative array LAB_FACTS (accessors: fact, fact_count, fact_has,
# fact_find; docs/scripts.md). No script reads the YAML manifests.
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

# Where synth writes the facts, relative to the dist directory (lib/lab-facts.ts FACTS_FILE),
# and their reader, beside this file's directory.
LAB_FACTS_PATH=lab/facts.json
_LAB_FACTS_READER=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lab-facts.js
# What the caller's environment said, kept so lab_init_defaults can run again
# after deploy.sh synthesizes dist/ (the cluster name comes from the facts).
_LAB_ENV_CLUSTER_NAME=${LAB_CLUSTER_NAME:-}
_LAB_ENV_KUBECONFIG=${LAB_KUBECONFIG:-}
_LAB_ENV_DIST_DIR=${LAB_DIST_DIR:-}
_LAB_ENV_KIND_CONFIG=${LAB_KIND_CONFIG:-}
# verify's expectations: the environment first, then the facts.
_LAB_EXPECTATION_VARS=(LAB_NAMESPACE LAB_POD_SELECTOR LAB_DAEMONSET LAB_SVC_DUAL_STACK LAB_SVC_IPV6_ONLY
  LAB_SVC_PORT LAB_APP_PORT LAB_IPV4_POOL LAB_IPV4_POOL_CIDR LAB_IPV4_VXLAN_MODE LAB_IPV4_BLOCK_SIZE
  LAB_IPV4_NAT_OUTGOING LAB_IPV6_POOL LAB_IPV6_POOL_CIDR LAB_IPV6_VXLAN_MODE LAB_IPV6_BLOCK_SIZE
  LAB_IPV6_NAT_OUTGOING)
declare -gA _LAB_ENV_EXPECT=()
# LAB_IPV4_POOL_VXLAN_MODE etc. are accepted (and set) as aliases of
# LAB_IPV4_VXLAN_MODE etc.: shared decision 4 spells them both ways.
declare -gA _LAB_EXPECT_ALIAS=(
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
declare -gA LAB_FACTS=()
LAB_FACTS_LOADED=""
LAB_NODES=()

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

# die_listing HEADLINE LINES MESSAGE [FIX...]: the headline, each of LINES (one per line) as a
# bullet, then die MESSAGE FIX...: a refusal that names every difference it found.
die_listing() {
  local line
  err "$1"
  while IFS= read -r line; do
    printf '  - %s\n' "$line" >&2
  done <<<"$2"
  shift 2
  die "$@"
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

# run_within SECONDS SETTING WHAT FIX CMD...: CMD in the background, bounded by
# SECONDS (the value of the setting SETTING, which the timeout's fix says to
# raise); dies with CMD's last lines and FIX when it fails or runs out of time.
# Its output is left in RUN_OUT.
run_within() {
  local secs=$1 setting=$2 what=$3 fix=$4 log pid rc=0 deadline
  shift 4
  deadline=$((SECONDS + secs))
  log=$(mktemp)
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$log"
      die "${what} did not finish within ${secs}s" "${fix}, or raise ${setting}, then ./deploy.sh again"
    fi
    sleep 1
  done
  wait "$pid" || rc=$?
  RUN_OUT=$(cat "$log")
  rm -f "$log"
  if ((rc != 0)); then
    printf '%s\n' "$RUN_OUT" | tail -n 8 | sed 's/^/    /' >&2
    die "${what} failed (output above)" "$fix"
  fi
}

# docker_pull_within IMAGE SECONDS SETTING FIX: IMAGE on the host's Docker,
# pulled when missing within SECONDS (see run_within).
docker_pull_within() {
  docker image inspect "$1" >/dev/null 2>&1 && return 0
  info "  docker pull $1   (up to $2s)"
  run_within "$2" "$3" "docker pull $1" "$4" docker pull "$1"
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

# lab_init_defaults: the values every script shares, from the lab's facts
# (when $LAB_DIST_DIR has them; lab_require_facts insists). Each one keeps an
# existing environment value, so `LAB_X=... ./deploy.sh` overrides it.
lab_init_defaults() {
  : "${LAB_PROJECT_DIR:?LAB_PROJECT_DIR must be set before lab_init_defaults}"
  LAB_DIST_DIR=${_LAB_ENV_DIST_DIR:-$(lab_default_dist_dir)}
  LAB_FACTS_FILE=$LAB_DIST_DIR/$LAB_FACTS_PATH
  lab_load_facts || true
  LAB_KIND_CONFIG=${_LAB_ENV_KIND_CONFIG:-$LAB_DIST_DIR/$(fact_or cluster.kindConfig kind/cluster.yaml)}
  LAB_CLUSTER_NAME=${_LAB_ENV_CLUSTER_NAME:-$(fact name)}
  # Without facts (nothing synthesized yet) the name is unknown: lab_require_facts stops before use.
  LAB_KUBECONFIG=${_LAB_ENV_KUBECONFIG:-$LAB_PROJECT_DIR/${LAB_CLUSTER_NAME:-<cluster name>}.kubeconfig}
  local i
  LAB_NODES=()
  for ((i = 0; i < $(fact_count cluster.nodes); i++)); do
    LAB_NODES+=("$(lab_rebase_name "$(fact "cluster.nodes.$i.name")")")
  done
  lab_init_expectations
  LAB_POLL_INTERVAL=${LAB_POLL_INTERVAL:-5}
  export LAB_PROJECT_DIR LAB_DIST_DIR LAB_FACTS_FILE LAB_KIND_CONFIG LAB_CLUSTER_NAME LAB_EXPECTATIONS_FROM \
    LAB_KUBECONFIG LAB_NAMESPACE LAB_DAEMONSET LAB_POD_SELECTOR LAB_POLL_INTERVAL
}

# lab_init_expectations: sets every _LAB_EXPECTATION_VARS variable from the
# caller's environment, else the facts (empty without facts).
# LAB_EXPECTATIONS_FROM names the facts file, for the scripts' banners.
lab_init_expectations() {
  local -A found=()
  local i fam families v
  found[LAB_DAEMONSET]=$(fact workload.daemonSet.name)
  found[LAB_NAMESPACE]=$(fact workload.daemonSet.namespace)
  found[LAB_POD_SELECTOR]=$(fact workload.daemonSet.selector)
  found[LAB_APP_PORT]=$(fact workload.daemonSet.port)
  for ((i = 0; i < $(fact_count workload.services); i++)); do
    families=$(fact_list "workload.services.$i.ipFamilies")
    case "$families" in
      IPv6) found[LAB_SVC_IPV6_ONLY]=${found[LAB_SVC_IPV6_ONLY]:-$(fact "workload.services.$i.name")} ;;
      "IPv4 IPv6" | "IPv6 IPv4") found[LAB_SVC_DUAL_STACK]=${found[LAB_SVC_DUAL_STACK]:-$(fact "workload.services.$i.name")} ;;
    esac
    found[LAB_SVC_PORT]=${found[LAB_SVC_PORT]:-$(fact "workload.services.$i.port")}
  done
  for ((i = 0; i < $(fact_count calico.pools); i++)); do
    fam=$(fact "calico.pools.$i.family")
    fam=${fam^^}
    found[LAB_${fam}_POOL]=$(fact "calico.pools.$i.name")
    found[LAB_${fam}_POOL_CIDR]=$(fact "calico.pools.$i.cidr")
    found[LAB_${fam}_VXLAN_MODE]=$(fact "calico.pools.$i.vxlanMode")
    found[LAB_${fam}_BLOCK_SIZE]=$(fact "calico.pools.$i.blockSize")
    found[LAB_${fam}_NAT_OUTGOING]=$(fact "calico.pools.$i.natOutgoing")
  done
  LAB_EXPECTATIONS_FROM=${LAB_FACTS_LOADED:-"nothing (no ${LAB_FACTS_FILE})"}
  for v in "${_LAB_EXPECTATION_VARS[@]}"; do
    printf -v "$v" '%s' "${_LAB_ENV_EXPECT[$v]:-${found[$v]:-}}"
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

# --- the lab's facts ---------------------------------------------------------------

# lab_load_facts: LAB_FACTS from $LAB_FACTS_FILE, with one node call
# (scripts/lab-facts.js), unless already read from that file. Returns 1,
# leaving LAB_FACTS empty, when the file does not exist; dies when it exists
# but cannot be read.
lab_load_facts() {
  [[ "$LAB_FACTS_LOADED" != "$LAB_FACTS_FILE" || -z "$LAB_FACTS_LOADED" ]] || return 0
  LAB_FACTS=()
  LAB_FACTS_LOADED=""
  [[ -f "$LAB_FACTS_FILE" ]] || return 1
  have node || die "node not found on PATH: the scripts read the lab's facts (${LAB_FACTS_FILE}) with Node.js" \
    "install Node.js >= 20 (https://nodejs.org/), as for the synth"
  local out
  out=$(node "$_LAB_FACTS_READER" "$LAB_FACTS_FILE" 2>&1) ||
    die "$out" "$(lab_synth_command)   (writes ${LAB_FACTS_FILE} again)"
  eval "$out"
  LAB_FACTS_LOADED=$LAB_FACTS_FILE
}

# lab_facts_reload: read the facts again (after a synth rewrote them).
lab_facts_reload() { LAB_FACTS_LOADED=""; }

# lab_synth_command: the command that writes $LAB_DIST_DIR.
lab_synth_command() {
  if lab_dist_dir_is_custom; then
    printf 'LAB_DIST_DIR=%s npm run synth' "$LAB_DIST_DIR"
  else
    printf 'npm run synth'
  fi
}

# lab_require_facts: die, saying which file is missing and what writes it,
# when $LAB_DIST_DIR has no facts (a hand-made LAB_DIST_DIR, a dist
# synthesized before synth wrote facts).
lab_require_facts() {
  [[ -z "$LAB_FACTS_LOADED" ]] || return 0
  die "no lab facts: ${LAB_FACTS_FILE} does not exist; the scripts take the lab's names, nodes, pools, ports and Services from it (synth writes it beside the manifests)" \
    "$(lab_synth_command)   (then run this again)"
}

# fact KEY: the value at KEY (a dotted path: name, cluster.nodes.1.name,
# calico.pools.0.cidr, families.0); nothing when absent.
fact() { printf '%s' "${LAB_FACTS[$1]-}"; }

# fact_or KEY DEFAULT: the value at KEY, else DEFAULT.
fact_or() { printf '%s' "${LAB_FACTS[$1]-$2}"; }

# fact_count KEY: the length of the list at KEY (0 when absent).
fact_count() { printf '%s' "${LAB_FACTS[$1.length]:-0}"; }

# fact_list KEY: the items of the list of scalars at KEY, space-separated.
fact_list() {
  local i items=()
  for ((i = 0; i < $(fact_count "$1"); i++)); do items+=("${LAB_FACTS[$1.$i]-}"); done
  printf '%s' "${items[*]}"
}

# fact_has KEY: true when KEY is a value, a list or a section of the facts
# (a variant's scripts test their section with it).
fact_has() {
  local k
  [[ -n "${LAB_FACTS[$1]+x}" ]] && return 0
  for k in "${!LAB_FACTS[@]}"; do
    [[ "$k" != "$1".* ]] || return 0
  done
  return 1
}

# fact_find LIST FIELD VALUE: the index of the first item of LIST whose FIELD
# is VALUE (fact_find calico.pools family IPv6 -> 1); fails when none is.
fact_find() {
  local i
  for ((i = 0; i < $(fact_count "$1"); i++)); do
    [[ "${LAB_FACTS[$1.$i.$2]-}" != "$3" ]] || { printf '%s' "$i"; return 0; }
  done
  return 1
}

# lab_rebase_name NAME: NAME (a node or container named after the lab, as
# the facts have it) for the cluster LAB_CLUSTER_NAME: kind names nodes after
# the --name deploy gives it, which LAB_CLUSTER_NAME may override.
lab_rebase_name() {
  local base
  base=$(fact name)
  if [[ -n "$base" && "$1" == "$base"-* && -n "${LAB_CLUSTER_NAME:-}" ]]; then
    printf '%s' "${LAB_CLUSTER_NAME}${1#"$base"}"
  else
    printf '%s' "$1"
  fi
}

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

# --- calico-node ------------------------------------------------------------------------------

# calico_node_pod NODE: the calico-node pod on NODE (its network is the node's);
# on failure, kubectl's answer or what is missing.
calico_node_pod() {
  local pod
  pod=$(kubectl get pods -n "${LAB_CALICO_NAMESPACE:-calico-system}" -l k8s-app=calico-node --field-selector "spec.nodeName=${1}" \
    -o jsonpath='{.items[0].metadata.name}' 2>&1) || { printf '%s' "$pod"; return 1; }
  [[ -n "$pod" ]] || { printf 'no calico-node pod on %s' "$1"; return 1; }
  printf '%s' "$pod"
}
