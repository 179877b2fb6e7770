import net from 'node:net';
import { describe, expect, it, inject } from 'vitest';
import { encodeCommand } from '../../src/resp/encode.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';

// Connection-level behaviour: the client limit, and clients that vanish mid-reply.
const cleanup = cleanupAfterEach();

async function proxyWith(overrides: Parameters<typeof startTestProxy>[1]): Promise<ProxyServer> {
  const proxy = await startTestProxy(inject('clusterSeeds'), overrides);
  cleanup(() => proxy.close());
  return proxy;
}

/** Connects a raw client and resolves with everything it received once the proxy closes it. */
function receiveUntilClosed(port: number, timeoutMs = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString(), closed: false });
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString(), closed: true });
    });
  });
}

describe('connections', () => {
  it('refuses clients over max-clients with Redis\' error and closes them; the others keep working', async () => {
    const proxy = await proxyWith({ maxClients: 2 });
    const first = proxyClient(proxy);
    const second = proxyClient(proxy);
    cleanup(() => void first.disconnect(), () => void second.disconnect());
    expect(await first.ping()).toBe('PONG');
    expect(await second.ping()).toBe('PONG');

    const third = await receiveUntilClosed(proxy.port);
    expect(third).toEqual({ text: '-ERR max number of clients reached\r\n', closed: true });
    expect(proxy.clientCount).toBe(2);
    expect(await first.set('conn:a', '1')).toBe('OK');
    expect(await second.get('conn:a')).toBe('1');
  });

  it('survives clients that reset the connection while a large reply is being written', async () => {
    const proxy = await proxyWith({});
    const client = proxyClient(proxy);
    cleanup(() => void client.disconnect());
    await client.set('conn:big', Buffer.alloc(4 * 1024 * 1024, 0x61));
    for (let i = 0; i < 20; i++) {
      const socket = net.connect(proxy.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.on('error', () => {});
      socket.write(Buffer.concat(Array.from({ length: 4 }, () => encodeCommand(['GET', 'conn:big']))));
      await new Promise((r) => setTimeout(r, i % 5)); // reset at different points of the reply
      socket.resetAndDestroy();
    }
    expect(await client.strlen('conn:big')).toBe(4 * 1024 * 1024);
    for (let i = 0; i < 50 && proxy.clientCount > 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(proxy.clientCount).toBe(1);
  });
});
