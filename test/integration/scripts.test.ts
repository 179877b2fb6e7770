import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { slotOf } from '../../src/cluster/key-slot.js';
import { scriptSha } from '../../src/proxy/scripts/script-store.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import type { LocalCluster } from '../../src/tools/local-cluster.js';
import { moveSlot, readMasters, type Master, startOwnCluster } from '../helpers/cluster.js';
import { proxyClient, proxyCounter, startTestProxy } from '../helpers/proxy.js';

// Its own cluster: these tests flush the nodes' script caches and move slots.

let cluster: LocalCluster;
let proxy: ProxyServer;
let masters: Master[];
let client: Redis;

beforeAll(async () => {
  cluster = await startOwnCluster('scripts', 700);
  proxy = await startTestProxy(cluster.seeds);
  masters = await readMasters(cluster.nodes[0].port);
  client = proxyClient(proxy);
});

afterAll(async () => {
  client?.disconnect();
  for (const m of masters ?? []) m.client.disconnect();
  await proxy?.close();
  await cluster?.stop();
});

/** The master that owns `key`'s slot now (asked of the cluster: slots move in these tests). */
async function ownerOf(key: string): Promise<Master> {
  const now = await readMasters(masters[0].port);
  const port = now.find((m) => m.slots.includes(slotOf(key)))!.port;
  for (const m of now) m.client.disconnect();
  return masters.find((m) => m.port === port)!;
}

/** A key named `prefix<n>` whose slot `master` owns. */
function keyOn(master: Master, prefix: string): string {
  for (let n = 0; ; n++) if (master.slots.includes(slotOf(`${prefix}${n}`))) return `${prefix}${n}`;
}

describe.each([2, 3] as const)('scripts and functions route by their keys (ioredis, RESP%s)', (protocol) => {
  let client: Redis;
  beforeAll(() => {
    client = proxyClient(proxy, { protocol });
  });
  afterAll(() => client?.disconnect());
  const WRITE_AND_READ = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])";

  it('runs EVAL and EVAL_RO on the master of their key, for a key on every master', async () => {
    for (const m of masters) {
      const key = keyOn(m, 'route:');
      expect(await client.eval(WRITE_AND_READ, 1, key, `on ${m.port}`)).toBe(`on ${m.port}`);
      expect(await m.client.get(key)).toBe(`on ${m.port}`);
      expect(await client.call('EVAL_RO', "return redis.call('GET', KEYS[1])", '1', key)).toBe(`on ${m.port}`);
      const sha = scriptSha(Buffer.from(WRITE_AND_READ));
      expect(await client.evalsha(sha, 1, key, 'again')).toBe('again');
      expect(await client.call('EVALSHA_RO', scriptSha(Buffer.from("return redis.call('GET', KEYS[1])")), '1', key)).toBe('again');
    }
  });

  it('runs a keyless EVAL on a master and refuses keys in several slots', async () => {
    expect(await client.eval('return ARGV[1]', 0, 'no keys')).toBe('no keys');
    const [a, b] = masters;
    const keys = [keyOn(a, 'cross:'), keyOn(b, 'cross:')];
    const crossSlot = "CROSSSLOT Keys in request don't hash to the same slot";
    await expect(client.eval('return 1', 2, ...keys)).rejects.toThrow(crossSlot);
    await expect(client.call('EVAL_RO', 'return 1', '2', ...keys)).rejects.toThrow(crossSlot);
    await expect(client.evalsha('f'.repeat(40), 2, ...keys)).rejects.toThrow(crossSlot);
    await expect(client.call('FCALL', 'nosuch', '2', ...keys)).rejects.toThrow(crossSlot);
    // Keys of one slot (a hash tag) are fine, whatever their number.
    expect(await client.eval('return #KEYS', 3, '{t}a', '{t}b', '{t}c')).toBe(3);
  });

  it('runs FCALL and FCALL_RO of a library loaded through slotgate on the master of their key', async () => {
    const library = [
      '#!lua name=sglib',
      "redis.register_function('sg_set', function(keys, args) return redis.call('SET', keys[1], args[1]) end)",
      "redis.register_function{function_name='sg_get', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}",
      "redis.register_function('sg_hello', function() return 'hello' end)",
    ].join('\n');
    expect(await client.call('FUNCTION', 'LOAD', 'REPLACE', library)).toBe('sglib');
    for (const m of masters) {
      const key = keyOn(m, 'fcall:');
      expect(await client.call('FCALL', 'sg_set', '1', key, `f${m.port}`)).toBe('OK');
      expect(await m.client.get(key)).toBe(`f${m.port}`);
      expect(await client.call('FCALL_RO', 'sg_get', '1', key)).toBe(`f${m.port}`);
    }
    expect(await client.call('FCALL', 'sg_hello', '0')).toBe('hello');
    expect(await client.call('FUNCTION', 'DELETE', 'sglib')).toBe('OK');
  });
});

