import { createHash } from 'crypto';
import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { COREDNS_CONFIGMAP, CoreDnsConfig, CoreDnsConfigProps, renderForwarderCorefile } from './coredns-config';
import { DNS_FORWARDER_IMAGE } from './defaults';
import type { ILabFactsSection, LabFacts } from './lab-facts';
import { checkDnsLabel } from './validate';

/** The container deploy.sh runs as the cluster's upstream resolver, at the first of `upstreams`. */
export interface DnsForwarderProps {
  /** The container's name (and hostname) on kind's Docker network. */
  readonly name: string;
  /**
   * Its image: CoreDNS.
   * @default - CoreDNS v1.10.1, pinned by digest (DNS_FORWARDER_IMAGE)
   */
  readonly image?: string;
}

export interface DnsChartProps extends ChartProps, CoreDnsConfigProps {
  /**
   * The DNS forwarder deploy.sh starts at the first upstream, named in the lab's facts (`dns64`).
   * @default - none: the upstreams are the caller's to provide
   */
  readonly forwarder?: DnsForwarderProps;
}

/** The pod-template annotation deploy.sh sets on the coredns Deployment: a new Corefile rolls its pods. */
export const COREFILE_HASH_ANNOTATION = 'calico-ipv6-lab/corefile-sha256';

/**
 * The cluster DNS of an IPv6-only lab: CoreDNS's configuration (the `coredns` ConfigMap of kube-system),
 * forwarding to a resolver reachable over IPv6 and synthesizing AAAA records for IPv4-only names (DNS64).
 * Its own chart, so the dist has it in its own file (`0002-dns.k8s.yaml`), which a dual-stack lab lacks.
 * Its facts section (`dns64`) tells the scripts what to start and roll: the forwarder container and its
 * Corefile, and kubeadm's CoreDNS Deployment with the Corefile's hash.
 */
export class DnsChart extends Chart implements ILabFactsSection {
  public readonly coreDns: CoreDnsConfig;
  public readonly forwarder?: Required<DnsForwarderProps> & { readonly address: string; readonly corefile: string };
  public readonly factsKey = 'dns64';

  constructor(scope: Construct, id: string, props: DnsChartProps) {
    super(scope, id, { disableResourceNameHashes: true, ...props });
    this.coreDns = new CoreDnsConfig(this, 'CoreDns', props);
    if (props.forwarder) {
      checkDnsLabel('forwarder name', props.forwarder.name);
      const address = this.coreDns.upstreams[0];
      this.forwarder = {
        name: props.forwarder.name,
        image: props.forwarder.image ?? DNS_FORWARDER_IMAGE,
        address,
        corefile: renderForwarderCorefile(address),
      };
    }
  }

  public labFacts(): NonNullable<LabFacts['dns64']> {
    return {
      ...(this.coreDns.dns64Prefix === undefined ? {} : { prefix: this.coreDns.dns64Prefix }),
      upstreams: [...this.coreDns.upstreams],
      coreDns: {
        namespace: COREDNS_CONFIGMAP.namespace,
        configMap: COREDNS_CONFIGMAP.name,
        // kubeadm names the Deployment after the ConfigMap it mounts.
        deployment: COREDNS_CONFIGMAP.name,
        corefileSha256: createHash('sha256').update(this.coreDns.corefile).digest('hex'),
        hashAnnotation: COREFILE_HASH_ANNOTATION,
      },
      ...(this.forwarder ? { forwarder: { ...this.forwarder } } : {}),
    };
  }
}
