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

  test.each([
    ['the name is not a DNS label', { name: 'IPv6_Lab' }, /invalid kind cluster name "IPv6_Lab"/],
    ['workers is negative', { workers: -1 }, /invalid kind worker count -1/],
    ['workers is too large', { workers: 11 }, /from 1 to 10/],
    ['there are no workers (the lab checks traffic between nodes)', { workers: 0 }, /invalid kind worker count 0: must be an integer from 1 to 10/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => make(props)).toThrow(message);
  });
});
