import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { IntOrString, KubeService } from 'cdk8s-plus-28/lib/imports/k8s';
import { DEFAULT_APP_PORT, DEFAULT_NAMESPACE, DEFAULT_SERVICE_PORT } from './defaults';
import { checkPort } from './validate';

export type IpFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
export type ServiceIpFamily = 'IPv4' | 'IPv6';

export interface DualStackServiceProps {
  /** The Service's name. */
  readonly name: string;
  /** Labels of the pods the Service sends traffic to. */
  readonly selector: Record<string, string>;
  /**
   * Namespace of the Service.
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;
  /**
   * How many families the Service gets ClusterIPs for.
   * @default "RequireDualStack"
   */
  readonly ipFamilyPolicy?: IpFamilyPolicy;
  /**
   * The families, primary first: the first one decides `.spec.clusterIP`.
   * @default ["IPv4", "IPv6"] for dual-stack policies, ["IPv4"] for SingleStack
   */
  readonly ipFamilies?: readonly ServiceIpFamily[];
  /**
   * Port the Service listens on.
   * @default 80
   */
  readonly port?: number;
  /**
   * Port on the pods.
   * @default 8080
   */
  readonly targetPort?: number;
}

/**
 * A ClusterIP Service with explicit IP families: dual-stack (`RequireDualStack`, one ClusterIP per family)
 * or single-stack on a chosen family, such as the lab's IPv6-only Service.
 */
export class DualStackService extends Construct {
  public readonly service: KubeService;
  public readonly name: string;
  public readonly port: number;
  public readonly targetPort: number;
  public readonly ipFamilyPolicy: IpFamilyPolicy;
  public readonly ipFamilies: readonly ServiceIpFamily[];

  constructor(scope: Construct, id: string, props: DualStackServiceProps) {
    super(scope, id);
    const policy = props.ipFamilyPolicy ?? 'RequireDualStack';
    const families = props.ipFamilies ?? (policy === 'SingleStack' ? ['IPv4'] : ['IPv4', 'IPv6']);
    const port = props.port ?? DEFAULT_SERVICE_PORT;
    const targetPort = props.targetPort ?? DEFAULT_APP_PORT;

    if (!['SingleStack', 'PreferDualStack', 'RequireDualStack'].includes(policy)) {
      throw new Error(`invalid ipFamilyPolicy ${JSON.stringify(policy)}: must be one of SingleStack, PreferDualStack, RequireDualStack`);
    }
    if (families.some(f => f !== 'IPv4' && f !== 'IPv6') || new Set(families).size !== families.length) {
      throw new Error(`invalid ipFamilies ${JSON.stringify(families)}: must be distinct values of IPv4, IPv6`);
    }
    if (policy === 'SingleStack' && families.length !== 1) {
      throw new Error(`invalid ipFamilies ${JSON.stringify(families)} for SingleStack: must name exactly one family`);
    }
    if (policy === 'RequireDualStack' && families.length !== 2) {
      throw new Error(`invalid ipFamilies ${JSON.stringify(families)} for RequireDualStack: must name both IPv4 and IPv6`);
    }
    if (families.length === 0) {
      throw new Error('invalid ipFamilies []: must name at least one family');
    }
    checkPort('port', port);
    checkPort('targetPort', targetPort);
    if (Object.keys(props.selector).length === 0) {
      throw new Error('invalid selector {}: a service without a selector sends traffic nowhere');
    }

    this.name = props.name;
    this.port = port;
    this.targetPort = targetPort;
    this.ipFamilyPolicy = policy;
    this.ipFamilies = families;
    this.service = new KubeService(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace ?? Chart.of(this).namespace ?? DEFAULT_NAMESPACE, labels: { ...props.selector } },
      spec: {
        type: 'ClusterIP',
        ipFamilyPolicy: policy,
        ipFamilies: [...families],
        selector: { ...props.selector },
        ports: [{ name: 'http', protocol: 'TCP', port, targetPort: IntOrString.fromNumber(targetPort) }],
      },
    });
  }
}
