import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis, type Cluster } from 'ioredis';
import { slotOf } from '../../src/cluster/key-slot.js';
import { nodeId } from '../../src/proxy/commands/cluster-emulation.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import type { LocalCluster } from '../../src/tools/local-cluster.js';
import { readMasters, type Master, startOwnCluster } from '../helpers/cluster.js';
import { CLIENT_MODES, startTestProxy } from '../helpers/proxy.js';
import { RawRespClient } from '../helpers/raw-resp-client.js';

// Its own cluster: these tests flush the whole keyspace and count every key in it.

let cluster: LocalCluster;
let proxy: ProxyServer;
let masters: Master[];

beforeAll(async () => {
  cluster = await startOwnCluster('cluster-wide', 400, { replicasPerMaster: 1 });
  proxy = await startTestProxy(cluster.seeds);
  masters = await readMasters(cluster.nodes[0].port);
});

afterAll(async () => {
  for (const m of masters ?? []) m.client.disconnect();
  await proxy?.close();
  await cluster?.stop();
});

function masterOf(key: string): Master {
  const slot = slotOf(key);
  return masters.find((m) => m.slots.includes(slot))!;
}

/** `count` keys named `prefix<n>`, checked to land on every master. */
function keysOnEveryMaster(prefix: string, count: number): string[] {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  expect(new Set(keys.map((k) => masterOf(k).port)).size).toBe(3);
  return keys;
}

async function scanAll(client: Redis | Cluster, ...options: (string | number)[]): Promise<{ keys: string[]; calls: number }> {
  let cursor = '0';
  const keys: string[] = [];
  let calls = 0;
  do {
    const [next, page] = (await client.call('SCAN', cursor, ...options)) as [string, string[]];
    cursor = next;
    keys.push(...page);
    calls++;
    expect(calls).toBeLessThan(20_000);
  } while (cursor !== '0');
  return { keys, calls };
}

