import * as fs from 'fs';
import * as path from 'path';
import { testApp } from './support/tmp';
import { renderLabFor } from './support/synth';
import { Chart, Testing } from 'cdk8s';
import { COREDNS_CONFIGMAP, CoreDnsConfig, CoreDnsConfigProps, renderCorefile, renderForwarderCorefile } from '../lib/coredns-config';

function synth(props: CoreDnsConfigProps) {
  const chart = new Chart(testApp(), 'test');
  new CoreDnsConfig(chart, 'dns', props);
  return Testing.synth(chart);
}

/** The directives of a server block, one per line, without their blocks' contents. */
const directives = (corefile: string) => corefile.split('\n').filter(l => /^ {4}[a-z]/.test(l)).map(l => l.trim().split(' ')[0]);

describe('CoreDnsConfig', () => {
  test('defaults: kubeadm v1.28.15\'s Corefile, forwarding to the given resolver instead of /etc/resolv.conf, no dns64', () => {
    const [configMap, ...rest] = synth({ upstreams: ['fc00:f853:ccd:e793::53'] });
    expect(rest).toEqual([]);
    expect(configMap.metadata).toEqual({ name: 'coredns', namespace: 'kube-system' });
    expect(Object.keys(configMap.data)).toEqual(['Corefile']);
    expect(configMap.data.Corefile).toBe([
      '.:53 {',
      '    errors',
      '    health {',
      '       lameduck 5s',
      '    }',
      '    ready',
      '    kubernetes cluster.local in-addr.arpa ip6.arpa {',
      '       pods insecure',
      '       fallthrough in-addr.arpa ip6.arpa',
      '       ttl 30',
      '    }',
      '    prometheus :9153',
      '    forward . [fc00:f853:ccd:e793::53]:53 {',
      '       max_concurrent 1000',
      '    }',
      '    cache 30',
      '    loop',
      '    reload',
      '    loadbalance',
      '}',
      '',
    ].join('\n'));
  });

  test('custom: dns64 with its prefix, several upstreams, another cluster domain', () => {
    const corefile = renderCorefile({ upstreams: ['fd00:1::53', '10.0.0.53'], dns64Prefix: 'fd00:10:64::/96', clusterDomain: 'lab.local' });
    expect(corefile).toContain('    dns64 {\n       prefix fd00:10:64::/96\n    }\n');
    expect(corefile).toContain('    forward . [fd00:1::53]:53 10.0.0.53:53 {\n');
    expect(corefile).toContain('    kubernetes lab.local in-addr.arpa ip6.arpa {\n');
  });

  // kubeadm's plugins, all of which CoreDNS v1.10.1 has, plus dns64 (plugin.cfg of v1.10.1 lists it).
  test('uses kubeadm\'s plugins and dns64 only', () => {
    expect(directives(renderCorefile({ upstreams: ['fd00::53'], dns64Prefix: 'fd00:10:64::/96' }))).toEqual([
      'errors', 'health', 'ready', 'kubernetes', 'prometheus', 'dns64', 'forward', 'cache', 'loop', 'reload', 'loadbalance',
    ]);
  });

  test('the ConfigMap is kubeadm\'s, so kubectl apply replaces its Corefile', () => {
    expect(COREDNS_CONFIGMAP).toEqual({ name: 'coredns', namespace: 'kube-system' });
  });

  test.each([
    ['no upstream is given', { upstreams: [] }, 'invalid upstreams []: must be a non-empty list of ip addresses'],
    ['an upstream is a name', { upstreams: ['dns.example'] }, /^invalid upstreams \["dns.example"\]/],
    ['an upstream is a CIDR', { upstreams: ['fd00::/64'] }, /^invalid upstreams/],
    ['the dns64 prefix is IPv4', { upstreams: ['fd00::53'], dns64Prefix: '10.0.0.0/8' }, /^invalid dns64Prefix "10.0.0.0\/8": must be an ipv6 network of length 32, 40, 48, 56, 64 or 96$/],
    ['the dns64 prefix has a length RFC 6052 does not allow', { upstreams: ['fd00::53'], dns64Prefix: '64:ff9b:1::/80' }, /^invalid dns64Prefix/],
  ] as const)('fails if %s', (_what, props, message) => {
    expect(() => synth(props as CoreDnsConfigProps)).toThrow(message);
  });
});

describe('renderForwarderCorefile', () => {
  test('defaults: answers on the one IPv6 address, logs each question, asks Docker\'s embedded DNS', () => {
    const corefile = renderForwarderCorefile('fc00:f853:ccd:e793::53');
    expect(corefile.split('\n').filter(l => l && !l.startsWith('#'))).toEqual([
      '.:53 {', '    bind fc00:f853:ccd:e793::53', '    errors', '    log', '    forward . 127.0.0.11', '}',
    ]);
  });

  test('custom', () => {
    expect(renderForwarderCorefile('fd00::5:3')).toContain('    bind fd00::5:3\n');
  });

  test('fails if the address is IPv4 or a CIDR', () => {
    expect(() => renderForwarderCorefile('172.18.0.53')).toThrow('invalid forwarder address "172.18.0.53": must be an ipv6 address');
    expect(() => renderForwarderCorefile('fd00::53/64')).toThrow('invalid forwarder address');
  });
});

// The DNS fixtures (real CoreDNS runs; see fixtures/ipv6-only/README.md) must be of today's configuration.
test("the DNS fixtures were made with the IPv6-only lab's Corefile and forwarder Corefile as synth writes them today", () => {
  const dir = path.join(__dirname, 'scripts', 'fixtures', 'ipv6-only', 'dns');
  const lab = renderLabFor({ ipFamilies: ['IPv6'] });
  const facts = JSON.parse(lab.files[path.join('lab', 'facts.json')]);
  expect(fs.readFileSync(path.join(dir, 'forwarder.Corefile'), 'utf8')).toBe(facts.dns64.forwarder.corefile);
  expect(fs.readFileSync(path.join(dir, 'Corefile'), 'utf8')).toBe(lab.objects.find(o => o.kind === 'ConfigMap' && o.metadata.name === 'coredns')!.data!.Corefile);
});
