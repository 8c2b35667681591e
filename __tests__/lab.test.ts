import * as fs from 'fs';
import * as path from 'path';
import { App, YamlOutputType } from 'cdk8s';
import { Lab, nameChartFilesById } from '../lib/lab';
import { resolveLabConfig } from '../lib/lab-config';
import { find, mkTmp, renderLabFor } from './support/synth';

describe('Lab (the whole synth)', () => {
  const lab = renderLabFor();

  test('defaults: snapshot of every synthesized file', () => {
    expect(lab.files).toMatchSnapshot();
  });

  test('custom: one configuration drives pools, Services, workload and kind config together', () => {
    const custom = renderLabFor({
      clusterName: 'lab2', workers: 1,
      pools: { ipv4: { cidr: '10.244.0.0/16' }, ipv6: { cidr: 'fd00:20::/56', blockSize: 120 } },
      serviceSubnets: { ipv4: '10.97.0.0/16', ipv6: 'fd00:30::/112' },
      multitool: { port: 9000, servicePort: 8000 },
    });
    expect(find(custom.objects, 'IPPool', 'default-ipv4-ippool').spec.cidr).toBe('10.244.0.0/16');
    expect(find(custom.objects, 'IPPool', 'default-ipv6-ippool').spec).toMatchObject({ cidr: 'fd00:20::/56', blockSize: 120 });
    expect(find(custom.objects, 'Service', 'multitool-dual-stack').spec.ports).toEqual([{ name: 'http', port: 8000, protocol: 'TCP', targetPort: 9000 }]);
    expect(custom.kind).toMatchObject({
      name: 'lab2',
      networking: { podSubnet: '10.244.0.0/16,fd00:20::/56', serviceSubnet: '10.97.0.0/16,fd00:30::/112' },
    });
    expect(custom.kind.nodes).toHaveLength(2);
  });

  test('writes the manifests in apply order, and the kind config and the facts where `kubectl apply -f dist` does not read them', () => {
    expect(Object.keys(lab.files).sort()).toEqual(['0000-calico.k8s.yaml', '0001-multitool.k8s.yaml', path.join('kind', 'cluster.yaml'), path.join('lab', 'facts.json')]);
  });

  test('applies the IPPools before the Installation (file order, then document order)', () => {
    const order = lab.objects.map(o => `${o.kind}/${o.metadata.name}`);
    expect(order).toEqual([
      'IPPool/default-ipv4-ippool',
      'IPPool/default-ipv6-ippool',
      'Installation/default',
      'APIServer/default',
      'ConfigMap/multitool-nginx',
      'DaemonSet/multitool',
      'Service/multitool-dual-stack',
      'Service/multitool-ipv6-only',
    ]);
  });

  test('IPv4 pool as the lab shows it: 192.168.0.0/16, /26 blocks, VXLAN CrossSubnet, no IPIP, NAT, all()', () => {
    expect(find(lab.objects, 'IPPool', 'default-ipv4-ippool')).toEqual({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'IPPool',
      metadata: { name: 'default-ipv4-ippool' },
      spec: {
        allowedUses: ['Workload', 'Tunnel'], blockSize: 26, cidr: '192.168.0.0/16', disableBGPExport: false, disabled: false,
        ipipMode: 'Never', natOutgoing: true, nodeSelector: 'all()', vxlanMode: 'CrossSubnet',
      },
    });
  });

  test('IPv6 pool as the lab shows it: fd00:10:244::/48, /122 blocks, VXLAN Always, NAT, all()', () => {
    expect(find(lab.objects, 'IPPool', 'default-ipv6-ippool').spec).toEqual({
      allowedUses: ['Workload', 'Tunnel'], blockSize: 122, cidr: 'fd00:10:244::/48', disableBGPExport: false, disabled: false,
      ipipMode: 'Never', natOutgoing: true, nodeSelector: 'all()', vxlanMode: 'Always',
    });
  });

  test('Services: dual-stack RequireDualStack [IPv4, IPv6] and IPv6-only SingleStack [IPv6], port 80 -> 8080, app=multitool', () => {
    const dual = find(lab.objects, 'Service', 'multitool-dual-stack');
    const v6 = find(lab.objects, 'Service', 'multitool-ipv6-only');
    for (const svc of [dual, v6]) {
      expect(svc.metadata.namespace).toBe('default');
      expect(svc.spec).toMatchObject({ type: 'ClusterIP', selector: { app: 'multitool' }, ports: [{ port: 80, targetPort: 8080 }] });
    }
    expect(dual.spec).toMatchObject({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] });
    expect(v6.spec).toMatchObject({ ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] });
  });

  test('the DaemonSet selects the pods the Services select', () => {
    const ds = find(lab.objects, 'DaemonSet', 'multitool');
    expect(ds.metadata.namespace).toBe('default');
    expect(ds.spec.selector.matchLabels).toEqual(find(lab.objects, 'Service', 'multitool-dual-stack').spec.selector);
  });

  test('kind config: ipv6-lab, 1 control plane + 2 workers on the pinned image, dual-stack, no default CNI, lab subnets', () => {
    expect(lab.kind).toMatchObject({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      name: 'ipv6-lab',
      networking: {
        ipFamily: 'dual', disableDefaultCNI: true,
        podSubnet: '192.168.0.0/16,fd00:10:244::/48', serviceSubnet: '10.96.0.0/16,fd00:10:96::/112',
      },
    });
    expect(lab.kind.nodes.map((n: any) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    for (const node of lab.kind.nodes) expect(node.image).toMatch(/^kindest\/node:v1\.28\.15@sha256:[0-9a-f]{64}$/);
  });

  test('kind pod subnets are exactly the Calico pools', () => {
    const pools = ['default-ipv4-ippool', 'default-ipv6-ippool'].map(n => find(lab.objects, 'IPPool', n).spec.cidr);
    expect(lab.kind.networking.podSubnet).toBe(pools.join(','));
  });

  test('routing vxlan (the default) has no BGP objects and no router', () => {
    expect(lab.objects.filter(o => o.kind.startsWith('BGP'))).toEqual([]);
    expect(Object.keys(lab.files).filter(f => f.startsWith('frr'))).toEqual([]);
  });

  test('two labs live in one app: each owns its charts', () => {
    const dir = mkTmp('two-labs');
    const app = new App({ outdir: dir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
    const a = new Lab(app, 'a');
    const b = new Lab(app, 'b', { config: resolveLabConfig({ clusterName: 'lab-b', multitool: { port: 9000 } }) });
    expect(a.calico.node.scope).toBe(a);
    expect(b.multitool.node.scope).toBe(b);
    app.synth();
    nameChartFilesById(app, dir);
    // The chart ids repeat across the labs, so cdk8s's path-based names are kept: nothing is overwritten.
    expect(fs.readdirSync(dir).filter(f => f.endsWith('.k8s.yaml'))).toHaveLength(4);
    expect(b.kind.toJson()).toMatchObject({ name: 'lab-b' });
  });
});

describe('Lab with routing: bgp', () => {
  const lab = renderLabFor({ routing: 'bgp' });

  test('unencapsulated pools, BIRD on, the mesh and both Service ranges, one global peer per family to the router', () => {
    for (const name of ['default-ipv4-ippool', 'default-ipv6-ippool']) {
      expect(find(lab.objects, 'IPPool', name).spec).toMatchObject({ vxlanMode: 'Never', ipipMode: 'Never', natOutgoing: true });
    }
    expect(find(lab.objects, 'Installation', 'default').spec.calicoNetwork.bgp).toBe('Enabled');
    expect(find(lab.objects, 'BGPConfiguration', 'default').spec).toEqual({
      asNumber: 64512, logSeverityScreen: 'Info', nodeToNodeMeshEnabled: true,
      serviceClusterIPs: [{ cidr: '10.96.0.0/16' }, { cidr: 'fd00:10:96::/112' }],
    });
    expect(find(lab.objects, 'BGPPeer', 'ipv6-lab-router-ipv4').spec).toEqual({
      asNumber: 65000, keepOriginalNextHop: true, peerIP: '172.18.255.254', sourceAddress: 'UseNodeIP',
    });
    expect(find(lab.objects, 'BGPPeer', 'ipv6-lab-router-ipv6').spec).toEqual({
      asNumber: 65000, keepOriginalNextHop: true, peerIP: 'fc00:f853:ccd:e793::fffe', sourceAddress: 'UseNodeIP',
    });
  });

  test('writes the router\'s configuration under frr/, where `kubectl apply -f dist` does not read it', () => {
    expect(Object.keys(lab.files).sort()).toEqual([
      '0000-calico.k8s.yaml', '0001-multitool.k8s.yaml', path.join('frr', 'daemons'), path.join('frr', 'frr.conf'), path.join('frr', 'vtysh.conf'),
      path.join('kind', 'cluster.yaml'), path.join('lab', 'facts.json'),
    ]);
    expect(lab.files[path.join('frr', 'frr.conf')]).toContain('hostname ipv6-lab-router\n');
  });

  // docs/bgp.md explains these files line by line: it must show what synth writes.
  test('docs/bgp.md shows the frr.conf and the BGP objects synth writes', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'bgp.md'), 'utf8');
    const blockAfter = (marker: string) => /```\w*\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf(marker)))![1];
    const conf = lab.files[path.join('frr', 'frr.conf')].split('\n');
    const header = conf.findIndex(l => !l.startsWith('! '));
    expect(header).toBe(5);
    expect(blockAfter('`frr/frr.conf` with the defaults:')).toBe(conf.slice(header).join('\n'));
    const calico = lab.files['0000-calico.k8s.yaml'];
    const bgpObjects = calico.slice(calico.indexOf('apiVersion: crd.projectcalico.org/v1\nkind: BGPConfiguration'), calico.indexOf('apiVersion: operator.tigera.io/v1'));
    expect(`${blockAfter('`0000-calico.k8s.yaml` with the defaults')}---\n`).toBe(bgpObjects);
  });

  test('one configuration drives the cluster\'s and the router\'s side together', () => {
    const custom = renderLabFor({
      clusterName: 'lab2', routing: 'bgp',
      pools: { ipv4: { cidr: '10.244.0.0/16', blockSize: 24 } },
      serviceSubnets: { ipv6: 'fd00:30::/112' },
      bgp: { asNumber: 4200000000 },
      router: { asNumber: 4200000001, peerIPs: { ipv4: '172.19.255.254' }, network: { ipv4: '172.19.0.0/16' } },
    });
    expect(find(custom.objects, 'BGPConfiguration', 'default').spec).toMatchObject({ asNumber: 4200000000, serviceClusterIPs: [{ cidr: '10.96.0.0/16' }, { cidr: 'fd00:30::/112' }] });
    expect(find(custom.objects, 'BGPPeer', 'lab2-router-ipv4').spec).toMatchObject({ asNumber: 4200000001, peerIP: '172.19.255.254' });
    const conf = custom.files[path.join('frr', 'frr.conf')];
    expect(conf).toContain('hostname lab2-router\n');
    expect(conf).toContain('router bgp 4200000001\n');
    expect(conf).toContain(' neighbor CALICO-IPV4 remote-as 4200000000\n');
    expect(conf).toContain(' bgp listen range 172.19.0.0/16 peer-group CALICO-IPV4\n');
    expect(conf).toContain('ip prefix-list CALICO-IPV4-IN seq 5 permit 10.244.0.0/16 ge 24\n');
    expect(conf).toContain('ipv6 prefix-list CALICO-IPV6-IN seq 10 permit fd00:30::/112\n');
  });
});

describe('Lab with policy: on', () => {
  const off = renderLabFor({ policy: 'off' });
  const on = renderLabFor({ policy: 'on' });

  test('policy: off is the default lab, without policy/', () => {
    expect(off.files).toEqual(renderLabFor().files);
    expect(Object.keys(off.files).some(f => f.startsWith('policy'))).toBe(false);
  });

  // `kubectl apply -f dist` reads the top-level files only: they are the same lab with or without the lesson.
  test('adds policy/ and the facts\' policy section only: every other file is byte-identical to policy: off', () => {
    const factsFile = path.join('lab', 'facts.json');
    const topLevel = Object.fromEntries(Object.entries(on.files).filter(([f]) => !f.startsWith(`policy${path.sep}`) && f !== factsFile));
    expect(topLevel).toEqual(Object.fromEntries(Object.entries(off.files).filter(([f]) => f !== factsFile)));
    const { policy, ...rest } = JSON.parse(on.files[factsFile]);
    expect(rest).toEqual(JSON.parse(off.files[factsFile]));
    expect(policy.mode).toBe('on');
    expect(Object.keys(on.files).filter(f => f.startsWith(`policy${path.sep}`))).toEqual([
      path.join('policy', '0000-calico-policy.k8s.yaml'),
      path.join('policy', '0001-network-policy.k8s.yaml'),
    ]);
  });

  test('policy/ holds the Calico echo policy first, then the allows, then the default deny', () => {
    expect(on.policyObjects.map(o => `${o.apiVersion} ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'projectcalico.org/v3 NetworkPolicy default/allow-ping',
      'networking.k8s.io/v1 NetworkPolicy default/allow-dns',
      'networking.k8s.io/v1 NetworkPolicy default/allow-external-host',
      'networking.k8s.io/v1 NetworkPolicy default/allow-multitool',
      'networking.k8s.io/v1 NetworkPolicy default/default-deny',
    ]);
  });

  test('custom: the app port, the pods\' labels and the external host come from the one configuration', () => {
    const custom = renderLabFor({ policy: 'on', multitool: { port: 9000 }, externalHost: { ipv6: 'fc00:f853:ccd:e793::1:fa' } });
    const ext = custom.policyObjects.find(o => o.metadata.name === 'allow-external-host')!;
    expect(ext.spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: 'fc00:f853:ccd:e793::1:fa/128' } }], ports: [{ port: 9000, protocol: 'TCP' }] }]);
    const peers = custom.policyObjects.find(o => o.metadata.name === 'allow-multitool')!;
    expect(peers.spec.podSelector).toEqual({ matchLabels: find(custom.objects, 'DaemonSet', 'multitool').spec.selector.matchLabels });
    expect(find(custom.objects, 'Service', 'multitool-dual-stack').spec.ports[0].targetPort).toBe(9000);
  });

  test('snapshot of policy/', () => {
    expect(Object.fromEntries(Object.entries(on.files).filter(([f]) => f.startsWith('policy')))).toMatchSnapshot();
  });
});

