/**
 * The policy fixtures' node in network namespaces, with the real kernel and the real iptables: a
 * "node" namespace holding Felix's filter table for the lesson (rendered by felix-iptables.ts), a
 * "pod" namespace wired to it the way Calico's CNI plugin wires a pod (veth `cali…`, /32 and /128
 * routes, proxy ARP to 169.254.1.1, the host side's link-local fe80::ecee:eeff:feee:eeee as IPv6
 * gateway), and an "ext" namespace standing in for the external host on kind's network.
 *
 * One denied IPv4 request and one allowed IPv6 request from the external host to the pod's app port,
 * with `iptables-save -c` / `ip6tables-save -c` of the filter table before and after. Every namespace
 * and process carries a unique suffix and is removed by `teardown`, whatever happened.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import { IpVersion } from './felix-iptables';
import { LessonNode, NODE_ADDRESSES, ipsetRestore, restoreInput } from './felix-lesson';

export const POD_GATEWAY = { 4: '169.254.1.1', 6: 'fe80::ecee:eeff:feee:eeee' } as const;
export const EXTERNAL = { 4: '172.18.255.250', 6: 'fc00:f853:ccd:e793:ffff::fa' } as const;

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string, timeoutMs = 20000): Run {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function must(cmd: string, args: string[], input?: string): string {
  const r = run(cmd, args, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** What the tests need from the system; a reason string when something is missing. */
export function missingTools(): string | undefined {
  if (process.getuid?.() !== 0) return 'root (network namespaces)';
  for (const [tool, pkg] of [['ip', 'iproute2'], ['iptables-restore', 'iptables'], ['ip6tables-save', 'iptables'], ['ipset', 'ipset'], ['ping', 'iputils-ping']]) {
    if (run('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} (Debian package ${pkg})`;
  }
  const probe = `h6probe-${randomBytes(3).toString('hex')}`;
  const add = run('ip', ['netns', 'add', probe]);
  if (add.status !== 0) return `ip netns add (${add.stderr.trim()})`;
  const ok = run('ip', ['netns', 'exec', probe, 'iptables', '-S']).status === 0;
  run('ip', ['netns', 'del', probe]);
  return ok ? undefined : 'iptables inside a network namespace';
}

export interface Lab {
  node: string;
  pod: string;
  ext: string;
  iface: string;
  podIp: Record<IpVersion, string>;
  listener?: ChildProcess;
}

const ns = (name: string, cmd: string, args: string[], input?: string) => must('ip', ['netns', 'exec', name, cmd, ...args], input);

/** Creates the three namespaces and wires them; loads Felix's IP sets and filter tables into "node". */
export function setup(model: LessonNode): Lab {
  const id = randomBytes(3).toString('hex');
  const lab: Lab = {
    node: `felix-node-${process.pid}-${id}`,
    pod: `felix-pod-${process.pid}-${id}`,
    ext: `felix-ext-${process.pid}-${id}`,
    iface: '',
    podIp: { 4: '', 6: '' },
  };
  const ep = model.endpoints.find(e => e.pod.labels.app === 'multitool');
  if (!ep) throw new Error('no multitool endpoint on the node');
  lab.iface = ep.iface;
  lab.podIp = { 4: ep.pod.ipv4, 6: ep.pod.ipv6 };
  for (const n of [lab.node, lab.pod, lab.ext]) {
    must('ip', ['netns', 'add', n]);
    ns(n, 'ip', ['link', 'set', 'lo', 'up']);
    // No duplicate address detection: addresses are usable at once, as in a steady-state node.
    ns(n, 'sysctl', ['-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
  }
  ns(lab.node, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);

  // The pod: as Calico's CNI plugin sets it up (cni-plugin/internal/pkg/utils/network_linux.go).
  must('ip', ['link', 'add', ep.iface, 'netns', lab.node, 'address', 'ee:ee:ee:ee:ee:ee', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lab.pod]);
  ns(lab.node, 'sysctl', ['-qw', `net.ipv4.conf.${ep.iface}.proxy_arp=1`]);
  ns(lab.node, 'ip', ['link', 'set', ep.iface, 'up']);
  ns(lab.node, 'ip', ['route', 'add', `${ep.pod.ipv4}/32`, 'dev', ep.iface, 'scope', 'link']);
  ns(lab.node, 'ip', ['-6', 'route', 'add', `${ep.pod.ipv6}/128`, 'dev', ep.iface]);
  ns(lab.pod, 'ip', ['addr', 'add', `${ep.pod.ipv4}/32`, 'dev', 'eth0']);
  ns(lab.pod, 'ip', ['-6', 'addr', 'add', `${ep.pod.ipv6}/128`, 'dev', 'eth0', 'nodad']);
  ns(lab.pod, 'ip', ['link', 'set', 'eth0', 'up']);
  ns(lab.pod, 'ip', ['route', 'add', POD_GATEWAY[4], 'dev', 'eth0', 'scope', 'link']);
  ns(lab.pod, 'ip', ['route', 'add', 'default', 'via', POD_GATEWAY[4], 'dev', 'eth0']);
  ns(lab.pod, 'ip', ['-6', 'route', 'add', 'default', 'via', POD_GATEWAY[6], 'dev', 'eth0']);

  // The external host on "kind's network", routing the pools through the node.
  must('ip', ['link', 'add', 'eth0', 'netns', lab.node, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lab.ext]);
  ns(lab.node, 'ip', ['addr', 'add', `${NODE_ADDRESSES[4]}/16`, 'dev', 'eth0']);
  ns(lab.node, 'ip', ['-6', 'addr', 'add', `${NODE_ADDRESSES[6]}/64`, 'dev', 'eth0', 'nodad']);
  ns(lab.node, 'ip', ['link', 'set', 'eth0', 'up']);
  // A kind node's default route (via the Docker bridge's gateway): proxy ARP answers the pod's
  // 169.254.1.1 only for a node that routes the pod's destinations out another interface.
  ns(lab.node, 'ip', ['route', 'add', 'default', 'via', '172.18.0.1', 'dev', 'eth0', 'onlink']);
  ns(lab.ext, 'ip', ['addr', 'add', `${EXTERNAL[4]}/16`, 'dev', 'eth0']);
  ns(lab.ext, 'ip', ['-6', 'addr', 'add', `${EXTERNAL[6]}/64`, 'dev', 'eth0', 'nodad']);
  ns(lab.ext, 'ip', ['link', 'set', 'eth0', 'up']);
  ns(lab.ext, 'ip', ['route', 'add', '192.168.0.0/16', 'via', NODE_ADDRESSES[4]]);
  ns(lab.ext, 'ip', ['-6', 'route', 'add', 'fd00:10:244::/48', 'via', NODE_ADDRESSES[6]]);

  // Felix's IP sets, then its filter tables.
  ns(lab.node, 'ipset', ['restore'], ipsetRestore(model, 4) + ipsetRestore(model, 6));
  ns(lab.node, 'iptables-restore', [], restoreInput(model.table[4]));
  ns(lab.node, 'ip6tables-restore', [], restoreInput(model.table[6]));
  return lab;
}

/** Starts a TCP listener on the pod's app port, both families (one `::` socket), answering one line. */
export async function listen(lab: Lab, port: number): Promise<void> {
  const script = `require('net').createServer(s => s.end('pod answered\\n')).listen(${port}, '::', () => console.log('listening'))`;
  const child = spawn('ip', ['netns', 'exec', lab.pod, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  lab.listener = child;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the pod\'s listener did not start within 10s')), 10000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', code => {
      clearTimeout(timer);
      reject(new Error(`the pod's listener exited (${code})`));
    });
  });
}

