// Unit tests for scripts/e2e/manifests.js, the helper that scripts/e2e/run.sh uses to
// read dist/ and to compare it with what kube-apiserver stored. No API server needed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

interface ServiceLike {
  spec?: { clusterIPs?: string[]; ipFamilies?: string[] };
}
interface ManifestsHelper {
  manifestFiles(dir: string): string[];
  loadObjects(dir: string): { file: string; obj: Record<string, any> }[];
  diffValues(want: unknown, got: unknown): string[];
  splitServiceSubnet(subnet: string): { ipv4?: string; ipv6?: string };
  serviceSubnetOf(kindConfigText: string): string;
  checkClusterIPs(svc: ServiceLike, serviceSubnet: string, families: string[]): string[];
  ipFamilyOf(kindConfigText: string): string;
  servicesOf(dir: string): string[][];
  corefileOf(dir: string): { corefile: string; upstreams: string[]; dns64Prefix: string } | null;
  kubeadmCoreDnsConfigMap(manifestsGo: string, dnsDomain: string): string;
  injectUnknownField(srcDir: string, dstDir: string, field: string): string;
}

const HELPER_PATH = path.join(__dirname, '..', '..', 'scripts', 'e2e', 'manifests.js');
// A plain-JS script (run by node from bash), so it is required rather than imported.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const helper = require(HELPER_PATH) as ManifestsHelper;

const SUBNET = '10.96.0.0/16,fd00:10:96::/112';

const CALICO_YAML = `apiVersion: crd.projectcalico.org/v1
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 192.168.0.0/16
  natOutgoing: true
---
apiVersion: crd.projectcalico.org/v1
kind: IPPool
metadata:
  name: default-ipv6-ippool
spec:
  cidr: fd00:10:244::/48
---
apiVersion: operator.tigera.io/v1
kind: APIServer
metadata:
  name: default
spec: {}
`;

const APP_YAML = `apiVersion: v1
kind: Service
metadata:
  name: multitool-ipv6-only
  namespace: default
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
---
`;

let tmp: string;
let dist: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-manifests-'));
  dist = path.join(tmp, 'dist');
  fs.mkdirSync(path.join(dist, 'kind'), { recursive: true });
  fs.writeFileSync(path.join(dist, '0001-app.k8s.yaml'), APP_YAML);
  fs.writeFileSync(path.join(dist, '0000-calico.k8s.yaml'), CALICO_YAML);
  fs.writeFileSync(
    path.join(dist, 'kind', 'cluster.yaml'),
    `kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  serviceSubnet: "${SUBNET}"\n`,
  );
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function runHelper(...args: string[]) {
  return spawnSync(process.execPath, [HELPER_PATH, ...args], { encoding: 'utf8' });
}

describe('reading dist/', () => {
  test('only top-level YAML files, in lexical order (kind/ is not for kubectl)', () => {
    expect(helper.manifestFiles(dist).map((f) => path.basename(f))).toEqual([
      '0000-calico.k8s.yaml',
      '0001-app.k8s.yaml',
    ]);
  });

  test('every document becomes an object; empty documents are skipped', () => {
    const kinds = helper.loadObjects(dist).map(({ obj }) => `${obj.kind}/${obj.metadata.name}`);
    expect(kinds).toEqual([
      'IPPool/default-ipv4-ippool',
      'IPPool/default-ipv6-ippool',
      'APIServer/default',
      'Service/multitool-ipv6-only',
    ]);
  });

  test('the objects command prints apiVersion, kind, namespace (- if none) and name', () => {
    const res = runHelper('objects', dist);
    expect(res.status).toBe(0);
    expect(res.stdout.trim().split('\n')).toEqual([
      'crd.projectcalico.org/v1\tIPPool\t-\tdefault-ipv4-ippool',
      'crd.projectcalico.org/v1\tIPPool\t-\tdefault-ipv6-ippool',
      'operator.tigera.io/v1\tAPIServer\t-\tdefault',
      'v1\tService\tdefault\tmultitool-ipv6-only',
    ]);
  });

  test('the service range comes from the kind config, whole or per family', () => {
    const kindConfig = path.join(dist, 'kind', 'cluster.yaml');
    expect(runHelper('service-subnet', kindConfig).stdout.trim()).toBe(SUBNET);
    expect(runHelper('service-subnet', kindConfig, 'ipv4').stdout.trim()).toBe('10.96.0.0/16');
    expect(runHelper('service-subnet', kindConfig, 'ipv6').stdout.trim()).toBe('fd00:10:96::/112');
  });

  test('a kind config without networking.serviceSubnet is an error', () => {
    expect(() => helper.serviceSubnetOf('kind: Cluster\nnetworking: {}\n')).toThrow(/serviceSubnet/);
  });

  test('a service range with two ranges of one family is an error', () => {
    expect(() => helper.splitServiceSubnet('10.96.0.0/16,10.97.0.0/16')).toThrow(/two ipv4/);
  });
});

