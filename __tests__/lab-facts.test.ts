import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { Lab } from '../lib/lab';
import { FACTS_FILE, ILabFactsSection, LabFacts, labFactsJsonSchema } from '../lib/lab-facts';
import { resolveLabConfig } from '../lib/lab-config';
import { KIND_NODE_IMAGE } from '../lib/defaults';
import { MULTITOOL_DEFAULT_IMAGE } from '../lib/multitool';
import { find, REPO_ROOT, renderLabFor, RenderedLab } from './support/synth';

const facts = (lab: RenderedLab): LabFacts => JSON.parse(lab.files[FACTS_FILE]);

const validate = new Ajv({ allErrors: true, strict: true }).compile(labFactsJsonSchema());

describe('the lab facts (<dist>/lab/facts.json)', () => {
  const lab = renderLabFor();
  const f = facts(lab);

  test('defaults: name, families, versions', () => {
    expect(f.factsVersion).toBe(1);
    expect(f.name).toBe('ipv6-lab');
    expect(f.families).toEqual(['IPv4', 'IPv6']);
    expect(f.versions).toEqual({ kubernetes: 'v1.28.15', calico: 'v3.28.5', tigeraOperator: 'v1.34.13', kind: 'v0.25.0' });
  });

  test('defaults: the nodes as kind names them, the node image and the subnets', () => {
    expect(f.cluster).toEqual({
      kindConfig: 'kind/cluster.yaml',
      nodeImage: KIND_NODE_IMAGE,
      nodes: [
        { name: 'ipv6-lab-control-plane', role: 'control-plane' },
        { name: 'ipv6-lab-worker', role: 'worker' },
        { name: 'ipv6-lab-worker2', role: 'worker' },
      ],
      podSubnets: { ipv4: '192.168.0.0/16', ipv6: 'fd00:10:244::/48' },
      serviceSubnets: { ipv4: '10.96.0.0/16', ipv6: 'fd00:10:96::/112' },
    });
  });

  test('defaults: the pools as the lab shows them, BGP off, the APIServer on', () => {
    expect(f.calico).toEqual({
      bgp: false,
      apiServer: true,
      pools: [
        { name: 'default-ipv4-ippool', family: 'IPv4', cidr: '192.168.0.0/16', blockSize: 26, vxlanMode: 'CrossSubnet', ipipMode: 'Never', natOutgoing: true },
        { name: 'default-ipv6-ippool', family: 'IPv6', cidr: 'fd00:10:244::/48', blockSize: 122, vxlanMode: 'Always', ipipMode: 'Never', natOutgoing: true },
      ],
    });
  });

  test('defaults: the workload, its Services, the external host and the images', () => {
    expect(f.workload.daemonSet).toEqual({ name: 'multitool', namespace: 'default', selector: 'app=multitool', image: MULTITOOL_DEFAULT_IMAGE, port: 8080 });
    expect(f.workload.services).toEqual([
      { name: 'multitool-dual-stack', namespace: 'default', ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'], port: 80, targetPort: 8080 },
      { name: 'multitool-ipv6-only', namespace: 'default', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'], port: 80, targetPort: 8080 },
    ]);
    expect(f.externalHost).toMatchObject({ name: 'ipv6-lab-external', image: MULTITOOL_DEFAULT_IMAGE, port: 8080 });
    expect(f.externalHost.nginxConfig).toBe(find(lab.objects, 'ConfigMap', 'multitool-nginx').data!['nginx.conf']);
    expect(f.images).toEqual([MULTITOOL_DEFAULT_IMAGE]);
  });

  test('custom: workers 3, another name, other pools and ports all reach the facts', () => {
    const custom = renderLabFor({
      clusterName: 'other-lab', workers: 3,
      pools: { ipv4: { cidr: '10.244.0.0/16', blockSize: 24, natOutgoing: false }, ipv6: { cidr: 'fd00:abcd::/48', blockSize: 120, vxlanMode: 'CrossSubnet' } },
      serviceSubnets: { ipv4: '10.97.0.0/16', ipv6: 'fd00:30::/112' },
      multitool: { image: 'registry.example/multitool:1', port: 9090, servicePort: 8081 },
    });
    const c = facts(custom);
    expect(c.name).toBe('other-lab');
    expect(c.cluster.nodes.map(n => `${n.name}/${n.role}`)).toEqual([
      'other-lab-control-plane/control-plane', 'other-lab-worker/worker', 'other-lab-worker2/worker', 'other-lab-worker3/worker',
    ]);
    expect(c.cluster.podSubnets).toEqual({ ipv4: '10.244.0.0/16', ipv6: 'fd00:abcd::/48' });
    expect(c.cluster.serviceSubnets).toEqual({ ipv4: '10.97.0.0/16', ipv6: 'fd00:30::/112' });
    expect(c.calico.pools[0]).toMatchObject({ cidr: '10.244.0.0/16', blockSize: 24, natOutgoing: false, vxlanMode: 'CrossSubnet' });
    expect(c.calico.pools[1]).toMatchObject({ cidr: 'fd00:abcd::/48', blockSize: 120, natOutgoing: true, vxlanMode: 'CrossSubnet' });
    expect(c.workload.daemonSet).toMatchObject({ image: 'registry.example/multitool:1', port: 9090 });
    expect(c.workload.services.map(s => [s.port, s.targetPort])).toEqual([[8081, 9090], [8081, 9090]]);
    expect(c.externalHost).toMatchObject({ name: 'other-lab-external', image: 'registry.example/multitool:1', port: 9090 });
    expect(c.externalHost.nginxConfig).toContain('listen [::]:9090;');
    expect(c.images).toEqual(['registry.example/multitool:1']);
    expect(validate(c)).toBe(true);
  });

  test('agree with the manifests and the kind config they sit beside', () => {
    for (const l of [lab, renderLabFor({ clusterName: 'lab-b', workers: 1, pools: { ipv6: { cidr: 'fd00:20::/56' } }, multitool: { port: 9000 } })]) {
      const x = facts(l);
      expect(x.name).toBe(l.kind.name);
      expect(x.cluster.nodes.map(n => n.role)).toEqual(l.kind.nodes.map((n: any) => n.role));
      expect(l.kind.nodes.every((n: any) => n.image === x.cluster.nodeImage)).toBe(true);
      expect(Object.values(x.cluster.podSubnets).join(',')).toBe(l.kind.networking.podSubnet);
      expect(Object.values(x.cluster.serviceSubnets).join(',')).toBe(l.kind.networking.serviceSubnet);
      for (const pool of x.calico.pools) {
        expect(find(l.objects, 'IPPool', pool.name).spec).toMatchObject({
          cidr: pool.cidr, blockSize: pool.blockSize, vxlanMode: pool.vxlanMode, ipipMode: pool.ipipMode, natOutgoing: pool.natOutgoing,
        });
      }
      const ds = find(l.objects, 'DaemonSet', x.workload.daemonSet.name);
      expect(ds.metadata.namespace).toBe(x.workload.daemonSet.namespace);
      expect(Object.entries(ds.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',')).toBe(x.workload.daemonSet.selector);
      expect(ds.spec.template.spec.containers[0]).toMatchObject({ image: x.workload.daemonSet.image, ports: [{ containerPort: x.workload.daemonSet.port }] });
      for (const s of x.workload.services) {
        const svc = find(l.objects, 'Service', s.name);
        expect(svc.metadata.namespace).toBe(s.namespace);
        expect(svc.spec).toMatchObject({ ipFamilyPolicy: s.ipFamilyPolicy, ipFamilies: s.ipFamilies, ports: [{ port: s.port, targetPort: s.targetPort }] });
      }
    }
  });

  test('defaults: no dns64 or nat64 section (a dual-stack lab has neither)', () => {
    expect(f).not.toHaveProperty('dns64');
    expect(f).not.toHaveProperty('nat64');
  });

  test('IPv6-only: the dns64 and nat64 sections name what deploy starts, at the configured addresses', () => {
    const v6 = renderLabFor({ ipFamilies: ['IPv6'] });
    const x = facts(v6);
    expect(x.families).toEqual(['IPv6']);
    expect(x.dns64).toMatchObject({
      prefix: 'fd00:10:64::/96', upstreams: ['fc00:f853:ccd:e793::53'],
      coreDns: { namespace: 'kube-system', configMap: 'coredns', deployment: 'coredns', hashAnnotation: 'calico-ipv6-lab/corefile-sha256' },
      forwarder: { name: 'ipv6-lab-dns', address: 'fc00:f853:ccd:e793::53', image: expect.stringMatching(/^registry\.k8s\.io\/coredns\/coredns:v1\.10\.1@sha256:[0-9a-f]{64}$/) },
    });
    const corefile = find(v6.objects, 'ConfigMap', 'coredns').data!.Corefile;
    expect(x.dns64!.coreDns.corefileSha256).toBe(require('crypto').createHash('sha256').update(corefile).digest('hex'));
    expect(x.dns64!.forwarder!.corefile).toContain('    bind fc00:f853:ccd:e793::53\n');
    expect(x.dns64!.forwarder!.corefile).toContain('    forward . 127.0.0.11\n');
    expect(x.nat64).toMatchObject({
      prefix: 'fd00:10:64::/96', ipv4Pool: '192.168.255.0/24', ipv4Address: '192.168.255.1', tunDevice: 'nat64', config: 'nat64/tayga.conf',
      gateway: { name: 'ipv6-lab-nat64', address: 'fc00:f853:ccd:e793::64', image: 'calico-ipv6-lab/tayga:0.9.2-8' },
      ipv4Host: { name: 'ipv6-lab-ipv4-host', network: 'ipv6-lab-ipv4', image: MULTITOOL_DEFAULT_IMAGE, port: 8080 },
    });
    expect(x.nat64!.gateway!.dockerfile).toBe('FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends tayga=0.9.2-8 iproute2 && rm -rf /var/lib/apt/lists/*\n');
    // The IPv4-only host answers over IPv4: the dual-stack nginx.conf, not the pods' IPv6-only one.
    expect(x.nat64!.ipv4Host!.nginxConfig).toMatch(/^\s*listen 8080;/m);
    expect(x.externalHost.nginxConfig).not.toMatch(/^\s*listen 8080;/m);
    expect(validate(x)).toBe(true);
  });

  test('IPv6-only, custom: the names follow the cluster name, the addresses the configuration', () => {
    const x = facts(renderLabFor({ ipFamilies: ['IPv6'], clusterName: 'v6lab', nat64: { gateway: 'fc00:f853:ccd:e793::6:4' }, dns: { upstream: 'fc00:f853:ccd:e793::5:3' }, multitool: { port: 9090 } }));
    expect(x.dns64!.forwarder).toMatchObject({ name: 'v6lab-dns', address: 'fc00:f853:ccd:e793::5:3' });
    expect(x.nat64!.gateway).toMatchObject({ name: 'v6lab-nat64', address: 'fc00:f853:ccd:e793::6:4' });
    expect(x.nat64!.ipv4Host).toMatchObject({ name: 'v6lab-ipv4-host', network: 'v6lab-ipv4', port: 9090 });
    expect(x.nat64!.ipv4Host!.nginxConfig).toContain('listen 9090;');
    expect(validate(x)).toBe(true);
  });

  test('match their JSON Schema (lab.facts.schema.json); the committed schema is the generated one', () => {
    expect(validate(f)).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'lab.facts.schema.json'), 'utf8'))).toEqual(labFactsJsonSchema());
  });

  test('fails schema validation with an unknown key or a missing one', () => {
    expect(validate({ ...f, tunnels: 'vxlan' })).toBe(false);
    expect(validate({ ...f, routing: 'ipip' })).toBe(false);
    const { images: _images, ...withoutImages } = f;
    expect(validate(withoutImages)).toBe(false);
  });

  test('the file is pretty-printed JSON with a trailing newline, and deterministic', () => {
    const text = lab.files[FACTS_FILE];
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.startsWith('{\n  "factsVersion": 1,\n  "name": "ipv6-lab",\n')).toBe(true);
    expect(renderLabFor().files[FACTS_FILE]).toBe(text);
  });

  test('the committed dist/lab/facts.json is the defaults\' facts', () => {
    expect(fs.readFileSync(path.join(REPO_ROOT, 'dist', FACTS_FILE), 'utf8')).toBe(lab.files[FACTS_FILE]);
  });

  test('a second app\'s Lab has facts too, without any configuration file', () => {
    const app = new App({ outdir: lab.dir });
    const other = new Lab(app, 'other', { config: resolveLabConfig({ clusterName: 'lab-two', workers: 1 }) });
    expect(other.facts().cluster.nodes.map(n => n.name)).toEqual(['lab-two-control-plane', 'lab-two-worker']);
  });

  test('a construct implementing ILabFactsSection adds its section after the base keys', () => {
    class Router extends Construct implements ILabFactsSection {
      public readonly factsKey = 'router';
      public labFacts() { return { asNumber: 64512 }; }
    }
    const app = new App({ outdir: lab.dir });
    const l = new Lab(app, 'lab');
    new Router(new Chart(l, 'extra'), 'Router');
    const withSection = l.facts() as LabFacts & { router?: unknown };
    expect(withSection.router).toEqual({ asNumber: 64512 });
    expect(Object.keys(withSection).slice(-2)).toEqual(['images', 'router']);
  });

  test('fails if a section takes a key the facts already have', () => {
    class Clash extends Construct implements ILabFactsSection {
      public readonly factsKey = 'calico';
      public labFacts() { return {}; }
    }
    const app = new App({ outdir: lab.dir });
    const l = new Lab(app, 'lab');
    new Clash(new Chart(l, 'extra'), 'Clash');
    expect(() => l.facts()).toThrow(/invalid facts section "calico" of lab\/extra\/Clash: the key is already taken/);
  });
});

