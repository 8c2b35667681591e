import * as fs from 'fs';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import * as ipaddr from 'ipaddr.js';
import { LabIpFamilies, familyOf, isIpv6Only } from './cidr';
import { DEFAULT_CLUSTER_NAME, DEFAULT_POOLS, DEFAULT_SERVICE_SUBNETS, DEFAULT_WORKERS, KIND_NODE_IMAGE, WORKERS_RANGE } from './defaults';
import { checkDnsLabel } from './validate';

export interface KindClusterConfigProps {
  /**
   * The kind cluster's name; nodes are named `<name>-control-plane`, `<name>-worker`, ...
   * @default "ipv6-lab"
   */
  readonly name?: string;
  /**
   * Number of worker nodes beside the control plane, 1 to 10.
   * @default 2
   */
  readonly workers?: number;
  /**
   * Node image, pinned by digest as kind's release notes ask.
   * @default - kindest/node:v1.28.15 built for kind v0.25.0
   */
  readonly nodeImage?: string;
  /**
   * kind's `networking.ipFamily`: `dual` (IPv4 primary) or `ipv6` (IPv6-only: nodes, pods and Services
   * have IPv6 addresses only). kind's `ipv4` is no variant of this lab.
   * @default "dual"
   */
  readonly ipFamily?: KindIpFamily;
  /**
   * Pod CIDRs, one per family, IPv4 first (`dual`) or one IPv6 CIDR (`ipv6`); they must equal the Calico pools.
   * @default ["192.168.0.0/16", "fd00:10:244::/48"] for dual, ["fd00:10:244::/48"] for ipv6
   */
  readonly podSubnets?: readonly string[];
  /**
   * Service CIDRs, one per family like `podSubnets`.
   * @default ["10.96.0.0/16", "fd00:10:96::/112"] for dual, ["fd00:10:96::/112"] for ipv6
   */
  readonly serviceSubnets?: readonly string[];
  /**
   * Let kube-controller-manager split the pod subnets into per-node `spec.podCIDRs` (kubeadm's default).
   *
   * Off by default: Calico IPAM hands out its own blocks and reads no node podCIDR, and with allocation on
   * kubeadm refuses pod subnets that its node masks (/24 IPv4, /64 IPv6) cannot split, so the control
   * plane never comes up for pools such as fd00:10:244::/112, fd00::/40 or an IPv4 /25.
   * When on, such pod subnets are rejected here.
   * @default false
   */
  readonly allocateNodeCidrs?: boolean;
}

/** A node of the kind cluster, named as kind v0.25.0 names it. */
export interface KindNode {
  readonly name: string;
  readonly role: 'control-plane' | 'worker';
}

/**
 * The names kind gives the nodes (kind v0.25.0 MakeNodeNamer): `<cluster>-<role>` for the first node of
 * a role, `<cluster>-<role><n>` for its n-th, so `ipv6-lab-worker`, `ipv6-lab-worker2`, ...
 */
export function kindNodeNames(clusterName: string, roles: readonly KindNode['role'][]): KindNode[] {
  const seen = new Map<string, number>();
  return roles.map(role => {
    const n = (seen.get(role) ?? 0) + 1;
    seen.set(role, n);
    return { name: `${clusterName}-${role}${n > 1 ? n : ''}`, role };
  });
}

/** The `networking.ipFamily` values of kind the lab uses. */
export type KindIpFamily = 'dual' | 'ipv6';

/** kind's `ipFamily` for a lab family set. */
export function kindIpFamilyOf(families: LabIpFamilies): KindIpFamily {
  return isIpv6Only(families) ? 'ipv6' : 'dual';
}

/**
 * kind's own check (v0.25.0 validateSubnets), stricter on order: `dual` takes an IPv4 then an IPv6 CIDR
 * (the first family is the cluster's primary), `ipv6` exactly one IPv6 CIDR.
 */
