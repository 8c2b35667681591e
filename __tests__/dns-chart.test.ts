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

  test('custom: the forwarder and kubeadm\'s CoreDNS in its facts section (dns64)', () => {
    const chart = new DnsChart(testApp(), 'dns', { upstreams: ['fd00::53'], dns64Prefix: 'fd00:10:64::/96', forwarder: { name: 'lab-dns', image: 'coredns/coredns:1.10.1' } });
    expect(chart.factsKey).toBe('dns64');
    const facts = chart.labFacts();
    expect(facts).toMatchObject({ prefix: 'fd00:10:64::/96', upstreams: ['fd00::53'], forwarder: { name: 'lab-dns', image: 'coredns/coredns:1.10.1', address: 'fd00::53' } });
    expect(facts.forwarder!.corefile).toContain('bind fd00::53');
    expect(facts.coreDns.corefileSha256).toMatch(/^[0-9a-f]{64}$/);
    // Without a forwarder the section names kubeadm's CoreDNS only.
    expect(new DnsChart(testApp(), 'dns', { upstreams: ['fd00::53'] }).labFacts()).not.toHaveProperty('forwarder');
  });

  test('fails if the forwarder name is not a DNS-1123 label', () => {
    expect(() => new DnsChart(testApp(), 'dns', { upstreams: ['fd00::53'], forwarder: { name: 'Lab_DNS' } })).toThrow('invalid forwarder name "Lab_DNS"');
  });

  test('fails if the upstream is missing', () => {
    expect(() => synth({ upstreams: [] })).toThrow('invalid upstreams []');
  });
});
