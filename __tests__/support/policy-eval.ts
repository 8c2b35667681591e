/**
 * An independent evaluator of the lesson's policies, for the matrix table test: given the synthesized
 * Kubernetes NetworkPolicies and Calico (projectcalico.org/v3) NetworkPolicies, does a flow get through?
 *
 * Calico's semantics, as Felix v3.28.5 applies them per endpoint and direction: the policies selecting
 * the endpoint, sorted by order (every Kubernetes NetworkPolicy is order 1000, libcalico-go
 * conversion.go K8sNetworkPolicyToCalico) then name; the first rule that matches decides (Allow or
 * Deny); if policies select the endpoint and none matched, the packet is dropped ("Drop if no policies
 * passed packet", felix/rules/endpoints.go endpointIptablesChain); no policy at all: the namespace
 * profile allows. A flow passes when the source pod's egress and the destination pod's ingress both do.
 * Only the fields the lesson uses are understood; anything else throws, so nothing is silently ignored.
 */
import * as ipaddr from 'ipaddr.js';
import type { K8sObject } from './synth';

export type Family = 'IPv4' | 'IPv6';
export type Endpoint =
  | { kind: 'pod'; namespace: string; labels: Record<string, string>; ip: Record<Family, string> }
  | { kind: 'host'; ip: Record<Family, string> };

export interface Flow {
  from: Endpoint;
  to: Endpoint;
  family: Family;
  protocol: 'TCP' | 'UDP' | 'ICMP' | 'ICMPv6';
  port?: number;
  icmpType?: number;
}

export interface Verdict {
  /** Calico names of the policies selecting the endpoint in this direction, in evaluation order. */
  policies: string[];
  /** The policy whose rule decided, if one did. */
  decidedBy?: string;
  action: 'allow' | 'deny' | 'no-policy';
}

interface Policy {
  calicoName: string;
  order: number;
  namespace: string;
  selects: (ep: Endpoint) => boolean;
  rules: (direction: 'ingress' | 'egress') => Array<(flow: Flow) => 'Allow' | 'Deny' | undefined> | undefined;
}

function matchLabels(selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const known = new Set(['matchLabels', 'matchExpressions']);
  for (const k of Object.keys(selector)) if (!known.has(k)) throw new Error(`label selector field ${k} not understood`);
  if (selector.matchExpressions?.length) throw new Error('matchExpressions not understood');
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function inCidr(ip: string, cidr: string): boolean {
  const a = ipaddr.parse(ip);
  const [net, len] = ipaddr.parseCIDR(cidr);
  return a.kind() === net.kind() && a.match(net, len);
}

function namespaceLabels(ep: Endpoint): Record<string, string> {
  return ep.kind === 'pod' ? { 'kubernetes.io/metadata.name': ep.namespace } : {};
}

/** Kubernetes NetworkPolicy -> Calico's view (order 1000, knp.default.<name>, allow rules). */
function fromKubernetes(np: K8sObject): Policy {
  const ns = np.metadata.namespace!;
  const spec = np.spec;
  const types: string[] = spec.policyTypes ?? ['Ingress'];
  const peerMatches = (peer: any, ep: Endpoint, family: Family): boolean => {
    for (const k of Object.keys(peer)) if (!['ipBlock', 'podSelector', 'namespaceSelector'].includes(k)) throw new Error(`peer field ${k} not understood`);
    if (peer.ipBlock) {
      const ip = ep.ip[family];
      return inCidr(ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c: string) => inCidr(ip, c));
    }
    if (ep.kind !== 'pod') return false;
    const nsOk = peer.namespaceSelector ? matchLabels(peer.namespaceSelector, namespaceLabels(ep)) : ep.namespace === ns;
    return nsOk && matchLabels(peer.podSelector, ep.labels);
  };
  const portMatches = (ports: any[] | undefined, flow: Flow): boolean => {
    if (!ports || ports.length === 0) return true;
    return ports.some(p => (p.protocol ?? 'TCP') === flow.protocol && (p.port === undefined || p.port === flow.port));
  };
  return {
    calicoName: `${ns}/knp.default.${np.metadata.name}`,
    order: 1000,
    namespace: ns,
    selects: ep => ep.kind === 'pod' && ep.namespace === ns && matchLabels(spec.podSelector, ep.labels),
    rules: direction => {
      if (!types.includes(direction === 'ingress' ? 'Ingress' : 'Egress')) return undefined;
      const list: any[] = spec[direction] ?? [];
      return list.map(rule => (flow: Flow) => {
        const peers: any[] | undefined = direction === 'ingress' ? rule.from : rule.to;
        const other = direction === 'ingress' ? flow.from : flow.to;
        const peerOk = !peers || peers.length === 0 || peers.some(p => peerMatches(p, other, flow.family));
        return peerOk && portMatches(rule.ports, flow) ? 'Allow' : undefined;
      });
    },
  };
}

