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

/** Starts nginx on `conf`; resolves once it answers on 127.0.0.1 (bounded), rejects if it exits or never does. */
async function startNginx(conf: string, port: number): Promise<ChildProcess> {
  const dir = mkTmp('nginx');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  // nginx opens /dev/stdout and /dev/stderr; Node's pipes are sockets there, which cannot be opened: use files.
  const log = fs.openSync(path.join(dir, 'nginx.log'), 'a+');
  const readLog = () => fs.readFileSync(path.join(dir, 'nginx.log'), 'utf8');
  const args = ['-e', 'stderr', '-p', dir, '-c', path.join(dir, 'nginx.conf')];
  // -t first: a config nginx refuses fails here with nginx's own message.
  try {
    execFileSync(NGINX!, ['-t', ...args, '-g', `pid ${dir}/nginx.pid;`], { stdio: ['ignore', log, log] });
  } catch {
    throw new Error(`nginx -t rejected the config: ${readLog()}`);
  }
  const proc = spawn(NGINX!, [...args, '-g', `pid ${dir}/nginx.pid; daemon off;`], { stdio: ['ignore', log, log] });
  const stderr = { toString: readLog };
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}: ${stderr}`);
    try {
      await get('127.0.0.1', port);
      return proc;
    } catch {
      await new Promise(r => setTimeout(r, 100));
    }
  }
  proc.kill('SIGKILL');
  throw new Error(`nginx did not answer on 127.0.0.1:${port} within 10 s: ${stderr}`);
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
    await expect(expectAnswersOnBothFamilies(ipv4Only, port)).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});
