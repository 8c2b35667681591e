/**
 * The constructs stand on their own: a second, tiny cdk8s app builds a different dual-stack lab from
 * lib/index.ts alone, without lab.config.yaml or the lab's configuration loading.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import {
  CalicoInstallation, CalicoIpPool, DualStackService, KindClusterConfig, Multitool,
} from '../lib';
import { testApp } from './support/tmp';

const LIB = path.join(__dirname, '..', 'lib');

/** A small lab: IPv6-primary Services in namespace `demo`, its own pools and one worker. */
function secondApp() {
  const app = testApp();
  const network = new Chart(app, 'network', { disableResourceNameHashes: true });
  new CalicoIpPool(network, 'V4', { name: 'pods-v4', cidr: '10.10.0.0/16', blockSize: 24, vxlanMode: 'Always' });
  new CalicoIpPool(network, 'V6', { name: 'pods-v6', cidr: 'fd00:abcd::/48', blockSize: 120 });
  new CalicoInstallation(network, 'Calico', { apiServer: false });
  const apps = new Chart(app, 'apps', { namespace: 'demo', disableResourceNameHashes: true });
  const tool = new Multitool(apps, 'Tool', { name: 'probe', port: 9090 });
  new DualStackService(apps, 'Web', {
    name: 'probe', selector: tool.labels, port: 8080, targetPort: tool.port,
    ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'],
  });
  const kind = new KindClusterConfig(app, 'Kind', {
    name: 'demo', workers: 1,
    podSubnets: ['10.10.0.0/16', 'fd00:abcd::/48'], serviceSubnets: ['10.20.0.0/16', 'fd00:abce::/112'],
  });
  return { app, network, apps, kind };
}

/** The lib/ modules a file loads at run time (type-only imports are erased), transitively. */
function runtimeImports(file: string, seen = new Set<string>()): Set<string> {
  const source = fs.readFileSync(file, 'utf8');
  for (const m of source.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.\/[^']+)';/gms)) {
    const dep = path.join(path.dirname(file), `${m[1]}.ts`);
    if (!seen.has(dep)) {
      seen.add(dep);
      runtimeImports(dep, seen);
    }
  }
  return seen;
}

describe('a second app built from lib/index.ts', () => {
  test('builds a different dual-stack lab', () => {
    const { network, apps, kind } = secondApp();
    const net = Testing.synth(network);
    expect(net.map(o => `${o.kind}/${o.metadata.name}`)).toEqual(['IPPool/pods-v4', 'IPPool/pods-v6', 'Installation/default']);
    expect(net[0].spec).toMatchObject({ cidr: '10.10.0.0/16', blockSize: 24, vxlanMode: 'Always', natOutgoing: true });
    expect(net[1].spec).toMatchObject({ cidr: 'fd00:abcd::/48', blockSize: 120, vxlanMode: 'Always', ipipMode: 'Never' });

    const workload = Testing.synth(apps);
    expect(workload.map(o => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`))
      .toEqual(['ConfigMap/demo/probe-nginx', 'DaemonSet/demo/probe', 'Service/demo/probe']);
    const svc = workload.find(o => o.kind === 'Service')!;
    expect(svc.spec).toMatchObject({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'], selector: { app: 'probe' } });
    expect(svc.spec.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080, targetPort: 9090 }]);

    expect(kind.toJson()).toMatchObject({
      name: 'demo',
      networking: { ipFamily: 'dual', podSubnet: '10.10.0.0/16,fd00:abcd::/48', serviceSubnet: '10.20.0.0/16,fd00:abce::/112' },
    });
    expect((kind.toJson().nodes as unknown[])).toHaveLength(2);
  });

  test('synthesizes to files like any cdk8s app', () => {
    const { app } = secondApp();
    (app as App).synth();
    expect(fs.readdirSync(app.outdir).sort()).toEqual(['apps.k8s.yaml', 'network.k8s.yaml']);
  });

  test.each([
    'calico-ip-pool', 'calico-installation', 'calico-chart', 'multitool', 'dual-stack-service', 'multitool-chart',
    'kind-cluster-config', 'index',
  ])('%s does not load the module that reads lab.config.yaml', (name) => {
    const loaded = [...runtimeImports(path.join(LIB, `${name}.ts`))].map(f => path.relative(LIB, f));
    expect(loaded).not.toContain('lab-config.ts');
  });
});
