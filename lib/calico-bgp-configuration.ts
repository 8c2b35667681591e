import { Construct } from 'constructs';
import { BgpConfiguration, BgpConfigurationSpec } from '../imports/bgpconfiguration-crd.projectcalico.org';
import { checkAsNumber } from './as-number';
import { familyOf, parseCidr } from './cidr';
import { DEFAULT_CLUSTER_AS_NUMBER, DEFAULT_SERVICE_SUBNETS } from './defaults';

/** BIRD's log levels as BGPConfiguration spells them (confd maps anything else to none). */
export type BgpLogSeverity = 'Debug' | 'Info' | 'Warning' | 'Error' | 'Fatal';
const LOG_SEVERITIES: readonly BgpLogSeverity[] = ['Debug', 'Info', 'Warning', 'Error', 'Fatal'];

export interface CalicoBgpConfigurationProps {
  /**
   * The cluster's AS number: every node's, unless a Node sets its own.
   * @default 64512 (Calico's default)
   */
  readonly asNumber?: number;
  /**
   * A full mesh of iBGP sessions between all nodes, beside any external peers.
   * @default true
   */
  readonly nodeToNodeMeshEnabled?: boolean;
  /**
   * Service ClusterIP ranges every node advertises (as one route each, plus /32 or /128 routes for
   * Services with `externalTrafficPolicy: Local`).
   * @default - the lab's Service ranges, 10.96.0.0/16 and fd00:10:96::/112
   */
  readonly serviceClusterIPs?: readonly string[];
  /**
   * BIRD's log level.
   * @default "Info" (Calico's default)
   */
  readonly logSeverityScreen?: BgpLogSeverity;
}

/**
 * Calico's cluster-wide `BGPConfiguration` named `default` (crd.projectcalico.org/v1).
 *
 * No Calico API server defaults objects of this API group, and confd fills a missing field with its own
 * default: so the fields the lab relies on are written out, each as Calico would default it unless the
 * props say otherwise. Left out, because leaving them out is the setting: `listenPort` (179; set, confd
 * writes a `port` into every mesh session), `bindMode` (listen on every address; set, the operator also
 * rolls calico-node on it), the external and LoadBalancer Service ranges, communities and prefix
 * advertisements (none), and the mesh password and restart time (none, BIRD's 120 s).
 */
export class CalicoBgpConfiguration extends Construct {
  /** The object's name: `default` is the one Calico reads for the whole cluster. */
  public static readonly NAME = 'default';

  public readonly spec: BgpConfigurationSpec;
  public readonly resource: BgpConfiguration;

  constructor(scope: Construct, id: string, props: CalicoBgpConfigurationProps = {}) {
    super(scope, id);
    const asNumber = props.asNumber ?? DEFAULT_CLUSTER_AS_NUMBER;
    checkAsNumber('bgp configuration as number', asNumber);
    const serviceClusterIPs = props.serviceClusterIPs ?? [DEFAULT_SERVICE_SUBNETS.ipv4, DEFAULT_SERVICE_SUBNETS.ipv6];
    for (const cidr of serviceClusterIPs) {
      const parsed = parseCidr(cidr, familyOf(cidr));
      if (typeof parsed === 'string') {
        throw new Error(`invalid bgp configuration service cluster ip range: ${parsed}`);
      }
    }
    if (new Set(serviceClusterIPs).size !== serviceClusterIPs.length) {
      throw new Error(`invalid bgp configuration service cluster ip ranges ${JSON.stringify(serviceClusterIPs)}: must not repeat a range`);
    }
    const logSeverityScreen = props.logSeverityScreen ?? 'Info';
    if (!LOG_SEVERITIES.includes(logSeverityScreen)) {
      throw new Error(`invalid bgp configuration log severity ${JSON.stringify(logSeverityScreen)}: must be one of ${LOG_SEVERITIES.join(', ')}`);
    }
    this.spec = {
      asNumber,
      logSeverityScreen,
      nodeToNodeMeshEnabled: props.nodeToNodeMeshEnabled ?? true,
      serviceClusterIPs: serviceClusterIPs.map(cidr => ({ cidr })),
    };
    this.resource = new BgpConfiguration(this, 'Resource', {
      metadata: { name: CalicoBgpConfiguration.NAME },
      spec: this.spec,
    });
  }
}
