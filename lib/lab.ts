import * as fs from 'fs';
import * as path from 'path';
import { App, Names } from 'cdk8s';
import { Construct } from 'constructs';
import { CalicoChart } from './calico-chart';
import { LabIpFamilies, familiesOf } from './cidr';
import type { LabConfig } from './config-schema';
import { DEFAULT_LAB_CONFIG } from './config-schema';
import { DnsChart } from './dns-chart';
import { KindClusterConfig, kindIpFamilyOf } from './kind-cluster-config';
import { MultitoolChart } from './multitool-chart';
import { TaygaConfig } from './tayga-config';

export interface LabProps {
  /**
   * The validated lab configuration (see `loadLabConfig`).
   * @default - the lab's README values (DEFAULT_LAB_CONFIG)
   */
  readonly config?: LabConfig;
}

/**
 * Everything the Calico IPv6 lab needs, from one configuration: the Calico chart, the multitool chart
 * (applied after Calico, so the files are numbered in apply order) and the kind cluster config; for an
 * IPv6-only lab also the DNS chart (CoreDNS with DNS64) and the NAT64 (tayga) config.
 * Its charts are its children, so one app can hold several labs.
 */
export class Lab extends Construct {
  public readonly ipFamilies: LabIpFamilies;
  public readonly calico: CalicoChart;
  public readonly multitool: MultitoolChart;
  public readonly kind: KindClusterConfig;
  /** CoreDNS's configuration; IPv6-only labs only. */
  public readonly dns?: DnsChart;
  /** The NAT64's configuration; IPv6-only labs only. */
  public readonly nat64?: TaygaConfig;

  constructor(scope: Construct, id: string, props: LabProps = {}) {
    super(scope, id);
    const config = props.config ?? DEFAULT_LAB_CONFIG;
    const ipFamilies = config.ipFamilies;
    this.ipFamilies = ipFamilies;
    this.calico = new CalicoChart(this, 'calico', { ipFamilies, ipv4Pool: config.pools.ipv4, ipv6Pool: config.pools.ipv6 });
    this.multitool = new MultitoolChart(this, 'multitool', { ...config.multitool, ipFamilies });
    // Pods need the CNI; the dependency also makes cdk8s number the files 0000-, 0001- in apply order.
    this.multitool.addDependency(this.calico);
    if (config.nat64) {
      this.dns = new DnsChart(this, 'dns', { upstreams: [config.dns.upstream], dns64Prefix: config.nat64.prefix });
      this.dns.addDependency(this.multitool);
      this.nat64 = new TaygaConfig(this, 'Nat64', { prefix: config.nat64.prefix, ipv4Pool: config.nat64.ipv4Pool });
    }
    const families = familiesOf(ipFamilies);
    this.kind = new KindClusterConfig(this, 'KindCluster', {
      name: config.clusterName,
      workers: config.workers,
      nodeImage: config.kindNodeImage,
      ipFamily: kindIpFamilyOf(ipFamilies),
      podSubnets: families.map(f => config.pools[f]!.cidr),
      serviceSubnets: families.map(f => config.serviceSubnets[f]!),
    });
  }
}

/**
 * cdk8s names a nested chart's file after its whole construct path plus a hash
 * (`0000-lab-calico-c82f8120.k8s.yaml`). When every chart id in the app is unique, as in the lab's own
 * synth, this renames the files after the chart ids (`0000-calico.k8s.yaml`), the names people and
 * scripts read; otherwise it leaves cdk8s's names alone. Call it after `app.synth()`.
 */
export function nameChartFilesById(app: App, outdir: string): void {
  const ids = app.charts.map(c => c.node.id);
  if (new Set(ids).size !== ids.length) return;
  const ext = app.outputFileExtension;
  const files = fs.readdirSync(outdir);
  for (const chart of app.charts) {
    const label = Names.toDnsLabel(chart);
    for (const file of files) {
      const prefix = /^(\d{4}-)?/.exec(file)![0];
      if (file === `${prefix}${label}${ext}` && label !== chart.node.id) {
        fs.renameSync(path.join(outdir, file), path.join(outdir, `${prefix}${chart.node.id}${ext}`));
      }
    }
  }
}