describe.each(CLIENT_MODES)('the whole cluster as one server (ioredis, $mode mode)', ({ connect }) => {
  let client: Redis | Cluster;

  beforeAll(() => {
    client = connect(proxy);
  });

  afterAll(() => {
    client.disconnect();
  });

  beforeEach(async () => {
    expect(await client.flushall()).toBe('OK');
  });

  it('splits MGET, MSET, DEL, UNLINK, EXISTS and TOUCH across slots and merges in key order', async () => {
    const keys = keysOnEveryMaster('k', 30);
    expect(await client.mset(...keys.flatMap((k, i) => [k, `v${i}`]))).toBe('OK');
    for (const [i, k] of keys.entries()) expect(await masterOf(k).client.get(k)).toBe(`v${i}`);
    expect(await client.mget('k5', 'missing', 'k1', 'k5', 'k29')).toEqual(['v5', null, 'v1', 'v5', 'v29']);
    expect(await client.mget(...keys)).toEqual(keys.map((_, i) => `v${i}`));
    expect(await client.exists('k1', 'k1', 'k2', 'missing')).toBe(3);
    expect(await client.touch('k1', 'k2', 'missing')).toBe(2);
    expect(await client.del('k0', 'k1', 'k0', 'missing')).toBe(2);
    expect(await client.unlink('k2', 'k3', 'k4')).toBe(3);
    expect(await client.exists('k0', 'k1', 'k2', 'k3', 'k4', 'k5')).toBe(1);
    await expect(client.call('MSET', 'k0', 'a', 'k1')).rejects.toThrow("ERR wrong number of arguments for 'mset' command");
  });

  it('splits a 1,000-key MGET over hundreds of slots', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `many:${i}`);
    expect(new Set(keys.map(slotOf)).size).toBeGreaterThan(900);
    expect(await client.mset(...keys.filter((_, i) => i % 2 === 0).flatMap((k) => [k, k]))).toBe('OK');
    expect(await client.mget(...keys)).toEqual(keys.map((k, i) => (i % 2 === 0 ? k : null)));
  });

  it('gives the first error in key order, never a partial reply', async () => {
    const keys = keysOnEveryMaster('e', 12);
    const full = masterOf('e0') === masters[0] ? masters[1] : masters[0];
    await full.client.config('SET', 'maxmemory', '1');
    try {
      await expect(client.mset(...keys.flatMap((k) => [k, 'x']))).rejects.toThrow(/^OOM command not allowed/);
    } finally {
      await full.client.config('SET', 'maxmemory', '0');
    }
  });

  it('rejects cross-slot commands with CROSSSLOT when the policy is reject', async () => {
    expect(await client.call('PROXY', 'CONFIG', 'SET', 'cross-slot', 'reject')).toBe('OK');
    try {
      expect(await client.call('PROXY', 'CONFIG', 'GET', 'cross-slot')).toEqual(['cross-slot', 'reject']);
      await expect(client.mget('k1', 'k2', 'k3')).rejects.toThrow(/^CROSSSLOT Keys in request don't hash to the same slot/);
      expect(await client.mget('{t}1', '{t}2')).toEqual([null, null]);
    } finally {
      expect(await client.call('PROXY', 'CONFIG', 'SET', 'cross-slot', 'split')).toBe('OK');
    }
    expect(await client.mget('k1', 'k2', 'k3')).toEqual([null, null, null]);
  });

  it('runs whole-cluster commands in pipeline order: later requests never overtake them', async () => {
    const sha = 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db'; // SHA1 of "return 1"
    const results = await client
      .pipeline()
      .set('k1', 'a')
      .flushall()
      .get('k1')
      .dbsize()
      .set('k1', 'b')
      .script('LOAD', 'return 1')
      .evalsha(sha, 1, 'k1')
      .keys('*')
      .exec();
    expect(results?.map(([error, value]) => error?.message ?? value)).toEqual(['OK', 'OK', null, 0, 'OK', sha, 1, ['k1']]);
  });

  it('answers DBSIZE, KEYS, RANDOMKEY, FLUSHDB over every master', async () => {
    expect(await client.randomkey()).toBeNull();
    const keys = keysOnEveryMaster('d', 100);
    await client.mset(...keys.flatMap((k) => [k, '1']));
    expect(await client.dbsize()).toBe(100);
    const perMaster = await Promise.all(masters.map((m) => m.client.dbsize()));
    expect(perMaster.every((n) => n > 0)).toBe(true);
    expect((await client.keys('*')).sort()).toEqual([...keys].sort());
    expect((await client.keys('d1?')).sort()).toEqual(keys.filter((k) => /^d1\d$/.test(k)).sort());
    for (let i = 0; i < 10; i++) expect(keys).toContain(await client.randomkey());
    expect(await client.call('FLUSHDB', 'ASYNC')).toBe('OK');
    expect(await client.dbsize()).toBe(0);
  });

  it('SCANs every key of every master exactly once, with MATCH, COUNT and TYPE', async () => {
    const keys = keysOnEveryMaster('s', 300);
    await client.mset(...keys.flatMap((k) => [k, '1']));
    await client.sadd('aset', 'm');
    await client.rpush('alist', 'x');
    const all = await scanAll(client);
    expect(all.keys.sort()).toEqual([...keys, 'aset', 'alist'].sort());
    const big = await scanAll(client, 'COUNT', 1000);
    expect(big.keys.length).toBe(302);
    expect(big.calls).toBeLessThan(all.calls);
    expect((await scanAll(client, 'MATCH', 's1*')).keys.sort()).toEqual(keys.filter((k) => k.startsWith('s1')).sort());
    expect((await scanAll(client, 'TYPE', 'set')).keys).toEqual(['aset']);
    expect((await scanAll(client, 'MATCH', 'a*', 'TYPE', 'list', 'COUNT', 5)).keys).toEqual(['alist']);
    await expect(client.call('SCAN', 'abc')).rejects.toThrow('ERR invalid cursor');
    await expect(client.call('SCAN', '0', 'COUNT', '0')).rejects.toThrow('ERR syntax error');
    await expect(client.call('SCAN', '0', 'BOGUS', '1')).rejects.toThrow('ERR syntax error');
  });

  it('loads, checks and flushes scripts and functions on every master', async () => {
    const sha = (await client.script('LOAD', 'return KEYS[1]')) as string;
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    for (const m of masters) expect(await m.client.script('EXISTS', sha)).toEqual([1]);
    const keys = keysOnEveryMaster('sc', 12);
    for (const k of keys) expect(await client.evalsha(sha, 1, k)).toBe(k);
    expect(await client.script('EXISTS', sha, 'f'.repeat(40))).toEqual([1, 0]);
    await masters[1].client.script('FLUSH');
    expect(await client.script('EXISTS', sha)).toEqual([0]);
    expect(await client.script('FLUSH')).toBe('OK');
    for (const m of masters) expect(await m.client.script('EXISTS', sha)).toEqual([0]);
    await expect(client.script('KILL')).rejects.toThrow(/^NOTBUSY/);

    const library = "#!lua name=sglib\nredis.register_function('sgecho', function(keys, args) return keys[1] end)";
    expect(await client.call('FUNCTION', 'LOAD', 'REPLACE', library)).toBe('sglib');
    for (const k of keys) expect(await client.call('FCALL', 'sgecho', 1, k)).toBe(k);
    const list = (await client.call('FUNCTION', 'LIST')) as unknown[][];
    expect(list.length).toBe(1);
    expect(await client.call('FUNCTION', 'DELETE', 'sglib')).toBe('OK');
    for (const m of masters) expect(await m.client.call('FUNCTION', 'LIST')).toEqual([]);
  });

  it('INFO has a Proxy section, slotgate clients and the keyspace summed over masters', async () => {
    const keys = keysOnEveryMaster('i', 60);
    await client.mset(...keys.flatMap((k) => [k, '1']));
    await client.expire('i1', 1000);
    const info = (await client.info()) as string;
    expect(info).toMatch(/^# Proxy\r\n/);
    expect(info).toMatch(/^redis_version:7\./m);
    expect(info).toMatch(/^arch_bits:64/m);
    expect(info).toMatch(/^redis_mode:standalone/m);
    expect(info).toContain(`connected_clients:${proxy.clientCount}\r\n`);
    expect(info).toMatch(/^db0:keys=60,expires=1,avg_ttl=\d+/m);
    const keyspace = (await client.info('keyspace')) as string;
    expect(keyspace).not.toContain('# Proxy');
    expect(keyspace).toMatch(/^# Keyspace\r\ndb0:keys=60,expires=1,/);
  });

  it('answers LASTSAVE, TIME and PUBSUB counts for the whole cluster', async () => {
    const lastsave = (await client.lastsave()) as number;
    expect(lastsave).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(lastsave).toBeGreaterThan(0);
    const [seconds] = (await client.time()) as [string, string];
    expect(Math.abs(Number(seconds) - Date.now() / 1000)).toBeLessThan(5);
    const subscribers = masters.slice(0, 2).map((m) => new Redis({ port: m.port, host: '127.0.0.1', protocol: 2 }));
    try {
      for (const s of subscribers) await s.subscribe('news');
      await subscribers[0].psubscribe('n*');
      expect(await client.call('PUBSUB', 'NUMSUB', 'news', 'other')).toEqual(['news', 2, 'other', 0]);
      expect(await client.call('PUBSUB', 'CHANNELS')).toEqual(['news']);
      expect(await client.call('PUBSUB', 'NUMPAT')).toBe(1);
    } finally {
      for (const s of subscribers) s.disconnect();
    }
  });

  it('presents itself as a one-node cluster owning every slot', async () => {
    const me = nodeId('127.0.0.1', proxy.port);
    expect(await client.call('CLUSTER', 'SLOTS')).toEqual([[0, 16383, ['127.0.0.1', proxy.port, me, []]]]);
    expect(await client.call('CLUSTER', 'MYID')).toBe(me);
    expect(await client.call('CLUSTER', 'NODES')).toBe(`${me} 127.0.0.1:${proxy.port}@${proxy.port} myself,master - 0 0 1 connected 0-16383\n`);
    expect(await client.call('CLUSTER', 'INFO')).toMatch(/^cluster_state:ok\r\ncluster_slots_assigned:16384\r\n/);
    const shards = (await client.call('CLUSTER', 'SHARDS')) as unknown[][];
    expect(shards[0].slice(0, 2)).toEqual(['slots', [0, 16383]]);
    expect(await client.call('CLUSTER', 'KEYSLOT', '{user1}:x')).toBe(slotOf('user1'));
    await client.set('counted', '1');
    expect(await client.call('CLUSTER', 'COUNTKEYSINSLOT', slotOf('counted'))).toBe(1);
    expect(await client.call('CLUSTER', 'GETKEYSINSLOT', slotOf('counted'), 10)).toEqual(['counted']);
    await expect(client.call('CLUSTER', 'COUNTKEYSINSLOT', 16384)).rejects.toThrow('ERR Invalid slot');
    await expect(client.call('CLUSTER', 'SETSLOT', 1, 'STABLE')).rejects.toThrow(/ERR slotgate: CLUSTER SETSLOT is not allowed/);
  });

  it('denies administrative commands unless admin-commands is on, then sends them to every master', async () => {
    await expect(client.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru')).rejects.toThrow(/administrative command/);
    await expect(client.call('BGSAVE')).rejects.toThrow(/administrative command/);
    expect(await client.call('CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await client.call('PROXY', 'CONFIG', 'SET', 'admin-commands', 'yes')).toBe('OK');
    try {
      expect(await client.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru')).toBe('OK');
      for (const m of masters) expect(await m.client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
      expect(await client.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')).toBe('OK');
      expect(await client.call('SLOWLOG', 'RESET')).toBe('OK');
      await expect(client.call('DEBUG', 'SLEEP', '0')).rejects.toThrow(/only DEBUG OBJECT/);
    } finally {
      expect(await client.call('PROXY', 'CONFIG', 'SET', 'admin-commands', 'no')).toBe('OK');
    }
    for (const m of masters) expect(await m.client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  });

  it('PROXY shows and changes slotgate itself', async () => {
    expect(((await client.call('PROXY', 'HELP')) as string[])[0]).toMatch(/^PROXY <subcommand>/);
    const options = (await client.call('PROXY', 'CONFIG', 'GET', '*')) as string[];
    expect(options).toContain('request-timeout');
    await expect(client.call('PROXY', 'CONFIG', 'SET', 'port', '1')).rejects.toThrow(/cannot be changed while running/);
    await expect(client.call('PROXY', 'CONFIG', 'SET', 'cross-slot', 'maybe')).rejects.toThrow(/Invalid value for 'cross-slot'/);
    await expect(client.call('PROXY', 'CONFIG', 'SET', 'nope', '1')).rejects.toThrow(/Unknown option 'nope'/);
    const description = (await client.call('PROXY', 'CLUSTER')) as string;
    for (const m of masters) expect(description).toContain(`127.0.0.1:${m.port} master slots=`);
    expect(await client.call('PROXY', 'CLUSTER', 'UPDATE')).toBe('OK');
    expect(await client.call('PROXY', 'CLIENT', 'COUNT')).toBe(proxy.clientCount);
    expect(await client.call('PROXY', 'CLIENT', 'LIST')).toMatch(/^id=\d+ addr=127\.0\.0\.1:\d+ /);
    expect(await client.call('PROXY', 'COMMAND', 'mget', 'scan')).toEqual([
      ['mget', 'split', 'ordered-array'],
      ['scan', 'cluster', expect.stringContaining('every slot')],
    ]);
  });
});

describe('a RESP3 client (raw bytes)', () => {
  let c: RawRespClient;
  const raw = async (...args: string[]) => (await c.request(args)).raw;
  /** The same command in RESP3 on a master directly. */
  const onNode = async (port: number, ...args: string[]) => {
    const n = await RawRespClient.connect(port, 3);
    try {
      return (await n.request(args)).raw;
    } finally {
      n.disconnect();
    }
  };

  beforeAll(async () => {
    c = await RawRespClient.connect(proxy.port, 3);
  });

  afterAll(() => c?.disconnect());

  beforeEach(async () => {
    expect(await raw('FLUSHALL')).toBe('+OK\r\n');
  });

  it('gets merged and whole-cluster replies in RESP3: nulls as _, the nodes element bytes kept', async () => {
    expect(await raw('RANDOMKEY')).toBe('_\r\n');
    const keys = keysOnEveryMaster('r3:', 12);
    expect(await raw('MSET', ...keys.flatMap((k, i) => [k, `v${i}`]))).toBe('+OK\r\n');
    expect(await raw('MGET', keys[0], 'r3:none', keys[1], keys[2])).toBe('*4\r\n$2\r\nv0\r\n_\r\n$2\r\nv1\r\n$2\r\nv2\r\n');
    expect(await raw('DBSIZE')).toBe(':12\r\n');
    expect(await raw('EXISTS', ...keys)).toBe(':12\r\n');
    expect(await raw('RANDOMKEY')).toMatch(/^\$\d+\r\nr3:\d+\r\n$/); // r3:0 .. r3:11
    const scan = await c.request(['SCAN', '0', 'COUNT', '100000']);
    expect(scan.raw).toMatch(/^\*2\r\n\$1\r\n0\r\n\*12\r\n/);
    expect(await raw('PUBSUB', 'NUMSUB', 'a', 'b')).toBe(await onNode(masters[0].port, 'PUBSUB', 'NUMSUB', 'a', 'b'));
    const lib = "#!lua name=r3lib\nredis.register_function('r3f', function(keys, args) return 1 end)";
    expect(await raw('FUNCTION', 'LOAD', lib)).toBe('$5\r\nr3lib\r\n');
    const list = await raw('FUNCTION', 'LIST');
    expect(list).toMatch(/^\*1\r\n%3\r\n/);
    expect(list).toBe(await onNode(masters[1].port, 'FUNCTION', 'LIST'));
    expect(await raw('FUNCTION', 'FLUSH')).toBe('+OK\r\n');
  });

  it('gets texts as verbatim strings and maps as maps, where Redis 7 sends them', async () => {
    const info = await raw('INFO');
    expect(info).toMatch(/^=\d+\r\ntxt:# Proxy\r\n/);
    expect(Number(/^=(\d+)\r\n/.exec(info)?.[1])).toBe(Buffer.byteLength(info) - info.indexOf('\n') - 3);
    expect(await raw('INFO', 'keyspace')).toBe('=16\r\ntxt:# Keyspace\r\n\r\n');
    expect(await raw('CLIENT', 'INFO')).toMatch(/^=\d+\r\ntxt:id=\d+ .* resp=3\n\r\n$/);
    expect(await raw('CLIENT', 'LIST')).toMatch(/^=\d+\r\ntxt:id=\d+ /);
    expect(await raw('CLUSTER', 'INFO')).toMatch(/^=\d+\r\ntxt:cluster_state:ok\r\n/);
    const me = nodeId('127.0.0.1', proxy.port);
    const nodes = `${me} 127.0.0.1:${proxy.port}@${proxy.port} myself,master - 0 0 1 connected 0-16383\n`;
    expect(await raw('CLUSTER', 'NODES')).toBe(`=${nodes.length + 4}\r\ntxt:${nodes}\r\n`);
    const id = `$40\r\n${me}\r\n`;
    const port = `:${proxy.port}\r\n`;
    expect(await raw('CLUSTER', 'SLOTS')).toBe(`*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n${port}${id}%0\r\n`);
    const shards = await raw('CLUSTER', 'SHARDS');
    expect(shards).toMatch(/^\*1\r\n%2\r\n\$5\r\nslots\r\n\*2\r\n:0\r\n:16383\r\n\$5\r\nnodes\r\n\*1\r\n%7\r\n\$2\r\nid\r\n/);
    expect(await raw('PROXY', 'CONFIG', 'GET', 'cross-slot')).toBe('%1\r\n$10\r\ncross-slot\r\n$5\r\nsplit\r\n');
    expect(await raw('PROXY', 'INFO')).toMatch(/^=\d+\r\ntxt:/);
    expect(await raw('CONFIG', 'GET', 'maxmemory-policy')).toBe(await onNode(masters[0].port, 'CONFIG', 'GET', 'maxmemory-policy'));
  });
});

describe('announced address', () => {
  it('reports announce-host and announce-port (a NodePort) to cluster-aware clients', async () => {
    const announced = await startTestProxy(cluster.seeds, { announceHost: 'slotgate.example', announcePort: 30079 });
    const c = new Redis({ host: '127.0.0.1', port: announced.port, protocol: 2 });
    try {
      const id = nodeId('slotgate.example', 30079);
      expect(await c.call('CLUSTER', 'SLOTS')).toEqual([[0, 16383, ['slotgate.example', 30079, id, []]]]);
      expect(await c.call('CLUSTER', 'NODES')).toMatch(/^[0-9a-f]{40} slotgate\.example:30079@30079 myself,master /);
    } finally {
      c.disconnect();
      await announced.close();
    }
  });
});
