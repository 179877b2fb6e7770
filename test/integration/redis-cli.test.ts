import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { Redis } from 'ioredis';
import { slotOf } from '../../src/cluster/key-slot.js';
import { encodeCommand } from '../../src/resp/encode.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { startTestProxy } from '../helpers/proxy.js';
import { runRedisCli } from '../helpers/redis-cli.js';

let proxy: ProxyServer;
const run = `cli${process.pid}`;

beforeAll(async () => {
  proxy = await startTestProxy(inject('clusterSeeds'));
});

afterAll(async () => {
  await proxy.close();
});

/** Plain connections to every master and the slots each one owns, read from the cluster itself. */
async function mastersBySlot(): Promise<{ clientForSlot: (slot: number) => Redis; close: () => void }> {
  const [host, port] = inject('clusterSeeds')[0].split(':');
  const probe = new Redis({ host, port: Number(port), protocol: 2 });
  const slots = (await probe.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  probe.disconnect();
  const clients = new Map<number, Redis>();
  const owner = new Array<Redis>(16384);
  for (const [start, end, [h, p]] of slots) {
    if (!clients.has(p)) clients.set(p, new Redis({ host: h, port: p, protocol: 2 }));
    for (let s = start; s <= end; s++) owner[s] = clients.get(p)!;
  }
  return { clientForSlot: (s) => owner[s], close: () => clients.forEach((c) => c.disconnect()) };
}

describe('redis-cli through slotgate', () => {
  it('SETs and GETs 10,000 keys spread over the slots of every master', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `${run}:k:${i}`);
    const slots = new Set(keys.map((k) => slotOf(k)));
    expect(slots.size).toBeGreaterThan(7000);
    const set = await runRedisCli(['-p', String(proxy.port)], keys.map((k, i) => `SET ${k} value-${i}\n`).join(''));
    expect(set.code).toBe(0);
    const setLines = set.stdout.trim().split('\n');
    expect(setLines.length).toBe(10_000);
    expect(setLines.every((l) => l === 'OK')).toBe(true);
    const get = await runRedisCli(['-p', String(proxy.port)], keys.map((k) => `GET ${k}\n`).join(''));
    expect(get.stdout.trim().split('\n')).toEqual(keys.map((_, i) => `value-${i}`));
  });

  it('works in cluster mode (-c) and with --scan, MGET and DEL across slots', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `${run}:c:${i}`);
    const set = await runRedisCli(['-c', '-p', String(proxy.port)], keys.map((k, i) => `SET ${k} v${i}\n`).join(''));
    expect(set.stdout.trim().split('\n').every((l) => l === 'OK')).toBe(true);
    const mget = await runRedisCli(['-c', '-p', String(proxy.port), 'MGET', ...keys.slice(0, 20)], '');
    expect(mget.stdout.trim().split('\n')).toEqual(keys.slice(0, 20).map((_, i) => `v${i}`));
    const scan = await runRedisCli(['-p', String(proxy.port), '--scan', '--pattern', `${run}:c:*`], '');
    expect(scan.stdout.trim().split('\n').sort()).toEqual([...keys].sort());
    const del = await runRedisCli(['-p', String(proxy.port), 'DEL', ...keys], '');
    expect(del.stdout.trim()).toBe('200');
  });

  it('takes a mass insertion with --pipe (100,000 SETs): 0 errors, every key on the master that owns its slot', async () => {
    const count = 100_000;
    const input = Buffer.concat(Array.from({ length: count }, (_, i) => encodeCommand(['SET', `${run}:mass:${i}`, `m${i}`])));
    const result = await runRedisCli(['-p', String(proxy.port), '--pipe'], input, 120_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/errors: 0, replies: 100000/);

    const { clientForSlot, close } = await mastersBySlot();
    try {
      const pipelines = new Map<Redis, { p: ReturnType<Redis['pipeline']>; idx: number[] }>();
      for (let i = 0; i < count; i++) {
        const owner = clientForSlot(slotOf(`${run}:mass:${i}`));
        let entry = pipelines.get(owner);
        if (entry === undefined) {
          entry = { p: owner.pipeline(), idx: [] };
          pipelines.set(owner, entry);
        }
        entry.p.get(`${run}:mass:${i}`);
        entry.idx.push(i);
      }
      expect(pipelines.size).toBe(3);
      for (const { p, idx } of pipelines.values()) {
        const replies = await p.exec();
        const wrong = idx.filter((i, n) => replies?.[n]?.[0] !== null || replies?.[n]?.[1] !== `m${i}`);
        expect(wrong.slice(0, 5)).toEqual([]);
      }
    } finally {
      close();
    }
  });

  it('passes quoted and escaped arguments as redis-cli encodes them', async () => {
    const out = await runRedisCli(['-p', String(proxy.port)], `SET "${run}:q" "a b\\x41"\nGET ${run}:q\nPING\n`);
    expect(out.stdout.trim().split('\n')).toEqual(['OK', 'a bA', 'PONG']);
  });

  it.each([['RESP2', []], ['RESP3 (-3)', ['-3']]] as const)('runs MULTI/EXEC, a BLPOP woken by another client and a subscription in %s', async (_name, flags) => {
    const port = String(proxy.port);
    const run = `cli${process.pid}${flags.length}`;
    const tx = await runRedisCli([...flags, '-p', port], `MULTI\nSET {${run}}:tx 1\nINCR {${run}}:tx\nEXEC\n`);
    expect(tx.stdout.split('\n').filter(Boolean)).toEqual(['OK', 'QUEUED', 'QUEUED', 'OK', '2']);
    // Discarded; aborted by a change to a WATCHed key (its own, which counts on Redis too); cross-slot.
    const others = await runRedisCli(
      [...flags, '-p', port],
      [
        `MULTI`, `SET {${run}}:tx discarded`, `DISCARD`, `GET {${run}}:tx`,
        `WATCH {${run}}:tx`, `SET {${run}}:tx changed`, `MULTI`, `SET {${run}}:tx lost`, `EXEC`, `GET {${run}}:tx`,
        `MULTI`, `SET {${run}}:tx a`, `SET {${run}x}:other b`, `EXEC`,
      ].join('\n') + '\n',
    );
    // redis-cli prints a nil as an empty line, and an empty line after each error.
    expect(others.stdout.split('\n')).toEqual([
      'OK', 'QUEUED', 'OK', '2',
      'OK', 'OK', 'OK', 'QUEUED', '', 'changed',
      'OK', 'QUEUED', "CROSSSLOT Keys in request don't hash to the same slot", '', 'EXECABORT Transaction discarded because of previous errors.', '',
      '',
    ]);

    const blocked = runRedisCli([...flags, '-p', port, 'BLPOP', `${run}:blocking-queue`, '0'], '');
    await new Promise((r) => setTimeout(r, 200));
    expect((await runRedisCli([...flags, '-p', port, 'LPUSH', `${run}:blocking-queue`, 'job'], '')).stdout.trim()).toBe('1');
    expect((await blocked).stdout.split('\n').filter(Boolean)).toEqual([`${run}:blocking-queue`, 'job']);

    // redis-cli SUBSCRIBE runs until killed: read its output until the message shows (bounded).
    const { spawn } = await import('node:child_process');
    const sub = spawn('redis-cli', [...flags, '-p', port, 'SUBSCRIBE', `${run}:ch`]);
    let out = '';
    sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      for (let i = 0; i < 100 && !out.includes('hello'); i++) {
        if (out.includes('subscribe')) await runRedisCli([...flags, '-p', port, 'PUBLISH', `${run}:ch`, 'hello'], '');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      sub.kill('SIGKILL');
    }
    expect(out.split('\n').filter(Boolean).slice(0, 6)).toEqual(['subscribe', `${run}:ch`, '1', 'message', `${run}:ch`, 'hello']);
  });

  it('speaks RESP3 with redis-cli -3: HELLO, a map, a set, a null and a double print as they do from the node itself', async () => {
    const k = (name: string) => `{${run}:r3}:${name}`;
    const script = [
      'HELLO 3',
      `HSET ${k('h')} a 1 b 2`,
      `HGETALL ${k('h')}`,
      `GET ${k('none')}`,
      `ZADD ${k('z')} 1.5 m`,
      `ZSCORE ${k('z')} m`,
      `SADD ${k('s')} x`,
      `SMEMBERS ${k('s')}`,
      `INCRBYFLOAT ${k('f')} 0.5`,
      `DEL ${k('h')} ${k('z')} ${k('s')} ${k('f')}`,
    ].join('\n') + '\n';
    // --no-raw prints the RESP3 types (maps as 1# "k" => "v", sets as 1~, (double), (nil)).
    const viaProxy = await runRedisCli(['-3', '--no-raw', '-p', String(proxy.port)], script);
    const { clientForSlot, close } = await mastersBySlot();
    const nodePort = String(clientForSlot(slotOf(k('h'))).options.port);
    close();
    const direct = await runRedisCli(['-3', '--no-raw', '-p', nodePort], script);
    expect(viaProxy.code).toBe(0);
    const lines = viaProxy.stdout.trimEnd().split('\n');
    const nodeLines = direct.stdout.trimEnd().split('\n');
    // HELLO: the node's, as a standalone server (slotgate's mode) with slotgate's client id.
    expect(lines.slice(0, 7)).toEqual(
      nodeLines.slice(0, 7).map((l) => l.replace('"mode" => "cluster"', '"mode" => "standalone"').replace(/"id" => \(integer\) \d+/, lines[3].slice(3))),
    );
    expect(lines[2]).toBe('3# "proto" => (integer) 3');
    expect(lines[3]).toMatch(/^4# "id" => \(integer\) \d+$/);
    expect(lines[4]).toBe('5# "mode" => "standalone"');
    expect(lines.slice(7)).toEqual(nodeLines.slice(7));
    expect(lines.slice(7)).toEqual([
      '(integer) 2',
      '1# "a" => "1"',
      '2# "b" => "2"',
      '(nil)',
      '(integer) 1',
      '(double) 1.5',
      '(integer) 1',
      '1~ "x"',
      '"0.5"',
      '(integer) 4',
    ]);
  });
});
