#!/usr/bin/env bash
# Regenerates imports/ (TypeScript classes for Calico's Installation, APIServer and IPPool) with
# `cdk8s import`, from the upstream CRD URLs pinned in cdk8s.yaml.
#
# Usage: scripts/import-crds.sh [OUTPUT_DIR]
#   OUTPUT_DIR        where to write the classes (default: imports)
#   CALICO_CRDS_DIR   a local directory holding the same CRD files, used instead of the URLs
#                     [default: ../shared/calico/v3.28.5/crds beside the repo when it exists, as
#                     for the jest and e2e suites; else the URLs]
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTPUT_DIR="${1:-${REPO_ROOT}/imports}"
if [[ -z "${CALICO_CRDS_DIR:-}" && -d "${REPO_ROOT}/../shared/calico/v3.28.5/crds" ]]; then
  CALICO_CRDS_DIR="$(cd "${REPO_ROOT}/../shared/calico/v3.28.5/crds" && pwd)"
fi
CALICO_CRDS_DIR="${CALICO_CRDS_DIR:-}"
CDK8S="${CDK8S:-${REPO_ROOT}/node_modules/.bin/cdk8s}"

# Prints the `name:=url` import specs of cdk8s.yaml, one per line (read with the yaml package, as
# the cdk8s CLI itself reads the file).
read_import_specs() {
  (cd "${REPO_ROOT}" && node -e '
    const { parse } = require("yaml");
    const imports = parse(require("fs").readFileSync("cdk8s.yaml", "utf8")).imports ?? [];
    for (const spec of imports) if (/^[a-z0-9-]+:=https:\/\/\S+$/.test(spec)) console.log(spec);')
}

# Maps `name:=url` to `name:=$CALICO_CRDS_DIR/<file>` when a local directory stands in for the URLs.
localize_spec() {
  local spec="$1" name url file
  name="${spec%%:=*}"
  url="${spec#*:=}"
  if [[ -z "${CALICO_CRDS_DIR}" ]]; then
    echo "${spec}"
    return
  fi
  file="${CALICO_CRDS_DIR}/$(basename "${url}")"
  if [[ ! -f "${file}" ]]; then
    echo "error: CALICO_CRDS_DIR=${CALICO_CRDS_DIR} has no $(basename "${url}") (needed for ${name})" >&2
    return 1
  fi
  echo "${name}:=$(cd "$(dirname "${file}")" && pwd)/$(basename "${file}")"
}

main() {
  local specs spec
  mapfile -t specs < <(read_import_specs)
  if [[ ${#specs[@]} -eq 0 ]]; then
    echo "error: no 'name:=https://...' imports found in cdk8s.yaml" >&2
    exit 1
  fi
  mkdir -p "${OUTPUT_DIR}"
  # One import per call: cdk8s import takes a single spec, and names each file after its spec's name,
  # so two CRDs of the same API group do not overwrite each other.
  for spec in "${specs[@]}"; do
    spec="$(localize_spec "${spec}")"
    (cd "${REPO_ROOT}" && CDK8S_CHECK_UPGRADE=false "${CDK8S}" import --no-save --language typescript --output "${OUTPUT_DIR}" "${spec}")
  done
}

main "$@"
