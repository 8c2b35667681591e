#!/usr/bin/env bash
# Host and cluster checks for deploy.sh: what must hold on the Docker host and
# right after `kind create cluster` for the dual-stack lab to come up, each
# failing in seconds with what is wrong and the fix, instead of a Calico
# timeout ten minutes later. See docs/preflight.md.
#
# Sourced after scripts/lib/common.sh, never executed. Reads LAB_KIND_CONFIG,
# LAB_DIST_DIR, LAB_CLUSTER_NAME, LAB_PROJECT_DIR (lab_init_defaults).

[[ -n "${_LAB_PREFLIGHT_SH:-}" ]] && return 0
_LAB_PREFLIGHT_SH=1
# shellcheck source=scripts/lib/queries.sh
source "$(dirname "${BASH_SOURCE[0]}")/queries.sh"

# sha256 of projectcalico/calico v3.28.5 manifests/tigera-operator.yaml,
# measured on the tag; LAB_TIGERA_OPERATOR_SHA256 overrides it for a custom manifest.
LAB_TIGERA_OPERATOR_PINNED_SHA256=69159fe3450ff0cf8b6db29e2b011a287ed5d8de341e81812c98aae69d3e51b5
LAB_TIGERA_OPERATOR_SHA256=${LAB_TIGERA_OPERATOR_SHA256:-$LAB_TIGERA_OPERATOR_PINNED_SHA256}
# What kind documents for multi-node clusters (known-issues: "Pod errors due to too many open files").
LAB_MIN_INOTIFY_WATCHES=${LAB_MIN_INOTIFY_WATCHES:-524288}
LAB_MIN_INOTIFY_INSTANCES=${LAB_MIN_INOTIFY_INSTANCES:-512}
# lib/kind-cluster's default (preflight.bats checks they agree); the probe
# container runs it when dist/ is not synthesized yet.
LAB_DEFAULT_KIND_NODE_IMAGE=kindest/node:v1.28.15@sha256:a7c05c7ae043a0b8c818f5a06188bc2c4098f6cb59ca7d1856df00375d839251
# Seconds for every node of the kind config to be registered after kind create.
LAB_NODE_TIMEOUT=${LAB_NODE_TIMEOUT:-60}
# The file deploy applies: set by fetch_operator_manifest once its sha256 matched.
TIGERA_OPERATOR_FILE=""

# --- helpers --------------------------------------------------------------------------

# lab_ranges: "what<TAB>cidr" for each address range the lab's pods and
# Services use, from the facts: the kind config's podSubnet/serviceSubnet
# and the IPPools.
lab_ranges() {
  local key fam cidr i
  for key in podSubnet serviceSubnet; do
    for fam in ipv4 ipv6; do
      cidr=$(fact "cluster.${key}s.$fam")
      [[ -z "$cidr" ]] || printf '%s %s\t%s\n' "$key" "($LAB_KIND_CONFIG)" "$cidr"
    done
  done
  for ((i = 0; i < $(fact_count calico.pools); i++)); do
    printf 'IPPool %s\t%s\n' "$(fact "calico.pools.$i.name")" "$(fact "calico.pools.$i.cidr")"
  done
}

# lab_config_key WHAT CIDR: the lab.config.yaml key that sets a lab_ranges range
# (the pools are also kind's podSubnet; serviceSubnets its serviceSubnet).
lab_config_key() {
  local family=ipv4
  is_ipv6 "$2" && family=ipv6
  case "$1" in
    serviceSubnet*) echo "serviceSubnets.${family}" ;;
    *) echo "pools.${family}.cidr" ;;
  esac
}

# cidrs_overlap A B: true when the two CIDRs (same family) share an address.
cidrs_overlap() {
  ip_in_cidr "${1%/*}" "$2" || ip_in_cidr "${2%/*}" "$1"
}

# --- before anything changes --------------------------------------------------------------

# kind's podman and nerdctl providers are experimental and this lab's checks,
# image preloading and diagnosis all speak Docker: refuse rather than half-work.
check_kind_provider() {
  local provider=${KIND_EXPERIMENTAL_PROVIDER:-docker}
  [[ "$provider" == docker ]] && return 0
  die "KIND_EXPERIMENTAL_PROVIDER=${provider}: this lab supports kind's Docker provider only (its host checks, image preloading and diagnosis use docker)" \
    "unset KIND_EXPERIMENTAL_PROVIDER and use Docker: Docker Engine on Linux, Docker Desktop on Mac and Windows, or Docker in WSL2"
}