function checkSubnetFamilies(what: string, ipFamily: KindIpFamily, cidrs: readonly string[]): void {
  const want = ipFamily === 'ipv6' ? ['ipv6'] : ['ipv4', 'ipv6'];
  const got = cidrs.map(c => familyOf(c));
  if (got.length !== want.length || got.some((f, i) => f !== want[i])) {
    const allowed = ipFamily === 'ipv6' ? 'exactly one ipv6 cidr' : 'an ipv4 then an ipv6 cidr';
    throw new Error(`invalid ${what} ${JSON.stringify(cidrs)} for ipFamily ${JSON.stringify(ipFamily)}: must be ${allowed}`);
  }
}

/** kubeadm's node masks when kube-controller-manager allocates node CIDRs (node-cidr-mask-size-ipv4/-ipv6). */
export const KUBEADM_NODE_MASK = { ipv4: 24, ipv6: 64 } as const;
/** kubeadm refuses a pod subnet more than this many bits shorter than the node mask (kubernetes#58766). */
export const KUBEADM_NODE_MASK_MAX_DIFF = 16;
/** kubeadm refuses pod subnets with fewer addresses than this (MinimumAddressesInPodSubnet). */
export const KUBEADM_MIN_POD_SUBNET_ADDRESSES = 14;

/**
 * kubeadm's checks of one pod subnet (cmd/kubeadm/app/apis/kubeadm/validation ValidateNetworking, v1.28):
 * at least 14 addresses always; with node CIDR allocation on, a prefix from nodeMask-16 to nodeMask.
 */
function checkPodSubnet(cidr: string, allocateNodeCidrs: boolean): void {
  let prefix: number;
  let family: 'ipv4' | 'ipv6';
  try {
    const [address, length] = ipaddr.parseCIDR(cidr);
    family = address.kind();
    prefix = length;
  } catch {
    throw new Error(`invalid pod subnet ${JSON.stringify(cidr)}: must be an ipv4 or ipv6 cidr`);
  }
  const bits = family === 'ipv4' ? 32 : 128;
  const maxPrefix = bits - Math.ceil(Math.log2(KUBEADM_MIN_POD_SUBNET_ADDRESSES));
  if (prefix > maxPrefix) {
    throw new Error(`invalid pod subnet ${JSON.stringify(cidr)}: kubeadm needs at least ${KUBEADM_MIN_POD_SUBNET_ADDRESSES} addresses, so the prefix must be /${maxPrefix} or shorter`);
  }
  if (!allocateNodeCidrs) return;
  const nodeMask = KUBEADM_NODE_MASK[family];
  const shortest = nodeMask - KUBEADM_NODE_MASK_MAX_DIFF;
  if (prefix > nodeMask || prefix < shortest) {
    throw new Error(`invalid pod subnet ${JSON.stringify(cidr)} with node cidr allocation on: kubeadm splits it into /${nodeMask} node cidrs, so the prefix must be from /${shortest} to /${nodeMask}; leave allocateNodeCidrs off (calico ipam does not need it)`);
  }
}

/**
 * The config of a dual-stack or IPv6-only kind cluster without kind's default CNI (Calico replaces it).
 *
 * kube-controller-manager's node CIDR allocation is off (a kubeadm patch sets `allocate-node-cidrs: "false"`):
 * Calico IPAM does not use node podCIDRs, and kubeadm then skips its pod-subnet/node-mask check, so
 * every pool Calico accepts can be the pod subnet. kube-proxy still gets the pod subnets as `clusterCIDR`.
 *
 * Not a Kubernetes object: it is written to `kind/cluster.yaml` under the output directory, where
 * `kubectl apply -f dist` (which does not recurse) never reads it.
 */
export class KindClusterConfig extends Construct {
  /** Where the config lands, relative to the synth output directory. */
  public static readonly FILE = path.join('kind', 'cluster.yaml');

  /** Every KindClusterConfig under `root`, in construct order. */
  public static all(root: IConstruct): KindClusterConfig[] {
    return root.node.findAll().filter((c): c is KindClusterConfig => c instanceof KindClusterConfig);
  }

