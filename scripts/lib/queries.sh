#!/usr/bin/env bash
# kubectl jsonpath templates verify.sh renders, one object per line with
# "|"-separated fields ("|", not tabs: read collapses runs of tab separators,
# which would shift the fields after an empty one).
#
# Kept here so the tests can render them against JSON fixtures with a real
# kubectl (kubectl label --local -o jsonpath=...), and prove that the text
# the kubectl stub replays is what these templates produce.
# shellcheck disable=SC2034 # used by the files that source this one

# name|Ready status|InternalIPs (space-separated)
Q_NODE='{.metadata.name}{"|"}{.status.conditions[?(@.type=="Ready")].status}{"|"}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}'
# name|node|phase|pod IPs (space-separated)
Q_POD='{.metadata.name}{"|"}{.spec.nodeName}{"|"}{.status.phase}{"|"}{.status.podIPs[*].ip}{"\n"}'
# cidr|natOutgoing|vxlanMode|blockSize
Q_IPPOOL='{.spec.cidr}{"|"}{.spec.natOutgoing}{"|"}{.spec.vxlanMode}{"|"}{.spec.blockSize}{"\n"}'
# ClusterIPs (space-separated)
Q_SERVICE='{.spec.clusterIPs[*]}{"\n"}'

# in_list TEMPLATE: the same fields for every item of a list.
in_list() { printf '{range .items[*]}%s{end}' "$1"; }

# verify's health checks (scripts/lib/checks-calico.sh and verify.sh):
# name|node|phase|Ready status|pod IPs (space-separated): Q_POD with the Ready condition
Q_LAB_POD='{.metadata.name}{"|"}{.spec.nodeName}{"|"}{.status.phase}{"|"}{.status.conditions[?(@.type=="Ready")].status}{"|"}{.status.podIPs[*].ip}{"\n"}'
# name|NetworkUnavailable status|its reason|taint keys (space-separated)
Q_NODE_NETWORK='{.metadata.name}{"|"}{.status.conditions[?(@.type=="NetworkUnavailable")].status}{"|"}{.status.conditions[?(@.type=="NetworkUnavailable")].reason}{"|"}{.spec.taints[*].key}{"\n"}'
# calico-node pods: name|node|Ready status|calico-node container's waiting reason (ErrImagePull, ...)
Q_CALICO_NODE_READY='{.metadata.name}{"|"}{.spec.nodeName}{"|"}{.status.conditions[?(@.type=="Ready")].status}{"|"}{.status.containerStatuses[?(@.name=="calico-node")].state.waiting.reason}{"\n"}'
# One TigeraStatus, a line per condition: type|status|message (the message last: it may hold "|")
Q_TIGERASTATUS='{range .status.conditions[*]}{.type}{"|"}{.status}{"|"}{.message}{"\n"}{end}'
# A DaemonSet: desiredNumberScheduled|currentNumberScheduled|numberReady
Q_DAEMONSET='{.status.desiredNumberScheduled}{"|"}{.status.currentNumberScheduled}{"|"}{.status.numberReady}{"\n"}'