describe('the bgp section of the facts (routing: bgp)', () => {
  const lab = renderLabFor({ routing: 'bgp' });
  const f = facts(lab);

  test('defaults: routing, the cluster AS, the Service ranges, a peer per family, a node status per node, the router', () => {
    expect(f.routing).toBe('bgp');
    expect(f.bgp).toEqual({
      asNumber: 64512,
      nodeToNodeMesh: true,
      serviceClusterIPs: ['10.96.0.0/16', 'fd00:10:96::/112'],
      peers: [
        { name: 'ipv6-lab-router-ipv4', family: 'IPv4', peerIP: '172.18.255.254', asNumber: 65000 },
        { name: 'ipv6-lab-router-ipv6', family: 'IPv6', peerIP: 'fc00:f853:ccd:e793::fffe', asNumber: 65000 },
      ],
      nodeStatuses: ['ipv6-lab-control-plane', 'ipv6-lab-worker', 'ipv6-lab-worker2'].map(n => ({ name: n, node: n })),
      router: {
        name: 'ipv6-lab-router',
        image: 'quay.io/frrouting/frr:8.4.5',
        asNumber: 65000,
        addresses: { ipv4: '172.18.255.254', ipv6: 'fc00:f853:ccd:e793::fffe' },
        network: { ipv4: '172.18.0.0/16', ipv6: 'fc00:f853:ccd:e793::/64' },
        configDir: 'frr',
        configFiles: ['daemons', 'frr.conf', 'vtysh.conf'],
      },
    });
    expect(validate(f)).toBe(true);
    // routing and bgp come after the base keys.
    expect(Object.keys(f).slice(-3)).toEqual(['images', 'routing', 'bgp']);
  });

  test('the default lab (routing vxlan) has neither key: its facts stay as they were', () => {
    const vxlan = facts(renderLabFor());
    expect(vxlan.routing).toBeUndefined();
    expect(vxlan.bgp).toBeUndefined();
  });

  test('custom: AS numbers, router addresses, image, workers and name reach the section', () => {
    const c = facts(renderLabFor({
      routing: 'bgp', clusterName: 'edge', workers: 1,
      bgp: { asNumber: 4200000001 },
      router: { asNumber: 65100, image: 'registry.example/frr:9', peerIPs: { ipv4: '172.18.200.1', ipv6: 'fc00:f853:ccd:e793::200' } },
    }));
    expect(c.bgp!.asNumber).toBe(4200000001);
    expect(c.bgp!.peers.map(p => [p.name, p.peerIP, p.asNumber])).toEqual([
      ['edge-router-ipv4', '172.18.200.1', 65100], ['edge-router-ipv6', 'fc00:f853:ccd:e793::200', 65100],
    ]);
    expect(c.bgp!.nodeStatuses.map(s => s.node)).toEqual(['edge-control-plane', 'edge-worker']);
    expect(c.bgp!.router).toMatchObject({ name: 'edge-router', image: 'registry.example/frr:9', asNumber: 65100, addresses: { ipv4: '172.18.200.1', ipv6: 'fc00:f853:ccd:e793::200' } });
    expect(validate(c)).toBe(true);
  });

  test('an IPv6-only lab peers over IPv6 only; the router keeps both addresses (its IPv4 one is its BGP router ID)', () => {
    const c = facts(renderLabFor({ routing: 'bgp', ipFamilies: ['IPv6'] }));
    expect(c.bgp!.peers.map(p => p.family)).toEqual(['IPv6']);
    expect(c.bgp!.serviceClusterIPs).toEqual(['fd00:10:96::/112']);
    expect(Object.keys(c.bgp!.router.addresses)).toEqual(['ipv4', 'ipv6']);
    expect(validate(c)).toBe(true);
  });

  test('agree with the objects and the router files they sit beside', () => {
    const bgpConfiguration = find(lab.objects, 'BGPConfiguration', 'default');
    expect(bgpConfiguration.spec).toMatchObject({ asNumber: f.bgp!.asNumber, nodeToNodeMeshEnabled: f.bgp!.nodeToNodeMesh });
    expect(bgpConfiguration.spec.serviceClusterIPs.map((s: any) => s.cidr)).toEqual(f.bgp!.serviceClusterIPs);
    for (const peer of f.bgp!.peers) {
      expect(find(lab.objects, 'BGPPeer', peer.name).spec).toMatchObject({ peerIP: peer.peerIP, asNumber: peer.asNumber });
    }
    for (const status of f.bgp!.nodeStatuses) {
      expect(find(lab.objects, 'CalicoNodeStatus', status.name).spec).toEqual({ node: status.node, classes: ['Agent', 'BGP', 'Routes'], updatePeriodSeconds: 10 });
    }
    expect(f.bgp!.nodeStatuses.map(s => s.node)).toEqual(f.cluster.nodes.map(n => n.name));
    for (const file of f.bgp!.router.configFiles) {
      expect(lab.files[path.join(f.bgp!.router.configDir, file)]).toBeDefined();
    }
    expect(lab.files[path.join('frr', 'frr.conf')]).toContain(`router bgp ${f.bgp!.router.asNumber}\n bgp router-id ${f.bgp!.router.addresses.ipv4}\n`);
  });

  test('fails schema validation with a routing it does not know, or a bgp section missing its router', () => {
    expect(validate({ ...f, routing: 'ipip' })).toBe(false);
    const { router: _router, ...withoutRouter } = f.bgp!;
    expect(validate({ ...f, bgp: withoutRouter })).toBe(false);
  });
});
