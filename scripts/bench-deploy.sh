#!/usr/bin/env bash
# bench-deploy.sh: time ./deploy.sh and the bare-minimum bring-up of the same
# lab side by side on this machine, and print the ratio. Measures; never
# asserts (docs/performance.md).
#
# Usage: scripts/bench-deploy.sh [--runs N] [--help]
#
# The bare minimum is what a person types who knows the answer (the steps of
# ../shared/calico/v3.28.5/kind/manual-bringup.sh): kind create cluster, kind
# load of the lab's images, kubectl create of the tigera-operator manifest, a
# wait for its CRDs, kubectl apply of dist/, a wait for calico-node, the
# DaemonSet's rollout. deploy.sh does that plus its checks, TigeraStatus and
# verify. Runs alternate (deploy, bare, deploy, bare, ...) so that a busy
# moment of the machine hits both; each run makes its own kind cluster
# (bench-deploy-<pid>, bench-bare-<pid>) and deletes it, on every exit path.
#
# Needs Docker, kind and kubectl (as deploy.sh does), and takes minutes per run.
# Images are pulled on the host before the first timed run, so that neither
# side is timed pulling from a registry.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_PROJECT_DIR=${LAB_PROJECT_DIR:-$REPO_ROOT}
# shellcheck source=scripts/lib/common.sh
source "$REPO_ROOT/scripts/lib/common.sh"
lab_init_defaults
# shellcheck source=scripts/lib/images.sh
source "$REPO_ROOT/scripts/lib/images.sh"

BENCH_RUNS=${BENCH_RUNS:-1}
BENCH_TAG=${BENCH_TAG:-$$}
DEPLOY_CLUSTER=bench-deploy-$BENCH_TAG
BARE_CLUSTER=bench-bare-$BENCH_TAG
WORK_DIR=""
OPERATOR_MANIFEST=""
CRDS=(crd/installations.operator.tigera.io crd/apiservers.operator.tigera.io crd/ippools.crd.projectcalico.org)

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
  cat <<EOF
Environment: BENCH_RUNS (runs of each, default 1), and deploy.sh's LAB_* settings
(LAB_KIND_NODE_IMAGE, LAB_TIGERA_OPERATOR_MANIFEST, LAB_CALICOCTL, ...), used by both sides.
EOF
}

cleanup() {
  local rc=$? name
  for name in "$DEPLOY_CLUSTER" "$BARE_CLUSTER"; do
    if kind get clusters 2>/dev/null | grep -Fx "$name" >/dev/null; then
      kind delete cluster --name "$name" >/dev/null 2>&1 || warn "could not delete kind cluster ${name}: kind delete cluster --name ${name}"
    fi
  done
  docker rm -f "${DEPLOY_CLUSTER}-external" >/dev/null 2>&1 || true
  [[ -z "$WORK_DIR" ]] || rm -rf "$WORK_DIR"
  exit "$rc"
}

