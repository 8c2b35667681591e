import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'cdk8s';
import { FrrRouterConfig, FrrRouterConfigProps } from '../lib/frr-router-config';
import { mkTmp, requireTool } from './support/synth';

const make = (props?: FrrRouterConfigProps) => new FrrRouterConfig(new App(), 'router', props);

/** The lines of one `address-family X unicast` block of frr.conf. */
function addressFamily(conf: string, family: 'ipv4' | 'ipv6'): string[] {
  const lines = conf.split('\n');
  const start = lines.indexOf(` address-family ${family} unicast`);
  return lines.slice(start + 1, lines.indexOf(' exit-address-family', start)).map(l => l.trim());
}

const lines = (conf: string, prefix: string) => conf.split('\n').filter(l => l.startsWith(prefix));

describe('FrrRouterConfig', () => {
  test('defaults', () => {
    const router = make();
    expect(Object.keys(router.files()).sort()).toEqual(['daemons', 'frr.conf', 'vtysh.conf']);
    const conf = router.frrConf;
    expect(lines(conf, 'hostname ')).toEqual(['hostname ipv6-lab-router']);
    expect(lines(conf, 'router bgp ')).toEqual(['router bgp 65000']);
    expect(conf).toContain('\n bgp router-id 172.18.255.254\n');
    expect(conf).toContain('\n no bgp default ipv4-unicast\n');
    // RFC 8212 said out loud, not left to FRR's default.
    expect(conf).toContain('\n bgp ebgp-requires-policy\n');
    expect(lines(conf, ' bgp listen range ')).toEqual([
      ' bgp listen range 172.18.0.0/16 peer-group CALICO-IPV4',
      ' bgp listen range fc00:f853:ccd:e793::/64 peer-group CALICO-IPV6',
    ]);
    expect(lines(conf, ' neighbor CALICO-IPV4 remote-as ')).toEqual([' neighbor CALICO-IPV4 remote-as 64512']);
    expect(lines(conf, 'ip prefix-list ')).toEqual([
      'ip prefix-list CALICO-IPV4-IN seq 5 permit 192.168.0.0/16 ge 26',
      'ip prefix-list CALICO-IPV4-IN seq 10 permit 10.96.0.0/16',
      'ip prefix-list CALICO-IPV4-IN seq 15 permit 10.96.0.0/16 ge 32',
    ]);
    expect(lines(conf, 'ipv6 prefix-list ')).toEqual([
      'ipv6 prefix-list CALICO-IPV6-IN seq 5 permit fd00:10:244::/48 ge 122',
      'ipv6 prefix-list CALICO-IPV6-IN seq 10 permit fd00:10:96::/112',
      'ipv6 prefix-list CALICO-IPV6-IN seq 15 permit fd00:10:96::/112 ge 128',
    ]);
    expect(router.daemons).toMatch(/^bgpd=yes$/m);
    expect(router.daemons).toMatch(/^frr_profile="traditional"$/m);
    expect(router.vtyshConf).toBe('service integrated-vtysh-config\n');
  });

  test('each family is activated on its own peer group only, with a policy in and out', () => {
    const conf = make().frrConf;
    expect(addressFamily(conf, 'ipv4')).toEqual([
      'neighbor CALICO-IPV4 activate', 'neighbor CALICO-IPV4 route-map CALICO-IPV4-IN in', 'neighbor CALICO-IPV4 route-map ANNOUNCE-NOTHING out',
    ]);
    expect(addressFamily(conf, 'ipv6')).toEqual([
      'neighbor CALICO-IPV6 activate', 'neighbor CALICO-IPV6 route-map CALICO-IPV6-IN in', 'neighbor CALICO-IPV6 route-map ANNOUNCE-NOTHING out',
    ]);
  });

  test('IPv6 routes use the node\'s global next hop; nothing is announced', () => {
    const conf = make().frrConf;
    expect(conf).toContain('route-map CALICO-IPV6-IN permit 10\n match ipv6 address prefix-list CALICO-IPV6-IN\n set ipv6 next-hop prefer-global\nexit\n');
    expect(conf).toContain('route-map ANNOUNCE-NOTHING deny 10\nexit\n');
    expect(conf).not.toMatch(/route-map ANNOUNCE-NOTHING permit/);
  });

  test('the router\'s BGP routes leave from its lab IPv4 address, not the one Docker gives the container', () => {
    const conf = make().frrConf;
    expect(conf).toContain('route-map ROUTER-SOURCE-IPV4 permit 10\n set src 172.18.255.254\nexit\nip protocol bgp route-map ROUTER-SOURCE-IPV4\n');
    expect(make({ addresses: { ipv4: '10.250.0.9', ipv6: 'fd99::9' }, nodeNetwork: { ipv4: '10.250.0.0/24', ipv6: 'fd99::/64' } }).frrConf).toContain(' set src 10.250.0.9\n');
  });

  test('custom', () => {
    const router = make({
      hostname: 'lab2-router', asNumber: 4200000001, clusterAsNumber: 4200000000,
      addresses: { ipv4: '10.250.0.9', ipv6: 'fd99::9' }, nodeNetwork: { ipv4: '10.250.0.0/24', ipv6: 'fd99::/64' },
      pools: [{ cidr: '10.244.0.0/16', blockSize: 24 }, { cidr: 'fd00:20::/120', blockSize: 120 }, { cidr: '10.245.0.0/16', blockSize: 32 }],
      serviceClusterIPs: ['10.97.0.0/16'],
    });
    const conf = router.frrConf;
    expect(lines(conf, 'router bgp ')).toEqual(['router bgp 4200000001']);
    expect(lines(conf, ' neighbor CALICO-IPV6 remote-as ')).toEqual([' neighbor CALICO-IPV6 remote-as 4200000000']);
    expect(conf).toContain(' bgp router-id 10.250.0.9\n');
    expect(lines(conf, ' bgp listen range ')).toEqual([' bgp listen range 10.250.0.0/24 peer-group CALICO-IPV4', ' bgp listen range fd99::/64 peer-group CALICO-IPV6']);
    expect(lines(conf, 'ip prefix-list ')).toEqual([
      'ip prefix-list CALICO-IPV4-IN seq 5 permit 10.244.0.0/16 ge 24',
      'ip prefix-list CALICO-IPV4-IN seq 10 permit 10.245.0.0/16 ge 32',
      'ip prefix-list CALICO-IPV4-IN seq 15 permit 10.97.0.0/16',
      'ip prefix-list CALICO-IPV4-IN seq 20 permit 10.97.0.0/16 ge 32',
    ]);
    // A pool of one block: FRR wants `le`, not a `ge` equal to the prefix length.
    expect(lines(conf, 'ipv6 prefix-list ')).toEqual(['ipv6 prefix-list CALICO-IPV6-IN seq 5 permit fd00:20::/120 le 128']);
    expect(router.daemons).toContain('lab2-router');
  });

  test('custom: IPv6 only, one peer group and session family, the router ID written out though the router has no IPv4', () => {
    const router = make({ families: ['ipv6'], addresses: { ipv6: 'fc00:f853:ccd:e793::fffe' }, nodeNetwork: { ipv6: 'fc00:f853:ccd:e793::/64' }, pools: [{ cidr: 'fd00:10:244::/48', blockSize: 122 }], serviceClusterIPs: ['fd00:10:96::/112'] });
    const conf = router.frrConf;
    // Hashed from the hostname as calico-node hashes its nodes' names (CALICO_ROUTER_ID=hash).
    expect(router.routerId).toBe('176.147.10.162');
    expect(conf).toContain('\n bgp router-id 176.147.10.162\n');
    expect(conf).toContain('! IPv6 only: no IPv4 address to take the router ID from');
    expect(conf).not.toMatch(/IPV4|ipv4 unicast|^ip prefix-list/m);
    expect(lines(conf, ' bgp listen range ')).toEqual([' bgp listen range fc00:f853:ccd:e793::/64 peer-group CALICO-IPV6']);
    expect(addressFamily(conf, 'ipv6')).toEqual([
      'neighbor CALICO-IPV6 activate', 'neighbor CALICO-IPV6 route-map CALICO-IPV6-IN in', 'neighbor CALICO-IPV6 route-map ANNOUNCE-NOTHING out',
    ]);
    // IPv4 values given anyway are ignored, an explicit ID wins; a dual-stack router keeps its IPv4 address as ID.
    expect(make({ families: ['ipv6'], routerId: '10.0.0.7' }).frrConf).toContain(' bgp router-id 10.0.0.7\n');
    expect(make({ families: ['ipv6'] }).frrConf).not.toContain('172.18.');
    expect(make().routerId).toBe('172.18.255.254');
  });

  test('writes frr/daemons, frr/frr.conf and frr/vtysh.conf', () => {
    const dir = mkTmp('frr');
    const router = make();
    expect(router.writeTo(dir).map(f => path.relative(dir, f)).sort()).toEqual(['frr/daemons', 'frr/frr.conf', 'frr/vtysh.conf']);
    expect(fs.readFileSync(path.join(dir, 'frr', 'frr.conf'), 'utf8')).toBe(router.frrConf);
    fs.rmSync(dir, { recursive: true });
  });

  test.each<[string, FrrRouterConfigProps, RegExp]>([
    ['the router and the cluster share an AS', { asNumber: 64512 }, /^invalid router as number 64512: must differ from the cluster's as number 64512/],
    ['the router AS is reserved', { asNumber: 23456 }, /^invalid router as number: got 23456, AS_TRANS/],
    ['the cluster AS is out of range', { clusterAsNumber: 0 }, /^invalid cluster as number: got 0/],
    ['an address lies outside the node network', { addresses: { ipv4: '10.0.0.1', ipv6: 'fc00:f853:ccd:e793::fffe' } },
      /^invalid router ipv4 address "10.0.0.1": must lie in the node network 172.18.0.0\/16/],
    ['an address is of the other family', { addresses: { ipv4: 'fc00:f853:ccd:e793::fffe', ipv6: 'fc00:f853:ccd:e793::fffe' } },
      /^invalid router ipv4 address: got "fc00:f853:ccd:e793::fffe", an IPv6 address in the ipv4 slot/],
    ['the node network is not a CIDR', { nodeNetwork: { ipv4: '172.18.0.0', ipv6: 'fc00:f853:ccd:e793::/64' } }, /^invalid router node network: got "172.18.0.0"/],
    ['a block size is shorter than its pool', { pools: [{ cidr: '10.244.0.0/16', blockSize: 12 }] }, /^invalid router pool block size 12 for 10.244.0.0\/16: must be an integer from 16 to 32/],
    ['a Service range is malformed', { serviceClusterIPs: ['10.96.0.0/33'] }, /^invalid router service cluster ip range: got "10.96.0.0\/33"/],
    ['the hostname is not a DNS-1123 label', { hostname: 'Router' }, /^invalid router hostname "Router"/],
    ['no family is named', { families: [] }, /^invalid router families \[\]: must name "ipv4", "ipv6" or both/],
    ['a family is unknown', { families: ['ipv5' as 'ipv4'] }, /^invalid router families \["ipv5"\]/],
    ['a family has no address', { families: ['ipv6'], addresses: { ipv4: '172.18.255.254' } }, /^invalid router ipv6 address: got ""/],
    ['the router ID is multicast', { routerId: '239.1.2.3' }, /^invalid router id "239.1.2.3": it is a multicast or class E address/],
    ['the router ID is an IPv6 address', { families: ['ipv6'], routerId: 'fc00::1' }, /^invalid router id "fc00::1": it is not a 32-bit router ID/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => make(props)).toThrow(message);
  });

  // The real-FRR test (frr-router.test.ts) runs the configuration; this is FRR's own parser, in a second.
  const hasVtysh = requireTool(fs.existsSync('/usr/bin/vtysh'), 'vtysh (apt-get install frr)');
  (hasVtysh ? test : test.skip)('FRR 8.4 parses every line (vtysh --dryrun), and refuses a misspelled one', () => {
    const dir = mkTmp('frr-dryrun');
    const check = (conf: string) => {
      fs.writeFileSync(path.join(dir, 'frr.conf'), conf);
      fs.writeFileSync(path.join(dir, 'vtysh.conf'), 'service integrated-vtysh-config\n');
      return spawnSync('vtysh', ['--config_dir', dir, '--dryrun', '--inputfile', path.join(dir, 'frr.conf')], { encoding: 'utf8' });
    };
    try {
      for (const router of [make(), make({ families: ['ipv6'] })]) {
        const ok = check(router.frrConf);
        expect({ status: ok.status, output: `${ok.stdout}${ok.stderr}` }).toEqual({ status: 0, output: '' });
      }
      const bad = check(make().frrConf.replace('prefer-global', 'prefer-globl'));
      expect(bad.status).not.toBe(0);
      expect(`${bad.stdout}${bad.stderr}`).toContain('Unknown command');
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
