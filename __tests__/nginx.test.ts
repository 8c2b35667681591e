/**
 * Runs the ConfigMap's nginx.conf in a real nginx (Debian's) on loopback and asks it over IPv4 and IPv6,
 * as the pods' readiness probe and the lab's `curl -6` do.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { mkTmp, renderLabFor, requireTool } from './support/synth';

const NGINX = process.env.NGINX_BIN ?? ['/usr/sbin/nginx', '/usr/bin/nginx'].find(p => fs.existsSync(p));
const hasNginx = requireTool(NGINX !== undefined, 'nginx (apt-get install nginx)');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

function get(host: string, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', timeout: 2000, family: host.includes(':') ? 6 : 4 }, res => {
      let body = '';
      res.on('data', c => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout asking ${host}:${port}`)));
    req.on('error', reject);
  });
}

/** `conf` with its pid file moved to `pidFile`; the config must name one (the pid test below says why). */
function withPidFile(conf: string, pidFile: string): string {
  const moved = conf.replace(/^pid \S+;/m, `pid ${pidFile};`);
  if (moved === conf) throw new Error(`the nginx config names no pid file:\n${conf}`);
  return moved;
}

/** Starts nginx on `conf`; resolves once it answers on `host` (bounded), rejects if it exits or never does. */
async function startNginx(conf: string, port: number, host = '127.0.0.1'): Promise<ChildProcess> {
  const dir = mkTmp('nginx');
  // Concurrent runs on this machine must not share the config's pid file: keep this one in the temp dir.
  fs.writeFileSync(path.join(dir, 'nginx.conf'), withPidFile(conf, path.join(dir, 'nginx.pid')));
  // nginx opens /dev/stdout and /dev/stderr; Node's pipes are sockets there, which cannot be opened: use files.
  const log = fs.openSync(path.join(dir, 'nginx.log'), 'a+');
  const readLog = () => fs.readFileSync(path.join(dir, 'nginx.log'), 'utf8');
  const args = ['-e', 'stderr', '-p', dir, '-c', path.join(dir, 'nginx.conf')];
  // -t first: a config nginx refuses fails here with nginx's own message.
  try {
    execFileSync(NGINX!, ['-t', ...args], { stdio: ['ignore', log, log] });
  } catch {
    throw new Error(`nginx -t rejected the config: ${readLog()}`);
  }
  const proc = spawn(NGINX!, [...args, '-g', 'daemon off;'], { stdio: ['ignore', log, log] });
  const stderr = { toString: readLog };
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}: ${stderr}`);
    try {
      await get(host, port);
      return proc;
    } catch {
      await new Promise(r => setTimeout(r, 100));
    }
  }
  proc.kill('SIGKILL');
  throw new Error(`nginx did not answer on ${host}:${port} within 10 s: ${stderr}`);
}

/** The check under test: 200 on both loopback families, each answer naming the family it came in on. */
async function expectAnswersOnBothFamilies(conf: string, port: number): Promise<void> {
  const proc = await startNginx(conf, port);
  try {
    const v4 = await get('127.0.0.1', port);
    expect(v4.status).toBe(200);
    expect(v4.body).toMatch(/answered over IPv4 on 127\.0\.0\.1 port \d+/);
    const v6 = await get('::1', port);
    expect(v6.status).toBe(200);
    expect(v6.body).toMatch(/answered over IPv6 on ::1 port \d+/);
  } finally {
    proc.kill('SIGTERM');
  }
}

(hasNginx ? describe : describe.skip)('nginx config from the ConfigMap, in a real nginx', () => {
  let port: number;
  let conf: string;

  beforeAll(async () => {
    port = await freePort();
    const lab = renderLabFor({ multitool: { port } });
    conf = lab.objects.find(o => o.kind === 'ConfigMap')!.data!['nginx.conf'];
  });

  test('answers 200 on 127.0.0.1 and [::1], naming pod, address and family', async () => {
    await expectAnswersOnBothFamilies(conf, port);
  });

  test('the same check fails on a config without `listen [::]`', async () => {
    const ipv4Only = conf.split('\n').filter(l => !l.includes('listen [::]')).join('\n');
    expect(ipv4Only).not.toContain('[::]');
    await expect(expectAnswersOnBothFamilies(ipv4Only, port)).rejects.toThrow(/ECONNREFUSED/);
  });

  test('the config names its pid file /tmp/nginx.pid, outside the compiled-in pid directory', () => {
    expect(conf.split('\n')).toContain('pid /tmp/nginx.pid;');
  });

  // An IPv6-only pod has no IPv4 address but 127.0.0.1: nginx answers on [::1] only, as the probe asks.
  test('IPv6-only: answers 200 on [::1] and refuses 127.0.0.1', async () => {
    const v6only = renderLabFor({ ipFamilies: ['IPv6'], multitool: { port } }).objects.find(o => o.kind === 'ConfigMap' && o.metadata.name === 'multitool-nginx')!.data!['nginx.conf'];
    const proc = await startNginx(v6only, port, '::1');
    try {
      const v6 = await get('::1', port);
      expect(v6.status).toBe(200);
      expect(v6.body).toMatch(/answered over IPv6 on ::1 port \d+/);
      await expect(get('127.0.0.1', port)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      proc.kill('SIGTERM');
    }
  });
});

/**
 * Runs `conf` in the real nginx inside a private mount namespace where the compiled-in pid directory is
 * unusable (an empty read-only tmpfs over /run: Debian's nginx defaults to /run/nginx.pid, Alpine's to
 * /run/nginx/nginx.pid, which some Alpine images lack) and /tmp is a private tmpfs, then stops it with
 * `nginx -s stop`, which finds the master through the pid file. Prints `key=value` lines.
 */
const PID_PROBE = String.raw`
set -u
nginx="$1"
mount -t tmpfs -o ro,size=64k tmpfs /run
mount -t tmpfs -o size=8m tmpfs /tmp
mkdir /tmp/lab
cat >/tmp/lab/nginx.conf
set -- -e /tmp/lab/error.log -p /tmp/lab -c /tmp/lab/nginx.conf
"$nginx" "$@" -g 'daemon off;' >/tmp/lab/out.log 2>&1 &
master=$!
for _ in $(seq 100); do
  [ -s /tmp/nginx.pid ] && break
  kill -0 "$master" 2>/dev/null || break
  sleep 0.1
