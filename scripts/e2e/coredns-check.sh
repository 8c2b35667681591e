#!/usr/bin/env bash
# coredns-check.sh - the DNS checks of scripts/e2e/run.sh for a dist that carries kube-system's coredns
# ConfigMap (an IPv6-only lab). Sourced by run.sh, whose pass/fail/skip, k, get_json, start_bg and
# E2E_* settings it uses.
#
#   create_kubeadm_coredns_configmap  kubeadm v1.28.15's own coredns ConfigMap, created as `kubeadm init`
#                                     does (no last-applied annotation), before dist is applied over it;
#   check_coredns_configmap_taken_over  kubectl apply warned and patched it; the stored Corefile is dist's;
#   check_coredns                     the stored Corefile loaded by a real CoreDNS v1.10.1, which answers
#                                     cluster names from this API server (its kubernetes plugin, with a
#                                     service-account token as in a pod), synthesizes AAAA records in the
#                                     dist's dns64 prefix for an A-only name of the upstream, and leaves a
#                                     name with its own AAAA unchanged.
#
# check_coredns runs CoreDNS in this network namespace (port 53 and the ports of its health, ready and
# prometheus plugins) and needs the dist's upstream resolver to answer the names below: run.sh runs it
# when scripts/e2e/run-ipv6-only.sh has made that namespace and the stand-in upstream. It needs root
# (a private mount namespace holds the service-account files CoreDNS reads) and dig.
#
# Environment:
#   E2E_COREDNS                 CoreDNS binary (scripts/e2e/build-coredns.sh); unset: the check is
#                               skipped loudly, or fails with CI=true
#   E2E_DNS_A_ONLY              NAME=IPV4 the upstream answers with an A record only
#   E2E_DNS_WITH_AAAA           NAME=IPV6 the upstream answers with its own AAAA record
#   E2E_KUBEADM_DNS_MANIFESTS   kubeadm's cmd/kubeadm/app/phases/addons/dns/manifests.go
#                               [from the Go module cache: go mod download k8s.io/kubernetes@v1.28.15]
#   E2E_FIXTURES_DIR            copy CoreDNS's log and the dig answers there

COREDNS_READY_PORT=8181
KUBEADM_VERSION=1.28.15
DIST_COREDNS=""

# dist_has_coredns: the dist has kube-system's coredns ConfigMap (read once).
dist_has_coredns() {
  if [[ -z "${DIST_COREDNS}" ]]; then
    DIST_COREDNS="$(node "${HELPER}" corefile "${E2E_MANIFEST_DIR}")"
    DIST_COREDNS="${DIST_COREDNS:-none}"
  fi
  [[ "${DIST_COREDNS}" != none ]]
}

# corefile_value KEY: upstreams or dns64_prefix of the dist's Corefile.
corefile_value() {
  sed -n "s/^$1=//p" <<<"${DIST_COREDNS}"
}

# kubeadm_dns_manifests: the path of kubeadm's dns manifests.go, or nothing.
kubeadm_dns_manifests() {
  if [[ -n "${E2E_KUBEADM_DNS_MANIFESTS:-}" ]]; then
    echo "${E2E_KUBEADM_DNS_MANIFESTS}"
    return
  fi
  local go dir
  go="${GO:-$(command -v go || true)}"
  [[ -n "${go}" ]] || go=/usr/local/go/bin/go
  [[ -x "${go}" ]] || return 0
  dir="$(cd "${TMP_DIR}" && GOFLAGS=-mod=mod "${go}" mod download -json "k8s.io/kubernetes@v${KUBEADM_VERSION}" 2>/dev/null |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')" || true
  # Not found is an empty answer, not a failure: the caller says why (under set -e a false test here
  # ended the whole run without a word).
  if [[ -n "${dir}" ]]; then
    echo "${dir}/cmd/kubeadm/app/phases/addons/dns/manifests.go"
  fi
}

