/**
 * The policy lesson's Felix fixtures (__tests__/scripts/fixtures/policy/, the stubs phase 2's
 * verify/explain tests replay): the renderer they come from (__tests__/support/felix-iptables.ts)
 * against rules real Calico nodes printed; the fixtures against the renderer; and, with root and the
 * real iptables, the fixtures loaded into a network namespace and read back, and the lesson's matrix
 * played through Felix's tables by the kernel, counters moving.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  FelixPolicy, chainLines, dispatchChains, endpointChain, kernelChainRules, policyChainName, policyChains,
  profileChainName, profileChains, ruleHashes, staticChains,
} from './support/felix-iptables';
import { lessonNode } from './support/felix-lesson';
import {
  Lab, connectFromExternal, listen, missingTools, packets, pingFromExternal, save, setup, teardown,
  waitForPodNeighbour, withoutCounters,
} from './support/felix-netns';
import { describeWhen, renderLabFor } from './support/synth';
import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';

const FIXTURES = path.join(__dirname, 'scripts', 'fixtures', 'policy');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const SAVES = ['iptables-save.before.txt', 'iptables-save.after.txt', 'ip6tables-save.before.txt', 'ip6tables-save.after.txt'];
const model = lessonNode(renderLabFor({ policy: 'on' }).policyObjects);
const multitool = model.endpoints.find(e => e.pod.name === 'multitool-x79cb')!;
const tw = `cali-tw-${multitool.iface}`;
const external = model.policies.find(p => p.name === 'default/knp.default.allow-external-host')!;
const ping = model.policies.find(p => p.name === 'default/allow-ping')!;

/** The `cali:<hash>` of every rule of a save, chain by chain. */
function hashesOf(saved: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of saved.split('\n')) {
    const m = /-A (\S+) .*?--comment "cali:([A-Za-z0-9_-]{16})"/.exec(line);
    if (m) (out[m[1]] ??= []).push(m[2]);
  }
  return out;
}

