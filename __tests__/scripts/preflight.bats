#!/usr/bin/env bats
# deploy.sh's host and cluster preflight, the operator manifest's sha256,
# image preloading and the failure diagnosis (scripts/lib/preflight.sh,
# images.sh, diagnose.sh), against the stubs (see helpers/lab.bash). The
# stubs replay real text: kind's network errors from kind#1544/#3696/#3748
# and kind v0.25.0's source, calico-node's from ../shared/calico/v3.28.5/dataplane.

bats_require_minimum_version 1.5.0

setup_file() {
  load helpers/lab
  lab_setup_file
}

setup() {
  load helpers/lab
  lab_setup
  DEPLOY=$REPO_ROOT/deploy.sh
  # Where CI keeps the real Calico data: beside the repo, or CALICO_CRDS_DIR's parent.
  if [[ -n "${CALICO_CRDS_DIR:-}" ]]; then
    SHARED=${CALICO_CRDS_DIR%/}
    SHARED=${SHARED%/crds}
  else
    SHARED=$(cd "$REPO_ROOT/.." && pwd)/shared/calico/v3.28.5
  fi
}

# need_shared FILE: the real Calico output, beside the repo as in CI.
need_shared() {
  [[ -r "$SHARED/$1" ]] || skip_or_fail_in_ci "$SHARED/$1 not found (real Calico v3.28.5 data beside the repo)"
}

count_calls() { grep -c -- "$1" "$STUB_LOG" || true; }

# --- the Docker host -------------------------------------------------------------------

@test "preflight: the Docker host is read by a throwaway container on its network namespace, with the kind node image" {
  run "$DEPLOY"
  assert_success
  local image
  image=$(facts_value "$PROJECT/dist" f.cluster.nodeImage)
  assert_calls_in_order "docker run --rm --network host --entrypoint sh $image -c" "kind create cluster"
  assert_output --partial "docker host IPv6: enabled (net.ipv6.conf.all.disable_ipv6=0)"
  assert_output --partial "inotify: max_user_watches=524288 max_user_instances=512"
}

@test "preflight: IPv6 switched off on the Docker host stops before any change, with the sysctl" {
  export STUB_HOST_DISABLE_IPV6=1
  run "$DEPLOY"
  assert_failure
  assert_output --partial "the Docker host has IPv6 switched off (net.ipv6.conf.all.disable_ipv6=1)"
  assert_output --partial "fix: on the Docker host: sudo sysctl -w net.ipv6.conf.all.disable_ipv6=0"
  assert_output --partial "step 1/8 failed: Preflight checks"
  refute_call "kind create"
  refute_call "kubectl"
}

@test "preflight: a kernel booted with ipv6.disable=1 is named as such" {
  export STUB_HOST_DISABLE_IPV6=missing
  run "$DEPLOY"
  assert_failure
  assert_output --partial "booted with ipv6.disable=1"
  refute_call "kind create"
}

@test "preflight: when the probe container cannot run, deploy warns and goes on" {
  export STUB_DOCKER_RUN=fail
  run "$DEPLOY"
  assert_success
  assert_output --partial "WARNING: could not read the Docker host's sysctls"
}

@test "preflight: inotify limits below kind's documented values warn with the sysctl that fixes them" {
  # This machine's real values (fs.inotify.max_user_watches=192536, max_user_instances=128).
  export STUB_HOST_INOTIFY_WATCHES=192536 STUB_HOST_INOTIFY_INSTANCES=128
  run "$DEPLOY"
  assert_success
  assert_output --partial "WARNING: inotify limits on the Docker host are below what kind documents for multi-node clusters: fs.inotify.max_user_watches=192536 (want >= 524288), fs.inotify.max_user_instances=128 (want >= 512)"
  assert_output --partial "fix: sudo sysctl -w fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512"
}

@test "preflight: legacy ip6tables without a nat table warns before kind creates the network" {
  export STUB_HOST_IP6_TABLES="filter mangle raw "
  run "$DEPLOY"
  assert_success
  assert_output --partial "no 'nat' table and ip6table_nat is not loaded"
  assert_output --partial "fix: sudo modprobe ip6table_nat"
}

