import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeNode } from '../helpers/fake-node.js';
import { startTestProxy } from '../helpers/proxy.js';
import { encodeCommand } from '../../src/resp/encode.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';

// How replies leave slotgate: all replies to one client read in one write (as Redis does), and
// never held back for requests of a later read. A fake node answers some keys late, on demand.
const cleanup = cleanupAfterEach();

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A node that answers GET k with $<k>, after the number of milliseconds the key names ("slow:300"). */
async function setup(): Promise<number> {
  const node = await new FakeNode((args) => {
    if (args[0] !== 'GET') return undefined;
    const ms = Number(args[1].split(':')[1] ?? 0);
    const reply = `$${args[1].length}\r\n${args[1]}\r\n`;
    return ms > 0 ? delay(ms).then(() => reply) : reply;
  }).listen();
  cleanup(() => node.close());
  const proxy = await startTestProxy([`127.0.0.1:${node.port}`]);
  cleanup(() => proxy.close());
  return proxy.port;
}

/** A raw client that records each chunk it receives with the time it came. */
async function rawClient(port: number): Promise<{ socket: net.Socket; chunks: { at: number; text: string }[]; start: number }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  cleanup(() => void socket.destroy());
  const result = { socket, chunks: [] as { at: number; text: string }[], start: Date.now() };
  socket.on('data', (d: Buffer) => result.chunks.push({ at: Date.now() - result.start, text: d.toString() }));
  return result;
}

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await delay(5);
}

describe('reply batching', () => {
  it('writes the replies to one read together, once the slowest of them is in', async () => {
    const port = await setup();
    const client = await rawClient(port);
    client.start = Date.now();
    client.socket.write(Buffer.concat([encodeCommand(['GET', 'fast']), encodeCommand(['GET', 'slow:300']), encodeCommand(['GET', 'quick'])]));
    await waitFor(() => client.chunks.map((c) => c.text).join('').includes('quick'));
    expect(client.chunks.map((c) => c.text)).toEqual(['$4\r\nfast\r\n$8\r\nslow:300\r\n$5\r\nquick\r\n']);
    expect(client.chunks[0].at).toBeGreaterThanOrEqual(290);
  });

  it('does not hold a reply back for requests that came in a later read', async () => {
    const port = await setup();
    const client = await rawClient(port);
    client.start = Date.now();
    client.socket.write(encodeCommand(['GET', 'first:100']));
    await delay(30); // a separate read, sent while the first request is still with the node
    client.socket.write(encodeCommand(['GET', 'second:600']));
    await waitFor(() => client.chunks.length >= 2);
    expect(client.chunks.map((c) => c.text)).toEqual(['$9\r\nfirst:100\r\n', '$10\r\nsecond:600\r\n']);
    expect(client.chunks[0].at).toBeLessThan(500);
    expect(client.chunks[1].at).toBeGreaterThanOrEqual(600);
  });
});
