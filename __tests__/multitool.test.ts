import { createHash } from 'crypto';
import { Chart, Testing } from 'cdk8s';
import { CONFIG_HASH_ANNOTATION, Multitool, MULTITOOL_DEFAULT_IMAGE, MultitoolProps, renderNginxConfig } from '../lib/multitool';
import { testApp } from './support/tmp';

function synth(props?: MultitoolProps) {
  const chart = new Chart(testApp(), 'test', { disableResourceNameHashes: true });
  new Multitool(chart, 'mt', props);
  const objects = Testing.synth(chart);
  return { configMap: objects.find(o => o.kind === 'ConfigMap'), ds: objects.find(o => o.kind === 'DaemonSet'), objects };
}

describe('Multitool', () => {
  test('defaults', () => {
    const { configMap, ds, objects } = synth();
    expect(objects.map(o => o.kind)).toEqual(['ConfigMap', 'DaemonSet']);
    expect(configMap.metadata).toEqual({ name: 'multitool-nginx', namespace: 'default', labels: { app: 'multitool' } });
    expect(ds.metadata).toEqual({ name: 'multitool', namespace: 'default', labels: { app: 'multitool' } });
    const [container] = ds.spec.template.spec.containers;
    expect(container.image).toBe(MULTITOOL_DEFAULT_IMAGE);
    // The alpine-extra variant, by tag until `npm run pin:multitool` adds the digest.
    expect(container.image).toMatch(/^wbitt\/network-multitool:alpine-extra(@sha256:[0-9a-f]{64})?$/);
    expect(container.ports).toEqual([{ containerPort: 8080, name: 'http' }]);
  });

  test('custom', () => {
    const { configMap, ds } = synth({ name: 'tools', namespace: 'lab', image: 'registry.local/multitool:1.0', port: 9090 });
    expect(ds.metadata).toMatchObject({ name: 'tools', namespace: 'lab' });
    expect(ds.spec.selector).toEqual({ matchLabels: { app: 'tools' } });
    expect(configMap.data['nginx.conf']).toContain('listen [::]:9090;');
    expect(ds.spec.template.spec.containers[0].image).toBe('registry.local/multitool:1.0');
  });

  test('a digest-pinned image is emitted as given', () => {
    const image = `wbitt/network-multitool:alpine-extra@sha256:${'0123456789abcdef'.repeat(4)}`;
    expect(synth({ image }).ds.spec.template.spec.containers[0].image).toBe(image);
  });

  test('selects and labels pods with app=multitool only, without cdk8s-plus metadata labels', () => {
    const { ds } = synth();
    expect(ds.spec.selector).toEqual({ matchLabels: { app: 'multitool' } });
    expect(ds.spec.template.metadata.labels).toEqual({ app: 'multitool' });
  });

  test('tolerates the control-plane taint so every node, control plane included, runs one pod', () => {
    expect(synth().ds.spec.template.spec.tolerations).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
    ]);
  });

  test('pulls IfNotPresent and requests little enough for three pods on a laptop', () => {
    const [container] = synth().ds.spec.template.spec.containers;
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.resources.requests).toEqual({ cpu: '10m', memory: '32Mi' });
    expect(container.resources.limits).toEqual({ cpu: '200m', memory: '128Mi' });
  });

  test('runs nginx on the mounted config instead of the image entrypoint', () => {
    const { ds, configMap } = synth();
    const pod = ds.spec.template.spec;
    const [container] = pod.containers;
    expect(container.command).toEqual(['nginx', '-c', '/etc/multitool/nginx.conf', '-g', 'daemon off;']);
    expect(container.env).toBeUndefined(); // HTTP_PORT would make the entrypoint rewrite the config
    expect(container.volumeMounts).toEqual([{ mountPath: '/etc/multitool', name: 'nginx-config', readOnly: true }]);
    expect(pod.volumes).toEqual([{ name: 'nginx-config', configMap: { name: configMap.metadata.name } }]);
    expect(container.securityContext).toMatchObject({ runAsNonRoot: false, readOnlyRootFilesystem: false });
  });

  test('nginx listens on IPv4 and on [::] and names pod, address and family in every answer', () => {
    const conf = synth().configMap.data['nginx.conf'];
    expect(conf).toMatch(/^\s*listen 8080;/m);
    expect(conf).toMatch(/^\s*listen \[::\]:8080;/m);
    expect(conf).toContain('return 200 "$hostname answered over $lab_ip_family on $server_addr');
  });

  test('annotates the pod template with the sha256 of the nginx config, so a config change rolls the pods', () => {
    const a = synth().ds.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    const b = synth({ port: 9090 }).ds.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    expect(a).toBe(createHash('sha256').update(renderNginxConfig(8080)).digest('hex'));
    expect(b).not.toBe(a);
  });

  test('is ready only when nginx answers on both 127.0.0.1 and [::1]', () => {
    const probe = synth().ds.spec.template.spec.containers[0].readinessProbe;
    const script = probe.exec.command.join(' ');
    expect(script).toContain('http://127.0.0.1:8080/');
    expect(script).toContain('http://[::1]:8080/');
    expect(script).toMatch(/127\.0\.0\.1:8080\/ && curl .*\[::1\]:8080/);
  });

  test('custom: IPv6-only, nginx on [::] alone and the probe over [::1] alone', () => {
    const { configMap, ds } = synth({ ipFamilies: ['IPv6'], port: 9090 });
    const conf: string = configMap.data['nginx.conf'];
    expect(conf.split('\n').filter(l => /^\s*listen /.test(l)).map(l => l.trim())).toEqual([
      'listen [::]:9090;   # IPv6 only: an IPv6-only cluster\'s pods have no IPv4 address',
    ]);
    expect(ds.spec.template.spec.containers[0].readinessProbe.exec.command).toEqual(['sh', '-c', "curl -fsS -o /dev/null --max-time 2 'http://[::1]:9090/'"]);
    expect(ds.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION]).toBe(createHash('sha256').update(renderNginxConfig(9090, ['IPv6'])).digest('hex'));
  });

  // Found by the API-server suite: zero values the server does not store make every re-apply "configured".
  test('emits no zero values the API server drops (re-apply stays "unchanged")', () => {
    const { ds } = synth();
    expect(ds.spec).not.toHaveProperty('minReadySeconds');
    expect(ds.spec.template.spec).not.toHaveProperty('hostNetwork');
  });

  test.each([
    ['the port is out of range', { port: 65536 }, /invalid multitool port 65536/],
    ['the name is not a DNS label', { name: 'Multi_Tool' }, /invalid multitool name "Multi_Tool"/],
    ['the families are IPv4 alone', { ipFamilies: ['IPv4'] as any }, 'invalid multitool ipFamilies ["IPv4"]: must be ["IPv4","IPv6"] (dual-stack) or ["IPv6"] (ipv6-only)'],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