@test "preflight: ip6tables with its nat table, or nftables, raises no ip6tables warning" {
  # nat listed (built into the kernel, so no module line)
  export STUB_HOST_IP6_TABLES="filter nat "
  run "$DEPLOY"
  assert_success
  refute_output --partial "ip6table_nat"
  # nftables: /proc/net/ip6_tables_names is empty
  export STUB_HOST_IP6_TABLES=""
  run "$DEPLOY"
  assert_success
  refute_output --partial "ip6table_nat"
}

@test "preflight: KIND_EXPERIMENTAL_PROVIDER=podman is refused with a clear message, before anything runs" {
  export KIND_EXPERIMENTAL_PROVIDER=podman
  run "$DEPLOY"
  assert_failure
  assert_output --partial "KIND_EXPERIMENTAL_PROVIDER=podman: this lab supports kind's Docker provider only"
  assert_output --partial "fix: unset KIND_EXPERIMENTAL_PROVIDER"
  assert [ ! -s "$STUB_LOG" ]
}

# --- the kind network -------------------------------------------------------------------

@test "preflight: an existing kind network overlapping the pod pools is named with both ranges, nothing created" {
  export STUB_KIND_NETWORK=ipv6 STUB_KIND_NETWORK_SUBNETS="192.168.0.0/20 fc00:f853:ccd:e793::/64"
  run "$DEPLOY"
  assert_failure
  assert_output --partial "the Docker network 'kind' subnet 192.168.0.0/20 overlaps the lab's podSubnet ($PROJECT/dist/kind/cluster.yaml) 192.168.0.0/16"
  assert_output --partial "subnet 192.168.0.0/20 overlaps the lab's IPPool default-ipv4-ippool 192.168.0.0/16"
  assert_output --partial "2 overlap(s) between the Docker network 'kind' and the lab's address ranges"
  # The fix names the keys of lab.config.yaml that set those ranges.
  assert_output --partial "fix: in lab.config.yaml, move pools.ipv4.cidr out of 192.168.0.0/20 (the Docker network 'kind'), then run ./deploy.sh again"
  refute_output --partial "podSubnet/serviceSubnet and the IPPools"
  refute_call "kind create"
}

@test "preflight: an IPv6 kind subnet overlapping the Service range is named" {
  export STUB_KIND_NETWORK=ipv6 STUB_KIND_NETWORK_SUBNETS="172.18.0.0/16 fd00:10:96::/64"
  run "$DEPLOY"
  assert_failure
  assert_output --partial "subnet fd00:10:96::/64 overlaps the lab's serviceSubnet ($PROJECT/dist/kind/cluster.yaml) fd00:10:96::/112"
  assert_output --partial "fix: in lab.config.yaml, move serviceSubnets.ipv6 out of fd00:10:96::/64 (the Docker network 'kind')"
  refute_call "kind create"
}

@test "preflight: kind's default network (172.18.0.0/16, fc00:f853:ccd:e793::/64) does not overlap" {
  export STUB_KIND_NETWORK=ipv6
  run "$DEPLOY"
  assert_success
  assert_output --partial "docker network kind: 172.18.0.0/16 fc00:f853:ccd:e793::/64 (no overlap with the lab's pools and Service ranges)"
}

@test "after kind create: a network Docker gave an overlapping subnet stops deploy before Calico" {
  export STUB_KIND_NETWORK_SUBNETS="192.168.16.0/20 fc00:f853:ccd:e793::/64"
  run "$DEPLOY"
  assert_failure
  assert_output --partial "subnet 192.168.16.0/20 overlaps the lab's podSubnet"
  assert_output --partial "step 3/8 failed: Create the kind cluster"
  assert_calls_in_order "kind create cluster"
  refute_call "kubectl apply"
}

@test "after kind create: kind's silent IPv4 fallback (Docker could not give the network IPv6) is explained" {
  export STUB_DOCKER_IPV6=unavailable
  run "$DEPLOY"
  assert_failure
  assert_output --partial "the Docker network 'kind' has no IPv6 (EnableIPv6=false) after kind created the cluster"
  assert_output --partial "kind fell back to IPv4 without saying so"
  assert_output --partial "fix: on the Docker host: sudo modprobe ip6table_nat"
  assert_output --partial "step 3/8 failed: Create the kind cluster"
  refute_call "kubectl apply"
}

