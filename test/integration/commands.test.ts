import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { Redis, type Cluster } from 'ioredis';
import { slotOf } from '../../src/cluster/key-slot.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { CLIENT_MODES, proxyClient, startTestProxy } from '../helpers/proxy.js';

let proxy: ProxyServer;

beforeAll(async () => {
  proxy = await startTestProxy(inject('clusterSeeds'));
});

afterAll(async () => {
  await proxy.close();
});

// The same tests with a plain client and with a cluster-mode client that was given only
// slotgate's address (slotgate presents itself as a one-node cluster).
describe.each(CLIENT_MODES)('through slotgate (ioredis, $mode mode)', ({ mode, connect }) => {
  let client: Redis | Cluster;
  const prefix = `cmd:${process.pid}:${mode}:`;

  beforeAll(() => {
    client = connect(proxy);
  });

  afterAll(() => {
    client.disconnect();
  });

  describe('data types', () => {
    it('strings, INCR and expiry', async () => {
      const k = `${prefix}str`;
      expect(await client.set(k, 'hello')).toBe('OK');
      expect(await client.get(k)).toBe('hello');
      expect(await client.append(k, ' world')).toBe(11);
      expect(await client.getrange(k, 0, 4)).toBe('hello');
      expect(await client.incr(`${prefix}counter`)).toBe(1);
      expect(await client.incrby(`${prefix}counter`, 41)).toBe(42);
      expect(await client.set(`${prefix}ttl`, 'v', 'EX', 100)).toBe('OK');
      const ttl = await client.ttl(`${prefix}ttl`);
      expect(ttl).toBeGreaterThan(90);
      expect(await client.pexpire(`${prefix}ttl`, 50)).toBe(1);
      await new Promise((r) => setTimeout(r, 120));
      expect(await client.exists(`${prefix}ttl`)).toBe(0);
      expect(await client.get(`${prefix}missing`)).toBeNull();
    });

    it('hashes, lists, sets and sorted sets', async () => {
      const h = `${prefix}hash`;
      expect(await client.hset(h, 'a', '1', 'b', '2')).toBe(2);
      expect(await client.hgetall(h)).toEqual({ a: '1', b: '2' });
      expect(await client.hincrby(h, 'a', 5)).toBe(6);
      const l = `${prefix}list`;
      expect(await client.rpush(l, 'x', 'y', 'z')).toBe(3);
      expect(await client.lrange(l, 0, -1)).toEqual(['x', 'y', 'z']);
      expect(await client.lpop(l)).toBe('x');
      const s = `${prefix}set`;
      expect(await client.sadd(s, 'm1', 'm2', 'm2')).toBe(2);
      expect((await client.smembers(s)).sort()).toEqual(['m1', 'm2']);
      const z = `${prefix}zset`;
      expect(await client.zadd(z, 1, 'one', 2, 'two', 3, 'three')).toBe(3);
      expect(await client.zrange(z, 0, -1, 'WITHSCORES')).toEqual(['one', '1', 'two', '2', 'three', '3']);
      expect(await client.zincrby(z, 10, 'one')).toBe('11');
      expect(await client.type(z)).toBe('zset');
    });

    it('is binary safe: every byte value, empty, 1 MB and 10 MB values', async () => {
      const every = Buffer.alloc(256 * 4);
      for (let i = 0; i < every.length; i++) every[i] = i % 256;
      const binaryKey = Buffer.from([0, 13, 10, 255, 0x7b, 0x7d, 36, 42]);
      await client.set(binaryKey, every);
      expect(Buffer.compare((await client.getBuffer(binaryKey)) as Buffer, every)).toBe(0);
      await client.set(`${prefix}empty`, '');
      expect(await client.get(`${prefix}empty`)).toBe('');
      for (const size of [1024 * 1024, 10 * 1024 * 1024]) {
        const value = Buffer.alloc(size);
        for (let i = 0; i < size; i += 4096) value[i] = (i / 4096) % 256;
        value[size - 1] = 0xab;
        await client.set(`${prefix}big:${size}`, value);
        const back = (await client.getBuffer(`${prefix}big:${size}`)) as Buffer;
        expect(back.length).toBe(size);
        expect(back.equals(value)).toBe(true);
        expect(await client.strlen(`${prefix}big:${size}`)).toBe(size);
      }
    });

    it('keeps large (written from their own buffer) and small requests of several clients in order', async () => {
      // Requests of 16 KB and more go to the node from the buffer they were joined in, between
      // the small ones copied to the link's output: the order on the link must hold either way.
      const clients = Array.from({ length: 6 }, () => connect(proxy));
      try {
        const sizes = [20_000, 100_000, 40, 300_000, 16_384, 5];
        const valueOf = (c: number, i: number): Buffer => {
          const value = Buffer.alloc(sizes[(c + i) % sizes.length], 97 + ((c * 7 + i) % 26));
          value.write(`${c}:${i}:`, 0, 'latin1');
          return value;
        };
        await Promise.all(
          clients.map(async (c, ci) => {
            const pipeline = c.pipeline();
            for (let i = 0; i < 24; i++) {
              pipeline.set(`${prefix}mixed:${ci}:${i}`, valueOf(ci, i));
              pipeline.incr(`${prefix}mixed:${ci}:count`);
            }
            const replies = (await pipeline.exec()) as [Error | null, unknown][];
            expect(replies.map(([, r]) => r)).toEqual(Array.from({ length: 24 }, (_, i) => ['OK', i + 1]).flat());
          }),
        );
        for (const [ci, c] of clients.entries()) {
          for (let i = 0; i < 24; i++) {
            const back = (await c.getBuffer(`${prefix}mixed:${ci}:${i}`)) as Buffer;
            expect(back.equals(valueOf(ci, i)), `client ${ci} request ${i}`).toBe(true);
          }
        }
      } finally {
        for (const c of clients) c.disconnect();
      }
    });

    it('answers a pipeline of 10,000 mixed commands over all masters in order', async () => {
      const masters = new Set<number>();
      const pipeline = client.pipeline();
      const expected: unknown[] = [];
      for (let i = 0; i < 10_000; i++) {
        const group = Math.floor(i / 4);
        const key = `${prefix}pipe:${group}`;
        masters.add(Math.floor(slotOf(key) / 5462));
        switch (i % 4) {
          case 0:
            pipeline.set(key, `v${i}`);
            expected.push('OK');
            break;
          case 1:
            pipeline.get(key);
            expected.push(`v${i - 1}`);
            break;
          case 2:
            pipeline.incr(`${prefix}pipe:n:${group}`);
            expected.push(1);
            break;
          default:
            pipeline.strlen(key);
            expected.push(`v${i - 3}`.length);
        }
      }
      expect(masters.size).toBe(3);
      const results = await pipeline.exec();
      expect(results?.map(([err, value]) => err ?? value)).toEqual(expected);
    });

    it('serves 200 concurrent clients, each with its own pipeline', async () => {
      const clients = Array.from({ length: 200 }, () => connect(proxy));
      try {
        await Promise.all(
          clients.map(async (c, n) => {
            const p = c.pipeline();
            for (let i = 0; i < 50; i++) p.set(`${prefix}c${n}:${i}`, `${n}-${i}`).get(`${prefix}c${n}:${i}`);
            const results = await p.exec();
            for (let i = 0; i < 50; i++) {
              expect(results?.[i * 2]).toEqual([null, 'OK']);
              expect(results?.[i * 2 + 1]).toEqual([null, `${n}-${i}`]);
            }
          }),
        );
      } finally {
        for (const c of clients) c.disconnect();
      }
    });

    it('runs same-slot multi-key commands with hash tags and refuses cross-slot ones that cannot be split', async () => {
      const t = `{${prefix}tag}`;
      expect(await client.mset(`${t}:a`, '1', `${t}:b`, '2')).toBe('OK');
      expect(await client.mget(`${t}:a`, `${t}:b`, `${t}:c`)).toEqual(['1', '2', null]);
      expect(await client.sadd(`${t}:s1`, 'a', 'b')).toBe(2);
      expect(await client.sadd(`${t}:s2`, 'b', 'c')).toBe(2);
      expect(await client.sinterstore(`${t}:s3`, `${t}:s1`, `${t}:s2`)).toBe(1);
      expect(await client.rename(`${t}:a`, `${t}:renamed`)).toBe('OK');
      expect(await client.eval("return redis.call('GET', KEYS[1])", 1, `${t}:renamed`)).toBe('1');
      expect(await client.del(`${t}:renamed`, `${t}:b`)).toBe(2);
      await expect(client.msetnx('cross:a', '1', 'cross:b', '2')).rejects.toThrow(/^CROSSSLOT Keys in request don't hash to the same slot/);
      await expect(client.rename('cross:a', 'cross:b')).rejects.toThrow(/^CROSSSLOT/);
      await expect(client.eval('return 1', 2, 'cross:a', 'cross:b')).rejects.toThrow(/^CROSSSLOT/);
    });
  });

  describe('commands slotgate answers itself', () => {
    it('PING, ECHO, SELECT, CLIENT names, READONLY, ASKING', async () => {
      expect(await client.ping()).toBe('PONG');
      expect(await client.ping('hi')).toBe('hi');
      expect(await client.echo('echo me')).toBe('echo me');
      expect(await client.select(0)).toBe('OK');
      await expect(client.select(1)).rejects.toThrow('ERR SELECT is not allowed in cluster mode');
      expect(await client.client('SETNAME', 'tester')).toBe('OK');
      expect(await client.client('GETNAME')).toBe('tester');
      await expect(client.client('SETNAME', 'bad name')).rejects.toThrow(/Client names cannot contain spaces/);
      expect(typeof (await client.client('ID'))).toBe('number');
      expect(await client.call('READONLY')).toBe('OK');
      expect(await client.call('ASKING')).toBe('OK');
    });

    it("gives Redis' errors for unknown commands, subcommands and wrong arity", async () => {
      await expect(client.call('NOSUCHCMD', 'a', 'b')).rejects.toThrow(
        "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ",
      );
      await expect(client.call('GET', 'a', 'b')).rejects.toThrow("ERR wrong number of arguments for 'get' command");
      await expect(client.call('OBJECT', 'NOPE', 'k')).rejects.toThrow("ERR unknown subcommand 'NOPE'. Try OBJECT HELP.");
    });

    it('refuses what is tied to a shared node connection or would act on a node', async () => {
      await expect(client.call('WAIT', '1', '0')).rejects.toThrow(/ERR slotgate: WAIT is tied to a node connection slotgate shares/);
      await expect(client.call('CLIENT', 'TRACKING', 'on')).rejects.toThrow(/ERR slotgate: CLIENT TRACKING is tied to a node connection/);
      await expect(client.call('SHUTDOWN')).rejects.toThrow(/ERR slotgate: SHUTDOWN is not allowed/);
      await expect(client.call('CLIENT', 'PAUSE', '10')).rejects.toThrow(/ERR slotgate: CLIENT PAUSE is not allowed/);
      expect(await client.call('XREAD', 'COUNT', '1', 'STREAMS', `${prefix}stream`, '0')).toBeNull();
    });

    it('passes COMMAND subcommands to a node', async () => {
      expect(await client.call('COMMAND', 'COUNT')).toBeGreaterThan(200);
      const keys = await client.call('COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b', '2');
      expect(keys).toEqual(['a', 'b']);
    });

  });
});

describe('plain mode only', () => {
  let client: Redis;

  beforeAll(() => {
    client = proxyClient(proxy);
  });

  afterAll(() => {
    client.disconnect();
  });

  it('HELLO 2 describes the server (RESP3: test/integration/resp3.test.ts)', async () => {
    const reply = (await client.call('HELLO', '2')) as unknown[];
    expect(reply[0]).toBe('server');
    expect(reply).toContain('proto');
    expect(reply[reply.indexOf('proto') + 1]).toBe(2);
    expect(reply[reply.indexOf('version') + 1]).toMatch(/^7\./);
  });
});

describe('proxy password', () => {
  const prefix = `cmd:${process.pid}:auth:`;
  it('requires AUTH before anything else and checks the password', async () => {
    const guarded = await startTestProxy(inject('clusterSeeds'), { requirepass: 's3cret' });
    // No ready check: its INFO would meet NOAUTH, as with a real password-protected Redis.
    const c = new Redis({ host: '127.0.0.1', port: guarded.port, protocol: 2, maxRetriesPerRequest: 0, lazyConnect: true, enableReadyCheck: false });
    try {
      await c.connect();
      await expect(c.get('x')).rejects.toThrow('NOAUTH Authentication required.');
      await expect(c.auth('wrong')).rejects.toThrow('WRONGPASS invalid username-password pair or user is disabled.');
      expect(await c.auth('s3cret')).toBe('OK');
      expect(await c.set(`${prefix}authed`, '1')).toBe('OK');
      const viaHello = new Redis({ host: '127.0.0.1', port: guarded.port, password: 's3cret', maxRetriesPerRequest: 0 });
      expect(await viaHello.get(`${prefix}authed`)).toBe('1');
      viaHello.disconnect();
    } finally {
      c.disconnect();
      await guarded.close();
    }
  });
});
