/**
 * The least a Node proxy in front of a Redis Cluster can do, measured as a lower bound for
 * slotgate. It frames requests and replies (with slotgate's scanners), hashes the key (the second
 * argument) to its slot, appends the request to its master's link (one pipelined connection per
 * master, written once per event-loop turn), puts each reply in its place among the client's
 * outstanding requests, and writes them all in one write once every one is answered. It uses
 * slotgate's own socket I/O (shared read buffer, read slabs, direct writes).
 *
 * It is NOT a proxy to use: it waits for all of a client's outstanding requests before writing
 * (fine for redis-benchmark, which waits for its whole pipeline), and has no command table,
 * redirects, errors, reconnects or limits. Whatever slotgate spends above this is the cost of
 * being correct.
 *
 *   node dist/bench/load/minimal-proxy.js PORT SEED_PORT
 */
import net from 'node:net';
import { takeOverAccepted } from '../../src/net/accepted-socket.js';
import { socketFd, writeToSocket } from '../../src/net/direct-write.js';
import { slotOfKey, SLOT_COUNT } from '../../src/cluster/key-slot.js';
import { TopologySource } from '../../src/cluster/topology-source.js';
import { ReadSlabs } from '../../src/util/read-slabs.js';
import { RequestScanner, type RequestSink } from '../../src/resp/request-scanner.js';
import { ReplyScanner, type ReplySink } from '../../src/resp/reply-scanner.js';

const NO_LIMIT = { maxBulkLen: 512 * 1024 * 1024, maxArgs: 1024 * 1024, maxBuffered: 1024 * 1024 * 1024 };

const links: Link[] = [];
const linkOfSlot: Link[] = new Array<Link>(SLOT_COUNT);
let flushScheduled = false;

function flushLinks(): void {
  flushScheduled = false;
  for (const link of links) link.flush();
}

class Client implements RequestSink {
  readonly socket: net.Socket;
  private readonly fd: number;
  /** Replies of the outstanding requests, in request order (null: not answered yet). */
  private readonly replies: (Buffer | null)[] = [];
  private answered = 0;

  constructor(accepted: net.Socket) {
    const scanner = new RequestScanner(this, NO_LIMIT, { transientInput: true });
    this.socket = takeOverAccepted(accepted, (chunk) => scanner.feed(chunk));
    this.fd = socketFd(this.socket);
    this.socket.setNoDelay(true);
    this.socket.on('error', () => {});
  }

  onRequest(buf: Buffer, start: number, end: number, argc: number, args: Int32Array): void {
    const slot = argc > 1 ? slotOfKey(buf, args[2], args[3]) : 0;
    linkOfSlot[slot].send(this, this.replies.push(null) - 1, buf, start, end);
  }

  onProtocolError(): void {
    this.socket.destroy();
  }

  acceptsRequests(): boolean {
    return true;
  }

  answer(index: number, reply: Buffer): void {
    this.replies[index] = reply;
    if (++this.answered < this.replies.length) return;
    const out = this.replies.length === 1 ? reply : Buffer.concat(this.replies as Buffer[]);
    this.replies.length = 0;
    this.answered = 0;
    writeToSocket(this.socket, this.fd, out);
  }
}

class Link implements ReplySink {
  private readonly out = Buffer.allocUnsafe(1 << 20);
  private outLength = 0;
  private readonly waiting: Client[] = [];
  private readonly waitingIndex: number[] = [];
  private waitingHead = 0;
  private readonly slabs = new ReadSlabs();
  private readonly scanner = new ReplyScanner(this);
  private readonly socket: net.Socket;
  private fd = -1;

  constructor(host: string, port: number) {
    const onread = {
      buffer: () => this.slabs.next(),
      callback: (n: number) => {
        this.scanner.feed(this.slabs.took(n));
        return true;
      },
    };
    this.socket = net.connect({ host, port, onread });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => (this.fd = socketFd(this.socket)));
  }

  send(client: Client, index: number, buf: Buffer, start: number, end: number): void {
    buf.copy(this.out, this.outLength, start, end);
    this.outLength += end - start;
    this.waiting.push(client);
    this.waitingIndex.push(index);
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

  onReply(buf: Buffer, start: number, end: number): void {
    const k = this.waitingHead++;
    this.waiting[k].answer(this.waitingIndex[k], buf.subarray(start, end));
    if (this.waitingHead > 4096) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingIndex.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  onReplyProtocolError(message: string): void {
    throw new Error(`node sent bad RESP: ${message}`);
  }
}

const port = Number(process.argv[2]);
const seedPort = Number(process.argv[3]);
const { view } = await new TopologySource([`127.0.0.1:${seedPort}`], {}, 2000).fetch([]);
for (const shard of view.shards) {
  const link = new Link(shard.master.host, shard.master.port);
  links.push(link);
  for (const [from, to] of shard.ranges) linkOfSlot.fill(link, from, to + 1);
}

net.createServer({ pauseOnConnect: true }, (accepted) => new Client(accepted)).listen(port, '127.0.0.1');
