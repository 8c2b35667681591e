#!/usr/bin/env bash
# verify.sh's plan and its reporting: every check is planned, by id and
# title, from the lab's facts alone before verify asks the cluster anything;
# then each check reports exactly once, by id. The number of checks is the
# plan's, whatever the cluster's state: a planned check that never reported
# is a FAIL ("did not run"), and reporting an id the plan lacks, or one id
# twice, is a bug that fails loudly.
#
# Checks come in sections, run in the order they were registered: a section
# NAME is two functions, plan_NAME (plan_check calls only: no cluster calls)
# and check_NAME (one pass/fail/skip per planned id). A variant adds its own
# file scripts/lib/checks-<variant>.sh with plan_<variant>/check_<variant>
# and registers it with verify_section (docs/scripts.md).
#
# Sourced after common.sh, never executed.

[[ -n "${_LAB_VERIFY_PLAN_SH:-}" ]] && return 0
_LAB_VERIFY_PLAN_SH=1

VERIFY_SECTIONS=()
PLAN_IDS=()
declare -gA PLAN_TITLE=() PLAN_RESULT=()
CHECKS_FAILED=0
CHECKS_SKIPPED=0
# Failures that are verify's own bugs (unplanned or repeated reports).
PLAN_BUGS=0

# verify_section NAME: run plan_NAME and check_NAME, after the sections
# registered before it.
verify_section() {
  local s
  for s in "${VERIFY_SECTIONS[@]}"; do [[ "$s" != "$1" ]] || return 0; done
  VERIFY_SECTIONS+=("$1")
}

# plan_check ID TITLE: one check of the plan. IDs are short and stable
# (node/ipv6-lab-worker, tigerastatus/calico), TITLE says what must hold.
plan_check() {
  if [[ -n "${PLAN_TITLE[$1]+x}" ]]; then
    printf 'verify.sh bug: check %s is planned twice\n' "$1" >&2
    exit 255
  fi
  PLAN_IDS+=("$1")
  PLAN_TITLE[$1]=$2
}

# planned ID: true when ID is in the plan.
planned() { [[ -n "${PLAN_TITLE[$1]+x}" ]]; }

# plan_build: every section's plan, in section order.
plan_build() {
  local s
  for s in "${VERIFY_SECTIONS[@]}"; do "plan_$s"; done
}

# plan_print [SOURCE]: the plan, one "  id  title" line per check.
plan_print() {
  local id width=0
  for id in "${PLAN_IDS[@]}"; do ((${#id} <= width)) || width=${#id}; done
  printf 'Plan: %d checks%s\n' "${#PLAN_IDS[@]}" "${1:+, from $1}"
  for id in "${PLAN_IDS[@]}"; do
    printf '  %-*s  %s\n' "$width" "$id" "${PLAN_TITLE[$id]}"
  done
}

# _report ID RESULT: records RESULT for ID; false (and a loud FAIL) when ID
# is not planned or has reported already.
_report() {
  local problem=""
  if ! planned "$1"; then
    problem="reported check ${1}, which is not in the plan"
  elif [[ -n "${PLAN_RESULT[$1]:-}" ]]; then
    problem="check ${1} reported twice (${PLAN_RESULT[$1]}, then ${2})"
  fi
  if [[ -n "$problem" ]]; then
    PLAN_BUGS=$((PLAN_BUGS + 1))
    printf 'FAIL  verify.sh bug: %s\n' "$problem"
    return 1
  fi
  PLAN_RESULT[$1]=$2
}

# pass ID TEXT
pass() {
  _report "$1" PASS || return 0
  printf 'PASS  %s\n' "$2"
}

# fail ID TEXT [COMMAND]: COMMAND is what a person runs to look closer.
fail() {
  _report "$1" FAIL || return 0
  CHECKS_FAILED=$((CHECKS_FAILED + 1))
  printf 'FAIL  %s\n' "$2"
  [[ -z "${3:-}" ]] || printf '      investigate: %s\n' "$3"
}

# skip ID TEXT: a check that cannot run, with why: an earlier check failed
# (that failure is the one counted), or the lab has nothing of the kind.
skip() {
  _report "$1" SKIP || return 0
  CHECKS_SKIPPED=$((CHECKS_SKIPPED + 1))
  printf 'SKIP  %s\n' "$2"
}

# skip_unreported REASON: SKIP every planned check that has not reported.
skip_unreported() {
  local id
  for id in "${PLAN_IDS[@]}"; do
    [[ -n "${PLAN_RESULT[$id]:-}" ]] || skip "$id" "${PLAN_TITLE[$id]}: ${1}"
  done
}

# plan_finish: FAIL each planned check that never reported, print the
# totals and set PLAN_FAILURES (the exit status verify gives, capped at 255).
plan_finish() {
  local id
  for id in "${PLAN_IDS[@]}"; do
    [[ -n "${PLAN_RESULT[$id]:-}" ]] ||
      fail "$id" "${PLAN_TITLE[$id]}: did not run (verify.sh bug: its check never reported)"
  done
  PLAN_FAILURES=$((CHECKS_FAILED + PLAN_BUGS))
  printf '\n%d checks, %d failed' "${#PLAN_IDS[@]}" "$PLAN_FAILURES"
  ((CHECKS_SKIPPED == 0)) || printf ', %d skipped' "$CHECKS_SKIPPED"
  printf '\n'
}
