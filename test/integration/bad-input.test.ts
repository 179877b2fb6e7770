import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { ReplyScanner } from '../../src/resp/reply-scanner.js';
import { encodeCommand } from '../../src/resp/encode.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, seededRandom, startTestProxy } from '../helpers/proxy.js';

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

describe('hostile input', () => {
  it(`survives ${CASES} malformed or truncated frames; a well-behaved client keeps working`, async () => {
    const rand = seededRandom(20261122);
    const inputs = Array.from({ length: CASES }, (_, n) => makeCase(rand, n));
    const good = proxyClient(proxy);
    let goodOps = 0;
    let goodErrors = 0;
    let stop = false;
    const goodLoop = (async () => {
      for (let i = 0; !stop && i < 1_000_000; i++) {
        try {
          await good.set('bad:good', String(i));
          if ((await good.get('bad:good')) !== String(i)) goodErrors++;
          goodOps++;
        } catch {
          goodErrors++;
        }
      }
    })();

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
    stop = true;
    await goodLoop;
    good.disconnect();

    expect(failures.slice(0, 10)).toEqual([]);
    expect(goodErrors).toBe(0);
    expect(goodOps).toBeGreaterThan(10);
    expect(proxy.clientCount).toBeLessThanOrEqual(1);
  }, 180_000);
});