describe('NOSCRIPT recovery', () => {
  it('loads a script slotgate saw in SCRIPT LOAD on a master that lacks it after its slot moved there, and retries EVALSHA', async () => {
    const body = "return 'moved ' .. KEYS[1]";
    const sha = (await client.script('LOAD', body)) as string;
    expect(sha).toBe(scriptSha(Buffer.from(body)));
    const [from, to] = masters;
    const key = keyOn(from, 'moving:');
    await to.client.script('FLUSH');
    expect(await to.client.script('EXISTS', sha)).toEqual([0]);
    const before = await proxyCounter(client, 'noscript_reloads');
    await moveSlot(masters, slotOf(key), from, to);
    expect(await ownerOf(key)).toBe(to);

    // slotgate still sends it to `from`, which answers MOVED; `to` then answers NOSCRIPT.
    expect(await client.evalsha(sha, 1, key)).toBe(`moved ${key}`);
    expect(await to.client.script('EXISTS', sha)).toEqual([1]);
    expect(await proxyCounter(client, 'noscript_reloads')).toBe(before + 1);
  });

  it('loads a script slotgate saw in EVAL, for EVALSHA_RO and an upper-case sha too', async () => {
    const body = "return redis.call('EXISTS', KEYS[1])";
    const m = masters[2];
    const key = keyOn(m, 'evalbody:');
    expect(await client.eval(body, 1, key)).toBe(0);
    const sha = scriptSha(Buffer.from(body));
    await m.client.script('FLUSH');
    expect(await client.call('EVALSHA_RO', sha, '1', key)).toBe(0);
    expect(await m.client.script('EXISTS', sha)).toEqual([1]);
    await m.client.script('FLUSH');
    expect(await client.evalsha(sha.toUpperCase(), 1, key)).toBe(0);
    expect(await m.client.script('EXISTS', sha)).toEqual([1]);
  });

  it('keeps the replies of a pipeline in order while some of its EVALSHAs are healed', async () => {
    const body = 'return ARGV[1]';
    const sha = (await client.script('LOAD', body)) as string;
    const m = masters[1];
    const key = keyOn(m, 'pipe:');
    await m.client.set(key, 'plain');
    await m.client.script('FLUSH');
    const results = await client
      .pipeline()
      .evalsha(sha, 1, key, 'first')
      .get(key)
      .evalsha(sha, 1, key, 'second')
      .echo('after')
      .evalsha(sha, 0, 'third')
      .exec();
    expect(results?.map(([error, value]) => error?.message ?? value)).toEqual(['first', 'plain', 'second', 'after', 'third']);
  });

  it('tries once: when loading the script fails, the client gets the NOSCRIPT', async () => {
    // EVAL remembers its script before the node compiles it; this one never compiles.
    const body = 'this is not lua';
    await expect(client.eval(body, 0)).rejects.toThrow(/Error compiling script/);
    const before = await proxyCounter(client, 'noscript_reloads');
    await expect(client.evalsha(scriptSha(Buffer.from(body)), 0)).rejects.toThrow(/^NOSCRIPT/);
    expect(await proxyCounter(client, 'noscript_reloads')).toBe(before + 1);
  });

  it("gives Redis' NOSCRIPT for a script slotgate never saw, and after SCRIPT FLUSH through slotgate", async () => {
    const m = masters[0];
    const key = keyOn(m, 'unknown:');
    await expect(client.evalsha('f'.repeat(40), 1, key)).rejects.toThrow('NOSCRIPT No matching script. Please use EVAL.');
    await expect(client.evalsha('short', 0)).rejects.toThrow(/^NOSCRIPT/);
    // Loaded on another node directly: slotgate never saw its body, so it cannot load it on m.
    const body = 'return 42';
    const sha = (await masters[1].client.script('LOAD', body)) as string;
    await expect(client.evalsha(sha, 1, key)).rejects.toThrow(/^NOSCRIPT/);

    // As on one server, SCRIPT FLUSH makes every script unknown: slotgate forgets them too.
    expect(await client.script('LOAD', body)).toBe(sha);
    expect(await client.evalsha(sha, 1, key)).toBe(42);
    expect(await client.script('FLUSH')).toBe('OK');
    const before = await proxyCounter(client, 'noscript_reloads');
    await expect(client.evalsha(sha, 1, key)).rejects.toThrow(/^NOSCRIPT/);
    expect(await proxyCounter(client, 'noscript_reloads')).toBe(before);
    expect(await m.client.script('EXISTS', sha)).toEqual([0]);
  });
});
