import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { slotOf } from '../../src/cluster/key-slot.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { RawRespClient } from '../helpers/raw-resp-client.js';
import { readMasters, type Master } from '../helpers/cluster.js';

// HELLO 3 and RESP3 clients, checked byte for byte: what slotgate builds against Redis 7.0's
// bytes (written out here, as captured from redis-server 7.0.15), what nodes answer against the
// same command sent in RESP3 to the node that owns the key.

let proxy: ProxyServer;
let masters: Master[];
let version: string;
const prefix = `resp3:${process.pid}:`;

beforeAll(async () => {
  proxy = await startTestProxy(inject('clusterSeeds'));
  masters = await readMasters(Number(inject('clusterSeeds')[0].split(':')[1]));
  version = String(((await masters[0].client.call('HELLO', '2')) as unknown[])[3]);
});

afterAll(async () => {
  for (const m of masters ?? []) m.client.disconnect();
  await proxy?.close();
});

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

/** HELLO's reply as Redis 7.0 encodes it for a client of `protocol`. */
function helloBytes(protocol: 2 | 3, id: number): string {
  const pairs = [
    bulk('server') + bulk('redis'),
    bulk('version') + bulk(version),
    bulk('proto') + `:${protocol}\r\n`,
    bulk('id') + `:${id}\r\n`,
    bulk('mode') + bulk('standalone'),
    bulk('role') + bulk('master'),
    bulk('modules') + '*0\r\n',
  ];
  return (protocol === 3 ? '%7\r\n' : '*14\r\n') + pairs.join('');
}

async function clientId(c: RawRespClient): Promise<number> {
  return Number(await c.call('CLIENT', 'ID'));
}

