#!/usr/bin/env bash
# Compare a kind cluster that deploy.sh is about to reuse with what dist/
# asks for. kind cannot change the node count or kubeadm's pod and service
# subnets of an existing cluster, and Calico forbids changing an IPPool's
# cidr or blockSize ("IPPool CIDR cannot be modified", libcalico-go
# clientv3/ippool.go) although the crd.projectcalico.org/v1 API stores the
# change: re-applying dist/ would leave a lab that only looks changed.
#
# Sourced after common.sh; needs KUBECONFIG to point at the cluster.

# live_kubeadm_networking KEY: podSubnet or serviceSubnet of the
# ClusterConfiguration kubeadm stored in kube-system/kubeadm-config, read by
# kubectl's own YAML parser (`label --local` only prints; it changes nothing).
live_kubeadm_networking() {
  local config
  config=$(kubectl get configmap -n kube-system kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' --request-timeout=10s 2>/dev/null) || return 0
  [[ -n "$config" ]] || return 0
  kubectl label --local -f - calico-ipv6-lab/read=kubeadm-config -o jsonpath="{.networking.$1}" <<<"$config" 2>/dev/null || true
}

# cluster_differences: one line per value the live cluster has other than
# $LAB_KIND_CONFIG and $LAB_DIST_DIR want (as the lab's facts say); nothing
# when they agree or the cluster cannot be read.
cluster_differences() {
  local want have key name cidr block live_cidr live_block i
  want=${#LAB_NODES[@]}
  if have=$(kubectl get nodes -o name --request-timeout=10s 2>/dev/null | grep -c .); then
    [[ "$have" == "$want" ]] ||
      printf 'nodes: the cluster has %s, %s wants %s (control plane + %s workers)\n' "$have" "$LAB_KIND_CONFIG" "$want" "$((want - 1))"
  fi
  for key in podSubnet serviceSubnet; do
    want=$(fact "cluster.${key}s.ipv4"),$(fact "cluster.${key}s.ipv6")
    want=${want#,}
    want=${want%,}
    have=$(live_kubeadm_networking "$key")
    [[ -z "$have" || -z "$want" || "$have" == "$want" ]] ||
      printf '%s: the cluster has %s, %s wants %s\n' "$key" "$have" "$LAB_KIND_CONFIG" "$want"
  done
  # Before Calico's CRDs exist there are no pools to compare: no output.
  local live
  live=$(kubectl get --request-timeout=10s ippools.crd.projectcalico.org \
    -o jsonpath='{range .items[*]}{.metadata.name}{"|"}{.spec.cidr}{"|"}{.spec.blockSize}{"\n"}{end}' 2>/dev/null) || live=""
  for ((i = 0; i < $(fact_count calico.pools); i++)); do
    name=$(fact "calico.pools.$i.name") cidr=$(fact "calico.pools.$i.cidr") block=$(fact "calico.pools.$i.blockSize")
    IFS='|' read -r _ live_cidr live_block < <(awk -F'|' -v n="$name" '$1 == n' <<<"$live") || continue
    [[ "$live_cidr" == "$cidr" ]] ||
      printf 'IPPool %s cidr: the cluster has %s, %s wants %s (Calico does not allow changing a pool'"'"'s cidr)\n' "$name" "$live_cidr" "$LAB_DIST_DIR" "$cidr"
    [[ -z "$live_block" || "$live_block" == "$block" ]] ||
      printf 'IPPool %s blockSize: the cluster has %s, %s wants %s (Calico does not allow changing a pool'"'"'s blockSize)\n' "$name" "$live_block" "$LAB_DIST_DIR" "$block"
  done
}

# check_reused_cluster: stop before changing anything when the cluster to be
# reused cannot become what dist/ describes.
check_reused_cluster() {
  local diffs
  diffs=$(cluster_differences)
  if [[ -z "$diffs" ]]; then
    info "  cluster ${LAB_CLUSTER_NAME} matches ${LAB_DIST_DIR} (nodes, pod and service subnets, IPPools)"
    return 0
  fi
  die_listing "cluster ${LAB_CLUSTER_NAME} was created from another configuration; it cannot be changed in place:" "$diffs" \
    "re-deploying would leave a lab that differs from ${LAB_DIST_DIR}" \
    "./destroy.sh --yes, then ./deploy.sh   (destroy removes cluster ${LAB_CLUSTER_NAME} and ${LAB_KUBECONFIG})"
}

# note_other_clusters: kind clusters other than this lab's, e.g. the lab
# under its previous clusterName; they keep running until destroyed.
note_other_clusters() {
  local other
  while IFS= read -r other; do
    [[ -n "$other" && "$other" != "$LAB_CLUSTER_NAME" ]] || continue
    info "  note: kind also has a cluster \"${other}\" (this lab under an earlier clusterName?); it keeps running."
    info "        remove it with: LAB_CLUSTER_NAME=${other} ./destroy.sh --yes"
  done < <(kind get clusters 2>/dev/null)
}
