import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, Names } from 'cdk8s';
import { Construct } from 'constructs';
import { CalicoChart } from './calico-chart';
import { CalicoPolicyChart } from './calico-policy-chart';
import { FAMILY_NAME, LabIpFamilies, familiesOf } from './cidr';
import type { LabConfig } from './config-schema';
import { DEFAULT_LAB_CONFIG } from './config-schema';
import type { Routing } from './defaults';
import { LAB_VERSIONS } from './defaults';
import { DnsChart } from './dns-chart';
import { BgpLabFacts } from './bgp-lab-facts';
import { FrrRouterConfig } from './frr-router-config';
import { KindClusterConfig, kindIpFamilyOf } from './kind-cluster-config';
import { FACTS_VERSION, LabFacts, isLabFactsSection, writeFacts } from './lab-facts';
import { renderNginxConfig } from './multitool';
import { MultitoolChart } from './multitool-chart';
import { NetworkPolicyChart } from './network-policy-chart';
import { PolicyLessonFacts } from './policy-lesson-facts';
import { PolicyMatrixRow, policyMatrix } from './policy-matrix';
import { calicoHashRouterId, hashedRouterIdCollision } from './router-id';
import { TaygaConfig } from './tayga-config';

export interface LabProps {
  /**
   * The validated lab configuration (see `loadLabConfig`).
   * @default - the lab's README values (DEFAULT_LAB_CONFIG)
   */
  readonly config?: LabConfig;
}

/** The network-policy lesson's charts (`policy: on`), written to `policy/` of the output. */
export interface LabPolicy {
  readonly calico: CalicoPolicyChart;
  readonly kubernetes: NetworkPolicyChart;
}

/**
 * Everything the Calico IPv6 lab needs, from one configuration: the Calico chart, the multitool chart
 * (applied after Calico, so the files are numbered in apply order) and the kind cluster config; under
 * routing "bgp" also the BGP objects in the Calico chart and the external router's FRR configuration;
 * for an IPv6-only lab the DNS chart (CoreDNS with DNS64) and the NAT64 (tayga) config; with
 * `policy: on`, the policy lesson's two charts, which go to a subdirectory (see `placeChartFiles`).
 * Its charts are its children, so one app can hold several labs.
 */
export class Lab extends Construct {
  /** Every Lab under `root`, in construct order. */
  public static all(root: Construct): Lab[] {
    return root.node.findAll().filter((c): c is Lab => c instanceof Lab);
  }

  public readonly ipFamilies: LabIpFamilies;
  public readonly routing: Routing;
  public readonly calico: CalicoChart;
  public readonly multitool: MultitoolChart;
  public readonly kind: KindClusterConfig;
  /** The external router's configuration, under routing "bgp". */
  public readonly router?: FrrRouterConfig;
  /** CoreDNS's configuration; IPv6-only labs only. */
  public readonly dns?: DnsChart;
  /** The NAT64's configuration; IPv6-only labs only. */
  public readonly nat64?: TaygaConfig;
  /** The policy lesson's charts; undefined with `policy: off`. */
  public readonly policy?: LabPolicy;

