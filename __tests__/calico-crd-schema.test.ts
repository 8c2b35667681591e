import { CALICO_VERSION, CRD_URLS, CrdValidator, loadCrdValidators, readTigeraOperatorManifest } from './support/calico-crds';
import { describeWhen, find, K8sObject, renderLabFor } from './support/synth';

const calicoGroups = ['crd.projectcalico.org', 'operator.tigera.io'];

const lab = renderLabFor();
const calicoObjects = lab.objects.filter(o => calicoGroups.includes(o.apiVersion.split('/')[0]));
const bgpLab = renderLabFor({ routing: 'bgp' });
const bgpCalicoObjects = bgpLab.objects.filter(o => calicoGroups.includes(o.apiVersion.split('/')[0]));

test('the lab emits IPPools, an Installation and an APIServer', () => {
  expect(calicoObjects.map(o => o.kind).sort()).toEqual(['APIServer', 'IPPool', 'IPPool', 'Installation']);
});

const { validators, missing } = loadCrdValidators();

describeWhen(missing)('Calico objects against the openAPIV3Schema of the pinned Calico v3.28.5 CRDs', () => {
  function errorsOf(obj: K8sObject): string[] | undefined {
    const v = (validators as Map<string, CrdValidator>).get(`${obj.apiVersion}/${obj.kind}`);
    if (!v) throw new Error(`no CRD for ${obj.apiVersion} ${obj.kind}`);
    return v.validate(obj) ? [] : v.validate.errors!.map(e => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  }

  // Calico v3.28.5's manifest deploys quay.io/tigera/operator:v1.34.13; the CRDs must come from that tag.
  test('the CRD URLs are pinned to the operator tag that Calico\'s tigera-operator.yaml deploys', async () => {
    const manifest = await readTigeraOperatorManifest();
    const images = [...manifest.matchAll(/image: quay\.io\/tigera\/operator:(v[\d.]+)/g)].map(m => m[1]);
    expect({ calico: CALICO_VERSION, operators: [...new Set(images)] }).toEqual({ calico: 'v3.28.5', operators: ['v1.34.13'] });
    expect(CRD_URLS.length).toBeGreaterThan(0);
    for (const url of CRD_URLS) {
      expect(url).toMatch(new RegExp(`^https://raw\\.githubusercontent\\.com/tigera/operator/${images[0]}/pkg/crds/`));
    }
  });

  test('the lab emits IPPools, an Installation and an APIServer', () => {
    expect(calicoObjects.map(o => o.kind).sort()).toEqual(['APIServer', 'IPPool', 'IPPool', 'Installation']);
  });

  test('every synthesized Calico object is valid against its CRD (unknown fields rejected)', () => {
    for (const obj of calicoObjects) {
      expect({ object: `${obj.kind}/${obj.metadata.name}`, errors: errorsOf(obj) }).toEqual({ object: `${obj.kind}/${obj.metadata.name}`, errors: [] });
    }
  });

  test('every Calico object of routing: bgp is valid against its CRD, BGPConfiguration, BGPPeers and CalicoNodeStatuses included', () => {
    expect(bgpCalicoObjects.map(o => o.kind).sort()).toEqual([
      'APIServer', 'BGPConfiguration', 'BGPPeer', 'BGPPeer', 'CalicoNodeStatus', 'CalicoNodeStatus', 'CalicoNodeStatus', 'IPPool', 'IPPool', 'Installation',
    ]);
    for (const obj of bgpCalicoObjects) {
      expect({ object: `${obj.kind}/${obj.metadata.name}`, errors: errorsOf(obj) }).toEqual({ object: `${obj.kind}/${obj.metadata.name}`, errors: [] });
    }
  });

  // The generated class calls it peerIp; only the CRD's spelling is a field.
  test('fails if a BGPPeer spells peerIP as the generated class does', () => {
    const peer = structuredClone(find(bgpLab.objects, 'BGPPeer', 'ipv6-lab-router-ipv6'));
    peer.spec.peerIp = peer.spec.peerIP;
    delete peer.spec.peerIP;
    expect(errorsOf(peer)!.join('\n')).toMatch(/must NOT have additional properties .*peerIp/);
  });

  test('fails if the BGPConfiguration lists Service ranges as plain strings', () => {
    const config = structuredClone(find(bgpLab.objects, 'BGPConfiguration', 'default'));
    config.spec.serviceClusterIPs = ['10.96.0.0/16'];
    expect(errorsOf(config)!.join('\n')).toMatch(/\/spec\/serviceClusterIPs\/0 must be object/);
  });

  test('fails if an IPPool carries an unknown field', () => {
    const pool = structuredClone(find(lab.objects, 'IPPool', 'default-ipv4-ippool'));
    pool.spec.natOutgoin = true;
    expect(errorsOf(pool)!.join('\n')).toMatch(/must NOT have additional properties .*natOutgoin/);
  });

  test('fails if a field has the wrong type', () => {
    const pool = structuredClone(find(lab.objects, 'IPPool', 'default-ipv6-ippool'));
    pool.spec.blockSize = '122';
    expect(errorsOf(pool)!.join('\n')).toMatch(/\/spec\/blockSize must be integer/);
  });

  test('fails if the Installation names an unknown bgp mode', () => {
    const installation = structuredClone(find(lab.objects, 'Installation', 'default'));
    installation.spec.calicoNetwork.bgp = 'On';
    expect(errorsOf(installation)!.join('\n')).toMatch(/\/spec\/calicoNetwork\/bgp must be equal to one of the allowed values/);
  });
});

// The lesson's Calico policy is projectcalico.org/v3, served by the Calico API server, which does not run
// here (no Calico cluster): it cannot go through a real API server in the e2e suite. Its spec is checked
// against the crd.projectcalico.org/v1 NetworkPolicy CRD instead, whose spec *is* the v3 type
// (libcalico-go/lib/apis/crd.projectcalico.org/v1/networkpolicy_types.go, v3.28.5:
// `Spec v3.NetworkPolicySpec`), so the schema is the same one the API server's types carry.
const policyLab = renderLabFor({ policy: 'on' });
const calicoPolicies = policyLab.policyObjects.filter(o => o.apiVersion === 'projectcalico.org/v3');

test('the policy lesson emits one projectcalico.org/v3 NetworkPolicy', () => {
  expect(calicoPolicies.map(o => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['NetworkPolicy/default/allow-ping']);
});

describeWhen(missing)('the lesson\'s projectcalico.org/v3 NetworkPolicy against the pinned NetworkPolicy CRD schema', () => {
  /** The v3 object as the CRD's storage form: same spec, the CRD's apiVersion. */
  function asCrd(obj: K8sObject): K8sObject {
    return { ...structuredClone(obj), apiVersion: 'crd.projectcalico.org/v1' };
  }
  function errorsOf(obj: K8sObject): string[] {
    const v = (validators as Map<string, CrdValidator>).get('crd.projectcalico.org/v1/NetworkPolicy');
    if (!v) throw new Error('no NetworkPolicy CRD among the pinned CRDs: is it in cdk8s.yaml?');
    return v.validate(asCrd(obj)) ? [] : v.validate.errors!.map(e => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  }

  test('is valid (unknown fields rejected)', () => {
    expect(errorsOf(calicoPolicies[0])).toEqual([]);
  });

  test('fails if a rule carries an unknown field', () => {
    const policy = structuredClone(calicoPolicies[0]);
    policy.spec.ingress[0].icmpType = 8;
    expect(errorsOf(policy).join('\n')).toMatch(/\/spec\/ingress\/0 must NOT have additional properties .*icmpType/);
  });

  test('fails if the ICMP type is a string', () => {
    const policy = structuredClone(calicoPolicies[0]);
    policy.spec.egress[1].icmp.type = 'echo-request';
    expect(errorsOf(policy).join('\n')).toMatch(/\/spec\/egress\/1\/icmp\/type must be integer/);
  });

  test('fails if a rule has no action', () => {
    const policy = structuredClone(calicoPolicies[0]);
    delete policy.spec.ingress[1].action;
    expect(errorsOf(policy).join('\n')).toMatch(/\/spec\/ingress\/1 must have required property 'action'/);
  });
});
