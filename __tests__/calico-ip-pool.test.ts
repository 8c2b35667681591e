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
  ])('fails if %s', (_what, props, message) => {
    expect(() => synthPool({ name: 'p', ...(props as any) })).toThrow(message);
  });
});
