/**
 * Felix v3.28.5's iptables rendering of the policy lesson, for one node, re-derived rule by rule from its
 * source (projectcalico/calico at tag v3.28.5; file:line citations per rule shape in
 * __tests__/scripts/fixtures/policy/README.md). It produces what Felix feeds `iptables-restore` for the
 * filter table: the same chain names (shortened by hash where Felix shortens them), rule order, mark
 * bits, comments and `cali:` rule hashes. It covers exactly what the lesson's policies and a kind
 * node's Felix configuration exercise, and throws on anything else rather than guess.
 *
 * Pipeline, as Calico's:
 *   Kubernetes NetworkPolicy -> projectcalico.org/v3 rules        (libcalico-go k8s/conversion)
 *   v3 policy -> datastore model (namespace-scoped selectors)     (syncersv1/updateprocessors)
 *   model rule -> proto rule (IP version, IP set IDs)              (felix/calc rule_scanner, rule_convert)
 *   proto rules -> iptables chains                                 (felix/rules, felix/iptables)
 */
import { createHash } from 'crypto';
import type { K8sObject } from './synth';

export type IpVersion = 4 | 6;

// ------------------------------------------------------------------ hashing and names --

const b64url = (buf: Buffer) => buf.toString('base64url');

/** felix/hashutils/id.go GetLengthLimitedID. */
export function lengthLimitedId(prefix: string, suffix: string, maxLength: number): string {
  const total = prefix.length + suffix.length;
  if (total > maxLength || (total === maxLength && suffix.startsWith('_'))) {
    const hash = b64url(createHash('sha256').update(suffix).digest());
    return `${prefix}_${hash.slice(0, maxLength - 1 - prefix.length)}`;
  }
  return prefix + suffix;
}

/** felix/iptables/table.go MaxChainNameLength. */
export const MAX_CHAIN_NAME_LENGTH = 28;

/** libcalico-go/lib/hash/unique_id.go MakeUniqueID. */
export function uniqueId(prefix: string, content: string): string {
  return `${prefix}:${b64url(createHash('sha224').update(`${prefix}:${content}`).digest())}`;
}

/** felix/ipsets/ipset_defs.go NameForMainIPSet: "cali4" or "cali6", "0", the ID, cut to 31 characters. */
export function ipSetName(ipVersion: IpVersion, setId: string): string {
  return `cali${ipVersion}0${setId}`.slice(0, 31);
}

// ------------------------------------------------------------------ selectors --

type SelNode =
  | { kind: 'eq'; label: string; value: string }
  | { kind: 'and'; operands: SelNode[] }
  | { kind: 'all' };