@test "kind create failing on a network kind made IPv4-only says why, under kind's own error" {
  export STUB_DOCKER_IPV6=unavailable STUB_KIND_CREATE=fail
  run "$DEPLOY"
  assert_failure
  assert_output --partial "ERROR: failed to create cluster: failed to init node with kubeadm"
  assert_output --partial "the Docker network 'kind' has no IPv6 (EnableIPv6=false) after kind created the cluster"
  assert_output --partial "step 3/8 failed: Create the kind cluster"
}

@test "after kind create: a node without an IPv6 InternalIP fails in seconds, not after the Calico timeout" {
  # n3 of ../shared/calico/v3.28.5/dataplane: IPv4 only.
  fixture nodes.txt "ipv6-lab-control-plane|False|172.18.0.2 fc00:f853:ccd:e793::2
ipv6-lab-worker|False|172.18.0.3 fc00:f853:ccd:e793::3
ipv6-lab-worker2|False|172.20.0.2"
  export LAB_CALICO_TIMEOUT=600
  local start=$SECONDS
  run "$DEPLOY"
  assert_failure
  assert [ $((SECONDS - start)) -lt 10 ]
  assert_output --partial "node ipv6-lab-worker2 has no IPv6 InternalIP (InternalIPs: 172.20.0.2)"
  assert_output --partial "1 node(s) without an IPv6 InternalIP: calico-node would exit there (\"Couldn't autodetect an IPv6 address\")"
  assert_output --partial "step 3/8 failed"
  refute_call "kubectl apply"
}

@test "after kind create: nodes that never all register fail within LAB_NODE_TIMEOUT" {
  fixture nodes.txt "ipv6-lab-control-plane|False|172.18.0.2 fc00:f853:ccd:e793::2"
  export LAB_NODE_TIMEOUT=1
  run "$DEPLOY"
  assert_failure
  assert_output --partial "only 1 of 3 nodes registered within 1s after kind create cluster"
}

# --- the operator manifest's sha256 -------------------------------------------------------

@test "sha256: the pinned hash is the real v3.28.5 tigera-operator.yaml's" {
  need_shared tigera-operator.yaml
  # shellcheck source=scripts/lib/preflight.sh
  source "$REPO_ROOT/scripts/lib/preflight.sh"
  assert_equal "$(sha256sum "$SHARED/tigera-operator.yaml" | cut -d' ' -f1)" "$LAB_TIGERA_OPERATOR_PINNED_SHA256"
  assert_equal "$LAB_TIGERA_OPERATOR_PINNED_SHA256" 69159fe3450ff0cf8b6db29e2b011a287ed5d8de341e81812c98aae69d3e51b5
}

@test "sha256: the real manifest downloaded passes the default pin, is cached in .lab/cache and applied from there" {
  need_shared tigera-operator.yaml
  unset LAB_TIGERA_OPERATOR_SHA256
  export STUB_CURL_SOURCE=$SHARED/tigera-operator.yaml
  run "$DEPLOY"
  assert_success
  local cached=$PROJECT/.lab/cache/tigera-operator-v3.28.5-69159fe3450f.yaml
  assert_output --partial "sha256 69159fe3450ff0cf8b6db29e2b011a287ed5d8de341e81812c98aae69d3e51b5: matches the pin for Calico v3.28.5"
  assert_calls_in_order \
    "curl -fsSL --retry 3 --connect-timeout 10 --max-time 120 -o $cached.part https://raw.githubusercontent.com/projectcalico/calico/v3.28.5/manifests/tigera-operator.yaml" \
    "kind create cluster" \
    "kubectl apply --server-side --force-conflicts -f $cached"
  cmp "$cached" "$SHARED/tigera-operator.yaml"
  # A second deploy uses the cache: no second download (of the manifest; calicoctl's are curl calls too).
  run "$DEPLOY"
  assert_success
  assert_equal "$(count_calls '^curl .* https://raw.githubusercontent.com/projectcalico/calico/v3.28.5/manifests/tigera-operator.yaml$')" 1
}

