/**
 * The policy lesson's allowed/denied matrix (lib/policy-matrix.ts) as a table test: every row is
 * evaluated against the policies the lab synthesizes, with Calico's semantics
 * (__tests__/support/policy-eval.ts). The rows are what verify checks later; here they must agree
 * with the objects in policy/.
 */
import { App } from 'cdk8s';
import { resolveLabConfig } from '../lib/lab-config';
import { Lab, labPolicyMatrix } from '../lib/lab';
import { PolicyMatrixRow, closedPort, policyMatrix, policyMatrixMarkdown } from '../lib/policy-matrix';
import { Endpoint, Family, evaluate } from './support/policy-eval';
import { K8sObject, find, renderLabFor } from './support/synth';

const POD_IPS: Record<string, Record<Family, string>> = {
  multitool: { IPv4: '192.168.195.195', IPv6: 'fd00:10:244:a1f9:396e:2dd6:3f70:c3c3' },
  dns: { IPv4: '192.168.195.194', IPv6: 'fd00:10:244:a1f9:396e:2dd6:3f70:c3c2' },
};

function matrixOf(input: Parameters<typeof resolveLabConfig>[0]) {
  const lab = new Lab(new App(), 'lab', { config: resolveLabConfig(input) });
  return labPolicyMatrix(lab);
}

function endpointOf(peer: PolicyMatrixRow['from']): Endpoint {
  if (peer.kind === 'host') return { kind: 'host', ip: { IPv4: peer.addresses.ipv4, IPv6: peer.addresses.ipv6 } };
  if (peer.kind === 'pod') {
    const ip = peer.namespace === 'kube-system' ? POD_IPS.dns : POD_IPS.multitool;
    return { kind: 'pod', namespace: peer.namespace, labels: { ...peer.labels }, ip };
  }
  throw new Error('the node gateway is no policy endpoint');
}

/** Checks one row against the synthesized policies; returns what disagrees (nothing when it holds). */
function disagreements(row: PolicyMatrixRow, policies: K8sObject[]): string[] {
  const result = evaluate(policies, {
    from: endpointOf(row.from), to: endpointOf(row.to), family: row.family,
    protocol: row.protocol as 'TCP', port: row.port, icmpType: row.icmpType,
  });
  const problems: string[] = [];
  if (result.allowed !== (row.expect === 'allow')) {
    problems.push(`expected ${row.expect}, the policies ${result.allowed ? 'allow' : 'deny'} it (egress ${JSON.stringify(result.egress)}, ingress ${JSON.stringify(result.ingress)})`);
  }
  for (const d of row.decidedBy) {
    const v = d.direction === 'egress' ? result.egress : result.ingress;
    if (!v) {
      problems.push(`decidedBy ${d.calicoName} ${d.direction}, but that end is no pod`);
    } else if (row.expect === 'allow' ? v.decidedBy !== d.calicoName : !(v.action === 'deny' && v.decidedBy === undefined && v.policies.includes(d.calicoName))) {
      problems.push(`decidedBy ${d.calicoName} ${d.direction}, the evaluator says ${JSON.stringify(v)}`);
    }
  }
  return problems;
}

const lab = renderLabFor({ policy: 'on' });
const rows = matrixOf({ policy: 'on' });
const policyRows = rows.filter(r => r.to.kind !== 'node-gateway');

