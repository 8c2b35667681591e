import { testApp } from './support/tmp';
import { Chart, Testing } from 'cdk8s';
import { ExternalHostPolicy, ExternalHostPolicyProps } from '../lib/external-host-policy';

function synth(props: Partial<ExternalHostPolicyProps> = {}) {
  const chart = new Chart(testApp(), 'test');
  const policy = new ExternalHostPolicy(chart, 'ext', { podLabels: { app: 'multitool' }, ...props });
  return { np: Testing.synth(chart)[0], policy };
}

describe('ExternalHostPolicy', () => {
  test('defaults: ingress from the IPv6 /128 only, egress to the /32 and the /128, on TCP 8080', () => {
    const ports = [{ protocol: 'TCP', port: 8080 }];
    expect(synth().np).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-external-host', namespace: 'default' },
      spec: {
        podSelector: { matchLabels: { app: 'multitool' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ ipBlock: { cidr: 'fc00:f853:ccd:e793:ffff::fa/128' } }], ports }],
        egress: [{ to: [{ ipBlock: { cidr: '172.18.255.250/32' } }, { ipBlock: { cidr: 'fc00:f853:ccd:e793:ffff::fa/128' } }], ports }],
      },
    });
  });

  // The lesson in one assertion: no ipBlock of the host's IPv4 address lets it in.
  test('the host\'s IPv4 address never appears in an ingress rule by default', () => {
    expect(JSON.stringify(synth().np.spec.ingress)).not.toContain('172.18.255.250');
  });

  test('custom: addresses in canonical form, both families in, egress off', () => {
    const { np, policy } = synth({ ipv4: '172.18.200.9', ipv6: 'FC00:F853:0CCD:E793:0:0:0:9', ingressFamilies: ['ipv4', 'ipv6'], egressFamilies: [], port: 9000 });
    expect(policy.addresses).toEqual({ ipv4: '172.18.200.9', ipv6: 'fc00:f853:ccd:e793::9' });
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.egress).toBeUndefined();
    expect(np.spec.ingress[0]).toEqual({
      from: [{ ipBlock: { cidr: '172.18.200.9/32' } }, { ipBlock: { cidr: 'fc00:f853:ccd:e793::9/128' } }],
      ports: [{ protocol: 'TCP', port: 9000 }],
    });
  });

  test.each([
    ['the IPv6 address is an IPv4 one', { ipv6: '172.18.0.9' }, /invalid external host IPv6 address: got "172.18.0.9", an IPv4 address in the ipv6 slot/],
    ['the IPv4 address has a prefix', { ipv4: '172.18.0.9/16' }, /invalid external host IPv4 address: got "172.18.0.9\/16", which is not a single address/],
    ['the IPv6 address is loopback', { ipv6: '::1' }, /a loopback address; allowed/],
    ['a family is unknown', { ingressFamilies: ['ipv5' as never] }, /invalid external host policy ingressFamilies \["ipv5"\]/],
    ['a family repeats', { egressFamilies: ['ipv4', 'ipv4'] }, /invalid external host policy egressFamilies \["ipv4","ipv4"\]/],
    ['both directions are empty', { ingressFamilies: [], egressFamilies: [] }, /would allow nothing/],
    ['the pod labels are empty', { podLabels: {} }, /invalid external host policy podLabels \{\}/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props as Partial<ExternalHostPolicyProps>)).toThrow(message);
  });
});