# probe_docker_host: one throwaway container on the host network namespace
# reads the Docker host's sysctls. On Docker Desktop and WSL2 that host is
# the Linux VM, not the laptop, so reading /proc here would be wrong. The
# image is the kind node image the cluster needs anyway: no extra pull.
# Prints key=value lines; empty when the probe could not run.
probe_docker_host() {
  local image
  image=$(kind_node_image)
  # shellcheck disable=SC2016 # expanded by the container's sh
  docker run --rm --network host --entrypoint sh "$image" -c '
    for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/fs/inotify/max_user_watches /proc/sys/fs/inotify/max_user_instances; do
      printf "%s=%s\n" "${f##*/}" "$(cat "$f" 2>/dev/null || echo missing)"
    done
    printf "ip6_tables_names=%s\n" "$(tr "\n" " " </proc/net/ip6_tables_names 2>/dev/null)"
    printf "ip6table_nat=%s\n" "$(grep -c "^ip6table_nat " /proc/modules 2>/dev/null)"' 2>/dev/null || true
}

# kind_node_image: LAB_KIND_NODE_IMAGE, else the facts' node image, else
# (dist/ not synthesized yet: step 1 runs before the synth) the lab's default one.
kind_node_image() {
  local image=${LAB_KIND_NODE_IMAGE:-}
  [[ -n "$image" ]] || image=$(fact cluster.nodeImage)
  echo "${image:-$LAB_DEFAULT_KIND_NODE_IMAGE}"
}

# probe_value KEY PROBE_OUTPUT
probe_value() { awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' <<<"$2"; }

check_docker_host() {
  local probe v6 watches instances tables nat
  # The first run pulls the node image here rather than in kind create.
  info "  probing the Docker host (docker run --rm --network host $(kind_node_image))"
  probe=$(probe_docker_host)
  if [[ -z "$probe" ]]; then
    warn "could not read the Docker host's sysctls (the probe container did not run); IPv6 and inotify limits are unchecked"
    return 0
  fi
  v6=$(probe_value disable_ipv6 "$probe")
  case "$v6" in
    0) info "  docker host IPv6: enabled (net.ipv6.conf.all.disable_ipv6=0)" ;;
    missing)
      die "the Docker host has no IPv6 at all (/proc/sys/net/ipv6 is missing: booted with ipv6.disable=1); the dual-stack lab needs IPv6 on the Docker host" \
        "remove ipv6.disable=1 from the kernel command line (e.g. GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot"
      ;;
    *)
      die "the Docker host has IPv6 switched off (net.ipv6.conf.all.disable_ipv6=${v6}); kind's nodes would get no IPv6 address and calico-node exits on each" \
        "on the Docker host: sudo sysctl -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 (persist it in /etc/sysctl.d/); Docker Desktop/WSL2: the host is the Docker VM (WSL2: check %UserProfile%\\.wslconfig and 'wsl --shutdown')"
      ;;
  esac
  watches=$(probe_value max_user_watches "$probe")
  instances=$(probe_value max_user_instances "$probe")
  if [[ "$watches" =~ ^[0-9]+$ && "$instances" =~ ^[0-9]+$ ]]; then
    if ((watches < LAB_MIN_INOTIFY_WATCHES || instances < LAB_MIN_INOTIFY_INSTANCES)); then
      warn "inotify limits on the Docker host are below what kind documents for multi-node clusters: fs.inotify.max_user_watches=${watches} (want >= ${LAB_MIN_INOTIFY_WATCHES}), fs.inotify.max_user_instances=${instances} (want >= ${LAB_MIN_INOTIFY_INSTANCES}); pods may fail with 'too many open files'. Continuing."
      info "  fix: sudo sysctl -w fs.inotify.max_user_watches=${LAB_MIN_INOTIFY_WATCHES} fs.inotify.max_user_instances=${LAB_MIN_INOTIFY_INSTANCES}   (persist in /etc/sysctl.d/99-kind.conf)"
    else
      info "  inotify: max_user_watches=${watches} max_user_instances=${instances}"
    fi
  fi
  # Legacy ip6tables in use (tables listed) but no nat table: Docker cannot
  # masquerade IPv6, and kind v0.25 then silently creates an IPv4-only network.
  tables=$(probe_value ip6_tables_names "$probe")
  nat=$(probe_value ip6table_nat "$probe")
  if [[ -n "${tables// /}" && " $tables " != *" nat "* && "${nat:-0}" == 0 ]]; then
    warn "the Docker host's ip6tables has tables (${tables% }) but no 'nat' table and ip6table_nat is not loaded; if Docker cannot add its IPv6 NAT rule, kind creates the 'kind' network without IPv6 (kind#3696, #3748) and deploy stops after cluster creation. Continuing."
    info "  fix: sudo modprobe ip6table_nat   (on Codespaces and similar VMs without the module, the lab cannot run)"
  fi
}

