import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
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
}

/**
 * The lab's workload and Services: the multitool DaemonSet, the dual-stack Service
 * `multitool-dual-stack` and the IPv6-only Service `multitool-ipv6-only`.
 */
export class MultitoolChart extends Chart {
  public readonly multitool: Multitool;
  public readonly dualStack: DualStackService;
  public readonly ipv6Only: DualStackService;

  constructor(scope: Construct, id: string, props: MultitoolChartProps = {}) {
    super(scope, id, { disableResourceNameHashes: true, ...props });
    this.multitool = new Multitool(this, 'Multitool', { image: props.image, port: props.port });
    const common = { selector: this.multitool.labels, port: props.servicePort ?? DEFAULT_SERVICE_PORT, targetPort: this.multitool.port };
    this.dualStack = new DualStackService(this, 'DualStack', {
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
  }
}
