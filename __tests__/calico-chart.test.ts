import { Testing } from 'cdk8s';
import { CalicoChart, CalicoChartProps } from '../lib/calico-chart';
import { DEFAULT_LAB_CONFIG } from '../lib/config-schema';
import { testApp } from './support/tmp';

function synth(props?: CalicoChartProps) {
  return Testing.synth(new CalicoChart(testApp(), 'calico', props));
}

const installationOf = (objects: any[]) => objects.find(o => o.kind === 'Installation');
const v4 = DEFAULT_LAB_CONFIG.pools.ipv4;
const v6 = DEFAULT_LAB_CONFIG.pools.ipv6;

describe('CalicoChart', () => {
  test('defaults', () => {
    const objects = synth();
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
      'IPPool/default-ipv4-ippool', 'IPPool/default-ipv6-ippool', 'Installation/default', 'APIServer/default',
    ]);
    // Both default pools are VXLAN: Felix programs their routes, so no BIRD.
    expect(installationOf(objects).spec.calicoNetwork.bgp).toBe('Disabled');
  });

  test('custom', () => {
    const objects = synth({ bgp: true, ipv4Pool: { ...v4, cidr: '10.244.0.0/16' } });
    expect(installationOf(objects).spec.calicoNetwork.bgp).toBe('Enabled');
    expect(objects[0].spec.cidr).toBe('10.244.0.0/16');
  });

  test('custom: IPv6-only, the IPv6 pool alone and an Installation without IPv4 autodetection', () => {
    const chart = new CalicoChart(testApp(), 'calico', { ipFamilies: ['IPv6'], ipv6Pool: { ...v6, cidr: 'fd00:20::/56' } });
    const objects = Testing.synth(chart);
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual(['IPPool/default-ipv6-ippool', 'Installation/default', 'APIServer/default']);
    expect(objects[0].spec.cidr).toBe('fd00:20::/56');
    expect(chart.ipv4Pool).toBeUndefined();
    expect(chart.pools).toEqual([chart.ipv6Pool]);
    expect(installationOf(objects).spec.calicoNetwork).not.toHaveProperty('nodeAddressAutodetectionV4');
    expect(installationOf(objects).spec.calicoNetwork.nodeAddressAutodetectionV6).toEqual({ kubernetes: 'NodeInternalIP' });
  });

  test.each([
    ['an IP-in-IP pool', { ...v4, vxlanMode: 'Never', ipipMode: 'Always' }],
    ['an IP-in-IP CrossSubnet pool', { ...v4, vxlanMode: 'Never', ipipMode: 'CrossSubnet' }],
    ['an unencapsulated pool', { ...v4, vxlanMode: 'Never', ipipMode: 'Never' }],
  ] as const)('turns BGP on by default for %s, whose routes only BIRD programs', (_what, ipv4Pool) => {
    expect(installationOf(synth({ ipv4Pool })).spec.calicoNetwork.bgp).toBe('Enabled');
  });

  test('fails if bgp is false and a pool uses IP-in-IP', () => {
    expect(() => synth({ bgp: false, ipv4Pool: { ...v4, vxlanMode: 'Never', ipipMode: 'Always' } })).toThrow(
      'invalid bgp false: pool 192.168.0.0/16 uses ipipMode "Always", and only BIRD programs IP-in-IP routes; '
      + 'set bgp true or use vxlanMode "Always" or "CrossSubnet" with ipipMode "Never"',
    );
  });

  test('fails if an IPv6-only chart is given an IPv4 pool', () => {
    expect(() => synth({ ipFamilies: ['IPv6'], ipv4Pool: v4 })).toThrow(
      'invalid ipv4Pool "192.168.0.0/16" with ipFamilies ["IPv6"]: an ipv6-only chart has no ipv4 pool',
    );
  });

  test('fails if the families are IPv4 alone', () => {
    expect(() => synth({ ipFamilies: ['IPv4'] as any })).toThrow(
      'invalid ipFamilies ["IPv4"]: must be ["IPv4","IPv6"] (dual-stack) or ["IPv6"] (ipv6-only)',
    );
  });

  test('fails if the IPv6-only pool is IPv4', () => {
    expect(() => synth({ ipFamilies: ['IPv6'], ipv6Pool: v4 })).toThrow('invalid pools ["192.168.0.0/16"]: the pool must be ipv6');
  });

  test('fails if bgp is false and a pool is unencapsulated', () => {
    expect(() => synth({ bgp: false, ipv6Pool: { ...v6, vxlanMode: 'Never' } })).toThrow(
      /^invalid bgp false: pool fd00:10:244::\/48 is unencapsulated/,
    );
  });

  describe('with BGP objects', () => {
    const peer = { name: 'router-ipv4', peerIP: '172.18.255.254', asNumber: 65000 };

    test('the BGPConfiguration and BGPPeers come after the pools and before the Installation, and turn BGP on', () => {
      const objects = synth({ bgpConfiguration: { asNumber: 64512 }, bgpPeers: [peer, { ...peer, name: 'router-ipv6', peerIP: 'fc00:f853:ccd:e793::fffe' }] });
      expect(objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
        'IPPool/default-ipv4-ippool', 'IPPool/default-ipv6-ippool', 'BGPConfiguration/default',
        'BGPPeer/router-ipv4', 'BGPPeer/router-ipv6', 'Installation/default', 'APIServer/default',
      ]);
      expect(installationOf(objects).spec.calicoNetwork.bgp).toBe('Enabled');
    });

    test('fails if bgp is false while BGP objects are given', () => {
      expect(() => synth({ bgp: false, bgpPeers: [peer] })).toThrow(
        'invalid bgp false with a bgp configuration or bgp peers: only BIRD reads them; set bgp true or leave them out',
      );
    });

    test('fails if two peers share a name', () => {
      expect(() => synth({ bgpPeers: [peer, peer] })).toThrow('invalid bgp peers ["router-ipv4","router-ipv4"]: every peer needs its own name');
    });
  });
});
