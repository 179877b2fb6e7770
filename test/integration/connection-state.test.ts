import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { sharedClusterSeeds, readMasters, type Master } from '../helpers/cluster.js';
import { proxyClient, proxyCounter, startTestProxy } from '../helpers/proxy.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { eventually } from '../helpers/eventually.js';
import { slotOf } from '../../src/cluster/key-slot.js';
import { rawExchange } from '../helpers/raw-client.js';


/** A key (or channel) name with `prefix` whose slot `master` owns. */
function nameOwnedBy(master: Master, prefix: string): string {
  const owned = new Set(master.slots);
  for (let i = 0; i < 100_000; i++) if (owned.has(slotOf(Buffer.from(`${prefix}${i}`)))) return `${prefix}${i}`;
  throw new Error('no name found');
}

/** Node-side client ids (CLIENT LIST on every master) with the flags each connection has. */
async function nodeClients(masters: Master[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of masters) {
    for (const line of ((await m.client.call('CLIENT', 'LIST')) as string).trim().split('\n')) {
      const id = /^id=(\d+)/.exec(line)?.[1];
      const flags = / flags=(\S*)/.exec(line)?.[1] ?? '';
      if (id !== undefined) out.set(`${m.port}/${id}`, flags);
    }
  }
  return out;
}

