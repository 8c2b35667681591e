import { testApp } from './support/tmp';
import { Testing } from 'cdk8s';
import { CalicoPolicyChart } from '../lib/calico-policy-chart';

describe('CalicoPolicyChart', () => {
  test('defaults: one projectcalico.org/v3 NetworkPolicy, allow-ping at order 100, bound for policy/', () => {
    const chart = new CalicoPolicyChart(testApp(), 'calico-policy');
    const objects = Testing.synth(chart);
    expect(objects.map(o => `${o.apiVersion} ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['projectcalico.org/v3 NetworkPolicy default/allow-ping']);
    expect(objects[0].spec).toMatchObject({ order: 100, selector: "app == 'multitool'" });
    expect(chart.outputDirectory).toBe('policy');
  });

  test('custom: labels, order and namespace', () => {
    const chart = new CalicoPolicyChart(testApp(), 'calico-policy', { podLabels: { app: 'probe' }, order: 10, namespace: 'demo' });
    const [policy] = Testing.synth(chart);
    expect(policy.metadata.namespace).toBe('demo');
    expect(policy.spec).toMatchObject({ order: 10, selector: "app == 'probe'" });
  });

  test('fails if the order is negative', () => {
    expect(() => new CalicoPolicyChart(testApp(), 'calico-policy', { order: -5 })).toThrow(/invalid calico echo policy order -5/);
  });
});