describe('Lab, IPv6-only (ipFamilies [IPv6])', () => {
  const lab = renderLabFor({ ipFamilies: ['IPv6'] });

  test('defaults: snapshot of every synthesized file', () => {
    expect(lab.files).toMatchSnapshot();
  });

  test('writes the DNS chart after the workload, and tayga.conf beside the kind config, out of `kubectl apply -f dist`\'s reach', () => {
    expect(Object.keys(lab.files).sort()).toEqual([
      '0000-calico.k8s.yaml', '0001-multitool.k8s.yaml', '0002-dns.k8s.yaml', path.join('kind', 'cluster.yaml'), path.join('lab', 'facts.json'), path.join('nat64', 'tayga.conf'),
    ]);
  });

  test('objects: the IPv6 pool, the Installation, the workload, one IPv6-only Service and the coredns ConfigMap', () => {
    expect(lab.objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
      'IPPool/default-ipv6-ippool',
      'Installation/default',
      'APIServer/default',
      'ConfigMap/multitool-nginx',
      'DaemonSet/multitool',
      'Service/multitool-ipv6-only',
      'ConfigMap/coredns',
    ]);
    expect(find(lab.objects, 'Installation', 'default').spec.calicoNetwork).not.toHaveProperty('nodeAddressAutodetectionV4');
    expect(find(lab.objects, 'ConfigMap', 'multitool-nginx').data!['nginx.conf']).not.toMatch(/^\s*listen 8080;/m);
  });

  test('kind config: ipFamily ipv6, the IPv6 pool as the only pod subnet, the IPv6 service range', () => {
    expect(lab.kind.networking).toEqual({
      ipFamily: 'ipv6', disableDefaultCNI: true, podSubnet: 'fd00:10:244::/48', serviceSubnet: 'fd00:10:96::/112',
    });
  });

  test('with routing: bgp: one IPv6 peer and session family, the router ID written out, no IPv4 anywhere', () => {
    const bgp = renderLabFor({ ipFamilies: ['IPv6'], routing: 'bgp' });
    expect(bgp.objects.filter(o => o.kind === 'BGPPeer').map(o => `${o.metadata.name} ${o.spec.peerIP}`)).toEqual(['ipv6-lab-router-ipv6 fc00:f853:ccd:e793::fffe']);
    expect(find(bgp.objects, 'BGPConfiguration', 'default').spec.serviceClusterIPs).toEqual([{ cidr: 'fd00:10:96::/112' }]);
    expect(find(bgp.objects, 'IPPool', 'default-ipv6-ippool').spec).toMatchObject({ vxlanMode: 'Never', ipipMode: 'Never' });
    // BGP on and no IPv4 autodetection: the operator renders CALICO_ROUTER_ID=hash (pkg/render/node.go, v1.34.13).
    const network = find(bgp.objects, 'Installation', 'default').spec.calicoNetwork;
    expect(network.bgp).toBe('Enabled');
    expect(network).not.toHaveProperty('nodeAddressAutodetectionV4');
    const conf = bgp.files[path.join('frr', 'frr.conf')];
    expect(conf).toContain(' bgp router-id 176.147.10.162\n');
    expect(conf).toContain(' bgp listen range fc00:f853:ccd:e793::/64 peer-group CALICO-IPV6\n');
    expect(conf).not.toMatch(/IPV4|172\.18\.|ipv4 unicast/);
    // The router's ID is none of the nodes' (200.209.183.119, 155.253.77.165, 220.158.194.24).
    expect(bgp.kind.nodes.map((n: any) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
  });

  test('custom: the NAT64 prefix reaches both CoreDNS and tayga, the upstream reaches CoreDNS', () => {
    const custom = renderLabFor({
      ipFamilies: ['IPv6'], pools: { ipv6: { cidr: 'fd00:20::/56' } }, serviceSubnets: { ipv6: 'fd00:30::/112' },
      nat64: { prefix: 'fd00:64::/96', ipv4Pool: '100.64.0.0/24' }, dns: { upstream: 'fc00:f853:ccd:e793::99' },
    });
    const corefile = find(custom.objects, 'ConfigMap', 'coredns').data!.Corefile;
    expect(corefile).toContain('prefix fd00:64::/96');
    expect(corefile).toContain('forward . [fc00:f853:ccd:e793::99]:53 {');
    expect(custom.files[path.join('nat64', 'tayga.conf')]).toContain('prefix fd00:64::/96\ndynamic-pool 100.64.0.0/24\n');
    expect(custom.kind.networking).toMatchObject({ podSubnet: 'fd00:20::/56', serviceSubnet: 'fd00:30::/112' });
  });
});