done
echo "master=$master"
if [ -s /tmp/nginx.pid ]; then
  echo "pidfile=$(cat /tmp/nginx.pid)"
  "$nginx" "$@" -s stop >>/tmp/lab/out.log 2>&1
  for _ in $(seq 100); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
fi
if kill -0 "$master" 2>/dev/null; then echo "running=yes"; kill -9 "$master"; else echo "running=no"; fi
wait "$master"
echo "exit=$?"
echo "log=$(cat /tmp/lab/error.log /tmp/lab/out.log 2>/dev/null | tr '\n' ' ')"
`;

function canUnshareMounts(): boolean {
  try {
    execFileSync('unshare', ['--mount', 'sh', '-c', 'mount -t tmpfs tmpfs /mnt 2>/dev/null || mount -t tmpfs tmpfs /tmp'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const hasMountNamespace = hasNginx && requireTool(canUnshareMounts(), 'a private mount namespace (unshare --mount, as root)');

function runInPidProbe(conf: string): Record<string, string> {
  const out = execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', PID_PROBE, 'pid-probe', NGINX!], {
    input: conf, encoding: 'utf8', timeout: 30000,
  });
  return Object.fromEntries(out.trim().split('\n').map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

(hasMountNamespace ? describe : describe.skip)('nginx pid file, in a real nginx whose compiled-in pid directory is unusable', () => {
  let conf: string;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    conf = renderLabFor({ multitool: { port } }).objects.find(o => o.kind === 'ConfigMap')!.data!['nginx.conf'];
  });

  test('nginx writes its pid to /tmp/nginx.pid, and `nginx -s stop` finds the master through it', () => {
    const probe = runInPidProbe(conf);
    expect(probe.pidfile).toBe(probe.master);
    expect(probe.running).toBe('no');
    expect(probe.exit).toBe('0');
  });

  test('the same nginx exits at startup when the config names no pid file', () => {
    const withoutPid = conf.split('\n').filter(l => !/^pid /.test(l)).join('\n');
    const probe = runInPidProbe(withoutPid);
    expect(probe.pidfile).toBeUndefined();
    expect(probe.running).toBe('no');
    expect(probe.exit).not.toBe('0');
    expect(probe.log).toMatch(/open\(\) "\/run\/[^"]*nginx\.pid" failed/);
  });
});
