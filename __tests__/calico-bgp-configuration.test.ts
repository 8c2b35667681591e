import { Chart, Testing } from 'cdk8s';
import { CalicoBgpConfiguration, CalicoBgpConfigurationProps } from '../lib/calico-bgp-configuration';
import { testApp } from './support/tmp';

function synth(props?: CalicoBgpConfigurationProps) {
  const chart = new Chart(testApp(), 'test');
  new CalicoBgpConfiguration(chart, 'bgp', props);
  return Testing.synth(chart);
}

describe('CalicoBgpConfiguration', () => {
  test('defaults', () => {
    expect(synth()).toEqual([{
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'BGPConfiguration',
      metadata: { name: 'default' },
      spec: {
        asNumber: 64512,
        logSeverityScreen: 'Info',
        nodeToNodeMeshEnabled: true,
        serviceClusterIPs: [{ cidr: '10.96.0.0/16' }, { cidr: 'fd00:10:96::/112' }],
      },
    }]);
  });

  test('custom', () => {
    const [config] = synth({ asNumber: 4200000000, nodeToNodeMeshEnabled: false, serviceClusterIPs: ['10.97.0.0/16'], logSeverityScreen: 'Debug' });
    expect(config.spec).toEqual({ asNumber: 4200000000, logSeverityScreen: 'Debug', nodeToNodeMeshEnabled: false, serviceClusterIPs: [{ cidr: '10.97.0.0/16' }] });
  });

  // Left out on purpose: each would change what confd renders or what the operator rolls out.
  test('leaves out listenPort, bindMode and the other Service ranges', () => {
    const [config] = synth();
    for (const key of ['listenPort', 'bindMode', 'serviceExternalIPs', 'serviceLoadBalancerIPs', 'communities', 'prefixAdvertisements']) {
      expect(config.spec).not.toHaveProperty(key);
    }
  });

  test('an empty Service list advertises none', () => {
    expect(synth({ serviceClusterIPs: [] })[0].spec.serviceClusterIPs).toEqual([]);
  });

  test.each<[string, CalicoBgpConfigurationProps, RegExp]>([
    ['the AS number is 0', { asNumber: 0 }, /^invalid bgp configuration as number: got 0, reserved \(RFC 7607/],
    ['the AS number is AS_TRANS', { asNumber: 23456 }, /got 23456, AS_TRANS \(RFC 6793\)/],
    ['the AS number does not fit 32 bits', { asNumber: 4294967296 }, /got 4294967296; allowed: an AS number from 1 to 4294967295/],
    ['the AS number is not an integer', { asNumber: 64512.5 }, /got 64512.5; allowed/],
    ['a Service range is not a CIDR', { serviceClusterIPs: ['10.96.0.1'] }, /invalid bgp configuration service cluster ip range: got "10.96.0.1", which is not a valid CIDR/],
    ['a Service range has host bits set', { serviceClusterIPs: ['fd00:10:96::1/112'] }, /host bits set/],
    ['a Service range repeats', { serviceClusterIPs: ['10.96.0.0/16', '10.96.0.0/16'] }, /must not repeat a range/],
    ['the log level is unknown', { logSeverityScreen: 'Verbose' as any }, /log severity "Verbose": must be one of Debug, Info, Warning, Error, Fatal/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
