#!/usr/bin/env bash
# run.sh - prove that `kubectl apply -f dist` works against a real Kubernetes
# API server, envtest style: a real etcd and a real kube-apiserver (v1.28) on
# loopback in a temp dir, driven by a real kubectl 1.28. No kubelet, no
# controllers, no containers: this checks what the API server accepts and stores.
#
# Usage:
#   scripts/e2e/run.sh                      # npm run test:e2e
#   E2E_MANIFEST_DIR=/tmp/my-dist scripts/e2e/run.sh
#
# The kind config's networking.ipFamily decides the family checks: "dual" (the default lab) or "ipv6"
# (an IPv6-only lab, which scripts/e2e/run-ipv6-only.sh synthesizes and runs this on). A dist with
# kube-system's coredns ConfigMap (IPv6-only) is applied over kubeadm's own coredns ConfigMap, and,
# with E2E_COREDNS set, that stored Corefile is loaded by a real CoreDNS (scripts/e2e/coredns-check.sh).
#
# Binaries (first match wins):
#   etcd, kube-apiserver: $E2E_ETCD / $E2E_KUBE_APISERVER, then $KUBEBUILDER_ASSETS/<name>
#     (the directory setup-envtest fills), then the cache of scripts/e2e/build-binaries.sh
#     ($E2E_ASSETS_DIR), then PATH.
#   kubectl: $E2E_KUBECTL, then $KUBEBUILDER_ASSETS/kubectl, then kubectl.1.28 beside
#     `command -v kubectl` (symlinks resolved), then kubectl on PATH if it is 1.28.
#
# Checks print one line each ("PASS"/"FAIL"); the last line is "N passed, M failed".
# Exit status is non-zero if any check failed. With CI=true a missing binary is a
# failure; otherwise it skips loudly with exit 0.
#
# Environment (defaults in brackets; relative paths are taken from the caller's directory):
#   E2E_MANIFEST_DIR   manifests to apply (top-level *.yaml)   [dist of this repo]
#   E2E_KIND_CONFIG    kind config with networking.serviceSubnet [$E2E_MANIFEST_DIR/kind/cluster.yaml]
#   CALICO_CRDS_DIR    Calico v3.28.5 CRDs                       [../shared/calico/v3.28.5/crds]
#   E2E_TIGERA_OPERATOR_MANIFEST  Calico v3.28.5's tigera-operator.yaml, applied as deploy.sh does
#                      before dist (missing: fails with CI=true, else skipped loudly)
#                                                                [$CALICO_CRDS_DIR/../tigera-operator.yaml]
#   E2E_K8S_MINOR      required kubectl/kube-apiserver minor     [28]
#   E2E_ASSETS_DIR     build-binaries.sh output                  [${XDG_CACHE_HOME:-$HOME/.cache}/calico-ipv6-lab/envtest/1.28.15]
#   E2E_GENERATED_CONFIGS  generated valid lab configurations whose manifests must pass a strict
#                      server-side dry-run (scripts/e2e/generated-configs.ts; 0 skips)      [6]
#   E2E_GENERATED_SEED the generator's seed                      [20260515]
#   E2E_POLICY_DIST    a dist synthesized with `policy: on`; its policy/ is applied after
#                      dist, as deploy applies the lesson            [synthesized into the temp dir]
#   E2E_TIMEOUT        seconds for each wait                     [60]
#   E2E_VARIANTS       routing variants synthesized (`routing: X`, the rest default) and applied on
#                      top of the manifests, each checked as they are (empty: none)  [bgp]
#   E2E_KEEP_TMP       keep the temp dir (true)                  [false]
#   E2E_COREDNS, E2E_KUBEADM_DNS_MANIFESTS, E2E_FIXTURES_DIR: see scripts/e2e/coredns-check.sh
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HELPER="${REPO_ROOT}/scripts/e2e/manifests.js"
# shellcheck source=scripts/e2e/coredns-check.sh
source "${REPO_ROOT}/scripts/e2e/coredns-check.sh"