create_kubeadm_coredns_configmap() {
  local manifests file="${TMP_DIR}/kubeadm-coredns.yaml" out forward what="kubeadm v${KUBEADM_VERSION}'s own coredns ConfigMap created first, as kubeadm init leaves it"
  manifests="$(kubeadm_dns_manifests)"
  if [[ -z "${manifests}" || ! -r "${manifests}" ]]; then
    if [[ "${CI}" == "true" ]]; then
      fail "${what}" "kubeadm's manifests.go not found (Go module k8s.io/kubernetes@v${KUBEADM_VERSION}); set E2E_KUBEADM_DNS_MANIFESTS"
    else
      skip "${what}: kubeadm's manifests.go not found (no Go, or k8s.io/kubernetes@v${KUBEADM_VERSION} not downloadable); set E2E_KUBEADM_DNS_MANIFESTS"
    fi
    return 0
  fi
  if forward="$(node "${HELPER}" kubeadm-coredns-configmap "${manifests}" cluster.local "${file}" 2>&1)" &&
    out="$(k create -f "${file}" 2>&1)"; then
    pass "${what} (its Corefile: forward . ${forward}; from ${manifests##*/pkg/mod/})"
  else
    fail "${what}" "${out:-${forward}}"
  fi
}

check_coredns_configmap_taken_over() {
  local file="${TMP_DIR}/stored-coredns.json" out warning
  # kubectl 1.28: Warning: resource configmaps/coredns is missing the kubectl.kubernetes.io/last-applied-configuration
  #   annotation which is required by kubectl apply. ... The missing annotation will be patched automatically.
  warning="$(grep -o 'Warning: resource configmaps/coredns is missing the kubectl.kubernetes.io/last-applied-configuration annotation' <<<"${APPLY_OUTPUT}" || true)"
  if [[ -n "${warning}" ]] && grep -q '^configmap/coredns configured$' <<<"${APPLY_OUTPUT}"; then
    pass "kubectl apply took over kubeadm's coredns ConfigMap: 'configmap/coredns configured' after '${warning}'"
  elif [[ "${APPLY_OUTPUT}" == *"configmap/coredns created"* ]]; then
    # No kubeadm ConfigMap was there to take over (its check was skipped above).
    skip "kubectl apply took over kubeadm's coredns ConfigMap: there was none to take over here ('configmap/coredns created')"
  else
    fail "kubectl apply took over kubeadm's coredns ConfigMap (warned, then configured)" "${APPLY_OUTPUT}"
  fi
  if out="$(get_json v1 ConfigMap kube-system coredns "${file}" 2>&1)" &&
    out="$(node "${HELPER}" compare-data "${E2E_MANIFEST_DIR}" v1 ConfigMap coredns "${file}" 2>&1)"; then
    pass "stored ConfigMap kube-system/coredns .data equals ${E2E_MANIFEST_DIR}'s: the Corefile is the dist's, kubeadm's is gone"
  else
    fail "stored ConfigMap kube-system/coredns .data equals ${E2E_MANIFEST_DIR}'s" "${out}"
  fi
}

# coredns_credentials DIR: a service account kube-system/coredns with kubeadm's system:coredns RBAC
# (list/watch endpoints, services, pods, namespaces, endpointslices) and a token for it, in DIR with
# the API server's CA: what the kubelet mounts into a CoreDNS pod.
coredns_credentials() {
  local dir="$1"
  mkdir -p "${dir}"
  k create serviceaccount coredns -n kube-system >/dev/null &&
    k create clusterrole system:coredns --verb=list,watch \
      --resource=endpoints,services,pods,namespaces,endpointslices.discovery.k8s.io >/dev/null &&
    k create clusterrolebinding system:coredns --clusterrole=system:coredns --serviceaccount=kube-system:coredns >/dev/null &&
    k create token coredns -n kube-system --duration=10m >"${dir}/token" &&
    cp "${TMP_DIR}/pki/ca.crt" "${dir}/ca.crt" &&
    echo kube-system >"${dir}/namespace"
}

# start_coredns COREFILE CREDENTIALS_DIR: CoreDNS in a private mount namespace where the service-account
# files sit at /var/run/secrets/kubernetes.io/serviceaccount, its in-cluster API server this one.
start_coredns() {
  local corefile="$1" creds="$2"
  # shellcheck disable=SC2016 # expanded by the inner sh
  start_bg coredns "${TMP_DIR}/coredns.log" unshare --mount --propagation private sh -c '
    set -e
    mount -t tmpfs -o size=1m tmpfs /run
    mkdir -p /run/secrets/kubernetes.io/serviceaccount
    cp "$2"/token "$2"/ca.crt "$2"/namespace /run/secrets/kubernetes.io/serviceaccount/
    cd "$(dirname "$1")"
    exec env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$3" "$4" -conf "$1"
  ' coredns "${corefile}" "${creds}" "${APISERVER_PORT}" "${E2E_COREDNS}"
  wait_for "CoreDNS ready (its kubernetes plugin synced with the API server)" "${LAST_PID}" coredns_ready
}

