import { Chart, Testing } from 'cdk8s';
import { CalicoInstallation, CalicoInstallationProps } from '../lib/calico-installation';
import { testApp } from './support/tmp';

function synth(props?: CalicoInstallationProps) {
  const chart = new Chart(testApp(), 'test');
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
          bgp: 'Disabled',
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
    const objects = synth({ bgp: true, mtu: 1400, apiServer: false });
    expect(objects).toHaveLength(1);
    expect(objects[0].spec.calicoNetwork).toMatchObject({ bgp: 'Enabled', mtu: 1400 });
  });

  // Operator v1.34.13 renders IP=none from an absent nodeAddressAutodetectionV4 when no IPv4 pool exists
  // (core_controller.go fillDefaults, render/node.go): calico-node then looks for no IPv4 address.
  test('custom: IPv6-only leaves nodeAddressAutodetectionV4 out and keeps IPv6 autodetection', () => {
    const [installation] = synth({ ipFamilies: ['IPv6'] });
    expect(installation.spec.calicoNetwork).toEqual({
      bgp: 'Disabled',
      linuxDataplane: 'Iptables',
      ipPools: [],
      nodeAddressAutodetectionV6: { kubernetes: 'NodeInternalIP' },
    });
  });

  test('fails if the families are not a lab family set', () => {
    expect(() => synth({ ipFamilies: ['IPv6', 'IPv4'] as any })).toThrow(/^invalid ipFamilies \["IPv6","IPv4"\]/);
  });

  // bgp Enabled makes the operator render CALICO_NETWORKING_BACKEND=bird (measured with the real operator,
  // ../shared/calico/v3.28.5/dataplane/calico-node-env-bgp-enabled.txt); VXLAN pools need no BIRD.
  test.each([
    [undefined, 'Disabled'],
    [false, 'Disabled'],
    [true, 'Enabled'],
  ])('bgp %s renders calicoNetwork.bgp %s', (bgp, expected) => {
    const [installation] = synth({ bgp });
    expect(installation.spec.calicoNetwork.bgp).toBe(expected);
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