@test "sha256: a download that does not match stops deploy before anything is applied, naming both hashes" {
  unset LAB_TIGERA_OPERATOR_SHA256
  run "$DEPLOY"
  assert_failure
  local got
  got=$(sha256sum "$FIXTURES/tigera-operator-standin.yaml" | cut -d' ' -f1)
  assert_output --partial "the tigera-operator manifest's sha256 does not match: expected 69159fe3450ff0cf8b6db29e2b011a287ed5d8de341e81812c98aae69d3e51b5, got ${got}"
  assert_output --partial "fix: use the manifest of Calico v3.28.5; for a deliberately custom manifest set LAB_TIGERA_OPERATOR_SHA256=${got}"
  assert_output --partial "step 1/8 failed: Preflight checks"
  refute_call "kind create"
  refute_call "kubectl"
  # The rejected download is not left where the next run would take it as cached.
  assert [ ! -e "$PROJECT/.lab/cache/tigera-operator-v3.28.5-69159fe3450f.yaml" ]
}

@test "sha256: a local (air-gapped) file is checked the same way; LAB_TIGERA_OPERATOR_SHA256 accepts a custom one" {
  local manifest=$BATS_TEST_TMPDIR/custom-operator.yaml
  echo "# a custom operator manifest" >"$manifest"
  export LAB_TIGERA_OPERATOR_MANIFEST=$manifest
  run "$DEPLOY"
  assert_failure
  assert_output --partial "sha256 does not match: expected ${LAB_TIGERA_OPERATOR_SHA256}, got $(sha256sum "$manifest" | cut -d' ' -f1) ($manifest)"
  refute_call "kind create"
  refute_call "curl"
  LAB_TIGERA_OPERATOR_SHA256=$(sha256sum "$manifest" | cut -d' ' -f1)
  run "$DEPLOY"
  assert_success
  assert_output --partial "matches LAB_TIGERA_OPERATOR_SHA256"
  assert_calls_in_order "kubectl apply --server-side --force-conflicts -f $manifest"
}

@test "sha256: offline, the download failure says how to deploy air-gapped" {
  export STUB_CURL=offline
  run "$DEPLOY"
  assert_failure
  assert_output --partial "could not download https://raw.githubusercontent.com/projectcalico/calico/v3.28.5/manifests/tigera-operator.yaml"
  assert_output --partial "fix: offline? download it elsewhere and set LAB_TIGERA_OPERATOR_MANIFEST=/path/to/tigera-operator.yaml"
  refute_call "kind create"
}

# --- image preloading ----------------------------------------------------------------------

@test "images: each image is pulled once on the host and kind-loaded into the nodes: the operator's first, the others while it starts" {
  run "$DEPLOY"
  assert_success
  local image images=()
  mapfile -t images < <(sed 's/#.*//; /^[[:space:]]*$/d' "$REPO_ROOT/scripts/calico-images.txt")
  images+=("$(facts_value "$PROJECT/dist" f.workload.daemonSet.image)")
  for image in "${images[@]}"; do
    assert_equal "$(count_calls "docker pull --quiet $image")" 1
  done
  assert_equal "$(count_calls 'docker pull ')" "${#images[@]}"
  # The list starts with the operator's image (calico-images.txt).
  assert_calls_in_order "kind create cluster" \
    "kind load docker-image --name ipv6-lab ${images[0]}" \
    "kubectl apply --server-side --force-conflicts -f " \
    "kind load docker-image --name ipv6-lab ${images[*]:1}" \
    "kubectl apply -f $PROJECT/dist"
  assert_equal "$(count_calls 'kind load')" 2
  assert_output --partial "${#images[@]} images in every node"
}

@test "images: LAB_PRELOAD_IMAGES=false turns preloading off" {
  export LAB_PRELOAD_IMAGES=false
  run "$DEPLOY"
  assert_success
  assert_output --partial "image preloading off (LAB_PRELOAD_IMAGES=false)"
  refute_call "docker pull"
  refute_call "kind load"
}

