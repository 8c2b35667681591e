import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { DUAL_STACK, LabIpFamilies, checkLabIpFamilies, isIpv6Only } from './cidr';
import { DEFAULT_SERVICE_PORT } from './defaults';
import { DualStackService } from './dual-stack-service';
import { Multitool } from './multitool';

export interface MultitoolChartProps extends ChartProps {
  /**
   * The multitool image.
   * @default "wbitt/network-multitool:alpine-extra"
   */
  readonly image?: string;
  /**
   * Port nginx listens on in the pods.
   * @default 8080
   */
  readonly port?: number;
  /**
   * Port of both Services.
   * @default 80
   */
  readonly servicePort?: number;
  /**
   * The cluster's families. `["IPv6"]` leaves out the dual-stack Service: an IPv6-only API server
   * refuses `RequireDualStack` ("this cluster is not configured for dual-stack services"), and a
   * dual-stack name on a single-family Service would teach the wrong thing.
   * @default ["IPv4", "IPv6"]
   */
  readonly ipFamilies?: LabIpFamilies;
}

/**
 * The lab's workload and Services: the multitool DaemonSet, the dual-stack Service
 * `multitool-dual-stack` (not in an IPv6-only lab) and the IPv6-only Service `multitool-ipv6-only`.
 */
export class MultitoolChart extends Chart {
  public readonly multitool: Multitool;
  /** The dual-stack Service; undefined in an IPv6-only chart. */
  public readonly dualStack?: DualStackService;
  public readonly ipv6Only: DualStackService;
  /** Every Service of the chart, in file order. */
  public readonly services: readonly DualStackService[];

  constructor(scope: Construct, id: string, props: MultitoolChartProps = {}) {
    super(scope, id, { disableResourceNameHashes: true, ...props });
    const ipFamilies = checkLabIpFamilies('ipFamilies', props.ipFamilies ?? DUAL_STACK);
    this.multitool = new Multitool(this, 'Multitool', { image: props.image, port: props.port, ipFamilies });
    const common = { selector: this.multitool.labels, port: props.servicePort ?? DEFAULT_SERVICE_PORT, targetPort: this.multitool.port };
    this.dualStack = isIpv6Only(ipFamilies) ? undefined : new DualStackService(this, 'DualStack', {
      ...common,
      name: `${this.multitool.name}-dual-stack`,
      ipFamilyPolicy: 'RequireDualStack',
      ipFamilies: ['IPv4', 'IPv6'],
    });
    this.ipv6Only = new DualStackService(this, 'Ipv6Only', {
      ...common,
      name: `${this.multitool.name}-ipv6-only`,
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv6'],
    });
    this.services = this.dualStack ? [this.dualStack, this.ipv6Only] : [this.ipv6Only];
  }
}
