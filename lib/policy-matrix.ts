/**
 * The policy lesson's allowed/denied matrix, as data: which source may reach which destination, over
 * which family, protocol and port, what the lesson expects, which policy decides and why. The tests
 * evaluate it against the synthesized policies; verify (phase 2) drives its checks from it, and the
 * facts and docs/policy.md show it. Plain data and a pure function: no cdk8s here.
 */
import type { IpFamily } from './cidr';

export type MatrixFamily = 'IPv4' | 'IPv6';
export type MatrixProtocol = 'TCP' | 'UDP' | 'ICMP' | 'ICMPv6' | 'ARP';

/** One end of a flow. */
export type MatrixPeer =
  | {
    readonly kind: 'pod'; readonly namespace: string; readonly labels: Readonly<Record<string, string>>; readonly description: string;
    /** A pod on another node than the row's other end (the lesson's second pod). */
    readonly onAnotherNode?: boolean;
  }
  | { readonly kind: 'host'; readonly name: string; readonly addresses: Readonly<Record<IpFamily, string>>; readonly description: string }
  | { readonly kind: 'node-gateway'; readonly addresses: Readonly<Record<IpFamily, string>>; readonly description: string };

/** A policy (or Felix's own rules) that decides a row, in one direction. */
export interface MatrixDecision {
  /** `networking.k8s.io/v1` for a Kubernetes NetworkPolicy, `projectcalico.org/v3` for a Calico one, `felix` for Felix's static rules. */
  readonly api: 'networking.k8s.io/v1' | 'projectcalico.org/v3' | 'felix';
  /** The object's name; for `felix`, the chain. */
  readonly name: string;
  /** The endpoint whose policy decides: `egress` at the source pod, `ingress` at the destination pod. */
  readonly direction: 'ingress' | 'egress';
  /** The name Calico and Felix use: `<ns>/knp.default.<name>` for a Kubernetes policy, `<ns>/<name>` for a Calico one. */
  readonly calicoName: string;
}

export interface PolicyMatrixRow {
  /** Stable id, e.g. `external-http-ipv4`. */
  readonly id: string;
  readonly from: MatrixPeer;
  readonly to: MatrixPeer;
  readonly family: MatrixFamily;
  readonly protocol: MatrixProtocol;
  /** Destination port as Calico sees it: after kube-proxy's DNAT, a Service's targetPort. */
  readonly port?: number;
  /** The ICMP or ICMPv6 type. */
  readonly icmpType?: number;
  /** What the client addresses when that differs from the destination pod: a Service and its port. */
  readonly via?: { readonly service: string; readonly port: number; readonly note: string };
  /** How a check probes the row: an HTTP GET, a DNS query, a ping, a bare TCP connect, the neighbour table. */
  readonly probe: 'http' | 'dns' | 'ping' | 'tcp-connect' | 'neighbour';
  readonly expect: 'allow' | 'deny';
  /**
   * How a denial shows: Calico drops (FelixConfiguration iptablesFilterDenyAction DROP), so a denied TCP
   * connect times out, where an allowed one to a closed port is refused at once.
   */
  readonly deniedShowsAs?: 'timeout';
  /**
   * For a denied row: the id of the allowed row along the same path (same source and destination; the
   * app port, or the other family), which tells a denied connection from a broken one: when the control
   * answers, the path works and the policy is what stopped the denied probe.
   */
  readonly control?: string;
  readonly decidedBy: readonly MatrixDecision[];
  readonly why: string;
}

export interface PolicyMatrixProps {
  readonly namespace: string;
  /**
   * The lab's families: rows of another family are left out (an IPv6-only lab has no IPv4 path to check).
   * @default ["IPv4", "IPv6"]
   */
  readonly families?: readonly MatrixFamily[];
  readonly podLabels: Readonly<Record<string, string>>;
  readonly appPort: number;
  /** The lab's Services: name, port, families. */
  readonly services: ReadonlyArray<{ readonly name: string; readonly port: number; readonly families: readonly MatrixFamily[] }>;
  readonly externalHost: { readonly name: string; readonly ipv4: string; readonly ipv6: string };
  readonly dns: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>>; readonly port: number; readonly serviceName: string };
  /** Names of the lesson's policies. */
  readonly policies: {
    readonly dns: string;
    readonly externalHost: string;
    readonly peers: string;
    readonly defaultDeny: string;
    readonly echo: string;
  };
}