/** One TCP connection from the external host: "answered: <line>", "timeout" or "refused". */
export function connectFromExternal(lab: Lab, address: string, port: number, timeoutMs: number): string {
  const script = `const s = require('net').connect({ host: ${JSON.stringify(address)}, port: ${port} });
let got = '';
const t = setTimeout(() => { console.log('timeout'); process.exit(0); }, ${timeoutMs});
s.on('data', d => { got += d; });
s.on('end', () => { clearTimeout(t); console.log('answered: ' + got.trim()); process.exit(0); });
s.on('error', e => { clearTimeout(t); console.log(e.code === 'ECONNREFUSED' ? 'refused' : 'error ' + e.code); process.exit(0); });`;
  return must('ip', ['netns', 'exec', lab.ext, process.execPath, '-e', script]).trim();
}

/** One ping from the external host; true when it was answered. */
export function pingFromExternal(lab: Lab, v: IpVersion, address: string): boolean {
  return run('ip', ['netns', 'exec', lab.ext, 'ping', `-${v}`, '-c', '1', '-W', '2', address]).status === 0;
}

/** The node's filter table, as `iptables-save -c` prints it. */
export function save(lab: Lab, v: IpVersion): string {
  return ns(lab.node, v === 4 ? 'iptables-save' : 'ip6tables-save', ['-c', '-t', 'filter']);
}

/** The pod's neighbour entry for its IPv6 gateway, as `ip -6 neigh` prints it. */
export function podNeighbours(lab: Lab): string {
  return ns(lab.pod, 'ip', ['-6', 'neigh', 'show', 'dev', 'eth0']);
}

