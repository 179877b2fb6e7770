import net from 'node:net';
import { once } from 'node:events';
import { describe, it, expect } from 'vitest';
import { socketFd, writePiecesToSocket, writeToSocket } from '../../../src/net/direct-write.js';
import { takeOverAccepted } from '../../../src/net/accepted-socket.js';
import { cleanupAfterEach } from '../../helpers/cleanup.js';

const cleanup = cleanupAfterEach();

/** A loopback server (pauseOnConnect, as slotgate's) and a connected client. */
async function pair(): Promise<{ server: net.Server; client: net.Socket; accepted: net.Socket }> {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [net.Socket];
  await once(client, 'connect').catch(() => undefined);
  cleanup(() => {
    client.destroy();
    server.close();
  });
  return { server, client, accepted };
}

function collect(socket: net.Socket): () => Buffer {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks);
}

describe('writeToSocket', () => {
  it('writes straight to the descriptor and, when the kernel buffer fills, queues the rest in order', async () => {
    const { client, accepted } = await pair();
    const fd = socketFd(accepted);
    expect(fd).toBeGreaterThanOrEqual(0);
    client.pause(); // let the kernel buffers fill up
    const parts: Buffer[] = [];
    let backedUp = false;
    for (let i = 0; i < 64; i++) {
      const part = Buffer.alloc(256 * 1024, i);
      parts.push(part);
      if (!writeToSocket(accepted, fd, part)) backedUp = true;
    }
    expect(backedUp).toBe(true);
    expect(accepted.writableLength).toBeGreaterThan(0);
    const received = collect(client);
    client.resume();
    accepted.end();
    await once(client, 'end');
    expect(received().equals(Buffer.concat(parts))).toBe(true);
  });

  it('destroys the socket on a write error instead of throwing', async () => {
    const { client, accepted } = await pair();
    const fd = socketFd(accepted);
    client.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 50));
    const closed = new Promise((resolve) => accepted.on('close', resolve));
    accepted.on('error', () => {});
    for (let i = 0; i < 10 && !accepted.destroyed; i++) writeToSocket(accepted, fd, Buffer.alloc(1024));
    await closed;
    expect(accepted.destroyed).toBe(true);
  });
});

describe('writePiecesToSocket', () => {
  it('writes pieces in order with one writev and queues what the kernel does not take, from the right byte', async () => {
    const { client, accepted } = await pair();
    const fd = socketFd(accepted);
    client.pause(); // let the kernel buffers fill up
    const sent: Buffer[] = [];
    let backedUp = false;
    for (let i = 0; i < 64; i++) {
      const pieces = [Buffer.alloc(100 * 1024 + i, i), Buffer.from(`-${i}-`), Buffer.alloc(70 * 1024, 255 - i)];
      sent.push(...pieces);
      if (!writePiecesToSocket(accepted, fd, pieces)) backedUp = true;
    }
    expect(backedUp).toBe(true);
    const received = collect(client);
    client.resume();
    accepted.end();
    await once(client, 'end');
    expect(received().equals(Buffer.concat(sent))).toBe(true);
  });
});

describe('takeOverAccepted', () => {
  it('delivers every read to the callback, sees the end of input, stays open to write (half-open), and keeps the server count right', async () => {
    const { server, client, accepted } = await pair();
    const got: Buffer[] = [];
    const socket = takeOverAccepted(accepted, (chunk) => got.push(Buffer.from(chunk)));
    const payload = Buffer.alloc(300 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const answer = new Promise<string>((resolve) => {
      let text = '';
      client.on('data', (d: Buffer) => (text += d.toString()));
      client.on('end', () => resolve(text));
    });
    client.end(payload);
    await once(socket, 'end');
    // The client's end of input leaves the connection open for what the server still writes.
    socket.end('+late reply\r\n');
    expect(await answer).toBe('+late reply\r\n');
    if (!socket.destroyed) await once(socket, 'close');
    expect(Buffer.concat(got).equals(payload)).toBe(true);
    const count = await new Promise<number>((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    expect(count).toBe(0);
  });

  it('stops reading while paused and reads again on resume', async () => {
    const { client, accepted } = await pair();
    let received = 0;
    const socket = takeOverAccepted(accepted, (chunk) => {
      received += chunk.length;
    });
    socket.pause();
    client.write(Buffer.alloc(1000));
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toBe(0);
    socket.resume();
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toBe(1000);
    socket.destroy();
  });
});
