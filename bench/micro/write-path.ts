/**
 * The session write path against the naive one, over a real loopback TCP connection (the cost
 * is mostly the kernel's, so a fake socket would measure nothing): `replies` replies per
 * event-loop turn, as node replies land in a read slab.
 *
 * - slotgate: each reply's byte range is added to a WriteBatch (adjacent ranges merge), and
 *   the turn's bytes leave in one write(2) on the socket's fd (src/net/direct-write.ts).
 * - naive: `socket.write` of each reply as it is ready (Node's stream, a write per reply).
 *
 * Reported as CPU time (user + system, this process, the reading end included: the same bytes
 * are read either way) per reply.
 */
import net from 'node:net';
import { once } from 'node:events';
import { WriteBatch } from '../../src/util/write-batch.js';
import { socketFd, writeToSocket } from '../../src/net/direct-write.js';
import { takeOverAccepted } from '../../src/net/accepted-socket.js';

const REPLY = Buffer.from(`$64\r\n${'v'.repeat(64)}\r\n`);

interface Pair {
  writer: net.Socket;
  /** Resolves once `bytes` more bytes have been read at the other end. */
  received(bytes: number): Promise<void>;
  close(): void;
}

async function loopbackPair(): Promise<Pair> {
  let readTotal = 0;
  let waiting: { target: number; resolve: () => void } | null = null;
  let reader: net.Socket | null = null;
  const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
    reader = takeOverAccepted(accepted, (chunk) => {
      readTotal += chunk.length;
      if (waiting !== null && readTotal >= waiting.target) {
        const { resolve } = waiting;
        waiting = null;
        resolve();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const writer = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(writer, 'connect');
  writer.setNoDelay(true);
  let expected = 0;
  return {
    writer,
    received(bytes) {
      expected += bytes;
      if (readTotal >= expected) return Promise.resolve();
      return new Promise((resolve) => (waiting = { target: expected, resolve }));
    },
    close() {
      writer.destroy();
      reader?.destroy();
      server.close();
    },
  };
}

/** CPU microseconds per reply of `turns` turns of `replies` replies, written by `writeTurn`. */
async function cpuPerReply(turns: number, replies: number, writeTurn: (slab: Buffer, pair: Pair) => void): Promise<number> {
  const pair = await loopbackPair();
  // The turn's replies side by side in one slab, as a node's consecutive replies are read.
  const slab = Buffer.concat(new Array<Buffer>(replies).fill(REPLY));
  const run = async (count: number): Promise<void> => {
    for (let t = 0; t < count; t++) {
      writeTurn(slab, pair);
      // One turn in flight at a time, as a client at this pipeline depth waits for its replies.
      await pair.received(slab.length);
    }
  };
  await run(Math.min(2000, turns)); // warm-up
  const best: number[] = [];
  for (let round = 0; round < 3; round++) {
    const before = process.cpuUsage();
    await run(turns);
    const used = process.cpuUsage(before);
    best.push((used.user + used.system) / (turns * replies));
  }
  pair.close();
  return Math.min(...best);
}

export async function writePathBenchmarks(print: (name: string, us: number) => void): Promise<void> {
  for (const replies of [1, 16]) {
    const turns = replies === 1 ? 30_000 : 6_000;
    const batch = new WriteBatch();
    let fd = -1;
    const ours = await cpuPerReply(turns, replies, (slab, pair) => {
      if (fd < 0) fd = socketFd(pair.writer);
      for (let r = 0; r < replies; r++) batch.add(slab, r * REPLY.length, (r + 1) * REPLY.length);
      writeToSocket(pair.writer, fd, batch.take());
    });
    const naive = await cpuPerReply(turns, replies, (slab, pair) => {
      for (let r = 0; r < replies; r++) pair.writer.write(slab.subarray(r * REPLY.length, (r + 1) * REPLY.length));
    });
    print(`write path: ${replies} replies per turn, WriteBatch + one direct write(2)`, ours);
    print(`write path: ${replies} replies per turn, socket.write per reply (naive)`, naive);
    console.log(`  -> write path, ${replies} per turn: ${(naive / ours).toFixed(1)}x less CPU than the naive way\n`);
  }
}