describe('the Felix renderer against rules real Calico nodes printed', () => {
  // `cali:` hashes from public `iptables -S` / `iptables -L` dumps of operator-installed Calico nodes
  // (VXLAN; the allow-apiserver policy and the calico-system/calico-apiserver endpoints are the
  // operator's). A hash covers the chain name, every earlier rule and the whole rule text, so a match
  // means the same chain, rule order, matches, marks, comments and actions, byte for byte.
  test('the kernel-chain jumps and FORWARD\'s appended rules', () => {
    const k = kernelChainRules();
    const of = (c: string) => ruleHashes(c, k.filter(x => x.hashChain === c).map(x => x.rule));
    expect([of('INPUT'), of('FORWARD'), of('OUTPUT'), of('FORWARD*appends*')])
      .toEqual([['Cz_u1IQiXIMmKD4c'], ['wUHhoiAYhphO9Mso'], ['tVnHkvAo15HuiPy0'], ['S93hcgKJrXEqnTfs', 'mp77cMpurHhyjLrM']]);
  });

  test('the static chains of an IPv4 VXLAN node', () => {
    const chains = Object.fromEntries(staticChains(4).map(c => [c.name, ruleHashes(c.name, c.rules)]));
    expect(chains['cali-FORWARD']).toEqual(['vjrMJCRpqwy5oRoX', 'A_sPAO0mcxbT9mOV', '8ZoYfO5HKXWbB3pk', 'jdEuaPBe14V2hutn', '12bc6HljsMKsmfr-', 'NOSxoaGx8OIstr1z']);
    expect(chains['cali-INPUT']).toEqual(['J76FwxInZIsk7uKY', 'EDCNTTxYfggApx8C', 'H03xYXARh4e8pwd4', 'MN6K3isIWBigb1Va', 'OSYphBLwOgic22Hz', 'rmi2_piRVmfeiwVp', 'F7Q8zu44qIbOVben']);
    expect(chains['cali-OUTPUT']).toEqual(['Mq1_rAdXXH3YkrzW', '69FkRTJDvD5Vu6Vl', '-QZG79DohFjalQBb', 'iC1pSPgbvgQzkUk_', '4Zh7KtRvt4W5AEBR', 'Y0k-bqjt-5CUqyUq']);
    expect(chains['cali-wl-to-host']).toEqual(['Ee9Sbo10IpVujdIY', 'nSZbcOoG1xPONxb8']);
    expect(dispatchChains([]).map(c => ruleHashes(c.name, c.rules))).toEqual([['zTj6P0TIgYvgz-md'], ['7KNphB1nNHw80nIO']]);
  });

  test('a Kubernetes NetworkPolicy\'s chain, an endpoint chain that jumps to it, and profile chains', () => {
    const apiserver: FelixPolicy = {
      name: 'calico-apiserver/knp.default.allow-apiserver', order: 1000, selector: '', types: ['ingress'],
      inbound: [{ action: 'allow', protocol: 'tcp', dstPorts: [5443] }], outbound: [],
    };
    const [pi] = policyChains(apiserver, 4);
    expect({ name: pi.name, hashes: ruleHashes(pi.name, pi.rules) }).toEqual({ name: 'cali-pi-_3CJ_GmvE9pcCktVJ2ep', hashes: ['I0yo8ky1YADcMXRf'] });
    const { chain } = endpointChain({ iface: 'cali1dac8782bdb', ingressPolicies: [apiserver], egressPolicies: [], profiles: ['kns.calico-apiserver', 'ksa.calico-apiserver.calico-apiserver'] }, true);
    expect(ruleHashes(chain.name, chain.rules)).toEqual([
      'pZCSozePUt12JjYr', 'A2w3HQa4qF2hpRLf', 'Hldf7OOaxwfrGE_R', '-8I24aar_tGKdtnp', 'j7Un6mGzIALoy9bd', 'igRLwP2_X1SGpxjf',
      '7JB2IpJDPRxQwzx5', 'W_75Fxd5jgZYCBHH', '6uxk--WQaBWiJbzt', 'V14_62kBGCNH6J4S', '-sAvaS7VGObTCxWi',
    ]);
    const fw = endpointChain({ iface: 'cali3579be14420', ingressPolicies: [], egressPolicies: [], profiles: ['kns.calico-system', 'ksa.calico-system.calico-kube-controllers'] }, false).chain;
    expect(ruleHashes(fw.name, fw.rules)).toEqual([
      'vvLgV90LIZd_T-gR', 'auNb1XkmPDVVzCs9', 'UL1XRjWiDrADWTS1', 'noK--MUYFTfT_xF-', 'EPgHCPf0LWuR4iLf',
      'ho1gNpaQf2FsBwTp', 'NWJs7d7MSIf483BS', 'GSNV1_I3bEFXk14-', '-S1Bk-qRjicxhMqW', 'A70r47y2uGKSPVIn',
    ]);
    expect(profileChainName('cali-pri-', 'ksa.calico-system.default')).toBe('cali-pri-_og73BH3DuNOZrbBKFW');
    const [kns, ksa] = [profileChains({ name: 'kns.calico-system', inbound: [{ action: 'allow' }], outbound: [{ action: 'allow' }] }, 4), profileChains({ name: 'ksa.calico-system.default', inbound: [], outbound: [] }, 4)];
    expect([...kns, ...ksa].map(c => ruleHashes(c.name, c.rules))).toEqual([['hLANj-OVIyT53h_j'], ['gWxJzCZXxl31NR0P'], ['OzmBDJrkeSSUiXhX'], ['09a9ZBFOA1dZ4RN5']]);
  });
});