# coredns_ready: the ready plugin answers 200 on :8181/ready.
coredns_ready() {
  local body
  # shellcheck disable=SC2016 # expanded by the inner bash
  body="$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf "GET /ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' _ "${COREDNS_READY_PORT}")" || return 1
  [[ "${body}" == "HTTP/1.0 200"* || "${body}" == "HTTP/1.1 200"* ]]
}

# ask FIXTURE SERVER NAME TYPE: dig's full answer, kept as a fixture; prints it.
ask() {
  local fixture="$1" server="$2" name="$3" type="$4" out
  out="$(dig @"${server}" +tries=1 +time=5 "${name}" "${type}" 2>&1)" || true
  printf '%s\n' "${out}" >"${TMP_DIR}/dig-${fixture}.txt"
  if [[ -n "${E2E_FIXTURES_DIR:-}" ]]; then
    mkdir -p "${E2E_FIXTURES_DIR}"
    printf '$ dig @%s +tries=1 +time=5 %s %s\n%s\n' "${server}" "${name}" "${type}" "${out}" >"${E2E_FIXTURES_DIR}/dig-${fixture}.txt"
  fi
  printf '%s\n' "${out}"
}

# answers OUTPUT TYPE: the RDATA of the TYPE records of dig's ANSWER section, one per line.
answers() {
  awk -v type="$2" '/^;; ANSWER SECTION:/ { inside = 1; next } /^$/ { inside = 0 } inside && $4 == type { print $5 }' <<<"$1"
}

# expect_answer WHAT OUTPUT TYPE WANT: one TYPE answer, WANT, with NOERROR.
expect_answer() {
  local what="$1" out="$2" type="$3" want="$4" got
  got="$(answers "${out}" "${type}" | paste -sd, -)"
  if [[ "${out}" == *"status: NOERROR"* && "${got}" == "${want}" ]]; then
    pass "${what}: ${type} ${got}"
  else
    fail "${what}: ${type} ${want}" "got '${got}':"$'\n'"${out}"
  fi
}