/** Felix's name of a policy (libcalico-go conversion.go K8sNetworkPolicyToCalico, networkpolicyprocessor.go). */
export function calicoPolicyName(namespace: string, name: string, api: MatrixDecision['api']): string {
  if (api === 'networking.k8s.io/v1') return `${namespace}/knp.default.${name}`;
  if (api === 'projectcalico.org/v3') return `${namespace}/${name}`;
  return name;
}

/** Calico's pod gateways: proxy-ARP 169.254.1.1 and the cali interface's link-local fe80::ecee:eeff:feee:eeee. */
export const CALICO_POD_GATEWAY = { ipv4: '169.254.1.1', ipv6: 'fe80::ecee:eeff:feee:eeee' } as const;

const FAMILIES: ReadonlyArray<[MatrixFamily, IpFamily]> = [['IPv4', 'ipv4'], ['IPv6', 'ipv6']];

/** A TCP port the lab's pods do not listen on: the app port plus one (minus one at 65535). */
export function closedPort(appPort: number): number {
  return appPort < 65535 ? appPort + 1 : appPort - 1;
}

/** The lesson's matrix for the given lab: every row of the lab's families, each denied row with its control. */
export function policyMatrix(p: PolicyMatrixProps): PolicyMatrixRow[] {
  const families = p.families ?? ['IPv4', 'IPv6'];
  const rows = allRows(p).filter(r => families.includes(r.family));
  return rows.map(r => {
    if (r.expect !== 'deny') return r;
    const control = controlOf(r, rows);
    return control ? { ...r, control: control.id } : r;
  });
}

/**
 * The allowed row along the same path as the denied `row`: same source and destination kinds, the same
 * probe kind over TCP, preferring the same family (another port) to the other family (the same port).
 */
function controlOf(row: PolicyMatrixRow, rows: readonly PolicyMatrixRow[]): PolicyMatrixRow | undefined {
  const candidates = rows.filter(r => r.expect === 'allow' && r.protocol === row.protocol && r.probe === 'http' && !r.via
    && r.from.kind === row.from.kind && r.to.kind === row.to.kind && r.from.description === row.from.description && r.to.description === row.to.description);
  return candidates.find(r => r.family === row.family) ?? candidates.find(r => r.port === row.port);
}

