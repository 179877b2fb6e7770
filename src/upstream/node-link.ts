import type net from 'node:net';
import { ReplyScanner, type ReplySink } from '../resp/reply-scanner.js';
import { encodeCommand, errorReply, type Protocol } from '../resp/encode.js';
import { OutputSlab } from '../util/output-slab.js';
import { ReadSlabs } from '../util/read-slabs.js';
import { socketFd, writePiecesToSocket, writeToSocket } from '../net/direct-write.js';
import { isReusedReadBuffer } from '../net/accepted-socket.js';
import { connectToNode, type BackendTls } from '../net/backend-tls.js';
import { scheduleFlush, type Flushable } from '../util/flush-scheduler.js';
import { clock } from '../util/coarse-clock.js';
import { tickReadClock } from '../util/read-clock.js';
import { PendingQueue, type PendingReply } from './pending.js';
import type { NodeCredentials } from './query-node.js';

export interface LinkOptions {
  connectTimeoutMs: number;
  /** TCP keepalive idle time (0: off). */
  keepaliveMs: number;
  credentials: NodeCredentials;
  /** TLS towards the nodes, null for plain TCP. */
  tls: BackendTls | null;
}

/** What a link reports to the router that owns it. */
export interface LinkEvents {
  /**
   * An error reply to a retryable request: returns true when the router took the request over
   * (MOVED, ASK, TRYAGAIN, CLUSTERDOWN), false to give the error to the client as it is.
   */
  onRedirect(link: NodeLink, entry: PendingReply, buf: Buffer, start: number, end: number): boolean;
  /**
   * The connection was lost or never made. `again` are the requests to send elsewhere, in their
   * order: those never written, and read-only ones that were (see PendingReply.resendAfterLoss).
   */
  onLinkDown(link: NodeLink, reason: string, again: PendingReply[]): void;
  /** The connection is back after a loss (for the log: node up). */
  onLinkUp?(link: NodeLink): void;
}

type LinkState = 'idle' | 'connecting' | 'ready' | 'closed';

const ASKING = encodeCommand(['ASKING']);
const RECONNECT_MIN_MS = 50;
/** Requests from this size on are written from their own buffer, not copied to the output slab. */
const ATTACH_MIN_BYTES = 16 * 1024;
const RECONNECT_MAX_MS = 2000;

/** Discards the reply of a command sent before a request (ASKING, SCRIPT LOAD): see `sendAfter`. */
export const discardedReply: PendingReply = {
  complete() {},
  fail() {},
  sentFrom() {},
  retryable: false,
  deadline: Infinity,
  resendAfterLoss: () => false,
  giveUp: () => false,
};

/**
 * One shared, pipelined connection to a Redis node. Requests of many clients are appended to one
 * write per event-loop turn; replies come back in the same order and are matched FIFO to their
 * requests, forwarded as the node's bytes. Connects lazily, re-connects with capped backoff.
 * It speaks one protocol (RESP2, or RESP3 after a `HELLO 3` handshake) for clients of that protocol.
 */
