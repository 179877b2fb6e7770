import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedClusterSeeds, testBasePort } from '../helpers/cluster.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { eventually } from '../helpers/eventually.js';
import { pidAlive as alive } from '../../bench/support/child.js';
import { TestCa } from '../helpers/tls-certs.js';
import { PRIMARY_METRICS, SLOTGATE_METRICS } from '../../src/telemetry/metrics.js';
import { httpGet, rawConnect, type RawConnection, type SlotgateProcess, spawnSlotgate } from '../helpers/slotgate-process.js';

// The real `slotgate` command with `--threads 2` (a node:cluster primary and two workers) in front
// of the shared cluster. Ports: RESP at the test base + 1100.., admin at + 1120.., TLS at + 1140...

const cleanup = cleanupAfterEach();
let next = 0;

interface Started {
  slotgate: SlotgateProcess;
  port: number;
  adminPort: number;
  n: number;
}

/** Every worker's PID, from the primary's /readyz body. */
async function workerPids(adminPort: number): Promise<number[]> {
  const body = JSON.parse((await httpGet(adminPort, '/readyz')).body) as { workers: { worker: number; pid?: number }[] };
  return body.workers.map((w) => w.pid ?? 0);
}


/** Starts slotgate with 2 workers (`--threads 2` unless `extra` gives threads another way, e.g. a --config file). */
async function start(extra: string[] = [], env: NodeJS.ProcessEnv = {}, threadsFlag = true): Promise<Started> {
  const n = next++;
  const port = testBasePort() + 1100 + n;
  const adminPort = testBasePort() + 1120 + n;
  const args = [...(threadsFlag ? ['--threads', '2'] : []), '--bind', '127.0.0.1', '--port', String(port), '--admin-bind', '127.0.0.1', '--admin-port', String(adminPort)];
  const slotgate = await spawnSlotgate([...args, ...extra, ...sharedClusterSeeds()], { adminPort, env: { ...process.env, ...env } });
  const pids = await workerPids(adminPort);
  cleanup(async () => {
    await slotgate.kill();
    // The workers exit on their own once the primary is gone; never leave one behind.
    for (const pid of [...pids, ...(await workerPids(adminPort).catch(() => []))]) if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  });
  return { slotgate, port, adminPort, n };
}

/** Sends one command and waits for one more reply that matches `expected`; returns the reply text. */
async function call(conn: RawConnection, args: string[], expected: RegExp = /[\s\S]*\r\n$/): Promise<string> {
  const before = conn.received().length;
  conn.send(args);
  await conn.waitFor(new RegExp(`^[\\s\\S]{${before}}${expected.source}`)).catch(() => {
    throw new Error(`${args.join(' ')}: expected ${expected}, got ${JSON.stringify(conn.received().slice(before))}`);
  });
  return conn.received().slice(before);
}

/** The worker a connection landed on (PROXY INFO's worker_index). */
async function workerOf(conn: RawConnection): Promise<number> {
  const info = await call(conn, ['PROXY', 'INFO'], /\$\d+\r\n[\s\S]*noscript_reloads:\d+\r\n\r\n/);
  expect(info).toMatch(/\r\nworkers:2\r\n/);
  return Number(/worker_index:(\d+)/.exec(info)![1]);
}

/** Opens connections until there are `perWorker` on each of the two workers (bounded). */
async function connectionsOnBoth(port: number, perWorker: number, prepare?: (c: RawConnection) => Promise<void>): Promise<RawConnection[][]> {
  const byWorker: RawConnection[][] = [[], []];
  for (let i = 0; i < 40 && (byWorker[0].length < perWorker || byWorker[1].length < perWorker); i++) {
    const conn = await rawConnect(port);
    cleanup(() => void conn.socket.destroy());
    await prepare?.(conn);
    const w = await workerOf(conn);
    if (byWorker[w].length < perWorker) byWorker[w].push(conn);
    else conn.socket.destroy();
  }
  expect(byWorker.map((c) => c.length)).toEqual([perWorker, perWorker]);
  return byWorker;
}

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

