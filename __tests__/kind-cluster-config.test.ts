import * as fs from 'fs';
import * as path from 'path';
import { App } from 'cdk8s';
import { parse } from 'yaml';
import { KindClusterConfig, KindClusterConfigProps } from '../lib/kind-cluster-config';
import { KIND_NODE_IMAGE } from '../lib/defaults';
import { mkTmp } from './support/synth';

const make = (props?: KindClusterConfigProps) => new KindClusterConfig(new App(), 'kind', props);

describe('KindClusterConfig', () => {
  test('defaults', () => {
    expect(make().toJson()).toEqual({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      name: 'ipv6-lab',
      networking: {
        ipFamily: 'dual',
        disableDefaultCNI: true,
        podSubnet: '192.168.0.0/16,fd00:10:244::/48',
        serviceSubnet: '10.96.0.0/16,fd00:10:96::/112',
      },
      nodes: [
        { role: 'control-plane', image: KIND_NODE_IMAGE },
        { role: 'worker', image: KIND_NODE_IMAGE },
        { role: 'worker', image: KIND_NODE_IMAGE },
      ],
      kubeadmConfigPatches: ['kind: ClusterConfiguration\ncontrollerManager:\n  extraArgs:\n    allocate-node-cidrs: "false"\n'],
    });
  });

  test('custom', () => {
    const json = make({
      name: 'lab2', workers: 1, nodeImage: 'kindest/node:v1.29.0',
      podSubnets: ['10.244.0.0/16', 'fd00:1::/48'], serviceSubnets: ['10.97.0.0/16', 'fd00:2::/112'],
    }).toJson() as any;
    expect(json.name).toBe('lab2');
    expect(json.nodes).toEqual([{ role: 'control-plane', image: 'kindest/node:v1.29.0' }, { role: 'worker', image: 'kindest/node:v1.29.0' }]);
    expect(json.networking).toMatchObject({ podSubnet: '10.244.0.0/16,fd00:1::/48', serviceSubnet: '10.97.0.0/16,fd00:2::/112' });
    expect(make({ allocateNodeCidrs: true }).toJson()).not.toHaveProperty('kubeadmConfigPatches');
  });

  test('custom: IPv6-only, ipFamily ipv6 with one IPv6 pod and service subnet, allocation still off', () => {
    const json = make({ ipFamily: 'ipv6' }).toJson() as any;
    expect(json.networking).toEqual({
      ipFamily: 'ipv6', disableDefaultCNI: true, podSubnet: 'fd00:10:244::/48', serviceSubnet: 'fd00:10:96::/112',
    });
    expect(json.kubeadmConfigPatches).toHaveLength(1);
    expect(make({ ipFamily: 'ipv6', podSubnets: ['fd00:20::/56'], serviceSubnets: ['fd00:30::/112'] }).toJson()).toMatchObject({
      networking: { podSubnet: 'fd00:20::/56', serviceSubnet: 'fd00:30::/112' },
    });
  });

  // kind v0.25.0 validateSubnets: "only one CIDR allowed for single-stack networking", "expected IPv6 CIDR for IPv6 family".
  test.each([
    ['ipFamily ipv6 gets two pod subnets', { ipFamily: 'ipv6', podSubnets: ['192.168.0.0/16', 'fd00:10:244::/48'] },
      'invalid pod subnets ["192.168.0.0/16","fd00:10:244::/48"] for ipFamily "ipv6": must be exactly one ipv6 cidr'],
    ['ipFamily ipv6 gets an IPv4 service subnet', { ipFamily: 'ipv6', serviceSubnets: ['10.96.0.0/16'] },
      'invalid service subnets ["10.96.0.0/16"] for ipFamily "ipv6": must be exactly one ipv6 cidr'],
    ['ipFamily dual gets the IPv6 subnet first', { podSubnets: ['fd00:10:244::/48', '192.168.0.0/16'] },
      'invalid pod subnets ["fd00:10:244::/48","192.168.0.0/16"] for ipFamily "dual": must be an ipv4 then an ipv6 cidr'],
    ['ipFamily is ipv4', { ipFamily: 'ipv4' },
      'invalid kind ipFamily "ipv4": must be "dual" or "ipv6" (an ipv4-only cluster is no variant of this ipv6 lab)'],
  ] as const)('fails if %s', (_what, props, message) => {
    expect(() => make(props as KindClusterConfigProps)).toThrow(message);
  });

  /** The kube-controller-manager extraArgs that kind merges into its kubeadm ClusterConfiguration. */
  const controllerManagerArgs = (json: any) => (json.kubeadmConfigPatches ?? [])
    .map((p: string) => parse(p))
    .filter((p: any) => p.kind === 'ClusterConfiguration')
    .reduce((args: any, p: any) => ({ ...args, ...p.controllerManager?.extraArgs }), {});

  // kubeadm (v1.28 ValidateNetworking) checks the pod subnets against the node masks /24 and /64 unless
  // allocate-node-cidrs is "false"; Calico IPAM needs no node podCIDRs, so the lab turns allocation off.
  test.each([
    ['an IPv6 pool longer than the /64 node mask', ['192.168.0.0/16', 'fd00:10:244::/112']],
    ['an IPv6 pool more than 16 bits shorter than /64', ['192.168.0.0/16', 'fd00::/40']],
    ['an IPv4 pool longer than the /24 node mask', ['10.10.0.0/25', 'fd00:10:244::/48']],
    ['an IPv4 pool more than 16 bits shorter than /24', ['10.0.0.0/7', 'fd00:10:244::/48']],
    ['the default pools', ['192.168.0.0/16', 'fd00:10:244::/48']],
  ] as const)('turns node CIDR allocation off, so kind accepts %s', (_what, podSubnets) => {
    const json = make({ podSubnets }).toJson() as any;
    expect(json.networking.podSubnet).toBe(podSubnets.join(','));
    expect(controllerManagerArgs(json)).toEqual({ 'allocate-node-cidrs': 'false' });
  });

  test('with node CIDR allocation on, accepts pod subnets the node masks can split', () => {
    expect(() => make({ allocateNodeCidrs: true, podSubnets: ['10.0.0.0/8', 'fd00::/48'] })).not.toThrow();
    expect(() => make({ allocateNodeCidrs: true, podSubnets: ['10.0.0.0/24', 'fd00::/64'] })).not.toThrow();
  });

  test.each([
    ['node CIDR allocation is on and the IPv6 pod subnet is longer than /64', ['192.168.0.0/16', 'fd00:10:244::/112'],
      'invalid pod subnet "fd00:10:244::/112" with node cidr allocation on: kubeadm splits it into /64 node cidrs, '
      + 'so the prefix must be from /48 to /64; leave allocateNodeCidrs off (calico ipam does not need it)'],
    ['node CIDR allocation is on and the IPv6 pod subnet is shorter than /48', ['192.168.0.0/16', 'fd00::/40'],
      /^invalid pod subnet "fd00::\/40" with node cidr allocation on: .* from \/48 to \/64/],
    ['node CIDR allocation is on and the IPv4 pod subnet is longer than /24', ['10.10.0.0/25', 'fd00:10:244::/48'],
      /^invalid pod subnet "10.10.0.0\/25" with node cidr allocation on: .* from \/8 to \/24/],
  ] as const)('fails if %s', (_what, podSubnets, message) => {
    expect(() => make({ allocateNodeCidrs: true, podSubnets })).toThrow(message);
  });

  test('pins the kind v0.25.0 node image for Kubernetes 1.28.15 by digest', () => {
    expect(KIND_NODE_IMAGE).toMatch(/^kindest\/node:v1\.28\.15@sha256:[0-9a-f]{64}$/);
  });

  test('writes kind/cluster.yaml that parses back to the same config', () => {
    const dir = mkTmp('kind');
    const kind = make();
    const file = kind.writeTo(dir);
    expect(file).toBe(path.join(dir, 'kind', 'cluster.yaml'));
    expect(parse(fs.readFileSync(file, 'utf8'))).toEqual(kind.toJson());
  });

  test.each<[string, KindClusterConfigProps, string | RegExp]>([
    ['the name is not a DNS label', { name: 'IPv6_Lab' }, /invalid kind cluster name "IPv6_Lab"/],
    ['workers is negative', { workers: -1 }, /invalid kind worker count -1/],
    ['workers is too large', { workers: 11 }, /from 1 to 10/],
    ['there are no workers (the lab checks traffic between nodes)', { workers: 0 }, /invalid kind worker count 0: must be an integer from 1 to 10/],
    ['a pod subnet has fewer than the 14 addresses kubeadm needs', { podSubnets: ['10.0.0.0/29', 'fd00::/48'] },
      'invalid pod subnet "10.0.0.0/29": kubeadm needs at least 14 addresses, so the prefix must be /28 or shorter'],
    ['an IPv6 pod subnet has fewer than 14 addresses', { podSubnets: ['10.0.0.0/16', 'fd00::/125'] }, /"fd00::\/125".* \/124 or shorter/],
    ['a pod subnet is not a CIDR', { podSubnets: ['10.0.0.0', 'fd00::/48'] }, 'invalid pod subnet "10.0.0.0": must be an ipv4 or ipv6 cidr'],
  ])('fails if %s', (_what, props, message) => {
    expect(() => make(props)).toThrow(message);
  });
});