@test "images: images the host has already are not pulled again" {
  export STUB_HOST_IMAGES=present
  run "$DEPLOY"
  assert_success
  refute_call "docker pull"
  assert_calls_in_order "kind load docker-image --name ipv6-lab quay.io/tigera/operator:v1.34.13"
}

@test "images: a Docker Hub rate limit warns, loads what it could, and deploy goes on" {
  export STUB_DOCKER_PULL=ratelimited
  run "$DEPLOY"
  assert_success
  assert_output --partial "WARNING: could not pull docker.io/calico/node:v3.28.5; the nodes will try themselves: Error response from daemon: toomanyrequests: You have reached your pull rate limit."
  assert_calls_in_order "kind load docker-image --name ipv6-lab quay.io/tigera/operator:v1.34.13" "kind load docker-image --name ipv6-lab wbitt/network-multitool"
}

@test "images: a failing kind load only warns" {
  export STUB_KIND_LOAD=fail
  run "$DEPLOY"
  assert_success
  assert_output --partial "WARNING: kind load docker-image failed (output above); the nodes will pull the images themselves"
}

@test "images: the pinned list is what Calico v3.28.5's manifest and operator deploy" {
  need_shared tigera-operator.yaml
  local list=$REPO_ROOT/scripts/calico-images.txt operator
  operator=$(awk '$1 == "image:" && $2 ~ /tigera\/operator/ { print $2 }' "$SHARED/tigera-operator.yaml")
  assert_equal "$operator" quay.io/tigera/operator:v1.34.13
  grep -Fx "$operator" "$list"
  # Every Calico image is the release deploy.sh installs, from the operator's registry.
  local calico
  calico=$(grep '^docker.io/calico/' "$list")
  assert_equal "$(grep -c . <<<"$calico")" 8
  run grep -v ':v3.28.5$' <<<"$calico"
  assert_output ""
  grep -F 'CALICO_VERSION=v3.28.5' "$REPO_ROOT/deploy.sh"
  # The flexvol and CSI images follow from the paths the operator filled in for this lab.
  grep -F 'flexVolumePath: /usr/libexec/kubernetes/kubelet-plugins/volume/exec/' "$SHARED/dataplane/installation-after-operator.yaml"
  grep -F 'kubeletVolumePluginPath: /var/lib/kubelet' "$SHARED/dataplane/installation-after-operator.yaml"
}

@test "preflight: the probe's fallback node image is the lab's default one" {
  # shellcheck source=scripts/lib/preflight.sh
  source "$REPO_ROOT/scripts/lib/preflight.sh"
  grep -F "'${LAB_DEFAULT_KIND_NODE_IMAGE}'" "$REPO_ROOT/lib/defaults.ts"
  assert_equal "$(facts_value "$DEFAULTS_DIST" f.cluster.nodeImage)" "$LAB_DEFAULT_KIND_NODE_IMAGE"
}

# --- diagnosis ------------------------------------------------------------------------------

@test "diagnosis: a not-Ready pod's containers, Warning events and previous log, the rendered CNI IPAM, and kind's logs under .lab/logs" {
  export STUB_TIGERASTATUS=unavailable
  run "$DEPLOY"
  assert_failure
  assert_output --partial "Pod calico-system/calico-node-7hx2m on ipv6-lab-control-plane, not Ready:"
  assert_output --partial "container calico-node: CrashLoopBackOff, restarts 3 (back-off 40s restarting failed container=calico-node"
  refute_output --partial "Pod calico-system/calico-node-q8v4d"
  assert_output --partial 'Unhealthy: Readiness probe failed: calico/node is not ready: felix is not ready: Get "http://localhost:9099/readiness"'
  assert_output --partial "kubectl logs -n calico-system calico-node-7hx2m -c calico-node --previous --tail=15"
  assert_output --partial "Couldn't autodetect an IPv6 address. If auto-detecting, choose a different autodetection method."
  assert_output --partial "startup/utils.go 48: Terminating"
  # Containers that never started have no log to show.
  assert_output --partial "container coredns: ContainerCreating (never started: no log yet)"
  refute_call "kubectl logs -n kube-system coredns"
  assert_output --partial "assign_ipv4=true assign_ipv6=true"
  refute_output --partial "kube-proxy errors"
  assert_calls_in_order "kubectl logs -n calico-system calico-node-7hx2m -c calico-node --previous --tail=15"
  local dir
  dir=$(sed -n 's/^  logs of every node: //p' <<<"$output")
  assert [ -n "$dir" ]
  assert [ -d "$dir/ipv6-lab-control-plane" ]
  [[ "$dir" == "$PROJECT/.lab/logs/"* ]]
  assert_calls_in_order "kind export logs $dir --name ipv6-lab"
}

