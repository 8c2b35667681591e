import { testApp } from './support/tmp';
import { Chart, Testing } from 'cdk8s';
import { DnsEgressPolicy, DnsEgressPolicyProps } from '../lib/dns-egress-policy';

function synth(props: DnsEgressPolicyProps = {}) {
  const chart = new Chart(testApp(), 'test');
  new DnsEgressPolicy(chart, 'dns', props);
  return Testing.synth(chart)[0];
}

describe('DnsEgressPolicy', () => {
  test('defaults: every pod may query the kube-dns pods of kube-system on UDP and TCP 53', () => {
    expect(synth()).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-dns', namespace: 'default' },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{
          to: [{
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          }],
          ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
        }],
      },
    });
  });

  test('custom: selected pods, another DNS deployment and port', () => {
    const np = synth({ podLabels: { app: 'web' }, dnsNamespace: 'dns', dnsPodLabels: { app: 'unbound' }, port: 5353, namespace: 'lab' });
    expect(np.metadata.namespace).toBe('lab');
    expect(np.spec.podSelector).toEqual({ matchLabels: { app: 'web' } });
    expect(np.spec.egress[0].to[0]).toEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dns' } }, podSelector: { matchLabels: { app: 'unbound' } } });
    expect(np.spec.egress[0].ports).toEqual([{ protocol: 'UDP', port: 5353 }, { protocol: 'TCP', port: 5353 }]);
  });

  // kube-proxy DNATs 10.96.0.10 to a CoreDNS pod before Calico's filter chains: an ipBlock of the
  // ClusterIP would never match, and an ipBlock names one family.
  test('selects the DNS pods, never an ipBlock', () => {
    expect(JSON.stringify(synth())).not.toContain('ipBlock');
  });

  test.each([
    ['the DNS pod labels are empty', { dnsPodLabels: {} }, /invalid dnsPodLabels \{\}: it would allow port 53 to every pod of kube-system/],
    ['a label key is invalid', { podLabels: { 'bad key': 'x' } }, /invalid dns policy podLabels .*"bad key"="x" is not a kubernetes label/],
    ['the port is out of range', { port: 0 }, /invalid dns port 0/],
    ['the DNS namespace is not a DNS-1123 label', { dnsNamespace: 'Kube_System' }, /invalid dns namespace "Kube_System"/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props as DnsEgressPolicyProps)).toThrow(message);
  });
});
