import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { IntOrString, KubeNetworkPolicy } from 'cdk8s-plus-28/lib/imports/k8s';
import { CLUSTER_DNS, DEFAULT_NAMESPACE } from './defaults';
import { checkDnsLabel, checkLabels, checkPort } from './validate';

export interface DnsEgressPolicyProps {
  /**
   * The NetworkPolicy's name.
   * @default "allow-dns"
   */
  readonly name?: string;
  /**
   * Namespace of the pods that may query the cluster DNS.
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;
  /**
   * Labels of the pods that may query it; empty selects every pod of the namespace.
   * @default {} - every pod of the namespace
   */
  readonly podLabels?: Readonly<Record<string, string>>;
  /**
   * Namespace of the cluster DNS pods, matched by its `kubernetes.io/metadata.name` label.
   * @default "kube-system"
   */
  readonly dnsNamespace?: string;
  /**
   * Labels of the cluster DNS pods.
   * @default { "k8s-app": "kube-dns" } - kubeadm's CoreDNS
   */
  readonly dnsPodLabels?: Readonly<Record<string, string>>;
  /**
   * DNS port, allowed over UDP and TCP.
   * @default 53
   */
  readonly port?: number;
}

/** The label Kubernetes (1.22+) puts on every namespace: its own name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * Egress to the cluster DNS on UDP and TCP, over both families.
 *
 * It selects the DNS *pods* (namespace and pod labels), not the kube-dns Service's ClusterIP: kube-proxy
 * DNATs a query to 10.96.0.10 to a CoreDNS pod before Calico's filter chains see the packet, so an
 * ipBlock of the ClusterIP would never match. A pod selector also covers both families at once, as
 * Calico keeps one IP set per family of the selected pods' addresses; an ipBlock names one family.
 */
export class DnsEgressPolicy extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly dnsNamespace: string;
  public readonly dnsPodLabels: Readonly<Record<string, string>>;
  public readonly port: number;
  public readonly resource: KubeNetworkPolicy;

  constructor(scope: Construct, id: string, props: DnsEgressPolicyProps = {}) {
    super(scope, id);
    this.name = props.name ?? 'allow-dns';
    this.namespace = props.namespace ?? Chart.of(this).namespace ?? DEFAULT_NAMESPACE;
    this.dnsNamespace = props.dnsNamespace ?? CLUSTER_DNS.namespace;
    this.dnsPodLabels = props.dnsPodLabels ?? CLUSTER_DNS.podLabels;
    this.port = props.port ?? CLUSTER_DNS.port;
    const podLabels = props.podLabels ?? {};
    checkDnsLabel('dns policy name', this.name);
    checkDnsLabel('dns policy namespace', this.namespace);
    checkDnsLabel('dns namespace', this.dnsNamespace);
    checkLabels('dns policy podLabels', podLabels);
    checkLabels('dnsPodLabels', this.dnsPodLabels);
    if (Object.keys(this.dnsPodLabels).length === 0) {
      throw new Error(`invalid dnsPodLabels {}: it would allow port ${this.port} to every pod of ${this.dnsNamespace}; name the dns pods' labels (kubeadm: {"k8s-app":"kube-dns"})`);
    }
    checkPort('dns port', this.port);
    const port = IntOrString.fromNumber(this.port);
    this.resource = new KubeNetworkPolicy(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        podSelector: Object.keys(podLabels).length > 0 ? { matchLabels: { ...podLabels } } : {},
        policyTypes: ['Egress'],
        egress: [{
          to: [{
            namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: this.dnsNamespace } },
            podSelector: { matchLabels: { ...this.dnsPodLabels } },
          }],
          ports: [{ protocol: 'UDP', port }, { protocol: 'TCP', port }],
        }],
      },
    });
  }
}
