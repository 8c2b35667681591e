import { createHash } from 'crypto';

/**
 * The BGP router ID calico-node's BIRD takes with `CALICO_ROUTER_ID=hash`, which tigera/operator v1.34.13
 * renders for an IPv6-only cluster with BGP on (pkg/render/node.go: no IPv4 autodetection method and
 * `bgp: Enabled`). Calico v3.28.5's confd (pkg/resource/template/template_funcs.go, `hashToIPv4`): the
 * first four bytes of sha256(node name) as a dotted quad, the first one lowered by 32 when above 223, so
 * that no ID is a multicast or class E address (calico#5146: a peer refused a 249.x ID as "Bad BGP
 * Identifier"). A router ID is 32 bits written as an IPv4 address, even for a speaker without IPv4.
 */
export function calicoHashRouterId(nodeName: string): string {
  const bytes = [...createHash('sha256').update(nodeName).digest().subarray(0, 4)];
  if (bytes[0] > 223) bytes[0] -= 32;
  return bytes.join('.');
}

/** The reasons FRR's bgpd refuses a peer's BGP identifier (bgp_open.c): zero, class D/E, or its own. */
export function routerIdProblem(id: string): string | undefined {
  const parts = id.split('.');
  if (parts.length !== 4 || parts.some(p => !/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255)) {
    return 'is not a 32-bit router ID written as a dotted quad (a.b.c.d)';
  }
  if (parts.every(p => p === '0')) return 'is 0.0.0.0, which BGP refuses as an identifier';
  if (Number(parts[0]) >= 224) return 'is a multicast or class E address, which FRR refuses as a BGP identifier';
  return undefined;
}

/**
 * The first two of `names` whose hashed router IDs (calicoHashRouterId) are equal, with that ID; undefined
 * when all differ.
 */
export function hashedRouterIdCollision(names: readonly string[]): { a: string; b: string; id: string } | undefined {
  const seen = new Map<string, string>();
  for (const name of names) {
    const id = calicoHashRouterId(name);
    const other = seen.get(id);
    if (other !== undefined) return { a: other, b: name, id };
    seen.set(id, name);
  }
  return undefined;
}
