import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { IntOrString, KubeNetworkPolicy, NetworkPolicyPeer } from 'cdk8s-plus-28/lib/imports/k8s';
import { FAMILY_NAME, IP_FAMILIES, IpFamily, ParsedAddress, hostCidr, parseHostAddress } from './cidr';
import { DEFAULT_APP_PORT, DEFAULT_EXTERNAL_HOST, DEFAULT_NAMESPACE } from './defaults';
import { checkDnsLabel, checkLabels, checkPort } from './validate';

export interface ExternalHostPolicyProps {
  /** Labels of the pods the external host talks to. */
  readonly podLabels: Readonly<Record<string, string>>;
  /**
   * The external host's IPv4 address.
   * @default "172.18.255.250"
   */
  readonly ipv4?: string;
  /**
   * The external host's IPv6 address.
   * @default "fc00:f853:ccd:e793:ffff::fa"
   */
  readonly ipv6?: string;
  /**
   * The pods' TCP port the host connects to, and the host's port the pods connect to.
   * @default 8080
   */
  readonly port?: number;
  /**
   * Families over which the host may connect to the pods. The lesson's default names IPv6 alone, so
   * the host's IPv4 connections stay denied: an ipBlock names one family.
   * @default ["ipv6"]
   */
  readonly ingressFamilies?: readonly IpFamily[];
  /**
   * Families over which the pods may connect to the host (verify's egress and NAT checks use both).
   * @default ["ipv4", "ipv6"]
   */
  readonly egressFamilies?: readonly IpFamily[];
  /**
   * The NetworkPolicy's name.
   * @default "allow-external-host"
   */
  readonly name?: string;
  /**
   * Namespace of the pods.
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;
}

/**
 * Traffic between the lab's pods and one host outside the cluster, by its addresses: one ipBlock of
 * one address (/32 or /128) per allowed family and direction.
 *
 * This is where dual-stack policy surprises people: an ipBlock names one family. Calico renders a
 * rule whose addresses are all IPv6 into ip6tables only; in iptables the rule is simply absent, so the
 * same host's IPv4 traffic falls through to the default deny.
 */
export class ExternalHostPolicy extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly port: number;
  /** The host's addresses, canonical. */
  public readonly addresses: Readonly<Record<IpFamily, string>>;
  public readonly ingressFamilies: readonly IpFamily[];
  public readonly egressFamilies: readonly IpFamily[];
  public readonly resource: KubeNetworkPolicy;

  constructor(scope: Construct, id: string, props: ExternalHostPolicyProps) {
    super(scope, id);
    this.name = props.name ?? 'allow-external-host';
    this.namespace = props.namespace ?? Chart.of(this).namespace ?? DEFAULT_NAMESPACE;
    this.port = props.port ?? DEFAULT_APP_PORT;
    this.ingressFamilies = [...(props.ingressFamilies ?? ['ipv6'])];
    this.egressFamilies = [...(props.egressFamilies ?? ['ipv4', 'ipv6'])];
    checkDnsLabel('external host policy name', this.name);
    checkDnsLabel('external host policy namespace', this.namespace);
    checkLabels('external host policy podLabels', props.podLabels);
    if (Object.keys(props.podLabels).length === 0) {
      throw new Error('invalid external host policy podLabels {}: name the labels of the pods the host talks to');
    }
    checkPort('external host policy port', this.port);
    for (const [what, families] of [['ingressFamilies', this.ingressFamilies], ['egressFamilies', this.egressFamilies]] as const) {
      if (families.some(f => !IP_FAMILIES.includes(f)) || new Set(families).size !== families.length) {
        throw new Error(`invalid external host policy ${what} ${JSON.stringify(families)}: must be distinct values of "ipv4", "ipv6"`);
      }
    }
    if (this.ingressFamilies.length === 0 && this.egressFamilies.length === 0) {
      throw new Error('invalid external host policy: ingressFamilies and egressFamilies are both empty, so it would allow nothing');
    }
    const given: Record<IpFamily, string> = { ipv4: props.ipv4 ?? DEFAULT_EXTERNAL_HOST.ipv4, ipv6: props.ipv6 ?? DEFAULT_EXTERNAL_HOST.ipv6 };
    const parsed = {} as Record<IpFamily, ParsedAddress>;
    for (const family of IP_FAMILIES) {
      const address = parseHostAddress(given[family], family, DEFAULT_EXTERNAL_HOST[family]);
      if (typeof address === 'string') {
        throw new Error(`invalid external host ${FAMILY_NAME[family]} address: ${address}`);
      }
      parsed[family] = address;
    }
    this.addresses = { ipv4: parsed.ipv4.canonical, ipv6: parsed.ipv6.canonical };

    const blocks = (families: readonly IpFamily[]): NetworkPolicyPeer[] => families.map(f => ({ ipBlock: { cidr: hostCidr(parsed[f]) } }));
    const ports = [{ protocol: 'TCP', port: IntOrString.fromNumber(this.port) }];
    const policyTypes = [
      ...(this.ingressFamilies.length > 0 ? ['Ingress'] : []),
      ...(this.egressFamilies.length > 0 ? ['Egress'] : []),
    ];
    this.resource = new KubeNetworkPolicy(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        podSelector: { matchLabels: { ...props.podLabels } },
        policyTypes,
        ...(this.ingressFamilies.length > 0 ? { ingress: [{ from: blocks(this.ingressFamilies), ports }] } : {}),
        ...(this.egressFamilies.length > 0 ? { egress: [{ to: blocks(this.egressFamilies), ports }] } : {}),
      },
    });
  }
}
