# Shared setup of the IPv6-only suites (ipv6only-*.bats), on top of helpers/lab.bash: the lab's dist as
# synth renders `ipFamilies: [IPv6]`, and the stub cluster as an IPv6-only lab shows it
# (fixtures/ipv6-only/cluster/, over fixtures/cluster/; see fixtures/ipv6-only/README.md).

# ipv6only_setup_file: the IPv6-only dist, rendered once per file by the real synth.
ipv6only_setup_file() {
  lab_setup_file
  export V6_DIST=$BATS_FILE_TMPDIR/ipv6-only-dist
  if [[ ! -d "$V6_DIST" ]]; then
    printf 'ipFamilies: [IPv6]\n' >"$BATS_FILE_TMPDIR/ipv6-only.yaml"
    render_config "$BATS_FILE_TMPDIR/ipv6-only.yaml" "$V6_DIST"
  fi
}

# ipv6only_lab: the project has a lab.config.yaml of `ipFamilies: [IPv6]` and its synthesized dist
# where synth publishes it (.lab/dist; dist/ keeps the defaults, as in a checkout); the stub cluster is
# an IPv6-only lab deployed by deploy.sh: its IPv4 pool gone, kube-system/coredns holding the dist's
# Corefile and the Deployment rolled onto it, the three containers running.
ipv6only_lab() {
  V6_PROJECT_DIST=$PROJECT/.lab/dist
  printf 'ipFamilies: [IPv6]\n' >"$PROJECT/lab.config.yaml"
  touch -d '2024-01-01 00:00' "$PROJECT/lab.config.yaml"
  rm -rf "$V6_PROJECT_DIST"
  mkdir -p "$PROJECT/.lab"
  cp -R "$V6_DIST" "$V6_PROJECT_DIST"
  find "$V6_PROJECT_DIST" -exec touch {} +
  export STUB_SYNTH_FROM=$V6_DIST
  cp -R "$FIXTURES/ipv6-only/cluster/." "$STUB_STATE/cluster/"
  rm -f "$STUB_STATE/cluster/ippool-default-ipv4-ippool.txt"
  cp "$FIXTURES/ipv6-only/dns/Corefile" "$STUB_STATE/cluster/coredns-corefile.txt"
  fixture deployment-coredns.txt "$(facts_value "$V6_PROJECT_DIST" f.dns64.coreDns.corefileSha256)|2|2|2"
}

# ipv6only_not_deployed: as kind and kubeadm leave the cluster, before deploy's IPv6-only steps: none of
# the containers, kubeadm's CoreDNS Deployment without the lab's annotation.
ipv6only_not_deployed() {
  rm -f "$STUB_STATE/cluster/docker/"{ipv6-lab-dns,ipv6-lab-nat64,ipv6-lab-ipv4-host}.inspect
  fixture deployment-coredns.txt "|2|2|2"
}
