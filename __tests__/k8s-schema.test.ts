import { KUBERNETES_VERSION, KubeValidator, loadKubeValidator } from './support/kube-openapi';
import { describeWhen, find, renderLabFor } from './support/synth';

const lab = renderLabFor();
const networkPolicies = renderLabFor({ policy: 'on' }).policyObjects.filter(o => o.apiVersion === 'networking.k8s.io/v1');
const builtIns = lab.objects.filter(o => !o.apiVersion.includes('projectcalico.org') && !o.apiVersion.includes('tigera.io'));

test('the lab emits a ConfigMap, a DaemonSet and two Services', () => {
  expect(builtIns.map(o => o.kind).sort()).toEqual(['ConfigMap', 'DaemonSet', 'Service', 'Service']);
});

// Loaded while jest collects the tests, so a missing spec is reported as skipped tests, not passed ones.
// The first run may download the k8s.io/kubernetes module (15 MB) through the Go module proxy.
const loaded = loadKubeValidator();
const validate = loaded.validate as KubeValidator;

describeWhen(loaded.missing)(`built-in objects against the Kubernetes ${KUBERNETES_VERSION} OpenAPI schema`, () => {
  test('every built-in object is valid (unknown fields rejected)', () => {
    for (const obj of builtIns) {
      expect({ object: `${obj.kind}/${obj.metadata.name}`, errors: validate(obj) }).toEqual({ object: `${obj.kind}/${obj.metadata.name}`, errors: [] });
    }
  });

  test('fails if a Service carries a field Kubernetes 1.28 does not have', () => {
    const svc = structuredClone(find(lab.objects, 'Service', 'multitool-dual-stack'));
    svc.spec.ipFamily = 'IPv6'; // the pre-1.20 alpha field, gone since
    expect(validate(svc).join('\n')).toMatch(/\/spec must NOT have additional properties .*ipFamily"/);
  });

  test('fails if a container lacks its required name', () => {
    const ds = structuredClone(find(lab.objects, 'DaemonSet', 'multitool'));
    delete ds.spec.template.spec.containers[0].name;
    expect(validate(ds).join('\n')).toMatch(/containers\/0 must have required property 'name'/);
  });

  test('every NetworkPolicy of the policy lesson is valid', () => {
    expect(networkPolicies).toHaveLength(4);
    for (const obj of networkPolicies) {
      expect({ object: `${obj.kind}/${obj.metadata.name}`, errors: validate(obj) }).toEqual({ object: `${obj.kind}/${obj.metadata.name}`, errors: [] });
    }
  });

  test('fails if a NetworkPolicy peer carries a Calico-only field', () => {
    const np = structuredClone(networkPolicies.find(o => o.metadata.name === 'allow-external-host')!);
    np.spec.ingress[0].from[0].ipVersion = 6;
    expect(validate(np).join('\n')).toMatch(/\/spec\/ingress\/0\/from\/0 must NOT have additional properties .*ipVersion/);
  });
});