describe('HELLO and the client protocol', () => {
  it('HELLO 3 switches to RESP3 with the map Redis 7 sends; HELLO alone answers in the current protocol; HELLO 2 switches back', async () => {
    const c = await RawRespClient.connect(proxy.port, 2);
    try {
      const id = await clientId(c);
      expect((await c.request(['GET', `${prefix}missing`])).raw).toBe('$-1\r\n');
      expect((await c.request(['HELLO'])).raw).toBe(helloBytes(2, id));
      expect((await c.request(['HELLO', '3'])).raw).toBe(helloBytes(3, id));
      expect((await c.request(['GET', `${prefix}missing`])).raw).toBe('_\r\n');
      expect((await c.request(['HELLO'])).raw).toBe(helloBytes(3, id));
      expect((await c.request(['HELLO', '2'])).raw).toBe(helloBytes(2, id));
      expect((await c.request(['GET', `${prefix}missing`])).raw).toBe('$-1\r\n');
    } finally {
      c.disconnect();
    }
  });

  it.each([
    ['4', '-NOPROTO unsupported protocol version\r\n'],
    ['1', '-NOPROTO unsupported protocol version\r\n'],
    ['0', '-NOPROTO unsupported protocol version\r\n'],
    ['-3', '-NOPROTO unsupported protocol version\r\n'],
    ['03', '-ERR Protocol version is not an integer or out of range\r\n'],
    ['-0', '-ERR Protocol version is not an integer or out of range\r\n'],
    ['3.0', '-ERR Protocol version is not an integer or out of range\r\n'],
    ['x', '-ERR Protocol version is not an integer or out of range\r\n'],
    ['99999999999999999999', '-ERR Protocol version is not an integer or out of range\r\n'],
  ])("HELLO %s gives Redis' error and leaves the protocol as it was", async (given, error) => {
    const c = await RawRespClient.connect(proxy.port, 3);
    try {
      expect((await c.request(['HELLO', given])).raw).toBe(error);
      expect((await c.request(['GET', `${prefix}missing`])).raw).toBe('_\r\n');
    } finally {
      c.disconnect();
    }
  });

  it('HELLO 3 SETNAME names the client; a bad option or name is refused without switching', async () => {
    const c = await RawRespClient.connect(proxy.port, 2);
    try {
      expect((await c.request(['HELLO', '3', 'SETNAME', 'bad name'])).raw).toBe(
        '-ERR Client names cannot contain spaces, newlines or special characters.\r\n',
      );
      expect((await c.request(['HELLO', '3', 'SETNAME'])).raw).toBe("-ERR Syntax error in HELLO option 'SETNAME'\r\n");
      expect((await c.request(['CLIENT', 'GETNAME'])).raw).toBe('$-1\r\n');
      expect((await c.request(['HELLO', '3', 'SETNAME', 'app'])).raw).toMatch(/^%7\r\n/);
      expect((await c.request(['CLIENT', 'GETNAME'])).raw).toBe(bulk('app'));
      expect((await c.request(['CLIENT', 'SETNAME', ''])).raw).toBe('+OK\r\n');
      expect((await c.request(['CLIENT', 'GETNAME'])).raw).toBe('_\r\n');
    } finally {
      c.disconnect();
    }
  });

  it('RESET returns the client to RESP2, as Redis does', async () => {
    const c = await RawRespClient.connect(proxy.port, 3);
    try {
      expect((await c.request(['GET', `${prefix}missing`])).raw).toBe('_\r\n');
      expect((await c.request(['RESET'])).raw).toBe('+RESET\r\n');
      expect((await c.request(['GET', `${prefix}missing`])).raw).toBe('$-1\r\n');
      expect((await c.request(['MGET', `${prefix}a`, `${prefix}b`])).raw).toBe('*2\r\n$-1\r\n$-1\r\n');
    } finally {
      c.disconnect();
    }
  });

  it('a pipeline that switches protocol midway: each reply in the protocol its request was read in, nothing lost or reordered', async () => {
    const c = await RawRespClient.connect(proxy.port, 2);
    try {
      const keys = Array.from({ length: 40 }, (_, i) => `${prefix}switch:${i}`);
      const replies = await Promise.all([
        ...keys.map((k, i) => c.request(['SET', k, String(i)])),
        ...keys.map((k) => c.request(['GET', `${k}:missing`])),
        c.request(['HELLO', '3']),
        ...keys.map((k) => c.request(['GET', `${k}:missing`])),
        ...keys.map((k) => c.request(['GET', k])),
        c.request(['HELLO', '2']),
        ...keys.map((k) => c.request(['GET', `${k}:missing`])),
      ]);
      const raw = replies.map((r) => r.raw);
      const n = keys.length;
      expect(raw.slice(0, n).every((r) => r === '+OK\r\n')).toBe(true);
      expect(raw.slice(n, 2 * n).every((r) => r === '$-1\r\n')).toBe(true);
      expect(raw[2 * n]).toMatch(/^%7\r\n/);
      expect(raw.slice(2 * n + 1, 3 * n + 1).every((r) => r === '_\r\n')).toBe(true);
      expect(raw.slice(3 * n + 1, 4 * n + 1)).toEqual(keys.map((_, i) => bulk(String(i))));
      expect(raw[4 * n + 1]).toMatch(/^\*14\r\n/);
      expect(raw.slice(4 * n + 2).every((r) => r === '$-1\r\n')).toBe(true);
    } finally {
      c.disconnect();
    }
  });
});

describe('ioredis with protocol 3', () => {
  it('is a RESP3 client of slotgate (the plain-resp3 client mode of the other tests)', async () => {
    const c = proxyClient(proxy, { protocol: 3 });
    try {
      expect(String(await c.call('CLIENT', 'INFO'))).toMatch(/ resp=3\n$/);
    } finally {
      c.disconnect();
    }
  });
});

