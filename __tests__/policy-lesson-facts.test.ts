/**
 * The policy lesson's section of the facts (lib/policy-lesson-facts.ts): what deploy applies and waits
 * for, the policies as Calico names and orders them, the external host's fixed addresses, and the matrix
 * verify drives its checks from. Absent with policy off (the default dist/ stays byte-identical).
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { App } from 'cdk8s';
import { CalicoPolicyChart } from '../lib/calico-policy-chart';
import { Lab, labPolicyMatrix } from '../lib/lab';
import { resolveLabConfig } from '../lib/lab-config';
import { FACTS_FILE, LabFacts, labFactsJsonSchema } from '../lib/lab-facts';
import { NetworkPolicyChart } from '../lib/network-policy-chart';
import { PolicyLessonFacts } from '../lib/policy-lesson-facts';
import { RenderedLab, renderLabFor } from './support/synth';

const facts = (lab: RenderedLab): LabFacts => JSON.parse(lab.files[FACTS_FILE]);
const validate = new Ajv({ allErrors: true, strict: true }).compile(labFactsJsonSchema());

describe('PolicyLessonFacts (the facts\' policy section)', () => {
  const lab = renderLabFor({ policy: 'on' });
  const f = facts(lab);
  const p = f.policy!;

  test('defaults: absent with policy off', () => {
    expect(facts(renderLabFor()).policy).toBeUndefined();
    expect(facts(renderLabFor({ policy: 'off' })).policy).toBeUndefined();
  });

  test('defaults: the files deploy applies exist, in apply order, and hold the policies named', () => {
    expect(p.mode).toBe('on');
    expect(p.directory).toBe('policy');
    expect(p.files).toEqual(['policy/0000-calico-policy.k8s.yaml', 'policy/0001-network-policy.k8s.yaml']);
    for (const file of p.files) expect(Object.keys(lab.files)).toContain(file.split('/').join(path.sep));
    for (const policy of p.policies) {
      expect(lab.files[policy.file.split('/').join(path.sep)]).toContain(`name: ${policy.name}\n`);
    }
    expect(p.apiServer).toEqual({ tigeraStatus: 'apiserver', apiService: 'v3.projectcalico.org' });
  });

  test('defaults: the policies in Calico\'s order, with the names Felix gives them', () => {
    expect(p.policies.map(x => `${x.order} ${x.api} ${x.calicoName} ${x.types.join('+')}`)).toEqual([
      '100 projectcalico.org/v3 default/allow-ping Ingress+Egress',
      '1000 networking.k8s.io/v1 default/knp.default.allow-dns Egress',
      '1000 networking.k8s.io/v1 default/knp.default.allow-external-host Ingress+Egress',
      '1000 networking.k8s.io/v1 default/knp.default.allow-multitool Ingress+Egress',
      '1000 networking.k8s.io/v1 default/knp.default.default-deny Ingress+Egress',
    ]);
    // Each type as the object declares it.
    for (const policy of p.policies) {
      const object = lab.policyObjects.find(o => o.metadata.name === policy.name)!;
      expect(policy.types).toEqual(object.spec.policyTypes ?? object.spec.types);
    }
  });

  test('defaults: the external host\'s fixed addresses, as the policies name them', () => {
    expect(p.externalHost).toEqual({ ipv4: '172.18.255.250', ipv6: 'fc00:f853:ccd:e793:ffff::fa' });
    const ext = lab.policyObjects.find(o => o.metadata.name === 'allow-external-host')!;
    expect(ext.spec.ingress[0].from).toEqual([{ ipBlock: { cidr: `${p.externalHost.ipv6}/128` } }]);
  });

  test('defaults: the matrix is labPolicyMatrix\'s, row for row, each denied row with its control', () => {
    const rows = labPolicyMatrix(new Lab(new App(), 'lab', { config: resolveLabConfig({ policy: 'on' }) }));
    expect(p.matrix.map(r => r.id)).toEqual(rows.map(r => r.id));
    for (const [i, r] of rows.entries()) {
      expect(p.matrix[i]).toMatchObject({ family: r.family, protocol: r.protocol, probe: r.probe, expect: r.expect, why: r.why });
      expect(p.matrix[i].decidedBy).toEqual(r.decidedBy);
    }
    expect(p.matrix.filter(r => r.expect === 'deny').map(r => `${r.id} <- ${r.control}`)).toEqual([
      'external-http-ipv4 <- external-http-ipv6',
      'pod-closed-port-ipv4 <- pod-http-ipv4',
      'pod-closed-port-ipv6 <- pod-http-ipv6',
      'external-closed-port-ipv6 <- external-http-ipv6',
    ]);
    // A control is an allowed row that comes before its denied row (verify probes in matrix order).
    for (const r of p.matrix.filter(x => x.control)) {
      const control = p.matrix.findIndex(x => x.id === r.control);
      expect(p.matrix[control].expect).toBe('allow');
      expect(control).toBeLessThan(p.matrix.indexOf(r));
    }
    expect(p.matrix.find(r => r.id === 'pod-http-ipv4')).toMatchObject({
      from: { kind: 'pod', namespace: 'default', selector: 'app=multitool' },
      to: { kind: 'pod', namespace: 'default', selector: 'app=multitool', onAnotherNode: true },
    });
    expect(p.matrix.find(r => r.id === 'dns-udp-ipv4')).toMatchObject({ to: { namespace: 'kube-system', selector: 'k8s-app=kube-dns' }, via: { service: 'kube-system/kube-dns', port: 53 } });
  });

  test('defaults: the facts validate against their schema', () => {
    expect(validate(f)).toBe(true);
    expect(validate({ ...f, policy: { ...p, extra: 1 } })).toBe(false);
  });

  test('custom: the external host, the app port and an IPv6-only lab reach the section', () => {
    const custom = facts(renderLabFor({
      policy: 'on', ipFamilies: ['IPv6'], multitool: { port: 9000 },
      externalHost: { ipv6: 'fc00:f853:ccd:e793::1:fa' },
    })).policy!;
    expect(custom.externalHost.ipv6).toBe('fc00:f853:ccd:e793::1:fa');
    expect(custom.matrix.every(r => r.family === 'IPv6')).toBe(true);
    expect(custom.matrix.find(r => r.id === 'external-http-ipv6')!.port).toBe(9000);
    expect(custom.matrix.find(r => r.id === 'pod-closed-port-ipv6')).toMatchObject({ port: 9001, control: 'pod-http-ipv6' });
  });

  test('the committed dist/ has no policy section', () => {
    expect(JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'dist', FACTS_FILE), 'utf8')).policy).toBeUndefined();
  });

  test('fails if the two charts go to different directories', () => {
    const lab2 = new Lab(new App(), 'lab');
    const calico = new CalicoPolicyChart(lab2, 'c');
    const kubernetes = new NetworkPolicyChart(lab2, 'k');
    (kubernetes as { outputDirectory: string }).outputDirectory = 'elsewhere';
    expect(() => new PolicyLessonFacts(lab2, 'F', { calico, kubernetes, matrix: [] }))
      .toThrow('invalid policy lesson charts: they go to "policy" and "elsewhere"; both must go to one directory, applied in one step');
  });
});