describe('the committed fixtures against the renderer', () => {
  test('every chain and rule hash of the fixtures is what Felix renders for the synthesized policy/', () => {
    for (const [file, v] of [['iptables-save.after.txt', 4], ['ip6tables-save.after.txt', 6]] as const) {
      const expected: Record<string, string[]> = {};
      for (const c of model.table[v].chains) if (c.rules.length) expected[c.name] = chainLines(c).map(l => /cali:([A-Za-z0-9_-]{16})/.exec(l)![1]);
      const kernel = model.table[v].kernel;
      for (const chain of ['INPUT', 'FORWARD', 'OUTPUT']) {
        expected[chain] = kernel.filter(k => k.chain === chain).map(k => {
          const group = kernel.filter(x => x.hashChain === k.hashChain).map(x => x.rule);
          return ruleHashes(k.hashChain, group)[group.indexOf(k.rule)];
        });
      }
      const chainsDeclared = [...fixture(file).matchAll(/^:(cali-\S+) - /gm)].map(m => m[1]).sort();
      expect({ file, chains: chainsDeclared }).toEqual({ file, chains: model.table[v].chains.map(c => c.name).sort() });
      expect({ file, hashes: hashesOf(fixture(file)) }).toEqual({ file, hashes: expected });
    }
  });

  test('the chain names follow Felix: short names kept, long ones hashed, one group chain per direction', () => {
    expect(policyChainName('cali-pi-', ping.name)).toBe('cali-pi-default/allow-ping');
    expect(policyChainName('cali-pi-', external.name)).toMatch(/^cali-pi-_[A-Za-z0-9_-]{19}$/);
    const saved = fixture('iptables-save.after.txt');
    expect([...saved.matchAll(/^:(cali-g[io]-\S+)/gm)].map(m => m[1].slice(0, 8))).toEqual(['cali-gi-', 'cali-go-']);
  });

  // The lesson in the stubs: the host's IPv4 SYNs find the external-host chain empty and are dropped at
  // the end of the endpoint's policies; its IPv6 request matches the /128 rule.
  test('the after-fixtures show the denied IPv4 and the allowed IPv6 request, and NDP accepted', () => {
    const v4 = fixture('iptables-save.after.txt');
    const v6 = fixture('ip6tables-save.after.txt');
    const pi = policyChainName('cali-pi-', external.name);
    expect(v4).toMatch(new RegExp(`^\\[\\d+:\\d+\\] -A ${pi} -m comment --comment "cali:\\S+" -m comment --comment "Policy default/knp.default.allow-external-host ingress"$`, 'm'));
    expect(packets(v4, `-A ${tw} `, 'Drop if no policies passed packet')).toBeGreaterThan(0);
    expect(packets(v4, `-A ${pi} `)).toBeGreaterThan(0);
    expect(packets(v6, `-A ${pi} `, '-s fc00:f853:ccd:e793:ffff::fa/128 -p tcp')).toBe(1);
    expect(packets(v6, `-A ${tw} `, 'Drop if no policies passed packet')).toBe(0);
    expect(packets(v6, '-A cali-wl-to-host ', '--icmpv6-type 135')).toBeGreaterThan(0);
    for (const f of ['iptables-save.before.txt', 'ip6tables-save.before.txt']) {
      expect({ f, moved: packets(fixture(f), `-A ${tw} `, 'Drop if no policies passed packet') }).toEqual({ f, moved: 0 });
    }
  });
});

