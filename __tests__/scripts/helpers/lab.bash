# Shared setup for the deploy/verify/destroy bats tests.
#
# Each test gets: a project dir as LAB_PROJECT_DIR holding a copy of the
# repo's synthesized dist/, a copy of fixtures/cluster for the kubectl stub to
# replay, and a PATH of the stubs plus the system's tools minus the real
# docker/kind/kubectl/npm, so nothing reaches a real cluster.

REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
FIXTURES=$BATS_TEST_DIRNAME/fixtures

load "$REPO_ROOT/node_modules/bats-support/load"
load "$REPO_ROOT/node_modules/bats-assert/load"

# make_sysbin DIR: symlinks to every tool in the system's bin directories
# except those the stubs replace (a real kubectl is installed on some
# machines). One ln call: a fork per tool would cost seconds.
make_sysbin() {
  local dir=$1 d f name
  local -A seen=([docker]=1 [kind]=1 [kubectl]=1 [npm]=1 [npx]=1 [jq]=1 [calicoctl]=1)
  local -a targets=()
  mkdir -p "$dir"
  for d in /usr/local/bin /usr/bin /bin; do
    [[ -d "$d" ]] || continue
    for f in "$d"/*; do
      name=${f##*/}
      [[ -z "${seen[$name]:-}" ]] || continue
      seen[$name]=1
      targets+=("$f")
    done
  done
  ln -s "${targets[@]}" "$dir"/
}

# Built once per bats run, shared by the test files.
lab_setup_file() {
  export SYSBIN=$BATS_RUN_TMPDIR/sysbin
  [[ -d "$SYSBIN" ]] || make_sysbin "$SYSBIN"
}

lab_setup() {
  # Nothing from the caller's environment may steer the scripts.
  local v
  for v in $(compgen -v LAB_) KUBECONFIG KIND_EXPERIMENTAL_DOCKER_NETWORK; do unset "$v"; done
  for v in $(compgen -v STUB_); do unset "$v"; done

  export STUB_STATE=$BATS_TEST_TMPDIR/state
  export STUB_LOG=$STUB_STATE/calls.log
  mkdir -p "$STUB_STATE"
  : >"$STUB_LOG"
  cp -R "$FIXTURES/cluster" "$STUB_STATE/cluster"
  # The scripts read the real synthesized dist/, so fixtures never drift from what cdk8s synth writes.
  export STUB_SYNTH_FROM=$REPO_ROOT/dist

  export PROJECT=$BATS_TEST_TMPDIR/project
  mkdir -p "$PROJECT"
  cp -R "$REPO_ROOT/dist" "$PROJECT/dist"
  # Stand-ins for the synth's sources: only their mtimes matter to deploy.sh.
  # Made here, not kept as fixtures, so jest and tsc never see a .ts file.
  mkdir -p "$PROJECT/lib" "$PROJECT/imports"
  touch "$PROJECT/main.ts" "$PROJECT/lib/lab.ts" "$PROJECT/imports/ippool.ts" "$PROJECT/cdk8s.yaml"
  # dist/ newer than its sources, as after a synth; tests age it on purpose.
  find "$PROJECT" -path "$PROJECT/dist" -prune -o -exec touch -d '2024-01-01 00:00' {} +
  find "$PROJECT/dist" -exec touch {} +
  export LAB_PROJECT_DIR=$PROJECT

  STUB_BIN=$BATS_TEST_TMPDIR/bin
  mkdir -p "$STUB_BIN"
  for v in docker kind kubectl npm curl; do ln -s "$BATS_TEST_DIRNAME/stubs/$v" "$STUB_BIN/$v"; done
  export PATH=$STUB_BIN:$SYSBIN

  # Tiny bounds: a hung wait would show up as a slow test, not a stuck one.
  export LAB_POLL_INTERVAL=0.05 LAB_VERIFY_RETRY_DELAY=0
  export LAB_CRD_TIMEOUT=2 LAB_OPERATOR_TIMEOUT=2 LAB_CALICO_TIMEOUT=2 LAB_WORKLOAD_TIMEOUT=2
}

# remove_stub NAME: as if NAME were not installed.
remove_stub() { rm -f "$STUB_BIN/$1"; }

# cluster_exists_already: kind "has" the lab cluster from an earlier run.
cluster_exists_already() { echo ipv6-lab >"$STUB_STATE/kind-clusters"; }

# fixture NAME CONTENT: replace one replayed kubectl output.
fixture() { printf '%s\n' "$2" >"$STUB_STATE/cluster/$1"; }

calls() { cat "$STUB_LOG"; }

# assert_calls_in_order PREFIX...: each PREFIX starts a line of the call log,
# in this order (other calls may come in between).
assert_calls_in_order() {
  local line i=0 args=("$@")
  while IFS= read -r line && ((i < ${#args[@]})); do
    [[ "$line" == "${args[i]}"* ]] && i=$((i + 1))
  done <"$STUB_LOG"
  if ((i < ${#args[@]})); then
    {
      echo "call not found in order: ${args[i]}"
      echo "--- call log ---"
      cat "$STUB_LOG"
    } | fail
  fi
}

refute_call() {
  if grep -F -- "$1" "$STUB_LOG" >/dev/null; then
    { echo "unexpected call: $1"; echo "--- call log ---"; cat "$STUB_LOG"; } | fail
  fi
}

# A test whose system tool is missing skips outside CI, saying so; with CI=true it fails.
skip_or_fail_in_ci() {
  if [[ "${CI:-}" == true ]]; then
    fail "CI=true but: $1"
  fi
  skip "$1"
}
