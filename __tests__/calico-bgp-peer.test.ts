import { Chart, Testing } from 'cdk8s';
import { CalicoBgpPeer, CalicoBgpPeerProps } from '../lib/calico-bgp-peer';
import { testApp } from './support/tmp';

function synth(props: Partial<CalicoBgpPeerProps> = {}) {
  const chart = new Chart(testApp(), 'test');
  const peer = new CalicoBgpPeer(chart, 'peer', { name: 'router-ipv6', peerIP: 'fc00:f853:ccd:e793::fffe', asNumber: 65000, ...props });
  return { peer, objects: Testing.synth(chart) };
}

describe('CalicoBgpPeer', () => {
  test('defaults', () => {
    const { peer, objects } = synth();
    expect(objects).toEqual([{
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'BGPPeer',
      metadata: { name: 'router-ipv6' },
      // A global peer: no node, nodeSelector or peerSelector.
      spec: { asNumber: 65000, keepOriginalNextHop: false, peerIP: 'fc00:f853:ccd:e793::fffe', sourceAddress: 'UseNodeIP' },
    }]);
    expect(peer.family).toBe('ipv6');
  });

  test('custom', () => {
    const { peer, objects } = synth({ name: 'tor', peerIP: '172.18.255.254', asNumber: 4200000000, keepOriginalNextHop: true, sourceAddress: 'None', nodeSelector: 'rack == "a"' });
    expect(objects[0].spec).toEqual({
      asNumber: 4200000000, keepOriginalNextHop: true, nodeSelector: 'rack == "a"', peerIP: '172.18.255.254', sourceAddress: 'None',
    });
    expect(peer.family).toBe('ipv4');
  });

  // The generated class names the field peerIp; Calico reads peerIP.
  test('emits peerIP under the key Calico reads', () => {
    expect(Object.keys(synth().objects[0].spec)).toContain('peerIP');
    expect(Object.keys(synth().objects[0].spec)).not.toContain('peerIp');
  });

  test.each<[string, Partial<CalicoBgpPeerProps>, RegExp]>([
    ['the peer IP is a CIDR', { peerIP: '172.18.0.0/16' }, /^invalid bgp peer ip: got "172.18.0.0\/16", which is not a single address/],
    ['the peer IP is loopback', { peerIP: '::1' }, /got "::1", a loopback address/],
    ['the peer IP is unspecified', { peerIP: '0.0.0.0' }, /got "0.0.0.0", the unspecified address/],
    ['the peer IP is link-local', { peerIP: 'fe80::1' }, /got "fe80::1", a link-local address/],
    ['the peer IP carries a port', { peerIP: '172.18.255.254:1790' }, /which is not an address/],
    ['the AS number is reserved', { asNumber: 65535 }, /^invalid bgp peer as number: got 65535, reserved \(RFC 7300/],
    ['the source address mode is unknown', { sourceAddress: 'NodeIP' as any }, /source address "NodeIP": must be "UseNodeIP" or "None"/],
    ['the node selector is empty', { nodeSelector: ' ' }, /node selector "": leave it out for a global peer/],
    ['the name is not a DNS-1123 label', { name: 'Router_v6' }, /invalid bgp peer name "Router_v6"/],
  ])('fails if %s', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
