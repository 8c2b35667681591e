/**
 * The router of `routing: bgp` in a real FRR (Debian's frr package, FRR 8.4): the synthesized frr.conf is
 * loaded as the image loads it, and real FRRs playing the three Calico nodes peer with it over IPv4 and
 * IPv6, in network namespaces that scripts/e2e/frr-router.sh creates and removes. One run (about 20 s
 * here), then targeted assertions on what it captured.
 *
 * FRR_FIXTURES_DIR=__tests__/scripts/fixtures/bgp also saves the router's `show ... json` outputs there
 * (see that directory's README).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { mkTmp, REPO_ROOT, renderLabFor, requireTool } from './support/synth';

const HARNESS = path.join(REPO_ROOT, 'scripts', 'e2e', 'frr-router.sh');

// The harness's default nodes: kind's first three addresses, with the blocks and pods of the scripts' stub cluster
// (__tests__/scripts/fixtures/cluster), which Calico v3.28.5's IPAM handed out.
const NODES = [
  { name: 'ipv6-lab-control-plane', v4: '172.18.0.2', v6: 'fc00:f853:ccd:e793::2', block4: '192.168.40.128/26', block6: 'fd00:10:244:2893:e83c:c9a6:7f8b:bb80/122', pod: 'multitool-xp9c5', pod4: '192.168.40.129', pod6: 'fd00:10:244:2893:e83c:c9a6:7f8b:bb81' },
  { name: 'ipv6-lab-worker', v4: '172.18.0.3', v6: 'fc00:f853:ccd:e793::3', block4: '192.168.217.0/26', block6: 'fd00:10:244:1168:5560:68e4:6df7:2c40/122', pod: 'multitool-hmbcg', pod4: '192.168.217.1', pod6: 'fd00:10:244:1168:5560:68e4:6df7:2c41' },
  { name: 'ipv6-lab-worker2', v4: '172.18.0.4', v6: 'fc00:f853:ccd:e793::4', block4: '192.168.98.0/26', block6: 'fd00:10:244:d01c:d569:d420:c640:6200/122', pod: 'multitool-csttt', pod4: '192.168.98.1', pod6: 'fd00:10:244:d01c:d569:d420:c640:6201' },
];
// Docker's own pick for the router container's IPv4 address: the next free one after the nodes and the
// external host (172.18.0.5 in the scripts' stub cluster).
const DOCKER_IPV4 = '172.18.0.6';
const STRAY = { ipv4: '203.0.113.0/24', ipv6: '2001:db8:bad::/48' };

function canMakeNetns(): boolean {
  const name = `frr-probe-${process.pid}`;
  const added = spawnSync('ip', ['netns', 'add', name]).status === 0;
  if (added) spawnSync('ip', ['netns', 'delete', name]);
  return added;
}

const FRR_BINARIES = ['/usr/lib/frr/zebra', '/usr/lib/frr/bgpd', '/usr/bin/vtysh'];
const onPath = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const hasFrr = requireTool(FRR_BINARIES.every(f => fs.existsSync(f)), 'FRR (apt-get install frr)')
  && requireTool(['nginx', 'tcpdump', 'curl'].every(onPath), 'nginx, tcpdump and curl (apt-get install nginx tcpdump curl)')
  && requireTool(canMakeNetns(), 'network namespaces (ip netns add, as root)');

const readJson = (dir: string, file: string) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));

const FIXTURES = path.join(__dirname, 'scripts', 'fixtures', 'bgp');
// The router's outputs the scripts' stubs replay (see the fixtures' README).
const FIXTURE_FILES = [
  'show-bgp-summary.json', 'show-bgp-ipv4-unicast.json', 'show-bgp-ipv6-unicast.json', 'show-bgp-neighbors.json',
  'show-bgp-summary.txt', 'show-bgp-ipv4-unicast-summary.txt', 'show-bgp-ipv6-unicast-summary.txt', 'show-bgp-ipv4-unicast.txt', 'show-bgp-ipv6-unicast.txt',
  'ip-route.txt', 'ip-6-route.txt',
];
// What else the run saw, copied under another name: a node's kernel routes, nginx's answers, the capture.
const FIXTURE_COPIES: Record<string, string> = {
  'node0/ip-route.txt': 'node0-ip-route.txt',
  'node0/ip-6-route.txt': 'node0-ip-6-route.txt',
  'tcpdump.txt': 'tcpdump-pod-to-pod.txt',
  ...Object.fromEntries(NODES.flatMap(n => [
    [`http-ipv4-${n.pod4}.txt`, `http-ipv4-${n.pod}.txt`], [`http-ipv6-${n.pod6}.txt`, `http-ipv6-${n.pod}.txt`],
  ])),
};

/** What stays the same from run to run in the router's four outputs (no timers, counters or link-locals). */
function stableView(dir: string) {
  const summary = readJson(dir, 'show-bgp-summary.json');
  const neighbors = readJson(dir, 'show-bgp-neighbors.json');
  const table = (file: string) => Object.fromEntries(Object.entries<any[]>(readJson(dir, file).routes).map(([prefix, paths]) => [
    prefix, paths.map(p => `${p.peerId} via ${p.nexthops.filter((h: any) => h.scope !== 'link-local').map((h: any) => h.ip).join(',')} path ${p.path}`).sort(),
  ]));
  const text = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
  // Text outputs: without timers, counters, nexthop-group ids and timestamps; a table's lines sorted (the
  // order of a prefix's paths is the order they arrived in).
  const sortedLines = (t: string) => t.split('\n').filter(l => l.trim() !== '').sort();
  const texts = {
    summaries: ['show-bgp-summary.txt', 'show-bgp-ipv4-unicast-summary.txt', 'show-bgp-ipv6-unicast-summary.txt'].map(f => text(f).split('\n')
      .filter(l => /^\*?[0-9a-f.:]+ +4 /.test(l) || /Summary|identifier|neighbors/.test(l))
      .map(l => (/^\*?[0-9a-f.:]+ +4 /.test(l) ? l.split(/ +/).filter((_, i) => [0, 2, 9, 10].includes(i)).join(' ') : l))),
    // A table's prefixes and its totals: which path prints on the prefix's own line (and so the column
    // layout) depends on the order the paths arrived in; the JSON view above compares the paths.
    tables: ['show-bgp-ipv4-unicast.txt', 'show-bgp-ipv6-unicast.txt'].map(f => [
      ...[...text(f).matchAll(/^\*[>= ]\s*(\S+\/\d+)/gm)].map(m => m[1]).sort(),
      ...text(f).split('\n').filter(l => l.startsWith('Displayed')),
    ]),
    kernel: ['ip-route.txt', 'ip-6-route.txt'].map(f => sortedLines(text(f).replace(/nhid \d+ /g, ''))),
  };
  return {
    texts,
    summary: Object.fromEntries(['ipv4Unicast', 'ipv6Unicast'].map(af => [af, {
      routerId: summary[af].routerId,
      as: summary[af].as,
      peers: Object.fromEntries(Object.entries<any>(summary[af].peers).map(([ip, p]) => [ip, [p.state, p.peerState, p.remoteAs, p.pfxRcd, p.pfxSnt]])),
    }])),
    ipv4: table('show-bgp-ipv4-unicast.json'),
    ipv6: table('show-bgp-ipv6-unicast.json'),
    neighbors: Object.fromEntries(Object.entries<any>(neighbors).map(([ip, n]) => [ip, {
      state: n.bgpState, group: n.peerGroup, as: [n.localAs, n.remoteAs],
      families: Object.fromEntries(Object.entries<any>(n.addressFamilyInfo).map(([af, i]) => [af, [i.routeMapForIncomingAdvertisements, i.routeMapForOutgoingAdvertisements, i.acceptedPrefixCounter, i.sentPrefixCounter]])),
    }])),
  };
}

