import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedClusterSeeds, testBasePort } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { runRedisCli } from '../helpers/redis-cli.js';
import { httpGet, httpStatus } from '../helpers/slotgate-process.js';

// The container image, built and run for real: scripts/image.sh builds it with podman (runc, the
// offline base image; a rebuild with a warm cache takes ~20 s, the first one on a fresh machine
// ~2 min), then the container runs on the host network in front of the shared test cluster,
// configured the Kubernetes way (a file mounted at /etc/slotgate/slotgate.yaml, the image's default
// --config, plus SLOTGATE_* variables), is sent real commands, and is stopped with `podman stop`
// (SIGTERM), which must drain and exit 0. Ports: RESP at the test base + 776, admin at + 778.
// The container is removed at the end; the image is kept (it is the build cache).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const IMAGE = process.env.SLOTGATE_IMAGE ?? 'localhost/slotgate:dev';
const ENV = { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? path.join(ROOT, 'scripts/image/containers.conf') };
const BUILD_TIMEOUT_MS = 10 * 60_000;
const PORT = testBasePort() + 776;
const ADMIN_PORT = testBasePort() + 778;
// Named after its port: a container of that name is a leftover of an interrupted run (holding the port).
const NAME = `slotgate-image-test-${PORT}`;
const DRAIN_DELAY_MS = 1000;
/** What `podman stop` may take beyond drain-delay: the drain itself, runc, podman's clean-up. */
const STOP_MARGIN_MS = 5000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs podman (with the project's containers.conf); resolves with its exit code and output. */
function podman(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile('podman', args, { env: ENV, timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(new Error(`podman ${args.join(' ')}: ${error.message}\n${stderr}`));
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** podman that must succeed: its stdout. */
async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const run = await podman(args, timeoutMs);
  if (run.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/**
 * `bash scripts/image.sh`, bounded; its whole process group is stopped on the timeout. Niced: in a
 * whole-suite run the other test files (timing-sensitive ones too) share the 2 cores with it.
 */
function buildImage(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('nice', ['-n', '10', 'bash', 'scripts/image.sh'], {
      cwd: ROOT,
      env: ENV, // SLOTGATE_IMAGE, when set, names the image for both
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGTERM');
      reject(new Error(`scripts/image.sh did not finish within ${BUILD_TIMEOUT_MS / 1000} s:\n${output.slice(-4000)}`));
    }, BUILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) {
        console.log(output.split('\n').filter((l) => /^( {4}|==>)/.test(l)).join('\n'));
        resolve();
      } else {
        reject(new Error(`scripts/image.sh exited ${code}:\n${output.slice(-4000)}`));
      }
    });
  });
}

/** The container's JSON log lines (pino). */
async function containerLogs(): Promise<Array<Record<string, unknown> & { msg: string }>> {
  const out = await podmanOk(['logs', NAME]);
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown> & { msg: string });
}

