import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { KubeNetworkPolicy } from 'cdk8s-plus-28/lib/imports/k8s';
import { DEFAULT_NAMESPACE } from './defaults';
import { checkDnsLabel } from './validate';

export interface DefaultDenyPolicyProps {
  /**
   * The NetworkPolicy's name; Calico shows it as `knp.default.<name>`.
   * @default "default-deny"
   */
  readonly name?: string;
  /**
   * The namespace whose pods it isolates.
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;
}

/**
 * A Kubernetes NetworkPolicy that isolates every pod of its namespace in both directions: it selects all
 * pods (`podSelector: {}`), names both policy types and allows nothing. From then on a pod sends and
 * receives only what another policy allows. Calico turns it into `knp.default.<name>` at order 1000 with
 * no rules, and drops what no policy allowed at the end of each endpoint chain.
 */
export class DefaultDenyPolicy extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly resource: KubeNetworkPolicy;

  constructor(scope: Construct, id: string, props: DefaultDenyPolicyProps = {}) {
    super(scope, id);
    this.name = props.name ?? 'default-deny';
    this.namespace = props.namespace ?? Chart.of(this).namespace ?? DEFAULT_NAMESPACE;
    checkDnsLabel('default deny policy name', this.name);
    checkDnsLabel('default deny policy namespace', this.namespace);
    // No ingress/egress lists: the API server does not store empty ones, so writing them would make
    // every re-apply report the object "configured".
    this.resource = new KubeNetworkPolicy(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespace },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
  }
}
