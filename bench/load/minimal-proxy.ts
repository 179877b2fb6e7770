/**
 * The least a Node proxy in front of a Redis Cluster can do, measured as a lower bound for
 * slotgate. It frames requests, hashes the key (the second argument) to its slot, appends the
 * request to its master's link (one pipelined connection per master, written once per
 * event-loop turn), puts each reply in its place among the client's outstanding requests, and
 * writes them all in one write once every one is answered. It uses slotgate's own socket I/O
 * (shared read buffer, read slabs, direct writes).
 *
 * It is NOT a proxy to use: it waits for all of a client's outstanding requests before writing
 * (fine for redis-benchmark, which waits for its whole pipeline), and has no redirects, errors,
 * reconnects, limits or partial frames. Whatever slotgate spends above this is the cost of being
 * correct.
 *
 *   node dist/bench/load/minimal-proxy.js PORT SEED_PORT
 */
import net from 'node:net';
import { takeOverAccepted } from '../../src/net/accepted-socket.js';
import { socketFd, writeToSocket } from '../../src/net/direct-write.js';
import { slotOfKey, SLOT_COUNT } from '../../src/cluster/key-slot.js';
import { TopologySource } from '../../src/cluster/topology-source.js';
import { ReadSlabs } from '../../src/util/read-slabs.js';

interface Client {
  socket: net.Socket;
  fd: number;
  /** Replies of the outstanding requests, in request order (null: not answered yet). */
  replies: (Buffer | null)[];
  answered: number;
}

function answer(client: Client, index: number, reply: Buffer): void {
  client.replies[index] = reply;
  if (++client.answered < client.replies.length) return;
  const out = client.replies.length === 1 ? reply : Buffer.concat(client.replies as Buffer[]);
  client.replies.length = 0;
  client.answered = 0;
  writeToSocket(client.socket, client.fd, out);
}

/** End of the RESP frame starting at `i` (bulk strings, arrays of them, one-line replies); -1 if incomplete. */
function frameEnd(buf: Buffer, i: number): number {
  const lineEnd = buf.indexOf(10, i) + 1;
  if (lineEnd === 0) return -1;
  const type = buf[i];
  if (type !== 0x24 && type !== 0x2a) return lineEnd;
  if (buf[i + 1] === 0x2d) return lineEnd; // $-1 / *-1
  let n = 0;
  for (let k = i + 1; buf[k] !== 13; k++) n = n * 10 + buf[k] - 48;
  if (type === 0x24) return lineEnd + n + 2 <= buf.length ? lineEnd + n + 2 : -1;
  let end = lineEnd;
  for (let m = 0; m < n && end >= 0; m++) end = frameEnd(buf, end);
  return end;
}

const links: Link[] = [];
let flushScheduled = false;

function flushLinks(): void {
  flushScheduled = false;
  for (const link of links) link.flush();
}

class Link {
  private readonly out = Buffer.allocUnsafe(1 << 20);
  private outLength = 0;
  private readonly waiting: Client[] = [];
  private readonly waitingIndex: number[] = [];
  private waitingHead = 0;
  private readonly slabs = new ReadSlabs();
  /** The start of a reply the last read cut off. */
  private partial: Buffer | null = null;
  private readonly socket: net.Socket;
  private fd = -1;

  constructor(host: string, port: number) {
    const onread = { buffer: () => this.slabs.next(), callback: (n: number) => this.onReplies(this.slabs.took(n)) };
    this.socket = net.connect({ host, port, onread });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => (this.fd = socketFd(this.socket)));
  }

  send(client: Client, buf: Buffer, start: number, end: number): void {
    buf.copy(this.out, this.outLength, start, end);
    this.outLength += end - start;
    this.waiting.push(client);
    this.waitingIndex.push(client.replies.length);
    client.replies.push(null);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushLinks);
    }
  }

  flush(): void {
    if (this.outLength === 0) return;
    writeToSocket(this.socket, this.fd, this.out.subarray(0, this.outLength));
    this.outLength = 0;
  }

  private onReplies(read: Buffer): boolean {
    const input = this.partial === null ? read : Buffer.concat([this.partial, read]);
    this.partial = null;
    for (let i = 0; i < input.length; ) {
      const end = frameEnd(input, i);
      if (end < 0) {
        this.partial = input.subarray(i);
        break;
      }
      const k = this.waitingHead++;
      answer(this.waiting[k], this.waitingIndex[k], input.subarray(i, end));
      i = end;
    }
    if (this.waitingHead > 4096) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingIndex.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
    return true;
  }
}

const port = Number(process.argv[2]);
const seedPort = Number(process.argv[3]);
const { view } = await new TopologySource([`127.0.0.1:${seedPort}`], {}, 2000).fetch([]);
const linkOfSlot: Link[] = new Array<Link>(SLOT_COUNT);
for (const shard of view.shards) {
  const link = new Link(shard.master.host, shard.master.port);
  links.push(link);
  for (const [from, to] of shard.ranges) linkOfSlot.fill(link, from, to + 1);
}

net
  .createServer({ pauseOnConnect: true }, (accepted) => {
    const client: Client = { socket: accepted, fd: -1, replies: [], answered: 0 };
    client.socket = takeOverAccepted(accepted, (chunk) => {
      for (let frame = 0; frame < chunk.length; ) {
        const end = frameEnd(chunk, frame);
        // *N\r\n $len\r\n name\r\n $len\r\n key\r\n: the key is the second argument
        let i = chunk.indexOf(10, frame) + 1;
        i = chunk.indexOf(10, i) + 1;
        i = chunk.indexOf(10, i) + 1;
        let keyLength = 0;
        let k = i + 1;
        for (; chunk[k] !== 13; k++) keyLength = keyLength * 10 + chunk[k] - 48;
        const keyStart = k + 2;
        linkOfSlot[slotOfKey(chunk, keyStart, keyStart + keyLength)].send(client, chunk, frame, end);
        frame = end;
      }
    });
    client.fd = socketFd(client.socket);
    client.socket.setNoDelay(true);
    client.socket.on('error', () => {});
  })
  .listen(port, '127.0.0.1');
