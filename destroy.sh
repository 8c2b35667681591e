#!/usr/bin/env bash
# destroy.sh: delete the lab's kind cluster and its kubeconfig file.
#
# Usage: ./destroy.sh [--yes] [--help]
#
# Asks before deleting unless --yes. Without a terminal to ask on (CI, a
# pipe) and without --yes it refuses rather than waiting forever. The shared
# "kind" Docker network is left alone: other kind clusters may use it.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PROJECT_DIR=${LAB_PROJECT_DIR:-$SCRIPT_DIR}
# shellcheck source=scripts/lib/common.sh
source "$SCRIPT_DIR/scripts/lib/common.sh"
# shellcheck source=scripts/lib/cluster-drift.sh
source "$SCRIPT_DIR/scripts/lib/cluster-drift.sh"
# shellcheck source=scripts/lib/external-host.sh
source "$SCRIPT_DIR/scripts/lib/external-host.sh"
# shellcheck source=scripts/lib/variants.sh
source "$SCRIPT_DIR/scripts/lib/variants.sh"
lab_init_defaults

ASSUME_YES=false

usage() {
  cat <<EOF_USAGE
Usage: ./destroy.sh [--yes] [--help]

Deletes the kind cluster "${LAB_CLUSTER_NAME}", its external host container
${LAB_CLUSTER_NAME}-external, and ${LAB_KUBECONFIG}.
  -y, --yes   do not ask for confirmation (needed without a terminal)

Environment (current value in brackets):
  LAB_CLUSTER_NAME  kind cluster name [${LAB_CLUSTER_NAME}] (default: the name in ${LAB_FACTS_FILE})
  LAB_KUBECONFIG    kubeconfig file to remove [${LAB_KUBECONFIG}]
  LAB_PROJECT_DIR   project root [${LAB_PROJECT_DIR}]
  LAB_DIST_DIR      synthesized manifests [${LAB_DIST_DIR}]
EOF_USAGE
}

parse_args() {
  while (($# > 0)); do
    case "$1" in
      -y | --yes) ASSUME_YES=true ;;
      -h | --help)
        usage
        exit 0
        ;;
      *)
        usage >&2
        die "unknown argument: $1"
        ;;
    esac
    shift
  done
}

confirm() {
  [[ "$ASSUME_YES" == true ]] && return 0
  # read would block (or read EOF) without a terminal: refuse instead.
  [[ -t 0 ]] || die "no terminal to confirm on; refusing to delete cluster ${LAB_CLUSTER_NAME}" \
    "run ./destroy.sh --yes to delete without asking"
  local answer
  read -r -p "Delete kind cluster \"${LAB_CLUSTER_NAME}\" and ${LAB_KUBECONFIG}? [y/N] " answer
  [[ "$answer" =~ ^[Yy]([Ee][Ss])?$ ]] || {
    info "Nothing deleted."
    exit 1
  }
}

cluster_exists() {
  # No grep -q: it exits early and pipefail would then fail the pipeline.
  kind get clusters 2>/dev/null | grep -Fx "$LAB_CLUSTER_NAME" >/dev/null
}

delete_cluster() {
  if cluster_exists; then
    # --kubeconfig: drop the cluster from the lab's file only, never from
    # ~/.kube/config or $KUBECONFIG.
    kind delete cluster --name "$LAB_CLUSTER_NAME" --kubeconfig "$LAB_KUBECONFIG" ||
      die "kind delete cluster --name ${LAB_CLUSTER_NAME} failed" "check 'docker info', then run ./destroy.sh again"
  else
    info "kind cluster ${LAB_CLUSTER_NAME} does not exist; nothing to delete"
  fi
}

remove_kubeconfig() {
  if [[ -e "$LAB_KUBECONFIG" ]]; then
    rm -f -- "$LAB_KUBECONFIG"
    info "Removed ${LAB_KUBECONFIG}"
  fi
}

main() {
  parse_args "$@"
  # The cluster's name comes from the facts, unless LAB_CLUSTER_NAME names it.
  [[ -n "$LAB_CLUSTER_NAME" ]] || lab_require_facts
  have kind || die "kind not found on PATH" "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
  confirm
  lab_load_variants
  delete_cluster
  external_host_remove
  variant_hooks destroy
  variant_hooks_all cleanup
  remove_kubeconfig
  info "Lab \"${LAB_CLUSTER_NAME}\" removed."
  note_other_clusters
}

main "$@"
