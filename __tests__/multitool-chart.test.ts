import { Testing } from 'cdk8s';
import { DEFAULT_APP_PORT, DEFAULT_SERVICE_PORT } from '../lib/defaults';
import { MultitoolChart, MultitoolChartProps } from '../lib/multitool-chart';
import { testApp } from './support/tmp';

function synth(props?: MultitoolChartProps) {
  return Testing.synth(new MultitoolChart(testApp(), 'multitool', props));
}

describe('MultitoolChart', () => {
  test('defaults: the DaemonSet, its ConfigMap and both Services in namespace default, port 80 -> 8080', () => {
    const objects = synth();
    expect(objects.map(o => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'ConfigMap/default/multitool-nginx',
      'DaemonSet/default/multitool',
      'Service/default/multitool-dual-stack',
      'Service/default/multitool-ipv6-only',
    ]);
    for (const svc of objects.filter(o => o.kind === 'Service')) {
      expect(svc.spec.ports).toEqual([{ name: 'http', protocol: 'TCP', port: DEFAULT_SERVICE_PORT, targetPort: DEFAULT_APP_PORT }]);
    }
  });

  // An IPv6-only API server refuses RequireDualStack; the dual-stack Service is left out, not renamed.
  test('custom: IPv6-only, the IPv6-only Service alone and nginx on [::] alone', () => {
    const chart = new MultitoolChart(testApp(), 'multitool', { ipFamilies: ['IPv6'] });
    const objects = Testing.synth(chart);
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual(['ConfigMap/multitool-nginx', 'DaemonSet/multitool', 'Service/multitool-ipv6-only']);
    expect(objects[2].spec).toMatchObject({ ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] });
    expect(chart.dualStack).toBeUndefined();
    expect(chart.services).toEqual([chart.ipv6Only]);
    expect(chart.multitool.ipFamilies).toEqual(['IPv6']);
  });

  test('fails if the families are empty', () => {
    expect(() => synth({ ipFamilies: [] as any })).toThrow('invalid ipFamilies []');
  });

  test("custom: every object lands in the chart's namespace", () => {
    const objects = synth({ namespace: 'lab', port: 9090, servicePort: 8000 });
    expect(objects.map(o => `${o.kind}/${o.metadata.namespace}`)).toEqual(['ConfigMap/lab', 'DaemonSet/lab', 'Service/lab', 'Service/lab']);
    const dual = objects.find(o => o.metadata.name === 'multitool-dual-stack')!;
    expect(dual.spec.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8000, targetPort: 9090 }]);
  });
});