# from_caller PATH: PATH made absolute against the caller's directory (run.sh cds to the repo).
from_caller() {
  if [[ -z "$1" || "$1" == /* ]]; then echo "$1"; else echo "${PWD}/$1"; fi
}

E2E_MANIFEST_DIR="$(from_caller "${E2E_MANIFEST_DIR:-}")"
E2E_MANIFEST_DIR="${E2E_MANIFEST_DIR:-dist}"
E2E_KIND_CONFIG="$(from_caller "${E2E_KIND_CONFIG:-}")"
E2E_KIND_CONFIG="${E2E_KIND_CONFIG:-${E2E_MANIFEST_DIR}/kind/cluster.yaml}"
CALICO_CRDS_DIR="$(from_caller "${CALICO_CRDS_DIR:-}")"
CALICO_CRDS_DIR="${CALICO_CRDS_DIR:-${REPO_ROOT}/../shared/calico/v3.28.5/crds}"
E2E_TIGERA_OPERATOR_MANIFEST="$(from_caller "${E2E_TIGERA_OPERATOR_MANIFEST:-}")"
# Default: beside the CRDs (../shared/calico/v3.28.5/, or CALICO_CRDS_DIR's parent).
_crds_dir="${CALICO_CRDS_DIR%/}"
E2E_TIGERA_OPERATOR_MANIFEST="${E2E_TIGERA_OPERATOR_MANIFEST:-${_crds_dir%/crds}/tigera-operator.yaml}"
E2E_K8S_MINOR="${E2E_K8S_MINOR:-28}"
E2E_ASSETS_DIR="${E2E_ASSETS_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/calico-ipv6-lab/envtest/1.28.15}"
E2E_GENERATED_CONFIGS="${E2E_GENERATED_CONFIGS:-6}"
E2E_GENERATED_SEED="${E2E_GENERATED_SEED:-20260515}"
E2E_POLICY_DIST="$(from_caller "${E2E_POLICY_DIST:-}")"
E2E_TIMEOUT="${E2E_TIMEOUT:-60}"
E2E_KEEP_TMP="${E2E_KEEP_TMP:-false}"
E2E_VARIANTS="${E2E_VARIANTS-bgp}"
CI="${CI:-false}"

# An unknown field for the strict-validation negative case.
UNKNOWN_FIELD="e2eUnknownField"
# Objects whose stored .spec must equal dist's ("apiVersion kind", extended regex).
IPPOOL_KIND="crd\.projectcalico\.org/v1 IPPool"
SPEC_KINDS="crd\.projectcalico\.org/v1 (IPPool|BGPConfiguration|BGPPeer|CalicoNodeStatus)|operator\.tigera\.io/v1 (Installation|APIServer)"
# The largest four-octet AS number a speaker may take (RFC 6793; 4294967295 is reserved), above the
# CRDs' `format: int32`: Calico reads asNumber as a uint32.
FOUR_OCTET_AS=4294967294

ETCD="" KUBE_APISERVER="" KUBECTL=""
TMP_DIR="" ETCD_URL="" FIRST_SERVICE_IP="" LAST_PID="" LAST_APISERVER_PORT="" APISERVER_PORT=""
SERVICE_SUBNET="" SERVICE_SUBNET_V4="" IP_FAMILY="" APPLY_OUTPUT=""
PASSED=0 FAILED=0 SKIPPED=0
declare -a PIDS=()
declare -A PID_NAMES=()

# ---------------------------------------------------------------- reporting --

pass() {
  PASSED=$((PASSED + 1))
  echo "PASS ✔ $1"
}

fail() {
  FAILED=$((FAILED + 1))
  echo "FAIL ✘ $1"
  if [[ -n "${2:-}" ]]; then
    head -n 40 <<<"$2" | sed 's/^/       /'
  fi
}

skip() {
  SKIPPED=$((SKIPPED + 1))
  echo "SKIP ⚠ $1"
}

summary() {
  if ((SKIPPED > 0)); then
    echo "${SKIPPED} skipped"
  fi
  echo "${PASSED} passed, ${FAILED} failed"
}

# abort MESSAGE [DETAIL]: record a failed check that later checks depend on, and stop.
abort() {
  fail "$@"
  exit 1
}

# ------------------------------------------------------------------ teardown --

print_diagnostics() {
  local name
  for name in etcd kube-apiserver kube-apiserver-ipv4 coredns; do
    if [[ -s "${TMP_DIR}/${name}.log" ]]; then
      echo "----- last 30 lines of ${name}.log -----" >&2
      tail -n 30 "${TMP_DIR}/${name}.log" >&2
    fi
  done
}

# stop_processes: SIGTERM, newest first (the API servers before their etcd), then
# SIGKILL whatever is still running after 10s.
stop_processes() {
  local pid i reversed=()
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    reversed+=("${PIDS[i]}")
  done
  for pid in "${reversed[@]}"; do
    kill "${pid}" 2>/dev/null || true
  done
  for pid in "${reversed[@]}"; do
    for ((i = 0; i < 100; i++)); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      echo "teardown: ${PID_NAMES[${pid}]} (pid ${pid}) ignored SIGTERM for 10s, killing" >&2
      kill -9 "${pid}" 2>/dev/null || true
    fi
    wait "${pid}" 2>/dev/null || true
  done
  PIDS=()
}

cleanup() {
  local rc=$?
  set +e
  # stdout may be a closed pipe: ignore SIGPIPE so that teardown always completes.
  trap '' PIPE
  # Log tails as they were at the failure, before teardown adds its own noise.
  if ((rc != 0 || FAILED > 0)) && [[ -n "${TMP_DIR}" ]]; then
    print_diagnostics
  fi
  stop_processes
  if [[ -n "${TMP_DIR}" && -d "${TMP_DIR}" ]]; then
    if [[ "${E2E_KEEP_TMP}" == "true" ]]; then
      echo "kept ${TMP_DIR}" >&2
    else
      rm -rf "${TMP_DIR}"
    fi
  fi
  summary
  if ((rc == 0 && FAILED > 0)); then
    rc=1
  fi
  exit "${rc}"
}

# ------------------------------------------------------------------ binaries --

k8s_minor_of() { # BINARY [version args...] -> minor version, e.g. 28 (empty if unknown)
  local bin="$1" out
  shift
  out="$("${bin}" "$@" 2>/dev/null || true)"
  if [[ "${out}" =~ v1\.([0-9]+)\. ]]; then
    echo "${BASH_REMATCH[1]}"
  fi
}

first_line_of() { # CMD... -> first line of its output, read whole (no SIGPIPE)
  local out
  out="$("$@" 2>&1 || true)"
  echo "${out%%$'\n'*}"
}

kubectl_minor() {
  k8s_minor_of "$1" version --client
}

find_binary() { # NAME ENV_VALUE -> path or empty
  local name="$1" explicit="$2"
  if [[ -n "${explicit}" ]]; then
    echo "${explicit}"
  elif [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "${KUBEBUILDER_ASSETS}/${name}" ]]; then
    echo "${KUBEBUILDER_ASSETS}/${name}"
  elif [[ -x "${E2E_ASSETS_DIR}/${name}" ]]; then
    echo "${E2E_ASSETS_DIR}/${name}"
  else
    command -v "${name}" 2>/dev/null || true
  fi
}

find_kubectl() {
  local found dir
  if [[ -n "${E2E_KUBECTL:-}" ]]; then
    echo "${E2E_KUBECTL}"
    return
  fi
  if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "${KUBEBUILDER_ASSETS}/kubectl" ]]; then
    echo "${KUBEBUILDER_ASSETS}/kubectl"
    return
  fi
  found="$(command -v kubectl 2>/dev/null || true)"
  [[ -n "${found}" ]] || return 0
  dir="$(dirname "$(readlink -f "${found}")")"
  if [[ -x "${dir}/kubectl.1.${E2E_K8S_MINOR}" ]]; then
    echo "${dir}/kubectl.1.${E2E_K8S_MINOR}"
  elif [[ "$(kubectl_minor "${found}")" == "${E2E_K8S_MINOR}" ]]; then
    echo "${found}"
  fi
}

# missing WHAT HOW: a required tool is missing: fail in CI, skip loudly elsewhere.
missing() {
  if [[ "${CI}" == "true" ]]; then
    abort "$1 found" "$2"
  fi
  skip "$1 not found: skipping the e2e suite ($2)"
  exit 0
}

resolve_binaries() {
  local minor
  command -v node >/dev/null 2>&1 || missing "node" "install Node.js"
  command -v openssl >/dev/null 2>&1 || missing "openssl" "apt-get install openssl"

  ETCD="$(find_binary etcd "${E2E_ETCD:-}")"
  [[ -n "${ETCD}" && -x "${ETCD}" ]] ||
    missing "etcd" "set E2E_ETCD or KUBEBUILDER_ASSETS, or run scripts/e2e/build-binaries.sh"
  KUBE_APISERVER="$(find_binary kube-apiserver "${E2E_KUBE_APISERVER:-}")"
  [[ -n "${KUBE_APISERVER}" && -x "${KUBE_APISERVER}" ]] ||
    missing "kube-apiserver" "set E2E_KUBE_APISERVER or KUBEBUILDER_ASSETS, or run scripts/e2e/build-binaries.sh"
  KUBECTL="$(find_kubectl)"
  [[ -n "${KUBECTL}" && -x "${KUBECTL}" ]] ||
    missing "kubectl 1.${E2E_K8S_MINOR}" "set E2E_KUBECTL, or put kubectl.1.${E2E_K8S_MINOR} beside kubectl"

  minor="$(k8s_minor_of "${KUBE_APISERVER}" --version)"
  if [[ "${minor}" == "${E2E_K8S_MINOR}" ]]; then
    pass "kube-apiserver is 1.${E2E_K8S_MINOR}: ${KUBE_APISERVER} ($("${KUBE_APISERVER}" --version))"
  else
    fail "kube-apiserver is 1.${E2E_K8S_MINOR}: ${KUBE_APISERVER} reports '$("${KUBE_APISERVER}" --version 2>&1 || true)'"
  fi
  minor="$(kubectl_minor "${KUBECTL}")"
  if [[ "${minor}" == "${E2E_K8S_MINOR}" ]]; then
    pass "kubectl is 1.${E2E_K8S_MINOR}: ${KUBECTL}"
  else
    fail "kubectl is 1.${E2E_K8S_MINOR}: ${KUBECTL} reports minor '${minor}'"
  fi
  echo "     etcd: ${ETCD} ($(first_line_of "${ETCD}" --version))"
}

# -------------------------------------------------------------------- inputs --

read_inputs() {
  [[ -d "${E2E_MANIFEST_DIR}" ]] ||
    abort "manifest dir ${E2E_MANIFEST_DIR} exists" "run 'npm run synth' first, or set E2E_MANIFEST_DIR"
  compgen -G "${E2E_MANIFEST_DIR}/*.yaml" >/dev/null ||
    abort "manifest dir ${E2E_MANIFEST_DIR} has top-level *.yaml files"
  [[ -f "${E2E_KIND_CONFIG}" ]] || abort "kind config ${E2E_KIND_CONFIG} exists"
  local out
  out="$(node "${HELPER}" service-subnet "${E2E_KIND_CONFIG}" 2>&1)" ||
    abort "networking.serviceSubnet read from ${E2E_KIND_CONFIG}" "${out}"
  SERVICE_SUBNET="${out}"
  IP_FAMILY="$(node "${HELPER}" ip-family "${E2E_KIND_CONFIG}")"
  case "${IP_FAMILY}" in
    dual)
      out="$(node "${HELPER}" service-subnet "${E2E_KIND_CONFIG}" ipv4 2>&1)" ||
        abort "serviceSubnet ${SERVICE_SUBNET} has an IPv4 range" "${out}"
      SERVICE_SUBNET_V4="${out}"
      node "${HELPER}" service-subnet "${E2E_KIND_CONFIG}" ipv6 >/dev/null 2>&1 ||
        abort "serviceSubnet ${SERVICE_SUBNET} has an IPv6 range"
      ;;
    ipv6)
      if [[ "${SERVICE_SUBNET}" == *,* ]] || ! node "${HELPER}" service-subnet "${E2E_KIND_CONFIG}" ipv6 >/dev/null 2>&1; then
        abort "serviceSubnet ${SERVICE_SUBNET} of an ipFamily ipv6 cluster is one IPv6 range"
      fi
      ;;
    *) abort "networking.ipFamily of ${E2E_KIND_CONFIG} is dual or ipv6" "got ${IP_FAMILY}" ;;
  esac
  pass "service range from ${E2E_KIND_CONFIG} (ipFamily ${IP_FAMILY}): ${SERVICE_SUBNET}"
  [[ -d "${CALICO_CRDS_DIR}" ]] || missing "Calico CRDs dir ${CALICO_CRDS_DIR}" "set CALICO_CRDS_DIR"
  if [[ ! -r "${E2E_TIGERA_OPERATOR_MANIFEST}" ]]; then
    if [[ "${CI}" == "true" ]]; then
      abort "tigera-operator manifest ${E2E_TIGERA_OPERATOR_MANIFEST} found" "set E2E_TIGERA_OPERATOR_MANIFEST"
    fi
    skip "tigera-operator manifest ${E2E_TIGERA_OPERATOR_MANIFEST} not found: deploy's step 4 is NOT proven (set E2E_TIGERA_OPERATOR_MANIFEST)"
    E2E_TIGERA_OPERATOR_MANIFEST=""
    return 0
  fi
  # deploy.sh applies nothing whose sha256 is not its pin; neither does this suite.
  local pin got
  pin="$(sed -n 's/^LAB_TIGERA_OPERATOR_PINNED_SHA256=//p' "${REPO_ROOT}/scripts/lib/preflight.sh")"
  got="$(sha256sum "${E2E_TIGERA_OPERATOR_MANIFEST}" | cut -d' ' -f1)"
  if [[ -n "${pin}" && "${got}" == "${pin}" ]]; then
    pass "tigera-operator manifest sha256 ${got} is deploy.sh's pin"
  else
    abort "tigera-operator manifest sha256 is deploy.sh's pin" "expected ${pin:-?}, got ${got} (${E2E_TIGERA_OPERATOR_MANIFEST})"
  fi
}

# ------------------------------------------------------------- control plane --

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local port i
  for ((i = 0; i < 100; i++)); do
    port=$((20000 + RANDOM % 30000))
    if ! port_in_use "${port}"; then
      echo "${port}"
      return 0
    fi
  done
  echo "no free loopback port found after 100 tries" >&2
  return 1
}

# wait_for WHAT PID CMD...: poll CMD until it succeeds, PID dies, or E2E_TIMEOUT passes.
wait_for() {
  local what="$1" pid="$2" deadline=$((SECONDS + E2E_TIMEOUT))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [[ -n "${pid}" ]] && ! kill -0 "${pid}" 2>/dev/null; then
      echo "gave up waiting for ${what}: the process exited (see its log below)" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "timed out after ${E2E_TIMEOUT}s waiting for ${what}" >&2
      return 1
    fi
    sleep 0.5
  done
}

start_bg() { # NAME LOG CMD... ; sets LAST_PID
  local name="$1" log="$2"
  shift 2
  "$@" >"${log}" 2>&1 &
  LAST_PID=$!
  PIDS+=("${LAST_PID}")
  PID_NAMES[${LAST_PID}]="${name}"
}

generate_certs() {
  local d="${TMP_DIR}/pki"
  mkdir -p "${d}"
  (
    cd "${d}"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj "/CN=e2e-ca"
    cat >serving.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:${FIRST_SERVICE_IP}
EOF
    openssl req -newkey rsa:2048 -nodes -keyout serving.key -out serving.csr -subj "/CN=kube-apiserver"
    openssl x509 -req -in serving.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
      -extfile serving.ext -out serving.crt
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >client.ext
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=e2e-admin"
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
      -extfile client.ext -out admin.crt
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  ) >"${TMP_DIR}/openssl.log" 2>&1
}

start_etcd() {
  local client_port peer_port
  client_port="$(free_port)" || return 1
  peer_port="$(free_port)" || return 1
  ETCD_URL="http://127.0.0.1:${client_port}"
  start_bg etcd "${TMP_DIR}/etcd.log" "${ETCD}" \
    --name=e2e \
    --data-dir="${TMP_DIR}/etcd" \
    --listen-client-urls="${ETCD_URL}" \
    --advertise-client-urls="${ETCD_URL}" \
    --listen-peer-urls="http://127.0.0.1:${peer_port}" \
    --initial-advertise-peer-urls="http://127.0.0.1:${peer_port}" \
    --initial-cluster="e2e=http://127.0.0.1:${peer_port}" \
    --unsafe-no-fsync=true \
    --log-level=warn
  wait_for "etcd ${ETCD_URL}/health" "${LAST_PID}" etcd_healthy
}

# etcd_healthy: GET /health answers {"health":"true"} (bash /dev/tcp: no curl needed).
etcd_healthy() {
  local body
  # shellcheck disable=SC2016 # expanded by the inner bash
  body="$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' _ "${ETCD_URL##*:}")" || return 1
  [[ "${body}" == *'"health":"true"'* ]]
}

# start_apiserver NAME SERVICE_RANGE ETCD_PREFIX: start a kube-apiserver and write
# ${TMP_DIR}/NAME.kubeconfig; waits for /readyz and the default namespace.
start_apiserver() {
  local name="$1" range="$2" prefix="$3" port kubeconfig="${TMP_DIR}/$1.kubeconfig" pki="${TMP_DIR}/pki"
  port="$(free_port)" || return 1
  LAST_APISERVER_PORT="${port}"
  start_bg "${name}" "${TMP_DIR}/${name}.log" "${KUBE_APISERVER}" \
    --etcd-servers="${ETCD_URL}" \
    --etcd-prefix="${prefix}" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="${port}" \
    --cert-dir="${TMP_DIR}/${name}-certs" \
    --tls-cert-file="${pki}/serving.crt" \
    --tls-private-key-file="${pki}/serving.key" \
    --client-ca-file="${pki}/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="${pki}/sa.pub" \
    --service-account-signing-key-file="${pki}/sa.key" \
    --service-cluster-ip-range="${range}" \
    --authorization-mode=RBAC \
    --allow-privileged=true \
    --disable-admission-plugins=ServiceAccount \
    --enable-priority-and-fairness=false \
    --endpoint-reconciler-type=none \
    --profiling=false
  local pid="${LAST_PID}"
  local kc=("${KUBECTL}" config --kubeconfig="${kubeconfig}")
  if ! { "${kc[@]}" set-cluster e2e --server="https://127.0.0.1:${port}" \
    --certificate-authority="${pki}/ca.crt" --embed-certs=true &&
    "${kc[@]}" set-credentials e2e-admin --client-certificate="${pki}/admin.crt" \
      --client-key="${pki}/admin.key" --embed-certs=true &&
    "${kc[@]}" set-context e2e --cluster=e2e --user=e2e-admin --namespace=default &&
    "${kc[@]}" use-context e2e; } >/dev/null; then
    echo "could not write ${kubeconfig}" >&2
    return 1
  fi
  wait_for "${name} https://127.0.0.1:${port}/readyz" "${pid}" \
    "${KUBECTL}" --kubeconfig="${kubeconfig}" --request-timeout=5s get --raw=/readyz &&
    wait_for "${name}: namespace default" "${pid}" \
      "${KUBECTL}" --kubeconfig="${kubeconfig}" --request-timeout=5s get namespace default
}

start_control_plane() {
  local out err="${TMP_DIR}/start.err"
  # The kubernetes Service's address: the first of the primary (first) range.
  FIRST_SERVICE_IP="$(node -e 'const ip=require("ipaddr.js");const [a]=ip.parseCIDR(process.argv[1].split(",")[0]);const b=a.toByteArray();b[b.length-1]+=1;console.log(ip.fromByteArray(b).toString())' "${SERVICE_SUBNET}")"
  out="$(generate_certs 2>&1)" || abort "certificates generated with openssl" "${out}$(tail -n 20 "${TMP_DIR}/openssl.log")"
  # Not in $(...): these record the PIDs that teardown stops.
  start_etcd 2>"${err}" || abort "etcd started" "$(cat "${err}")"
  pass "etcd healthy at ${ETCD_URL}"
  start_apiserver kube-apiserver "${SERVICE_SUBNET}" /registry 2>"${err}" ||
    abort "kube-apiserver ready (--service-cluster-ip-range=${SERVICE_SUBNET})" "$(cat "${err}")"
  pass "kube-apiserver ready (--service-cluster-ip-range=${SERVICE_SUBNET})"
  APISERVER_PORT="${LAST_APISERVER_PORT}"
  export KUBECONFIG="${TMP_DIR}/kube-apiserver.kubeconfig"
}

# ------------------------------------------------------------------- helpers --

# k ARGS...: kubectl against the dual-stack API server, every request bounded.
k() {
  "${KUBECTL}" --request-timeout="${E2E_TIMEOUT}s" "$@"
}

# resource_of APIVERSION KIND -> a kubectl resource argument (Kind.version.group)
resource_of() {
  local api_version="$1" kind="$2"
  if [[ "${api_version}" == */* ]]; then
    echo "${kind}.${api_version#*/}.${api_version%%/*}"
  else
    echo "${kind}"
  fi
}