describe('RESP3 node links', () => {
  it('are opened only once a RESP3 client sends something, and then carry its requests', async () => {
    const own = await startTestProxy(inject('clusterSeeds'));
    const r2 = await RawRespClient.connect(own.port, 2);
    try {
      for (let i = 0; i < 30; i++) expect((await r2.request(['SET', `${prefix}lazy:${i}`, 'v'])).raw).toBe('+OK\r\n');
      const before = String(await r2.call('PROXY', 'CLUSTER'));
      expect(before).not.toContain('resp3');
      expect(before).toContain('links=ready');
      const r3 = await RawRespClient.connect(own.port, 3);
      try {
        for (let i = 0; i < 30; i++) expect((await r3.request(['GET', `${prefix}lazy:${i}`])).raw).toBe(bulk('v'));
        expect(String(await r3.call('PROXY', 'CLUSTER'))).toContain('ready(resp3)');
      } finally {
        r3.disconnect();
      }
    } finally {
      r2.disconnect();
      await own.close();
    }
  });

  it('pass node replies through in RESP3, byte for byte as the node sends them (map, set, double, null, verbatim)', async () => {
    const key = (name: string) => `${prefix}types:${name}`;
    const owner = async (k: string) => {
      const m = masters.find((x) => x.slots.includes(slotOf(k)));
      if (m === undefined) throw new Error(`no owner for ${k}`);
      return RawRespClient.connect(m.port, 3);
    };
    const commands: string[][] = [
      ['HSET', key('h'), 'f1', 'v1', 'f2', 'v2'],
      ['HGETALL', key('h')],
      ['SADD', key('s'), 'm'],
      ['SMEMBERS', key('s')],
      ['ZADD', key('z'), '1.5', 'a'],
      ['ZSCORE', key('z'), 'a'],
      ['ZRANGE', key('z'), '0', '-1', 'WITHSCORES'],
      ['ZSCORE', key('z'), 'none'],
      ['INCRBYFLOAT', key('f'), '0.25'],
      ['OBJECT', 'ENCODING', key('h')],
      ['EVAL', "redis.setresp(3); return redis.call('HGETALL', KEYS[1])", '1', key('h')],
      ['EVAL', 'redis.setresp(3); return {double=3.5}', '1', key('h')],
      ['EVAL', 'redis.setresp(3); return true', '1', key('h')],
      ['EVAL', "redis.setresp(3); return {big_number='123456789012345678901234567890'}", '1', key('h')],
    ];
    const c = await RawRespClient.connect(proxy.port, 3);
    try {
      for (const cmd of commands) {
        const viaProxy = await c.request(cmd);
        const node = await owner(cmd[0] === 'EVAL' ? cmd[3] : cmd[cmd[0] === 'OBJECT' ? 2 : 1]);
        try {
          // Read-only commands are compared with the node's own answer; the writes (already done) by type.
          const direct = /^(HSET|SADD|ZADD|INCRBYFLOAT)$/.test(cmd[0]) ? null : await node.request(cmd);
          if (direct !== null) expect(viaProxy.raw, cmd.join(' ')).toBe(direct.raw);
        } finally {
          node.disconnect();
        }
      }
      expect((await c.request(['HGETALL', key('h')])).raw).toMatch(/^%2\r\n/);
      expect((await c.request(['SMEMBERS', key('s')])).raw).toBe('~1\r\n$1\r\nm\r\n');
      expect((await c.request(['ZSCORE', key('z'), 'a'])).raw).toBe(',1.5\r\n');
      expect((await c.request(['EVAL', 'redis.setresp(3); return true', '0'])).raw).toBe('#t\r\n');
    } finally {
      c.disconnect();
    }
  });
});

describe('HELLO 3 with a proxy password', () => {
  it('authenticates with AUTH inside HELLO 3, with the same checks as HELLO 2', async () => {
    const guarded = await startTestProxy(inject('clusterSeeds'), { requirepass: 's3cret' });
    const c = await RawRespClient.connect(guarded.port, 2);
    try {
      expect((await c.request(['HELLO', '3'])).raw).toBe(
        '-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option ' +
          'can be used to authenticate the client and select the RESP protocol version at the same time\r\n',
      );
      expect((await c.request(['HELLO', '3', 'AUTH', 'default', 'wrong'])).raw).toBe(
        '-WRONGPASS invalid username-password pair or user is disabled.\r\n',
      );
      expect((await c.request(['GET', `${prefix}x`])).raw).toBe('-NOAUTH Authentication required.\r\n');
      // As Redis 7.0: the credentials are checked (and taken) before a bad name stops the switch.
      expect((await c.request(['HELLO', '3', 'AUTH', 'default', 's3cret', 'SETNAME', 'bad name'])).raw).toBe(
        '-ERR Client names cannot contain spaces, newlines or special characters.\r\n',
      );
      expect((await c.request(['GET', `${prefix}x`])).raw).toBe('$-1\r\n');
      expect((await c.request(['HELLO', '3', 'AUTH', 'default', 's3cret', 'SETNAME', 'guarded'])).raw).toBe(helloBytes(3, await clientId(c)));
      expect((await c.request(['GET', `${prefix}x`])).raw).toBe('_\r\n');
      expect((await c.request(['CLIENT', 'GETNAME'])).raw).toBe(bulk('guarded'));
    } finally {
      c.disconnect();
      await guarded.close();
    }
  });
});
