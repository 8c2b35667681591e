import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Names } from 'cdk8s';
import { Construct } from 'constructs';
import { CalicoChart } from './calico-chart';
import { FAMILY_NAME } from './cidr';
import type { LabConfig } from './config-schema';
import { DEFAULT_LAB_CONFIG } from './config-schema';
import type { Routing } from './defaults';
import { LAB_VERSIONS } from './defaults';
import { FrrRouterConfig } from './frr-router-config';
import { KindClusterConfig } from './kind-cluster-config';
import { FACTS_VERSION, LabFacts, isLabFactsSection, writeFacts } from './lab-facts';
import { MultitoolChart } from './multitool-chart';

export interface LabProps {
  /**
   * The validated lab configuration (see `loadLabConfig`).
   * @default - the lab's README values (DEFAULT_LAB_CONFIG)
   */
  readonly config?: LabConfig;
}

/**
 * Everything the Calico IPv6 lab needs, from one configuration: the Calico chart, the multitool chart
 * (applied after Calico, so the files are numbered in apply order) and the kind cluster config; under
 * routing "bgp" also the BGP objects in the Calico chart and the external router's FRR configuration.
 * Its charts are its children, so one app can hold several labs.
 */
export class Lab extends Construct {
  /** Every Lab under `root`, in construct order. */
  public static all(root: Construct): Lab[] {
    return root.node.findAll().filter((c): c is Lab => c instanceof Lab);
  }

  public readonly routing: Routing;
  public readonly calico: CalicoChart;
  public readonly multitool: MultitoolChart;
  public readonly kind: KindClusterConfig;
  /** The external router's configuration, under routing "bgp". */
  public readonly router?: FrrRouterConfig;

  constructor(scope: Construct, id: string, props: LabProps = {}) {
    super(scope, id);
    const config = props.config ?? DEFAULT_LAB_CONFIG;
    this.routing = config.routing;
    const serviceClusterIPs = [config.serviceSubnets.ipv4, config.serviceSubnets.ipv6];
    const routerName = `${config.clusterName}-router`;
    const bgp = config.routing === 'bgp' ? {
      bgp: true,
      bgpConfiguration: { asNumber: config.bgp.asNumber, nodeToNodeMeshEnabled: true, serviceClusterIPs },
      // One global peer per family: every node opens an IPv4 and an IPv6 session to the router. Each block
      // goes out with its own node as next hop, whichever node relays it (keepOriginalNextHop).
      bgpPeers: (['ipv4', 'ipv6'] as const).map(family => ({
        name: `${routerName}-${family}`,
        peerIP: config.router.peerIPs[family],
        asNumber: config.router.asNumber,
        keepOriginalNextHop: true,
      })),
    } : {};
    this.calico = new CalicoChart(this, 'calico', { ipv4Pool: config.pools.ipv4, ipv6Pool: config.pools.ipv6, ...bgp });
    this.multitool = new MultitoolChart(this, 'multitool', config.multitool);
    // Pods need the CNI; the dependency also makes cdk8s number the files 0000-, 0001- in apply order.
    this.multitool.addDependency(this.calico);
    this.kind = new KindClusterConfig(this, 'KindCluster', {
      name: config.clusterName,
      workers: config.workers,
      nodeImage: config.kindNodeImage,
      podSubnets: [config.pools.ipv4.cidr, config.pools.ipv6.cidr],
      serviceSubnets: [config.serviceSubnets.ipv4, config.serviceSubnets.ipv6],
    });
    if (config.routing === 'bgp') {
      this.router = new FrrRouterConfig(this, 'Router', {
        hostname: routerName,
        asNumber: config.router.asNumber,
        addresses: config.router.peerIPs,
        nodeNetwork: config.router.network,
        clusterAsNumber: config.bgp.asNumber,
        pools: [config.pools.ipv4, config.pools.ipv6],
        serviceClusterIPs,
      });
    }
  }

  /**
   * What the scripts need to know about this lab, from what it built (lib/lab-facts.ts; written as
   * `<dist>/lab/facts.json`). Keys come in a fixed order; sections of constructs implementing
   * `ILabFactsSection` follow, in construct order.
   */
  public facts(): LabFacts {
    const pools = [this.calico.ipv4Pool, this.calico.ipv6Pool];
    const perFamily = (values: readonly string[]) =>
      Object.fromEntries(values.map(v => [v.includes(':') ? 'ipv6' : 'ipv4', v]));
    const tool = this.multitool.multitool;
    const facts: LabFacts = {
      factsVersion: FACTS_VERSION,
      name: this.kind.clusterName,
      families: pools.map(p => FAMILY_NAME[p.family] as 'IPv4' | 'IPv6'),
      versions: { ...LAB_VERSIONS },
      cluster: {
        kindConfig: KindClusterConfig.FILE.split(path.sep).join('/'),
        nodeImage: this.kind.nodeImage,
        nodes: this.kind.nodes.map(n => ({ name: n.name, role: n.role })),
        podSubnets: perFamily(this.kind.podSubnets),
        serviceSubnets: perFamily(this.kind.serviceSubnets),
      },
      calico: {
        bgp: this.calico.installation.bgp,
        apiServer: this.calico.installation.apiServer !== undefined,
        pools: pools.map(p => ({
          name: p.name,
          family: FAMILY_NAME[p.family] as 'IPv4' | 'IPv6',
          cidr: p.spec.cidr,
          blockSize: p.spec.blockSize!,
          vxlanMode: p.spec.vxlanMode as 'Never' | 'Always' | 'CrossSubnet',
          ipipMode: p.spec.ipipMode as 'Never' | 'Always' | 'CrossSubnet',
          natOutgoing: p.spec.natOutgoing!,
        })),
      },
      workload: {
        daemonSet: {
          name: tool.name,
          namespace: tool.namespace,
          selector: Object.entries(tool.labels).map(([k, v]) => `${k}=${v}`).join(','),
          image: tool.image,
          port: tool.port,
        },
        services: [this.multitool.dualStack, this.multitool.ipv6Only].map(s => ({
          name: s.name,
          namespace: s.namespace,
          ipFamilyPolicy: s.ipFamilyPolicy,
          ipFamilies: [...s.ipFamilies],
          port: s.port,
          targetPort: s.targetPort,
        })),
      },
      externalHost: {
        name: `${this.kind.clusterName}-external`,
        image: tool.image,
        port: tool.port,
        nginxConfig: tool.nginxConfig,
      },
      images: containerImages(this),
    };
    const sections = this.node.findAll().filter(isLabFactsSection);
    for (const section of sections) {
      if (section.factsKey in facts) {
        throw new Error(`invalid facts section ${JSON.stringify(section.factsKey)} of ${section.node.path}: the key is already taken`);
      }
      (facts as Record<string, unknown>)[section.factsKey] = section.labFacts();
    }
    return facts;
  }

  /** Writes `facts()` to `<outdir>/lab/facts.json`; returns the file. */
  public writeFactsTo(outdir: string): string {
    return writeFacts(this.facts(), outdir);
  }
}

/** Every container image the Kubernetes objects under `scope` run, sorted and without duplicates. */
function containerImages(scope: Construct): string[] {
  const images = new Set<string>();
  const visit = (value: unknown, key?: string): void => {
    if (Array.isArray(value)) {
      value.forEach(v => visit(v, key));
    } else if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      if ((key === 'containers' || key === 'initContainers') && typeof obj.image === 'string') images.add(obj.image);
      for (const [k, v] of Object.entries(obj)) visit(v, k);
    }
  };
  scope.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).forEach(o => visit(o.toJson()));
  return [...images].sort();
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
