import { Construct } from 'constructs';
import * as ipaddr from 'ipaddr.js';
import { KubeConfigMap } from 'cdk8s-plus-28/lib/imports/k8s';
import { parseCidr } from './cidr';
import { DEFAULT_CLUSTER_DOMAIN } from './defaults';

export interface CoreDnsConfigProps {
  /**
   * The resolvers CoreDNS forwards every name outside the cluster to (the `forward` plugin), by address.
   * An IPv6-only cluster's CoreDNS pods have only IPv6 addresses, so these must be reachable over IPv6:
   * kubeadm's `forward . /etc/resolv.conf` reads the node's resolver, which on kind is an IPv4 address.
   */
  readonly upstreams: readonly string[];
  /**
   * Synthesize AAAA records in this /96 (CoreDNS's `dns64` plugin) for names that have only A records,
   * so that IPv6-only clients reach IPv4-only hosts through a NAT64 that translates the same prefix.
   * @default - no dns64 plugin
   */
  readonly dns64Prefix?: string;
  /**
   * The cluster's DNS domain (kubelet's clusterDomain, kubeadm's networking.dnsDomain).
   * @default "cluster.local"
   */
  readonly clusterDomain?: string;
}

/** kubeadm's CoreDNS objects: the Deployment `coredns` in `kube-system` mounts the `Corefile` key of this ConfigMap. */
export const COREDNS_CONFIGMAP = { name: 'coredns', namespace: 'kube-system' } as const;

/** `forward` takes `[address]:port` for IPv6; IPv4 addresses as they are. */
function forwardTarget(address: string): string {
  return address.includes(':') ? `[${address}]:53` : `${address}:53`;
}

/**
 * kubeadm v1.28.15's Corefile (cmd/kubeadm/app/phases/addons/dns/manifests.go, CoreDNS v1.10.1) with two
 * changes: `forward` names `upstreams` instead of /etc/resolv.conf, and `dns64` is added when asked for.
 * Plugin order in the file does not matter: CoreDNS orders plugins by its plugin.cfg (dns64 runs before
 * kubernetes and forward, and asks the rest of the chain for the A records it translates).
 */
export function renderCorefile(props: CoreDnsConfigProps): string {
  const domain = props.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  const dns64 = props.dns64Prefix === undefined ? [] : [
    '    dns64 {',
    `       prefix ${props.dns64Prefix}`,
    '    }',
  ];
  return [
    '.:53 {',
    '    errors',
    '    health {',
    '       lameduck 5s',
    '    }',
    '    ready',
    `    kubernetes ${domain} in-addr.arpa ip6.arpa {`,
    '       pods insecure',
    '       fallthrough in-addr.arpa ip6.arpa',
    '       ttl 30',
    '    }',
    '    prometheus :9153',
    ...dns64,
    `    forward . ${props.upstreams.map(forwardTarget).join(' ')} {`,
    '       max_concurrent 1000',
    '    }',
    '    cache 30',
    '    loop',
    '    reload',
    '    loadbalance',
    '}',
    '',
  ].join('\n');
}

/**
 * The cluster DNS configuration as the `coredns` ConfigMap of kube-system, which kubeadm creates and its
 * CoreDNS Deployment mounts, so `kubectl apply -f dist` replaces kubeadm's Corefile and CoreDNS's
 * `reload` plugin picks the new one up. No other key is written: kubeadm's ConfigMap has only `Corefile`.
 */
export class CoreDnsConfig extends Construct {
  public readonly corefile: string;
  public readonly upstreams: readonly string[];
  public readonly dns64Prefix?: string;
  public readonly configMap: KubeConfigMap;

  constructor(scope: Construct, id: string, props: CoreDnsConfigProps) {
    super(scope, id);
    if (props.upstreams.length === 0 || props.upstreams.some(u => !ipaddr.isValid(u) || u.includes('/'))) {
      throw new Error(`invalid upstreams ${JSON.stringify(props.upstreams)}: must be a non-empty list of ip addresses`);
    }
    if (props.dns64Prefix !== undefined) {
      const prefix = parseCidr(props.dns64Prefix, 'ipv6');
      // CoreDNS v1.10.1's dns64 takes /32, /40, /48, /56, /64 and /96 (RFC 6052); the lab's NAT64 translates a /96.
      if (typeof prefix === 'string' || ![32, 40, 48, 56, 64, 96].includes(prefix.prefix)) {
        throw new Error(`invalid dns64Prefix ${JSON.stringify(props.dns64Prefix)}: must be an ipv6 network of length 32, 40, 48, 56, 64 or 96`);
      }
    }
    this.upstreams = [...props.upstreams];
    this.dns64Prefix = props.dns64Prefix;
    this.corefile = renderCorefile(props);
    this.configMap = new KubeConfigMap(this, 'Resource', {
      metadata: { ...COREDNS_CONFIGMAP },
      data: { Corefile: this.corefile },
    });
  }
}