  public readonly clusterName: string;
  /** The nodes in config order, with the names kind gives them. */
  public readonly nodes: readonly KindNode[];
  /** The image every node runs. */
  public readonly nodeImage: string;
  /** Pod and Service CIDRs, IPv4 then IPv6. */
  public readonly podSubnets: readonly string[];
  public readonly serviceSubnets: readonly string[];
  public readonly ipFamily: KindIpFamily;
  private readonly config: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: KindClusterConfigProps = {}) {
    super(scope, id);
    this.clusterName = props.name ?? DEFAULT_CLUSTER_NAME;
    const workers = props.workers ?? DEFAULT_WORKERS;
    const image = props.nodeImage ?? KIND_NODE_IMAGE;
    const ipFamily = props.ipFamily ?? 'dual';
    if (ipFamily !== 'dual' && ipFamily !== 'ipv6') {
      throw new Error(`invalid kind ipFamily ${JSON.stringify(ipFamily)}: must be "dual" or "ipv6" (an ipv4-only cluster is no variant of this ipv6 lab)`);
    }
    this.ipFamily = ipFamily;
    const ipv6Only = ipFamily === 'ipv6';
    const podSubnets = props.podSubnets ?? (ipv6Only ? [DEFAULT_POOLS.ipv6.cidr] : [DEFAULT_POOLS.ipv4.cidr, DEFAULT_POOLS.ipv6.cidr]);
    const serviceSubnets = props.serviceSubnets
      ?? (ipv6Only ? [DEFAULT_SERVICE_SUBNETS.ipv6] : [DEFAULT_SERVICE_SUBNETS.ipv4, DEFAULT_SERVICE_SUBNETS.ipv6]);
    checkDnsLabel('kind cluster name', this.clusterName, 50);
    checkSubnetFamilies('pod subnets', ipFamily, podSubnets);
    checkSubnetFamilies('service subnets', ipFamily, serviceSubnets);
    // The lab's checks run between pods on different nodes: a control plane alone can never pass them.
    const [minWorkers, maxWorkers] = WORKERS_RANGE;
    if (!Number.isInteger(workers) || workers < minWorkers || workers > maxWorkers) {
      throw new Error(`invalid kind worker count ${JSON.stringify(workers)}: must be an integer from ${minWorkers} to ${maxWorkers}`);
    }
    const allocateNodeCidrs = props.allocateNodeCidrs ?? false;
    podSubnets.forEach(cidr => checkPodSubnet(cidr, allocateNodeCidrs));

    this.nodes = kindNodeNames(this.clusterName, ['control-plane', ...Array.from({ length: workers }, () => 'worker' as const)]);
    this.nodeImage = image;
    this.podSubnets = [...podSubnets];
    this.serviceSubnets = [...serviceSubnets];
    const node = (role: string) => ({ role, image });
    this.config = {
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      name: this.clusterName,
      networking: {
        ipFamily,
        // Calico is the CNI; kind's kindnet must not be installed.
        disableDefaultCNI: true,
        podSubnet: podSubnets.join(','),
        serviceSubnet: serviceSubnets.join(','),
      },
      nodes: this.nodes.map(n => node(n.role)),
    };
    if (!allocateNodeCidrs) {
      // kind merges this into the kubeadm ClusterConfiguration it generates (matched by kind).
      this.config.kubeadmConfigPatches = [
        Yaml.stringify({ kind: 'ClusterConfiguration', controllerManager: { extraArgs: { 'allocate-node-cidrs': 'false' } } }),
      ];
    }
  }

  /** The config as kind reads it. */
  public toJson(): Record<string, unknown> {
    return structuredClone(this.config);
  }

  public toYaml(): string {
    return [
      '# kind cluster of the Calico IPv6 lab, generated by `cdk8s synth` (edit lab.config.yaml, not this file).',
      Yaml.stringify(this.config),
    ].join('\n');
  }

  /** Writes the config under `outdir`. */
  public writeTo(outdir: string): string {
    const file = path.join(outdir, KindClusterConfig.FILE);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, this.toYaml());
    return file;
  }
}