describe('the policy matrix', () => {
  test('defaults: the rows, each source -> destination, family, protocol, port and verdict', () => {
    expect(rows.map(r => `${r.id}: ${r.from.description} -> ${r.to.description}${r.via ? ` via ${r.via.service}:${r.via.port}` : ''}, ${r.family} ${r.protocol}${r.port ? ` ${r.port}` : ''}${r.icmpType !== undefined ? ` type ${r.icmpType}` : ''}: ${r.expect}`)).toMatchSnapshot();
  });

  test('with policy: off the lab has no matrix', () => {
    expect(matrixOf({})).toEqual([]);
  });

  test('ids are unique, every deny is the default deny\'s and times out, every allow names its policies', () => {
    expect(new Set(rows.map(r => r.id)).size).toBe(rows.length);
    for (const r of rows.filter(x => x.expect === 'deny')) {
      expect({ id: r.id, shows: r.deniedShowsAs, by: r.decidedBy.map(d => d.name) }).toEqual({ id: r.id, shows: 'timeout', by: ['default-deny'] });
    }
    for (const r of rows.filter(x => x.expect === 'allow' && x.to.kind !== 'node-gateway')) {
      expect(r.decidedBy.length).toBeGreaterThan(0);
    }
  });

  // The table test: each row through Calico's semantics over the synthesized policy/ objects.
  test.each(policyRows.map(r => [r.id, r] as const))('%s holds against the synthesized policies', (_id, row) => {
    expect(disagreements(row, lab.policyObjects)).toEqual([]);
  });

  test('Service rows address the Service port and reach the pods on its targetPort (kube-proxy DNAT)', () => {
    for (const r of rows.filter(x => x.via && !x.via.service.includes('/'))) {
      const svc = find(lab.objects, 'Service', r.via!.service);
      expect({ id: r.id, dial: r.via!.port, policySees: r.port }).toEqual({ id: r.id, dial: svc.spec.ports[0].port, policySees: svc.spec.ports[0].targetPort });
      expect(svc.spec.ipFamilies).toContain(r.family);
    }
  });

  test('custom: another app port and external host, and the rows still hold', () => {
    const input = { policy: 'on' as const, multitool: { port: 9000, servicePort: 8000 }, externalHost: { ipv4: '172.19.255.250', ipv6: 'fc00:f853:ccd:e794::fa' } };
    const custom = matrixOf(input);
    const objects = renderLabFor(input).policyObjects;
    expect(custom.find(r => r.id === 'external-http-ipv6')!.port).toBe(9000);
    expect(custom.find(r => r.id === 'pod-closed-port-ipv4')!.port).toBe(9001);
    expect((custom.find(r => r.id === 'external-http-ipv4')!.from as { addresses: unknown }).addresses).toEqual({ ipv4: '172.19.255.250', ipv6: 'fc00:f853:ccd:e794::fa' });
    for (const row of custom.filter(r => r.to.kind !== 'node-gateway')) {
      expect({ id: row.id, problems: disagreements(row, objects) }).toEqual({ id: row.id, problems: [] });
    }
  });

  test('the closed port is never the app port', () => {
    expect(closedPort(8080)).toBe(8081);
    expect(closedPort(65535)).toBe(65534);
  });

  // The table catches a policy that drifts from the lesson.
  test('fails if the external host\'s IPv4 address is let in: the lesson\'s deny row disagrees', () => {
    const policies = structuredClone(lab.policyObjects);
    find(policies, 'NetworkPolicy', 'allow-external-host').spec.ingress[0].from.push({ ipBlock: { cidr: '172.18.255.250/32' } });
    const row = rows.find(r => r.id === 'external-http-ipv4')!;
    expect(disagreements(row, policies).join('\n')).toMatch(/expected deny, the policies allow it/);
  });

  test('fails if the Calico echo policy loses its ICMPv6 rule: the IPv6 ping rows disagree', () => {
    const policies = structuredClone(lab.policyObjects);
    const echo = policies.find(o => o.apiVersion === 'projectcalico.org/v3')!;
    echo.spec.ingress = echo.spec.ingress.filter((r: { protocol: string }) => r.protocol !== 'ICMPv6');
    const failing = policyRows.filter(r => disagreements(r, policies).length > 0).map(r => r.id);
    expect(failing).toEqual(['ping-pod-ipv6', 'ping-external-ipv6']);
  });

  test('fails if DNS egress is left out: every DNS row disagrees', () => {
    const policies = lab.policyObjects.filter(o => o.metadata.name !== 'allow-dns');
    const failing = policyRows.filter(r => disagreements(r, policies).length > 0).map(r => r.id);
    expect(failing).toEqual(['dns-udp-ipv4', 'dns-tcp-ipv4', 'dns-udp-ipv6', 'dns-tcp-ipv6']);
  });

  test('policyMatrix is plain data: JSON round-trips it', () => {
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
    expect(policyMatrix).toBeInstanceOf(Function);
  });
});

test('docs/policy.md shows the matrix as the data has it', () => {
  const doc = require('fs').readFileSync(require('path').join(__dirname, '..', 'docs', 'policy.md'), 'utf8') as string;
  const begin = '<!-- BEGIN matrix (lib/policy-matrix.ts policyMatrixMarkdown; a test keeps it equal) -->\n';
  const shown = doc.slice(doc.indexOf(begin) + begin.length, doc.indexOf('\n<!-- END matrix -->'));
  expect(shown).toEqual(policyMatrixMarkdown(rows));
});
