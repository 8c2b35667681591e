#!/usr/bin/env bash
# Fails when the committed generated trees are stale:
#   dist/     must equal a fresh `cdk8s synth` of the default configuration;
#   imports/  must equal a fresh `cdk8s import` of the pinned CRDs (CALICO_CRDS_DIR stands in for the URLs);
#   lab.config.schema.json and the key table of docs/configuration.md must equal a fresh
#   `npm run gen:schema` from lib/config-schema.ts, and lab.facts.schema.json one from lib/lab-facts.ts.
#
# Usage: scripts/check-drift.sh
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK_DIR="$(mktemp -d)"

cleanup() {
  rm -rf "${WORK_DIR}"
}
trap cleanup EXIT

# Prints a diff and returns 1 when the two trees differ.
compare_trees() {
  local what="$1" committed="$2" fresh="$3" fix="$4"
  if diff -r "${committed}" "${fresh}" >"${WORK_DIR}/${what}.diff"; then
    echo "ok: ${what}/ is up to date"
    return 0
  fi
  echo "error: the committed ${what}/ differs from a fresh build; run '${fix}' and commit the result:" >&2
  head -n 40 "${WORK_DIR}/${what}.diff" >&2
  return 1
}

check_dist() {
  # The committed dist/ is the default configuration: ignore any local lab.config.yaml.
  (cd "${REPO_ROOT}" && LAB_CONFIG=/dev/null LAB_DIST_DIR="${WORK_DIR}/dist" CDK8S_CHECK_UPGRADE=false \
    node_modules/.bin/cdk8s synth --output "${WORK_DIR}/staging" >"${WORK_DIR}/synth.log" 2>&1) || {
    echo "error: could not synthesize the defaults to compare dist/:" >&2
    sed 's/^/  /' "${WORK_DIR}/synth.log" >&2
    return 1
  }
  compare_trees dist "${REPO_ROOT}/dist" "${WORK_DIR}/dist" "npm run synth"
}

check_imports() {
  # A failed import (offline, no CALICO_CRDS_DIR) says so: comparing a partial tree would claim drift.
  if ! "${REPO_ROOT}/scripts/import-crds.sh" "${WORK_DIR}/imports" >"${WORK_DIR}/import.log" 2>&1; then
    echo "error: could not regenerate imports/ to compare them; 'npm run import' failed:" >&2
    tail -n 5 "${WORK_DIR}/import.log" | sed 's/^/  /' >&2
    echo "  fix: go online, or set CALICO_CRDS_DIR to a directory holding the pinned CRDs (default ../shared/calico/v3.28.5/crds)" >&2
    return 1
  fi
  compare_trees imports "${REPO_ROOT}/imports" "${WORK_DIR}/imports" "npm run import"
}

check_schema() {
  local fresh="${WORK_DIR}/schema" committed="${WORK_DIR}/schema-committed"
  mkdir -p "${fresh}/docs" "${committed}/docs"
  cp "${REPO_ROOT}/lab.config.schema.json" "${REPO_ROOT}/lab.facts.schema.json" "${committed}/"
  cp "${REPO_ROOT}/docs/configuration.md" "${committed}/docs/"
  # The generator keeps the text around the table's markers, so it starts from the committed page.
  cp "${REPO_ROOT}/docs/configuration.md" "${fresh}/docs/"
  (cd "${REPO_ROOT}" && node scripts/gen-config-schema.js --out-dir "${fresh}" >/dev/null)
  compare_trees schema "${committed}" "${fresh}" "npm run gen:schema"
}

main() {
  local failed=0
  check_dist || failed=1
  check_imports || failed=1
  check_schema || failed=1
  return "${failed}"
}

main "$@"
