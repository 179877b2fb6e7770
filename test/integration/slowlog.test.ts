import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { ProxyServer } from '../../src/proxy/server.js';
import { readMasters, sharedClusterSeeds, type Master } from '../helpers/cluster.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { slotOf } from '../../src/cluster/key-slot.js';

type Entry = [number, number, number, string[], string, string, string];

/** Spins in Lua for `ms` milliseconds on the node of `key` (a request that is slow at the node). */
const SPIN = "local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2]; repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start >= tonumber(ARGV[1]) * 1000; return 1";

describe("SLOWLOG: slotgate's own, end to end", () => {
  let proxy: ProxyServer;
  let client: Redis;
  let masters: Master[];
  const prefix = `slow:${process.pid}:`;

  beforeAll(async () => {
    const seeds = sharedClusterSeeds();
    proxy = await startTestProxy(seeds, { slowlogLogSlowerThanUs: 50_000 });
    client = proxyClient(proxy);
    masters = await readMasters(Number(seeds[0].split(':')[1]));
  });

  afterAll(async () => {
    client?.disconnect();
    for (const m of masters ?? []) m.client.disconnect();
    await proxy?.close();
  });

  it('logs a request slower than the threshold with its time, arguments, client and node, and not the fast ones', async () => {
    expect(await client.call('SLOWLOG', 'RESET')).toBe('OK');
    const key = `${prefix}spin`;
    expect(await client.get(`${prefix}fast`)).toBeNull();
    expect(await client.eval(SPIN, 1, key, '80')).toBe(1);
    expect(await client.blpop(`${prefix}blocked`, 0.2)).toBeNull(); // blocked time is not slowness
    expect(await client.call('SLOWLOG', 'LEN')).toBe(1);
    const [entry] = (await client.call('SLOWLOG', 'GET')) as Entry[];
    const [id, time, durationUs, args, address, name, node] = entry;
    expect(id).toBe(0);
    expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(5);
    expect(durationUs).toBeGreaterThanOrEqual(60_000);
    // As the client sent them (ioredis: lower-case names), each cut at 128 bytes as Redis cuts.
    expect(args).toEqual(['eval', SPIN, '1', key, '80'].map((a) => a.slice(0, 128) + (a.length > 128 ? `... (${a.length - 128} more bytes)` : '')));
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(name).toBe('');
    const owner = masters.find((m) => m.slots.includes(slotOf(key)))!;
    expect(node).toBe(`127.0.0.1:${owner.port}`);
  });

  it('keeps slowlog-max-len entries, newest first, counts with GET n and -1, and resets', async () => {
    expect(await client.call('PROXY', 'CONFIG', 'SET', 'slowlog-log-slower-than', '0')).toBe('OK');
    try {
      expect(await client.call('PROXY', 'CONFIG', 'SET', 'slowlog-max-len', '3')).toBe('OK');
      expect(await client.call('SLOWLOG', 'RESET')).toBe('OK');
      const many = Array.from({ length: 40 }, (_, i) => `a${i}`);
      await client.call('MGET', `{${prefix}}x`, ...many.map((a) => `{${prefix}}${a}`));
      await client.set(`${prefix}k1`, 'v');
      await client.get(`${prefix}k1`);
      const all = (await client.call('SLOWLOG', 'GET', '-1')) as Entry[];
      expect(all.length).toBe(3);
      expect(all[0][3]).toEqual(['get', `${prefix}k1`]);
      expect(all[1][3]).toEqual(['set', `${prefix}k1`, 'v']);
      // 42 arguments: the first 31 and how many more, as Redis keeps them.
      expect(all[2][3].length).toBe(32);
      expect(all[2][3][31]).toBe('... (11 more arguments)');
      expect(((await client.call('SLOWLOG', 'GET', '1')) as Entry[]).length).toBe(1);
      await expect(client.call('SLOWLOG', 'GET', '-2')).rejects.toThrow('ERR count should be greater than or equal to -1');
      expect(await client.call('SLOWLOG', 'RESET')).toBe('OK');
      // Only requests that went to a node are logged: SLOWLOG's own are not.
      expect(await client.call('SLOWLOG', 'LEN')).toBe(0);
    } finally {
      await client.call('PROXY', 'CONFIG', 'SET', 'slowlog-log-slower-than', '50000');
      await client.call('PROXY', 'CONFIG', 'SET', 'slowlog-max-len', '128');
    }
  });
});