  constructor(scope: Construct, id: string, props: LabProps = {}) {
    super(scope, id);
    const config = props.config ?? DEFAULT_LAB_CONFIG;
    const ipFamilies = config.ipFamilies;
    const families = familiesOf(ipFamilies);
    this.ipFamilies = ipFamilies;
    this.routing = config.routing;
    const serviceClusterIPs = families.map(f => config.serviceSubnets[f]!);
    const routerName = `${config.clusterName}-router`;
    const bgp = config.routing === 'bgp' ? {
      bgp: true,
      bgpConfiguration: { asNumber: config.bgp.asNumber, nodeToNodeMeshEnabled: true, serviceClusterIPs },
      // One global peer per family: every node opens a session per family to the router. Each block
      // goes out with its own node as next hop, whichever node relays it (keepOriginalNextHop).
      bgpPeers: families.map(family => ({
        name: `${routerName}-${family}`,
        peerIP: config.router.peerIPs[family],
        asNumber: config.router.asNumber,
        keepOriginalNextHop: true,
      })),
    } : {};
    this.calico = new CalicoChart(this, 'calico', { ipFamilies, ipv4Pool: config.pools.ipv4, ipv6Pool: config.pools.ipv6, ...bgp });
    this.multitool = new MultitoolChart(this, 'multitool', { ...config.multitool, ipFamilies });
    // Pods need the CNI; the dependency also makes cdk8s number the files 0000-, 0001- in apply order.
    this.multitool.addDependency(this.calico);
    if (config.nat64) {
      const name = config.clusterName;
      this.dns = new DnsChart(this, 'dns', {
        upstreams: [config.dns.upstream],
        dns64Prefix: config.nat64.prefix,
        forwarder: { name: `${name}-dns` },
      });
      this.dns.addDependency(this.multitool);
      const tool = this.multitool.multitool;
      this.nat64 = new TaygaConfig(this, 'Nat64', {
        prefix: config.nat64.prefix,
        ipv4Pool: config.nat64.ipv4Pool,
        gateway: { name: `${name}-nat64`, address: config.nat64.gateway },
        // The IPv4-only host serves the dual-stack lab's nginx.conf: it must answer over IPv4.
        ipv4Host: { name: `${name}-ipv4-host`, network: `${name}-ipv4`, image: tool.image, port: tool.port, nginxConfig: renderNginxConfig(tool.port) },
      });
    }
    this.kind = new KindClusterConfig(this, 'KindCluster', {
      name: config.clusterName,
      workers: config.workers,
      nodeImage: config.kindNodeImage,
      ipFamily: kindIpFamilyOf(ipFamilies),
      podSubnets: families.map(f => config.pools[f]!.cidr),
      serviceSubnets: families.map(f => config.serviceSubnets[f]!),
    });
    if (config.routing === 'bgp') {
      // Every node's calico-node reports its BGP sessions, for verify and explain to read from Calico itself.
      this.calico.addNodeStatuses(this.kind.nodes.map(n => ({ node: n.name })));
      this.router = new FrrRouterConfig(this, 'Router', {
        hostname: routerName,
        asNumber: config.router.asNumber,
        families,
        addresses: config.router.peerIPs,
        nodeNetwork: config.router.network,
        clusterAsNumber: config.bgp.asNumber,
        pools: families.map(f => config.pools[f]!),
        serviceClusterIPs,
      });
      if (!families.includes('ipv4')) {
        checkHashedRouterIds(this.router.routerId, this.kind.nodes.map(n => n.name));
      }
      new BgpLabFacts(this, 'BgpFacts', {
        bgpConfiguration: this.calico.bgpConfiguration!,
        bgpPeers: this.calico.bgpPeers,
        nodeStatuses: this.calico.nodeStatuses,
        router: this.router,
        routerImage: config.router.image,
      });
    }
    if (config.policy === 'on') {
      const podLabels = this.multitool.multitool.labels;
      // The Calico policy first: applied in file order, the ping allow exists before the default deny.
      const calico = new CalicoPolicyChart(this, 'calico-policy', { podLabels });
      const kubernetes = new NetworkPolicyChart(this, 'network-policy', {
        podLabels,
        appPort: this.multitool.multitool.port,
        externalHostIpv4: config.externalHost.ipv4,
        externalHostIpv6: config.externalHost.ipv6,
        services: this.multitool.services.map(s => ({ name: s.name, targetPort: s.targetPort })),
      });
      calico.addDependency(this.multitool);
      kubernetes.addDependency(calico);
      this.policy = { calico, kubernetes };
      new PolicyLessonFacts(this, 'PolicyFacts', { calico, kubernetes, matrix: labPolicyMatrix(this) });
    }
  }

