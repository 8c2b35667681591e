import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_IPV6_ONLY, DEFAULT_LAB_CONFIG } from '../lib/config-schema';
import { LabConfigError, configWarnings, formatWarnings, loadLabConfig, parseLabConfigYaml, resolveLabConfig } from '../lib/lab-config';
import { mkTmp } from './support/synth';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof LabConfigError) return e.problems.map(p => `${p.path}: ${p.message}`);
    throw e;
  }
  throw new Error('expected the configuration to be rejected');
}

const problemsFor = (input: unknown) => problemsOf(() => resolveLabConfig(input, 'test'));

describe('lab configuration', () => {
  test('defaults equal the lab README', () => {
    expect(resolveLabConfig({})).toEqual(DEFAULT_LAB_CONFIG);
    expect(DEFAULT_LAB_CONFIG).toMatchObject({
      clusterName: 'ipv6-lab',
      workers: 2,
      pools: {
        ipv4: { cidr: '192.168.0.0/16', blockSize: 26, vxlanMode: 'CrossSubnet', ipipMode: 'Never', natOutgoing: true },
        ipv6: { cidr: 'fd00:10:244::/48', blockSize: 122, vxlanMode: 'Always', ipipMode: 'Never', natOutgoing: true },
      },
      serviceSubnets: { ipv4: '10.96.0.0/16', ipv6: 'fd00:10:96::/112' },
      multitool: { port: 8080, servicePort: 80 },
      policy: 'off',
      externalHost: { ipv4: '172.18.255.250', ipv6: 'fc00:f853:ccd:e793:ffff::fa' },
    });
  });

  test('custom values override only what they name', () => {
    const config = resolveLabConfig({ clusterName: 'lab2', workers: 1, pools: { ipv6: { cidr: 'fd00:20::/56', blockSize: 120 } }, multitool: { port: 9000 } });
    expect(config.clusterName).toBe('lab2');
    expect(config.pools.ipv6).toEqual({ ...DEFAULT_LAB_CONFIG.pools.ipv6, cidr: 'fd00:20::/56', blockSize: 120 });
    expect(config.pools.ipv4).toEqual(DEFAULT_LAB_CONFIG.pools.ipv4);
    expect(config.multitool).toEqual({ ...DEFAULT_LAB_CONFIG.multitool, port: 9000 });
  });

  test('policy on, with the external host elsewhere on kind\'s network', () => {
    const config = resolveLabConfig({ policy: 'on', externalHost: { ipv6: 'FC00:F853:CCD:E793::1:FA' } });
    expect(config.policy).toBe('on');
    expect(config.externalHost).toEqual({ ipv4: DEFAULT_LAB_CONFIG.externalHost.ipv4, ipv6: 'FC00:F853:CCD:E793::1:FA' });
  });

  test('policy: on and off are read as strings (YAML 1.2), not booleans', () => {
    expect(resolveLabConfig(parseLabConfigYaml('policy: on\n', 'x')).policy).toBe('on');
    expect(resolveLabConfig(parseLabConfigYaml('policy: off\n', 'x')).policy).toBe('off');
  });

  test('ipFamilies [IPv6]: the IPv6 pool and range, and the NAT64 and DNS defaults; no IPv4 keys', () => {
    const config = resolveLabConfig({ ipFamilies: ['IPv6'] });
    expect(config).toEqual({
      ...DEFAULT_LAB_CONFIG,
      ipFamilies: ['IPv6'],
      pools: { ipv6: DEFAULT_LAB_CONFIG.pools.ipv6 },
      serviceSubnets: { ipv6: DEFAULT_LAB_CONFIG.serviceSubnets.ipv6 },
      nat64: { prefix: 'fd00:10:64::/96', gateway: 'fc00:f853:ccd:e793::64', ipv4Pool: '192.168.255.0/24' },
      dns: { upstream: 'fc00:f853:ccd:e793::53' },
    });
    expect(config.nat64).toEqual(DEFAULT_IPV6_ONLY.nat64);
  });

  test('ipFamilies [IPv6], custom values override only what they name', () => {
    const config = resolveLabConfig({ ipFamilies: ['IPv6'], pools: { ipv6: { blockSize: 120 } }, nat64: { ipv4Pool: '100.64.0.0/24' }, dns: { upstream: 'fd00:53::53' } });
    expect(config.pools).toEqual({ ipv6: { ...DEFAULT_LAB_CONFIG.pools.ipv6, blockSize: 120 } });
    expect(config.nat64).toEqual({ ...DEFAULT_IPV6_ONLY.nat64, ipv4Pool: '100.64.0.0/24' });
    expect(config.dns).toEqual({ upstream: 'fd00:53::53' });
  });

  test('ipFamilies [IPv4, IPv6] written out is the default', () => {
    expect(resolveLabConfig({ ipFamilies: ['IPv4', 'IPv6'] })).toEqual(DEFAULT_LAB_CONFIG);
  });

  test('image references: a tag, a registry with a port, a tag pinned by digest', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    for (const image of ['registry.local:5000/tools/multitool:1.0', `wbitt/network-multitool:alpine-extra@${digest}`, `wbitt/network-multitool@${digest}`]) {
      expect(resolveLabConfig({ multitool: { image } }).multitool.image).toBe(image);
    }
  });

  // README's configuration example is what users copy: every key it shows is at its default (image
  // included), and it shows every key of the default lab; the variants' own keys live in docs/.
  test("README's configuration example is the defaults", () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Configuration\n'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section);
    expect(example).not.toBeNull();
    const shown = parseLabConfigYaml(example![1], 'README.md') as Record<string, unknown>;
    expect(resolveLabConfig(shown, 'README.md')).toEqual(DEFAULT_LAB_CONFIG);
    for (const key of ['clusterName', 'workers', 'kindNodeImage', 'pools', 'serviceSubnets', 'multitool'] as const) {
      expect(shown[key]).toEqual(DEFAULT_LAB_CONFIG[key]);
    }
  });

  test('routing bgp defaults the pools to no encapsulation, and keeps every other default', () => {
    const config = resolveLabConfig({ routing: 'bgp' });
    expect(config.pools.ipv4).toEqual({ ...DEFAULT_LAB_CONFIG.pools.ipv4, vxlanMode: 'Never', ipipMode: 'Never' });
    expect(config.pools.ipv6).toEqual({ ...DEFAULT_LAB_CONFIG.pools.ipv6, vxlanMode: 'Never', ipipMode: 'Never' });
    expect(config).toMatchObject({ routing: 'bgp', bgp: { asNumber: 64512 }, router: DEFAULT_LAB_CONFIG.router });
  });

  test('routing bgp: custom router and AS numbers, four-octet and documentation ones included', () => {
    const config = resolveLabConfig({
      routing: 'bgp', bgp: { asNumber: 4200000000 },
      router: { asNumber: 64496, peerIPs: { ipv4: '172.19.0.250' }, network: { ipv4: '172.19.0.0/16' }, image: 'quay.io/frrouting/frr:9.1.0' },
    });
    expect(config.router).toEqual({
      asNumber: 64496, peerIPs: { ipv4: '172.19.0.250', ipv6: 'fc00:f853:ccd:e793::fffe' },
      network: { ipv4: '172.19.0.0/16', ipv6: 'fc00:f853:ccd:e793::/64' }, image: 'quay.io/frrouting/frr:9.1.0',
    });
  });

  // The README's example spells out every default, the BGP ones too: that must stay valid under vxlan.
  test('routing vxlan accepts the BGP keys at their defaults', () => {
    expect(resolveLabConfig({ bgp: { asNumber: 64512 }, router: { asNumber: 65000, peerIPs: { ipv6: 'fc00:f853:ccd:e793::fffe' } } })).toEqual(DEFAULT_LAB_CONFIG);
  });

  test('an empty file means the defaults', () => {
    expect(resolveLabConfig(parseLabConfigYaml('# nothing here\n', 'x'))).toEqual(DEFAULT_LAB_CONFIG);
  });

  // One row per kind of mistake: the configuration, then the exact problem line the user sees.
  test.each<[string, unknown, string[]]>([
    ['a CIDR is malformed', { pools: { ipv4: { cidr: '192.168.0.0/33' } } },
      ['pools.ipv4.cidr: got "192.168.0.0/33", which is not a valid CIDR; allowed: an IPv4 CIDR such as 192.168.0.0/16']],
    ['a CIDR is not a CIDR at all', { serviceSubnets: { ipv4: '10.96.0.0' } },
      ['serviceSubnets.ipv4: got "10.96.0.0", which is not a valid CIDR; allowed: an IPv4 CIDR such as 192.168.0.0/16']],
    ['an IPv4 CIDR uses a legacy form', { pools: { ipv4: { cidr: '0xC0.168.0.0/16' } } },
      ['pools.ipv4.cidr: got "0xC0.168.0.0/16", which is not a valid CIDR; allowed: an IPv4 CIDR such as 192.168.0.0/16']],
    ['the IPv6 pool holds an IPv4 CIDR', { pools: { ipv6: { cidr: '10.244.0.0/16' } } },
      ['pools.ipv6.cidr: got "10.244.0.0/16", an IPv4 CIDR in the ipv6 slot; allowed: an IPv6 CIDR such as fd00:10:244::/48']],
    ['the IPv4 service subnet holds an IPv6 CIDR', { serviceSubnets: { ipv4: 'fd00:10:96::/112' } },
      ['serviceSubnets.ipv4: got "fd00:10:96::/112", an IPv6 CIDR in the ipv4 slot; allowed: an IPv4 CIDR such as 192.168.0.0/16']],
    ['a CIDR has host bits set', { pools: { ipv6: { cidr: 'fd00:10:244::1/48' } } },
      ['pools.ipv6.cidr: got "fd00:10:244::1/48", which has host bits set; allowed: the network address fd00:10:244::/48']],
    ['an IPv4 block size is out of range', { pools: { ipv4: { blockSize: 19 } } },
      ['pools.ipv4.blockSize: got 19; allowed: 20 to 32 for an IPv4 pool']],
    ['an IPv6 block size is out of range', { pools: { ipv6: { blockSize: 129 } } },
      ['pools.ipv6.blockSize: got 129; allowed: 116 to 128 for an IPv6 pool']],
    ['a block size is shorter than the pool prefix', { pools: { ipv4: { cidr: '10.10.0.0/24', blockSize: 22 } } },
      ["pools.ipv4.blockSize: got 22, shorter than the pool's prefix /24; allowed: 24 to 32"]],
    ['a block size is not an integer', { pools: { ipv4: { blockSize: 26.5 } } },
      ['pools.ipv4.blockSize: got 26.5; allowed: a value of type integer']],
    ['the pools overlap each other', { pools: { ipv4: { cidr: '10.96.0.0/12' } } },
      ['serviceSubnets.ipv4: got "10.96.0.0/16", which overlaps pools.ipv4.cidr ("10.96.0.0/12"); allowed: a range disjoint from it']],
    ['a pool overlaps a service subnet', { serviceSubnets: { ipv6: 'fd00:10:244:1::/112' } },
      ['serviceSubnets.ipv6: got "fd00:10:244:1::/112", which overlaps pools.ipv6.cidr ("fd00:10:244::/48"); allowed: a range disjoint from it']],
    ['the IPv6 service subnet is wider than /108', { serviceSubnets: { ipv6: 'fd00:10:96::/104' } },
      ['serviceSubnets.ipv6: got "fd00:10:96::/104", wider than kube-apiserver accepts; allowed: a prefix of /108 or longer']],
    ['the IPv4 service subnet is wider than /12', { serviceSubnets: { ipv4: '10.0.0.0/8' } },
      ['serviceSubnets.ipv4: got "10.0.0.0/8", wider than kube-apiserver accepts; allowed: a prefix of /12 or longer']],
    ['IPIP is set on the IPv6 pool', { pools: { ipv6: { ipipMode: 'Always', vxlanMode: 'Never' } } },
      ['pools.ipv6.ipipMode: got "Always"; allowed: "Never" (Calico has no IP-in-IP for IPv6; use vxlanMode)']],
    ['IPIP and VXLAN are both on', { pools: { ipv4: { ipipMode: 'CrossSubnet' } } },
      ['pools.ipv4.ipipMode: got "CrossSubnet" while vxlanMode is "CrossSubnet"; allowed: "Never" unless vxlanMode is "Never" (a pool uses one encapsulation)']],
    ['an encapsulation mode is misspelled', { pools: { ipv6: { vxlanMode: 'always' } } },
      ['pools.ipv6.vxlanMode: got "always"; allowed: "Never", "Always", "CrossSubnet"']],
    ['a top-level key is unknown', { clustername: 'x' },
      ['clustername: unknown key; allowed keys here: clusterName, workers, kindNodeImage, ipFamilies, pools, serviceSubnets, multitool, routing, bgp, router, policy, externalHost, nat64, dns']],
    ['a nested key is misspelled', { pools: { ipv4: { natOutgoin: true } } },
      ['pools.ipv4.natOutgoin: unknown key; allowed keys here: cidr, blockSize, vxlanMode, ipipMode, natOutgoing']],
    ['natOutgoing is a string', { pools: { ipv4: { natOutgoing: 'yes' } } },
      ['pools.ipv4.natOutgoing: got "yes"; allowed: a value of type boolean']],
    ['the cluster name is not DNS-1123', { clusterName: 'IPv6_Lab' },
      ["clusterName: got \"IPv6_Lab\"; allowed: a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)"]],
    ['a port is out of range', { multitool: { port: 70000 } },
      ['multitool.port: got 70000; allowed: an integer from 1 to 65535']],
    ['a service port is zero', { multitool: { servicePort: 0 } },
      ['multitool.servicePort: got 0; allowed: an integer from 1 to 65535']],
    ['a port is a string', { multitool: { port: '8080' } },
      ['multitool.port: got "8080"; allowed: a value of type integer']],
    ['workers is negative', { workers: -1 },
      ['workers: got -1; allowed: an integer from 1 to 10']],
    // The cross-node checks (pod to pod on another node) can never pass on a control plane alone.
    ['there are no workers', { workers: 0 },
      ['workers: got 0; allowed: an integer from 1 to 10']],
    ['an image reference is malformed', { multitool: { image: 'Wbitt/Network Multitool' } },
      ['multitool.image: got "Wbitt/Network Multitool"; allowed: an image reference such as "registry/name:tag" or "name@sha256:<64 hex>"']],
    ['policy is neither off nor on', { policy: 'yes' },
      ['policy: got "yes"; allowed: "off", "on"']],
    // YAML 1.1 tools write booleans for on/off; the lab parses YAML 1.2, where they are strings.
    ['policy is a boolean', { policy: true },
      ['policy: got true; allowed: "off", "on"']],
    ['the external host IPv4 address is a CIDR', { externalHost: { ipv4: '172.18.255.250/32' } },
      ['externalHost.ipv4: got "172.18.255.250/32", which is not a single address; allowed: an IPv4 address such as 172.18.255.250 (no prefix length)']],
    ['the external host IPv6 address is malformed', { externalHost: { ipv6: 'fc00:f853:ccd:e793::ffff::fa' } },
      ['externalHost.ipv6: got "fc00:f853:ccd:e793::ffff::fa", which is not an address; allowed: an IPv6 address such as fc00:f853:ccd:e793:ffff::fa']],
    ['the external host addresses are swapped', { externalHost: { ipv4: 'fc00:f853:ccd:e793:ffff::fa', ipv6: '172.18.255.250' } },
      ['externalHost.ipv4: got "fc00:f853:ccd:e793:ffff::fa", an IPv6 address in the ipv4 slot; allowed: an IPv4 address such as 172.18.255.250',
        'externalHost.ipv6: got "172.18.255.250", an IPv4 address in the ipv6 slot; allowed: an IPv6 address such as fc00:f853:ccd:e793:ffff::fa']],
    ['the external host IPv6 address is link-local', { externalHost: { ipv6: 'fe80::fa' } },
      ['externalHost.ipv6: got "fe80::fa", a link-local address; allowed: an IPv6 address such as fc00:f853:ccd:e793:ffff::fa']],
    ['the external host IPv4 address is in a pool', { externalHost: { ipv4: '192.168.7.7' } },
      ['externalHost.ipv4: got "192.168.7.7", inside pools.ipv4.cidr ("192.168.0.0/16"): the pods would route it into the cluster, not to the external host; allowed: an address outside the pools and Service ranges, on kind\'s Docker network']],
    ['the external host IPv6 address is in the Service range', { externalHost: { ipv6: 'fd00:10:96::fa' } },
      ['externalHost.ipv6: got "fd00:10:96::fa", inside serviceSubnets.ipv6 ("fd00:10:96::/112"): the pods would route it into the cluster, not to the external host; allowed: an address outside the pools and Service ranges, on kind\'s Docker network']],
    ['an external host key is misspelled', { externalHost: { ip6: 'fc00::1' } },
      ['externalHost.ip6: unknown key; allowed keys here: ipv4, ipv6']],
    ['the document is not a mapping', ['clusterName'],
      ['(top level): got ["clusterName"]; allowed: a value of type object']],
    // routing: bgp (docs/bgp.md)
    ['routing is misspelled', { routing: 'BGP' },
      ['routing: got "BGP"; allowed: "vxlan", "bgp"']],
    ['a pool keeps VXLAN under routing bgp', { routing: 'bgp', pools: { ipv4: { vxlanMode: 'CrossSubnet' } } },
      ['pools.ipv4.vxlanMode: got "CrossSubnet" with routing "bgp"; allowed: "Never" (routing "bgp" carries pod traffic unencapsulated, on routes the nodes announce)']],
    ['a pool uses IP-in-IP under routing bgp', { routing: 'bgp', pools: { ipv4: { ipipMode: 'Always' } } },
      ['pools.ipv4.ipipMode: got "Always" with routing "bgp"; allowed: "Never" (routing "bgp" carries pod traffic unencapsulated, on routes the nodes announce)']],
    ['the IPv6 pool uses IP-in-IP under routing bgp: one message, the IPv6 one', { routing: 'bgp', pools: { ipv6: { ipipMode: 'Always' } } },
      ['pools.ipv6.ipipMode: got "Always"; allowed: "Never" (Calico has no IP-in-IP for IPv6; use vxlanMode)']],
    ['the router shares the cluster\'s AS', { routing: 'bgp', router: { asNumber: 64512 } },
      ['router.asNumber: got 64512, the cluster\'s AS number (bgp.asNumber); allowed: another AS number (the lab peers the cluster with the router over eBGP)']],
    ['the cluster AS is AS_TRANS', { routing: 'bgp', bgp: { asNumber: 23456 } },
      ['bgp.asNumber: got 23456, AS_TRANS (RFC 6793), the placeholder two-octet speakers see for a four-octet AS; allowed: an AS number from 1 to 4294967295, best 64512-65534 or 4200000000-4294967294 (private use, RFC 6996)']],
    ['the router AS is in IANA\'s reserved range', { routing: 'bgp', router: { asNumber: 65600 } },
      ['router.asNumber: got 65600, reserved by IANA (65552-131071); allowed: an AS number from 1 to 4294967295, best 64512-65534 or 4200000000-4294967294 (private use, RFC 6996)']],
    ['an AS number is 0', { routing: 'bgp', bgp: { asNumber: 0 } },
      ['bgp.asNumber: got 0; allowed: an AS number from 1 to 4294967295, best 64512-65534 or 4200000000-4294967294 (private use, RFC 6996)']],
    ['an AS number needs more than 32 bits', { routing: 'bgp', router: { asNumber: 4294967296 } },
      ['router.asNumber: got 4294967296; allowed: an AS number from 1 to 4294967295, best 64512-65534 or 4200000000-4294967294 (private use, RFC 6996)']],
    ['the router\'s address lies in a pool', { routing: 'bgp', router: { peerIPs: { ipv4: '192.168.255.254' } } },
      ['router.peerIPs.ipv4: got "192.168.255.254", inside pools.ipv4.cidr ("192.168.0.0/16"); allowed: an address outside every pool and Service range, on kind\'s Docker network']],
    ['the router\'s address lies in a Service range', { routing: 'bgp', router: { peerIPs: { ipv6: 'fd00:10:96::fffe' } } },
      ['router.peerIPs.ipv6: got "fd00:10:96::fffe", inside serviceSubnets.ipv6 ("fd00:10:96::/112"); allowed: an address outside every pool and Service range, on kind\'s Docker network']],
    ['the router\'s address is off kind\'s network', { routing: 'bgp', router: { peerIPs: { ipv4: '172.19.0.254' } } },
      ['router.peerIPs.ipv4: got "172.19.0.254", outside router.network.ipv4 ("172.18.0.0/16"); allowed: an IPv4 address of kind\'s Docker network']],
    ['the router\'s address is loopback', { routing: 'bgp', router: { peerIPs: { ipv6: '::1' } } },
      ['router.peerIPs.ipv6: got "::1", a loopback address; allowed: an IPv6 address such as fc00:f853:ccd:e793::fffe']],
    ['the router\'s address is unspecified', { routing: 'bgp', router: { peerIPs: { ipv4: '0.0.0.0' } } },
      ['router.peerIPs.ipv4: got "0.0.0.0", the unspecified address; allowed: an IPv4 address such as 172.18.255.254']],
    ['the router\'s address is Docker\'s gateway', { routing: 'bgp', router: { peerIPs: { ipv6: 'fc00:f853:ccd:e793::1' } } },
      ['router.peerIPs.ipv6: got "fc00:f853:ccd:e793::1", Docker\'s gateway (the network\'s first address) of router.network.ipv6 ("fc00:f853:ccd:e793::/64"); allowed: another address of that network, best one at its far end']],
    ['the router\'s address is the broadcast address', { routing: 'bgp', router: { peerIPs: { ipv4: '172.18.255.255' } } },
      ['router.peerIPs.ipv4: got "172.18.255.255", the broadcast address of router.network.ipv4 ("172.18.0.0/16"); allowed: another address of that network, best one at its far end']],
    ['the router\'s address is the network address', { routing: 'bgp', router: { peerIPs: { ipv4: '172.18.0.0' } } },
      ['router.peerIPs.ipv4: got "172.18.0.0", the network address of router.network.ipv4 ("172.18.0.0/16"); allowed: another address of that network, best one at its far end']],
    ['the router\'s IPv4 slot holds an IPv6 address', { routing: 'bgp', router: { peerIPs: { ipv4: 'fc00:f853:ccd:e793::fffe' } } },
      ['router.peerIPs.ipv4: got "fc00:f853:ccd:e793::fffe", an IPv6 address in the ipv4 slot; allowed: an IPv4 address such as 172.18.255.254']],
    ['the router\'s address is a CIDR', { routing: 'bgp', router: { peerIPs: { ipv4: '172.18.255.254/16' } } },
      ['router.peerIPs.ipv4: got "172.18.255.254/16", which is not a single address; allowed: an IPv4 address such as 172.18.255.254 (no prefix length)']],
    ['kind\'s network overlaps a pool', { routing: 'bgp', pools: { ipv4: { cidr: '172.16.0.0/12' } } },
      ['router.network.ipv4: got "172.18.0.0/16", which overlaps pools.ipv4.cidr ("172.16.0.0/12"); allowed: kind\'s Docker network, disjoint from every pool and Service range',
        'router.peerIPs.ipv4: got "172.18.255.254", inside pools.ipv4.cidr ("172.16.0.0/12"); allowed: an address outside every pool and Service range, on kind\'s Docker network']],
    ['a router key is set while routing is vxlan', { router: { asNumber: 65100 } },
      ['router.asNumber: got 65100 while routing is "vxlan", where it does nothing; allowed: the default 65000, or routing: "bgp"']],
    ['the cluster AS is set while routing is vxlan', { bgp: { asNumber: 64600 } },
      ['bgp.asNumber: got 64600 while routing is "vxlan", where it does nothing; allowed: the default 64512, or routing: "bgp"']],
    // ipFamilies: the two family sets the lab offers, nothing else.
    ['ipFamilies is empty', { ipFamilies: [] },
      ['ipFamilies: got [], an empty list; allowed: ["IPv4","IPv6"] (dual-stack, the default) or ["IPv6"] (IPv6-only)']],
    ['ipFamilies names a family twice', { ipFamilies: ['IPv6', 'IPv6'] },
      ['ipFamilies: got ["IPv6","IPv6"], which names a family twice; allowed: ["IPv4","IPv6"] (dual-stack, the default) or ["IPv6"] (IPv6-only)']],
    ['ipFamilies is IPv4 alone', { ipFamilies: ['IPv4'] },
      ['ipFamilies: got ["IPv4"], an IPv4-only lab; allowed: ["IPv4","IPv6"] (dual-stack, the default) or ["IPv6"] (IPv6-only) (this lab teaches IPv6 pod networking: an IPv4-only cluster has none)']],
    ['ipFamilies puts IPv6 first', { ipFamilies: ['IPv6', 'IPv4'] },
      [`ipFamilies: got ["IPv6","IPv4"], IPv6-primary dual-stack; allowed: ["IPv4","IPv6"] (dual-stack, the default) or ["IPv6"] (IPv6-only) (the lab's dual-stack is IPv4-primary, as its README: kind and the Services take the first family as primary)`]],
    ['a family is spelled in lower case', { ipFamilies: ['ipv6'] },
      ['ipFamilies.0: got "ipv6"; allowed: "IPv4", "IPv6"']],
    ['ipFamilies is a string', { ipFamilies: 'IPv6' },
      ['ipFamilies: got "IPv6"; allowed: a value of type array']],
    ['an IPv6-only lab configures an IPv4 pool and service range', { ipFamilies: ['IPv6'], pools: { ipv4: { natOutgoing: false } }, serviceSubnets: { ipv4: '10.96.0.0/16' } }, [
      'pools.ipv4: got {"natOutgoing":false}, an IPv4 pool; allowed: no IPv4 pool: an IPv6-only lab (ipFamilies ["IPv6"]) has none; remove it, or set ipFamilies to ["IPv4", "IPv6"]',
      'serviceSubnets.ipv4: got "10.96.0.0/16", an IPv4 service range; allowed: no IPv4 service range: an IPv6-only lab (ipFamilies ["IPv6"]) has none; remove it, or set ipFamilies to ["IPv4", "IPv6"]',
    ]],
    ['a dual-stack lab configures NAT64 and DNS', { nat64: { prefix: 'fd00:10:64::/96' }, dns: { upstream: 'fd00::53' } }, [
      'nat64: got {"prefix":"fd00:10:64::/96"} in a dual-stack lab; allowed: nat64 only with ipFamilies ["IPv6"] (pods with an IPv4 address need no NAT64 or DNS64)',
      'dns: got {"upstream":"fd00::53"} in a dual-stack lab; allowed: dns only with ipFamilies ["IPv6"] (pods with an IPv4 address need no NAT64 or DNS64)',
    ]],
    ['the NAT64 prefix is the well-known 64:ff9b::/96', { ipFamilies: ['IPv6'], nat64: { prefix: '64:ff9b::/96' } },
      [`nat64.prefix: got "64:ff9b::/96", the well-known prefix; allowed: a network-specific /96 such as fd00:10:64::/96 (RFC 6052 forbids the well-known prefix for private IPv4 addresses, tayga drops them, and the lab's IPv4 hosts are on Docker's private network)`]],
    ['the NAT64 prefix is RFC 8215\'s local-use 64:ff9b:1::/96, which Debian 12\'s tayga refuses', { ipFamilies: ['IPv6'], nat64: { prefix: '64:ff9b:1::/96' } },
      ['nat64.prefix: got "64:ff9b:1::/96", inside ::/8; allowed: a network-specific /96 such as fd00:10:64::/96 (Debian 12\'s tayga 0.9.2 refuses ::/8 as reserved, RFC 8215\'s 64:ff9b:1::/48 included: "Cannot use reserved address ... in prefix directive")']],
    ['the NAT64 prefix is multicast', { ipFamilies: ['IPv6'], nat64: { prefix: 'ff05:64::/96' } },
      ['nat64.prefix: got "ff05:64::/96", a multicast range; allowed: a unicast /96 such as fd00:10:64::/96']],
    ['the NAT64 prefix is not a /96', { ipFamilies: ['IPv6'], nat64: { prefix: 'fd00:10:64::/64' } },
      ["nat64.prefix: got \"fd00:10:64::/64\"; allowed: a /96, so that the last 32 bits of an address are the IPv4 address (CoreDNS's dns64 and tayga both accept it)"]],
    ['the NAT64 prefix is IPv4', { ipFamilies: ['IPv6'], nat64: { prefix: '10.64.0.0/16' } },
      ['nat64.prefix: got "10.64.0.0/16", an IPv4 CIDR in the ipv6 slot; allowed: an IPv6 CIDR such as fd00:10:64::/96']],
    ['the NAT64 prefix overlaps the pod pool', { ipFamilies: ['IPv6'], nat64: { prefix: 'fd00:10:244:64::/96' } },
      ['nat64.prefix: got "fd00:10:244:64::/96", which overlaps pools.ipv6.cidr ("fd00:10:244::/48"); allowed: a range disjoint from it']],
    ['the NAT64 pool is a single address', { ipFamilies: ['IPv6'], nat64: { ipv4Pool: '192.168.255.1/32' } },
      ['nat64.ipv4Pool: got "192.168.255.1/32"; allowed: a prefix of /31 or shorter (tayga keeps the lowest address of its dynamic pool, and takes the next one for itself)']],
    ['the NAT64 pool is IPv6', { ipFamilies: ['IPv6'], nat64: { ipv4Pool: 'fd00:64::/120' } },
      ['nat64.ipv4Pool: got "fd00:64::/120", an IPv6 CIDR in the ipv4 slot; allowed: an IPv4 CIDR such as 192.168.255.0/24']],
    ['the NAT64 gateway is inside the service range', { ipFamilies: ['IPv6'], nat64: { gateway: 'fd00:10:96::64' } },
      ["nat64.gateway: got \"fd00:10:96::64\", which is inside serviceSubnets.ipv6; allowed: an IPv6 address on kind's Docker network such as fc00:f853:ccd:e793::64, outside the cluster's ranges"]],
    ['the DNS upstream is IPv4, which an IPv6-only CoreDNS cannot reach', { ipFamilies: ['IPv6'], dns: { upstream: '172.18.0.1' } },
      ["dns.upstream: got \"172.18.0.1\", which is not an IPv6 address; allowed: an IPv6 address on kind's Docker network such as fc00:f853:ccd:e793::53"]],
    ['the DNS upstream is link-local', { ipFamilies: ['IPv6'], dns: { upstream: 'fe80::1' } },
      ["dns.upstream: got \"fe80::1\", a linkLocal address; allowed: an IPv6 address on kind's Docker network such as fc00:f853:ccd:e793::53"]],
    ['a NAT64 key is misspelled', { ipFamilies: ['IPv6'], nat64: { pool: '10.0.0.0/24' } },
      ['nat64.pool: unknown key; allowed keys here: prefix, gateway, ipv4Pool']],
    ['the DNS forwarder and the NAT64 share an address', { ipFamilies: ['IPv6'], nat64: { gateway: 'fc00:f853:ccd:e793::64' }, dns: { upstream: 'fc00:f853:ccd:e793:0::64' } },
      ["dns.upstream: got \"fc00:f853:ccd:e793:0::64\", the address of nat64.gateway; allowed: another IPv6 address on kind's Docker network such as fc00:f853:ccd:e793::53 (deploy.sh starts the DNS forwarder and the NAT64 as two containers, each at its own address)"]],
    ['an IPv6-only BGP lab gives the router IPv4 values', { ipFamilies: ['IPv6'], routing: 'bgp', router: { peerIPs: { ipv4: '172.18.255.254' }, network: { ipv4: '172.18.0.0/16' } } }, [
      'router.peerIPs.ipv4: got "172.18.255.254", an IPv4 value for the BGP router; allowed: none: the nodes of an IPv6-only lab (ipFamilies ["IPv6"]) peer over IPv6 only; remove it, or set ipFamilies to ["IPv4", "IPv6"]',
      'router.network.ipv4: got "172.18.0.0/16", an IPv4 value for the BGP router; allowed: none: the nodes of an IPv6-only lab (ipFamilies ["IPv6"]) peer over IPv6 only; remove it, or set ipFamilies to ["IPv4", "IPv6"]',
    ]],
  ])('fails if %s', (_what, input, expected) => {
    expect(problemsFor(input)).toEqual(expected);
  });

  test('reports every problem at once, one line each', () => {
    const problems = problemsFor({ clusterName: 'Bad_Name', pools: { ipv4: { blockSize: 40 }, ipv6: { vxlanMode: 'sometimes' } } });
    expect(problems).toHaveLength(3);
  });

  test('reports each semantic problem even when several exist', () => {
    const problems = problemsFor({ pools: { ipv4: { cidr: 'nope' }, ipv6: { cidr: '10.0.0.0/8' } }, serviceSubnets: { ipv6: 'fd00::/64' } });
    expect(problems.map(p => p.split(':')[0])).toEqual(['pools.ipv4.cidr', 'pools.ipv6.cidr', 'serviceSubnets.ipv6']);
  });

  test('fails if the YAML has a syntax error, naming the line', () => {
    const problems = problemsOf(() => parseLabConfigYaml('clusterName: lab\npools:\n  ipv4: {cidr: [\n', 'lab.config.yaml'));
    expect(problems[0]).toMatch(/^line \d+, column \d+: YAML syntax error: /);
  });

  test('fails if a key is repeated in the YAML', () => {
    expect(problemsOf(() => parseLabConfigYaml('workers: 1\nworkers: 2\n', 'f'))[0]).toMatch(/^line 2, column 1: YAML syntax error: Map keys must be unique/);
  });

  describe('special-purpose ranges', () => {
    test.each<[string, unknown, string[]]>([
      ['a pool lies in IPv4 link-local', { pools: { ipv4: { cidr: '169.254.0.0/20' } } },
        ["pools.ipv4.cidr: got \"169.254.0.0/20\", which lies in 169.254.0.0/16, IPv4 link-local (RFC 3927): never routed off its link, and every Calico pod's gateway is 169.254.1.1: Calico refuses pools that overlap it; allowed: a range clear of the special-purpose ranges that docs/configuration.md lists, such as 192.168.0.0/16"]],
      ['an IPv6 pool of /9 swallows link-local and site-local', { pools: { ipv6: { cidr: 'fe80::/9' } } },
        ["pools.ipv6.cidr: got \"fe80::/9\", which overlaps fe80::/10, IPv6 link-local (RFC 4291): never routed off its link, and every Calico pod's gateway is a link-local address: Calico refuses pools that overlap it; and fec0::/10, IPv6 deprecated site-local (RFC 3879): deprecated, and Linux still gives these addresses site scope; allowed: a range clear of the special-purpose ranges that docs/configuration.md lists, such as fd00:10:244::/48"]],
      ['the IPv4 Service range is multicast', { serviceSubnets: { ipv4: '224.0.0.0/16' } },
        ['serviceSubnets.ipv4: got "224.0.0.0/16", which lies in 224.0.0.0/4, IPv4 multicast (RFC 5771): group addresses, not a unicast address a pod or a Service can own; allowed: a range clear of the special-purpose ranges that docs/configuration.md lists, such as 10.96.0.0/16']],
      ['the IPv6 Service range is in the NAT64 prefix', { serviceSubnets: { ipv6: '64:ff9b::/112' } },
        [expect.stringMatching(/^serviceSubnets\.ipv6: got "64:ff9b::\/112", which lies in 64:ff9b::\/96, IPv6 NAT64 well-known prefix \(RFC 6052\): .*; allowed: .* such as fd00:10:96::\/112$/) as unknown as string]],
      ['the IPv6 pool is IPv4-mapped', { pools: { ipv6: { cidr: '::ffff:a00:0/120', blockSize: 124 } } },
        [expect.stringMatching(/^pools\.ipv6\.cidr: got "::ffff:a00:0\/120", which lies in ::ffff:0:0\/96, IPv6 IPv4-mapped \(RFC 4291\)/) as unknown as string]],
      ['the IPv4 pool is loopback and the Service range class E', { pools: { ipv4: { cidr: '127.0.0.0/16' } }, serviceSubnets: { ipv4: '240.0.0.0/16' } }, [
        expect.stringMatching(/^pools\.ipv4\.cidr: got "127\.0\.0\.0\/16", which lies in 127\.0\.0\.0\/8, IPv4 loopback/) as unknown as string,
        expect.stringMatching(/^serviceSubnets\.ipv4: got "240\.0\.0\.0\/16", which lies in 240\.0\.0\.0\/4, IPv4 reserved, formerly class E/) as unknown as string,
      ]],
    ])('fails if %s', (_what, input, expected) => {
      expect(problemsFor(input)).toEqual(expected);
    });

    test('documentation, CGNAT, benchmarking and ULA ranges are fine for a lab', () => {
      expect(() => resolveLabConfig({
        pools: { ipv4: { cidr: '100.64.0.0/16' }, ipv6: { cidr: '2001:db8:42::/56' } },
        serviceSubnets: { ipv4: '198.18.0.0/16', ipv6: '2001:db8:42:1::/112' },
      })).toThrow(/serviceSubnets\.ipv6: got "2001:db8:42:1::\/112", which overlaps pools\.ipv6\.cidr/);
      expect(resolveLabConfig({
        pools: { ipv4: { cidr: '100.64.0.0/16' }, ipv6: { cidr: '2001:db8:42::/64' } },
        serviceSubnets: { ipv4: '198.18.0.0/16', ipv6: 'fd00:96::/112' },
      }).pools.ipv6.cidr).toBe('2001:db8:42::/64');
    });

    test('a CIDR already refused for its syntax gets no second message', () => {
      expect(problemsFor({ pools: { ipv6: { cidr: 'fe80::1/64' } } })).toEqual([
        'pools.ipv6.cidr: got "fe80::1/64", which has host bits set; allowed: the network address fe80::/64',
      ]);
    });
  });

  describe('pool capacity', () => {
    test.each<[string, unknown, string[]]>([
      ['a pool has fewer blocks than nodes', { pools: { ipv4: { cidr: '10.10.0.0/25', blockSize: 26 } } },
        ['pools.ipv4.blockSize: got 26 for the pool 10.10.0.0/25: 2 blocks of /26 for 3 nodes (1 control plane + 2 workers), and every node needs a block of its own; allowed: a blockSize of 27 or more (at most 32), or a pool prefix of /24 or shorter']],
      ['an IPv6 pool is one block', { workers: 1, pools: { ipv6: { cidr: 'fd00:10:244::/122' } } },
        ['pools.ipv6.blockSize: got 122 for the pool fd00:10:244::/122: 1 block of /122 for 2 nodes (1 control plane + 1 worker), and every node needs a block of its own; allowed: a blockSize of 123 or more (at most 128), or a pool prefix of /121 or shorter']],
      ['only the smallest blocks fit the nodes', { workers: 10, pools: { ipv4: { cidr: '10.10.0.0/28', blockSize: 31 } } },
        ['pools.ipv4.blockSize: got 31 for the pool 10.10.0.0/28: 8 blocks of /31 for 11 nodes (1 control plane + 10 workers), and every node needs a block of its own; allowed: a blockSize of 32, or a pool prefix of /27 or shorter']],
      ['no block size can fit the nodes', { workers: 10, pools: { ipv4: { cidr: '10.10.0.0/29', blockSize: 32 } } }, [
        'pools.ipv4.cidr: got "10.10.0.0/29", 8 addresses; kubeadm refuses a pod subnet of fewer than 14; allowed: a prefix of /28 or shorter',
        'pools.ipv4.blockSize: got 32 for the pool 10.10.0.0/29: 8 blocks of /32 for 11 nodes (1 control plane + 10 workers), and every node needs a block of its own; allowed: a pool prefix of /28 or shorter',
      ]],
      ['a pod subnet is smaller than kubeadm allows', { pools: { ipv4: { cidr: '10.10.0.0/29', blockSize: 32 } } },
        ['pools.ipv4.cidr: got "10.10.0.0/29", 8 addresses; kubeadm refuses a pod subnet of fewer than 14; allowed: a prefix of /28 or shorter']],
    ])('fails if %s', (_what, input, expected) => {
      expect(problemsFor(input)).toEqual(expected);
    });

    test('a pool with exactly one block per node is fine', () => {
      expect(resolveLabConfig({ workers: 3, pools: { ipv4: { cidr: '10.10.0.0/24', blockSize: 26 } } }).pools.ipv4?.cidr).toBe('10.10.0.0/24');
    });

    test('a block size already refused gets no second message', () => {
      expect(problemsFor({ pools: { ipv4: { cidr: '10.10.0.0/24', blockSize: 22 } } }))
        .toEqual(["pools.ipv4.blockSize: got 22, shorter than the pool's prefix /24; allowed: 24 to 32"]);
    });
  });

  describe('warnings', () => {
    const warningsFor = (kindNodeImage: string) => formatWarnings('lab.config.yaml', configWarnings(resolveLabConfig({ kindNodeImage })));

    test('the defaults give none', () => {
      expect(configWarnings(DEFAULT_LAB_CONFIG)).toEqual([]);
    });

    test.each<[string, string, string[]]>([
      ['a Kubernetes version Calico v3.28 is not tested against', `kindest/node:v1.31.2@sha256:${'a'.repeat(64)}`,
        [`warning: lab.config.yaml: kindNodeImage: "kindest/node:v1.31.2@sha256:${'a'.repeat(64)}" runs Kubernetes 1.31; Calico v3.28 is tested against Kubernetes 1.27 to 1.30, and the lab was made for "v1.28.15"`]],
      ['an older one', `kindest/node:v1.26.15@sha256:${'a'.repeat(64)}`, [expect.stringContaining('runs Kubernetes 1.26; Calico v3.28 is tested against Kubernetes 1.27 to 1.30') as unknown as string]],
      ['no digest', 'kindest/node:v1.28.15',
        ['warning: lab.config.yaml: kindNodeImage: "kindest/node:v1.28.15" has no @sha256: digest, so the node image behind it can change under you (kind\'s release notes give each image\'s digest); pinned, it is "kindest/node:v1.28.15@sha256:a7c05c7ae043a0b8c818f5a06188bc2c4098f6cb59ca7d1856df00375d839251"']],
      ['a tag that names no version, and no digest', 'registry.local:5000/kind/node:dev', [
        expect.stringContaining('"registry.local:5000/kind/node:dev" has the tag "dev", which names no Kubernetes version') as unknown as string,
        expect.stringContaining('has no @sha256: digest') as unknown as string,
      ]],
    ])('warns about %s', (_what, image, expected) => {
      expect(warningsFor(image)).toEqual(expected);
    });

    test('a supported version pinned by digest gives none', () => {
      expect(warningsFor(`kindest/node:v1.30.6@sha256:${'b'.repeat(64)}`)).toEqual([]);
      expect(warningsFor(`kindest/node:v1.27.16@sha256:${'b'.repeat(64)}`)).toEqual([]);
    });
  });

  describe('loadLabConfig', () => {
    test('uses the defaults without a file', () => {
      expect(loadLabConfig({ cwd: mkTmp('cfg'), env: {} })).toEqual({ config: DEFAULT_LAB_CONFIG, source: 'defaults' });
    });

    test('reads lab.config.yaml in the working directory', () => {
      const dir = mkTmp('cfg');
      fs.writeFileSync(path.join(dir, 'lab.config.yaml'), 'workers: 1\n');
      expect(loadLabConfig({ cwd: dir, env: {} })).toMatchObject({ config: { workers: 1 }, source: 'lab.config.yaml' });
    });

    test('reads the file named by LAB_CONFIG', () => {
      const dir = mkTmp('cfg');
      fs.writeFileSync(path.join(dir, 'other.yaml'), 'clusterName: other\n');
      expect(loadLabConfig({ cwd: dir, env: { LAB_CONFIG: 'other.yaml' } }).config.clusterName).toBe('other');
    });

    test('fails if LAB_CONFIG names a missing file', () => {
      expect(problemsOf(() => loadLabConfig({ cwd: mkTmp('cfg'), env: { LAB_CONFIG: 'missing.yaml' } })))
        .toEqual(['LAB_CONFIG: got "missing.yaml", which does not exist; allowed: the path of a YAML file']);
    });

    test('names the file in the error message', () => {
      const dir = mkTmp('cfg');
      fs.writeFileSync(path.join(dir, 'lab.config.yaml'), 'workers: eleven\n');
      expect(() => loadLabConfig({ cwd: dir, env: {} })).toThrow(/^invalid lab configuration in lab.config.yaml:\n  - workers: got "eleven"/);
    });
  });
});
