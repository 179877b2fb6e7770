// The short version of `npm run fuzz` (bench/fuzz/): 4,000 seeded hostile cases over many
// connections to a slotgate in this process, in front of the shared test cluster, while a control
// connection writes and reads values it checks. Also regressions the fuzzer found.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { ProxyServer } from '../../src/proxy/server.js';
import { pingOnce, runFuzz, summaryTable, verdict } from '../../bench/fuzz/runner.js';
import { RespChecker } from '../../bench/fuzz/resp-check.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { rawExchange } from '../helpers/raw-client.js';

const CASES = 4_000;
const SEED = 20261201;
const MB = 2 ** 20;

let proxy: ProxyServer;

beforeAll(async () => {
  proxy = await startTestProxy(inject('clusterSeeds'));
});

afterAll(async () => {
  await proxy.close();
});

/** Sends `input` in one write and collects the replies until slotgate closes the connection. */
function exchange(input: string): Promise<RespChecker> {
  return new Promise((resolve, reject) => {
    const checker = new RespChecker();
    const socket = net.connect({ port: proxy.port, host: '127.0.0.1' });
    socket.on('data', (d: Buffer) => checker.feed(d));
    socket.on('error', () => {});
    socket.on('close', () => resolve(checker));
    socket.on('connect', () => socket.write(input));
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`not closed; replies so far ${JSON.stringify(checker.replies.map((r) => r.head))}`));
    }, 10_000);
  });
}

describe('fuzz (short)', () => {
  it(`${CASES} seeded hostile cases: replies are RESP, errors Redis-style, the control connection always right, memory bounded`, async () => {
    const stats = await runFuzz({
      port: proxy.port,
      seed: SEED,
      cases: CASES,
      concurrency: 32,
      // slotgate runs in this test process: its RSS is the process'.
      sampleRss: () => process.memoryUsage.rss(),
      rssIntervalMs: 100,
    });
    // In-process, RSS includes vitest and the test's own buffers: a looser bound than the
    // command's, still far below a 2 GB length taken at its word or a per-connection leak.
    const problems = verdict(stats, { maxBytes: stats.rss.first + 384 * MB, growthBytes: 192 * MB }, CASES);
    expect(problems, summaryTable(stats, SEED)).toEqual([]);
    expect(stats.control.ok).toBeGreaterThan(40);
    expect(stats.protocolErrors).toBeGreaterThan(100);
    expect(await pingOnce('127.0.0.1', proxy.port)).toBe(true);
    const client = proxyClient(proxy);
    await client.set('fz:after', 'still here');
    expect(await client.get('fz:after')).toBe('still here');
    client.disconnect();
  }, 120_000);

  it('a protocol error after SUBSCRIBE comes after the subscribe confirmation, and last', async () => {
    for (const protocol of ['', '*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n']) {
      const checker = await exchange(`${protocol}*2\r\n$9\r\nSUBSCRIBE\r\n$8\r\nfz:order\r\n*1\r\n$x\r\n`);
      const heads = checker.replies.map((r) => r.head);
      expect(checker.broken).toBeNull();
      expect(heads.at(-2)).toMatch(/^[*>]3\r\n\$9\r\nsubscribe\r\n\$8\r\nfz:order\r\n:1\r\n$/);
      expect(heads.at(-1)).toBe('-ERR Protocol error: invalid bulk length\r\n');
    }
  });

  it('a large reply before a protocol error arrives whole to a client that writes on and reads late (no reset)', async () => {
    for (let i = 0; i < 5; i++) {
      const checker = new RespChecker();
      let error: string | null = null;
      const socket = net.connect({ port: proxy.port, host: '127.0.0.1' });
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
      socket.on('data', (d: Buffer) => checker.feed(d));
      socket.on('end', () => socket.end());
      socket.pause();
      await new Promise((resolve) => socket.once('connect', resolve));
      // COMMAND's reply (about 90 KB) is more than the socket buffers take while the client does not read.
      socket.write('*1\r\n$7\r\nCOMMAND\r\n*1\r\n$x\r\n');
      for (let k = 0; k < 20 && !socket.destroyed; k++) {
        socket.write(Buffer.alloc(1000, 0x61));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      socket.resume();
      await closed;
      expect(error).toBeNull();
      expect(checker.broken).toBeNull();
      expect(checker.pendingBytes).toBe(0);
      expect(checker.replies.map((r) => r.type)).toEqual(['*', '-']);
    }
  });

  it('SUBSCRIBE, UNSUBSCRIBE and RESET in one write are all answered, in order (was: no reply at all; fuzz seed 3)', async () => {
    const { data } = await rawExchange(proxy.port, ['SUBSCRIBE fz:r\r\nUNSUBSCRIBE\r\nPING\r\nRESET\r\nGET fz:r:k\r\nPING\r\n'], { quietMs: 1_000 });
    expect(data.toString()).toBe(
      '*3\r\n$9\r\nsubscribe\r\n$4\r\nfz:r\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$4\r\nfz:r\r\n:0\r\n+PONG\r\n+RESET\r\n$-1\r\n+PONG\r\n',
    );
    const { data: resp3 } = await rawExchange(proxy.port, ['HELLO 3\r\nSUBSCRIBE fz:r\r\nUNSUBSCRIBE\r\nRESET\r\nPING\r\n'], { quietMs: 1_000 });
    expect(resp3.toString()).toMatch(/>3\r\n\$11\r\nunsubscribe\r\n\$4\r\nfz:r\r\n:0\r\n\+RESET\r\n\+PONG\r\n$/);
  });
});
