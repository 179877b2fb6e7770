import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { encodeCommand } from '../../src/resp/encode.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, proxyCounter, startTestProxy } from '../helpers/proxy.js';
import { collectReplies } from '../helpers/collect-replies.js';

const MAX_PENDING = 100;
let proxy: ProxyServer;

beforeAll(async () => {
  proxy = await startTestProxy(inject('clusterSeeds'), { clientMaxPending: MAX_PENDING });
});

afterAll(async () => {
  await proxy.close();
});

describe('backpressure', () => {
  it('bounds what a client that does not read its replies can have in flight, then answers everything in order', async () => {
    const observer = proxyClient(proxy);
    const value = 'x'.repeat(16 * 1024);
    const keys = Array.from({ length: 20 }, (_, i) => `bp:${process.pid}:${i}`);
    for (const k of keys) await observer.set(k, `${k}:${value}`);
    const count = 4000; // 4000 x 16 KB = 64 MB of replies: far more than socket buffers hold

    const socket = net.connect({ port: proxy.port, host: '127.0.0.1' });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.pause(); // read nothing for now
    socket.write(Buffer.concat(Array.from({ length: count }, (_, i) => encodeCommand(['GET', keys[i % keys.length]]))));
    await new Promise((r) => setTimeout(r, 500));

    // The client is stalled: slotgate keeps at most MAX_PENDING of its requests in flight, holds
    // the rest of its requests unread, and holds the replies of about one flight (not 64 MB).
    expect(await proxyCounter(observer, 'pending_requests')).toBeLessThanOrEqual(MAX_PENDING);
    expect(await proxyCounter(observer, 'client_query_bytes')).toBeGreaterThan(0);
    expect(await proxyCounter(observer, 'client_output_bytes')).toBeLessThan(2 * MAX_PENDING * 17 * 1024);
    // Other clients are not affected.
    expect(await observer.get(keys[0])).toBe(`${keys[0]}:${value}`);

    const replies = await collectReplies(socket, count, 30_000);
    socket.destroy();
    observer.disconnect();

    expect(replies.length).toBe(count);
    const wrong = replies.findIndex((r, i) => r !== `$${keys[i % keys.length].length + 1 + value.length}\r\n${keys[i % keys.length]}:${value}\r\n`);
    expect(wrong).toBe(-1);
  });
});
