import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { slotOf } from '../../src/cluster/key-slot.js';
import { SLOTGATE_METRICS } from '../../src/telemetry/metrics.js';
import { AdminServer, startAdminServer } from '../../src/admin/admin-server.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import type { LocalCluster } from '../../src/tools/local-cluster.js';
import { moveSlot, readMasters, startOwnCluster, testBasePort, type Master } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';

// A cluster of this file's own (3 masters, no replicas): a slot is moved and a master is killed.
const REFRESH_MS = 500;
const PROMETHEUS = '/usr/bin/prometheus';
/** The built CLI (`npm run build` runs before the tests). */
const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

let cluster: LocalCluster;
let proxy: ProxyServer;
let admin: AdminServer;
let masters: Master[];

beforeAll(async () => {
  cluster = await startOwnCluster('readyz', 900);
  proxy = await startTestProxy(cluster.seeds, { refreshIntervalMs: REFRESH_MS });
  admin = await startAdminServer(proxy, { port: 0, bind: '127.0.0.1' }, pino({ level: 'silent' }));
  masters = await readMasters(cluster.nodes[0].port);
});

afterAll(async () => {
  for (const m of masters ?? []) m.client.disconnect();
  await admin?.close();
  await proxy?.close();
  await cluster?.stop();
});