@test "diagnosis: every TigeraStatus condition message, the pod's Warning events and previous log, only the operator's warnings and errors" {
  # The real run: kube-controllers not Ready, TigeraStatus calico Progressing with the reason in its message.
  scenario kube-controllers-not-ready
  export STUB_TIGERASTATUS=unavailable
  run "$DEPLOY"
  assert_failure
  assert_output --partial "  calico  Progressing=True  Degraded=False  Available=False"
  assert_output --partial '    Progressing: Deployment "calico-system/calico-kube-controllers" is not available (awaiting 1 replicas)'
  assert_output --partial "Pod calico-system/calico-kube-controllers-b6476f9f5-r62rn on ipv6-lab-worker, not Ready:"
  assert_output --partial "container calico-kube-controllers: running, not Ready, restarts 1"
  assert_output --partial "Unhealthy: Readiness probe failed: Failed to read status file /status/status.json: unexpected end of JSON input"
  assert_output --partial "last 15 log lines of the previous container (kubectl logs -n calico-system calico-kube-controllers-b6476f9f5-r62rn -c calico-kube-controllers --previous --tail=15):"
  assert_output --partial "Failed to write readiness file: open /status/status.json: permission denied"
  # The operator's log: only warnings and errors; its 20 "Reconciling" info lines are not the cause.
  refute_output --partial "Reconciling Installation.operator.tigera.io"
  assert_output --partial "(no warnings or errors in its last 500 lines)"
  refute_output --partial "calico-node pods not Ready"
}

@test "diagnosis: the operator's errors are kept, its info lines dropped" {
  export STUB_TIGERASTATUS=unavailable
  run "$DEPLOY"
  assert_failure
  assert_output --partial "tigera-operator warnings and errors, last 10 (kubectl logs -n tigera-operator deployment/tigera-operator --tail=500):"
  assert_output --partial '"msg":"Error creating IP pool"'
  refute_output --partial '"msg":"Reconciling Installation.operator.tigera.io"'
}

# empty_sections: the diagnosis's section headers (a line ending in ':' at most two
# spaces in) with nothing deeper under them, read from stdin.
empty_sections() {
  awk '
    /^--- diagnosis/ { on = 1; next }
    !on { next }
    /^Fix the cause/ || /^Time per step/ { exit }
    { match($0, /^ */); depth = RLENGTH }
    pending != "" && depth <= hdepth { print pending }
    pending != "" { pending = "" }
    /:$/ && depth <= 2 { pending = $0; hdepth = depth }
    END { if (pending != "") print pending }'
}

@test "diagnosis: no section is printed empty" {
  # The real run printed one: the check finds it.
  need_shared kind/deploy-diagnosis-kube-controllers-not-ready.txt
  run empty_sections <"$SHARED/kind/deploy-diagnosis-kube-controllers-not-ready.txt"
  assert_output "calico-node pods not Ready (kubectl get pods -n calico-system -l k8s-app=calico-node):"
  local scen
  for scen in - kube-controllers-not-ready calico-node-image-pull; do
    rm -rf "$STUB_STATE/cluster" && cp -R "$FIXTURES/cluster" "$STUB_STATE/cluster"
    [[ "$scen" == - ]] || scenario "$scen"
    STUB_TIGERASTATUS=unavailable run "$DEPLOY"
    assert_failure
    assert_output --partial -- "--- diagnosis"
    run empty_sections <<<"$output"
    assert_output ""
  done
}