describe('an IPv6-only dist', () => {
  const COREDNS_YAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  Corefile: |
    .:53 {
        dns64 {
           prefix fd00:10:64::/96
        }
        forward . [fc00:f853:ccd:e793::53]:53 10.0.0.53:53 {
           max_concurrent 1000
        }
    }
`;

  test('kind\'s ipFamily, "ipv4" (kind\'s default) when absent', () => {
    expect(helper.ipFamilyOf('networking:\n  ipFamily: ipv6\n')).toBe('ipv6');
    expect(helper.ipFamilyOf('networking: {}\n')).toBe('ipv4');
    expect(runHelper('ip-family', path.join(dist, 'kind', 'cluster.yaml')).stdout.trim()).toBe('ipv4');
  });

  test('the services command prints namespace, name and families of every Service', () => {
    expect(runHelper('services', dist).stdout.trim()).toBe('default\tmultitool-ipv6-only\tIPv6');
  });

  test('the Corefile of kube-system\'s coredns ConfigMap: its forward addresses and dns64 prefix', () => {
    expect(helper.corefileOf(dist)).toBeNull();
    expect(runHelper('corefile', dist).stdout).toBe('');
    fs.writeFileSync(path.join(dist, '0002-dns.k8s.yaml'), COREDNS_YAML);
    expect(helper.corefileOf(dist)).toMatchObject({ upstreams: ['fc00:f853:ccd:e793::53', '10.0.0.53'], dns64Prefix: 'fd00:10:64::/96' });
    expect(runHelper('corefile', dist).stdout).toBe('upstreams=fc00:f853:ccd:e793::53 10.0.0.53\ndns64_prefix=fd00:10:64::/96\n');
  });

  test('compare-data compares a ConfigMap\'s data and names the difference', () => {
    fs.writeFileSync(path.join(dist, '0002-dns.k8s.yaml'), COREDNS_YAML);
    const stored = path.join(tmp, 'stored.json');
    const corefile = helper.corefileOf(dist)!.corefile;
    fs.writeFileSync(stored, JSON.stringify({ data: { Corefile: corefile } }));
    expect(runHelper('compare-data', dist, 'v1', 'ConfigMap', 'coredns', stored).status).toBe(0);
    fs.writeFileSync(stored, JSON.stringify({ data: { Corefile: '.:53 {\n    forward . /etc/resolv.conf\n}\n' } }));
    const res = runHelper('compare-data', dist, 'v1', 'ConfigMap', 'coredns', stored);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/^\.Corefile: want /);
  });

  test('kubeadm\'s coredns ConfigMap is its template with the DNS domain filled in', () => {
    const go = path.join(tmp, 'manifests.go');
    fs.writeFileSync(go, 'package dns\n\nconst (\n\tCoreDNSConfigMap = `\napiVersion: v1\nkind: ConfigMap\ndata:\n  Corefile: |\n    kubernetes {{ .DNSDomain }} in-addr.arpa\n`\n)\n');
    expect(helper.kubeadmCoreDnsConfigMap(go, 'cluster.local')).toContain('    kubernetes cluster.local in-addr.arpa\n');
    fs.writeFileSync(go, 'package dns\n\tCoreDNSConfigMap = `{{ .Other }}`\n');
    expect(() => helper.kubeadmCoreDnsConfigMap(go, 'cluster.local')).toThrow(/unexpected template field/);
    fs.writeFileSync(go, 'package dns\n');
    expect(() => helper.kubeadmCoreDnsConfigMap(go, 'cluster.local')).toThrow(/no CoreDNSConfigMap template/);
  });
});

describe('comparing stored specs', () => {
  test('equal specs have no differences, whatever the key order', () => {
    expect(helper.diffValues({ a: 1, b: [{ c: true }] }, { b: [{ c: true }], a: 1 })).toEqual([]);
  });

  test('a pruned field is reported', () => {
    expect(helper.diffValues({ cidr: 'x', unknown: 1 }, { cidr: 'x' })).toEqual(['.unknown: pruned (want 1)']);
  });

  test('a defaulted field is reported, inside lists too', () => {
    expect(helper.diffValues({ ipPools: [{ cidr: 'x' }] }, { ipPools: [{ cidr: 'x', disableBGPExport: false }] })).toEqual([
      '.ipPools[0].disableBGPExport: added by the server (got false)',
    ]);
  });

  test('changed values and list lengths are reported', () => {
    expect(helper.diffValues({ n: 26, l: [1, 2] }, { n: '26', l: [1] })).toEqual([
      '.l: want 2 items, got 1',
      '.n: want 26, got "26"',
    ]);
  });

  test('compare-spec exits 1 and names the difference', () => {
    const stored = path.join(tmp, 'stored.json');
    fs.writeFileSync(stored, JSON.stringify({ spec: { cidr: '192.168.0.0/16' } }));
    const res = runHelper('compare-spec', dist, 'crd.projectcalico.org/v1', 'IPPool', 'default-ipv4-ippool', stored);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('.natOutgoing: pruned');
  });
});

describe('checking ClusterIPs', () => {
  const svc = (clusterIPs: string[], ipFamilies: string[]): ServiceLike => ({ spec: { clusterIPs, ipFamilies } });

  test('dual-stack: IPv4 first, then IPv6, each in its range', () => {
    expect(helper.checkClusterIPs(svc(['10.96.3.4', 'fd00:10:96::5'], ['IPv4', 'IPv6']), SUBNET, ['IPv4', 'IPv6'])).toEqual(
      [],
    );
  });

  test('the wrong order is reported', () => {
    const problems = helper.checkClusterIPs(svc(['fd00:10:96::5', '10.96.3.4'], ['IPv6', 'IPv4']), SUBNET, ['IPv4', 'IPv6']);
    expect(problems.join('\n')).toMatch(/clusterIPs\[0\] fd00:10:96::5 is ipv6, want ipv4/);
  });

  test('an address outside the service range is reported', () => {
    const problems = helper.checkClusterIPs(svc(['fd00:10:97::5'], ['IPv6']), SUBNET, ['IPv6']);
    expect(problems).toEqual(['clusterIPs[0] fd00:10:97::5 is outside the ipv6 service range fd00:10:96::/112']);
  });

  test('a single-stack Service with two addresses is reported', () => {
    const problems = helper.checkClusterIPs(svc(['10.96.3.4', 'fd00:10:96::5'], ['IPv4', 'IPv6']), SUBNET, ['IPv6']);
    expect(problems.join('\n')).toMatch(/want 1 clusterIPs/);
  });
});

describe('negative-case copy', () => {
  test('adds the unknown field to the first IPPool spec only and copies the other files', () => {
    const copy = path.join(tmp, 'copy');
    expect(helper.injectUnknownField(dist, copy, 'e2eUnknownField')).toBe(
      'crd.projectcalico.org/v1 IPPool default-ipv4-ippool',
    );
    const objs = helper.loadObjects(copy).map(({ obj }) => obj);
    expect(objs[0].spec).toEqual({ cidr: '192.168.0.0/16', natOutgoing: true, e2eUnknownField: true });
    expect(objs[1].spec).toEqual({ cidr: 'fd00:10:244::/48' });
    expect(objs).toHaveLength(4);
    expect(fs.existsSync(path.join(copy, 'kind'))).toBe(false);
  });

  test('a dir without an IPPool is an error', () => {
    fs.rmSync(path.join(dist, '0000-calico.k8s.yaml'));
    expect(() => helper.injectUnknownField(dist, path.join(tmp, 'copy'), 'x')).toThrow(/no IPPool/);
  });
});

describe('explaining a second apply that is not "unchanged"', () => {
  test('fields of dist that the server dropped are named; fields it added are not', () => {
    const h = helper as ManifestsHelper & { droppedFields(want: unknown, got: unknown): string[] };
    const want = { spec: { minReadySeconds: 0, template: { spec: { hostNetwork: false, dnsPolicy: 'ClusterFirst' } } } };
    const got = { spec: { revisionHistoryLimit: 10, template: { spec: { dnsPolicy: 'ClusterFirst', schedulerName: 'x' } } } };
    expect(h.droppedFields(want, got)).toEqual([
      '.spec.minReadySeconds: pruned (want 0)',
      '.spec.template.spec.hostNetwork: pruned (want false)',
    ]);
  });
});
