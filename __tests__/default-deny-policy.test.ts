import { testApp } from './support/tmp';
import { Chart, Testing } from 'cdk8s';
import { DefaultDenyPolicy, DefaultDenyPolicyProps } from '../lib/default-deny-policy';

function synth(props: DefaultDenyPolicyProps = {}, chartNamespace?: string) {
  const chart = new Chart(testApp(), 'test', { namespace: chartNamespace });
  new DefaultDenyPolicy(chart, 'deny', props);
  return Testing.synth(chart)[0];
}

describe('DefaultDenyPolicy', () => {
  test('defaults: every pod of the namespace, both directions, no rules', () => {
    expect(synth()).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny', namespace: 'default' },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
  });

  test('custom: name and namespace; the chart namespace is the fallback', () => {
    expect(synth({ name: 'deny-all', namespace: 'lab' }).metadata).toEqual({ name: 'deny-all', namespace: 'lab' });
    expect(synth({}, 'demo').metadata.namespace).toBe('demo');
  });

  // The API server does not store empty lists: writing them would make every re-apply "configured".
  test('writes no empty ingress or egress lists', () => {
    expect(Object.keys(synth().spec).sort()).toEqual(['podSelector', 'policyTypes']);
  });

  test.each([
    ['the name is not a DNS-1123 label', { name: 'Deny_All' }, /invalid default deny policy name "Deny_All"/],
    ['the namespace is not a DNS-1123 label', { namespace: 'Lab' }, /invalid default deny policy namespace "Lab"/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