function allRows(p: PolicyMatrixProps): PolicyMatrixRow[] {
  const ns = p.namespace;
  const decision = (api: MatrixDecision['api'], name: string, direction: MatrixDecision['direction']): MatrixDecision =>
    ({ api, name, direction, calicoName: calicoPolicyName(ns, name, api) });
  const k8s = (name: string, direction: MatrixDecision['direction']) => decision('networking.k8s.io/v1', name, direction);
  const calico = (name: string, direction: MatrixDecision['direction']) => decision('projectcalico.org/v3', name, direction);
  const app = Object.values(p.podLabels).join(',');
  const pod: MatrixPeer = { kind: 'pod', namespace: ns, labels: p.podLabels, description: `a ${app} pod` };
  const peerPod: MatrixPeer = { kind: 'pod', namespace: ns, labels: p.podLabels, description: `a ${app} pod on another node`, onAnotherNode: true };
  const dnsPod: MatrixPeer = { kind: 'pod', namespace: p.dns.namespace, labels: p.dns.podLabels, description: `a cluster DNS pod (${p.dns.namespace}, ${Object.entries(p.dns.podLabels).map(([k, v]) => `${k}=${v}`).join(',')})` };
  const host: MatrixPeer = {
    kind: 'host', name: p.externalHost.name, addresses: { ipv4: p.externalHost.ipv4, ipv6: p.externalHost.ipv6 },
    description: `the external host ${p.externalHost.name}`,
  };
  const gateway: MatrixPeer = { kind: 'node-gateway', addresses: CALICO_POD_GATEWAY, description: 'the pod\'s node (its Calico gateway)' };
  const closed = closedPort(p.appPort);
  const rows: PolicyMatrixRow[] = [];

  for (const [family] of FAMILIES) {
    const f = family.toLowerCase();
    rows.push({
      id: `pod-http-${f}`, from: pod, to: peerPod, family, protocol: 'TCP', port: p.appPort, probe: 'http', expect: 'allow',
      decidedBy: [k8s(p.policies.peers, 'egress'), k8s(p.policies.peers, 'ingress')],
      why: `${p.policies.peers} allows the app's pods to each other on TCP ${p.appPort}: egress at the client and ingress at the server are checked separately, on their own nodes. A pod selector covers both families (one Calico IP set per family).`,
    });
  }
  for (const svc of p.services) {
    for (const family of svc.families) {
      rows.push({
        id: `service-${svc.name}-${family.toLowerCase()}`, from: pod, to: peerPod, family, protocol: 'TCP', port: p.appPort,
        via: { service: svc.name, port: svc.port, note: `kube-proxy DNATs the ClusterIP:${svc.port} to a pod:${p.appPort} before Calico's filter chains see the packet` },
        probe: 'http', expect: 'allow',
        decidedBy: [k8s(p.policies.peers, 'egress'), k8s(p.policies.peers, 'ingress')],
        why: `Policy sees the pod, not the Service: after the DNAT the packet goes to a ${app} pod on ${p.appPort}, which ${p.policies.peers} allows.`,
      });
    }
  }
  for (const [family] of FAMILIES) {
    for (const protocol of ['UDP', 'TCP'] as const) {
      const viaService = family === 'IPv4';
      rows.push({
        id: `dns-${protocol.toLowerCase()}-${family.toLowerCase()}`, from: pod, to: dnsPod, family, protocol, port: p.dns.port,
        ...(viaService ? { via: { service: `${p.dns.namespace}/${p.dns.serviceName}`, port: p.dns.port, note: `the pods' resolv.conf names the ${p.dns.serviceName} ClusterIP (IPv4 only in kind), which kube-proxy DNATs to a DNS pod` } } : {}),
        probe: 'dns', expect: 'allow',
        decidedBy: [k8s(p.policies.dns, 'egress')],
        why: viaService
          ? `${p.policies.dns} allows egress to the DNS pods (namespace and pod labels), which is what the query is after the DNAT; an ipBlock of the ClusterIP would never match. ${p.dns.namespace} has no policy, so the DNS pods accept it.`
          : `The ${p.dns.serviceName} Service has an IPv4 ClusterIP only, so DNS over IPv6 is a query to a DNS pod's IPv6 address: the same pod selector matches it through Calico's IPv6 IP set.`,
      });
    }
  }
  rows.push({
    id: 'external-http-ipv6', from: host, to: pod, family: 'IPv6', protocol: 'TCP', port: p.appPort, probe: 'http', expect: 'allow',
    decidedBy: [k8s(p.policies.externalHost, 'ingress')],
    why: `${p.policies.externalHost} allows ingress from the host's IPv6 address (${p.externalHost.ipv6}/128) on ${p.appPort}.`,
  });
  rows.push({
    id: 'external-http-ipv4', from: host, to: pod, family: 'IPv4', protocol: 'TCP', port: p.appPort, probe: 'tcp-connect', expect: 'deny', deniedShowsAs: 'timeout',
    decidedBy: [k8s(p.policies.defaultDeny, 'ingress')],
    why: `The lesson: the same host over IPv4 is denied. An ipBlock names one family; ${p.policies.externalHost} names only ${p.externalHost.ipv6}/128, so Felix renders that rule into ip6tables alone and in iptables the packet falls through to the end of the policies and is dropped (${p.policies.defaultDeny}).`,
  });
  for (const [family, key] of FAMILIES) {
    rows.push({
      id: `egress-external-http-${family.toLowerCase()}`, from: pod, to: host, family, protocol: 'TCP', port: p.appPort, probe: 'http', expect: 'allow',
      decidedBy: [k8s(p.policies.externalHost, 'egress')],
      why: `${p.policies.externalHost} allows egress to ${p.externalHost[key]}/${key === 'ipv4' ? 32 : 128}: to allow both families it takes two ipBlocks. (natOutgoing then masquerades the pod address; policy saw it first.)`,
    });
  }
  for (const [family] of FAMILIES) {
    const icmp = family === 'IPv4' ? { protocol: 'ICMP' as const, icmpType: 8 } : { protocol: 'ICMPv6' as const, icmpType: 128 };
    rows.push({
      id: `ping-pod-${family.toLowerCase()}`, from: pod, to: peerPod, family, ...icmp, probe: 'ping', expect: 'allow',
      decidedBy: [calico(p.policies.echo, 'egress'), calico(p.policies.echo, 'ingress')],
      why: `Kubernetes NetworkPolicy cannot name ICMP; the Calico policy ${p.policies.echo} allows ${icmp.protocol} type ${icmp.icmpType} (echo request) at order 100, before the Kubernetes policies (order 1000). ${family === 'IPv6' ? 'ICMPv6 is not ICMP: it has its own rule.' : ''}`.trim(),
    });
  }
  for (const [family] of FAMILIES) {
    const icmp = family === 'IPv4' ? { protocol: 'ICMP' as const, icmpType: 8 } : { protocol: 'ICMPv6' as const, icmpType: 128 };
    rows.push({
      id: `ping-external-${family.toLowerCase()}`, from: host, to: pod, family, ...icmp, probe: 'ping', expect: 'allow',
      decidedBy: [calico(p.policies.echo, 'ingress')],
      why: family === 'IPv4'
        ? `${p.policies.echo} allows echo from anywhere: the host's IPv4 ping succeeds while its IPv4 HTTP is denied. A ping proves nothing about TCP.`
        : `${p.policies.echo} allows ICMPv6 echo from anywhere.`,
    });
  }
  for (const [family] of FAMILIES) {
    rows.push({
      id: `pod-closed-port-${family.toLowerCase()}`, from: pod, to: peerPod, family, protocol: 'TCP', port: closed, probe: 'tcp-connect', expect: 'deny', deniedShowsAs: 'timeout',
      decidedBy: [k8s(p.policies.defaultDeny, 'egress')],
      why: `Only ${p.appPort} is open between the pods: a connect to ${closed} is dropped and times out. Allowed, it would be refused at once (nothing listens there); that difference tells a denied connection from a broken one.`,
    });
  }
  rows.push({
    id: 'external-closed-port-ipv6', from: host, to: pod, family: 'IPv6', protocol: 'TCP', port: closed, probe: 'tcp-connect', expect: 'deny', deniedShowsAs: 'timeout',
    decidedBy: [k8s(p.policies.defaultDeny, 'ingress')],
    why: `The host's ipBlock rule names port ${p.appPort} only.`,
  });
  rows.push({
    id: 'neighbour-ipv6', from: pod, to: gateway, family: 'IPv6', protocol: 'ICMPv6', probe: 'neighbour', expect: 'allow',
    decidedBy: [{ api: 'felix', name: 'cali-wl-to-host', direction: 'egress', calicoName: 'cali-wl-to-host' }],
    why: `Neighbor Discovery survives the default deny without any policy: Felix accepts ICMPv6 types 130-133, 135 and 136 from workloads in cali-wl-to-host before it applies their egress policy (felix/rules/static.go ICMPv6Filter), and does not police host-to-workload traffic (the solicitations and advertisements the node sends). The pod keeps ${CALICO_POD_GATEWAY.ipv6} as a neighbour.`,
  });
  rows.push({
    id: 'neighbour-ipv4', from: pod, to: gateway, family: 'IPv4', protocol: 'ARP', probe: 'neighbour', expect: 'allow',
    decidedBy: [],
    why: `ARP is not IP: iptables never sees it. The node answers for ${CALICO_POD_GATEWAY.ipv4} by proxy ARP whatever the policies say.`,
  });
  return rows;
}

/** The matrix as the Markdown table docs/policy.md shows (kept equal by a test). */
export function policyMatrixMarkdown(rows: readonly PolicyMatrixRow[]): string {
  const peer = (p: MatrixPeer) => p.description;
  const what = (r: PolicyMatrixRow) => [
    r.protocol,
    r.port !== undefined ? String(r.port) : '',
    r.icmpType !== undefined ? `type ${r.icmpType}` : '',
    r.via ? `(via ${r.via.service}:${r.via.port})` : '',
  ].filter(Boolean).join(' ');
  const by = (r: PolicyMatrixRow) => r.decidedBy.map(d => (d.api === 'felix' ? `Felix ${d.name}` : `${d.name} (${d.direction})`)).join(', ') || 'not IP';
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| id | from | to | family | protocol, port | expect | decided by | why |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(r => `| \`${r.id}\` | ${cell(peer(r.from))} | ${cell(peer(r.to))} | ${r.family} | ${cell(what(r))} | **${r.expect}** | ${cell(by(r))} | ${cell(r.why)} |`),
  ].join('\n');
}
