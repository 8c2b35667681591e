# Shared setup for the routing "bgp" bats suites (bgp-*.bats), on top of helpers/lab.bash.
#
# The lab is the real synth of `routing: bgp` (rendered once per bats run); the stub cluster is
# fixtures/cluster with fixtures/bgp/cluster laid over it, and the router's answers come from
# fixtures/bgp (a real FRR 8.4.4's, see its README). fixtures/bgp/broken/<state> lays a broken state over
# both.

BGP_FIXTURES=$FIXTURES/bgp
ROUTER=ipv6-lab-router

# Built once per bats run, shared by the bgp suites.
bgp_setup_file() {
  lab_setup_file
  export BGP_DIST=$BATS_RUN_TMPDIR/bgp-dist
  if [[ ! -d "$BGP_DIST" ]]; then
    printf 'routing: bgp\n' >"$BATS_RUN_TMPDIR/bgp.config.yaml"
    render_config "$BATS_RUN_TMPDIR/bgp.config.yaml" "$BGP_DIST"
  fi
}

# bgp_setup: lab_setup for the routing "bgp" lab (its dist in the project, the bgp stub cluster).
bgp_setup() {
  lab_setup
  [[ -n "${BGP_DIST:-}" && -d "$BGP_DIST" ]] || bgp_setup_file
  rm -rf "$PROJECT/dist"
  cp -R "$BGP_DIST" "$PROJECT/dist"
  find "$PROJECT/dist" -exec touch {} +
  export STUB_SYNTH_FROM=$BGP_DIST
  bgp_cluster
}

# router_answer FIXTURE: the file under which the docker stub keeps the router's answer to the command
# the fixture is the output of (fixtures/bgp/README.md names each command).
router_answer() {
  local cmd
  case "$1" in
    show-bgp-*.json) cmd="vtysh -c ${1%.json} json" ;;
    show-bgp-*.txt) cmd="vtysh -c ${1%.txt}" ;;
    ip-route.txt) cmd="ip route" ;;
    ip-6-route.txt) cmd="ip -6 route" ;;
    *) return 1 ;;
  esac
  cmd=${cmd//-/ }
  cmd=${cmd/vtysh  c/vtysh -c}
  cmd=${cmd/ip  6/ip -6}
  printf '%s/node/%s/%s.txt' "$STUB_STATE/cluster" "$ROUTER" "$(key "$cmd")"
}

# router_answers DIR: every router output in DIR as the router's answer.
router_answers() {
  local f dest
  mkdir -p "$STUB_STATE/cluster/node/$ROUTER"
  for f in "$1"/*.json "$1"/*.txt; do
    [[ -e "$f" ]] || continue
    dest=$(router_answer "${f##*/}") || continue
    cp "$f" "$dest"
  done
}

# pod_ip POD FAMILY: the stub cluster's pod address of FAMILY (ipv4 or ipv6).
pod_ip() {
  local ips
  ips=$(awk -F'|' -v p="$1" '$1 == p { print $5 }' "$STUB_STATE/cluster/pods.txt")
  if [[ "$2" == ipv4 ]]; then printf '%s' "${ips%% *}"; else printf '%s' "${ips##* }"; fi
}

# router_http_url FAMILY POD: the URL verify asks the router to fetch from POD.
router_http_url() {
  local ip
  ip=$(pod_ip "$2" "$1")
  if [[ "$1" == ipv6 ]]; then printf 'http://[%s]:8080/' "$ip"; else printf 'http://%s:8080/' "$ip"; fi
}

bgp_cluster() {
  local f fam pod
  cp -R "$BGP_FIXTURES/cluster/." "$STUB_STATE/cluster/"
  # Nothing of the VXLAN lab's tunnels: a stray call fails loudly instead of replaying them.
  rm -f "$STUB_STATE"/cluster/node/*/ip_-d_link_show_vxlan*.txt "$STUB_STATE"/cluster/node/*/bridge_fdb_* \
    "$STUB_STATE"/cluster/node/*/ip_*neigh_show_dev_vxlan*.txt "$STUB_STATE"/cluster/ping-df-138?.txt*
  router_answers "$BGP_FIXTURES"
  # nginx's answers to the router (busybox wget in the router; the answers of the real nginx run).
  for f in "$BGP_FIXTURES"/http-*.txt; do
    fam=${f##*/http-} fam=${fam%%-*}
    pod=${f##*/http-"$fam"-} pod=${pod%.txt}
    cp "$f" "$STUB_STATE/cluster/node/$ROUTER/$(key "wget -q -O - -T 5 $(router_http_url "$fam" "$pod")").txt"
  done
}

# bgp_router_running [CONFIG_HASHES]: the router container runs, as deploy.sh started it from this
# project's dist (or with CONFIG_HASHES as its configuration label).
bgp_router_running() {
  local dir hashes="" f
  dir=$(cd "$PROJECT/dist/frr" && pwd -P)
  for f in daemons frr.conf vtysh.conf; do hashes+="${hashes:+ }${f}=$(sha256sum "$dir/$f" | cut -d' ' -f1)"; done
  mkdir -p "$STUB_STATE/cluster/docker"
  printf 'true|%s|%s|%s|%s|%s\n' "$(facts_value "$PROJECT/dist" f.bgp.router.image)" fc00:f853:ccd:e793::fffe 172.18.255.254 \
    "${1:-$hashes}" "$dir" >"$STUB_STATE/cluster/docker/$ROUTER.inspect"
}

# bgp_broken STATE: fixtures/bgp/broken/STATE laid over the stub cluster and the router's answers.
bgp_broken() {
  local dir=$BGP_FIXTURES/broken/$1
  router_answers "$dir"
  [[ ! -f "$dir/caliconodestatuses.txt" ]] || cp "$dir/caliconodestatuses.txt" "$STUB_STATE/cluster/"
  [[ ! -d "$dir/node" ]] || cp -R "$dir/node/." "$STUB_STATE/cluster/node/"
}


# doc_sample MARKER: the ```text block after the line <!-- sample: MARKER --> of docs/bgp.md.
doc_sample() {
  doc_block "$REPO_ROOT/docs/bgp.md" "" "<!-- sample: $1 -->"
}
