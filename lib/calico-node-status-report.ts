import { Construct } from 'constructs';
import { CalicoNodeStatus } from '../imports/caliconodestatus-crd.projectcalico.org';
import { checkDnsLabel } from './validate';

/** What a CalicoNodeStatus asks calico-node to report (Calico v3.28.5 NodeStatusClassType). */
export type NodeStatusClass = 'Agent' | 'BGP' | 'Routes';
const NODE_STATUS_CLASSES: readonly NodeStatusClass[] = ['Agent', 'BGP', 'Routes'];

export interface CalicoNodeStatusReportProps {
  /** The Kubernetes node whose calico-node reports (`spec.node`). */
  readonly node: string;
  /**
   * The object's name.
   * @default - the node's name
   */
  readonly name?: string;
  /**
   * What to report: `Agent` (BIRD's state and router ID), `BGP` (every session, its peer type and state),
   * `Routes` (BIRD's routes, with where each was learned).
   * @default ["Agent", "BGP", "Routes"]
   */
  readonly classes?: readonly NodeStatusClass[];
  /**
   * How often calico-node refreshes the status, in seconds (0 stops refreshing; at most a day).
   * @default 10 (as Calico's documentation and its own node-status test use)
   */
  readonly updatePeriodSeconds?: number;
}

/**
 * A Calico `CalicoNodeStatus` (crd.projectcalico.org/v1): asks calico-node on one node to write its BIRD's
 * state into the object's `status` (v3.28.5: node/pkg/status; calico-node runs its status reporter with every
 * backend and reports on each object whose `spec.node` is its own node). Nobody else creates these objects:
 * without one, Calico keeps the sessions' state inside BIRD, readable only with `birdcl` or
 * `calicoctl node status` where calico-node runs.
 *
 * The status, as the reporter writes it (whole object, `Update`, when it changed): `status.bgp.peersV4` and
 * `peersV6`, one `{peerIP, type: NodeMesh | NodePeer | GlobalPeer, state: Idle ... Established, since}` per
 * BIRD session, `numberEstablishedV4` etc., `status.agent.birdV4|birdV6` and `status.routes`; `lastUpdated`.
 *
 * All three spec fields are required by Calico's validation, which crd.projectcalico.org/v1 does not run
 * (a missing `updatePeriodSeconds` makes the reporter skip the object), so all three are written.
 */
export class CalicoNodeStatusReport extends Construct {
  public readonly name: string;
  public readonly nodeName: string;
  public readonly resource: CalicoNodeStatus;

  constructor(scope: Construct, id: string, props: CalicoNodeStatusReportProps) {
    super(scope, id);
    this.nodeName = props.node;
    this.name = props.name ?? props.node;
    checkDnsLabel('node status node', this.nodeName, 253);
    checkDnsLabel('node status name', this.name, 253);
    const classes = props.classes ?? NODE_STATUS_CLASSES;
    if (classes.length === 0 || new Set(classes).size !== classes.length || classes.some(c => !NODE_STATUS_CLASSES.includes(c))) {
      throw new Error(`invalid node status classes ${JSON.stringify(classes)}: must be one or more of ${NODE_STATUS_CLASSES.map(c => JSON.stringify(c)).join(', ')}, each once`);
    }
    const period = props.updatePeriodSeconds ?? 10;
    if (!Number.isInteger(period) || period < 0 || period > 86400) {
      throw new Error(`invalid node status update period seconds ${JSON.stringify(period)}: must be an integer from 0 to 86400`);
    }
    this.resource = new CalicoNodeStatus(this, 'Resource', {
      metadata: { name: this.name },
      spec: { node: this.nodeName, classes: [...classes], updatePeriodSeconds: period },
    });
  }
}