get_json() { # APIVERSION KIND NAMESPACE NAME OUT_FILE
  local ns=()
  [[ "$3" == "-" ]] || ns=(--namespace="$3")
  k get "$(resource_of "$1" "$2")" "$4" "${ns[@]}" -o json >"$5"
}

# -------------------------------------------------------------------- checks --

install_crds() {
  local files count names=() out
  files="$(find "${CALICO_CRDS_DIR}" -maxdepth 1 -name '*.yaml' | sort)"
  count="$(grep -c . <<<"${files}" || true)"
  ((count > 0)) || abort "Calico CRDs found in ${CALICO_CRDS_DIR}"
  # Server-side: the Installation CRD is too large for client-side apply's annotation.
  out="$(k apply --server-side --field-manager=calico-ipv6-lab-e2e -f "${CALICO_CRDS_DIR}" -o name 2>&1)" ||
    abort "${count} Calico CRDs applied (server-side) from ${CALICO_CRDS_DIR}" "${out}"
  mapfile -t names < <(grep '^customresourcedefinition' <<<"${out}")
  if ((${#names[@]} != count)); then
    abort "${count} Calico CRDs applied" "kubectl reported ${#names[@]} CRDs: ${out}"
  fi
  out="$(k wait --for=condition=Established --timeout="${E2E_TIMEOUT}s" "${names[@]}" 2>&1)" ||
    abort "${count} Calico CRDs Established within ${E2E_TIMEOUT}s" "${out}"
  pass "${count} Calico CRDs from ${CALICO_CRDS_DIR} applied server-side and Established"
}

# apply_operator_manifest: deploy.sh's step 4 as it runs it (same sha256 pin,
# same kubectl apply), so the real manifest is proven against the real API
# server before dist/ goes on top. No kubelet: the operator never runs; this
# proves what the API server accepts.
apply_operator_manifest() {
  local file="${E2E_TIGERA_OPERATOR_MANIFEST}" out crds=()
  # Exactly deploy.sh's install_operator.
  out="$(k apply --server-side --force-conflicts -f "${file}" 2>&1)" ||
    abort "kubectl apply --server-side --force-conflicts -f ${file}" "${out}"
  pass "kubectl apply --server-side --force-conflicts -f ${file} ($(grep -c . <<<"${out}") objects)"
  mapfile -t crds < <(sed -n 's|^\(customresourcedefinition[^ ]*\) serverside-applied$|\1|p' <<<"${out}")
  out="$(k wait --for=condition=Established --timeout="${E2E_TIMEOUT}s" "${crds[@]}" 2>&1)" ||
    abort "${#crds[@]} CRDs of the tigera-operator manifest Established" "${out}"
  pass "${#crds[@]} CRDs of the tigera-operator manifest Established"
  out="$(k get deployment tigera-operator -n tigera-operator -o jsonpath='{.spec.template.spec.containers[0].image}' 2>&1)"
  if [[ "${out}" == "quay.io/tigera/operator:v1.34.13" ]]; then
    pass "Deployment tigera-operator/tigera-operator stored, image ${out} (never runs here: no kubelet)"
  else
    fail "Deployment tigera-operator/tigera-operator stored with image quay.io/tigera/operator:v1.34.13" "${out}"
  fi
}

# check_generated_configs: a bounded sample of generated valid lab configurations (the property suite's
# generator, fixed seed), each rendered as synth renders it; the real API server must accept every
# manifest of each in a strict server-side dry-run. Runs before dist is applied, so each object is a
# create. One kubectl for all of them (kubectl's start-up is most of the cost); its errors name the file.
check_generated_configs() {
  local dir="${TMP_DIR}/generated" out lines dir_i what args=() count=0
  if ((E2E_GENERATED_CONFIGS == 0)); then
    skip "generated configurations (E2E_GENERATED_CONFIGS=0)"
    return 0
  fi
  if ! lines="$(node -r "${REPO_ROOT}/scripts/swc-register.js" "${REPO_ROOT}/scripts/e2e/generated-configs.ts" \
    "${dir}" "${E2E_GENERATED_CONFIGS}" "${E2E_GENERATED_SEED}" 2>&1)"; then
    fail "${E2E_GENERATED_CONFIGS} generated lab configurations rendered (seed ${E2E_GENERATED_SEED})" "${lines}"
    return 0
  fi
  while IFS=$'\t' read -r dir_i what; do
    [[ -n "${dir_i}" ]] || continue
    args+=(-f "${dir_i}")
    count=$((count + 1))
    echo "     generated config ${dir_i##*/}: ${what}"
  done <<<"${lines}"
  if out="$(k apply --dry-run=server --validate=strict "${args[@]}" 2>&1)"; then
    pass "${count} generated configs (seed ${E2E_GENERATED_SEED}) pass kubectl apply --dry-run=server --validate=strict ($(grep -c . <<<"${out}") objects)"
  else
    # Only what was refused: 8 objects a config would push kubectl's reason past fail's 40 lines.
    fail "${count} generated configs (seed ${E2E_GENERATED_SEED}) pass kubectl apply --dry-run=server --validate=strict (files under ${dir})" \
      "$(grep -v ' (server dry run)$' <<<"${out}")"
  fi
}

apply_dist() {
  local out
  out="$(k apply --validate=strict -f "${E2E_MANIFEST_DIR}" 2>&1)" ||
    abort "kubectl apply --validate=strict -f ${E2E_MANIFEST_DIR}" "${out}"
  APPLY_OUTPUT="${out}"
  pass "kubectl apply --validate=strict -f ${E2E_MANIFEST_DIR} ($(grep -vc '^Warning:' <<<"${out}") objects)"
}

check_objects_exist() {
  local api_version kind ns name out objects
  objects="$(node "${HELPER}" objects "${E2E_MANIFEST_DIR}" 2>&1)" ||
    abort "objects of ${E2E_MANIFEST_DIR}/*.yaml read" "${objects}"
  while IFS=$'\t' read -r api_version kind ns name; do
    [[ -n "${kind}" ]] || continue
    if out="$(get_json "${api_version}" "${kind}" "${ns}" "${name}" /dev/null 2>&1)"; then
      pass "exists: ${api_version} ${kind} ${ns/#-/<cluster>}/${name}"
    else
      fail "exists: ${api_version} ${kind} ${ns/#-/<cluster>}/${name}" "${out}"
    fi
  done <<<"${objects}"
}

check_service_ips() { # NAMESPACE NAME FAMILIES
  local ns="$1" name="$2" families="$3" file="${TMP_DIR}/svc-$2.json" out
  if ! out="$(get_json v1 Service "${ns}" "${name}" "${file}" 2>&1)"; then
    fail "Service ${ns}/${name} has ClusterIPs ${families}" "${out}"
    return
  fi
  if out="$(node "${HELPER}" check-cluster-ips "${file}" "${SERVICE_SUBNET}" "${families}" 2>&1)"; then
    pass "Service ${ns}/${name} has ClusterIPs ${families} in ${SERVICE_SUBNET}: ${out}"
  else
    fail "Service ${ns}/${name} has ClusterIPs ${families} in ${SERVICE_SUBNET}" "${out}"
  fi
}

# check_every_service_ips: each Service of the dist got one ClusterIP per family it names.
check_every_service_ips() {
  local ns name families count=0
  while IFS=$'\t' read -r ns name families; do
    [[ -n "${name}" ]] || continue
    count=$((count + 1))
    check_service_ips "${ns}" "${name}" "${families}"
  done < <(node "${HELPER}" services "${E2E_MANIFEST_DIR}")
  ((count > 0)) || fail "${E2E_MANIFEST_DIR} has Services to check"
}

# check_specs_stored LABEL KIND_PATTERN: the stored .spec of each object of
# E2E_MANIFEST_DIR whose "apiVersion kind" matches the extended regex equals dist's.
check_specs_stored() {
  local label="$1" pattern="$2" api_version kind ns name out file count=0
  while IFS=$'\t' read -r api_version kind ns name; do
    [[ "${api_version} ${kind}" =~ ^(${pattern})$ ]] || continue
    count=$((count + 1))
    file="${TMP_DIR}/stored-${kind}-${name}.json"
    if out="$(get_json "${api_version}" "${kind}" "${ns}" "${name}" "${file}" 2>&1)" &&
      out="$(node "${HELPER}" compare-spec "${E2E_MANIFEST_DIR}" "${api_version}" "${kind}" "${name}" "${file}" 2>&1)"; then
      pass "${label}stored ${kind} ${name} .spec equals ${E2E_MANIFEST_DIR}'s (nothing pruned or defaulted)"
    else
      fail "${label}stored ${kind} ${name} .spec equals ${E2E_MANIFEST_DIR}'s" "${out}"
    fi
  done < <(node "${HELPER}" objects "${E2E_MANIFEST_DIR}")
  if ((count == 0)); then
    fail "${label}${E2E_MANIFEST_DIR} has objects matching ${pattern} to compare"
  fi
}

check_reapply_unchanged() {
  local out changed
  if ! out="$(k apply --validate=strict -f "${E2E_MANIFEST_DIR}" 2>&1)"; then
    fail "second kubectl apply succeeds" "${out}"
    return
  fi
  changed="$(grep -v ' unchanged$' <<<"${out}" || true)"
  if [[ -z "${changed}" && -n "${out}" ]]; then
    pass "second kubectl apply changes nothing ($(grep -c . <<<"${out}") unchanged)"
  else
    fail "second kubectl apply changes nothing" "${changed:-no output}"$'\n'"$(explain_dropped_fields)"
  fi
}

# explain_dropped_fields: name the fields of dist that the server does not store
# as written (zero values dropped, defaults changed): client-side apply sends
# them again on every apply, so the object never reads "unchanged".
explain_dropped_fields() {
  local api_version kind ns name file out
  while IFS=$'\t' read -r api_version kind ns name; do
    file="${TMP_DIR}/dropped-${kind}-${name}.json"
    get_json "${api_version}" "${kind}" "${ns}" "${name}" "${file}" 2>/dev/null || continue
    if ! out="$(node "${HELPER}" dropped-fields "${E2E_MANIFEST_DIR}" "${api_version}" "${kind}" "${name}" "${file}" 2>&1)"; then
      echo "fields of ${kind} ${name} not stored as written in ${E2E_MANIFEST_DIR}:"
      printf '  %s\n' "${out//$'\n'/$'\n'  }"
    fi
  done < <(node "${HELPER}" objects "${E2E_MANIFEST_DIR}")
}

check_diff_clean() {
  local out rc=0
  out="$(k diff -f "${E2E_MANIFEST_DIR}" 2>&1)" || rc=$?
  if ((rc == 0)); then
    pass "kubectl diff -f ${E2E_MANIFEST_DIR} exits 0"
  else
    fail "kubectl diff -f ${E2E_MANIFEST_DIR} exits 0 (exit ${rc})" "${out}"
  fi
}

check_unknown_field_rejected() {
  local copy="${TMP_DIR}/dist-unknown-field" out changed rc=0
  if ! changed="$(node "${HELPER}" inject-unknown-field "${E2E_MANIFEST_DIR}" "${copy}" "${UNKNOWN_FIELD}" 2>&1)"; then
    fail "negative: copy of ${E2E_MANIFEST_DIR} with an unknown IPPool field written" "${changed}"
    return
  fi
  out="$(k apply --validate=strict -f "${copy}" 2>&1)" || rc=$?
  # kubectl 1.28 --validate=strict: ... strict decoding error: unknown field "spec.<field>"
  if ((rc != 0)) && grep -q "unknown field \"spec.${UNKNOWN_FIELD}\"" <<<"${out}"; then
    pass "negative: strict validation rejects unknown field spec.${UNKNOWN_FIELD} in ${changed}: $(grep -o 'strict decoding error: .*' <<<"${out}" | head -n 1)"
  else
    fail "negative: strict validation rejects unknown field spec.${UNKNOWN_FIELD} in ${changed}" \
      "kubectl exit ${rc}, output:"$'\n'"${out}"
  fi
}

# synth_variant ROUTING: the lab with `routing: ROUTING` and every other key at its default, synthesized
# by the cdk8s CLI as a user does; prints the dist directory.
# base_config: the lab configuration lines a variant's synth starts from: the families of the lab
# under test (an IPv6-only dist gets IPv6-only variants), the rest default.
base_config() {
  if [[ "${IP_FAMILY}" == ipv6 ]]; then
    printf 'ipFamilies: [IPv6]\n'
  fi
}

synth_variant() {
  local routing="$1" dir="${TMP_DIR}/variant-$1"
  mkdir -p "${dir}"
  { base_config; printf 'routing: %s\n' "${routing}"; } >"${dir}/lab.config.yaml"
  (cd "${REPO_ROOT}" && LAB_CONFIG="${dir}/lab.config.yaml" LAB_DIST_DIR="${dir}/dist" CDK8S_CHECK_UPGRADE=false \
    node_modules/.bin/cdk8s synth --output "${dir}/staging") >"${dir}/synth.log" 2>&1 || {
    cat "${dir}/synth.log" >&2
    return 1
  }
  echo "${dir}/dist"
}

# check_variant ROUTING: the variant's manifests applied over the lab's, checked as the lab's are.
check_variant() {
  local routing="$1" dist out main="${E2E_MANIFEST_DIR}"
  if ! dist="$(synth_variant "${routing}" 2>"${TMP_DIR}/variant.err")"; then
    fail "routing ${routing}: npx cdk8s synth" "$(cat "${TMP_DIR}/variant.err")"
    return
  fi
  out="$(node "${HELPER}" objects "${dist}" | cut -f2 | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')"
  pass "routing ${routing}: synthesized from '$(base_config | tr '\n' ' ')routing: ${routing}' to ${dist} (${out})"
  E2E_MANIFEST_DIR="${dist}"
  apply_dist
  check_objects_exist
  check_specs_stored "routing ${routing}: " "${SPEC_KINDS}"
  check_reapply_unchanged
  check_diff_clean
  if [[ "${routing}" == bgp ]]; then
    check_four_octet_as
  fi
  E2E_MANIFEST_DIR="${main}"
}

# check_four_octet_as: a BGPPeer whose asNumber needs all 32 bits is accepted and kept as written
# (server-side dry run: nothing changes).
check_four_octet_as() {
  local name file="${TMP_DIR}/bgppeer-four-octet.yaml" out rc=0
  name="$(node "${HELPER}" objects "${E2E_MANIFEST_DIR}" | awk -F'\t' '$2 == "BGPPeer" {print $4; exit}')"
  if ! out="$(node "${HELPER}" extract "${E2E_MANIFEST_DIR}" crd.projectcalico.org/v1 BGPPeer "${name}" "${file}" 2>&1)"; then
    fail "BGPPeer ${name} with asNumber ${FOUR_OCTET_AS} accepted as written" "${out}"
    return
  fi
  sed -i "s/^  asNumber: .*/  asNumber: ${FOUR_OCTET_AS}/" "${file}"
  out="$(k apply --validate=strict --dry-run=server -f "${file}" -o jsonpath='{.spec.asNumber}' 2>&1)" || rc=$?
  if ((rc == 0)) && [[ "${out}" == "${FOUR_OCTET_AS}" ]]; then
    pass "BGPPeer ${name} with asNumber ${FOUR_OCTET_AS} (above the CRD's format int32) accepted as written (server-side dry run)"
  else
    fail "BGPPeer ${name} with asNumber ${FOUR_OCTET_AS} accepted as written" "kubectl exit ${rc}, output: ${out}"
  fi
}

# ------------------------------------------------------------ policy lesson --

# policy_dist: E2E_POLICY_DIST, else a synth of `policy: on` into the temp dir
# (the cdk8s CLI, as a user runs it).
policy_dist() {
  if [[ -n "${E2E_POLICY_DIST}" ]]; then
    echo "${E2E_POLICY_DIST}"
    return 0
  fi
  local dir="${TMP_DIR}/policy-dist"
  { base_config; printf 'policy: on\n'; } >"${TMP_DIR}/policy.config.yaml"
  LAB_CONFIG="${TMP_DIR}/policy.config.yaml" LAB_DIST_DIR="${dir}" CDK8S_CHECK_UPGRADE=false \
    "${REPO_ROOT}/node_modules/.bin/cdk8s" synth --output "${TMP_DIR}/policy-staging" >"${TMP_DIR}/policy-synth.log" 2>&1 ||
    { cat "${TMP_DIR}/policy-synth.log" >&2; return 1; }
  echo "${dir}"
}

# check_policy_lesson: the lesson's policy/ through the real API server. The
# Kubernetes NetworkPolicies pass strict validation and are stored as written;
# the projectcalico.org/v3 policy cannot be validated here (no Calico API server
# runs: calico-crd-schema.test.ts checks its spec against the CRD schema), and
# applying policy/ without that API server fails loudly, naming the kind, as it
# does for a user who skips the wait for tigerastatus/apiserver.
check_policy_lesson() {
  local dist dir out rc=0 np_file calico_file changed copy
  if ! dist="$(policy_dist 2>&1)"; then
    fail "a dist with policy: on synthesized" "${dist}"
    return
  fi
  dir="${dist}/policy"
  np_file="$(find "${dir}" -maxdepth 1 -name '*network-policy.k8s.yaml' | head -n 1)"
  calico_file="$(find "${dir}" -maxdepth 1 -name '*calico-policy.k8s.yaml' | head -n 1)"
  if [[ -z "${np_file}" || -z "${calico_file}" ]]; then
    fail "${dir} holds the lesson's network-policy and calico-policy files" "$(ls -la "${dir}" 2>&1)"
    return
  fi
  out="$(k apply --validate=strict -f "${dir}" 2>&1)" || rc=$?
  # kubectl 1.28: error: resource mapping not found for name: "allow-ping" namespace: "default" from
  #   "...": no matches for kind "NetworkPolicy" in version "projectcalico.org/v3"
  if ((rc != 0)) && grep -q 'no matches for kind "NetworkPolicy" in version "projectcalico.org/v3"' <<<"${out}"; then
    pass "policy/ applied without the Calico API server fails clearly (exit ${rc}): $(grep -o 'no matches for kind .*' <<<"${out}" | head -n 1)"
  else
    fail "policy/ applied without the Calico API server fails, naming projectcalico.org/v3" "kubectl exit ${rc}, output:"$'\n'"${out}"
  fi
  if grep -Eq '^networkpolicy.networking.k8s.io/[a-z-]+ (created|configured|unchanged)$' <<<"${out}"; then
    pass "the same apply stored the Kubernetes NetworkPolicies: $(grep -c '^networkpolicy.networking.k8s.io/' <<<"${out}") ($(grep -o '^networkpolicy.networking.k8s.io/[a-z-]*' <<<"${out}" | sed 's|.*/||' | paste -sd, -))"
  else
    fail "the same apply stored the Kubernetes NetworkPolicies" "${out}"
  fi
  E2E_MANIFEST_DIR="${dir}" check_specs_stored "policy: " "networking\.k8s\.io/v1 NetworkPolicy"
  if out="$(k apply --validate=strict -f "${np_file}" 2>&1)" && changed="$(grep -v ' unchanged$' <<<"${out}" || true)" && [[ -z "${changed}" ]]; then
    pass "policy: re-applying $(basename "${np_file}") changes nothing ($(grep -c . <<<"${out}") unchanged)"
  else
    fail "policy: re-applying $(basename "${np_file}") changes nothing" "${out}"
  fi
  copy="${TMP_DIR}/policy-unknown-field"
  if ! changed="$(node "${HELPER}" inject-unknown-field "${dir}" "${copy}" "${UNKNOWN_FIELD}" networking.k8s.io/v1/NetworkPolicy 2>&1)"; then
    fail "policy: negative: copy with an unknown NetworkPolicy field written" "${changed}"
    return
  fi
  rc=0
  out="$(k apply --validate=strict -f "${copy}/$(basename "${np_file}")" 2>&1)" || rc=$?
  if ((rc != 0)) && grep -q "unknown field \"spec.${UNKNOWN_FIELD}\"" <<<"${out}"; then
    pass "policy: negative: strict validation rejects unknown field spec.${UNKNOWN_FIELD} in ${changed}"
  else
    fail "policy: negative: strict validation rejects unknown field spec.${UNKNOWN_FIELD} in ${changed}" "kubectl exit ${rc}, output:"$'\n'"${out}"
  fi
}

check_dual_stack_needs_dual_stack_server() {
  local name=kube-apiserver-ipv4 svc="${TMP_DIR}/dual-stack-service.yaml" out reason rc=0
  if ! start_apiserver "${name}" "${SERVICE_SUBNET_V4}" /registry-ipv4-only 2>"${TMP_DIR}/start.err"; then
    fail "negative: IPv4-only kube-apiserver ready (--service-cluster-ip-range=${SERVICE_SUBNET_V4})" \
      "$(cat "${TMP_DIR}/start.err")"
    return
  fi
  pass "negative: IPv4-only kube-apiserver ready (--service-cluster-ip-range=${SERVICE_SUBNET_V4})"
  if ! out="$(node "${HELPER}" extract "${E2E_MANIFEST_DIR}" v1 Service multitool-dual-stack "${svc}" 2>&1)"; then
    fail "negative: RequireDualStack Service rejected by an IPv4-only API server" "${out}"
    return
  fi
  out="$(k --kubeconfig="${TMP_DIR}/${name}.kubeconfig" apply --validate=strict -f "${svc}" 2>&1)" || rc=$?
  # kube-apiserver 1.28: spec.ipFamilyPolicy: Invalid value: "RequireDualStack":
  #   this cluster is not configured for dual-stack services
  reason="$(grep 'ipFamilyPolicy.*RequireDualStack' <<<"${out}" || true)"
  if ((rc != 0)) && [[ -n "${reason}" ]]; then
    pass "negative: RequireDualStack Service rejected by an IPv4-only API server:${reason#\*}"
  else
    fail "negative: RequireDualStack Service rejected by an IPv4-only API server" \
      "kubectl exit ${rc}, output:"$'\n'"${out}"
  fi
}

# check_dual_stack_refused_by_ipv6_only_server: the default lab's RequireDualStack Service on this
# IPv6-only API server is refused: why an IPv6-only dist has no dual-stack Service.
check_dual_stack_refused_by_ipv6_only_server() {
  local svc="${TMP_DIR}/dual-stack-service.yaml" out reason rc=0 what
  what="negative: the default lab's RequireDualStack Service rejected by this IPv6-only API server"
  if ! out="$(node "${HELPER}" extract "${REPO_ROOT}/dist" v1 Service multitool-dual-stack "${svc}" 2>&1)"; then
    fail "${what}" "${out}"
    return
  fi
  out="$(k apply --validate=strict -f "${svc}" 2>&1)" || rc=$?
  # kube-apiserver 1.28: spec.ipFamilyPolicy: Invalid value: "RequireDualStack":
  #   this cluster is not configured for dual-stack services
  reason="$(grep -o 'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": [^,]*' <<<"${out}" || true)"
  if ((rc != 0)) && [[ -n "${reason}" ]]; then
    pass "${what}: ${reason}"
  else
    fail "${what}" "kubectl exit ${rc}, output:"$'\n'"${out}"
  fi
}

main() {
  cd "${REPO_ROOT}"
  trap cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 141' PIPE
  trap 'exit 143' TERM
  echo "e2e: kubectl apply -f ${E2E_MANIFEST_DIR} against a real kube-apiserver 1.${E2E_K8S_MINOR}"
  resolve_binaries
  read_inputs
  TMP_DIR="$(mktemp -d "${TMPDIR:-/tmp}/calico-ipv6-lab-e2e.XXXXXX")"
  export KUBECACHEDIR="${TMP_DIR}/kube-cache"
  start_control_plane
  # The manifest brings the Calico CRDs, as in deploy; CALICO_CRDS_DIR stands in without it.
  if [[ -n "${E2E_TIGERA_OPERATOR_MANIFEST}" ]]; then
    apply_operator_manifest
  else
    install_crds
  fi
  # The generated configurations are dual-stack: they need the dual-stack API server.
  if [[ "${IP_FAMILY}" != ipv6 ]]; then
    check_generated_configs
  fi
  # An IPv6-only dist takes over kubeadm's coredns ConfigMap, which a real cluster has by now.
  if dist_has_coredns; then
    create_kubeadm_coredns_configmap
  fi
  apply_dist
  check_objects_exist
  check_every_service_ips
  check_specs_stored "" "${SPEC_KINDS}"
  if dist_has_coredns; then
    check_coredns_configmap_taken_over
  fi
  check_reapply_unchanged
  check_diff_clean
  check_unknown_field_rejected
  check_specs_stored "after the rejected apply: " "${IPPOOL_KIND}"
  local variant
  for variant in ${E2E_VARIANTS}; do
    check_variant "${variant}"
  done
  check_policy_lesson
  if [[ "${IP_FAMILY}" == ipv6 ]]; then
    check_dual_stack_refused_by_ipv6_only_server
  else
    check_dual_stack_needs_dual_stack_server
  fi
  if dist_has_coredns; then
    check_coredns
  fi
}

main "$@"
