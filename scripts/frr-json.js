#!/usr/bin/env node
/**
 * Reads one of FRR's `show ... json` outputs (vtysh in the lab's router, routing "bgp") on stdin and prints
 * what the scripts (scripts/lib/variant-bgp.sh, checks-bgp.sh) compare, one "|"-separated line per item:
 *
 *   summary   `show bgp summary json`:           family|peer|state|peerState|pfxRcd|pfxSnt
 *             (family ipv4 or ipv6: the address family the session carries)
 *   routes    `show bgp ipv4|ipv6 unicast json`:  prefix|peerId|nexthop|best|multipath
 *             (one line per path; nexthop: the one FRR uses, `"used": true`, else the first)
 *
 * The keys are FRR 8.4's (bgpd's bgp_show_summary, route_vty_out_json; the fixtures under
 * __tests__/scripts/fixtures/bgp are a real FRR 8.4.4's answers). Plain Node.js, no dependencies.
 *
 * Usage: node scripts/frr-json.js summary|routes <JSON     (exit 1 with one line on stderr on bad input)
 */
'use strict';
const fs = require('fs');

const FAMILIES = { ipv4Unicast: 'ipv4', ipv6Unicast: 'ipv6' };

function summary(json) {
  const lines = [];
  for (const [key, family] of Object.entries(FAMILIES)) {
    const peers = (json[key] && json[key].peers) || {};
    for (const [ip, p] of Object.entries(peers)) {
      lines.push([family, ip, p.state ?? '', p.peerState ?? '', p.pfxRcd ?? '', p.pfxSnt ?? ''].join('|'));
    }
  }
  return lines;
}

function routes(json) {
  const lines = [];
  for (const [prefix, paths] of Object.entries(json.routes || {})) {
    for (const p of paths) {
      const hops = p.nexthops || [];
      const hop = hops.find(h => h.used) || hops[0] || {};
      lines.push([prefix, p.peerId ?? '', hop.ip ?? '', p.bestpath ? 1 : 0, p.multipath ? 1 : 0].join('|'));
    }
  }
  return lines;
}

function main(argv) {
  const command = { summary, routes }[argv[0]];
  if (!command || argv.length !== 1) {
    process.stderr.write('usage: node scripts/frr-json.js summary|routes <JSON\n');
    return 2;
  }
  let json;
  try {
    json = JSON.parse(fs.readFileSync(0, 'utf8'));
  } catch (e) {
    process.stderr.write(`not FRR's JSON: ${e.message}\n`);
    return 1;
  }
  const out = command(json);
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

module.exports = { summary, routes };
