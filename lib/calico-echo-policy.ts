import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  NetworkPolicySpec,
  NetworkPolicySpecEgress,
  NetworkPolicySpecEgressProtocol,
  NetworkPolicySpecIngress,
  NetworkPolicySpecIngressProtocol,
  toJson_NetworkPolicySpec,
} from '../imports/networkpolicy-crd.projectcalico.org';
import { DEFAULT_ECHO_POLICY_ORDER, DEFAULT_NAMESPACE } from './defaults';
import { checkDnsLabel, checkLabels } from './validate';

export interface CalicoEchoPolicyProps {
  /** Labels of the pods whose echo traffic it allows, in both directions. */
  readonly podLabels: Readonly<Record<string, string>>;
  /**
   * The policy's name.
   * @default "allow-ping"
   */
  readonly name?: string;
  /**
   * Namespace of the pods (a Calico NetworkPolicy, like a Kubernetes one, is namespaced).
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;
  /**
   * Calico evaluates policies from the lowest order up, and gives every Kubernetes NetworkPolicy order
   * 1000; the first Allow or Deny that matches decides.
   * @default 100 - before the Kubernetes NetworkPolicies
   */
  readonly order?: number;
}

/** ICMP echo request (RFC 792) and ICMPv6 echo request (RFC 4443): what ping and ping -6 send. */
export const ICMP_ECHO_REQUEST = { ipv4: 8, ipv6: 128 } as const;

/** The API group and version the Calico API server serves (the aggregated API `v3.projectcalico.org`). */
export const CALICO_V3_API_VERSION = 'projectcalico.org/v3';

/** A Calico selector matching the given labels, e.g. `app == 'multitool'`. */
export function calicoSelector(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels).sort().map(k => `${k} == '${labels[k]}'`).join(' && ');
}

/**
 * A Calico `NetworkPolicy` (projectcalico.org/v3) that allows ICMP echo requests (type 8) and ICMPv6
 * echo requests (type 128) to and from the selected pods, at an explicit order.
 *
 * What Calico adds over a Kubernetes NetworkPolicy, whose rules match only TCP, UDP and SCTP ports:
 * ICMP types, a rule's IP version, ordered evaluation and explicit actions. ICMPv6 is not ICMP: each
 * family gets its own rule (protocol ICMP with ipVersion 4, protocol ICMPv6 with ipVersion 6, as
 * Calico's validator requires the two to agree). Replies need no rule: conntrack lets them through.
 *
 * Emitted as projectcalico.org/v3, for the Calico API server, which validates and defaults it as
 * calicoctl would; the spec is typed by the classes `cdk8s import` generated from the
 * crd.projectcalico.org NetworkPolicy CRD, the storage form of the same API. The API exists only once
 * the API server runs: apply it after `kubectl wait --for=condition=Available tigerastatus/apiserver`.
 */
export class CalicoEchoPolicy extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly order: number;
  public readonly selector: string;
  public readonly spec: NetworkPolicySpec;
  public readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: CalicoEchoPolicyProps) {
    super(scope, id);
    this.name = props.name ?? 'allow-ping';
    this.namespace = props.namespace ?? Chart.of(this).namespace ?? DEFAULT_NAMESPACE;
    this.order = props.order ?? DEFAULT_ECHO_POLICY_ORDER;
    checkDnsLabel('calico echo policy name', this.name);
    checkDnsLabel('calico echo policy namespace', this.namespace);
    checkLabels('calico echo policy podLabels', props.podLabels);
    if (Object.keys(props.podLabels).length === 0) {
      throw new Error('invalid calico echo policy podLabels {}: name the labels of the pods whose ping it allows');
    }
    if (typeof this.order !== 'number' || !Number.isFinite(this.order) || this.order < 0) {
      throw new Error(`invalid calico echo policy order ${JSON.stringify(props.order)}: must be a finite number of at least 0 (calico gives kubernetes networkpolicies 1000)`);
    }
    this.selector = calicoSelector(props.podLabels);

    const ingress: NetworkPolicySpecIngress[] = [
      { action: 'Allow', protocol: NetworkPolicySpecIngressProtocol.fromString('ICMP'), ipVersion: 4, icmp: { type: ICMP_ECHO_REQUEST.ipv4 } },
      { action: 'Allow', protocol: NetworkPolicySpecIngressProtocol.fromString('ICMPv6'), ipVersion: 6, icmp: { type: ICMP_ECHO_REQUEST.ipv6 } },
    ];
    const egress: NetworkPolicySpecEgress[] = [
      { action: 'Allow', protocol: NetworkPolicySpecEgressProtocol.fromString('ICMP'), ipVersion: 4, icmp: { type: ICMP_ECHO_REQUEST.ipv4 } },
      { action: 'Allow', protocol: NetworkPolicySpecEgressProtocol.fromString('ICMPv6'), ipVersion: 6, icmp: { type: ICMP_ECHO_REQUEST.ipv6 } },
    ];
    this.spec = { order: this.order, selector: this.selector, types: ['Ingress', 'Egress'], ingress, egress };
    // The generated class would write crd.projectcalico.org/v1, which bypasses the API server's validation.
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: CALICO_V3_API_VERSION,
      kind: 'NetworkPolicy',
      metadata: { name: this.name, namespace: this.namespace },
      spec: toJson_NetworkPolicySpec(this.spec),
    });
  }
}
