import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { CoreDnsConfig, CoreDnsConfigProps } from './coredns-config';

export type DnsChartProps = ChartProps & CoreDnsConfigProps;

/**
 * The cluster DNS of an IPv6-only lab: CoreDNS's configuration (the `coredns` ConfigMap of kube-system),
 * forwarding to a resolver reachable over IPv6 and synthesizing AAAA records for IPv4-only names (DNS64).
 * Its own chart, so the dist has it in its own file (`0002-dns.k8s.yaml`), which a dual-stack lab lacks.
 */
export class DnsChart extends Chart {
  public readonly coreDns: CoreDnsConfig;

  constructor(scope: Construct, id: string, props: DnsChartProps) {
    super(scope, id, { disableResourceNameHashes: true, ...props });
    this.coreDns = new CoreDnsConfig(this, 'CoreDns', props);
  }
}
