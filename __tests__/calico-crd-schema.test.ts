import { CrdValidator, loadCrdValidators } from './support/calico-crds';
import { describeWhen, find, K8sObject, renderLabFor } from './support/synth';

const calicoGroups = ['crd.projectcalico.org', 'operator.tigera.io'];

const lab = renderLabFor();
const calicoObjects = lab.objects.filter(o => calicoGroups.includes(o.apiVersion.split('/')[0]));

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

  test('every synthesized Calico object is valid against its CRD (unknown fields rejected)', () => {
    for (const obj of calicoObjects) {
      expect({ object: `${obj.kind}/${obj.metadata.name}`, errors: errorsOf(obj) }).toEqual({ object: `${obj.kind}/${obj.metadata.name}`, errors: [] });
    }
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
