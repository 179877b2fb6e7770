import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { rawExchange } from '../helpers/raw-client.js';

let proxy: ProxyServer;
const p = `proto${process.pid}`;

beforeAll(async () => {
  proxy = await startTestProxy(inject('clusterSeeds'), { protoMaxBulkLen: 1024 * 1024, clientQueryBufferLimit: 4 * 1024 * 1024 });
});

afterAll(async () => {
  await proxy.close();
});

describe('the RESP front door', () => {
  it('accepts inline commands, with quotes, mixed with multibulk', async () => {
    const { data } = await rawExchange(proxy.port, [
      `SET ${p}:inline "hello world"\r\nGET ${p}:inline\r\n*2\r\n$3\r\nGET\r\n$${p.length + 7}\r\n${p}:inline\r\nPING\n\r\n`,
    ]);
    expect(data.toString()).toBe('+OK\r\n$11\r\nhello world\r\n$11\r\nhello world\r\n+PONG\r\n');
  });

  it('reassembles requests split across TCP segments at awkward places', async () => {
    const value = 'x'.repeat(10_000);
    const frame = `*3\r\n$3\r\nSET\r\n$${p.length + 6}\r\n${p}:split\r\n$10000\r\n${value}\r\n*2\r\n$3\r\nGET\r\n$${p.length + 6}\r\n${p}:split\r\n`;
    const cuts = [1, 3, 4, 9, 30, 5000, frame.length - 3];
    const chunks = cuts.map((c, i) => frame.slice(i === 0 ? 0 : cuts[i - 1], c)).concat(frame.slice(cuts[cuts.length - 1]));
    const { data } = await rawExchange(proxy.port, chunks);
    expect(data.toString()).toBe(`+OK\r\n$10000\r\n${value}\r\n`);
  });

  it('answers earlier requests, then a protocol error, then closes only that client', async () => {
    const other = proxyClient(proxy);
    await other.set(`${p}:other`, 'still here');
    const { data, closedByServer } = await rawExchange(proxy.port, [`PING\r\n*1\r\n:5\r\nPING\r\n`]);
    expect(data.toString()).toBe("+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n");
    expect(closedByServer).toBe(true);
    expect(await other.get(`${p}:other`)).toBe('still here');
    other.disconnect();
  });

  it("applies Redis' limits: bulk length, multibulk length, unbalanced quotes", async () => {
    const cases: [string, string][] = [
      ['*1\r\n$2000000\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
      ['*abc\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
      ['*2000000000\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
      ['SET "unbalanced x\r\n', '-ERR Protocol error: unbalanced quotes in request\r\n'],
      ['*1\r\n$-4\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    ];
    for (const [input, reply] of cases) {
      const { data, closedByServer } = await rawExchange(proxy.port, [input]);
      expect(data.toString()).toBe(reply);
      expect(closedByServer).toBe(true);
    }
  });

  it('closes a client whose incomplete request passes the query buffer limit', async () => {
    const filler = Buffer.alloc(256 * 1024, 'a');
    const endless = ['*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n', ...Array.from({ length: 20 }, () => filler)];
    const limited = await startTestProxy(inject('clusterSeeds'), { clientQueryBufferLimit: 512 * 1024 });
    try {
      const result = await rawExchange(limited.port, endless);
      expect(result.data.toString()).toBe('-ERR Protocol error: query buffer limit exceeded\r\n');
      expect(result.closedByServer).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('QUIT replies +OK and closes after earlier replies', async () => {
    const { data, closedByServer } = await rawExchange(proxy.port, [`SET ${p}:q 1\r\nQUIT\r\nGET ${p}:q\r\n`]);
    expect(data.toString()).toBe('+OK\r\n+OK\r\n');
    expect(closedByServer).toBe(true);
  });

  it('answers what a client sent before it half-closed, then closes (as Redis: `printf ... | nc -N`)', async () => {
    const value = 'v'.repeat(30_000); // inline lines stop at 64 KB
    const { data, closedByServer } = await rawExchange(
      proxy.port,
      [`SET ${p}:half ${value}\r\nGET ${p}:half\r\nMGET ${p}:half ${p}:nope {${p}}:other\r\nPING\r\n`],
      { end: true, quietMs: 5_000 },
    );
    expect(data.toString()).toBe(`+OK\r\n$30000\r\n${value}\r\n*3\r\n$30000\r\n${value}\r\n$-1\r\n$-1\r\n+PONG\r\n`);
    expect(closedByServer).toBe(true);
  });

  it('lets a client blocked (or subscribed) go at once when it half-closes', async () => {
    for (const command of [`BLPOP ${p}:never 0`, `SUBSCRIBE ${p}:ch`]) {
      const started = Date.now();
      const { closedByServer } = await rawExchange(proxy.port, [`${command}\r\n`], { end: true, quietMs: 5_000, gapMs: 50 });
      expect(closedByServer).toBe(true);
      expect(Date.now() - started).toBeLessThan(3_000);
    }
  });

  it('skips empty multibulk frames and blank lines as Redis does', async () => {
    const { data } = await rawExchange(proxy.port, ['*0\r\n\r\n*-1\r\nPING\r\n']);
    expect(data.toString()).toBe('+PONG\r\n');
  });
});