/** `k == 'v' && ...`: the Calico selectors the lesson writes. */
function calicoSelectorMatches(selector: string, labels: Record<string, string>): boolean {
  if (selector.trim() === '' || selector.trim() === 'all()') return true;
  return selector.split('&&').every(term => {
    const m = /^\s*([A-Za-z0-9_./-]+)\s*==\s*'([^']*)'\s*$/.exec(term);
    if (!m) throw new Error(`calico selector term ${JSON.stringify(term)} not understood`);
    return labels[m[1]] === m[2];
  });
}

/** Calico projectcalico.org/v3 NetworkPolicy. */
function fromCalico(np: K8sObject): Policy {
  const ns = np.metadata.namespace!;
  const spec = np.spec;
  const understood = ['action', 'protocol', 'ipVersion', 'icmp', 'source', 'destination'];
  return {
    calicoName: `${ns}/${np.metadata.name}`,
    order: spec.order ?? Number.POSITIVE_INFINITY,
    namespace: ns,
    selects: ep => ep.kind === 'pod' && ep.namespace === ns && calicoSelectorMatches(spec.selector ?? '', ep.labels),
    rules: direction => {
      const types: string[] = spec.types ?? ['Ingress'];
      if (!types.includes(direction === 'ingress' ? 'Ingress' : 'Egress')) return undefined;
      return (spec[direction] ?? []).map((rule: any) => (flow: Flow) => {
        for (const k of Object.keys(rule)) if (!understood.includes(k)) throw new Error(`calico rule field ${k} not understood`);
        for (const side of ['source', 'destination']) if (rule[side] && Object.keys(rule[side]).length) throw new Error(`calico rule ${side} not understood`);
        if (rule.ipVersion !== undefined && rule.ipVersion !== (flow.family === 'IPv4' ? 4 : 6)) return undefined;
        if (rule.protocol !== undefined && rule.protocol !== flow.protocol) return undefined;
        if (rule.icmp?.type !== undefined && rule.icmp.type !== flow.icmpType) return undefined;
        return rule.action;
      });
    },
  };
}

function policiesOf(objects: K8sObject[]): Policy[] {
  return objects.map(o => {
    if (o.apiVersion === 'networking.k8s.io/v1' && o.kind === 'NetworkPolicy') return fromKubernetes(o);
    if (o.apiVersion === 'projectcalico.org/v3' && o.kind === 'NetworkPolicy') return fromCalico(o);
    throw new Error(`${o.apiVersion} ${o.kind} is not a policy the evaluator knows`);
  });
}

function verdict(policies: Policy[], ep: Endpoint, direction: 'ingress' | 'egress', flow: Flow): Verdict {
  const applicable = policies
    .filter(p => p.selects(ep) && p.rules(direction) !== undefined)
    .sort((a, b) => a.order - b.order || a.calicoName.localeCompare(b.calicoName));
  for (const p of applicable) {
    for (const rule of p.rules(direction)!) {
      const action = rule(flow);
      if (action === 'Allow') return { policies: applicable.map(x => x.calicoName), decidedBy: p.calicoName, action: 'allow' };
      if (action === 'Deny') return { policies: applicable.map(x => x.calicoName), decidedBy: p.calicoName, action: 'deny' };
    }
  }
  return { policies: applicable.map(x => x.calicoName), action: applicable.length > 0 ? 'deny' : 'no-policy' };
}

/** The verdicts of a flow: egress at the source pod, ingress at the destination pod. */
export function evaluate(objects: K8sObject[], flow: Flow): { allowed: boolean; egress?: Verdict; ingress?: Verdict } {
  const policies = policiesOf(objects);
  const egress = flow.from.kind === 'pod' ? verdict(policies, flow.from, 'egress', flow) : undefined;
  const ingress = flow.to.kind === 'pod' ? verdict(policies, flow.to, 'ingress', flow) : undefined;
  const passes = (v?: Verdict) => !v || v.action !== 'deny';
  return { allowed: passes(egress) && passes(ingress), egress, ingress };
}