// verify's replayed tables (regenerate-verify.ts): Felix's rules, counters as the kernel left them around
// each denied probe, two reads per denied row: 1-2 around the first row of a family, 3-4 around the second.
describe('verify\'s fixtures (cluster/, scenarios/) against the renderer', () => {
  const seqTable = (dir: string, v: 4 | 6, n: number) =>
    fixture(path.join(dir, 'seq', `policy-ip${v === 6 ? '6' : ''}tables-ipv6-lab-worker`, `${n}.out`));
  const fw = `cali-fw-${multitool.iface}`;
  const drop = (saved: string, chain: string) => packets(saved, `-A ${chain} `, 'Drop if no policies passed packet');
  const wrongModel = lessonNode(renderLabFor({ policy: 'on' }).policyObjects.map(o => (o.metadata.name !== 'allow-external-host' ? o : {
    ...o, spec: { ...o.spec, ingress: [{ ...o.spec.ingress[0], from: [{ ipBlock: { cidr: '172.18.255.250/32' } }, ...o.spec.ingress[0].from] }] },
  })));

  test.each([['cluster', model], ['scenarios/broken', model], ['scenarios/wrong-allow', wrongModel]] as const)('%s: every read holds Felix\'s rules for its policies', (dir, m) => {
    for (const v of [4, 6] as const) {
      // Felix's own chains (the kernel chains' jumps are checked on the phase-1 fixtures above).
      const cali = (h: Record<string, string[]>) => Object.fromEntries(Object.entries(h).filter(([c]) => c.startsWith('cali-')));
      const rendered = hashesOf(restoreLines(m, v));
      for (let n = 1; n <= 4; n++) expect({ dir, v, n, hashes: cali(hashesOf(seqTable(dir, v, n))) }).toEqual({ dir, v, n, hashes: rendered });
    }
  });

  test('healthy: each denied row\'s deciding chain counted its probe, and only then', () => {
    const t = (v: 4 | 6, n: number) => seqTable('cluster', v, n);
    // IPv4: external-http-ipv4 (ingress, cali-tw), then pod-closed-port-ipv4 (egress, cali-fw).
    expect([drop(t(4, 2), tw) - drop(t(4, 1), tw), drop(t(4, 4), fw) - drop(t(4, 3), fw)].every(d => d > 0)).toBe(true);
    expect(drop(t(4, 2), fw) - drop(t(4, 1), fw)).toBe(0);
    // IPv6: pod-closed-port-ipv6 (egress), then external-closed-port-ipv6 (ingress).
    expect([drop(t(6, 2), fw) - drop(t(6, 1), fw), drop(t(6, 4), tw) - drop(t(6, 3), tw)].every(d => d > 0)).toBe(true);
    expect(drop(t(6, 2), tw) - drop(t(6, 1), tw)).toBe(0);
  });

  test('broken: nothing from the external host reached the node; wrong-allow: its IPv4 request was accepted, not dropped', () => {
    for (const v of [4, 6] as const) {
      expect(drop(seqTable('scenarios/broken', v, 4), tw)).toBe(0);
    }
    expect(drop(seqTable('scenarios/wrong-allow', 4, 2), tw)).toBe(0);
    expect(packets(seqTable('scenarios/wrong-allow', 4, 2), `-A ${policyChainName('cali-pi-', external.name)} `, '-s 172.18.255.250/32')).toBeGreaterThan(0);
  });
});

/** The renderer's filter table for `m`, as iptables-save lines (rules with their hashes). */
function restoreLines(m: typeof model, v: 4 | 6): string {
  const lines: string[] = [];
  for (const c of m.table[v].chains) if (c.rules.length) lines.push(...chainLines(c));
  return lines.join('\n');
}

const missing = missingTools();

