import { Construct } from 'constructs';
import { ApiServer } from '../imports/apiserver-operator.tigera.io';
import {
  Installation,
  InstallationSpec,
  InstallationSpecCalicoNetworkBgp,
  InstallationSpecCalicoNetworkLinuxDataplane,
  InstallationSpecCalicoNetworkNodeAddressAutodetectionV4Kubernetes,
  InstallationSpecCalicoNetworkNodeAddressAutodetectionV6Kubernetes,
  InstallationSpecCniIpamType,
  InstallationSpecCniType,
  InstallationSpecVariant,
} from '../imports/installation-operator.tigera.io';
import { DUAL_STACK, LabIpFamilies, checkLabIpFamilies, isIpv6Only } from './cidr';

export interface CalicoInstallationProps {
  /**
   * The address families of the nodes. With `["IPv6"]` the Installation has no
   * `nodeAddressAutodetectionV4`, and with no IPv4 pool in the cluster the operator (v1.34.13
   * `fillDefaults`) leaves it unset: it renders calico-node with `IP=none`, so calico-node never looks for
   * an IPv4 address, and, with `bgp`, `CALICO_ROUTER_ID=hash` (BIRD's router ID from the node name).
   * @default ["IPv4", "IPv6"]
   */
  readonly ipFamilies?: LabIpFamilies;
  /**
   * Run BIRD and a BGP mesh between nodes (`calicoNetwork.bgp: Enabled`, networking backend `bird`).
   *
   * VXLAN pools do not need it: Felix programs every VXLAN route itself, including the unencapsulated
   * same-subnet routes of `CrossSubnet` (felix's vxlan_mgr; confd's BIRD template leaves VXLAN routes to
   * Felix). Turn it on to peer with routers or to use pools with IP-in-IP or no encapsulation, whose
   * routes only BIRD programs.
   * @default false - backend `vxlan`, no BIRD
   */
  readonly bgp?: boolean;
  /**
   * Pod network MTU; Calico detects it from the node's interfaces when unset.
   * @default - detected by calico-node
   */
  readonly mtu?: number;
  /**
   * Also create the `APIServer` named `default`, so `kubectl get ippools.projectcalico.org` and
   * calicoctl-free `projectcalico.org/v3` access work.
   * @default true
   */
  readonly apiServer?: boolean;
}

/**
 * The tigera operator's `Installation` named `default` for a dual-stack or IPv6-only Calico with pools
 * managed out of band.
 *
 * `calicoNetwork.ipPools: []` is the operator's documented way of saying "create no pools": the lab's
 * `IPPool` objects are applied before this one, so when the operator reconciles it finds both pools, turns
 * on IPv6 in the CNI config and autodetects IPv6 node addresses. Both families take the node's
 * Kubernetes InternalIP, which is what the IPv4 and IPv6 VXLAN tunnels use as their endpoints. BGP is off
 * by default: with VXLAN pools the operator then renders calico-node with `CALICO_NETWORKING_BACKEND=vxlan`
 * and no BIRD, whose readiness checks are a classic calico-node failure in kind.
 */
export class CalicoInstallation extends Construct {
  public readonly installation: Installation;
  public readonly apiServer?: ApiServer;
  public readonly spec: InstallationSpec;
  /** Whether BIRD runs (`calicoNetwork.bgp: Enabled`). */
  public readonly bgp: boolean;
  public readonly ipFamilies: LabIpFamilies;

  constructor(scope: Construct, id: string, props: CalicoInstallationProps = {}) {
    super(scope, id);
    if (props.mtu !== undefined && (!Number.isInteger(props.mtu) || props.mtu < 1280 || props.mtu > 9000)) {
      throw new Error(`invalid mtu ${JSON.stringify(props.mtu)}: must be an integer from 1280 (the ipv6 minimum) to 9000`);
    }
    this.bgp = props.bgp ?? false;
    const ipFamilies = checkLabIpFamilies('ipFamilies', props.ipFamilies ?? DUAL_STACK);
    this.ipFamilies = ipFamilies;
    this.spec = {
      variant: InstallationSpecVariant.CALICO,
      cni: {
        type: InstallationSpecCniType.CALICO,
        ipam: { type: InstallationSpecCniIpamType.CALICO },
      },
      calicoNetwork: {
        bgp: this.bgp ? InstallationSpecCalicoNetworkBgp.ENABLED : InstallationSpecCalicoNetworkBgp.DISABLED,
        linuxDataplane: InstallationSpecCalicoNetworkLinuxDataplane.IPTABLES,
        ipPools: [],
        mtu: props.mtu,
        nodeAddressAutodetectionV4: isIpv6Only(ipFamilies) ? undefined : {
          kubernetes: InstallationSpecCalicoNetworkNodeAddressAutodetectionV4Kubernetes.NODE_INTERNAL_IP,
        },
        nodeAddressAutodetectionV6: {
          kubernetes: InstallationSpecCalicoNetworkNodeAddressAutodetectionV6Kubernetes.NODE_INTERNAL_IP,
        },
      },
    };
    this.installation = new Installation(this, 'Installation', {
      metadata: { name: 'default' },
      spec: this.spec,
    });
    if (props.apiServer ?? true) {
      this.apiServer = new ApiServer(this, 'ApiServer', { metadata: { name: 'default' }, spec: {} });
    }
  }
}
