import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { ReplyScanner } from '../../src/resp/reply-scanner.js';
import { encodeCommand } from '../../src/resp/encode.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, seededRandom, startTestProxy } from '../helpers/proxy.js';
import type { Redis } from 'ioredis';

const CASES = 10_000;
const CONCURRENCY = 64;
const CASE_TIMEOUT_MS = 5_000;

let proxy: ProxyServer;

beforeAll(async () => {
  proxy = await startTestProxy(inject('clusterSeeds'), { protoMaxBulkLen: 64 * 1024, clientQueryBufferLimit: 256 * 1024 });
});

afterAll(async () => {
  await proxy.close();
});

/** Seeded generators of hostile input: garbage, broken headers, truncation, huge lengths. */
function makeCase(rand: () => number, n: number): Buffer {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const bytes = (len: number): Buffer => Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256)));
  const valid = encodeCommand(['SET', `bad:${n}`, bytes(Math.floor(rand() * 40)).toString('latin1')]);
  switch (n % 8) {
    case 0:
      return bytes(1 + Math.floor(rand() * 64));
    case 1:
      return valid.subarray(0, Math.floor(rand() * valid.length));
    case 2:
      return Buffer.from(pick(['*abc\r\n', '*-\r\n', '*99999999999999\r\n', '*1\r\n:5\r\n', '*1\r\n$x\r\n', '*2\r\n$-7\r\n']));
    case 3:
      return Buffer.from(`*1\r\n$${pick(['100000', '999999999999', '70000'])}\r\n`);
    case 4:
      return Buffer.from(`SET "x ${pick(['', 'y', '\\"'])}\r\n`);
    case 5:
      return Buffer.concat([valid, bytes(1 + Math.floor(rand() * 16))]);
    case 6:
      return Buffer.concat([Buffer.from('*'), Buffer.alloc(70_000, 0x31)]);
    default: {
      const frame = Buffer.from(valid);
      frame[Math.floor(rand() * frame.length)] = Math.floor(rand() * 256);
      return frame;
    }
  }
}

/** Sends one case, half-closes, and returns what came back; checks it is well-formed RESP. */
function runCase(port: number, input: Buffer): Promise<{ ok: boolean; why?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const frames: string[] = [];
    let broken: string | null = null;
    const scanner = new ReplyScanner({
      onReply: (buf, s, e) => frames.push(buf.toString('latin1', s, e)),
      onReplyProtocolError: (m) => (broken = m),
    });
    const timer = setTimeout(() => done(false, 'no close within the case timeout'), CASE_TIMEOUT_MS);
    let finished = false;
    function done(ok: boolean, why?: string): void {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, why });
    }
    socket.on('data', (d: Buffer) => scanner.feed(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (broken) return done(false, `reply is not RESP: ${broken}`);
      const errors = frames.filter((f) => f.startsWith('-'));
      const bad = errors.find((f) => !/^-(ERR|CROSSSLOT|NOAUTH|WRONGTYPE|NOPROTO) /.test(f));
      if (bad) return done(false, `unexpected error reply ${JSON.stringify(bad)}`);
      done(true);
    });
    socket.on('connect', () => socket.end(input));
  });
}

/**
 * A well-behaved client doing SET then GET of `key` in a loop (bounded) while others misbehave:
 * `ops` so far, and `stop()` ends the loop with its counts (errors: failed or wrong answers).
 */
function keepChecking(client: Redis, key: string): { readonly ops: number; stop(): Promise<{ ops: number; errors: number }> } {
  let ops = 0;
  let errors = 0;
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped && i < 1_000_000; i++) {
      try {
        await client.set(key, String(i));
        if ((await client.get(key)) !== String(i)) errors++;
        ops++;
      } catch {
        errors++;
      }
    }
  })();
  return {
    get ops() {
      return ops;
    },
    async stop() {
      stopped = true;
      await loop;
      return { ops, errors };
    },
  };
}

describe('hostile input', () => {
  it(`survives ${CASES} malformed or truncated frames; a well-behaved client keeps working`, async () => {
    const rand = seededRandom(20261122);
    const inputs = Array.from({ length: CASES }, (_, n) => makeCase(rand, n));
    const good = proxyClient(proxy);
    const control = keepChecking(good, 'bad:good');

    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < inputs.length) {
          const n = next++;
          const result = await runCase(proxy.port, inputs[n]);
          if (!result.ok) failures.push(`case ${n}: ${result.why}`);
        }
      }),
    );
    const { ops: goodOps, errors: goodErrors } = await control.stop();
    good.disconnect();

    expect(failures.slice(0, 10)).toEqual([]);
    expect(goodErrors).toBe(0);
    expect(goodOps).toBeGreaterThan(10);
    expect(proxy.clientCount).toBeLessThanOrEqual(1);
  }, 180_000);
});