check_coredns() {
  local what="the stored Corefile loaded by a real CoreDNS" corefile="${TMP_DIR}/Corefile" creds="${TMP_DIR}/serviceaccount"
  local prefix a_name a_addr aaaa_name aaaa_addr synthesized svc_ip out tool
  if [[ -z "${E2E_COREDNS:-}" || ! -x "${E2E_COREDNS:-}" ]]; then
    if [[ "${CI}" == "true" ]]; then
      fail "${what}" "E2E_COREDNS is not set to a CoreDNS binary (scripts/e2e/run-ipv6-only.sh builds one)"
    else
      skip "${what}: E2E_COREDNS is not set to a CoreDNS binary; scripts/e2e/run-ipv6-only.sh builds one and runs this"
    fi
    return 0
  fi
  for tool in dig unshare; do
    command -v "${tool}" >/dev/null || { fail "${what}" "${tool} is not installed (apt-get install bind9-dnsutils util-linux)"; return 0; }
  done
  if [[ -z "${E2E_DNS_A_ONLY:-}" || -z "${E2E_DNS_WITH_AAAA:-}" ]]; then
    fail "${what}" "E2E_DNS_A_ONLY and E2E_DNS_WITH_AAAA must name the stand-in upstream's answers"
    return 0
  fi
  a_name="${E2E_DNS_A_ONLY%%=*}" a_addr="${E2E_DNS_A_ONLY#*=}"
  aaaa_name="${E2E_DNS_WITH_AAAA%%=*}" aaaa_addr="${E2E_DNS_WITH_AAAA#*=}"
  prefix="$(corefile_value dns64_prefix)"

  if ! out="$(k get configmap coredns -n kube-system -o jsonpath='{.data.Corefile}' 2>&1)"; then
    fail "${what}" "${out}"
    return 0
  fi
  printf '%s\n' "${out}" >"${corefile}"
  if ! out="$(coredns_credentials "${creds}" 2>&1)"; then
    fail "${what}: service account kube-system/coredns with kubeadm's RBAC and a token" "${out}"
    return 0
  fi
  if ! start_coredns "${corefile}" "${creds}" 2>"${TMP_DIR}/coredns-start.err"; then
    fail "${what}: CoreDNS $("${E2E_COREDNS}" -version | head -n 1) started and ready" \
      "$(cat "${TMP_DIR}/coredns-start.err")"$'\n'"$(tail -n 20 "${TMP_DIR}/coredns.log")"
    return 0
  fi
  pass "${what}: $("${E2E_COREDNS}" -version | head -n 1) ready on :53, its kubernetes plugin synced with this API server"

  # Cluster names, over IPv6 (the only family an IPv6-only pod has).
  svc_ip="$(k get service multitool-ipv6-only -n default -o jsonpath='{.spec.clusterIP}')"
  out="$(ask cluster-service-aaaa ::1 multitool-ipv6-only.default.svc.cluster.local AAAA)"
  expect_answer "cluster name multitool-ipv6-only.default.svc.cluster.local answered with the Service's ClusterIP" "${out}" AAAA "${svc_ip}"
  out="$(ask cluster-kubernetes-aaaa ::1 kubernetes.default.svc.cluster.local AAAA)"
  expect_answer "cluster name kubernetes.default.svc.cluster.local answered with the first address of the range" "${out}" AAAA "${FIRST_SERVICE_IP}"
  out="$(ask cluster-nxdomain ::1 nosuch.default.svc.cluster.local AAAA)"
  if [[ "${out}" == *"status: NXDOMAIN"* && -z "$(answers "${out}" AAAA)" ]]; then
    pass "a cluster name that does not exist stays NXDOMAIN (dns64 synthesizes nothing for it)"
  else
    fail "a cluster name that does not exist stays NXDOMAIN" "${out}"
  fi

  # Names outside the cluster, through the dist's forward to the upstream.
  # RFC 6052 with a /96: the prefix's first 96 bits, then the 32 bits of the IPv4 address.
  synthesized="$(node -e 'const ip=require("ipaddr.js");const [p]=ip.parseCIDR(process.argv[1]);const b=p.toByteArray();ip.parse(process.argv[2]).toByteArray().forEach((x,i)=>{b[12+i]=x});console.log(ip.fromByteArray(b).toString())' \
    "${prefix:-::/96}" "${a_addr}" 2>&1)" || synthesized="(not computable: ${synthesized})"
  [[ -n "${prefix}" ]] || fail "the dist's Corefile synthesizes AAAA records (dns64 with a prefix)" "$(cat "${corefile}")"
  # AAAA first: the upstream's log then shows dns64's own A question after the empty AAAA answer.
  out="$(ask external-a-only-aaaa ::1 "${a_name}" AAAA)"
  expect_answer "A-only name ${a_name} gets an AAAA synthesized in the dns64 prefix ${prefix} (${a_addr})" "${out}" AAAA "${synthesized}"
  out="$(ask external-a-only-a ::1 "${a_name}" A)"
  expect_answer "A-only name ${a_name} forwarded to the upstream" "${out}" A "${a_addr}"
  out="$(ask external-with-aaaa ::1 "${aaaa_name}" AAAA)"
  expect_answer "name ${aaaa_name} with its own AAAA keeps it, nothing synthesized" "${out}" AAAA "${aaaa_addr}"
  # dns64 synthesizes only for queries that came in over IPv6 (its allow_ipv4 is off).
  out="$(ask external-a-only-aaaa-over-ipv4 127.0.0.1 "${a_name}" AAAA)"
  if [[ "${out}" == *"status: NOERROR"* && -z "$(answers "${out}" AAAA)" ]]; then
    pass "the same AAAA question over IPv4 gets no synthesized answer (dns64 acts on IPv6 clients only)"
  else
    fail "the same AAAA question over IPv4 gets no synthesized answer" "${out}"
  fi

  if [[ -n "${E2E_FIXTURES_DIR:-}" ]]; then
    cp "${corefile}" "${E2E_FIXTURES_DIR}/Corefile"
    # CoreDNS's log, with this run's temp paths and random ports as they were.
    cp "${TMP_DIR}/coredns.log" "${E2E_FIXTURES_DIR}/coredns-log.txt"
  fi
}
