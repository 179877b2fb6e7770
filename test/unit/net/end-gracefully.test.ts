import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { endGracefully } from '../../../src/net/end-gracefully.js';

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** A loopback server that runs `onSocket` for its one connection; returns its port. */
async function serve(onSocket: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer(onSocket);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

const REPLY = Buffer.alloc(1024 * 1024, 0x61);

describe('endGracefully', () => {
  it('delivers the last bytes to a client that keeps writing and reads late (no reset)', async () => {
    // The server does not read while it writes (as a session paused for output), then ends.
    const port = await serve((socket) => {
      socket.pause();
      socket.on('error', () => {});
      socket.write(REPLY);
      endGracefully(socket);
    });
    const client = net.connect({ port, host: '127.0.0.1' });
    let received = 0;
    let error: string | null = null;
    client.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    const closed = new Promise((resolve) => client.once('close', resolve));
    client.pause();
    await new Promise((resolve) => client.once('connect', resolve));
    for (let i = 0; i < 40 && !client.destroyed; i++) {
      client.write(Buffer.alloc(4096, 0x62));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    client.on('data', (d: Buffer) => (received += d.length));
    client.resume();
    client.on('end', () => client.end());
    await closed;
    // With socket.end(() => socket.destroy()) instead: ECONNRESET and a part of the bytes.
    expect(error).toBeNull();
    expect(received).toBe(REPLY.length);
  });

  it('closes a client that never closes after the linger time', async () => {
    let closedAt = 0;
    const port = await serve((socket) => {
      socket.on('error', () => {});
      socket.on('close', () => (closedAt = Date.now()));
      endGracefully(socket, Buffer.from('-ERR bye\r\n'), 100);
    });
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    client.on('error', () => {});
    const data = await new Promise<string>((resolve) => client.once('data', (d: Buffer) => resolve(d.toString())));
    const start = Date.now();
    await new Promise((resolve) => client.once('end', resolve));
    // Half-open on the client's side: the server waits for its end, then gives up.
    while (closedAt === 0 && Date.now() - start < 5000) await new Promise((resolve) => setTimeout(resolve, 10));
    client.destroy();
    expect(data).toBe('-ERR bye\r\n');
    expect(closedAt - start).toBeGreaterThanOrEqual(50);
    expect(closedAt - start).toBeLessThan(2000);
  });
});