  /**
   * What the scripts need to know about this lab, from what it built (lib/lab-facts.ts; written as
   * `<dist>/lab/facts.json`). Keys come in a fixed order; sections of constructs implementing
   * `ILabFactsSection` follow, in construct order.
   */
  public facts(): LabFacts {
    const pools = this.calico.pools;
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
        services: this.multitool.services.map(s => ({
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
      // Only when not the default: the default lab's facts stay as they were (scripts read "vxlan" then).
      ...(this.routing === 'vxlan' ? {} : { routing: this.routing }),
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
 * Without IPv4, every calico-node's BIRD takes the router ID hashed from its node name
 * (`CALICO_ROUTER_ID=hash`): IDs that collide break the node-to-node mesh, and FRR refuses a peer whose
 * ID is its own. Refused here rather than found as a session that never comes up.
 */
function checkHashedRouterIds(routerId: string, nodeNames: readonly string[]): void {
  const router = nodeNames.find(n => calicoHashRouterId(n) === routerId);
  if (router) {
    throw new Error(`invalid router id ${routerId}: node ${JSON.stringify(router)} has it too (calico-node's CALICO_ROUTER_ID=hash); choose another cluster name`);
  }
  const nodes = hashedRouterIdCollision(nodeNames);
  if (nodes) {
    throw new Error(`invalid node names: ${JSON.stringify(nodes.a)} and ${JSON.stringify(nodes.b)} hash to the same router id ${nodes.id} (calico-node's CALICO_ROUTER_ID=hash); choose another cluster name`);
  }
}

/** The kube-dns Service kubeadm creates in front of the cluster DNS pods. */
const CLUSTER_DNS_SERVICE = 'kube-dns';

/**
 * The policy lesson's allowed/denied matrix for `lab` (see lib/policy-matrix.ts), from its constructs;
 * empty with `policy: off`.
 */
export function labPolicyMatrix(lab: Lab): PolicyMatrixRow[] {
  if (!lab.policy) return [];
  const { kubernetes, calico } = lab.policy;
  const services = lab.multitool.services;
  return policyMatrix({
    namespace: kubernetes.peers.namespace,
    families: lab.ipFamilies,
    podLabels: kubernetes.peers.podLabels,
    appPort: kubernetes.peers.port,
    services: services.map(s => ({ name: s.name, port: s.port, families: [...s.ipFamilies] })),
    externalHost: { name: `${lab.kind.clusterName}-external`, ...kubernetes.externalHost.addresses },
    dns: { namespace: kubernetes.dns.dnsNamespace, podLabels: kubernetes.dns.dnsPodLabels, port: kubernetes.dns.port, serviceName: CLUSTER_DNS_SERVICE },
    policies: {
      dns: kubernetes.dns.name,
      externalHost: kubernetes.externalHost.name,
      peers: kubernetes.peers.name,
      defaultDeny: kubernetes.defaultDeny.name,
      echo: calico.echo.name,
    },
  });
}

/** A chart whose file goes to a subdirectory of the synth output rather than beside the others. */
interface SubdirectoryChart extends Chart {
  readonly outputDirectory: string;
}

function isSubdirectoryChart(chart: Chart): chart is SubdirectoryChart {
  return typeof (chart as Partial<SubdirectoryChart>).outputDirectory === 'string';
}

/** The charts of `app` whose files go to a subdirectory (the policy lesson's `policy/`). */
export function subdirectoryCharts(app: App): Chart[] {
  return app.charts.filter(isSubdirectoryChart);
}

/**
 * Moves the file of each chart that names an `outputDirectory` there, renumbered in apply order from
 * 0000 within it: `0002-calico-policy.k8s.yaml` becomes `policy/0000-calico-policy.k8s.yaml`.
 * `kubectl apply -f dist` does not recurse, so it applies the lab and leaves the subdirectory for a
 * step of its own. Call it after `nameChartFilesById`.
 */
export function placeChartFiles(app: App, outdir: string): void {
  const ext = app.outputFileExtension;
  const files = fs.readdirSync(outdir).filter(f => f.endsWith(ext)).sort();
  const counters = new Map<string, number>();
  for (const file of files) {
    const chart = app.charts.find(c => [c.node.id, Names.toDnsLabel(c)].some(name => new RegExp(`^(\\d{4}-)?${escapeRegExp(name)}${escapeRegExp(ext)}$`).test(file)));
    if (!chart || !isSubdirectoryChart(chart)) continue;
    const n = counters.get(chart.outputDirectory) ?? 0;
    counters.set(chart.outputDirectory, n + 1);
    const dir = path.join(outdir, chart.outputDirectory);
    fs.mkdirSync(dir, { recursive: true });
    const name = file.replace(/^(\d{4}-)?/, `${String(n).padStart(4, '0')}-`);
    fs.renameSync(path.join(outdir, file), path.join(dir, name));
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