/**
 * Waits until the pod has confirmed its IPv6 gateway (neighbour state REACHABLE): after using an entry
 * learned from the node's own solicitation, the pod probes it with a unicast neighbour solicitation
 * (after the kernel's 5 s delay_first_probe_time), which crosses cali-wl-to-host. Returns the entry.
 */
export async function waitForPodNeighbour(lab: Lab, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let entry = '';
  while (Date.now() < deadline) {
    entry = podNeighbours(lab).split('\n').find(l => l.startsWith(POD_GATEWAY[6])) ?? '';
    if (/ REACHABLE\b/.test(entry)) return entry.trim();
    await new Promise(r => setTimeout(r, 250));
  }
  throw new Error(`the pod's neighbour ${POD_GATEWAY[6]} did not become REACHABLE within ${timeoutMs} ms (last: ${entry || 'none'})`);
}

/** Removes everything `setup` and `listen` made; safe to call twice. */
export function teardown(lab: Lab | undefined): void {
  if (!lab) return;
  if (lab.listener && lab.listener.exitCode === null) lab.listener.kill('SIGKILL');
  for (const n of [lab.node, lab.pod, lab.ext]) run('ip', ['netns', 'del', n]);
}

/** Only the rules, counters zeroed: what two runs of the same tables must agree on. */
export function withoutCounters(saved: string): string {
  return saved.split('\n')
    .filter(l => l !== '' && !l.startsWith('#'))
    .map(l => l.replace(/^\[\d+:\d+\] /, '').replace(/ \[\d+:\d+\]$/, ' [0:0]'))
    .join('\n');
}

/** The packet counter of the one rule of `saved` whose text contains every fragment given. */
export function packets(saved: string, ...fragments: string[]): number {
  const hits = saved.split('\n').filter(l => l.startsWith('[') && fragments.every(f => l.includes(f)));
  if (hits.length !== 1) throw new Error(`${hits.length} rules contain ${JSON.stringify(fragments)}`);
  return Number(/^\[(\d+):/.exec(hits[0])![1]);
}

/** Runs `cmd args` in the namespace `name`; never throws (the probes' failures are results). */
export function inNamespace(name: string, cmd: string, args: string[], timeoutMs = 20000): Run {
  return run('ip', ['netns', 'exec', name, cmd, ...args], undefined, timeoutMs);
}

/**
 * The kind node's IPv6 default route (via the Docker bridge's gateway), so the pod's IPv6 packets to a
 * pod on another node are routed, and so cross the node's FORWARD chain, as on a real node (where the
 * route is into vxlan-v6.calico).
 */
export function addNodeIpv6DefaultRoute(lab: Lab): void {
  ns(lab.node, 'ip', ['-6', 'route', 'add', 'default', 'via', 'fc00:f853:ccd:e793::1', 'dev', 'eth0', 'onlink']);
}

/** Replaces the external host's routes to the pools: via `v4` and `v6` instead of the node. */
export function routeExternalVia(lab: Lab, v4: string, v6: string): void {
  ns(lab.ext, 'ip', ['route', 'replace', '192.168.0.0/16', 'via', v4]);
  ns(lab.ext, 'ip', ['-6', 'route', 'replace', 'fd00:10:244::/48', 'via', v6]);
}

/**
 * Starts nginx in the pod's namespace with `config` (the lab's nginx.conf) under the pod's hostname
 * (its answers name `$hostname`), as one process (`master_process off`: nothing left behind when it is
 * killed); `config`'s pid file is moved into `dir`.
 */
export async function startNginx(lab: Lab, config: string, hostname: string, dir: string): Promise<void> {
  const conf = `${dir}/nginx.conf`;
  fs.writeFileSync(conf, config.replace(/^pid .*;$/m, `pid ${dir}/nginx.pid;`));
  // Files, not pipes: nginx open()s /dev/stdout and /dev/stderr, which fails on a socket.
  const fds = [fs.openSync(`${dir}/nginx.out`, 'w'), fs.openSync(`${dir}/nginx.err`, 'w')];
  const child = spawn('ip', ['netns', 'exec', lab.pod, 'unshare', '--uts', 'sh', '-c', 'hostname "$1" && exec nginx -c "$2" -g "daemon off; master_process off;"', 'sh', hostname, conf],
    { stdio: ['ignore', ...fds] });
  fds.forEach(fd => fs.closeSync(fd));
  lab.listener = child;
  const stderr = () => fs.readFileSync(`${dir}/nginx.err`, 'utf8').trim();
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr()}`);
    if (/:8080\b/.test(inNamespace(lab.pod, 'ss', ['-ltn']).stdout)) return;
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error('nginx did not listen on 8080 within 10s');
}
