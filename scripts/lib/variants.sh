#!/usr/bin/env bash
# The lab's variants, chosen by one configuration key each and told apart by
# the facts: routing "bgp" (variant bgp), the IPv6-only family set (variant
# ipv6only) and the network-policy lesson (variant policy). Each has its own
# file, scripts/lib/variant-<name>.sh, which defines:
#   <name>_active         true when the facts say the variant is on (required);
# and any of these hooks, which the scripts run for the active variants only,
# in LAB_VARIANTS order:
#   <name>_preflight      deploy, step 3, before kind create: what the variant
#                         needs of the machine (checks only, changes nothing)
#   <name>_after_cluster  deploy, step 3, after kind create (the kind network exists)
#   <name>_after_apply    deploy, step 5, after kubectl apply -f <dist>
#   <name>_after_calico   deploy, step 6, once Calico is Available
#   <name>_ready          deploy, step 7, beside the workload's rollout
#   <name>_summary        deploy, at the end: how to use what the variant added
#   <name>_diagnose       deploy's failure diagnosis
#   <name>_destroy        destroy.sh: remove what the variant started
#   <name>_explain        explain.sh, after the routing's screens
# and one hook that runs for every variant, active or not:
#   <name>_cleanup        destroy.sh: remove by name what the variant may have
#                         started, even without facts or after the configuration
#                         changed (variant_hooks_all)
# verify's checks of a variant live in scripts/lib/checks-<name>.sh (its own
# verify sections); explain's screens of a routing in explain-<routing>.sh.
# A hook that fails stops the script like any other step (set -e).
#
# Sourced after common.sh and lab_init_defaults (the facts are loaded), never
# executed.

[[ -n "${_LAB_VARIANTS_SH:-}" ]] && return 0
_LAB_VARIANTS_SH=1

# Every variant the lab knows, in the order their hooks run.
LAB_VARIANTS_KNOWN=(bgp ipv6only policy)
LAB_VARIANTS=()

# lab_load_variants: sources every variant file there is and sets
# LAB_VARIANTS to the active ones (from the facts); call again after the
# facts change (deploy synthesizes in step 2).
lab_load_variants() {
  local dir v file
  dir=$(dirname "${BASH_SOURCE[0]}")
  LAB_VARIANTS=()
  for v in "${LAB_VARIANTS_KNOWN[@]}"; do
    file=$dir/variant-$v.sh
    [[ -r "$file" ]] || continue
    # shellcheck source=/dev/null
    source "$file"
    if "${v}_active"; then LAB_VARIANTS+=("$v"); fi
  done
}

# variant_active NAME: true when variant NAME is on.
variant_active() {
  local v
  for v in ${LAB_VARIANTS[@]+"${LAB_VARIANTS[@]}"}; do [[ "$v" != "$1" ]] || return 0; done
  return 1
}

# variant_hooks HOOK [ARGS...]: <name>_HOOK ARGS for each active variant that has it.
variant_hooks() {
  local hook=$1 v
  shift
  for v in ${LAB_VARIANTS[@]+"${LAB_VARIANTS[@]}"}; do
    if declare -F "${v}_${hook}" >/dev/null; then
      "${v}_${hook}" "$@"
    fi
  done
}

# variant_hooks_all HOOK [ARGS...]: <name>_HOOK ARGS for every variant that has
# it, active or not (lab_load_variants has sourced them all).
variant_hooks_all() {
  local hook=$1 v
  shift
  for v in "${LAB_VARIANTS_KNOWN[@]}"; do
    if declare -F "${v}_${hook}" >/dev/null; then
      "${v}_${hook}" "$@"
    fi
  done
}

# lab_routing: the routing the facts name ("vxlan" when they name none).
lab_routing() { fact_or routing vxlan; }

# lab_families: the lab's address families, from the facts ("IPv4 IPv6" or "IPv6").
lab_families() { fact_list families; }

# lab_has_family FAMILY: true when the lab has FAMILY (IPv4 or IPv6).
lab_has_family() { [[ " $(lab_families) " == *" $1 "* ]]; }