# now: seconds since the epoch, with decimals when bash has them.
now() { printf '%s\n' "${EPOCHREALTIME:-$(date +%s)}"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

preflight() {
  local tool
  for tool in docker kind kubectl; do
    have "$tool" || die "${tool} not found on PATH: the benchmark runs real kind clusters" "install ${tool} (see ./deploy.sh --help)"
  done
  docker info >/dev/null 2>&1 || die "the Docker daemon is not reachable" "start Docker; 'docker info' must work"
  [[ -f "$LAB_KIND_CONFIG" ]] || die "no ${LAB_KIND_CONFIG}" "npm run synth"
}

# prepare: what neither side should be timed doing: the images on the host,
# the operator manifest on disk.
prepare() {
  local image
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bench-deploy.XXXXXX")
  info "# preparing: images on the host, the operator manifest on disk (not timed)"
  while IFS= read -r image; do
    docker image inspect "$image" >/dev/null 2>&1 || docker pull --quiet "$image" >/dev/null ||
      die "docker pull ${image} failed" "pull it by hand, or use an air-gapped image store"
  done < <(lab_images)
  OPERATOR_MANIFEST=${LAB_TIGERA_OPERATOR_MANIFEST:-https://raw.githubusercontent.com/projectcalico/calico/v3.28.5/manifests/tigera-operator.yaml}
  if [[ ! -f "$OPERATOR_MANIFEST" ]]; then
    curl -fsSL -o "$WORK_DIR/tigera-operator.yaml" "$OPERATOR_MANIFEST" || die "could not download ${OPERATOR_MANIFEST}" "set LAB_TIGERA_OPERATOR_MANIFEST=/path/to/tigera-operator.yaml"
    OPERATOR_MANIFEST=$WORK_DIR/tigera-operator.yaml
  fi
}

# run_deploy N: ./deploy.sh on its own cluster; prints "total no_verify" (seconds).
run_deploy() {
  local log=$WORK_DIR/deploy-$1.log start total verify
  start=$(now)
  if ! LAB_CLUSTER_NAME=$DEPLOY_CLUSTER LAB_KUBECONFIG=$WORK_DIR/deploy.kubeconfig \
    "$REPO_ROOT/deploy.sh" >"$log" 2>&1; then
    die "deploy.sh failed in run $1: $(grep -m 1 '^ERROR: step' "$log" || tail -n 1 "$log")" \
      "its whole output: $(keep_log "$log" deploy)"
  fi
  total=$(elapsed "$start")
  # deploy's own timing summary: step 8 is ./verify.sh.
  verify=$(awk '/^Time per step/ { on = 1; next } on && $1 == 8 { print $(NF); exit }' "$log" | duration_seconds)
  cp "$log" "$WORK_DIR/deploy-last.log"
  kind delete cluster --name "$DEPLOY_CLUSTER" >/dev/null 2>&1
  docker rm -f "${DEPLOY_CLUSTER}-external" >/dev/null 2>&1 || true
  # deploy rounds its step times to whole seconds: on a fast run the verify step can round
  # above the measured total, which is no negative time.
  awk -v t="$total" -v v="${verify:-0}" 'BEGIN { nv = t - v; printf "%s %.1f\n", t, (nv < 0 ? 0 : nv) }'
}

# keep_log LOG NAME: a failed run's output, kept under .lab/logs/ (WORK_DIR goes away); prints its path.
keep_log() {
  local dest=$LAB_PROJECT_DIR/.lab/logs/bench-deploy-$BENCH_TAG-$2.log
  mkdir -p "${dest%/*}" && cp "$1" "$dest" && echo "$dest"
}

# duration_seconds: "1m05s" or "42s" on stdin -> seconds.
duration_seconds() {
  sed -n 's/^\([0-9]*\)m\([0-9]*\)s$/\1 \2/p; s/^\([0-9]*\)s$/0 \1/p' | awk '{ print $1 * 60 + $2 }'
}

# run_bare N: the bare minimum on its own cluster; prints its seconds.
run_bare() {
  local log=$WORK_DIR/bare-$1.log start kubeconfig=$WORK_DIR/bare.kubeconfig
  local -a create=(create cluster --name "$BARE_CLUSTER" --config "$LAB_KIND_CONFIG" --kubeconfig "$kubeconfig")
  local -a images=()
  [[ -z "${LAB_KIND_NODE_IMAGE:-}" ]] || create+=(--image "$LAB_KIND_NODE_IMAGE")
  mapfile -t images < <(lab_images)
  start=$(now)
  {
    kind "${create[@]}" &&
      kind load docker-image --name "$BARE_CLUSTER" "${images[@]}" &&
      KUBECONFIG=$kubeconfig kubectl create -f "$OPERATOR_MANIFEST" &&
      KUBECONFIG=$kubeconfig kubectl wait --for condition=established --timeout=120s "${CRDS[@]}" &&
      KUBECONFIG=$kubeconfig kubectl apply -f "$LAB_DIST_DIR" &&
      wait_calico_node_pods "$kubeconfig" &&
      KUBECONFIG=$kubeconfig kubectl wait -n calico-system --for=condition=Ready pod -l k8s-app=calico-node --timeout=600s &&
      KUBECONFIG=$kubeconfig kubectl rollout status -n "$LAB_NAMESPACE" "daemonset/${LAB_DAEMONSET}" --timeout=300s &&
      KUBECONFIG=$kubeconfig kubectl wait -n "$LAB_NAMESPACE" --for=condition=Ready pod -l "$LAB_POD_SELECTOR" --timeout=300s
  } >"$log" 2>&1 || {
    tail -n 5 "$log" | sed 's/^/    /' >&2
    die "the bare-minimum bring-up failed in run $1 (the end of its output: above)" "its whole output: $(keep_log "$log" bare)"
  }
  elapsed "$start"
  kind delete cluster --name "$BARE_CLUSTER" >/dev/null 2>&1
}

# wait_calico_node_pods KUBECONFIG: until the DaemonSet has a pod per node (kubectl wait cannot wait for pods to exist).
wait_calico_node_pods() {
  local want deadline=$((SECONDS + 600))
  want=$(fact_count cluster.nodes)
  until (($(KUBECONFIG=$1 kubectl get pods -n calico-system -l k8s-app=calico-node -o name 2>/dev/null | grep -c .) >= want)); do
    ((SECONDS < deadline)) || return 1
    sleep 2
  done
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

main() {
  while (($# > 0)); do
    case "$1" in
      --runs)
        BENCH_RUNS=${2:?--runs needs a number}
        shift
        ;;
      -h | --help)
        usage
        return 0
        ;;
      *) die "unknown argument: $1" "scripts/bench-deploy.sh --help" ;;
    esac
    shift
  done
  [[ "$BENCH_RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs ${BENCH_RUNS}: want a whole number of runs, 1 or more"
  preflight
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  prepare
  local n d nv b out
  local -a deploys=() noverify=() bares=()
  info "# $(nproc 2>/dev/null || echo '?') CPUs, $(docker version --format 'Docker {{.Server.Version}}' 2>/dev/null || echo Docker), $(kind version 2>/dev/null | awk '{ print "kind " $2 }'), load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?'); ${BENCH_RUNS} run(s) each, alternating"
  printf '%-4s %8s %18s %8s   (seconds)\n' run deploy "deploy w/o verify" bare
  for ((n = 1; n <= BENCH_RUNS; n++)); do
    out=$(run_deploy "$n")
    read -r d nv <<<"$out"
    b=$(run_bare "$n")
    deploys+=("$d") noverify+=("$nv") bares+=("$b")
    printf '%-4s %8s %18s %8s\n' "$n" "$d" "$nv" "$b"
  done
  d=$(printf '%s\n' "${deploys[@]}" | median)
  nv=$(printf '%s\n' "${noverify[@]}" | median)
  b=$(printf '%s\n' "${bares[@]}" | median)
  echo ""
  echo "median: deploy ${d} s, without its closing verify ${nv} s, bare minimum ${b} s"
  awk -v d="$d" -v nv="$nv" -v b="$b" 'BEGIN { printf "deploy vs bare minimum: %.2fx (without verify: %.2fx)\n", d / b, nv / b }'
  echo ""
  echo "deploy's own time per step, last run:"
  awk '/^Time per step/ { on = 1; next } on && NF == 0 { exit } on' "$WORK_DIR/deploy-last.log"
}

main "$@"
