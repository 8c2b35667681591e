import { testApp } from './support/tmp';
import { Testing } from 'cdk8s';
import { NetworkPolicyChart, NetworkPolicyChartProps, POLICY_OUTPUT_DIRECTORY } from '../lib/network-policy-chart';

function synth(props: NetworkPolicyChartProps = {}) {
  const chart = new NetworkPolicyChart(testApp(), 'network-policy', props);
  return { chart, objects: Testing.synth(chart) };
}

describe('NetworkPolicyChart', () => {
  test('defaults: the allows, then the default deny, all in the namespace "default"', () => {
    const { chart, objects } = synth();
    expect(objects.map(o => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'NetworkPolicy/default/allow-dns',
      'NetworkPolicy/default/allow-external-host',
      'NetworkPolicy/default/allow-multitool',
      'NetworkPolicy/default/default-deny',
    ]);
    expect(objects.every(o => o.apiVersion === 'networking.k8s.io/v1')).toBe(true);
    expect(chart.outputDirectory).toBe(POLICY_OUTPUT_DIRECTORY);
  });

  test('custom: labels, port and external host addresses reach every policy that uses them', () => {
    const { objects } = synth({ podLabels: { app: 'probe' }, appPort: 9090, externalHostIpv4: '172.19.0.250', externalHostIpv6: 'fc00:1::fa', namespace: 'demo' });
    const byName = Object.fromEntries(objects.map(o => [o.metadata.name, o]));
    expect(Object.keys(byName)).toEqual(['allow-dns', 'allow-external-host', 'allow-probe', 'default-deny']);
    expect(objects.every(o => o.metadata.namespace === 'demo')).toBe(true);
    expect(byName['allow-probe'].spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 9090 }]);
    expect(byName['allow-external-host'].spec.ingress[0].from).toEqual([{ ipBlock: { cidr: 'fc00:1::fa/128' } }]);
    expect(byName['allow-external-host'].spec.egress[0].to).toEqual([{ ipBlock: { cidr: '172.19.0.250/32' } }, { ipBlock: { cidr: 'fc00:1::fa/128' } }]);
  });

  test('accepts Services that target the app port', () => {
    expect(() => synth({ appPort: 8080, services: [{ name: 'multitool-dual-stack', targetPort: 8080 }] })).not.toThrow();
  });

  // verify reaches the pods through the Services: a targetPort the policies do not open locks it out.
  test('fails if a Service targets a port the policies do not open', () => {
    expect(() => synth({ appPort: 8080, services: [{ name: 'multitool-ipv6-only', targetPort: 9090 }] }))
      .toThrow('invalid service "multitool-ipv6-only" targetPort 9090: the policies open only the app port 8080, so traffic through this service would be denied; target port 8080');
  });

  test('fails if the external host address is of the wrong family', () => {
    expect(() => synth({ externalHostIpv6: '172.18.255.250' })).toThrow(/invalid external host IPv6 address: got "172.18.255.250", an IPv4 address in the ipv6 slot/);
  });
});
