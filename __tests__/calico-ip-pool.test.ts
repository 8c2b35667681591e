import { Chart, Testing } from 'cdk8s';
import { CalicoIpPool, CalicoIpPoolProps } from '../lib/calico-ip-pool';
import { testApp } from './support/tmp';

function synthPool(props: CalicoIpPoolProps) {
  const chart = new Chart(testApp(), 'test');
  new CalicoIpPool(chart, 'pool', props);
  return Testing.synth(chart);
}

describe('CalicoIpPool', () => {
  test('defaults', () => {
    const [pool] = synthPool({ name: 'p', cidr: '192.168.0.0/16' });
    expect(pool).toEqual({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'IPPool',
      metadata: { name: 'p' },
      spec: {
        allowedUses: ['Workload', 'Tunnel'],
        blockSize: 26,
        cidr: '192.168.0.0/16',
        disableBGPExport: false,
        disabled: false,
        ipipMode: 'Never',
        natOutgoing: true,
        nodeSelector: 'all()',
        vxlanMode: 'Always',
      },
    });
  });

  test('custom', () => {
    const [pool] = synthPool({
      name: 'v6', cidr: 'fd00:10:244::/48', blockSize: 120, vxlanMode: 'CrossSubnet', natOutgoing: false,
      nodeSelector: 'zone == "a"', allowedUses: ['Workload'], disabled: true, disableBgpExport: true,
    });
    expect(pool.spec).toMatchObject({
      cidr: 'fd00:10:244::/48', blockSize: 120, vxlanMode: 'CrossSubnet', ipipMode: 'Never', natOutgoing: false,
      nodeSelector: 'zone == "a"', allowedUses: ['Workload'], disabled: true, disableBGPExport: true,
    });
  });

  test('defaults the IPv6 block size to 122', () => {
    expect(synthPool({ name: 'p', cidr: 'fd00:10:244::/48' })[0].spec.blockSize).toBe(122);
  });

  // The generated IpPool class maps natOutgoing to the deprecated APIv1 key `nat-outgoing`, which Calico ignores.
  test('emits natOutgoing under the key Calico reads, never nat-outgoing', () => {
    for (const natOutgoing of [true, false]) {
      const [pool] = synthPool({ name: 'p', cidr: '10.0.0.0/16', natOutgoing });
      expect(pool.spec.natOutgoing).toBe(natOutgoing);
      expect(pool.spec).not.toHaveProperty('nat-outgoing');
      expect(pool.spec).not.toHaveProperty('ipip');
    }
  });

  test.each([
    ['the cidr is malformed', { cidr: '192.168.0.0/33' }, /invalid ip pool cidr: got "192.168.0.0\/33"/],
    ['the cidr has host bits set', { cidr: '192.168.1.0/16' }, /host bits set; allowed: the network address 192.168.0.0\/16/],
    ['the block size is outside the family range', { cidr: '10.0.0.0/16', blockSize: 19 }, /block size 19 .* from 20 to 32/],
    ['the block size is shorter than the prefix', { cidr: 'fd00::/120', blockSize: 118 }, /block size 118 .* from 120 to 128/],
    ['ipip is enabled on an IPv6 pool', { cidr: 'fd00::/48', ipipMode: 'Always', vxlanMode: 'Never' }, /ipipMode "Always" for ipv6 pool/],
    ['ipip and vxlan are both enabled', { cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'Always' }, /both enabled/],
    ['an encapsulation mode is unknown', { cidr: '10.0.0.0/16', vxlanMode: 'Sometimes' }, /vxlanMode "Sometimes": must be one of Never, Always, CrossSubnet/],
    ['allowedUses is empty', { cidr: '10.0.0.0/16', allowedUses: [] }, /allowedUses \[\]/],
    // Calico v3.28.5 refuses these (libcalico-go validateIPPoolSpec); crd.projectcalico.org/v1 objects skip that validation.
    ['the IPv4 cidr overlaps link-local', { cidr: '169.254.0.0/24' }, 'invalid ip pool cidr "169.254.0.0/24": overlaps the ipv4 link-local range 169.254.0.0/16, which calico refuses in a pool'],
    ['an IPv6 cidr swallows link-local', { cidr: 'fe80::/9' }, 'invalid ip pool cidr "fe80::/9": overlaps the ipv6 link-local range fe80::/10, which calico refuses in a pool'],
    ['an IPv6 cidr lies in link-local', { cidr: 'fe80::/64', blockSize: 122 }, /overlaps the ipv6 link-local range fe80::\/10/],
    ['the name is not a dns-1123 subdomain', { name: 'Pool_1', cidr: '10.0.0.0/16' }, 'invalid ip pool name "Pool_1": must be a dns-1123 subdomain of at most 253 characters'],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synthPool({ name: 'p', ...(props as any) })).toThrow(message);
  });

  // Calico checks that a pool holds at least one block only when the pool is enabled.
  test('a disabled pool may be smaller than one block, as in Calico', () => {
    expect(synthPool({ name: 'p', cidr: '10.0.0.0/28', blockSize: 26, disabled: true })[0].spec).toMatchObject({ blockSize: 26, disabled: true });
    expect(() => synthPool({ name: 'p', cidr: '10.0.0.0/28', blockSize: 26 })).toThrow(/block size 26 .* from 28 to 32/);
  });

  test('a pool next to link-local, and a dotted name, are accepted', () => {
    expect(synthPool({ name: 'lab.pool-1', cidr: '169.255.0.0/16' })[0].metadata.name).toBe('lab.pool-1');
    expect(synthPool({ name: 'p', cidr: 'fec0::/10' })[0].spec.cidr).toBe('fec0::/10');
  });
});
