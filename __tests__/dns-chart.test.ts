import { testApp } from './support/tmp';
import { Testing } from 'cdk8s';
import { DnsChart, DnsChartProps } from '../lib/dns-chart';

function synth(props: DnsChartProps) {
  return Testing.synth(new DnsChart(testApp(), 'dns', props));
}

describe('DnsChart', () => {
  test('defaults: the coredns ConfigMap of kube-system, and nothing else', () => {
    const objects = synth({ upstreams: ['fc00:f853:ccd:e793::53'] });
    expect(objects.map(o => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['ConfigMap/kube-system/coredns']);
    expect(objects[0].data.Corefile).not.toContain('dns64');
  });

  test('custom: dns64 and the upstream reach the Corefile; a chart namespace does not move kubeadm\'s ConfigMap', () => {
    const chart = new DnsChart(testApp(), 'dns', { namespace: 'lab', upstreams: ['fd00::53'], dns64Prefix: 'fd00:10:64::/96' });
    const [configMap] = Testing.synth(chart);
    expect(configMap.metadata.namespace).toBe('kube-system');
    expect(chart.coreDns.corefile).toContain('prefix fd00:10:64::/96');
    expect(chart.coreDns.corefile).toContain('forward . [fd00::53]:53');
  });

  test('fails if the upstream is missing', () => {
    expect(() => synth({ upstreams: [] })).toThrow('invalid upstreams []');
  });
});