let imageId = '';
let dir = '';
const clients: Redis[] = [];
const client = (): Redis => {
  const c = new Redis({ host: '127.0.0.1', port: PORT, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  c.on('error', () => {}); // the drain closes it: expected
  clients.push(c);
  return c;
};

beforeAll(async () => {
  const found = await podman(['--version']).catch(() => null);
  if (found === null || found.code !== 0) {
    throw new Error('podman is missing: scripts/setup.sh (and .ci/run) install it: apt-get install podman runc debootstrap');
  }
  const started = Date.now();
  await buildImage();
  console.log(`image built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  imageId = (await podmanOk(['image', 'inspect', IMAGE, '--format', '{{.Id}}'])).trim();

  // The Kubernetes way: the file a ConfigMap would mount, SLOTGATE_* variables, no arguments.
  await podman(['rm', '-f', '-t', '0', NAME]);
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-image-test-'));
  const config = path.join(dir, 'slotgate.yaml');
  const seeds = sharedClusterSeeds().map((s) => `  - ${s}\n`).join('');
  // threads 1 as k8s/base/slotgate/slotgate.yaml sets it: node (one process) is PID 1.
  await fsp.writeFile(config, `seeds:\n${seeds}port: ${PORT}\nthreads: 1\ndrain-delay: ${DRAIN_DELAY_MS}ms\ndrain-timeout: 5s\n`, { mode: 0o644 });
  await podmanOk([
    'run', '-d', '--name', NAME, '--pull=never', '--network', 'host',
    // As Kubernetes' restricted profile with readOnlyRootFilesystem would run it.
    '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '-v', `${config}:/etc/slotgate/slotgate.yaml:ro`,
    '-e', 'SLOTGATE_BIND=127.0.0.1', '-e', 'SLOTGATE_ADMIN_BIND=127.0.0.1', '-e', `SLOTGATE_ADMIN_PORT=${ADMIN_PORT}`,
    imageId,
  ]);
  await eventually(async () => {
    if ((await httpStatus(ADMIN_PORT, '/readyz')) === 200) return true;
    const state = (await podmanOk(['inspect', NAME, '--format', '{{.State.Status}}'])).trim();
    if (state !== 'running') throw new Error(`the container is ${state}:\n${(await podman(['logs', NAME])).stdout}`);
    return false;
  }, 30_000);
}, BUILD_TIMEOUT_MS + 60_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await podman(['rm', '-f', '-t', '0', NAME]).catch(() => {});
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

describe('container image (podman)', () => {
  it('has the OCI labels, the non-root user, both ports, node as entrypoint, and nothing of the build in it', async () => {
    const [inspected] = JSON.parse(await podmanOk(['image', 'inspect', imageId])) as Array<{
      Config: { User: string; ExposedPorts: Record<string, unknown>; Entrypoint: string[]; Cmd: string[]; Env: string[]; Labels: Record<string, string>; StopSignal?: string };
    }>;
    const cfg = inspected.Config;
    expect(cfg.User).toBe('10001:10001');
    expect(Object.keys(cfg.ExposedPorts).sort()).toEqual(['7777/tcp', '9121/tcp']);
    expect(cfg.Entrypoint).toEqual(['node', '/app/dist/src/main.js']);
    expect(cfg.Cmd).toEqual(['--config', '/etc/slotgate/slotgate.yaml']);
    expect(cfg.Labels).toMatchObject({
      'org.opencontainers.image.title': 'slotgate',
      'org.opencontainers.image.licenses': 'MIT',
      'org.opencontainers.image.version': PKG.version,
    });
    expect(cfg.Labels['org.opencontainers.image.description']).toMatch(/Redis/);
    // The commit built (a stale label would mean a cached LABEL step: see scripts/image.sh).
    const head = (() => {
      try {
        return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
      } catch {
        return null; // not a git checkout
      }
    })();
    expect(cfg.Labels['org.opencontainers.image.revision']).toMatch(head === null ? /^unknown$/ : new RegExp(`^${head}(-dirty)?$`));
    // The build-time CA never reaches the final image: not as a variable, a file, or in the history.
    expect(cfg.Env.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS'))).toBe(false);
    expect(await podmanOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', imageId])).not.toMatch(/NODE_EXTRA_CA_CERTS|ci-ca/);

    const probe = `
      const fs = require('fs');
      const ls = (d) => { try { return fs.readdirSync(d); } catch { return []; } };
      const top = ls('/app/node_modules');
      const packages = top.flatMap((n) => n.startsWith('@') ? ls('/app/node_modules/' + n).map((m) => n + '/' + m).concat([n]) : [n]);
      const exists = ['/tmp/ci-ca.crt', '/app/src', '/app/test', '/app/dist/bench', '/app/tsconfig.json', '/app/dist/src/main.js', '/app/config/slotgate.example.yaml', '/etc/slotgate/slotgate.yaml']
        .filter((p) => fs.existsSync(p));
      console.log(JSON.stringify({ packages, exists, tmp: ls('/tmp') }));`;
    const seen = JSON.parse(await podmanOk(['run', '--rm', '--pull=never', '--entrypoint', 'node', imageId, '-e', probe])) as {
      packages: string[];
      exists: string[];
      tmp: string[];
    };
    for (const dep of Object.keys(PKG.dependencies)) expect(seen.packages).toContain(dep);
    for (const dev of [...Object.keys(PKG.devDependencies), 'typescript', 'vitest', '@vitest', '@types', 'vite', 'ioredis', '@ioredis']) {
      expect(seen.packages).not.toContain(dev);
    }
    expect(seen.exists).toEqual(['/app/dist/src/main.js', '/app/config/slotgate.example.yaml', '/etc/slotgate/slotgate.yaml']);
    expect(seen.tmp).toEqual([]);
  });

  it('takes arguments as slotgate flags and seeds (--help, --version, --check-config with seeds)', async () => {
    const help = await podman(['run', '--rm', '--pull=never', imageId, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('slotgate [options] SEED...');
    const version = await podman(['run', '--rm', '--pull=never', imageId, '--version']);
    expect(version.stdout.trim()).toBe(PKG.version);
    const check = await podman(['run', '--rm', '--pull=never', '-e', 'SLOTGATE_CONNECTIONS_PER_NODE=2', imageId, '--check-config', '--port', '6380', 'redis-0.redis:6379', 'redis-1.redis:6379']);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/seeds:\n\s+- redis-0\.redis:6379\n\s+- redis-1\.redis:6379/);
    expect(check.stdout).toMatch(/^port: 6380$/m);
    expect(check.stdout).toMatch(/^connections-per-node: 2$/m);
    // No seeds anywhere: a clear error and exit 1, not a crash loop without a word.
    const none = await podman(['run', '--rm', '--pull=never', imageId]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no seed nodes');
  });

  it('serves real commands on the host network: PING, SET/GET, cross-slot MSET/MGET, PROXY INFO, redis-cli, /readyz', async () => {
    const redis = client();
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
    const run = `image:${Date.now()}`;
    expect(await redis.set(`${run}:a`, 'va')).toBe('OK');
    expect(await redis.get(`${run}:a`)).toBe('va');
    const keys = Array.from({ length: 10 }, (_, i) => `${run}:k${i}`); // 10 keys, several slots and masters
    expect(await redis.mset(...keys.flatMap((k) => [k, `v:${k}`]))).toBe('OK');
    expect(await redis.mget(...keys)).toEqual(keys.map((k) => `v:${k}`));
    expect(await redis.del(...keys, `${run}:a`)).toBe(11);
    const info = (await redis.call('PROXY', 'INFO')) as string;
    expect(info).toContain(`slotgate_version:${PKG.version}`);
    expect(info).toContain('process_id:1\r\n'); // node is PID 1: it gets the signals itself
    expect(info).toContain(`tcp_port:${PORT}\r\n`);

    const cli = await runRedisCli(['-p', String(PORT), 'PING'], '', 10_000);
    expect(cli.stdout.trim()).toBe('PONG');

    const ready = await httpGet(ADMIN_PORT, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, coveredSlots: 16384 });
    expect((await httpGet(ADMIN_PORT, '/metrics')).body).toContain('slotgate_');
  });

  it('runs as uid 10001, not root, with node as PID 1', async () => {
    expect((await podmanOk(['exec', NAME, 'id', '-u'])).trim()).toBe('10001');
    const status = await podmanOk(['exec', NAME, 'cat', '/proc/1/status']);
    expect(status).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    expect(status).toMatch(/^Gid:\s+10001\s+10001\s+10001\s+10001$/m);
    const cmdline = (await podmanOk(['exec', NAME, 'cat', '/proc/1/cmdline'])).split('\0').filter(Boolean);
    expect(cmdline).toEqual(['node', '/app/dist/src/main.js', '--config', '/etc/slotgate/slotgate.yaml']);
  });

  it('podman stop (SIGTERM): /readyz 503 and clients served during drain-delay, then a drain logged phase by phase and exit 0, within drain-delay + 5 s', async () => {
    const open = client();
    await open.connect();
    expect(await open.set('image:drain', 'v')).toBe('OK');

    const startedAt = Date.now();
    const stopped = podman(['stop', '-t', '20', NAME], 30_000).then((run) => ({ ...run, at: Date.now() }));
    await eventually(async () => (await httpStatus(ADMIN_PORT, '/readyz')) === 503, DRAIN_DELAY_MS);
    const readyz = await httpGet(ADMIN_PORT, '/readyz');
    expect(JSON.parse(readyz.body)).toMatchObject({ ready: false, reason: 'draining' });
    expect(await open.get('image:drain')).toBe('v'); // an open client is still served during drain-delay
    const stop = await stopped;
    expect(stop.code, stop.stderr).toBe(0);
    const elapsed = stop.at - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(DRAIN_DELAY_MS);
    expect(elapsed).toBeLessThan(DRAIN_DELAY_MS + STOP_MARGIN_MS);

    const state = JSON.parse(await podmanOk(['inspect', NAME, '--format', '{{json .State}}'])) as { ExitCode: number; OOMKilled: boolean; Status: string };
    expect(state).toMatchObject({ Status: 'exited', ExitCode: 0, OOMKilled: false });
    const msgs = (await containerLogs()).map((l) => l.msg);
    const phases = [
      'drain: not ready',
      'drain: listeners closed',
      'drain: every client closed',
      'drain: node links closed; done',
      'exiting',
    ].map((phase) => msgs.findIndex((m) => m.startsWith(phase)));
    expect(phases.every((i) => i >= 0), msgs.join('\n')).toBe(true);
    expect([...phases].sort((a, b) => a - b)).toEqual(phases); // in this order
    console.log(`podman stop: ${elapsed} ms (drain-delay ${DRAIN_DELAY_MS} ms)`);
  });
});