describe('threads 2: a primary and two workers sharing the RESP port', () => {
  it('spreads connections over both workers, keeps client ids unique, sums metrics and reports every worker in /readyz', async () => {
    const { port, adminPort } = await start();
    const readyz = await httpGet(adminPort, '/readyz');
    expect(readyz.status).toBe(200);
    const body = JSON.parse(readyz.body) as { ready: boolean; coveredSlots: number; workers: { worker: number; ready: boolean; pid: number }[] };
    expect(body).toMatchObject({ ready: true, coveredSlots: 16384 });
    expect(body.workers.map((w) => [w.worker, w.ready])).toEqual([[0, true], [1, true]]);

    const [onFirst, onSecond] = await connectionsOnBoth(port, 2);
    // Worker k of 2 issues ids k+1, k+3, ...: CLIENT KILL ID never names another worker's client.
    const ids: number[] = [];
    for (const [w, conns] of [onFirst, onSecond].entries()) {
      for (const conn of conns) {
        const id = Number(/^:(\d+)\r\n$/.exec(await call(conn, ['CLIENT', 'ID'], /:\d+\r\n/))![1]);
        expect((id - 1) % 2).toBe(w);
        ids.push(id);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);

    const before = (await httpGet(adminPort, '/metrics')).body;
    const setsBefore = sample(before, 'slotgate_commands_total{command="set",result="ok"}') ?? 0;
    // 3 SETs on each first-worker connection, 5 on each second-worker one: 16 in all.
    for (const conn of onFirst) for (let i = 0; i < 3; i++) await call(conn, ['SET', `workers:m:${i}`, 'v'], /\+OK\r\n/);
    for (const conn of onSecond) for (let i = 0; i < 5; i++) await call(conn, ['SET', `workers:m:${i}`, 'v'], /\+OK\r\n/);
    const metrics = (await httpGet(adminPort, '/metrics')).body;
    expect((sample(metrics, 'slotgate_commands_total{command="set",result="ok"}') ?? 0) - setsBefore).toBe(16);
    expect(metrics).toMatch(/^slotgate_workers 2$/m);
    expect(metrics).toMatch(/^slotgate_worker_restarts_total 0$/m);
    expect(metrics).toMatch(/^slotgate_ready 1$/m);
    expect(metrics).toMatch(/^slotgate_slots_covered 16384$/m); // the worst worker's, not a sum
    expect(sample(metrics, 'slotgate_client_connections')).toBeGreaterThanOrEqual(4); // both workers' clients
    expect(metrics).toMatch(/^slotgate_build_info\{[^}]*\} 1$/m);
    expect(sample(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // Each metric once: the workers' added up, the primary's own beside them.
    for (const name of [...SLOTGATE_METRICS, ...PRIMARY_METRICS]) expect(metrics.split(`# TYPE ${name} `).length - 1, name).toBe(1);
  });

  it('passes PROXY CONFIG SET on to the other worker, and to a worker that replaces a killed one', async () => {
    const { port, adminPort, slotgate } = await start();
    const [[first], [second]] = await connectionsOnBoth(port, 1);
    const value = (name: string, v: string): RegExp => new RegExp(`\\*2\\r\\n\\$${name.length}\\r\\n${name}\\r\\n\\$${v.length}\\r\\n${v}\\r\\n`);
    await call(first, ['PROXY', 'CONFIG', 'SET', 'max-redirects', '3'], /\+OK\r\n/);
    await eventually(async () => value('max-redirects', '3').test(await call(second, ['PROXY', 'CONFIG', 'GET', 'max-redirects'])), 5000);

    const [pid0] = await workerPids(adminPort);
    process.kill(pid0, 'SIGKILL');
    await slotgate.waitForLog('worker exited; starting a new one');
    await eventually(async () => (await httpGet(adminPort, '/readyz')).status === 200, 15_000);
    const [newConn] = (await connectionsOnBoth(port, 1))[0];
    expect(value('max-redirects', '3').test(await call(newConn, ['PROXY', 'CONFIG', 'GET', 'max-redirects']))).toBe(true);
  });

  it('CLIENT LIST shows and CLIENT KILL acts on the clients of every worker', async () => {
    const { port } = await start(['--admin-commands']);
    const [[first, firstPeer], [second]] = await connectionsOnBoth(port, 2);
    const idOf = async (c: RawConnection): Promise<number> => Number(/^:(\d+)\r\n$/.exec(await call(c, ['CLIENT', 'ID'], /:\d+\r\n/))![1]);
    const [firstId, peerId, secondId] = [await idOf(first), await idOf(firstPeer), await idOf(second)];
    const list = await call(first, ['CLIENT', 'LIST'], /\$\d+\r\n(id=[^\n]*\n)+\r\n/);
    const ids = [...list.matchAll(/id=(\d+) /g)].map((m) => Number(m[1]));
    expect(ids).toEqual(expect.arrayContaining([firstId, peerId, secondId]));
    expect(new Set(ids).size).toBe(ids.length);

    // An id on the other worker: killed there; the caller's worker has none with it.
    expect(await call(first, ['CLIENT', 'KILL', 'ID', String(secondId)], /:\d+\r\n/)).toBe(':1\r\n');
    expect((await second.closed).how).toBe('end');
    expect(await call(first, ['CLIENT', 'KILL', 'ID', String(secondId)], /:\d+\r\n/)).toBe(':0\r\n');
    // The old form, by address, reaches a client of the caller's own worker as before.
    const addr = /addr=(\S+)/.exec(list.split('\n').find((l) => l.startsWith(`id=${peerId} `))!)![1];
    expect(await call(first, ['CLIENT', 'KILL', addr], /(?:\+OK|-[^\r]*)\r\n/)).toBe('+OK\r\n');
    await firstPeer.closed;
    await call(first, ['PING'], /\+PONG\r\n/);
  });

  it('replaces a killed worker while the other worker serves its clients; /readyz says which worker is not ready, then 200 again', async () => {
    const { port, adminPort, slotgate } = await start();
    const [[onFirst], [onSecond]] = await connectionsOnBoth(port, 1);
    const [pid0, pid1] = await workerPids(adminPort);
    process.kill(pid0, 'SIGKILL');
    const closed = await onFirst.closed;
    expect(closed.at).toBeGreaterThan(0);

    // Not ready until the replacement runs (a quick crash: it comes at least 1 s later).
    const unready = await httpGet(adminPort, '/readyz');
    expect(unready.status).toBe(503);
    const body = JSON.parse(unready.body) as { reason: string; workers: { worker: number; ready: boolean; reason?: string }[] };
    // "no answer" when the primary asks before it has seen the exit.
    expect(body.reason).toMatch(/^worker not ready: 0 \((not running|starting|no answer)\)$/);
    expect(body.workers[1]).toMatchObject({ worker: 1, ready: true });
    // Meanwhile the other worker's client is served.
    for (let i = 0; i < 5; i++) await call(onSecond, ['SET', `workers:k:${i}`, String(i)], /\+OK\r\n/);

    await eventually(async () => (await httpGet(adminPort, '/readyz')).status === 200, 15_000);
    const [newPid0, samePid1] = await workerPids(adminPort);
    expect(newPid0).not.toBe(pid0);
    expect(samePid1).toBe(pid1);
    expect(alive(pid0)).toBe(false);
    await call(onSecond, ['GET', 'workers:k:4'], /\$1\r\n4\r\n/);
    const exitLog = await slotgate.waitForLog('worker exited; starting a new one');
    expect(exitLog).toMatchObject({ worker: 0, pid: pid0, signal: 'SIGKILL' });
    expect(exitLog.restartInMs).toBeGreaterThanOrEqual(1000);
    expect((await httpGet(adminPort, '/metrics')).body).toMatch(/^slotgate_worker_restarts_total 1$/m);
    // The new worker serves too.
    await connectionsOnBoth(port, 1);
  });

  it('SIGTERM: /readyz 503 at once, both workers answer their requests in flight, close and exit; the primary exits 0', async () => {
    const { slotgate, port, adminPort } = await start(['--drain-delay', '300ms', '--drain-timeout', '8s']);
    const [[onFirst], [onSecond]] = await connectionsOnBoth(port, 1);
    onFirst.send(['BLPOP', `workers:drain:a:${Date.now()}`, '2']);
    onSecond.send(['BLPOP', `workers:drain:b:${Date.now()}`, '2']);
    const sentAt = Date.now();
    await new Promise((r) => setTimeout(r, 200)); // both BLPOPs reach their nodes
    const pids = await workerPids(adminPort);
    slotgate.signal('SIGTERM');
    await slotgate.waitForLog('drain: not ready');
    const readyz = await httpGet(adminPort, '/readyz');
    expect(readyz.status).toBe(503);
    expect(JSON.parse(readyz.body)).toMatchObject({ ready: false, reason: 'draining' });

    for (const conn of [onFirst, onSecond]) {
      const closed = await conn.closed;
      expect(conn.received().endsWith('*-1\r\n')).toBe(true); // the BLPOP's own reply, then the close
      expect(closed.how).toBe('end');
      expect(closed.at - sentAt).toBeGreaterThanOrEqual(1900);
    }
    const exit = await slotgate.exited;
    expect(exit.code).toBe(0);
    const workerExits = slotgate.logs().filter((l) => l.msg === 'drain: worker exited');
    expect(workerExits.map((l) => l.code)).toEqual([0, 0]);
    for (const w of [0, 1]) await slotgate.waitForLog('drain: node links closed', 1000, (l) => l.worker === w);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('SIGHUP reloads every worker: a new requirepass applies on both; a changed threads needs a restart', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-workers-'));
    cleanup(() => fsp.rm(dir, { recursive: true, force: true }));
    const passFile = path.join(dir, 'pass');
    const configFile = path.join(dir, 'slotgate.yaml');
    await fsp.writeFile(passFile, 'first-Secret-1\n');
    await fsp.writeFile(configFile, 'threads: 2\n');
    const { slotgate, port, adminPort } = await start(['--config', configFile, '--requirepass-file', passFile], {}, false);
    const auth = (pass: string) => async (c: RawConnection) => void (await call(c, ['AUTH', pass], /\+OK\r\n/));
    await connectionsOnBoth(port, 1, auth('first-Secret-1'));

    await fsp.writeFile(passFile, 'second-Secret-2\n');
    await fsp.writeFile(configFile, 'threads: 3\n');
    slotgate.signal('SIGHUP');
    for (const w of [0, 1]) {
      await slotgate.waitForLog('configuration reloaded', 10_000, (l) => l.worker === w);
      const restart = await slotgate.waitForLog('needs a restart', 10_000, (l) => l.worker === w);
      expect(restart.options).toEqual(['threads']);
    }
    expect(JSON.parse((await httpGet(adminPort, '/readyz')).body).workers).toHaveLength(2);
    // New connections on both workers need the new password.
    await connectionsOnBoth(port, 2, auth('second-Secret-2'));
    for (let i = 0; i < 4; i++) {
      const conn = await rawConnect(port);
      cleanup(() => void conn.socket.destroy());
      await call(conn, ['AUTH', 'first-Secret-1'], /-WRONGPASS[^\r]*\r\n/);
    }

    // A replacement starts with the primary's configuration: the reloaded password, and still
    // 2 workers (ids of stride 2), though the file now says threads 3.
    const [pid0] = await workerPids(adminPort);
    process.kill(pid0, 'SIGKILL');
    await slotgate.waitForLog('worker exited; starting a new one');
    await eventually(async () => (await httpGet(adminPort, '/readyz')).status === 200, 15_000);
    const [[replacement]] = await connectionsOnBoth(port, 1, auth('second-Secret-2'));
    const id = Number(/^:(\d+)\r\n$/.exec(await call(replacement, ['CLIENT', 'ID'], /:\d+\r\n/))![1]);
    expect((id - 1) % 2).toBe(0);
  });

  it('serves TLS clients on both workers', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-workers-tls-'));
    cleanup(() => fsp.rm(dir, { recursive: true, force: true }));
    const ca = await TestCa.create(dir, 'workers-ca');
    const cert = await ca.issue('workers-proxy', 7);
    const tlsPort = testBasePort() + 1140 + next;
    await start(['--tls-port', String(tlsPort), '--tls-cert-file', cert.certFile, '--tls-key-file', cert.keyFile, '--tls-auth-clients', 'no']);
    const seen = new Set<number>();
    for (let i = 0; i < 20 && seen.size < 2; i++) {
      const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({ port: tlsPort, host: '127.0.0.1', ca: [readFileSync(ca.certFile)] }, () => resolve(s));
        s.once('error', reject);
      });
      cleanup(() => void socket.destroy());
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.write('*2\r\n$5\r\nPROXY\r\n$4\r\nINFO\r\n');
      await eventually(() => /noscript_reloads:\d+\r\n\r\n$/.test(text));
      seen.add(Number(/worker_index:(\d+)/.exec(text)![1]));
    }
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('workers ignore signals sent to them (a Ctrl-C reaches the whole group): only the primary drives them', async () => {
    const { slotgate, port, adminPort } = await start(['--drain-delay', '0']);
    const [[onFirst], [onSecond]] = await connectionsOnBoth(port, 1);
    const pids = await workerPids(adminPort);
    for (const pid of pids) for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.kill(pid, signal);
    await new Promise((r) => setTimeout(r, 500));
    expect(pids.every(alive)).toBe(true);
    for (const conn of [onFirst, onSecond]) await call(conn, ['PING'], /\+PONG\r\n/);
    expect((await httpGet(adminPort, '/readyz')).status).toBe(200);
    expect(slotgate.logs().filter((l) => l.msg.startsWith('drain:') || l.msg.startsWith('configuration reloaded'))).toEqual([]);

    // SIGINT to the primary (what a Ctrl-C also gives it) drains them.
    slotgate.signal('SIGINT');
    expect((await slotgate.exited).code).toBe(0);
    for (const conn of [onFirst, onSecond]) expect((await conn.closed).how).toBe('end');
    expect(pids.some(alive)).toBe(false);
  });

  it('a second signal during the drain kills the workers and exits 1', async () => {
    const { slotgate, port, adminPort } = await start(['--drain-delay', '5s', '--drain-timeout', '10s']);
    await connectionsOnBoth(port, 1);
    const pids = await workerPids(adminPort);
    const signalledAt = Date.now();
    slotgate.signal('SIGTERM');
    await slotgate.waitForLog('drain: not ready');
    slotgate.signal('SIGTERM');
    const exit = await slotgate.exited;
    expect(exit.code).toBe(1);
    expect(exit.at - signalledAt).toBeLessThan(3000); // not the 5 s drain-delay
    await eventually(() => pids.every((p) => !alive(p)), 5000);
  });

  it('the workers exit when the primary is killed (never orphaned)', async () => {
    const { slotgate, adminPort } = await start();
    const pids = await workerPids(adminPort);
    expect(pids.every((p) => p > 0 && alive(p))).toBe(true);
    process.kill(slotgate.pid, 'SIGKILL');
    await slotgate.exited;
    await eventually(() => pids.every((p) => !alive(p)), 5000);
  });
});
