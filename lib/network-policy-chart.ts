import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { AppPeerPolicy } from './app-peer-policy';
import { IpFamily } from './cidr';
import { DEFAULT_APP_PORT } from './defaults';
import { DefaultDenyPolicy } from './default-deny-policy';
import { DnsEgressPolicy } from './dns-egress-policy';
import { ExternalHostPolicy } from './external-host-policy';

/** A Service the lab's checks reach the pods through. */
export interface PolicyServiceRef {
  readonly name: string;
  readonly targetPort: number;
}

export interface NetworkPolicyChartProps extends ChartProps {
  /**
   * Labels of the lab's pods.
   * @default { app: "multitool" }
   */
  readonly podLabels?: Readonly<Record<string, string>>;
  /**
   * The pods' TCP port, the only one the policies open.
   * @default 8080
   */
  readonly appPort?: number;
  /**
   * The external host's IPv4 address (egress only: its IPv4 connections to the pods stay denied).
   * @default "172.18.255.250"
   */
  readonly externalHostIpv4?: string;
  /**
   * The external host's IPv6 address (ingress and egress).
   * @default "fc00:f853:ccd:e793:ffff::fa"
   */
  readonly externalHostIpv6?: string;
  /**
   * Families over which the external host may connect to the pods.
   * @default ["ipv6"] - the lesson
   */
  readonly externalIngressFamilies?: readonly IpFamily[];
  /**
   * The Services in front of the pods. Each must target the app port: a Service whose targetPort the
   * policies do not open would leave verify's Service checks locked out.
   * @default []
   */
  readonly services?: readonly PolicyServiceRef[];
}

/** Where the lesson's charts are written, under the synth output; `kubectl apply -f dist` does not recurse into it. */
export const POLICY_OUTPUT_DIRECTORY = 'policy';

/**
 * The lesson's Kubernetes NetworkPolicies for the lab's namespace: the allows first, then the default
 * deny of both directions, so that applying the file in order never cuts off what it means to allow.
 *
 * - `allow-dns`: every pod of the namespace may query the cluster DNS pods (UDP and TCP 53);
 * - `allow-external-host`: the external host may connect to the pods over IPv6 only (one /128
 *   ipBlock), and the pods may connect to it over both families (one /32 and one /128);
 * - `allow-<app>`: the lab's pods may talk to each other on the app port, both directions;
 * - `default-deny`: everything else in the namespace is denied, ingress and egress.
 *
 * Written to `policy/` beside the lab's top-level files, with the lesson's Calico policy
 * (`CalicoPolicyChart`), and applied after the Calico API server is Available.
 */
export class NetworkPolicyChart extends Chart {
  /** Subdirectory of the synth output this chart's file goes to. */
  public readonly outputDirectory = POLICY_OUTPUT_DIRECTORY;
  public readonly dns: DnsEgressPolicy;
  public readonly externalHost: ExternalHostPolicy;
  public readonly peers: AppPeerPolicy;
  public readonly defaultDeny: DefaultDenyPolicy;

  constructor(scope: Construct, id: string, props: NetworkPolicyChartProps = {}) {
    super(scope, id, { disableResourceNameHashes: true, ...props });
    const podLabels = props.podLabels ?? { app: 'multitool' };
    const appPort = props.appPort ?? DEFAULT_APP_PORT;
    for (const svc of props.services ?? []) {
      if (svc.targetPort !== appPort) {
        throw new Error(`invalid service ${JSON.stringify(svc.name)} targetPort ${svc.targetPort}: the policies open only the app port ${appPort}, so traffic through this service would be denied; target port ${appPort}`);
      }
    }
    this.dns = new DnsEgressPolicy(this, 'Dns', {});
    this.externalHost = new ExternalHostPolicy(this, 'ExternalHost', {
      podLabels,
      port: appPort,
      ipv4: props.externalHostIpv4,
      ipv6: props.externalHostIpv6,
      ingressFamilies: props.externalIngressFamilies,
    });
    this.peers = new AppPeerPolicy(this, 'Peers', { podLabels, port: appPort });
    this.defaultDeny = new DefaultDenyPolicy(this, 'DefaultDeny');
  }
}
