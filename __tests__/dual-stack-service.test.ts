import { Chart, Testing } from 'cdk8s';
import { DualStackService, DualStackServiceProps } from '../lib/dual-stack-service';
import { testApp } from './support/tmp';

function synth(props: Partial<DualStackServiceProps> = {}) {
  const chart = new Chart(testApp(), 'test');
  new DualStackService(chart, 'svc', { name: 'web', selector: { app: 'web' }, ...props });
  return Testing.synth(chart)[0];
}

describe('DualStackService', () => {
  test('defaults', () => {
    expect(synth()).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      spec: {
        type: 'ClusterIP',
        ipFamilyPolicy: 'RequireDualStack',
        ipFamilies: ['IPv4', 'IPv6'],
        selector: { app: 'web' },
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
      },
    });
  });

  test('custom', () => {
    const svc = synth({ namespace: 'lab', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'], port: 8443, targetPort: 443 });
    expect(svc.metadata.namespace).toBe('lab');
    expect(svc.spec).toMatchObject({ ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'], ports: [{ port: 8443, targetPort: 443 }] });
  });

  test('puts IPv6 first when asked, making it the primary family', () => {
    expect(synth({ ipFamilies: ['IPv6', 'IPv4'] }).spec.ipFamilies).toEqual(['IPv6', 'IPv4']);
  });

  test.each([
    ['SingleStack names two families', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4', 'IPv6'] }, /for SingleStack: must name exactly one family/],
    ['RequireDualStack names one family', { ipFamilies: ['IPv6'] }, /for RequireDualStack: must name both/],
    ['a family repeats', { ipFamilies: ['IPv6', 'IPv6'] }, /must be distinct values/],
    ['a family is unknown', { ipFamilies: ['IPv5'] }, /invalid ipFamilies \["IPv5"\]/],
    ['the policy is unknown', { ipFamilyPolicy: 'DualStack' }, /invalid ipFamilyPolicy "DualStack"/],
    ['the port is out of range', { port: 70000 }, /invalid port 70000: must be an integer from 1 to 65535/],
    ['the target port is zero', { targetPort: 0 }, /invalid targetPort 0/],
    ['the selector is empty', { selector: {} }, /invalid selector \{\}/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props as any)).toThrow(message);
  });
});