/** The selector grammar the lesson produces: label == 'value', &&, parentheses, all(). */
export function parseSelector(text: string): SelNode {
  const tokens = text.match(/\(|\)|&&|==|'[^']*'|"[^"]*"|all\(\)|[A-Za-z0-9_./-]+|\S/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const parseAnd = (): SelNode => {
    const ops = [parseOp()];
    while (peek() === '&&') {
      next();
      ops.push(parseOp());
    }
    return ops.length === 1 ? ops[0] : { kind: 'and', operands: ops };
  };
  const parseOp = (): SelNode => {
    const t = next();
    if (t === '(') {
      const inner = parseAnd();
      if (next() !== ')') throw new Error(`selector ${text}: expected )`);
      return inner;
    }
    if (t === 'all()') return { kind: 'all' };
    if (peek() !== '==') throw new Error(`selector ${text}: only == is understood, got ${peek()}`);
    next();
    const v = next();
    if (!v || !/^['"]/.test(v)) throw new Error(`selector ${text}: expected a string`);
    return { kind: 'eq', label: t, value: v.slice(1, -1) };
  };
  if (text.trim() === '') return { kind: 'all' };
  const node = parseAnd();
  if (i !== tokens.length) throw new Error(`selector ${text}: unexpected ${tokens[i]}`);
  return node;
}

/** libcalico-go/lib/selector/parser/ast.go collectFragments: the canonical form. */
export function selectorString(node: SelNode): string {
  switch (node.kind) {
    case 'all': return 'all()';
    case 'eq': {
      const q = node.value.includes('"') ? "'" : '"';
      return `${node.label} == ${q}${node.value}${q}`;
    }
    case 'and': return `(${node.operands.map(selectorString).join(' && ')})`;
  }
}

/** updateprocessors selectors.go parseSelectorAttachPrefix (PrefixVisitor). */
function prefixLabels(node: SelNode, prefix: string): SelNode {
  if (node.kind === 'eq') return { ...node, label: prefix + node.label };
  if (node.kind === 'and') return { kind: 'and', operands: node.operands.map(n => prefixLabels(n, prefix)) };
  return node;
}

export const normaliseSelector = (s: string) => selectorString(parseSelector(s.trim()));

// ------------------------------------------------------------------ the policy model --

/** A rule as Felix's dataplane receives it (felix/proto Rule), for the fields the lesson uses. */
export interface ProtoRule {
  action: 'allow';
  ipVersion?: IpVersion;
  protocol?: string;
  srcNet?: string[];
  dstNet?: string[];
  srcIpSetIds?: string[];
  dstIpSetIds?: string[];
  dstPorts?: number[];
  icmpType?: number;
}

export interface FelixPolicy {
  /** `<namespace>/<name>`: networkpolicyprocessor.go convertNetworkPolicyV2ToV1Key. */
  name: string;
  order: number;
  /** selector.Normalise of the namespaced selector (rule_scanner.go OnPolicyActive). */
  selector: string;
  types: Array<'ingress' | 'egress'>;
  inbound: ProtoRule[];
  outbound: ProtoRule[];
}

/** An IP set a rule references: its ID, the selector it stands for. */
export interface FelixIpSet {
  id: string;
  selector: string;
}

interface V3Rule {
  action: 'Allow';
  protocol?: string;
  ipVersion?: number;
  icmp?: { type: number };
  source?: { selector?: string; namespaceSelector?: string; nets?: string[] };
  destination?: { selector?: string; namespaceSelector?: string; nets?: string[]; ports?: number[] };
}

const K8S_NP_PREFIX = 'knp.default.';

/** conversion.go k8sSelectorToCalico for a pod selector. */
function k8sPodSelector(sel: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined): string {
  if (sel?.matchExpressions?.length) throw new Error('matchExpressions are not rendered here');
  const terms = ["projectcalico.org/orchestrator == 'k8s'"];
  for (const k of Object.keys(sel?.matchLabels ?? {}).sort()) terms.push(`${k} == '${sel!.matchLabels![k]}'`);
  return terms.join(' && ');
}

/** conversion.go k8sSelectorToCalico for a namespace selector. */
function k8sNamespaceSelector(sel: { matchLabels?: Record<string, string> } | undefined): string | undefined {
  if (!sel) return undefined;
  const keys = Object.keys(sel.matchLabels ?? {}).sort();
  if (keys.length === 0) return 'all()';
  return keys.map(k => `${k} == '${sel.matchLabels![k]}'`).join(' && ');
}

/** conversion.go K8sNetworkPolicyToCalico and k8sRuleToCalico: one rule per protocol per peer. */
function k8sToV3(np: K8sObject): { name: string; order: number; selector: string; types: Array<'ingress' | 'egress'>; ingress: V3Rule[]; egress: V3Rule[] } {
  const toRules = (rules: any[] | undefined, ingress: boolean): V3Rule[] => (rules ?? []).flatMap(rule => {
    const peers: any[] = (ingress ? rule.from : rule.to) ?? [undefined];
    const byProtocol = new Map<string, number[]>();
    for (const p of rule.ports ?? []) {
      const proto = p.protocol ?? 'TCP';
      byProtocol.set(proto, [...(byProtocol.get(proto) ?? []), p.port]);
    }
    if (byProtocol.size === 0) throw new Error('port-less rules are not rendered here');
    return [...byProtocol.keys()].sort().flatMap(protocol => peers.map(peer => {
      const entity: NonNullable<V3Rule['source']> = {};
      if (peer?.ipBlock) {
        if (peer.ipBlock.except?.length) throw new Error('ipBlock.except is not rendered here');
        entity.nets = [peer.ipBlock.cidr];
      } else if (peer) {
        entity.selector = k8sPodSelector(peer.podSelector);
        const ns = k8sNamespaceSelector(peer.namespaceSelector);
        if (ns) entity.namespaceSelector = ns;
      }
      const ports = byProtocol.get(protocol)!;
      return ingress
        ? { action: 'Allow' as const, protocol, source: entity, destination: { ports } }
        : { action: 'Allow' as const, protocol, destination: { ...entity, ports } };
    }));
  });
  const types = (np.spec.policyTypes as string[]).map(t => t.toLowerCase() as 'ingress' | 'egress');
  return {
    name: K8S_NP_PREFIX + np.metadata.name,
    order: 1000,
    selector: k8sPodSelector(np.spec.podSelector),
    types,
    ingress: toRules(np.spec.ingress, true),
    egress: toRules(np.spec.egress, false),
  };
}

/**
 * updateprocessors/rules.go GetEntityRuleSelector for a namespaced policy: the rule's selector limited
 * to the policy's namespace, or to the namespaces its namespaceSelector picks (labels prefixed pcns.).
 */
function entitySelector(entity: V3Rule['source'], namespace: string): string | undefined {
  if (!entity || (!entity.selector && !entity.namespaceSelector)) return undefined;
  const ns = entity.namespaceSelector
    ? selectorString(prefixLabels(parseSelector(entity.namespaceSelector), 'pcns.'))
    : `projectcalico.org/namespace == '${namespace}'`;
  return entity.selector ? `(${ns}) && (${entity.selector})` : ns;
}

/** IP version of a rule: explicit, else from an ICMP protocol (felix/calc/rule_convert.go ipVersionToProtoIPVersion). */
function ruleIpVersion(rule: V3Rule): IpVersion | undefined {
  if (rule.ipVersion === 4 || rule.ipVersion === 6) return rule.ipVersion;
  const p = rule.protocol?.toLowerCase();
  return p === 'icmp' ? 4 : p === 'icmpv6' ? 6 : undefined;
}

/** Every policy of policy/ as Felix sees it, and the selector IP sets their rules use. */
export function felixPolicies(objects: K8sObject[]): { policies: FelixPolicy[]; ipSets: FelixIpSet[] } {
  const ipSets = new Map<string, FelixIpSet>();
  const ipSetFor = (selector: string | undefined): string[] | undefined => {
    if (!selector) return undefined;
    const canonical = normaliseSelector(selector);
    const id = uniqueId('s', canonical);
    ipSets.set(id, { id, selector: canonical });
    return [id];
  };
  const policies = objects.map(o => {
    const v3 = o.apiVersion === 'networking.k8s.io/v1'
      ? k8sToV3(o)
      : o.apiVersion === 'projectcalico.org/v3'
        ? { name: o.metadata.name, order: o.spec.order, selector: o.spec.selector, types: (o.spec.types as string[]).map(t => t.toLowerCase() as 'ingress' | 'egress'), ingress: o.spec.ingress ?? [], egress: o.spec.egress ?? [] }
        : (() => { throw new Error(`${o.apiVersion} ${o.kind} is not a policy`); })();
    const ns = o.metadata.namespace!;
    const toProto = (rule: V3Rule): ProtoRule => {
      for (const k of Object.keys(rule)) if (!['action', 'protocol', 'ipVersion', 'icmp', 'source', 'destination'].includes(k)) throw new Error(`rule field ${k} is not rendered here`);
      const out: ProtoRule = { action: 'allow' };
      const v = ruleIpVersion(rule);
      if (v) out.ipVersion = v;
      // updateprocessors/rules.go convertV3ProtocolToV1: numorstring.Protocol ToV1 lower-cases the name.
      if (rule.protocol) out.protocol = rule.protocol.toLowerCase();
      if (rule.source?.nets) out.srcNet = rule.source.nets;
      if (rule.destination?.nets) out.dstNet = rule.destination.nets;
      const src = ipSetFor(entitySelector(rule.source, ns));
      if (src) out.srcIpSetIds = src;
      const dst = ipSetFor(entitySelector(rule.destination, ns));
      if (dst) out.dstIpSetIds = dst;
      if (rule.destination?.ports) out.dstPorts = rule.destination.ports;
      if (rule.icmp?.type !== undefined) out.icmpType = rule.icmp.type;
      return out;
    };
    return {
      name: `${ns}/${v3.name}`,
      order: v3.order,
      // networkpolicyprocessor.go: "(<selector>) && projectcalico.org/namespace == '<ns>'", then selector.Normalise.
      selector: normaliseSelector(`(${v3.selector}) && projectcalico.org/namespace == '${ns}'`),
      types: v3.types,
      inbound: v3.ingress.map(toProto),
      outbound: v3.egress.map(toProto),
    };
  });
  return { policies, ipSets: [...ipSets.values()] };
}

/** Label matching for the lesson's selectors (to know which policies select an endpoint). */
export function selectorMatches(selector: string, labels: Record<string, string>): boolean {
  const ev = (n: SelNode): boolean => n.kind === 'all' || (n.kind === 'eq' ? labels[n.label] === n.value : n.operands.every(ev));
  return ev(parseSelector(selector));
}

// ------------------------------------------------------------------ iptables rendering --

export interface Rule {
  comments?: string[];
  match?: string[];
  action?: string;
}

export interface Chain {
  name: string;
  rules: Rule[];
}

/** The mark bits felix/dataplane/driver.go allocates from the default IptablesMarkMask 0xffff0000. */
export const MARK = { accept: 0x10000, pass: 0x20000, scratch0: 0x40000, scratch1: 0x80000 } as const;
const hex = (n: number) => (n === 0 ? '0' : `0x${n.toString(16)}`); // Go's %#x
const markClear = (m: number) => `-m mark --mark 0/${hex(m)}`;
const markSet = (m: number) => `-m mark --mark ${hex(m)}/${hex(m)}`;
const setMark = (m: number) => `--jump MARK --set-mark ${hex(m)}/${hex(m)}`;
const clearMark = (m: number) => `--jump MARK --set-mark 0/${hex(m)}`;
const jump = (c: string) => `--jump ${c}`;
const goTo = (c: string) => `--goto ${c}`;
const ACCEPT = '--jump ACCEPT';
const DROP = '--jump DROP';
const RETURN = '--jump RETURN';

/** felix/iptables/rules.go renderInner: "-A chain [prefix] [comments] [match] [action]". */
export function renderRule(chain: string, rule: Rule, prefixFragment?: string): string {
  const fragments = ['-A', chain];
  if (prefixFragment) fragments.push(prefixFragment);
  for (const c of rule.comments ?? []) fragments.push(`-m comment --comment "${c.replace(/[^\w @%+=:,./-]/g, '_').slice(0, 256)}"`);
  if (rule.match?.length) fragments.push(rule.match.join(' '));
  if (rule.action) fragments.push(rule.action);
  return fragments.join(' ');
}

/** felix/iptables/rules.go Chain.RuleHashes: SHA-224 chained from the chain name over each rule rendered with "HASH". */
export function ruleHashes(chainName: string, rules: Rule[]): string[] {
  let hash = createHash('sha224').update(chainName).digest();
  return rules.map(rule => {
    hash = createHash('sha224').update(hash).update(renderRule(chainName, rule, 'HASH')).digest();
    return b64url(hash).slice(0, 16);
  });
}

/** The iptables-restore lines Felix writes for a chain (felix/iptables/table.go commentFrag: `cali:<hash>`). */
export function chainLines(chain: Chain, hashChainName = chain.name): string[] {
  const hashes = ruleHashes(hashChainName, chain.rules);
  return chain.rules.map((r, i) => renderRule(chain.name, r, `-m comment --comment "cali:${hashes[i]}"`));
}

export const policyChainName = (prefix: 'cali-pi-' | 'cali-po-', name: string) => lengthLimitedId(prefix, name, MAX_CHAIN_NAME_LENGTH);
export const profileChainName = (prefix: 'cali-pri-' | 'cali-pro-', name: string) => lengthLimitedId(prefix, name, MAX_CHAIN_NAME_LENGTH);
export const endpointChainName = (prefix: 'cali-tw-' | 'cali-fw-', iface: string) => lengthLimitedId(prefix, iface, MAX_CHAIN_NAME_LENGTH);

/** felix/rules/policy.go ProtoRuleToIptablesRules, for rules with at most one CIDR and 15 ports. */
function protoRuleToRules(rule: ProtoRule, v: IpVersion): Rule[] {
  if (rule.ipVersion && rule.ipVersion !== v) return []; // FilterRuleToIPVersion
  const fam = (nets?: string[]) => nets?.filter(n => n.includes(':') === (v === 6));
  const srcNet = fam(rule.srcNet);
  const dstNet = fam(rule.dstNet);
  if ((rule.srcNet && srcNet!.length === 0) || (rule.dstNet && dstNet!.length === 0)) return []; // every CIDR of the other family
  if ((srcNet?.length ?? 0) > 1 || (dstNet?.length ?? 0) > 1 || (rule.dstPorts?.length ?? 0) > 15) throw new Error('match blocks are not rendered here');
  // CalculateRuleMatch: protocol, source CIDR, source IP sets, ..., destination CIDR, destination IP sets, destination ports, ICMP.
  const match: string[] = [];
  if (rule.protocol) match.push(`-p ${rule.protocol}`);
  if (srcNet?.length) match.push(`--source ${srcNet[0]}`);
  for (const id of rule.srcIpSetIds ?? []) match.push(`-m set --match-set ${ipSetName(v, id)} src`);
  if (dstNet?.length) match.push(`--destination ${dstNet[0]}`);
  for (const id of rule.dstIpSetIds ?? []) match.push(`-m set --match-set ${ipSetName(v, id)} dst`);
  if (rule.dstPorts?.length) match.push(`-m multiport --destination-ports ${rule.dstPorts.join(',')}`);
  if (rule.icmpType !== undefined) match.push(v === 4 ? `-m icmp --icmp-type ${rule.icmpType}` : `-m icmp6 --icmpv6-type ${rule.icmpType}`);
  // CalculateActions: allow sets the accept mark and returns.
  return [{ match, action: setMark(MARK.accept) }, { match: [markSet(MARK.accept)], action: RETURN }];
}

/** felix/rules/policy.go ProtoRulesToIptablesRules: trailing RETURNs stripped, the chain comment on the first rule. */
function rulesWithComment(protoRules: ProtoRule[], v: IpVersion, comment: string): Rule[] {
  const rules = protoRules.flatMap(r => protoRuleToRules(r, v));
  while (rules.length > 0 && rules[rules.length - 1].action === RETURN) rules.pop();
  if (rules.length === 0) rules.push({});
  rules[0] = { ...rules[0], comments: [...(rules[0].comments ?? []), comment] };
  return rules;
}

/** felix/rules/policy.go PolicyToIptablesChains. */
export function policyChains(policy: FelixPolicy, v: IpVersion): Chain[] {
  return [
    { name: policyChainName('cali-pi-', policy.name), rules: rulesWithComment(policy.inbound, v, `Policy ${policy.name} ingress`) },
    { name: policyChainName('cali-po-', policy.name), rules: rulesWithComment(policy.outbound, v, `Policy ${policy.name} egress`) },
  ];
}

/** A profile as conversion.go NamespaceToProfile (allow all) and ServiceAccountToProfile (no rules) make them. */
export interface FelixProfile {
  name: string;
  inbound: ProtoRule[];
  outbound: ProtoRule[];
}

/** felix/rules/policy.go ProfileToIptablesChains. */
export function profileChains(profile: FelixProfile, v: IpVersion): Chain[] {
  return [
    { name: profileChainName('cali-pri-', profile.name), rules: rulesWithComment(profile.inbound, v, `Profile ${profile.name} ingress`) },
    { name: profileChainName('cali-pro-', profile.name), rules: rulesWithComment(profile.outbound, v, `Profile ${profile.name} egress`) },
  ];
}

/** felix/rules/endpoints.go PolicyGroup and felix/dataplane/linux/endpoint_mgr.go groupPolicies. */
export interface PolicyGroup {
  direction: 'inbound' | 'outbound';
  selector: string;
  policyNames: string[];
}

export function groupPolicies(policies: FelixPolicy[], direction: PolicyGroup['direction']): PolicyGroup[] {
  const groups: PolicyGroup[] = [];
  for (const p of policies) {
    const last = groups[groups.length - 1];
    if (last && last.selector === p.selector) last.policyNames.push(p.name);
    else groups.push({ direction, selector: p.selector, policyNames: [p.name] });
  }
  return groups;
}

/** endpoints.go PolicyGroup.UniqueID / ChainName: SHA3-224 of tier, selector, direction, count and names. */
export function policyGroupChainName(group: PolicyGroup): string {
  const h = createHash('sha3-224');
  for (const s of ['default', group.selector, group.direction, String(group.policyNames.length), ...group.policyNames]) h.update(`${s}\n`);
  const prefix = group.direction === 'inbound' ? 'cali-gi-' : 'cali-go-';
  return prefix + b64url(h.digest()).slice(0, MAX_CHAIN_NAME_LENGTH - prefix.length);
}

/** endpoints.go PolicyGroupToIptablesChains (groups of two to five policies: no RETURN stride). */
export function policyGroupChain(group: PolicyGroup): Chain {
  if (group.policyNames.length > 5) throw new Error('return strides are not rendered here');
  const prefix = group.direction === 'inbound' ? 'cali-pi-' : 'cali-po-';
  return {
    name: policyGroupChainName(group),
    rules: group.policyNames.map((n, i) => ({
      match: i === 0 ? [] : [markClear(MARK.pass | MARK.accept)],
      action: jump(policyChainName(prefix, n)),
    })),
  };
}

export interface WorkloadEndpoint {
  iface: string;
  ingressPolicies: FelixPolicy[];
  egressPolicies: FelixPolicy[];
  profiles: string[];
}

const VXLAN_PORT = 4789;

/**
 * endpoints.go endpointIptablesChain for a workload (chainTypeNormal, admin up, IptablesFilterAllowAction
 * ACCEPT, IptablesFilterDenyAction DROP, no encapsulated packets from workloads).
 */
export function endpointChain(ep: WorkloadEndpoint, toWorkload: boolean): { chain: Chain; groups: PolicyGroup[] } {
  const rules: Rule[] = [
    { match: ['-m conntrack --ctstate RELATED,ESTABLISHED'], action: ACCEPT },
    { match: ['-m conntrack --ctstate INVALID'], action: DROP },
    { action: clearMark(MARK.accept | MARK.pass) },
  ];
  if (!toWorkload) {
    rules.push(
      { comments: ['Drop VXLAN encapped packets originating in workloads'], match: [`-p 17 -m multiport --destination-ports ${VXLAN_PORT}`], action: DROP },
      { comments: ['Drop IPinIP encapped packets originating in workloads'], match: ['-p 4'], action: DROP },
    );
  }
  const policies = toWorkload ? ep.ingressPolicies : ep.egressPolicies;
  const direction = toWorkload ? 'inbound' : 'outbound';
  const groups = groupPolicies(policies, direction);
  if (groups.length > 0) {
    for (const g of groups) {
      const targets = g.policyNames.length <= 1
        ? g.policyNames.map(n => policyChainName(toWorkload ? 'cali-pi-' : 'cali-po-', n))
        : [policyGroupChainName(g)];
      for (const t of targets) {
        rules.push({ match: [markClear(MARK.pass)], action: jump(t) });
        rules.push({ comments: ['Return if policy accepted'], match: [markSet(MARK.accept)], action: RETURN });
      }
    }
    rules.push({ comments: ['Drop if no policies passed packet'], match: [markClear(MARK.pass)], action: DROP });
  }
  for (const p of ep.profiles) {
    rules.push({ action: jump(profileChainName(toWorkload ? 'cali-pri-' : 'cali-pro-', p)) });
    rules.push({ comments: ['Return if profile accepted'], match: [markSet(MARK.accept)], action: RETURN });
  }
  rules.push({ comments: ['Drop if no profiles matched'], action: DROP });
  return { chain: { name: endpointChainName(toWorkload ? 'cali-tw-' : 'cali-fw-', ep.iface), rules }, groups: groups.filter(g => g.policyNames.length > 1) };
}

/** dispatch.go WorkloadDispatchChains / buildSingleDispatchChains, for endpoints with distinct next characters. */
export function dispatchChains(ifaces: string[]): Chain[] {
  const names = [...ifaces].sort();
  let common = names[0] ?? '';
  for (const n of names) while (!n.startsWith(common)) common = common.slice(0, -1);
  const prefixes = new Set(names.map(n => n.slice(0, common.length + 1)));
  if (prefixes.size !== names.length) throw new Error('child dispatch chains are not rendered here');
  const unknown: Rule = { comments: ['Unknown interface'], action: DROP };
  return [
    { name: 'cali-from-wl-dispatch', rules: [...names.map(n => ({ match: [`--in-interface ${n}`], action: goTo(endpointChainName('cali-fw-', n)) })), unknown] },
    { name: 'cali-to-wl-dispatch', rules: [...names.map(n => ({ match: [`--out-interface ${n}`], action: goTo(endpointChainName('cali-tw-', n)) })), unknown] },
  ];
}

/**
 * static.go: the filter table's static chains on a workload's path, for a kind node's Felix: VXLAN on
 * for the family, no IP-in-IP, WireGuard, IPVS or OpenStack, DefaultEndpointToHostAction ACCEPT (the
 * operator sets FELIX_DEFAULTENDPOINTTOHOSTACTION=ACCEPT), no host endpoints, no blocked CIDRs.
 */
export function staticChains(v: IpVersion): Chain[] {
  const all = MARK.accept | MARK.pass | MARK.scratch0 | MARK.scratch1;
  const vxlanSet = ipSetName(v, 'all-vxlan-net');
  const fam = v === 4 ? 'IPv4' : 'IPv6';
  const vxlan = `-p 17 -m multiport --destination-ports ${VXLAN_PORT}`;
  return [
    {
      name: 'cali-FORWARD',
      rules: [
        { action: clearMark(all & ~MARK.accept) },
        { match: [markClear(MARK.accept)], action: jump('cali-from-hep-forward') },
        { match: ['--in-interface cali+'], action: jump('cali-from-wl-dispatch') },
        { match: ['--out-interface cali+'], action: jump('cali-to-wl-dispatch') },
        { action: jump('cali-to-hep-forward') },
        { action: jump('cali-cidr-block') },
      ],
    },
    {
      name: 'cali-INPUT',
      rules: [
        { comments: [`Allow ${fam} VXLAN packets from allowed hosts`], match: [`${vxlan} -m set --match-set ${vxlanSet} src -m addrtype --dst-type LOCAL`], action: ACCEPT },
        { comments: [`Drop ${fam} VXLAN packets from non-allowed hosts`], match: [`${vxlan} -m addrtype --dst-type LOCAL`], action: DROP },
        { match: ['--in-interface cali+'], action: goTo('cali-wl-to-host') },
        { match: [markSet(MARK.accept)], action: ACCEPT },
        { action: clearMark(all) },
        { action: jump('cali-from-host-endpoint') },
        { comments: ['Host endpoint policy accepted packet.'], match: [markSet(MARK.accept)], action: ACCEPT },
      ],
    },
    {
      name: 'cali-OUTPUT',
      rules: [
        { match: [markSet(MARK.accept)], action: ACCEPT },
        { match: ['--out-interface cali+'], action: RETURN },
        { comments: [`Allow ${fam} VXLAN packets to other allowed hosts`], match: [`${vxlan} -m addrtype --src-type LOCAL -m set --match-set ${vxlanSet} dst`], action: ACCEPT },
        { action: clearMark(all) },
        { match: ['-m conntrack ! --ctstate DNAT'], action: jump('cali-to-host-endpoint') },
        { comments: ['Host endpoint policy accepted packet.'], match: [markSet(MARK.accept)], action: ACCEPT },
      ],
    },
    {
      name: 'cali-wl-to-host',
      rules: [
        // ICMPv6Filter: multicast listener query/report/done, router solicitation, neighbour solicitation/advertisement.
        ...(v === 6 ? [130, 131, 132, 133, 135, 136].map(t => ({ match: [`-p 58 -m icmp6 --icmpv6-type ${t}`], action: ACCEPT })) : []),
        { action: jump('cali-from-wl-dispatch') },
        { comments: ['Configured DefaultEndpointToHostAction'], action: ACCEPT },
      ],
    },
    // No host endpoints and no blocked CIDRs: empty, but referenced.
    { name: 'cali-cidr-block', rules: [] },
    { name: 'cali-from-hep-forward', rules: [] },
    { name: 'cali-to-hep-forward', rules: [] },
    { name: 'cali-from-host-endpoint', rules: [] },
    { name: 'cali-to-host-endpoint', rules: [] },
  ];
}

/** int_dataplane.go setUpIptablesNormal: the jumps Felix inserts into the kernel chains, and FORWARD's appended rules. */
export function kernelChainRules(): Array<{ chain: 'INPUT' | 'FORWARD' | 'OUTPUT'; hashChain: string; rule: Rule }> {
  return [
    { chain: 'INPUT', hashChain: 'INPUT', rule: { action: jump('cali-INPUT') } },
    { chain: 'FORWARD', hashChain: 'FORWARD', rule: { action: jump('cali-FORWARD') } },
    { chain: 'OUTPUT', hashChain: 'OUTPUT', rule: { action: jump('cali-OUTPUT') } },
    // static.go StaticFilterForwardAppendRules, hashed as "FORWARD*appends*" (table.go).
    { chain: 'FORWARD', hashChain: 'FORWARD*appends*', rule: { comments: ['Policy explicitly accepted packet.'], match: [markSet(MARK.accept)], action: ACCEPT } },
    { chain: 'FORWARD', hashChain: 'FORWARD*appends*', rule: { action: setMark(MARK.accept) } },
  ];
}

/** What Felix programs in the filter table of one node for one family: chains in the order Felix writes them. */
export interface NodeFilterTable {
  chains: Chain[];
  kernel: ReturnType<typeof kernelChainRules>;
}

export function nodeFilterTable(v: IpVersion, endpoints: WorkloadEndpoint[], profiles: FelixProfile[]): NodeFilterTable {
  const chains: Chain[] = [...staticChains(v), ...dispatchChains(endpoints.map(e => e.iface))];
  const seen = new Set<string>();
  const add = (c: Chain) => {
    if (!seen.has(c.name)) {
      seen.add(c.name);
      chains.push(c);
    }
  };
  for (const ep of endpoints) {
    for (const toWorkload of [true, false]) {
      const { chain, groups } = endpointChain(ep, toWorkload);
      add(chain);
      for (const g of groups) add(policyGroupChain(g));
    }
    for (const p of [...ep.ingressPolicies, ...ep.egressPolicies]) {
      const [pi, po] = policyChains(p, v);
      if (ep.ingressPolicies.includes(p)) add(pi);
      if (ep.egressPolicies.includes(p)) add(po);
    }
  }
  for (const pr of profiles) for (const c of profileChains(pr, v)) add(c);
  return { chains, kernel: kernelChainRules() };
}

/** The `iptables-restore` input for the table: Felix's own rendering, `cali:` hashes included. */
export function restoreInput(table: NodeFilterTable): string {
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (const c of table.chains) lines.push(`:${c.name} - [0:0]`);
  for (const k of table.kernel) {
    const group = table.kernel.filter(x => x.hashChain === k.hashChain).map(x => x.rule);
    const hash = ruleHashes(k.hashChain, group)[group.indexOf(k.rule)];
    lines.push(renderRule(k.chain, k.rule, `-m comment --comment "cali:${hash}"`));
  }
  for (const c of table.chains) lines.push(...chainLines(c));
  lines.push('COMMIT', '');
  return lines.join('\n');
}