@test "diagnosis: a CNI config without IPv6 IPAM is pointed out" {
  export STUB_TIGERASTATUS=unavailable
  sed -i 's/"assign_ipv6":"true"/"assign_ipv6":"false"/' "$STUB_STATE/cluster/cni-config.txt"
  run "$DEPLOY"
  assert_failure
  assert_output --partial "assign_ipv4=true assign_ipv6=false"
  assert_output --partial "(pods get no IPv6 address: the Installation/IPPools did not give the operator an IPv6 pool)"
}

@test "diagnosis: a failing verification adds kube-proxy's errors" {
  export LAB_VERIFY_ATTEMPTS=1
  fixture exec-curl-ipv6.rc 7
  run "$DEPLOY"
  assert_failure
  assert_output --partial "step 8/8 failed: Verify the lab"
  assert_output --partial "kube-proxy errors, last 10 (kubectl logs -n kube-system -l k8s-app=kube-proxy --prefix):"
  assert_output --partial "[pod/kube-proxy-5xq2v/kube-proxy] E1125 15:31:02.816309       1 proxier.go:840] \"Failed to ensure chain exists\""
  refute_output --partial '"Sync failed"'
}

@test "diagnosis: before Calico exists it says so instead of failing" {
  rm "$STUB_STATE/cluster/pod-containers.txt" "$STUB_STATE/cluster/cni-config.txt"
  export STUB_TIGERASTATUS=absent LAB_CALICO_TIMEOUT=1
  run "$DEPLOY"
  assert_failure
  assert_output --partial "(none yet: the tigera-operator has not reported any)"
  assert_output --partial 'configmaps "cni-config" not found'
  assert_output --partial "logs of every node: $PROJECT/.lab/logs/"
}

# --- fixtures agree with the real outputs ---------------------------------------------------

@test "fixtures: the diagnosis fixtures are Calico v3.28.5's real outputs for this lab" {
  need_shared dataplane/cni-config.json
  cmp "$FIXTURES/cluster/cni-config.txt" "$SHARED/dataplane/cni-config.json"
  cmp "$FIXTURES/cluster/logs/calico-system_calico-node-7hx2m_calico-node_previous.txt" "$SHARED/dataplane/n3-startup-fresh-no-v6.log"
  # The stubs' node addresses and kind network are those of the real run's kind-like nodes.
  grep -F "172.18.0.2 / fc00:f853:ccd:e793::2" "$SHARED/dataplane/README.md"
  grep -F "172.18.0.3 / fc00:f853:ccd:e793::3" "$SHARED/dataplane/README.md"
  grep -F "172.18.0.2 fc00:f853:ccd:e793::2" "$FIXTURES/cluster/nodes.txt"
  grep -F "IP6=autodetect" "$SHARED/dataplane/calico-node-env.txt"
  grep -F "IP6_AUTODETECTION_METHOD=kubernetes-internal-ip" "$SHARED/dataplane/calico-node-env.txt"
}

