import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_LAB_CONFIG } from '../lib/config-schema';
import * as defaults from '../lib/defaults';

const LIB = path.join(__dirname, '..', 'lib');

/** lib/*.ts without comments: doc comments may quote a default, code may not repeat it. */
function codeOf(file: string): string {
  return fs.readFileSync(path.join(LIB, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

describe('defaults', () => {
  test('the configuration defaults are the constructs defaults', () => {
    expect(DEFAULT_LAB_CONFIG).toMatchObject({
      clusterName: defaults.DEFAULT_CLUSTER_NAME,
      workers: defaults.DEFAULT_WORKERS,
      kindNodeImage: defaults.KIND_NODE_IMAGE,
      pools: defaults.DEFAULT_POOLS,
      serviceSubnets: defaults.DEFAULT_SERVICE_SUBNETS,
      multitool: { port: defaults.DEFAULT_APP_PORT, servicePort: defaults.DEFAULT_SERVICE_PORT },
      routing: defaults.DEFAULT_ROUTING,
      bgp: { asNumber: defaults.DEFAULT_CLUSTER_AS_NUMBER },
      router: defaults.DEFAULT_ROUTER,
    });
  });

  // Ports 80 and 8080 were once written in five places; now lib/defaults.ts alone holds each lab default.
  test.each(fs.readdirSync(LIB).filter(f => f.endsWith('.ts') && f !== 'defaults.ts'))('%s repeats no lab default', (file) => {
    const code = codeOf(file);
    expect(code).not.toMatch(/[^\w.:/-](80|8080)\b(?![.:/])/);
    for (const value of [defaults.DEFAULT_CLUSTER_NAME, defaults.DEFAULT_SERVICE_SUBNETS.ipv4, defaults.DEFAULT_SERVICE_SUBNETS.ipv6, defaults.KIND_NODE_IMAGE,
      defaults.DEFAULT_ROUTER.image, ...Object.values(defaults.DEFAULT_ROUTER.peerIPs), ...Object.values(defaults.DEFAULT_ROUTER.network)]) {
      expect(code).not.toContain(`'${value}'`);
    }
    // AS numbers as values, not as the ends of a range such as RFC 6996's 64512-65534.
    expect(code).not.toMatch(/[^\w.-](64512|65000)\b(?!-)/);
  });
});
