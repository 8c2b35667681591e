import { calicoHashRouterId, hashedRouterIdCollision, routerIdProblem } from '../lib/router-id';

describe('calicoHashRouterId (Calico v3.28.5 confd hashToIPv4)', () => {
  test('defaults: the lab\'s three nodes and its router', () => {
    expect(['ipv6-lab-control-plane', 'ipv6-lab-worker', 'ipv6-lab-worker2', 'ipv6-lab-router'].map(calicoHashRouterId))
      .toEqual(['200.209.183.119', '155.253.77.165', '220.158.194.24', '176.147.10.162']);
  });

  test('custom: a first byte above 223 is lowered by 32 (sha256("n13") starts with 244), so no ID is multicast or class E', () => {
    expect(calicoHashRouterId('n13')).toBe('212.245.13.237');
    for (let i = 0; i < 2000; i++) {
      expect(Number(calicoHashRouterId(`node-${i}`).split('.')[0])).toBeLessThan(224);
    }
  });

  test('hashedRouterIdCollision finds two names with one ID (lab-69556 and lab-72699, found by search), and none among the lab\'s', () => {
    expect(hashedRouterIdCollision(['x', 'lab-69556', 'y', 'lab-72699'])).toEqual({ a: 'lab-69556', b: 'lab-72699', id: '212.87.137.217' });
    expect(hashedRouterIdCollision(['ipv6-lab-router', 'ipv6-lab-control-plane', 'ipv6-lab-worker', 'ipv6-lab-worker2'])).toBeUndefined();
  });

  test('routerIdProblem: what FRR refuses as a BGP identifier', () => {
    expect(routerIdProblem('176.147.10.162')).toBeUndefined();
    expect(routerIdProblem('0.0.0.0')).toMatch(/0\.0\.0\.0/);
    expect(routerIdProblem('224.0.0.1')).toMatch(/multicast or class E/);
    expect(routerIdProblem('fd00::1')).toMatch(/dotted quad/);
    expect(routerIdProblem('1.2.3.256')).toMatch(/dotted quad/);
  });
});
