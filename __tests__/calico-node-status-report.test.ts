import { Chart, Testing } from 'cdk8s';
import { CalicoNodeStatusReport, CalicoNodeStatusReportProps } from '../lib/calico-node-status-report';
import { CalicoChart } from '../lib/calico-chart';
import { testApp } from './support/tmp';

function synth(props: Partial<CalicoNodeStatusReportProps> = {}) {
  const chart = new Chart(testApp(), 'test');
  const report = new CalicoNodeStatusReport(chart, 'status', { node: 'ipv6-lab-worker', ...props });
  return { report, objects: Testing.synth(chart) };
}

describe('CalicoNodeStatusReport', () => {
  test('defaults', () => {
    const { report, objects } = synth();
    expect(objects).toEqual([{
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'CalicoNodeStatus',
      metadata: { name: 'ipv6-lab-worker' },
      // All three fields: Calico's validation (which crd.projectcalico.org/v1 skips) requires them, and the
      // reporter skips an object without updatePeriodSeconds.
      spec: { node: 'ipv6-lab-worker', classes: ['Agent', 'BGP', 'Routes'], updatePeriodSeconds: 10 },
    }]);
    expect([report.name, report.nodeName]).toEqual(['ipv6-lab-worker', 'ipv6-lab-worker']);
  });

  test('custom', () => {
    const { objects } = synth({ name: 'worker-bgp', classes: ['BGP'], updatePeriodSeconds: 0 });
    expect(objects[0].metadata.name).toBe('worker-bgp');
    expect(objects[0].spec).toEqual({ node: 'ipv6-lab-worker', classes: ['BGP'], updatePeriodSeconds: 0 });
  });

  test('the chart adds one per node after its other objects, and refuses two of one name', () => {
    const chart = new CalicoChart(testApp(), 'calico', { bgp: true });
    chart.addNodeStatuses([{ node: 'a' }, { node: 'b' }]);
    const kinds = Testing.synth(chart).map(o => `${o.kind}/${o.metadata.name}`);
    expect(kinds.slice(-2)).toEqual(['CalicoNodeStatus/a', 'CalicoNodeStatus/b']);
    expect(chart.nodeStatuses.map(s => s.nodeName)).toEqual(['a', 'b']);
    expect(() => chart.addNodeStatuses([{ node: 'a' }])).toThrow('invalid node status "a": the chart has one of that name already');
  });

  test.each<[string, Partial<CalicoNodeStatusReportProps>, RegExp]>([
    ['the node is not a DNS-1123 label', { node: 'Worker_1' }, /^invalid node status node "Worker_1": must be a dns-1123 label/],
    ['the name is not a DNS-1123 label', { name: 'a.b' }, /^invalid node status name "a.b"/],
    ['a class is unknown', { classes: ['Agent', 'Felix' as any] }, /^invalid node status classes \["Agent","Felix"\]: must be one or more of "Agent", "BGP", "Routes", each once/],
    ['a class repeats', { classes: ['BGP', 'BGP'] }, /invalid node status classes \["BGP","BGP"\]/],
    ['no class is asked for', { classes: [] }, /invalid node status classes \[\]/],
    ['the period is longer than a day', { updatePeriodSeconds: 86401 }, /^invalid node status update period seconds 86401: must be an integer from 0 to 86400/],
    ['the period is not an integer', { updatePeriodSeconds: 2.5 }, /update period seconds 2.5/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
