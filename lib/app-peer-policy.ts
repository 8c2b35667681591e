import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { IntOrString, KubeNetworkPolicy } from 'cdk8s-plus-28/lib/imports/k8s';
import { DEFAULT_APP_PORT, DEFAULT_NAMESPACE } from './defaults';
import { checkDnsLabel, checkLabels, checkPort } from './validate';

export interface AppPeerPolicyProps {
  /** Labels of the app's pods, e.g. `{ app: "multitool" }`. */
  readonly podLabels: Readonly<Record<string, string>>;
  /**
   * The NetworkPolicy's name.
   * @default "allow-<podLabels.app>", else "allow-peers"
   */
  readonly name?: string;
  /**
   * Namespace of the app's pods.
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;
  /**
   * The TCP port the app's pods listen on (the Services' targetPort).
   * @default 8080
   */
  readonly port?: number;
}

/**
 * Traffic between the pods of one app on its TCP port, in both directions: ingress from those pods and
 * egress to them. Both halves are needed under a default deny of both directions: the client's egress
 * and the server's ingress are checked separately, each on its own node.
 *
 * A pod selector covers both families: Calico matches it with one IP set per family. Traffic to one of
 * the app's Services is covered too: kube-proxy DNATs the ClusterIP to a pod address and the targetPort
 * before Calico's filter chains see the packet.
 */
export class AppPeerPolicy extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly port: number;
  public readonly podLabels: Readonly<Record<string, string>>;
  public readonly resource: KubeNetworkPolicy;

  constructor(scope: Construct, id: string, props: AppPeerPolicyProps) {
    super(scope, id);
    // Labels first: the default name is made from them.
    checkLabels('app peer policy podLabels', props.podLabels);
    this.podLabels = { ...props.podLabels };
    this.name = props.name ?? (props.podLabels.app ? `allow-${props.podLabels.app}` : 'allow-peers');
    this.namespace = props.namespace ?? Chart.of(this).namespace ?? DEFAULT_NAMESPACE;
    this.port = props.port ?? DEFAULT_APP_PORT;
    checkDnsLabel('app peer policy name', this.name);
    checkDnsLabel('app peer policy namespace', this.namespace);
    if (Object.keys(this.podLabels).length === 0) {
      throw new Error('invalid app peer policy podLabels {}: it would open the port between every pod of the namespace; name the app\'s labels');
    }
    checkPort('app peer policy port', this.port);
    const peer = [{ podSelector: { matchLabels: { ...this.podLabels } } }];
    const ports = [{ protocol: 'TCP', port: IntOrString.fromNumber(this.port) }];
    this.resource = new KubeNetworkPolicy(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        podSelector: { matchLabels: { ...this.podLabels } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: peer, ports }],
        egress: [{ to: peer, ports }],
      },
    });
  }
}