describeWhen(missing)('the fixtures and the matrix in network namespaces, with the real iptables', () => {
  let lab: Lab | undefined;
  afterEach(() => {
    teardown(lab);
    lab = undefined;
  });

  // Valid fixtures: the real iptables-restore takes them (with the IP sets they name) and the real
  // iptables-save prints them back unchanged. Both backends: nf_tables (what the fixtures were saved
  // with, and kind's nodes use) and legacy. iptables-nft 1.8.9's ip6tables-restore -c drops rule
  // counters, so for IPv6 the nf_tables round trip compares the rules and legacy the counters.
  test.each(SAVES)('%s loads with the real restore and reads back identically', file => {
    const ns = `felix-fixture-${process.pid}-${randomBytes(3).toString('hex')}`;
    const run = (args: string[], input?: string) => spawnSync('ip', ['netns', 'exec', ns, ...args], { input, encoding: 'utf8', timeout: 20000 });
    const body = (s: string) => s.split('\n').filter(l => l && !l.startsWith('#')).join('\n');
    const v6 = file.startsWith('ip6');
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    try {
      expect(run(['ipset', 'restore'], fixture('ipset-restore.txt')).stderr).toBe('');
      for (const backend of ['nft', 'legacy']) {
        const tool = `${v6 ? 'ip6tables' : 'iptables'}-${backend}`;
        const restored = run([`${tool}-restore`, '-c'], fixture(file));
        expect({ tool, status: restored.status, stderr: restored.stderr }).toEqual({ tool, status: 0, stderr: '' });
        const back = body(run([`${tool}-save`, '-c', '-t', 'filter']).stdout);
        if (v6 && backend === 'nft') {
          expect(withoutCounters(back)).toEqual(withoutCounters(fixture(file)));
        } else {
          expect(back).toEqual(body(fixture(file)));
        }
      }
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });

  test('the renderer\'s tables, loaded, are the fixtures\' rules exactly', () => {
    lab = setup(model);
    expect(withoutCounters(save(lab, 4))).toEqual(withoutCounters(fixture('iptables-save.before.txt')));
    expect(withoutCounters(save(lab, 6))).toEqual(withoutCounters(fixture('ip6tables-save.before.txt')));
  });

  test('the external host: IPv4 to the app port is dropped, IPv6 answered, ping works on both; the pod keeps its IPv6 neighbour', async () => {
    lab = setup(model);
    await listen(lab, 8080);
    const before = { 4: save(lab, 4), 6: save(lab, 6) };
    const drop = (s: string) => packets(s, `-A ${tw} `, 'Drop if no policies passed packet');
    const pi = policyChainName('cali-pi-', external.name);

    expect(connectFromExternal(lab, lab.podIp[4], 8080, 2500)).toBe('timeout');
    expect(connectFromExternal(lab, lab.podIp[6], 8080, 2500)).toBe('answered: pod answered');
    // Denied, not broken: the pod's port 8081 is closed, yet over IPv6 the SYN is dropped, not refused.
    expect(connectFromExternal(lab, lab.podIp[6], 8081, 2500)).toBe('timeout');
    const after = { 4: save(lab, 4), 6: save(lab, 6) };
    expect(drop(after[4]) - drop(before[4])).toBeGreaterThan(0);
    expect(packets(after[6], `-A ${pi} `, '-s fc00:f853:ccd:e793:ffff::fa/128') - packets(before[6], `-A ${pi} `, '-s fc00:f853:ccd:e793:ffff::fa/128')).toBe(1);
    expect(drop(after[6]) - drop(before[6])).toBeGreaterThan(0);

    // ping is allowed by the Calico policy (order 100) on both families, although IPv4 TCP is denied.
    expect([pingFromExternal(lab, 4, lab.podIp[4]), pingFromExternal(lab, 6, lab.podIp[6])]).toEqual([true, true]);
    const pinged = { 4: save(lab, 4), 6: save(lab, 6) };
    expect(packets(pinged[4], `-A ${policyChainName('cali-pi-', ping.name)} `, '--icmp-type 8')).toBe(1);
    expect(packets(pinged[6], `-A ${policyChainName('cali-pi-', ping.name)} `, '--icmpv6-type 128')).toBe(1);

    // Neighbor Discovery under the default deny: the pod confirms its gateway through cali-wl-to-host.
    expect(await waitForPodNeighbour(lab, 15000)).toMatch(/^fe80::ecee:eeff:feee:eeee lladdr ee:ee:ee:ee:ee:ee .*REACHABLE/);
    expect(packets(save(lab, 6), '-A cali-wl-to-host ', '--icmpv6-type 135')).toBeGreaterThan(0);
  }, 60000);
});
