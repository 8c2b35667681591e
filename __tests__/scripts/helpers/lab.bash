# Shared setup for the deploy/verify/destroy bats tests.
#
# Each test gets: a project dir as LAB_PROJECT_DIR holding the lab's
# defaults as synth renders them today (never the repo's dist/, which a
# user's lab.config.yaml must not be able to change under the tests), a copy of fixtures/cluster for the kubectl stub to
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
  local -A seen=([docker]=1 [kind]=1 [kubectl]=1 [npm]=1 [npx]=1 [jq]=1 [calicoctl]=1 [curl]=1)
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

# render_config CONFIG DIR: what the real synth app publishes for the lab
# configuration file CONFIG, into DIR.
render_config() {
  local config=$1 dir=$2 out
  if ! out=$(cd "$REPO_ROOT" && CDK8S_OUTDIR="$dir.staging" LAB_CONFIG="$config" LAB_DIST_DIR="$dir" \
    node -r ./scripts/swc-register.js main.ts 2>&1); then
    echo "synth of ${config} failed: $out" >&2
    return 1
  fi
  rm -rf "$dir.staging"
}

# synth_into DIR YAML: DIR replaced by what the real synth publishes for the
# lab configuration YAML (manifests, kind config and facts agree, as after
# `npm run synth`).
synth_into() {
  local config=$BATS_TEST_TMPDIR/synth-$RANDOM.config.yaml
  printf '%s\n' "$2" >"$config"
  rm -rf "$1"
  render_config "$config" "$1"
}

# render_defaults DIR: the lab's defaults (LAB_CONFIG=/dev/null: a
# lab.config.yaml in the repo is ignored).
render_defaults() { render_config /dev/null "$1"; }

# Built once per bats run, shared by the test files.
lab_setup_file() {
  export SYSBIN=$BATS_RUN_TMPDIR/sysbin
  [[ -d "$SYSBIN" ]] || make_sysbin "$SYSBIN"
  export DEFAULTS_DIST=$BATS_RUN_TMPDIR/defaults-dist
  [[ -d "$DEFAULTS_DIST" ]] || render_defaults "$DEFAULTS_DIST"
}

lab_setup() {
  # Nothing from the caller's environment may steer the scripts.
  local v
  for v in $(compgen -v LAB_) KUBECONFIG KIND_EXPERIMENTAL_DOCKER_NETWORK; do unset "$v"; done
  for v in $(compgen -v STUB_); do unset "$v"; done
  unset CDK8S_CHECK_UPGRADE # CI exports it; the scripts must set it themselves

  export STUB_STATE=$BATS_TEST_TMPDIR/state
  export STUB_LOG=$STUB_STATE/calls.log
  mkdir -p "$STUB_STATE"
  : >"$STUB_LOG"
  cp -R "$FIXTURES/cluster" "$STUB_STATE/cluster"
  # The scripts read what synth renders, so fixtures never drift from what cdk8s synth writes.
  [[ -d "${DEFAULTS_DIST:-}" ]] || lab_setup_file
  export STUB_SYNTH_FROM=$DEFAULTS_DIST

  export PROJECT=$BATS_TEST_TMPDIR/project
  mkdir -p "$PROJECT"
  cp -R "$DEFAULTS_DIST" "$PROJECT/dist"
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
  # The curl stub serves a stand-in of the operator manifest (the real one is
  # data: ../shared); preflight.bats proves the pinned hash against the real file.
  LAB_TIGERA_OPERATOR_SHA256=$(sha256sum "$FIXTURES/tigera-operator-standin.yaml" | cut -d' ' -f1)
  export LAB_TIGERA_OPERATOR_SHA256
  export PATH=$STUB_BIN:$SYSBIN

  # Tiny bounds: a hung wait would show up as a slow test, not a stuck one.
  export LAB_POLL_INTERVAL=0.05 LAB_VERIFY_RETRY_DELAY=0 LAB_RETRY_INTERVAL=0.05
  export LAB_CRD_TIMEOUT=2 LAB_CALICO_TIMEOUT=2 LAB_WORKLOAD_TIMEOUT=2
}

# remove_stub NAME: as if NAME were not installed.
remove_stub() { rm -f "$STUB_BIN/$1"; }

# cluster_exists_already: kind "has" the lab cluster from an earlier run.
cluster_exists_already() { echo ipv6-lab >"$STUB_STATE/kind-clusters"; }

# lab_setup_deployed: lab_setup for a lab that deploy.sh has already made:
# its kind cluster exists and its kubeconfig was written.
lab_setup_deployed() {
  lab_setup
  cluster_exists_already
  echo "apiVersion: v1" >"$PROJECT/ipv6-lab.kubeconfig"
}

# scenario NAME: lay fixtures/scenarios/NAME over the stub cluster (see its README.md).
scenario() { cp -R "$FIXTURES/scenarios/$1/." "$STUB_STATE/cluster/"; }

# fixture NAME CONTENT: replace one replayed kubectl output.
fixture() { printf '%s\n' "$2" >"$STUB_STATE/cluster/$1"; }

# drill STATE...: the stub cluster in a degraded STATE of the calico-node drill
# (fixtures/drill/STATE/ replaces the healthy fixtures it names; rendered from
# fixtures/json/drill/, the shapes of ../shared/calico/v3.28.5/kind/drill-calico-node-image-removed.txt).
drill() {
  local state
  for state in "$@"; do cp "$FIXTURES/drill/$state"/* "$STUB_STATE/cluster/"; done
}

# facts_value DIST EXPR: the JavaScript EXPR on DIST's parsed lab/facts.json f,
# e.g. facts_value "$PROJECT/dist" f.workload.daemonSet.image.
facts_value() {
  node -e 'const f = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log('"$2"');' "$1/lab/facts.json"
}

# edit_facts DIST JS: change DIST's lab/facts.json with the JavaScript JS on
# its parsed object f, e.g. edit_facts "$PROJECT/dist" 'f.name = "other-lab"'.
edit_facts() {
  node -e 'const fs = require("fs"); const file = process.argv[1]; const f = JSON.parse(fs.readFileSync(file, "utf8"));
    '"$2"'; fs.writeFileSync(file, JSON.stringify(f, null, 2) + "\n");' "$1/lab/facts.json"
}

# key TEXT: the file name under which the stubs keep the answer to a command
# or URL (as the kubectl and docker stubs spell it).
key() { printf '%s' "$*" | tr -c 'A-Za-z0-9._-' '_'; }

# no_answer_from URL: a pod's curl of URL times out: what curl prints when the
# SYN leaves but no reply can come back (measured, --max-time 5).
no_answer_from() {
  local f
  f=$STUB_STATE/cluster/http/curl_$(key "$1").txt
  echo "curl: (28) Connection timed out after 5001 milliseconds" >"$f"
  echo 28 >"$f.rc"
}

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

# doc_block FILE [TAG] [AFTER]: the body of FILE's first ```text block (```text TAG when TAG is given),
# counting only blocks after the first line that starts with AFTER: the docs' samples the tests keep
# equal to the scripts' output.
doc_block() {
  local fence='```text'
  [[ -z "${2:-}" ]] || fence+=" $2"
  awk -v fence="$fence" -v after="${3:-}" '
    !found { if (after == "" || index($0, after) == 1) found = 1; if (after != "") next }
    !on && $0 == fence { on = 1; next }
    on && $0 == "```" { exit }
    on' "$1"
}
