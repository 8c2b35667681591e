/**
 * The node the policy fixtures describe: ipv6-lab-worker of the real kind cluster recorded in
 * ../shared/calico/v3.28.5/kind (calicoctl.txt, ipamblocks.yaml, docker-network-kind.json), with the
 * lesson's policy/ applied. Its workload endpoints are those the recording shows on that node:
 * multitool-x79cb (default) and csi-node-driver-slqvv (calico-system). Addresses are the recorded ones;
 * the external host is the configured 172.18.255.250 / fc00:f853:ccd:e793:ffff::fa.
 */
import { createHash } from 'crypto';
import {
  FelixIpSet, FelixPolicy, FelixProfile, IpVersion, NodeFilterTable, WorkloadEndpoint,
  felixPolicies, ipSetName, nodeFilterTable, restoreInput, selectorMatches,
} from './felix-iptables';
import type { K8sObject } from './synth';

export interface ClusterPod {
  namespace: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  serviceAccount: string;
  ipv4: string;
  ipv6: string;
}

/** The recording's pods that the lesson's selectors can match, and the worker's csi pod. */
export const CLUSTER_PODS: ClusterPod[] = [
  { namespace: 'default', name: 'multitool-hldd4', node: 'ipv6-lab-control-plane', labels: { app: 'multitool' }, serviceAccount: 'default', ipv4: '192.168.195.195', ipv6: 'fd00:10:244:a1f9:396e:2dd6:3f70:c3c3' },
  { namespace: 'default', name: 'multitool-x79cb', node: 'ipv6-lab-worker', labels: { app: 'multitool' }, serviceAccount: 'default', ipv4: '192.168.106.130', ipv6: 'fd00:10:244:6a81:e39d:1504:3117:bc82' },
  { namespace: 'default', name: 'multitool-xjh25', node: 'ipv6-lab-worker2', labels: { app: 'multitool' }, serviceAccount: 'default', ipv4: '192.168.129.194', ipv6: 'fd00:10:244:4c62:c4fa:dbc4:afce:81c2' },
  { namespace: 'kube-system', name: 'coredns-5dd5756b68-2zpph', node: 'ipv6-lab-control-plane', labels: { 'k8s-app': 'kube-dns' }, serviceAccount: 'coredns', ipv4: '192.168.195.198', ipv6: 'fd00:10:244:a1f9:396e:2dd6:3f70:c3c6' },
  { namespace: 'kube-system', name: 'coredns-5dd5756b68-ch5zp', node: 'ipv6-lab-control-plane', labels: { 'k8s-app': 'kube-dns' }, serviceAccount: 'coredns', ipv4: '192.168.195.200', ipv6: 'fd00:10:244:a1f9:396e:2dd6:3f70:c3c8' },
  // The operator's csi-node-driver DaemonSet sets no ServiceAccount outside OpenShift (tigera/operator
  // v1.34.13 pkg/render/csi.go), so its pods run as calico-system's default one.
  { namespace: 'calico-system', name: 'csi-node-driver-slqvv', node: 'ipv6-lab-worker', labels: { 'k8s-app': 'csi-node-driver' }, serviceAccount: 'default', ipv4: '192.168.106.129', ipv6: 'fd00:10:244:6a81:e39d:1504:3117:bc81' },
];

export const NODE = 'ipv6-lab-worker';
/** The other nodes' addresses: the members of all-vxlan-net (felix/dataplane/linux/vxlan_mgr.go). */
export const OTHER_NODES = { 4: ['172.18.0.2', '172.18.0.4'], 6: ['fc00:f853:ccd:e793::2', 'fc00:f853:ccd:e793::4'] } as const;
export const NODE_ADDRESSES = { 4: '172.18.0.3', 6: 'fc00:f853:ccd:e793::3' } as const;

/** The CNI plugin's host-side interface name: "cali" + the first 11 hex digits of SHA-1("<namespace>.<pod>"). */
export function vethName(namespace: string, pod: string): string {
  return `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;
}

/** The labels Calico gives a pod's workload endpoint, plus its namespace's labels prefixed pcns. */
export function endpointLabels(pod: ClusterPod): Record<string, string> {
  return {
    ...pod.labels,
    'projectcalico.org/namespace': pod.namespace,
    'projectcalico.org/orchestrator': 'k8s',
    'projectcalico.org/serviceaccount': pod.serviceAccount,
    'pcns.kubernetes.io/metadata.name': pod.namespace,
    'pcns.projectcalico.org/name': pod.namespace,
  };
}

/** conversion.go NamespaceToProfile (allow both ways) and ServiceAccountToProfile (no rules). */
function profilesOf(pod: ClusterPod): FelixProfile[] {
  return [
    { name: `kns.${pod.namespace}`, inbound: [{ action: 'allow' }], outbound: [{ action: 'allow' }] },
    { name: `ksa.${pod.namespace}.${pod.serviceAccount}`, inbound: [], outbound: [] },
  ];
}

/** felix/calc/policy_sorter.go PolKVLess: order, then name. */
function sorted(policies: FelixPolicy[]): FelixPolicy[] {
  return [...policies].sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface LessonNode {
  endpoints: Array<WorkloadEndpoint & { pod: ClusterPod }>;
  policies: FelixPolicy[];
  ipSets: Array<FelixIpSet & { members: Record<IpVersion, string[]> }>;
  table: Record<IpVersion, NodeFilterTable>;
}

/** The node, its endpoints and what Felix programs for them, from the synthesized policy/ objects. */
export function lessonNode(policyObjects: K8sObject[]): LessonNode {
  const { policies, ipSets } = felixPolicies(policyObjects);
  const pods = CLUSTER_PODS.filter(p => p.node === NODE);
  const endpoints = pods.map(pod => {
    const labels = endpointLabels(pod);
    const selecting = sorted(policies.filter(p => selectorMatches(p.selector, labels)));
    return {
      pod,
      iface: vethName(pod.namespace, pod.name),
      ingressPolicies: selecting.filter(p => p.types.includes('ingress')),
      egressPolicies: selecting.filter(p => p.types.includes('egress')),
      profiles: profilesOf(pod).map(p => p.name),
    };
  });
  const profiles = pods.flatMap(profilesOf);
  const withMembers = ipSets.map(s => {
    const members = CLUSTER_PODS.filter(p => selectorMatches(s.selector, endpointLabels(p)));
    return { ...s, members: { 4: members.map(p => p.ipv4), 6: members.map(p => p.ipv6) } as Record<IpVersion, string[]> };
  });
  return {
    endpoints,
    policies,
    ipSets: withMembers,
    table: { 4: nodeFilterTable(4, endpoints, profiles), 6: nodeFilterTable(6, endpoints, profiles) },
  };
}

/** The `ipset restore` input Felix writes for the node's IP sets (felix/ipsets/ipsets.go writeFullRewrite). */
export function ipsetRestore(node: LessonNode, v: IpVersion): string {
  const family = v === 4 ? 'inet' : 'inet6';
  const lines: string[] = [];
  const set = (name: string, members: readonly string[]) => {
    lines.push(`create ${name} hash:net family ${family} maxelem 1048576`);
    for (const m of members) lines.push(`add ${name} ${m}/${v === 4 ? 32 : 128}`);
  };
  set(ipSetName(v, 'all-vxlan-net'), OTHER_NODES[v]);
  for (const s of node.ipSets) set(ipSetName(v, s.id), s.members[v]);
  return `${lines.join('\n')}\n`;
}

export { restoreInput };
