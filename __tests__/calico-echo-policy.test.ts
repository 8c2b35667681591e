import { testApp } from './support/tmp';
import { Chart, Testing } from 'cdk8s';
import { CalicoEchoPolicy, CalicoEchoPolicyProps, calicoSelector } from '../lib/calico-echo-policy';

function synth(props: Partial<CalicoEchoPolicyProps> = {}) {
  const chart = new Chart(testApp(), 'test');
  new CalicoEchoPolicy(chart, 'echo', { podLabels: { app: 'multitool' }, ...props });
  return Testing.synth(chart)[0];
}

const echo = [
  { action: 'Allow', protocol: 'ICMP', ipVersion: 4, icmp: { type: 8 } },
  { action: 'Allow', protocol: 'ICMPv6', ipVersion: 6, icmp: { type: 128 } },
];

describe('CalicoEchoPolicy', () => {
  test('defaults: projectcalico.org/v3, order 100, echo requests of both families in both directions', () => {
    expect(synth()).toEqual({
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-ping', namespace: 'default' },
      spec: { order: 100, selector: "app == 'multitool'", types: ['Ingress', 'Egress'], ingress: echo, egress: echo },
    });
  });

  test('custom: order, name, namespace, several labels in a stable selector', () => {
    const p = synth({ order: 950.5, name: 'ping', namespace: 'lab', podLabels: { tier: 'web', app: 'shop' } });
    expect(p.metadata).toEqual({ name: 'ping', namespace: 'lab' });
    expect(p.spec.order).toBe(950.5);
    expect(p.spec.selector).toBe("app == 'shop' && tier == 'web'");
  });

  // Calico's validator (libcalico-go/lib/validator/v3/validator.go, v3.28.5, validateRule): a rule with
  // ICMP fields needs protocol ICMP or ICMPv6, and protocol ICMP needs ipVersion 4, ICMPv6 ipVersion 6.
  test('every ICMP rule names the protocol and the IP version Calico\'s validator pairs with it', () => {
    const spec = synth().spec;
    for (const rule of [...spec.ingress, ...spec.egress]) {
      expect({ protocol: rule.protocol, ipVersion: rule.ipVersion }).toEqual(rule.protocol === 'ICMP' ? { protocol: 'ICMP', ipVersion: 4 } : { protocol: 'ICMPv6', ipVersion: 6 });
      expect(rule.icmp.type).toBe(rule.ipVersion === 4 ? 8 : 128);
    }
  });

  test('calicoSelector quotes label values and joins them with &&', () => {
    expect(calicoSelector({ app: 'multitool' })).toBe("app == 'multitool'");
    expect(calicoSelector({ b: '2', a: '1' })).toBe("a == '1' && b == '2'");
  });

  test.each([
    ['the order is negative', { order: -1 }, /invalid calico echo policy order -1/],
    ['the order is not finite', { order: Infinity }, /invalid calico echo policy order null/],
    ['the pod labels are empty', { podLabels: {} }, /invalid calico echo policy podLabels \{\}/],
    ['the name is invalid', { name: 'Allow Ping' }, /invalid calico echo policy name "Allow Ping"/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
