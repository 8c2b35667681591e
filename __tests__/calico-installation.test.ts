import { Chart, Testing } from 'cdk8s';
import { CalicoInstallation, CalicoInstallationProps } from '../lib/calico-installation';

function synth(props?: CalicoInstallationProps) {
  const chart = new Chart(Testing.app(), 'test');
  new CalicoInstallation(chart, 'calico', props);
  return Testing.synth(chart);
}

describe('CalicoInstallation', () => {
  test('defaults', () => {
    const [installation, apiServer] = synth();
    expect(installation).toEqual({
      apiVersion: 'operator.tigera.io/v1',
      kind: 'Installation',
      metadata: { name: 'default' },
      spec: {
        variant: 'Calico',
        cni: { type: 'Calico', ipam: { type: 'Calico' } },
        calicoNetwork: {
          bgp: 'Enabled',
          linuxDataplane: 'Iptables',
          ipPools: [],
          nodeAddressAutodetectionV4: { kubernetes: 'NodeInternalIP' },
          nodeAddressAutodetectionV6: { kubernetes: 'NodeInternalIP' },
        },
      },
    });
    expect(apiServer).toEqual({ apiVersion: 'operator.tigera.io/v1', kind: 'APIServer', metadata: { name: 'default' }, spec: {} });
  });

  test('custom', () => {
    const objects = synth({ bgp: false, mtu: 1400, apiServer: false });
    expect(objects).toHaveLength(1);
    expect(objects[0].spec.calicoNetwork).toMatchObject({ bgp: 'Disabled', mtu: 1400 });
  });

  // An absent ipPools makes the operator create its own default pool; [] means "managed out of band".
  test('keeps the empty ipPools list instead of dropping it', () => {
    const [installation] = synth();
    expect(Array.isArray(installation.spec.calicoNetwork.ipPools)).toBe(true);
    expect(installation.spec.calicoNetwork.ipPools).toHaveLength(0);
  });

  test.each([
    ['the mtu is below the IPv6 minimum', { mtu: 1200 }, /invalid mtu 1200: must be an integer from 1280/],
    ['the mtu is not an integer', { mtu: 1400.5 }, /invalid mtu 1400.5/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
