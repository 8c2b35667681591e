import { testApp } from './support/tmp';
import { Chart, Testing } from 'cdk8s';
import { AppPeerPolicy, AppPeerPolicyProps } from '../lib/app-peer-policy';

function synth(props: Partial<AppPeerPolicyProps> = {}) {
  const chart = new Chart(testApp(), 'test');
  new AppPeerPolicy(chart, 'peers', { podLabels: { app: 'multitool' }, ...props });
  return Testing.synth(chart)[0];
}

describe('AppPeerPolicy', () => {
  test('defaults: the app\'s pods talk to each other on TCP 8080, ingress and egress', () => {
    const peer = [{ podSelector: { matchLabels: { app: 'multitool' } } }];
    const ports = [{ protocol: 'TCP', port: 8080 }];
    expect(synth()).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-multitool', namespace: 'default' },
      spec: {
        podSelector: { matchLabels: { app: 'multitool' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: peer, ports }],
        egress: [{ to: peer, ports }],
      },
    });
  });

  test('custom: labels without app, port, name', () => {
    const np = synth({ podLabels: { tier: 'web' }, port: 9000, namespace: 'lab' });
    expect(np.metadata).toEqual({ name: 'allow-peers', namespace: 'lab' });
    expect(np.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 9000 }]);
    expect(synth({ name: 'web-mesh' }).metadata.name).toBe('web-mesh');
  });

  test.each([
    ['the pod labels are empty', { podLabels: {} }, /invalid app peer policy podLabels \{\}/],
    ['the port is out of range', { port: 65536 }, /invalid app peer policy port 65536/],
    ['a label value is invalid', { podLabels: { app: 'multi tool' } }, /"app"="multi tool" is not a kubernetes label/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