(hasFrr ? describe : describe.skip)('the synthesized router configuration in a real FRR, peering with FRRs as the Calico nodes', () => {
  let out: string;
  let lab: ReturnType<typeof renderLabFor>;
  const run = () => path.join(out, 'run');
  const router = () => path.join(run(), 'router');

  beforeAll(() => {
    lab = renderLabFor({ routing: 'bgp' });
    out = mkTmp('frr-out');
    const config = lab.files[path.join('frr', 'frr.conf')];
    expect(config).toContain('router bgp 65000');
    // The pods' own nginx configuration, as the multitool pods and the external host serve it.
    const nginxConf = path.join(out, 'nginx.conf');
    fs.writeFileSync(nginxConf, JSON.parse(lab.files[path.join('lab', 'facts.json')]).externalHost.nginxConfig);
    const res = spawnSync('bash', [HARNESS, path.join(lab.dir, 'frr'), path.join(out, 'run'), nginxConf], {
      encoding: 'utf8',
      timeout: 240000,
      env: {
        ...process.env,
        FRR_ROUTER_IPV4: '172.18.255.254/16',
        FRR_ROUTER_IPV6: 'fc00:f853:ccd:e793::fffe/64',
        FRR_ROUTER_DOCKER_IPV4: `${DOCKER_IPV4}/16`,
        FRR_CLUSTER_AS: '64512',
        FRR_NODES: NODES.map(n => [n.name, `${n.v4}/16`, `${n.v6}/64`, n.block4, n.block6, n.pod].join(',')).join(' '),
        FRR_SERVICES: '10.96.0.0/16 fd00:10:96::/112',
        FRR_STRAY: `${STRAY.ipv4} ${STRAY.ipv6}`,
      },
    });
    if (res.status !== 0) {
      throw new Error(`${HARNESS} exited ${res.status ?? res.signal}:\n${res.stderr}`);
    }
    const fixtures = process.env.FRR_FIXTURES_DIR;
    if (fixtures) {
      fs.mkdirSync(fixtures, { recursive: true });
      for (const file of FIXTURE_FILES) {
        fs.copyFileSync(path.join(router(), file), path.join(fixtures, file));
      }
      for (const [from, to] of Object.entries(FIXTURE_COPIES)) {
        fs.copyFileSync(path.join(run(), from), path.join(fixtures, to));
      }
    }
  }, 260000);

  afterAll(() => {
    for (const dir of [out, lab?.dir]) {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every node has an Established session per family, each carrying its own family, policy in place', () => {
    const summary = readJson(router(), 'show-bgp-summary.json');
    for (const [af, key] of [['ipv4Unicast', 'v4'], ['ipv6Unicast', 'v6']] as const) {
      expect(summary[af]).toMatchObject({ routerId: '172.18.255.254', as: 65000 });
      expect(Object.keys(summary[af].peers).sort()).toEqual(NODES.map(n => n[key]).sort());
      for (const node of NODES) {
        // peerState "Policy" would mean RFC 8212 found no policy: see the last test.
        expect(summary[af].peers[node[key]]).toMatchObject({ state: 'Established', peerState: 'OK', remoteAs: 64512, dynamicPeer: true });
      }
    }
    const neighbors = readJson(router(), 'show-bgp-neighbors.json');
    for (const node of NODES) {
      expect(Object.keys(neighbors[node.v4].addressFamilyInfo)).toEqual(['ipv4Unicast']);
      expect(Object.keys(neighbors[node.v6].addressFamilyInfo)).toEqual(['ipv6Unicast']);
      expect(neighbors[node.v4]).toMatchObject({ bgpState: 'Established', remoteAs: 64512, localAs: 65000, peerGroup: 'CALICO-IPV4' });
      expect(neighbors[node.v6]).toMatchObject({ bgpState: 'Established', remoteAs: 64512, localAs: 65000, peerGroup: 'CALICO-IPV6' });
    }
  });

  test("the router's kernel routes each node's blocks via that node's own address of the same family, on eth0", () => {
    const routes4 = readJson(router(), 'ip-route.json');
    const routes6 = readJson(router(), 'ip-6-route.json');
    for (const node of NODES) {
      expect(routes4.find((r: any) => r.dst === node.block4)).toMatchObject({ gateway: node.v4, dev: 'eth0', protocol: 'bgp' });
      // Not the node's link-local address: the route-map sets prefer-global.
      expect(routes6.find((r: any) => r.dst === node.block6)).toMatchObject({ gateway: node.v6, dev: 'eth0', protocol: 'bgp' });
    }
  });

  test('the Service ranges are routed to every node (ECMP)', () => {
    const via = (routes: any[], dst: string) => routes.find(r => r.dst === dst)?.nexthops?.map((h: any) => h.gateway).sort();
    expect(via(readJson(router(), 'ip-route.json'), '10.96.0.0/16')).toEqual(NODES.map(n => n.v4).sort());
    expect(via(readJson(router(), 'ip-6-route.json'), 'fd00:10:96::/112')).toEqual(NODES.map(n => n.v6).sort());
  });

  test('the router holds exactly the blocks and the Service ranges: a prefix outside them is refused', () => {
    const v4 = Object.keys(readJson(router(), 'show-bgp-ipv4-unicast.json').routes).sort();
    const v6 = Object.keys(readJson(router(), 'show-bgp-ipv6-unicast.json').routes).sort();
    expect(v4).toEqual([...NODES.map(n => n.block4), '10.96.0.0/16'].sort());
    expect(v6).toEqual([...NODES.map(n => n.block6), 'fd00:10:96::/112'].sort());
    // The first node did announce them: its own table has them.
    expect(Object.keys(readJson(path.join(run(), 'node0'), 'show-bgp-ipv4-unicast.json').routes)).toContain(STRAY.ipv4);
    expect(Object.keys(readJson(path.join(run(), 'node0'), 'show-bgp-ipv6-unicast.json').routes)).toContain(STRAY.ipv6);
  });

  test('the router announces nothing to the nodes', () => {
    const summary = readJson(router(), 'show-bgp-summary.json');
    for (const af of ['ipv4Unicast', 'ipv6Unicast']) {
      for (const peer of Object.values<any>(summary[af].peers)) expect(peer.pfxSnt).toBe(0);
    }
    const node = readJson(path.join(run(), 'node0'), 'show-bgp-neighbors.json');
    expect(node['172.18.255.254'].addressFamilyInfo.ipv4Unicast.acceptedPrefixCounter).toBe(0);
    expect(node['fc00:f853:ccd:e793::fffe'].addressFamilyInfo.ipv6Unicast.acceptedPrefixCounter).toBe(0);
  });

  test('the router reaches a pod on every node over IPv4 and IPv6, natively: no tunnel device', () => {
    const pings = fs.readFileSync(path.join(run(), 'pings.txt'), 'utf8').trim().split('\n').map(l => l.split(' '));
    expect(pings.map(([family]) => family).sort()).toEqual([...NODES.map(() => 'ipv4'), ...NODES.map(() => 'ipv6')].sort());
    for (const [family, pod, status] of pings) {
      expect({ family, pod, status }).toEqual({ family, pod, status: '0' });
    }
    const links = readJson(router(), 'ip-link.json');
    expect(links.map((l: any) => l.ifname).sort()).toEqual(['eth0', 'lo']);
    expect(links.filter((l: any) => l.linkinfo?.info_kind && l.linkinfo.info_kind !== 'veth')).toEqual([]);
  });

  test('the router\'s routes to the pods leave from its lab IPv4 address, not the one Docker gave it first', () => {
    const routes4 = readJson(router(), 'ip-route.json');
    for (const node of NODES) {
      expect(routes4.find((r: any) => r.dst === node.block4)).toMatchObject({ gateway: node.v4, prefsrc: '172.18.255.254' });
    }
    // Docker's address is the primary one: without zebra's set src, the kernel would pick it.
    expect(readJson(router(), 'ip-route.json').find((r: any) => r.dst === '172.18.0.0/16')).toMatchObject({ prefsrc: DOCKER_IPV4 });
  });

  test('each pod\'s nginx answers the router over IPv4 and IPv6 and sees the router\'s lab address: no NAT, no tunnel', () => {
    const statuses = fs.readFileSync(path.join(run(), 'http.txt'), 'utf8').trim().split('\n');
    expect(statuses).toHaveLength(NODES.length * 2);
    for (const node of NODES) {
      expect(fs.readFileSync(path.join(run(), `http-ipv4-${node.pod4}.txt`), 'utf8'))
        .toBe(`${node.pod} answered over IPv4 on ${node.pod4} port 8080 (client 172.18.255.254)\n`);
      expect(fs.readFileSync(path.join(run(), `http-ipv6-${node.pod6}.txt`), 'utf8'))
        .toBe(`${node.pod} answered over IPv6 on ${node.pod6} port 8080 (client fc00:f853:ccd:e793::fffe)\n`);
    }
  });

  test('between pods on two nodes, the wire carries the pods\' own IPv6 packet: no UDP 4789', () => {
    const capture = fs.readFileSync(path.join(run(), 'tcpdump.txt'), 'utf8');
    const [a, b] = NODES;
    expect(capture).toMatch(new RegExp(`^[0-9:.]+ IP6 ${a.pod6} > ${b.pod6}: ICMP6, echo request`, 'm'));
    expect(capture).toMatch(new RegExp(`^[0-9:.]+ IP6 ${b.pod6} > ${a.pod6}: ICMP6, echo reply`, 'm'));
    expect(capture).not.toMatch(/4789|VXLAN/);
    // The node sending it has no VXLAN device, and routes the peer's block via the peer's own address.
    expect(fs.readFileSync(path.join(run(), 'node0', 'ip-d-link-show-type-vxlan.txt'), 'utf8')).toBe('');
    expect(fs.readFileSync(path.join(run(), 'node0', 'ip-6-route.txt'), 'utf8')).toMatch(new RegExp(`^${b.block6.replace(/\//g, '\\/')} .*via ${b.v6} dev eth0 proto bgp`, 'm'));
  });

  // The stubs replay these files: they must still be what the synthesized configuration does.
  test('the committed fixtures (__tests__/scripts/fixtures/bgp) equal this run, but for timers and counters', () => {
    expect(stableView(FIXTURES)).toEqual(stableView(router()));
    for (const [from, to] of Object.entries(FIXTURE_COPIES)) {
      const strip = (t: string) => t.replace(/nhid \d+ /g, '').replace(/^[0-9:.]+ /gm, '').replace(/ id \d+,/g, ' id N,');
      expect({ file: to, text: strip(fs.readFileSync(path.join(FIXTURES, to), 'utf8')) }).toEqual({ file: to, text: strip(fs.readFileSync(path.join(run(), from), 'utf8')) });
    }
  });

  test('fails if the inbound route-maps are removed: RFC 8212 then accepts nothing (peerState Policy)', () => {
    const dir = path.join(run(), 'without-inbound-policy');
    const summary = readJson(dir, 'show-bgp-summary.json');
    for (const af of ['ipv4Unicast', 'ipv6Unicast']) {
      for (const peer of Object.values<any>(summary[af].peers)) {
        expect(peer).toMatchObject({ state: 'Established', peerState: 'Policy', pfxRcd: 0 });
      }
    }
    expect(readJson(dir, 'ip-route.json').filter((r: any) => r.protocol === 'bgp')).toEqual([]);
    expect(readJson(dir, 'ip-6-route.json').filter((r: any) => r.protocol === 'bgp')).toEqual([]);
  });
});

/**
 * The IPv6-only lab with `routing: bgp` (`ipFamilies: [IPv6]`): no IPv4 address anywhere, the nodes' FRRs
 * take the router IDs calico-node's BIRD takes there (CALICO_ROUTER_ID=hash, the node name's hash), and
 * the router the ID its frr.conf writes out. One IPv6 session per node.
 */
(hasFrr ? describe : describe.skip)('the IPv6-only router configuration in a real FRR, peering over IPv6 only', () => {
  let out: string;
  let lab: ReturnType<typeof renderLabFor>;
  const router = () => path.join(out, 'router');

  beforeAll(() => {
    lab = renderLabFor({ ipFamilies: ['IPv6'], routing: 'bgp' });
    out = mkTmp('frr-v6-out');
    const res = spawnSync('bash', [HARNESS, path.join(lab.dir, 'frr'), out], {
      encoding: 'utf8',
      timeout: 240000,
      env: {
        ...process.env,
        FRR_FAMILIES: 'ipv6',
        FRR_ROUTER_IPV4: '',
        FRR_ROUTER_IPV6: 'fc00:f853:ccd:e793::fffe/64',
        FRR_CLUSTER_AS: '64512',
        FRR_NODES: NODES.map(n => [n.name, '-', `${n.v6}/64`, '-', n.block6].join(',')).join(' '),
        FRR_SERVICES: 'fd00:10:96::/112',
        FRR_STRAY: STRAY.ipv6,
      },
    });
    if (res.status !== 0) {
      throw new Error(`${HARNESS} exited ${res.status ?? res.signal}:\n${res.stderr}`);
    }
  }, 260000);

  afterAll(() => {
    for (const dir of [out, lab?.dir]) {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every node has an Established IPv6 session; the router has the ID its frr.conf writes out, and no IPv4 at all', () => {
    const summary = readJson(router(), 'show-bgp-summary.json');
    expect(summary.ipv6Unicast).toMatchObject({ routerId: '176.147.10.162', as: 65000 });
    expect(Object.keys(summary.ipv6Unicast.peers).sort()).toEqual(NODES.map(n => n.v6).sort());
    for (const node of NODES) {
      expect(summary.ipv6Unicast.peers[node.v6]).toMatchObject({ state: 'Established', peerState: 'OK', remoteAs: 64512, dynamicPeer: true });
    }
    expect(summary.ipv4Unicast).toBeUndefined();
    const links = readJson(router(), 'ip-link.json');
    expect(links.map((l: any) => l.ifname).sort()).toEqual(['eth0', 'lo']);
    expect(readJson(router(), 'ip-route.json').filter((r: any) => r.dst !== undefined && r.dst !== 'default')).toEqual([]);
  });

  test('the nodes speak with their hashed IDs (200.209.183.119, 155.253.77.165, 220.158.194.24), as BIRD does without IPv4', () => {
    const neighbors = readJson(router(), 'show-bgp-neighbors.json');
    expect(NODES.map(n => neighbors[n.v6].remoteRouterId)).toEqual(['200.209.183.119', '155.253.77.165', '220.158.194.24']);
  });

  test("the router's kernel routes each node's /122 via the node's IPv6 address, and reaches a pod on every node", () => {
    const routes6 = readJson(router(), 'ip-6-route.json');
    for (const node of NODES) {
      expect(routes6.find((r: any) => r.dst === node.block6)).toMatchObject({ gateway: node.v6, dev: 'eth0', protocol: 'bgp' });
    }
    const pings = fs.readFileSync(path.join(out, 'pings.txt'), 'utf8').trim().split('\n').map(l => l.split(' '));
    expect(pings.map(([family, , status]) => `${family} ${status}`)).toEqual(NODES.map(() => 'ipv6 0'));
  });

  test('fails if the router ID is removed: without IPv4, bgpd has the ID 0.0.0.0, the nodes refuse it (Bad BGP Identifier), no session comes up', () => {
    const dir = path.join(out, 'without-router-id');
    expect(fs.readFileSync(path.join(dir, 'meta.txt'), 'utf8')).toContain('established_after_12s 0');
    expect(readJson(dir, 'show-bgp-vrf-default.json').routerId).toBe('0.0.0.0');
    expect(fs.readFileSync(path.join(dir, 'bgpd-log.txt'), 'utf8')).toMatch(/NOTIFICATION: received from neighbor fc00:f853:ccd:e793::[234] 2\/3 \(OPEN Message Error\/Bad BGP Identifier\)/);
  });
});

// deploy.sh starts the router with --cap-add SYS_ADMIN beside NET_ADMIN and NET_RAW: without it FRR's daemons stop at
// once (lib/privs.c asks for cap_sys_admin in zebra's and bgpd's permitted set, and exits when it cannot have it).
(hasFrr ? describe : describe.skip)('FRR in a container without CAP_SYS_ADMIN', () => {
  test('fails if the bounding set lacks CAP_SYS_ADMIN: zebra exits at start, saying which capability it wanted', () => {
    const ns = `frr-caps-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
    const dir = mkTmp('frr-caps');
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    let res;
    try {
      res = spawnSync('ip', ['netns', 'exec', ns, 'setpriv', '--bounding-set', '-sys_admin', '/usr/lib/frr/zebra',
        '-F', 'traditional', '-P', '0', '-f', '/dev/null', '-i', path.join(dir, 'zebra.pid'), '-z', path.join(dir, 'zserv.api'), '--vty_socket', dir,
      ], { encoding: 'utf8', timeout: 20000 });
    } finally {
      spawnSync('ip', ['netns', 'delete', ns]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('privs_init: initial cap_set_proc failed: Operation not permitted');
    expect(res.stderr).toMatch(/Wanted caps: .*cap_sys_admin.*=p/);
  });
});
