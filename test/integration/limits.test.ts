import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { describe, expect, it, inject } from 'vitest';
import { encodeCommand } from '../../src/resp/encode.js';
import type { SlotgateConfig } from '../../src/config/config.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { eventually } from '../helpers/eventually.js';
import { FakeNode } from '../helpers/fake-node.js';

// Per-client limits: each closes or holds back only the client that crosses it.
const cleanup = cleanupAfterEach();

async function proxyWith(overrides: Partial<SlotgateConfig>): Promise<ProxyServer> {
  const proxy = await startTestProxy(inject('clusterSeeds'), overrides);
  cleanup(() => proxy.close());
  return proxy;
}

/**
 * A raw connection that reads nothing (a stalled client). `closed` resolves, with the
 * milliseconds since its requests were sent, once slotgate closed it for its output (a client
 * that reads nothing does not see the close itself).
 */
async function stalledClient(proxy: ProxyServer, first: Buffer): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  const socket = net.connect({ port: proxy.port, host: '127.0.0.1' });
  socket.on('error', () => {});
  cleanup(() => socket.destroy());
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const before = proxy.traffic.outputLimitCloses;
  const sent = Date.now();
  socket.write(first);
  await new Promise((r) => setTimeout(r, 50));
  socket.pause();
  const closed = (async () => {
    for (let i = 0; i < 1500 && proxy.traffic.outputLimitCloses === before; i++) await new Promise((r) => setTimeout(r, 20));
    const lived = Date.now() - sent;
    // Reading again, the client sees the end of the connection.
    socket.resume();
    await new Promise((r) => (socket.destroyed ? r(null) : socket.once('close', r)));
    return lived;
  })();
  return { socket, closed };
}

const run = `${process.pid}`;

describe('client-output-buffer-limit', () => {
  it('closes a subscriber that does not read past the pubsub hard limit; other subscribers get every message', async () => {
    const proxy = await proxyWith({ clientOutputBufferLimit: 'normal 0 0 0 pubsub 1mb 0 0' });
    const channel = `obl:${run}`;
    const slow = await stalledClient(proxy, encodeCommand(['SUBSCRIBE', channel]));
    const reader = proxyClient(proxy);
    cleanup(() => reader.disconnect());
    let received = 0;
    reader.on('message', () => received++);
    await reader.subscribe(channel);
    const publisher = proxyClient(proxy);
    cleanup(() => publisher.disconnect());
    let isClosed = false;
    void slow.closed.then(() => (isClosed = true));
    const closes = (): number => proxy.traffic.outputLimitCloses;
    const message = 'm'.repeat(1024);
    let sent = 0;
    // Loopback socket buffers hold a few MB: publish until the slow one is closed, at most 64 MB.
    while (closes() === 0 && sent < 65536) {
      const batch = publisher.pipeline();
      for (let i = 0; i < 1000; i++) batch.publish(channel, message);
      await batch.exec();
      sent += 1000;
    }
    expect(closes()).toBe(1);
    await slow.closed;
    expect(isClosed).toBe(true);
    await eventually(() => received === sent);
    expect(await publisher.publish(channel, 'after')).toBe(1);
  });

  it('closes a normal client past the normal hard limit; a client that reads is not affected', async () => {
    const proxy = await proxyWith({ clientOutputBufferLimit: 'normal 2mb 0 0' });
    const key = `obl:big:${run}`;
    const other = proxyClient(proxy);
    cleanup(() => other.disconnect());
    await other.set(key, 'v'.repeat(100 * 1024));
    // 2,000 x 100 KB = 200 MB of replies asked for, never read.
    const gets = Buffer.concat(Array.from({ length: 2000 }, () => encodeCommand(['GET', key])));
    const slow = await stalledClient(proxy, gets);
    await slow.closed;
    expect(proxy.traffic.outputLimitCloses).toBe(1);
    // The same requests from a client that reads are answered in full: 200 GETs, 10 at a time
    // (1 MB of replies in flight; a whole 20 MB pipeline at once may pass the 2 MB limit while the
    // client's reads lag behind, on slotgate as on Redis: a fresh-clone CI run had it closed).
    const replies: [Error | null, unknown][] = [];
    for (let batch = 0; batch < 20; batch++) {
      const some = other.pipeline();
      for (let i = 0; i < 10; i++) some.get(key);
      replies.push(...(((await some.exec()) ?? []) as [Error | null, unknown][]));
    }
    expect(replies.length).toBe(200);
    expect(replies.every(([error, value]) => error === null && (value as string).length === 100 * 1024)).toBe(true);
  });

  it('closes a client that stays above the soft limit for its seconds, not before', async () => {
    const proxy = await proxyWith({ clientOutputBufferLimit: 'normal 0 1mb 1' });
    const key = `obl:soft:${run}`;
    const other = proxyClient(proxy);
    cleanup(() => other.disconnect());
    await other.set(key, 'v'.repeat(100 * 1024));
    const slow = await stalledClient(proxy, Buffer.concat(Array.from({ length: 500 }, () => encodeCommand(['GET', key]))));
    const lived = await slow.closed;
    expect(lived).toBeGreaterThanOrEqual(900);
    expect(lived).toBeLessThan(5000);
    expect(proxy.traffic.outputLimitCloses).toBe(1);
  });
});