# The overlap check needs dist/ (synthesized in step 2), so deploy runs it
# just before kind create cluster (nothing changed yet) and again after it,
# when kind has created the network and Docker picked its IPv4 subnet.

# network_subnets NET: the subnets of a Docker network, one per line.
network_subnets() {
  docker network inspect "$1" --format '{{range .IPAM.Config}}{{.Subnet}}{{"\n"}}{{end}}' 2>/dev/null | grep . || true
}

# check_network_overlap: the kind network's subnets must not overlap the
# pools or Service ranges: a pod address that is also a node-network address
# routes to the wrong place. Runs before kind (existing network) and after it.
check_network_overlap() {
  local net=${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind} subnet what cidr found=0 key
  local -a subnets=() keys=() hit=()
  mapfile -t subnets < <(network_subnets "$net")
  ((${#subnets[@]} > 0)) || return 0
  [[ "${subnets[*]}" != "${_LAB_OVERLAP_CHECKED:-}" ]] || return 0
  _LAB_OVERLAP_CHECKED="${subnets[*]}"
  while IFS=$'\t' read -r what cidr; do
    for subnet in "${subnets[@]}"; do
      if cidrs_overlap "$subnet" "$cidr"; then
        err "the Docker network '${net}' subnet ${subnet} overlaps the lab's ${what} ${cidr}"
        found=$((found + 1))
        key=$(lab_config_key "$what" "$cidr")
        [[ " ${keys[*]} " == *" ${key} "* ]] || keys+=("$key")
        [[ " ${hit[*]} " == *" ${subnet} "* ]] || hit+=("$subnet")
      fi
    done
  done < <(lab_ranges)
  if ((found > 0)); then
    die "${found} overlap(s) between the Docker network '${net}' and the lab's address ranges (above)" \
      "in lab.config.yaml, move $(printf '%s, ' "${keys[@]}" | sed 's/, $//') out of ${hit[*]} (the Docker network '${net}'), then run ./deploy.sh again (it synthesizes the change); or remove the network (docker network rm ${net}, when no cluster uses it) and set Docker's default-address-pools in /etc/docker/daemon.json to ranges outside the lab's"
  fi
  info "  docker network ${net}: ${subnets[*]} (no overlap with the lab's pools and Service ranges)"
}

# fetch_operator_manifest: the tigera-operator manifest as a local file
# (downloaded into .lab/cache/, or the air-gapped local file) whose sha256 is
# the pinned one. Nothing is applied from an unchecked file.
fetch_operator_manifest() {
  local src=$LAB_TIGERA_OPERATOR_MANIFEST file got cache
  case "$src" in
    http://* | https://*)
      cache=$LAB_PROJECT_DIR/.lab/cache
      file=$cache/tigera-operator-${CALICO_VERSION:-custom}-${LAB_TIGERA_OPERATOR_SHA256:0:12}.yaml
      if [[ -s "$file" && "$(sha256_of "$file")" == "$LAB_TIGERA_OPERATOR_SHA256" ]]; then
        info "  tigera-operator manifest: ${file} (cached from ${src})"
      else
        have curl || die "curl not found, and it is needed to download ${src}" \
          "install curl, or download the file elsewhere and set LAB_TIGERA_OPERATOR_MANIFEST=/path/to/tigera-operator.yaml"
        mkdir -p "$cache"
        info "  downloading ${src}"
        curl -fsSL --retry 3 --connect-timeout 10 --max-time 120 -o "$file.part" "$src" ||
          die "could not download ${src}" \
            "offline? download it elsewhere and set LAB_TIGERA_OPERATOR_MANIFEST=/path/to/tigera-operator.yaml"
        mv "$file.part" "$file"
      fi
      ;;
    *)
      [[ -r "$src" ]] ||
        die "LAB_TIGERA_OPERATOR_MANIFEST=${src} is not a readable file" \
          "download https://raw.githubusercontent.com/projectcalico/calico/${CALICO_VERSION}/manifests/tigera-operator.yaml and point LAB_TIGERA_OPERATOR_MANIFEST at it"
      file=$src
      info "  tigera-operator manifest: ${file} (local file)"
      ;;
  esac
  got=$(sha256_of "$file") ||
    die "neither sha256sum nor shasum found: cannot check the tigera-operator manifest" \
      "install coreutils (sha256sum), or perl's shasum"
  if [[ "$got" != "$LAB_TIGERA_OPERATOR_SHA256" ]]; then
    [[ "$file" == "$LAB_PROJECT_DIR/.lab/cache/"* ]] && mv -f "$file" "$file.rejected"
    die "the tigera-operator manifest's sha256 does not match: expected ${LAB_TIGERA_OPERATOR_SHA256}, got ${got} (${src}); nothing was applied" \
      "use the manifest of Calico ${CALICO_VERSION}; for a deliberately custom manifest set LAB_TIGERA_OPERATOR_SHA256=${got}"
  fi
  info "  sha256 ${got}: matches$([[ "$LAB_TIGERA_OPERATOR_SHA256" == "$LAB_TIGERA_OPERATOR_PINNED_SHA256" ]] && echo " the pin for Calico ${CALICO_VERSION}" || echo " LAB_TIGERA_OPERATOR_SHA256")"
  # shellcheck disable=SC2034 # read by deploy.sh
  TIGERA_OPERATOR_FILE=$file
}

host_preflight() {
  check_docker_host
  fetch_operator_manifest
}

# --- right after kind create cluster, before Calico ---------------------------------------

# check_network_ipv6: kind v0.25 falls back to an IPv4-only network when
# Docker answers "Cannot read IPv6 setup for bridge" or cannot add its ip6tables
# NAT rule (kind#1544, #3696, #3748), and says nothing. Catch it here.
check_network_ipv6() {
  local net=${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind} ipv6
  # Absent: kind failed before creating it, and its own error says why.
  ipv6=$(docker network inspect "$net" --format '{{.EnableIPv6}}' 2>/dev/null) || return 0
  [[ "$ipv6" == true ]] && return 0
  die "the Docker network '${net}' has no IPv6 (EnableIPv6=${ipv6}) after kind created the cluster: Docker could not give it IPv6 (no ip6table_nat, or IPv6 disabled in the Docker VM), and kind fell back to IPv4 without saying so" \
    "on the Docker host: sudo modprobe ip6table_nat, and check 'docker network create --ipv6 --subnet fd00:dead:beef::/64 v6test' works (then docker network rm v6test)" \
    "then: ./destroy.sh --yes && docker network rm ${net} && ./deploy.sh"
}

# check_node_ipv6: calico-node autodetects IP6 from the node's InternalIPs
# (IP6=autodetect, kubernetes-internal-ip); a node without an IPv6 one makes
# it exit ("Couldn't autodetect an IPv6 address") and that node loses its
# IPv4 routes too. Fail now, in seconds, rather than after the Calico timeout.
check_node_ipv6() {
  local want deadline=$((SECONDS + LAB_NODE_TIMEOUT)) out name ready ips ip bad=() n
  want=${#LAB_NODES[@]}
  ((want > 0)) || want=1
  while :; do
    out=$(kubectl get nodes -o jsonpath="$(in_list "$Q_NODE")" --request-timeout=10s 2>/dev/null) || out=""
    n=$(grep -c . <<<"$out" || true)
    ((n >= want)) && break
    ((SECONDS < deadline)) || die "only ${n} of ${want} nodes registered within ${LAB_NODE_TIMEOUT}s after kind create cluster" \
      "docker ps -a --filter label=io.x-k8s.kind.cluster=${LAB_CLUSTER_NAME}; kind export logs --name ${LAB_CLUSTER_NAME}"
    sleep "$LAB_POLL_INTERVAL"
  done
  while IFS='|' read -r name ready ips; do
    [[ -n "$name" ]] || continue
    local v6=""
    for ip in $ips; do is_ipv6 "$ip" && v6=$ip; done
    if [[ -z "$v6" ]]; then
      bad+=("$name")
      err "node ${name} has no IPv6 InternalIP (InternalIPs: ${ips:-none})"
    else
      info "  node ${name}: ${ips}"
    fi
    : "$ready"
  done <<<"$out"
  ((${#bad[@]} == 0)) || die "${#bad[@]} node(s) without an IPv6 InternalIP: calico-node would exit there (\"Couldn't autodetect an IPv6 address\") and the node would lose its IPv4 pod routes too" \
    "check the Docker network has IPv6: docker network inspect ${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind} --format '{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}} {{end}}'" \
    "then: ./destroy.sh --yes && ./deploy.sh"
}

cluster_preflight() {
  check_network_ipv6
  check_network_overlap
  check_node_ipv6
}