@test "fixtures: the TigeraStatus fixture is the real cluster's, and the scenarios' verbatim lines are the real run's" {
  need_shared kind/tigerastatus.yaml
  # Q_TIGERASTATUS's rendering of the real `kubectl get tigerastatus -o yaml`.
  run node -e '
    const l = require("yaml").parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const i of l.items) { console.log(`ts|${i.metadata.name}`); for (const c of i.status.conditions) console.log(`cond|${c.type}|${c.status}|${c.message}`); }' \
    "$SHARED/kind/tigerastatus.yaml"
  assert_success
  assert_equal "$output" "$(cat "$FIXTURES/cluster/tigerastatus-conditions-available.txt")"
  local kind=$SHARED/kind scen=$FIXTURES/scenarios
  # The operator log and the not-Ready pod line of the kube-controllers run, verbatim.
  grep -F -f "$scen/kube-controllers-not-ready/operator-log.txt" "$kind/deploy-diagnosis-kube-controllers-not-ready.txt" >/dev/null
  assert_equal "$(grep -c -F -f "$scen/kube-controllers-not-ready/operator-log.txt" "$kind/deploy-diagnosis-kube-controllers-not-ready.txt")" 20
  grep -F "$(tr -s ' ' <"$scen/kube-controllers-not-ready/pods-all.txt" | cut -d' ' -f2-5)" <(tr -s ' ' <"$kind/deploy-diagnosis-kube-controllers-not-ready.txt")
  # The drill: the pod in ImagePullBackOff, and TigeraStatus calico's Degraded message.
  grep -E "calico-node-k4b7k +0/1 +ImagePullBackOff +0 +86s +172.18.0.2 +ipv6-lab-worker2" "$kind/drill-calico-node-image-removed.txt"
  grep -F "Degraded=True $(sed -n 's/^cond|Degraded|True|//p' "$scen/calico-node-image-pull/tigerastatus-conditions-unavailable.txt")" "$kind/drill-calico-node-image-removed.txt"
  # The CRD wait: the race and NotFound lines, verbatim.
  grep -F -x "    $(cat "$scen/crd-wait-notfound/seq/crd-wait/2.err")" "$kind/deploy-crd-wait-misreported-as-timeout.txt"
  grep -F "$(sed -n 1p "$scen/crd-wait-notfound/seq/crd-wait/1.err")" "$kind/deploy-crd-wait-misreported-as-timeout.txt"
  diff <(sed 's/^/    /' "$scen/crd-wait-race/seq/crd-wait/2.out") <(grep -F "condition met" "$kind/deploy-clean.txt" | grep customresourcedefinition)
}

# The kubectl stub replays what the pod watch's and the diagnosis's jsonpath
# templates make of real API objects; a real kubectl renders them here
# (kubectl label --local, no cluster): the TigeraStatus list of the real run,
# and pods and an event shaped as Kubernetes v1.28's API (fixtures/json).
@test "fixtures: a real kubectl renders the wait and diagnosis templates into the replayed texts" {
  local real
  real=$(PATH=/usr/local/bin:/usr/bin:/bin command -v kubectl) || skip_or_fail_in_ci "no real kubectl to render jsonpath with"
  need_shared kind/tigerastatus.yaml
  # shellcheck source=scripts/lib/wait.sh
  source "$REPO_ROOT/scripts/lib/wait.sh"
  # shellcheck source=scripts/lib/diagnose.sh
  source "$REPO_ROOT/scripts/lib/diagnose.sh"
  local fx=$FIXTURES scen=$FIXTURES/scenarios
  render() { "$real" label --local -f "$1" lab-test=render -o jsonpath="$2"; }
  assert_equal "$(render "$SHARED/kind/tigerastatus.yaml" "$Q_TIGERASTATUS_ITEM")" "$(cat "$fx/cluster/tigerastatus-conditions-available.txt")"
  # The two not-Ready pods of the scenarios, as their pod-containers.txt list them.
  local want
  want=$(awk -F'|' '$1 == "pod" { keep = ($3 == "calico-node-k4b7k") } keep' "$scen/calico-node-image-pull/pod-containers.txt"
    cat "$scen/kube-controllers-not-ready/pod-containers.txt")
  assert_equal "$(render "$fx/json/pods-not-ready.json" "$Q_POD_CONTAINERS_ITEM")" "$want"
  assert_equal "$(render "$fx/json/events-unhealthy.json" "$Q_UNHEALTHY_ITEM")" "$(cat "$scen/kube-controllers-not-ready/events-unhealthy.txt")"
  assert_equal "$(render "$fx/json/events-unhealthy.json" "$Q_EVENT_ITEM")" "$(head -n 1 "$scen/kube-controllers-not-ready/events/calico-system_calico-kube-controllers-b6476f9f5-r62rn.txt")"
  # What deploy sends to kubectl get: the same, in {range .items[*]}...{end}.
  assert_equal "$Q_POD_CONTAINERS" "{range .items[*]}${Q_POD_CONTAINERS_ITEM}{end}"
  assert_equal "$Q_TIGERASTATUS" "{range .items[*]}${Q_TIGERASTATUS_ITEM}{end}"
  assert_equal "$Q_UNHEALTHY" "{range .items[*]}${Q_UNHEALTHY_ITEM}{end}"
}
