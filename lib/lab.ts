import { Construct } from 'constructs';
import { CalicoChart } from './calico-chart';
import { KindClusterConfig } from './kind-cluster-config';
import { DEFAULT_LAB_CONFIG, LabConfig } from './lab-config';
import { MultitoolChart } from './multitool-chart';

export interface LabProps {
  /**
   * The validated lab configuration (see `loadLabConfig`).
   * @default - the lab's README values (DEFAULT_LAB_CONFIG)
   */
  readonly config?: LabConfig;
}

/**
 * Everything the Calico IPv6 lab needs, from one configuration: the Calico chart, the multitool chart
 * (applied after Calico, so the files are numbered in apply order) and the kind cluster config.
 */
export class Lab extends Construct {
  public readonly calico: CalicoChart;
  public readonly multitool: MultitoolChart;
  public readonly kind: KindClusterConfig;

  constructor(scope: Construct, id: string, props: LabProps = {}) {
    super(scope, id);
    const config = props.config ?? DEFAULT_LAB_CONFIG;
    this.calico = new CalicoChart(scope, 'calico', { ipv4Pool: config.pools.ipv4, ipv6Pool: config.pools.ipv6 });
    this.multitool = new MultitoolChart(scope, 'multitool', config.multitool);
    // Pods need the CNI; the dependency also makes cdk8s number the files 0000-, 0001- in apply order.
    this.multitool.addDependency(this.calico);
    this.kind = new KindClusterConfig(this, 'KindCluster', {
      name: config.clusterName,
      workers: config.workers,
      nodeImage: config.kindNodeImage,
      podSubnets: [config.pools.ipv4.cidr, config.pools.ipv6.cidr],
      serviceSubnets: [config.serviceSubnets.ipv4, config.serviceSubnets.ipv6],
    });
  }
}