describe('huge declared lengths', () => {
  let big: ProxyServer;
  const MB = 2 ** 20;

  beforeAll(async () => {
    // Default limits: proto-max-bulk-len 512 MB, client-query-buffer-limit 1 GB.
    big = await startTestProxy(inject('clusterSeeds'));
  });

  afterAll(async () => {
    await big.close();
  });

  /** RSS and the memory of ArrayBuffers (Buffers) of this process, which runs slotgate: an allocation shows in the second even before it is touched. */
  const memory = (): { rss: number; buffers: number } => {
    const m = process.memoryUsage();
    return { rss: m.rss, buffers: m.arrayBuffers };
  };

  /** Writes `header` then `extra` bytes in 64 KB writes (a client starting to send its value); what came back, and whether slotgate closed. */
  function sendHeader(header: string, extra: number): Promise<{ data: string; closed: boolean }> {
    return new Promise((resolve) => {
      const socket = net.connect({ port: big.port, host: '127.0.0.1' });
      const received: Buffer[] = [];
      socket.on('data', (d: Buffer) => received.push(d));
      socket.on('error', () => {});
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ data: Buffer.concat(received).toString('latin1'), closed: false });
      }, 5_000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ data: Buffer.concat(received).toString('latin1'), closed: true });
      });
      socket.on('connect', async () => {
        socket.write(header);
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        for (let sent = 0; sent < extra && !socket.destroyed; sent += chunk.length) {
          socket.write(chunk);
          await new Promise((r) => setImmediate(r));
        }
      });
    });
  }

  it('refuses a 2 GB bulk header with a Redis-style error and closes, without taking the memory; another client keeps working', async () => {
    const good = proxyClient(big);
    const control = keepChecking(good, 'huge:good');
    const headers = [
      '*1\r\n$2147483648\r\n',
      '*2\r\n$3\r\nSET\r\n$2147483648\r\n',
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2147483648\r\n',
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2147483647\r\n',
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4294967296\r\n',
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$9223372036854775807\r\n',
    ];
    await good.ping();
    const before = memory();
    // The peak while the clients send (what a length taken at its word would cost is gone once they close).
    const after = { ...before };
    const sampler = setInterval(() => {
      const m = memory();
      after.rss = Math.max(after.rss, m.rss);
      after.buffers = Math.max(after.buffers, m.buffers);
    }, 5);
    // 60 clients at once, each sending 1 MB of its "value" after the header.
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => sendHeader(headers[i % headers.length], MB)));
    clearInterval(sampler);
    const opsBefore = control.ops;
    for (let i = 0; i < 400 && control.ops < opsBefore + 20; i++) await new Promise((r) => setTimeout(r, 5));
    const { ops: goodOps, errors: goodErrors } = await control.stop();
    good.disconnect();
    for (const r of results) {
      expect(r.data).toBe('-ERR Protocol error: invalid bulk length\r\n');
      expect(r.closed).toBe(true);
    }
    // One 2 GB length taken at its word would be 2048 MB; the bound leaves room for the 60 MB the clients send.
    expect(after.buffers - before.buffers).toBeLessThan(128 * MB);
    expect(after.rss - before.rss).toBeLessThan(256 * MB);
    expect(goodErrors).toBe(0);
    expect(goodOps).toBeGreaterThanOrEqual(opsBefore + 20);
  }, 60_000);

  it('holds only the bytes sent of a legal 512 MB bulk whose value never comes', async () => {
    const before = memory();
    const pending = Array.from({ length: 20 }, () => {
      const socket = net.connect({ port: big.port, host: '127.0.0.1' });
      socket.on('error', () => {});
      socket.write(`*3\r\n$3\r\nSET\r\n$7\r\nhuge:{a}\r\n$${512 * MB}\r\n`);
      socket.write(Buffer.alloc(256 * 1024, 0x61));
      return socket;
    });
    await new Promise((r) => setTimeout(r, 500));
    const after = memory();
    const client = proxyClient(big);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
    for (const s of pending) s.destroy();
    // 20 x 512 MB declared, 20 x 256 KB sent.
    expect(after.buffers - before.buffers).toBeLessThan(128 * MB);
    expect(after.rss - before.rss).toBeLessThan(256 * MB);
  }, 30_000);
});