describe.each([2, 3] as const)('connection state through slotgate (ioredis, RESP%s): transactions, blocking commands, pub/sub', (protocol) => {
  let proxy: ProxyServer;
  let client: Redis;
  let other: Redis;
  let masters: Master[];
  const prefix = `cs:${process.pid}:r${protocol}:`;
  const connect = (): Redis => proxyClient(proxy, { protocol });
  /** A raw client's first words: RESP3 clients say HELLO 3 (its reply is compared too). */
  const hello = protocol === 3 ? 'HELLO 3\r\n' : '';

  beforeAll(async () => {
    const seeds = sharedClusterSeeds();
    proxy = await startTestProxy(seeds);
    client = connect();
    other = connect();
    masters = await readMasters(Number(seeds[0].split(':')[1]));
  });

  afterAll(async () => {
    client?.disconnect();
    other?.disconnect();
    for (const m of masters ?? []) m.client.disconnect();
    await proxy?.close();
  });

  it('commits a transaction on the node of its slot', async () => {
    const t = `{${prefix}tx}`;
    const result = await client.multi().set(`${t}:a`, '1').incr(`${t}:a`).get(`${t}:a`).exec();
    expect(result).toEqual([
      [null, 'OK'],
      [null, 2],
      [null, '2'],
    ]);
    const owner = masters.find((m) => m.slots.includes(slotOf(Buffer.from(`${prefix}tx`))))!;
    expect(await owner.client.get(`${t}:a`)).toBe('2');
  });

  it('discards a transaction, and answers EXEC/DISCARD without MULTI and nested MULTI as Redis', async () => {
    const t = `{${prefix}discard}`;
    expect(await client.call('MULTI')).toBe('OK');
    expect(await client.call('SET', `${t}:a`, 'x')).toBe('QUEUED');
    await expect(client.call('MULTI')).rejects.toThrow('ERR MULTI calls can not be nested');
    expect(await client.call('DISCARD')).toBe('OK');
    expect(await client.get(`${t}:a`)).toBeNull();
    await expect(client.call('EXEC')).rejects.toThrow('ERR EXEC without MULTI');
    await expect(client.call('DISCARD')).rejects.toThrow('ERR DISCARD without MULTI');
  });

  it('aborts a transaction whose WATCHed key another client changed', async () => {
    const key = `{${prefix}watch}:k`;
    await client.set(key, '1');
    expect(await client.watch(key)).toBe('OK');
    await other.set(key, 'changed');
    expect(await client.multi().set(key, 'mine').exec()).toBeNull();
    expect(await client.get(key)).toBe('changed');
    // Unchanged: EXEC applies.
    expect(await client.watch(key)).toBe('OK');
    expect(await client.multi().set(key, 'mine').exec()).toEqual([[null, 'OK']]);
    expect(await client.get(key)).toBe('mine');
  });

  it('refuses a command of another slot inside MULTI with CROSSSLOT, then EXEC aborts', async () => {
    expect(await client.call('MULTI')).toBe('OK');
    expect(await client.call('SET', `{${prefix}a}:1`, 'x')).toBe('QUEUED');
    await expect(client.call('SET', `{${prefix}b}:1`, 'y')).rejects.toThrow(/^CROSSSLOT/);
    await expect(client.call('EXEC')).rejects.toThrow(/^EXECABORT/);
    expect(await client.get(`{${prefix}a}:1`)).toBeNull();
    // Whole-cluster commands cannot be queued either.
    expect(await client.call('MULTI')).toBe('OK');
    await expect(client.call('DBSIZE')).rejects.toThrow(/cannot be queued in a transaction/);
    await expect(client.call('EXEC')).rejects.toThrow(/^EXECABORT/);
  });

  it('runs a transaction of keyless commands, and keyless commands queued before the first key', async () => {
    expect(await client.multi().ping().echo('hi').exec()).toEqual([
      [null, 'PONG'],
      [null, 'hi'],
    ]);
    const key = `${prefix}late-key`;
    expect(await client.multi().ping().set(key, 'v').get(key).exec()).toEqual([
      [null, 'PONG'],
      [null, 'OK'],
      [null, 'v'],
    ]);
  });

  it('keeps pipeline order around a transaction: earlier and later requests on shared links', async () => {
    const key = `{${prefix}order}:k`;
    const results = await client.pipeline().set(key, 'before').multi().append(key, '+tx').exec().get(key).exec();
    expect(results?.map((r) => r[1])).toEqual(['OK', 'OK', 'QUEUED', [9], 'before+tx']);
  });

  it('wakes a BLPOP with an LPUSH from another client, and honours a BLPOP timeout', async () => {
    const key = `${prefix}queue`;
    const blocked = client.blpop(key, 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(await other.lpush(key, 'job')).toBe(1);
    expect(await blocked).toEqual([key, 'job']);
    const started = Date.now();
    expect(await client.blpop(`${prefix}empty`, 0.2)).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await expect(client.blpop(`{${prefix}x}a`, `{${prefix}y}b`, 1)).rejects.toThrow(/^CROSSSLOT/);
  });

  it('keeps 200 clients blocked at once while other traffic flows, then wakes them all', async () => {
    const clients = Array.from({ length: 200 }, () => connect());
    try {
      const waits = clients.map((c, i) => c.blpop(`${prefix}many:${i}`, 0));
      await eventually(async () => (await proxyCounter(other, 'private_links_lent')) >= 200);
      // Shared links are not blocked: other clients get answers at once.
      for (let i = 0; i < 50; i++) expect(await other.set(`${prefix}free:${i}`, 'x')).toBe('OK');
      expect(await other.mget(`${prefix}free:1`, `${prefix}free:2`)).toEqual(['x', 'x']);
      for (let i = 0; i < 200; i++) await other.lpush(`${prefix}many:${i}`, `v${i}`);
      const got = await Promise.all(waits);
      got.forEach((g, i) => expect(g).toEqual([`${prefix}many:${i}`, `v${i}`]));
    } finally {
      for (const c of clients) c.disconnect();
    }
    await eventually(async () => (await proxyCounter(other, 'private_links_lent')) === 0);
  });

  it('runs the client\'s later requests only after its blocking command is answered', async () => {
    const key = `${prefix}after-block`;
    const pending = client.pipeline().blpop(key, 0.3).set(key, 'late').exec();
    await new Promise((r) => setTimeout(r, 100));
    // If SET had overtaken BLPOP, the key would hold a string now.
    expect(await other.type(key)).toBe('none');
    expect((await pending)?.map((r) => r[1])).toEqual([null, 'OK']);
  });

  it('delivers messages to 100 subscribers and pattern subscribers from a publisher on another connection', async () => {
    const channel = `${prefix}news`;
    const subscribers = Array.from({ length: 100 }, () => connect());
    const patterned = connect();
    try {
      const received = subscribers.map(() => [] as string[]);
      await Promise.all(
        subscribers.map(async (s, i) => {
          s.on('message', (_ch: string, message: string) => received[i].push(message));
          await s.subscribe(channel);
        }),
      );
      const byPattern: string[] = [];
      patterned.on('pmessage', (_p: string, ch: string, message: string) => byPattern.push(`${ch}=${message}`));
      await patterned.psubscribe(`${prefix}ne*`);
      // As on one server, PUBLISH counts every receiver: slotgate keeps its subscriptions on the
      // master PUBLISH goes to (in Redis Cluster it counts the receivers of its own node only).
      expect(await other.publish(channel, 'hello')).toBe(101);
      expect(await other.publish(channel, 'again')).toBe(101);
      await eventually(async () => received.every((r) => r.length === 2) && byPattern.length === 2);
      expect(received.every((r) => r.join() === 'hello,again')).toBe(true);
      expect(byPattern).toEqual([`${channel}=hello`, `${channel}=again`]);
      expect(await other.call('PUBSUB', 'NUMSUB', channel)).toEqual([channel, 100]);
    } finally {
      for (const s of subscribers) s.disconnect();
      patterned.disconnect();
    }
  });

  it('delivers sharded messages on channels in all three shards, and leaves subscribed mode after the last unsubscribe', async () => {
    const channels = masters.map((m, i) => nameOwnedBy(m, `${prefix}shard${i}:`));
    const raw = await rawExchange(
      proxy.port,
      [
        hello,
        ...channels.map((ch) => `SSUBSCRIBE ${ch}\r\n`),
        'PING\r\n',
        'GET x\r\n',
      ],
      { quietMs: 300 },
    );
    // Each confirmation counts the shard channels of the whole client, as one server would; the
    // three shards answer in any order.
    const text = raw.data.toString();
    const counts = [...text.matchAll(/\$10\r\nssubscribe\r\n\$\d+\r\n([^\r]+)\r\n:(\d+)\r\n/g)];
    expect(counts.map((m) => m[1]).sort()).toEqual([...channels].sort());
    expect(counts.map((m) => m[2])).toEqual(['1', '2', '3']);
    // RESP2 subscribed mode refuses GET, as Redis does; a RESP3 client may send it.
    if (protocol === 2) expect(text).toContain("-ERR Can't execute 'get'");
    else expect(text.endsWith('+PONG\r\n_\r\n')).toBe(true);

    const subscriber = connect();
    const got: string[] = [];
    subscriber.on('smessage', (ch: string, message: string) => got.push(`${ch}=${message}`));
    for (const ch of channels) await subscriber.ssubscribe(ch);
    for (const ch of channels) expect(await other.spublish(ch, `to-${ch}`)).toBe(1);
    await eventually(async () => got.length === 3);
    expect(got.sort()).toEqual(channels.map((ch) => `${ch}=to-${ch}`).sort());
    for (const ch of channels) await subscriber.sunsubscribe(ch);
    expect(await subscriber.set(`${prefix}after-unsub`, 'ok')).toBe('OK');
    subscriber.disconnect();
  });

  it('gives the same replies as a Redis node when a pipeline subscribes, unsubscribes and goes on', async () => {
    // Against the node slotgate keeps subscriptions on (the master of slot 0): an UNSUBSCRIBE of
    // everything lists the channels in the order of that process' hash table.
    const node = masters.find((m) => m.slots.includes(0))!;
    const key = nameOwnedBy(node, `${prefix}k`);
    await client.del(key);
    const pipeline = [
      `SET ${key} v1`, `SUBSCRIBE ${prefix}a ${prefix}b`, 'PING', `GET ${key}`, 'UNSUBSCRIBE', `GET ${key}`,
      `PSUBSCRIBE ${prefix}p*`, `PUNSUBSCRIBE ${prefix}p*`, `SET ${key} v2`, `SUBSCRIBE ${prefix}c`, 'RESET', `GET ${key}`,
    ].map((c) => `${c}\r\n`).join('');
    const viaProxy = await rawExchange(proxy.port, [hello + pipeline], { quietMs: 1000 });
    await client.del(key);
    const direct = await rawExchange(node.port, [hello + pipeline], { quietMs: 1000 });
    // HELLO's reply names the server's id and version: compare from the first reply after it.
    const afterHello = (text: string): string => (protocol === 3 ? text.slice(text.indexOf('+OK\r\n')) : text);
    expect(afterHello(viaProxy.data.toString())).toBe(afterHello(direct.data.toString()));
    expect(viaProxy.data.toString().endsWith('+RESET\r\n$2\r\nv2\r\n')).toBe(true);
  });

  it('answers QUIT in subscribed mode after the confirmations, then closes, as a node does', async () => {
    const node = masters.find((m) => m.slots.includes(0))!;
    const script = `${hello}SUBSCRIBE ${prefix}q1 ${prefix}q2\r\nQUIT\r\nPING\r\n`;
    const viaProxy = await rawExchange(proxy.port, [script], { quietMs: 1000 });
    const direct = await rawExchange(node.port, [script], { quietMs: 1000 });
    const afterHello = (text: string): string => (protocol === 3 ? text.slice(text.indexOf('>3')) : text);
    expect(afterHello(viaProxy.data.toString())).toBe(afterHello(direct.data.toString()));
    expect(viaProxy.data.toString().endsWith(':2\r\n+OK\r\n')).toBe(true);
    expect(viaProxy.closedByServer).toBe(true);
  });

  it('honours CLIENT REPLY OFF, SKIP and ON as a Redis node does', async () => {
    const key = nameOwnedBy(masters[1], `${prefix}reply`);
    const script = ['CLIENT REPLY OFF', `SET ${key} 1`, `GET ${key}`, 'CLIENT REPLY ON', `GET ${key}`, 'CLIENT REPLY SKIP', `SET ${key} 2`, `GET ${key}`, 'CLIENT REPLY maybe']
      .map((c) => `${c}\r\n`)
      .join('');
    const viaProxy = await rawExchange(proxy.port, [script]);
    const direct = await rawExchange(masters[1].port, [script]);
    expect(viaProxy.data.toString()).toBe('+OK\r\n$1\r\n1\r\n$1\r\n2\r\n-ERR syntax error\r\n');
    expect(viaProxy.data.toString()).toBe(direct.data.toString());
  });

  it.each(['disconnects', 'is killed with CLIENT KILL'] as const)(
    'leaves no node connection behind when a client %s while blocked, subscribed or inside MULTI',
    async (how) => {
      expect(await proxyCounter(other, 'private_links_lent')).toBe(0);
      const dirtyBefore = await proxyCounter(other, 'private_links_closed_dirty');
      const before = await nodeClients(masters);
      const victims = [connect(), connect(), connect()];
      for (const v of victims) v.on('error', () => {});
      const ids = await Promise.all(victims.map(async (v) => String(await v.call('CLIENT', 'ID'))));
      void victims[0].blpop(`${prefix}never`, 0).catch(() => {});
      await victims[1].subscribe(`${prefix}gone`);
      await victims[2].call('MULTI');
      await victims[2].call('SET', `${prefix}in-multi`, 'x');
      await eventually(async () => (await proxyCounter(other, 'private_links_lent')) === 3);
      // The node connections now blocked (b), subscribed (P) or inside MULTI (x) that were not
      // before: the three lent links (often idle pool links until now; other tests share these
      // nodes, so only these count).
      let held: string[] = [];
      await eventually(async () => {
        const now = await nodeClients(masters);
        held = [...now].filter(([id, flags]) => /[bPx]/.test(flags) && !/[bPx]/.test(before.get(id) ?? '')).map(([id]) => id);
        return held.length >= 3;
      });
      if (how === 'disconnects') {
        for (const v of victims) v.disconnect();
      } else {
        await other.call('PROXY', 'CONFIG', 'SET', 'admin-commands', 'yes');
        try {
          for (const id of ids) expect(await other.call('CLIENT', 'KILL', 'ID', id)).toBe(1);
        } finally {
          await other.call('PROXY', 'CONFIG', 'SET', 'admin-commands', 'no');
          for (const v of victims) v.disconnect();
        }
      }
      await eventually(async () => (await proxyCounter(other, 'private_links_lent')) === 0);
      expect((await proxyCounter(other, 'private_links_closed_dirty')) - dirtyBefore).toBe(3);
      // The node connections they used are closed.
      await eventually(async () => {
        const now = await nodeClients(masters);
        return held.every((id) => !now.has(id));
      });
      expect(await other.get(`${prefix}in-multi`)).toBeNull();
    },
  );
});