export class NodeLink implements ReplySink, Flushable {
  flushQueued = false;
  private state: LinkState = 'idle';
  private socket: net.Socket | null = null;
  /** The socket's file descriptor once connected (-1: write through the stream). */
  private fd = -1;
  private readonly pending = new PendingQueue();
  /** Bytes of the newest `unsent` pending entries, not yet written to the socket. */
  private readonly out = new OutputSlab();
  private unsent = 0;
  /** Replies are read into slabs and forwarded as views of them. */
  private readonly readSlabs = new ReadSlabs();
  private readonly scanner = new ReplyScanner(this);
  /** Replies still expected for the connection handshake (AUTH or HELLO 3), before any request's reply. */
  private handshakeReplies = 0;
  private failures = 0;
  /** Requests written to this link so far (metrics). */
  requestsSent = 0;
  /** Times the connection was lost, refused or timed out (metrics). */
  linkFailures = 0;
  /** Called back once in-flight requests fall to `resumeAt`: clients that stopped being read for this link (see `whenDrained`). */
  private waiters: (() => void)[] = [];
  private resumeAt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Someone waits for this link to be reachable again (connectSoon): reconnect at the backoff's end. */
  private reconnectWanted = false;
  private connectTimer: NodeJS.Timeout | null = null;
  /**
   * Sees each reply frame before it is matched to a request; returns true when it took the
   * frame (a subscription's messages and confirmations, which answer no pending request).
   * Null on shared links.
   */
  frameFilter: ((buf: Buffer, start: number, end: number) => boolean) | null = null;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly protocol: Protocol,
    private readonly events: LinkEvents,
    private readonly options: LinkOptions,
  ) {
    this.address = `${host}:${port}`;
  }

  /** host:port, made once (every request sent names it, see PendingReply.sentFrom). */
  readonly address: string;

  /** idle, connecting, ready or closed. */
  get status(): string {
    return this.state;
  }

  get inFlight(): number {
    return this.pending.length;
  }

  send(entry: PendingReply, buf: Buffer, start: number, end: number): void {
    if (this.state === 'closed') {
      entry.fail(errorReply(`ERR slotgate: link to ${this.address} is closed`));
      return;
    }
    if (end - start >= ATTACH_MIN_BYTES && !isReusedReadBuffer(buf)) {
      // A large request in a buffer of its own (joined from several reads): written from there.
      this.out.attach(buf, start, end);
      this.queuedView(entry, buf, start, end);
      return;
    }
    const at = this.out.append(buf, start, end);
    this.queued(entry, at, end - start);
  }

  /**
   * Sends bytes no pending entry waits for: on a subscription link, whose frames all go to
   * `frameFilter`.
   */
  sendRaw(buf: Buffer, start: number, end: number): void {
    if (this.state === 'closed') return;
    this.out.append(buf, start, end);
    if (this.state === 'ready') scheduleFlush(this);
    else if (this.state === 'idle' && this.reconnectTimer === null) this.connect();
  }

  /** The connection was lost (or refused) and is not connected again yet: the node may be down. */
  get lost(): boolean {
    return this.failures > 0 && this.state !== 'ready';
  }

  /** False once closed for good: then nothing can be sent (send fails the entry). */
  get open(): boolean {
    return this.state !== 'closed';
  }

  /**
   * Room for a request of `size` bytes that the caller encodes itself, straight into the
   * output (no buffer of its own to copy in): write it at the returned offset of
   * `outputBuffer`, then call `sendReserved`, before anything else is sent on this link.
   * Only on an open link.
   */
  reserve(size: number): number {
    return this.out.reserve(size);
  }

  get outputBuffer(): Buffer {
    return this.out.buffer;
  }

  sendReserved(entry: PendingReply, at: number, size: number): void {
    this.queued(entry, at, size);
  }

  private queued(entry: PendingReply, at: number, size: number): void {
    this.queuedView(entry, this.out.buffer, at, at + size);
  }

  private queuedView(entry: PendingReply, buf: Buffer, start: number, end: number): void {
    this.pending.push(entry, clock.now);
    this.requestsSent++;
    entry.sentFrom(buf, start, end, this.address);
    this.unsent++;
    if (this.state === 'ready') scheduleFlush(this);
    else if (this.state === 'idle' && this.reconnectTimer === null) this.connect();
  }

  /** Sends `entry` preceded by ASKING, back to back on this connection, as an ASK redirect needs. */
  sendAsking(entry: PendingReply, buf: Buffer, start: number, end: number): void {
    this.sendAfter(ASKING, entry, buf, start, end);
  }

  /**
   * Sends the encoded command `first`, whose reply is discarded, and then `entry`, back to back
   * on this connection: nothing can come between them, so the node runs `entry` right after
   * `first` (ASKING before an ASK-redirected request, SCRIPT LOAD before a retried EVALSHA).
   */
  sendAfter(first: Buffer, entry: PendingReply, buf: Buffer, start: number, end: number): void {
    this.send(discardedReply, first, 0, first.length);
    this.send(entry, buf, start, end);
  }

  flush(): void {
    if (this.state !== 'ready' || this.out.isEmpty || this.socket === null) return;
    this.unsent = 0;
    if (this.out.hasPieces) writePiecesToSocket(this.socket, this.fd, this.out.takePieces());
    else writeToSocket(this.socket, this.fd, this.out.take());
  }

  /**
   * Calls `resume` once this link's requests in flight fall to `resumeAt`, or it is lost: a
   * client that sent to it while it had too many stops being read until then (backpressure
   * instead of an unbounded queue towards a slow node).
   */
  whenDrained(resume: () => void, resumeAt: number): void {
    this.waiters.push(resume);
    this.resumeAt = resumeAt;
  }

  private releaseWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resume of waiters) resume();
  }

  /** Opens the connection now rather than at the first send (links kept ready in a pool). */
  connectNow(): void {
    if (this.state === 'idle' && this.reconnectTimer === null) this.connect();
  }

  /** Connects at the end of the current reconnect backoff (now if none), even with nothing queued. */
  connectSoon(): void {
    if (this.state !== 'idle') return;
    if (this.reconnectTimer === null) this.connect();
    else this.reconnectWanted = true;
  }

  /** Oldest time a request still waiting for its reply was queued (Infinity if none). */
  oldestPendingTime(): number {
    return this.pending.oldestTime();
  }

  /**
   * Answers `reply` to requests past their deadline that wait behind newer ones (sent again
   * after a redirect or a lost connection); returns how many. The head's wait is the sweep's.
   */
  failLate(now: number, reply: Buffer): number {
    return this.pending.unordered ? this.pending.failLate(now, reply) : 0;
  }

  /**
   * Drops the connection (timeout, desync, failed handshake): requests already written get
   * `failure` (default: connection lost), unsent ones are handed back to the router.
   */
  abort(reason: string, failure?: Buffer): void {
    if (this.socket !== null) this.socket.destroy();
    this.onDown(reason, failure);
  }

  /** Closes for good: pending requests fail, nothing is re-routed. */
  close(): void {
    const socket = this.socket;
    this.state = 'closed';
    this.clearTimers();
    this.socket = null;
    socket?.destroy();
    this.failAll(errorReply(`ERR slotgate: link to ${this.address} closed`));
    this.releaseWaiters();
  }

  private connect(): void {
    this.state = 'connecting';
    const slabs = this.readSlabs;
    // TLS sockets take `onread` too: decrypted replies land in the slabs all the same.
    const { socket, readyEvent, secure } = connectToNode(this.host, this.port, this.options.tls, {
      buffer: () => slabs.next(),
      callback: (length: number) => {
        tickReadClock();
        const chunk = slabs.took(length);
        if (this.socket === socket) this.scanner.feed(chunk);
        return true;
      },
    });
    this.socket = socket;
    socket.resume(); // flowing, so that the end of the input is seen ('end', then 'close')
    socket.setNoDelay(true);
    if (this.options.keepaliveMs > 0) socket.setKeepAlive(true, this.options.keepaliveMs);
    this.connectTimer = setTimeout(() => {
      if (this.socket === socket) this.abort(`connect timeout after ${this.options.connectTimeoutMs} ms`);
    }, this.options.connectTimeoutMs);
    socket.on(readyEvent, () => {
      if (this.socket !== socket) return;
      this.clearConnectTimer();
      this.state = 'ready';
      this.fd = secure ? -1 : socketFd(socket);
      const recovered = this.failures > 0;
      this.failures = 0;
      this.writeHandshake(socket);
      this.flush();
      if (recovered) this.events.onLinkUp?.(this);
    });
    // 'close' follows an error; the error says why (a refused TLS certificate, a reset).
    let failure = 'connection closed';
    socket.on('error', (error) => {
      failure = error.message;
    });
    socket.on('close', () => {
      if (this.socket === socket) this.onDown(failure);
    });
  }

  private writeHandshake(socket: net.Socket): void {
    const handshake = handshakeCommand(this.protocol, this.options.credentials);
    if (handshake === null) return;
    this.handshakeReplies = 1;
    socket.write(encodeCommand(handshake));
  }

  onReply(buf: Buffer, start: number, end: number): void {
    if (this.handshakeReplies > 0) {
      this.handshakeReplies--;
      if (buf[start] === 0x2d) this.abort(`handshake failed: ${buf.toString('utf8', start + 1, end - 2)}`);
      return;
    }
    if (this.frameFilter !== null && this.frameFilter(buf, start, end)) return;
    // Out-of-band RESP3 pushes come only with subscriptions or client tracking, which never use
    // shared links; should one come anyway it answers no request, and matching it to one would
    // shift every later reply onto the wrong request.
    if (buf[start] === 0x3e) return;
    const entry = this.pending.shift();
    if (entry === null) {
      this.abort('reply without a request');
      return;
    }
    if (this.waiters.length > 0 && this.pending.length <= this.resumeAt) this.releaseWaiters();
    if (buf[start] === 0x2d && entry.retryable && this.events.onRedirect(this, entry, buf, start, end)) return;
    entry.complete(buf, start, end);
  }

  onReplyProtocolError(message: string): void {
    this.abort(message);
  }

  private onDown(reason: string, failure?: Buffer): void {
    if (this.state === 'closed' || this.state === 'idle') return;
    this.clearTimers();
    this.socket = null;
    this.fd = -1;
    this.state = 'idle';
    this.scanner.reset();
    this.handshakeReplies = 0;
    // Entries whose bytes never left slotgate can safely go elsewhere; of the others, which may
    // have run, only read-only ones go again (once); the rest get the error.
    const reply = failure ?? errorReply(`ERR slotgate: connection to ${this.address} lost (${reason})`);
    const again: PendingReply[] = [];
    const written = this.pending.length - this.unsent;
    for (let i = 0; i < written; i++) {
      const entry = this.pending.shift() as PendingReply;
      if (entry.retryable && entry.resendAfterLoss()) again.push(entry);
      else entry.fail(reply);
    }
    for (let entry = this.pending.shift(); entry !== null; entry = this.pending.shift()) {
      if (entry.retryable) again.push(entry);
      else entry.fail(reply);
    }
    this.unsent = 0;
    this.out.clear();
    this.failures++;
    this.linkFailures++;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** (this.failures - 1));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      const wanted = this.reconnectWanted;
      this.reconnectWanted = false;
      if (this.state === 'idle' && (this.pending.length > 0 || wanted)) this.connect();
    }, delay);
    this.events.onLinkDown(this, reason, again);
    this.releaseWaiters();
  }

  private failAll(reply: Buffer): void {
    for (let entry = this.pending.shift(); entry !== null; entry = this.pending.shift()) entry.fail(reply);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private clearTimers(): void {
    this.clearConnectTimer();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }
}

/**
 * The command a new connection starts with: RESP3 links send `HELLO 3`, with the credentials
 * in it (one round trip; user `default` when only a password is set); RESP2 links send AUTH
 * when there are credentials. Null: nothing to send.
 */
export function handshakeCommand(protocol: Protocol, { user, password }: NodeCredentials): string[] | null {
  if (protocol === 3) return password === undefined ? ['HELLO', '3'] : ['HELLO', '3', 'AUTH', user ?? 'default', password];
  if (password === undefined) return null;
  return user !== undefined ? ['AUTH', user, password] : ['AUTH', password];
}