async function get(pathname: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(`http://127.0.0.1:${admin.port}${pathname}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** The value of one series in Prometheus text (`name{labels}`, labels in the order printed), or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

function keyInSlot(slot: number, prefix: string): string {
  for (let n = 0; ; n++) if (slotOf(`${prefix}:${n}`) === slot) return `${prefix}:${n}`;
}

describe('admin HTTP port', () => {
  it('/livez answers 200, unknown paths 404', async () => {
    expect((await get('/livez')).status).toBe(200);
    expect((await get('/nope')).status).toBe(404);
  });

  it('/metrics counts commands by name and result, bytes, redirections after a MOVED, and has build info', async () => {
    const client = proxyClient(proxy);
    try {
      const before = (await get('/metrics')).body;
      const bytesInBefore = sample(before, 'slotgate_client_bytes_received_total') ?? 0;
      const bytesOutBefore = sample(before, 'slotgate_client_bytes_sent_total') ?? 0;
      for (let i = 0; i < 20; i++) await client.set(`m:${i}`, 'v');
      for (let i = 0; i < 10; i++) await client.get(`m:${i}`);
      await expect(client.call('INCR', 'm:0')).rejects.toThrow(/not an integer/);
      await expect(client.call('NOSUCHCOMMAND')).rejects.toThrow(/unknown command/);
      await client.mget('m:1', 'm:2', 'm:3', 'm:4'); // across slots: split per slot

      // A slot moved behind slotgate's back: the next request for it gets MOVED, followed by slotgate.
      const [a, b] = masters;
      const slot = a.slots[0];
      const key = keyInSlot(slot, 'moved');
      await client.set(key, 'before');
      await moveSlot(masters, slot, a, b);
      expect(await client.get(key)).toBe('before');

      // The MOVED asks for a refresh (trigger `moved`, or `follow-up` when one was running already).
      const refreshesAfterMoved = (t: string): number =>
        (sample(t, 'slotgate_topology_refreshes_total{trigger="moved",result="ok"}') ?? 0) +
        (sample(t, 'slotgate_topology_refreshes_total{trigger="follow-up",result="ok"}') ?? 0);
      await eventually(async () => refreshesAfterMoved((await get('/metrics')).body) >= 1, 5000);
      const res = await get('/metrics');
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^text\/plain/);
      const text = res.body;
      expect(sample(text, 'slotgate_commands_total{command="set",result="ok"}')).toBeGreaterThanOrEqual(21);
      expect(sample(text, 'slotgate_commands_total{command="get",result="ok"}')).toBeGreaterThanOrEqual(11);
      expect(sample(text, 'slotgate_commands_total{command="incr",result="error"}')).toBe(1);
      expect(sample(text, 'slotgate_commands_total{command="other",result="error"}')).toBe(1);
      expect(sample(text, 'slotgate_commands_total{command="mget",result="ok"}')).toBe(1);
      expect(sample(text, 'slotgate_command_duration_seconds_count{command="set"}')).toBeGreaterThanOrEqual(21);
      expect(sample(text, 'slotgate_command_duration_seconds_bucket{le="+Inf",command="get"}')).toBeGreaterThanOrEqual(11);
      expect(sample(text, 'slotgate_fanout_subrequests_total')).toBeGreaterThanOrEqual(2);
      expect(sample(text, 'slotgate_redirections_total{type="moved"}')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'slotgate_topology_refreshes_total{trigger="startup",result="ok"}')).toBe(1);
      expect(sample(text, 'slotgate_client_bytes_received_total')).toBeGreaterThan(bytesInBefore + 20 * 20);
      expect(sample(text, 'slotgate_client_bytes_sent_total')).toBeGreaterThan(bytesOutBefore + 20 * 5);
      expect(sample(text, 'slotgate_client_connections')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'slotgate_client_connections_total')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'slotgate_slots_covered')).toBe(16384);
      expect(sample(text, 'slotgate_ready')).toBe(1);
      expect(sample(text, 'slotgate_drain_closes_total')).toBe(0);
      expect(sample(text, `slotgate_upstream_requests_total{node="127.0.0.1:${b.port}"}`)).toBeGreaterThan(0);
      expect(sample(text, `slotgate_upstream_connections{node="127.0.0.1:${b.port}"}`)).toBe(1);
      expect(text).toMatch(new RegExp(`^slotgate_build_info\\{version="\\d+\\.\\d+\\.\\d+",node="${process.version}"\\} 1$`, 'm'));
      expect(text).toMatch(/^process_cpu_user_seconds_total /m); // Node's default metrics
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
      for (const name of SLOTGATE_METRICS) expect(text, name).toContain(`# TYPE ${name} `);
    } finally {
      client.disconnect();
    }
  });

  it('counts protocol errors and connections', async () => {
    const before = (await get('/metrics')).body;
    const socket = net.connect(proxy.port, '127.0.0.1');
    const closed = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
    });
    socket.write('*1\r\n$x\r\n');
    expect(await closed).toMatch(/^-ERR Protocol error/);
    const after = (await get('/metrics')).body;
    const delta = (name: string): number => (sample(after, name) ?? 0) - (sample(before, name) ?? 0);
    expect(delta('slotgate_protocol_errors_total')).toBe(1);
    expect(delta('slotgate_client_connections_total')).toBe(1);
  });

  it('the slotgate command starts the admin listener (SIGTERM stops both), and none with admin-enabled false', async () => {
    const port = testBasePort() + 960;
    const adminPort = testBasePort() + 961;
    const start = (extra: string[]): ChildProcess =>
      // drain-delay 0: nothing to drain here, and `stopped` waits 5 s at most.
      spawn(process.execPath, [MAIN, '--threads', '1', '--bind', '127.0.0.1', '--port', String(port), '--log-level', 'warn', '--drain-delay', '0', ...extra, ...cluster.seeds], {
        stdio: 'ignore',
      });
    const stopped = async (child: ChildProcess): Promise<number | null> => {
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return Promise.race([exit, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    };
    const adminGet = async (pathname: string): Promise<number> => {
      try {
        return (await fetch(`http://127.0.0.1:${adminPort}${pathname}`, { signal: AbortSignal.timeout(1000) })).status;
      } catch {
        return 0; // nothing listening
      }
    };
    const withAdmin = start(['--admin-bind', '127.0.0.1', '--admin-port', String(adminPort)]);
    try {
      await eventually(async () => (await adminGet('/readyz')) === 200, 10_000);
      expect(await adminGet('/livez')).toBe(200);
    } finally {
      expect(await stopped(withAdmin)).toBe(0);
    }
    const without = start(['--admin-enabled', 'false', '--admin-port', String(adminPort)]);
    try {
      const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
      client.on('error', () => {}); // refused until slotgate listens
      await eventually(async () => (await client.ping().catch(() => '')) === 'PONG', 10_000);
      client.disconnect();
      expect(await adminGet('/livez')).toBe(0);
    } finally {
      expect(await stopped(without)).toBe(0);
    }
  });

  it('a real Prometheus scrapes /metrics and can query slotgate_* series', async () => {
    if (!fs.existsSync(PROMETHEUS)) {
      throw new Error(`${PROMETHEUS} is missing: install Debian's prometheus package (scripts/setup.sh does)`);
    }
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-prometheus-'));
    const webPort = testBasePort() + 950;
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: slotgate',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${admin.port}']`,
      '',
    ].join('\n');
    await fsp.writeFile(path.join(dir, 'prometheus.yml'), config);
    const log = fs.openSync(path.join(dir, 'prometheus.log'), 'a');
    let child: ChildProcess | null = null;
    const client = proxyClient(proxy);
    try {
      child = spawn(
        PROMETHEUS,
        [
          `--config.file=${path.join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${webPort}`,
        ],
        { stdio: ['ignore', log, log] },
      );
      const exited = new Promise<string>((resolve) => child!.once('exit', (code, signal) => resolve(`exit ${code ?? signal}`)));
      for (let i = 0; i < 10; i++) await client.set(`prom:${i}`, 'v');
      const query = async (promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
        try {
          const res = await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(promql)}`, {
            signal: AbortSignal.timeout(2000),
          });
          const body = (await res.json()) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
          return body.status === 'success' ? (body.data?.result ?? []) : [];
        } catch {
          return []; // not listening yet
        }
      };
      let gone: string | null = null;
      void exited.then((why) => (gone = why));
      await eventually(async () => {
        if (gone !== null) throw new Error(`prometheus stopped (${gone}): ${await fsp.readFile(path.join(dir, 'prometheus.log'), 'utf8')}`);
        const info = await query('slotgate_build_info');
        const sets = await query('sum(slotgate_commands_total{command="set"})');
        return info.length === 1 && info[0].metric.job === 'slotgate' && sets.length === 1 && Number(sets[0].value[1]) >= 10;
      }, 30_000);
      const up = await query('up{job="slotgate"}');
      expect(up.map((r) => r.value[1])).toEqual(['1']);
    } finally {
      client.disconnect();
      if (child !== null && child.exitCode === null) {
        const exit = new Promise((resolve) => child!.once('exit', resolve));
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exit, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      }
      fs.closeSync(log);
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('/readyz', () => {
  it('is ready, turns unready within one refresh interval when a master without replica dies, and ready again once its slots are served', async () => {
    const client = proxyClient(proxy);
    const cleanup: (() => void)[] = [];
    try {
      await eventually(async () => (await get('/readyz')).status === 200, 5000);
      expect(JSON.parse((await get('/readyz')).body)).toEqual({ ready: true, coveredSlots: 16384 });

      // The victim: the third master (the first two took part in the slot move above).
      const current = await readMasters(cluster.nodes[0].port);
      const victim = current.find((m) => m.port === masters[2].port)!;
      const survivors = current.filter((m) => m !== victim);
      cleanup.push(() => current.forEach((m) => m.client.disconnect()));
      const node = cluster.nodes.find((n) => n.port === victim.port)!;
      await client.set(keyInSlot(victim.slots[0], 'ready'), 'v'); // traffic on its link (not needed, but usual)

      // Its direct clients go first, so they do not report the kill.
      victim.client.disconnect();
      masters.find((m) => m.port === victim.port)!.client.disconnect();
      process.kill(node.pid, 'SIGKILL');
      const killedAt = Date.now();
      await eventually(async () => (await get('/readyz')).status === 503, REFRESH_MS + 1000);
      const elapsed = Date.now() - killedAt;
      expect(elapsed).toBeLessThan(REFRESH_MS + 1000);
      const unready = JSON.parse((await get('/readyz')).body) as { ready: boolean; reason: string; coveredSlots: number; unreachableMasters: string[] };
      expect(unready).toMatchObject({ ready: false, reason: 'master unreachable', unreachableMasters: [`127.0.0.1:${victim.port}`] });
      expect(unready.coveredSlots).toBe(16384 - victim.slots.length);
      expect(sample((await get('/metrics')).body, 'slotgate_ready')).toBe(0);

      // Its slots served again: the survivors forget the dead node and one takes its slots over.
      const [heir, other] = survivors;
      for (const m of survivors) await m.client.call('CLUSTER', 'FORGET', victim.id);
      for (const [from, to] of ranges(victim.slots)) await heir.client.call('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
      await eventually(async () => {
        const info = (await other.client.call('CLUSTER', 'INFO')) as string;
        return /cluster_state:ok/.test(info) && /cluster_slots_assigned:16384/.test(info);
      }, 20_000);
      await eventually(async () => (await get('/readyz')).status === 200, 10_000);
      expect(JSON.parse((await get('/readyz')).body)).toEqual({ ready: true, coveredSlots: 16384 });
      expect(await client.get(keyInSlot(victim.slots[0], 'ready'))).toBe(null); // served (by the heir, empty)
    } finally {
      client.disconnect();
      for (const step of cleanup) step();
    }
  });
});

function ranges(slots: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const s of slots) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === s - 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}