describe('client-idle-timeout', () => {
  it('closes idle clients only: not subscribed, blocked or active ones', async () => {
    const proxy = await proxyWith({ clientIdleTimeoutMs: 1000 });
    const idle = proxyClient(proxy, { retryStrategy: () => null });
    const active = proxyClient(proxy, { retryStrategy: () => null });
    const subscriber = proxyClient(proxy, { retryStrategy: () => null });
    const blocked = proxyClient(proxy, { retryStrategy: () => null });
    for (const c of [idle, active, subscriber, blocked]) cleanup(() => c.disconnect());
    await Promise.all([idle.ping(), active.ping(), subscriber.subscribe(`idle:${run}`)]);
    let idleClosedAfter = -1;
    const started = Date.now();
    idle.once('end', () => (idleClosedAfter = Date.now() - started));
    const blpop = blocked.blpop(`idle:list:${run}`, 3);
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 300));
      await active.ping();
    }
    expect(idleClosedAfter).toBeGreaterThanOrEqual(900);
    expect(idleClosedAfter).toBeLessThan(3000);
    expect(await blpop).toBeNull(); // answered at its own timeout, 3 s, after the idle limit
    expect(subscriber.status).toBe('ready');
    expect(proxy.traffic.idleCloses).toBe(1);
  });
});

describe('node-max-pending', () => {
  it('stops reading from clients while a node link has too many requests in flight, and answers everything in order', async () => {
    let outstanding = 0;
    let most = 0;
    let chain = Promise.resolve();
    const node = await new FakeNode((args) => {
      if (args[0] !== 'GET') return undefined;
      outstanding++;
      most = Math.max(most, outstanding);
      // A slow node: answers in order, 2 ms apart.
      chain = chain.then(() => new Promise((r) => setTimeout(r, 2)));
      return chain.then(() => {
        outstanding--;
        return `$${args[1].length}\r\n${args[1]}\r\n`;
      });
    }).listen();
    cleanup(() => node.close());
    const proxy = await startTestProxy([`127.0.0.1:${node.port}`], { nodeMaxPending: 20 });
    cleanup(() => proxy.close());
    const clients = [proxyClient(proxy), proxyClient(proxy)];
    for (const c of clients) cleanup(() => c.disconnect());
    const results = await Promise.all(
      clients.map(async (client, c) => {
        const batch = client.pipeline();
        for (let i = 0; i < 300; i++) batch.get(`k${c}:${i}`);
        return ((await batch.exec()) ?? []).map(([, value]) => value);
      }),
    );
    results.forEach((values, c) => expect(values).toEqual(Array.from({ length: 300 }, (_, i) => `k${c}:${i}`)));
    // At most the limit, plus the one request each client had sent when it was held back.
    expect(most).toBeLessThanOrEqual(20 + clients.length);
    expect(most).toBeGreaterThanOrEqual(10);
  });
});

describe('tcp-keepalive', () => {
  it('is on for client connections and node links', async () => {
    const proxy = await proxyWith({ tcpKeepaliveMs: 45_000 });
    const client = proxyClient(proxy);
    cleanup(() => client.disconnect());
    await client.set(`ka:${run}`, '1');
    // `ss -o` shows each socket's timer: keepalive sockets carry timer:(keepalive,...), unless
    // bytes are unacknowledged at that moment (then the retransmit timer shows): look again.
    const seeds = inject('clusterSeeds').map((s) => `:${s.split(':')[1]}`);
    let accepted: string[] = [];
    let toNodes: string[] = [];
    await eventually(() => {
      const lines = execFileSync('ss', ['-tnopH', 'state', 'established'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(`pid=${process.pid},`));
      accepted = lines.filter((l) => l.split(/\s+/)[2]?.endsWith(`:${proxy.port}`));
      toNodes = lines.filter((l) => seeds.some((p) => l.split(/\s+/)[3]?.endsWith(p)));
      return [...accepted, ...toNodes].every((l) => l.includes('timer:(keepalive,'));
    });
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(toNodes.length).toBeGreaterThanOrEqual(1);
    for (const line of [...accepted, ...toNodes]) expect(line).toMatch(/timer:\(keepalive,/);
  });
});
