import type { AclUser } from '../auth/users.js';
import type { Transaction } from './private/transaction.js';
import type { Subscription } from './private/subscription.js';
import type { BlockedCall } from './private/blocked-call.js';
import type net from 'node:net';
import { RequestScanner, type RequestScannerLimits, type RequestSink } from '../resp/request-scanner.js';
import { errorReply, type Protocol } from '../resp/encode.js';
import { WriteBatch } from '../util/write-batch.js';
import { endGracefully } from '../net/end-gracefully.js';
import type { ClientTransport, TransportOpener } from '../net/client-transport.js';
import { scheduleFlush, type Flushable } from '../util/flush-scheduler.js';
import type { ClientContext, ClientView, ServerContext } from './client-context.js';
import type { Dispatcher } from './dispatcher.js';
import { Request, type ReplyTarget } from './request.js';
import { readClock, tickReadClock } from '../util/read-clock.js';
import type { CommandStat } from '../telemetry/command-stats.js';
import type { ClientTraffic } from '../telemetry/client-traffic.js';
import type { OutputLimits } from '../config/output-limits.js';
import type { NodeLink } from '../upstream/node-link.js';
import { clock } from '../util/coarse-clock.js';

/** Client state held on dedicated node connections (a transaction, a subscription, a blocked call). */
export interface ConnectionState {
  /** The client went away or was RESET: give back or close what it holds. */
  end(): void;
}

/** CLIENT REPLY: ON, OFF, SKIP (for the CLIENT REPLY SKIP itself, then for the next command). */
export type ReplyMode = 'on' | 'off' | 'skip';
const REPLY_ON = 0;
const REPLY_OFF = 1;
const REPLY_SKIP_SELF = 2;
const REPLY_SKIP_NEXT = 3;

/** The `channel` after a protocol switch: the links of the protocol the earlier requests went on. */
const PROTOCOL_SWITCH = { links: 'of the previous protocol' };

/** Ready reply bytes beyond which a session writes without waiting for the rest of their read. */
const HOLD_MAX_BYTES = 64 * 1024;

/**
 * Limits every session shares (one object, so PROXY CONFIG SET and a SIGHUP reload reach open
 * connections too): the scanner's (proto-max-bulk-len, max-args, client-query-buffer-limit as
 * `maxBuffered`) are read by each client's scanner as it parses.
 */
export interface SessionLimits extends RequestScannerLimits {
  /** Requests in flight before slotgate stops reading from the client. */
  maxPending: number;
  /** End-to-end milliseconds from which a request goes to the slow log. */
  slowMs: number;
  /** Reply bytes a client may have waiting (client-output-buffer-limit). */
  outputLimits: OutputLimits;
  /** Milliseconds without a request after which a client is closed (0: never). */
  idleTimeoutMs: number;
}

/**
 * One client connection: scans its requests, hands them to the dispatcher and writes the
 * replies strictly in request order (a reply is written only when every earlier one was).
 * Backpressure: reading stops while the client has too many requests in flight or does not
 * read its replies, and resumes when both are drained.
 */
export class Session implements RequestSink, ReplyTarget, Flushable, ClientContext, ClientView {
  flushQueued = false;
  name: string | null = null;
  libName = '';
  libVersion = '';
  authenticated: boolean;
  user: AclUser | null;
  /** RESP2 until HELLO 3 (a plain field: every request copies it, see Request.protocol). */
  protocol: Protocol = 2;

  private head: Request | null = null;
  private tail: Request | null = null;
  private inFlight = 0;
  private readonly out = new WriteBatch();
  private readonly scanner: RequestScanner;
  private readonly socket: net.Socket;
  /** Plain TCP's fast path or TLS' stream, chosen at accept (src/net/client-transport.ts). */
  private readonly transport: ClientTransport;
  /** No more requests are read (QUIT, protocol error); close once the replies are written. */
  private closing = false;
  /** The last reply was written and the socket ended. */
  private ended = false;
  /** Reads from the client so far: the requests of one read form one batch (see `flush`). */
  batch = 0;
  /** Batch of the last reply moved to the output. */
  private outBatch = -1;
  private closed = false;
  private pausedForPending = false;
  private pausedForOutput = false;
  /** A node link this client sent to has too many requests in flight (node-max-pending). */
  private pausedForLink = false;
  /** Coarse-clock time of the last read from the client (client-idle-timeout). */
  private lastReadAt = clock.now;
  /** Coarse-clock time since which the output is above the soft limit (0: it is not). */
  private overSoftSince = 0;
  /** A request later ones must not overtake (a whole-cluster command still talking to the nodes). */
  private barrier: Request | null = null;
  private readonly connectedAt = Date.now();
  /** MULTI/WATCH in progress (src/proxy/private/transaction.ts). */
  transaction: Transaction | null = null;
  /** Subscriptions (src/proxy/private/subscription.ts). */
  subscription: Subscription | null = null;
  /** A blocking command waiting on its dedicated link. */
  blocked: BlockedCall | null = null;
  /**
   * The dedicated link the last request went on (or PROTOCOL_SWITCH after a HELLO that changed
   * the protocol), null for the shared links. A request for other links waits until the earlier
   * ones are answered, so it cannot overtake them at the node.
   */
  channel: object | null = null;
  /** REPLY_ON unless CLIENT REPLY OFF or SKIP is in force. */
  private replyMode = REPLY_ON;
  /** The command being dispatched (set by the dispatcher): the requests enqueued for it count there. */
  command: CommandStat | null = null;
  private readonly traffic: ClientTraffic;

  /** `openTransport` starts reading the accepted connection into this session. */
  constructor(
    readonly id: number,
    openTransport: TransportOpener,
    readonly server: ServerContext,
    private readonly dispatcher: Dispatcher,
    private readonly limits: SessionLimits,
    private readonly onClose: (session: Session) => void,
  ) {
    this.user = server.users.initialUser;
    this.authenticated = this.user !== null;
    this.traffic = server.traffic;
    this.scanner = new RequestScanner(this, limits, { transientInput: true });
    this.transport = openTransport((chunk) => {
      tickReadClock();
      this.batch++;
      this.lastReadAt = clock.now;
      this.traffic.bytesIn += chunk.length;
      if (!this.closing) this.scanner.feed(chunk);
    });
    const socket = this.transport.socket;
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('drain', () => {
      this.pausedForOutput = false;
      this.updateReading();
    });
    socket.on('error', () => {
      /* 'close' follows */
    });
    socket.on('end', () => this.onInputEnd());
    socket.on('close', () => this.onSocketClose());
  }

  onRequest(buf: Buffer, start: number, end: number, argc: number, args: Int32Array): void {
    if (this.closing) return;
    this.dispatcher.dispatch(this, buf, start, end, argc, args);
  }

  /** Flow control: false while the client has too many requests in flight or does not read its replies. */
  acceptsRequests(): boolean {
    return (
      !this.closing &&
      !this.pausedForPending &&
      !this.pausedForOutput &&
      !this.pausedForLink &&
      this.barrier === null &&
      this.inFlight < this.limits.maxPending
    );
  }

  /** The connection is gone (its queue was dropped). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Requests read from this client and not yet answered to it. */
  get pendingRequests(): number {
    return this.inFlight;
  }

  /** Reply bytes waiting to be written to this client (in slotgate, not yet in the kernel). */
  get outputBytes(): number {
    return this.out.bytes + this.socket.writableLength;
  }

  /** Bytes of this client's requests read but not yet dispatched. */
  get queryBytes(): number {
    return this.scanner.buffered;
  }

  onProtocolError(message: string): void {
    if (this.closing) return;
    this.traffic.protocolErrors++;
    const reply = errorReply(`ERR ${message}`);
    if (this.subscription !== null) {
      // (P|S)SUBSCRIBE confirmations come as frames from the links, not as replies in the queue:
      // the error waits until the links delivered what the earlier requests owe, so it stays last.
      this.closeAfterReply();
      this.subscription.afterOwed(() => this.enqueue(Request.answered(this, reply)));
      return;
    }
    this.enqueue(Request.answered(this, reply));
    this.closeAfterReply();
  }

  /**
   * The client half-closed: it will send nothing more. Redis answers every request it read
   * before the end of the input (`printf 'SET a 1\r\nGET a\r\n' | nc -N` gets both replies), so
   * the requests in flight are answered, then the connection closes. A client blocked,
   * subscribed or inside MULTI is let go at once, as Redis frees it on the end of its input.
   * (TLS sockets are not half-open: Node ends them itself.)
   */
  private onInputEnd(): void {
    if (this.closed || !this.socket.allowHalfOpen) return;
    if (this.blocked !== null || this.subscription !== null || this.transaction !== null) {
      this.socket.destroy();
      return;
    }
    this.closeAfterReply();
  }

  /**
   * Reads no more requests; closes once every reply is written. Input keeps being read (and
   * dropped) so the end of it is seen and no unread bytes turn the close into a reset.
   */
  closeAfterReply(): void {
    this.closing = true;
    // With nothing left to answer, the flush closes at once.
    scheduleFlush(this);
  }

  /** Takes the request's place in the reply order; call before routing it. */
  enqueue(request: Request): void {
    if (this.replyMode !== REPLY_ON) this.applyReplyMode(request);
    request.command = this.command;
    if (this.tail === null) this.head = request;
    else this.tail.next = request;
    this.tail = request;
    this.inFlight++;
    if (request.replyBuf !== null && request === this.head) this.drainReplies();
    else if (this.inFlight >= this.limits.maxPending && !this.pausedForPending) {
      this.pausedForPending = true;
      this.socket.pause();
    }
  }

  waitForLink(link: NodeLink, resumeAt: number): void {
    if (this.pausedForLink) return;
    this.pausedForLink = true;
    this.socket.pause();
    link.whenDrained(this.linkDrained, resumeAt);
  }

  private readonly linkDrained = (): void => {
    this.pausedForLink = false;
    this.updateReading();
  };

  /**
   * Closes the client when its waiting reply bytes are past the output buffer limit of its
   * class (at once above the hard limit; above the soft one for its seconds), as Redis does
   * with a slow reader. Checked when a write could not go out at once, on each message pushed
   * meanwhile, and by the server's periodic check. True when it closed the client.
   */
  checkOutputLimit(now: number): boolean {
    if (this.closed) return false;
    const limit = this.subscription !== null ? this.limits.outputLimits.pubsub : this.limits.outputLimits.normal;
    const bytes = this.outputBytes;
    let over = limit.hard > 0 && bytes >= limit.hard;
    if (!over && limit.soft > 0 && bytes >= limit.soft) {
      if (this.overSoftSince === 0) this.overSoftSince = now;
      else over = now - this.overSoftSince >= limit.softSeconds * 1000;
    } else if (!over) {
      this.overSoftSince = 0;
    }
    if (!over) return false;
    this.traffic.outputLimitCloses++;
    this.server.log.warn(
      { client: this.id, addr: this.peerAddress, outputBytes: bytes, type: this.type },
      'client closed for overcoming of output buffer limits',
    );
    this.kill();
    return true;
  }

  /**
   * Closes the client if it sent nothing for client-idle-timeout and waits for nothing (Redis'
   * `timeout`: subscribed and blocked clients are not idle). True when it closed the client.
   */
  checkIdle(now: number): boolean {
    const timeout = this.limits.idleTimeoutMs;
    if (timeout === 0 || this.closed || this.inFlight > 0 || this.subscription !== null || this.blocked !== null) return false;
    if (now - this.lastReadAt < timeout) return false;
    this.traffic.idleCloses++;
    this.kill();
    return true;
  }

  /** CLIENT REPLY ON|OFF|SKIP: applies from the CLIENT REPLY command's own reply on, as on Redis. */
  setReplyMode(mode: ReplyMode): void {
    this.replyMode = mode === 'on' ? REPLY_ON : mode === 'off' ? REPLY_OFF : REPLY_SKIP_SELF;
  }

  private applyReplyMode(request: Request): void {
    request.silent = true;
    if (this.replyMode === REPLY_SKIP_SELF) this.replyMode = REPLY_SKIP_NEXT;
    else if (this.replyMode === REPLY_SKIP_NEXT) this.replyMode = REPLY_ON;
  }

  replyReady(request: Request): void {
    if (this.closed) return;
    if (request === this.head) this.drainReplies();
    if (request === this.barrier) {
      this.barrier = null;
      this.updateReading();
    }
  }

  /**
   * Dispatches nothing more from this client until `request` is answered. For commands that
   * reach the nodes in several steps (whole-cluster commands): the client's later requests must
   * not run before them, as they would not on one server.
   */
  holdUntilAnswered(request: Request): void {
    if (request.replyBuf !== null) return;
    // The socket keeps being read (the scanner holds what comes, within the query buffer
    // limit), so a client that goes away while held, e.g. blocked in BLPOP, is seen at once.
    this.barrier = request;
  }

  /**
   * Enqueues `request` and calls `start` (which sends it) once every earlier request of this
   * client is answered; meanwhile nothing later is dispatched. With `exclusive`, nothing later
   * is dispatched until it is answered either (Redis runs nothing of a client blocked in BLPOP).
   * The request's bytes are copied: the read buffer they are in is reused.
   */
  enqueueWhenHead(request: Request, start: () => void, exclusive: boolean): void {
    request.exclusive = exclusive;
    if (this.head === null) {
      this.enqueue(request);
      if (exclusive) this.holdUntilAnswered(request);
      start();
      return;
    }
    request.keepBytes();
    request.startWhenHead = start;
    this.enqueue(request);
    this.barrier = request; // as in holdUntilAnswered, the socket keeps being read
  }

  /** Puts a request that took slowlog-log-slower-than or more into the slow log (rare: off the hot path). */
  private logSlow(request: Request): void {
    const bytes = request.buf.subarray(request.start, request.end);
    const us = (readClock.now - request.startedAt) * 1000;
    this.server.slowlog.record(bytes, us, this.peerAddress, this.name ?? '', request.node as string);
  }

  /** Starts the head request if it waited for the earlier ones (enqueueWhenHead). */
  private startHead(head: Request): void {
    const start = head.startWhenHead as () => void;
    head.startWhenHead = null;
    if (!head.exclusive && this.barrier === head) this.barrier = null;
    start();
    if (this.barrier === null) this.updateReading();
  }

  /**
   * Writes a frame that answers no request of the queue (a subscription's message), after
   * every reply already written.
   */
  pushFrame(buf: Buffer, start: number, end: number): void {
    // Closing with nothing left in the queue: the last reply (QUIT's, a protocol error) is out,
    // and Redis writes nothing after it (a message published meanwhile is not delivered).
    if (this.closed || (this.closing && this.head === null)) return;
    this.out.add(buf, start, end);
    if (this.pausedForOutput && this.checkOutputLimit(clock.now)) return;
    scheduleFlush(this);
  }

  /**
   * From the next request on, the client speaks `protocol`, and its requests go on the links of
   * that protocol: other connections to the same nodes. Its earlier requests, still in flight on
   * the old links, must run first (as on one connection), so the later ones wait for them.
   */
  switchProtocol(protocol: Protocol): void {
    if (protocol === this.protocol) return;
    this.protocol = protocol;
    // Later requests go on the other protocol's links: like a switch to a dedicated link, the
    // next one waits until the earlier ones are answered (see `channel`).
    if (this.inFlight > 0) this.channel = PROTOCOL_SWITCH;
  }

  /** Moves every finished reply at the head of the queue to the output. */
  private drainReplies(): void {
    let head = this.head;
    const now = readClock.now; // the latest socket read's time, shared by every reply drained here
    while (head !== null && head.replyBuf !== null) {
      if (head.replyEnd > head.replyStart) {
        // An empty reply is a placeholder whose command is dispatched (and counted) again.
        head.command?.record(head.replyBuf[head.replyStart], now - head.startedAt);
        if (!head.silent) this.out.add(head.replyBuf, head.replyStart, head.replyEnd);
      }
      if (now - head.startedAt >= this.limits.slowMs && head.node !== null && head.timed) this.logSlow(head);
      this.outBatch = head.batch;
      head = head.next;
      this.inFlight--;
    }
    this.head = head;
    if (head === null) this.tail = null;
    scheduleFlush(this);
    if (head !== null && head.startWhenHead !== null) this.startHead(head);
    if (this.pausedForPending && this.inFlight < this.limits.maxPending / 2) {
      this.pausedForPending = false;
      this.updateReading();
    }
  }

  flush(): void {
    if (this.closed) return;
    if (this.ended) {
      // Closing already (a subscription's message came after the last reply): nothing more goes out.
      this.out.clear();
      return;
    }
    // Like Redis, which answers everything one read brought in one write: while requests of the
    // same read still wait for their node, the ready replies wait for them. Every write on
    // loopback costs the kernel a wake-up of the reader; at pipeline depth 16 that was the largest
    // cost per request (a read's requests go to several nodes, whose replies come in different
    // turns). The reply that completes the batch schedules the next flush.
    if (this.head !== null && this.head.batch === this.outBatch && this.out.bytes < HOLD_MAX_BYTES && !this.closing) {
      return;
    }
    if (!this.out.isEmpty) this.traffic.bytesOut += this.out.bytes;
    if (!this.out.isEmpty && !this.transport.write(this.out.take())) {
      this.pausedForOutput = true;
      this.socket.pause();
      if (this.checkOutputLimit(clock.now)) return;
    }
    if (this.closing && this.head === null && !this.ended) {
      this.ended = true;
      // Like Redis after QUIT or a protocol error: close once the last reply is out, whatever the
      // client does (without a reset that could drop the last replies: see endGracefully).
      endGracefully(this.socket);
    }
  }

  /** Reads again once nothing holds the client back: first the requests held in the scanner. */
  private updateReading(): void {
    if (this.closed || !this.acceptsRequests()) return;
    this.scanner.resume();
    if (this.acceptsRequests()) this.socket.resume();
  }

  get localAddress(): string {
    return this.socket.localAddress ?? '127.0.0.1';
  }

  get localPort(): number {
    return this.socket.localPort ?? this.server.port;
  }

  /** This client in CLIENT LIST format. */
  describe(now: number): string {
    const age = Math.floor((now - this.connectedAt) / 1000);
    return (
      `id=${this.id} addr=${this.peerAddress} laddr=${this.socketAddress} fd=${this.transport.fd} ` +
      `name=${this.name ?? ''} user=${this.user?.name ?? 'default'} age=${age} pending=${this.inFlight} qbuf=${this.queryBytes} omem=${this.outputBytes} ` +
      `lib-name=${this.libName} lib-ver=${this.libVersion} resp=${this.protocol}`
    );
  }

  /** Closes the connection now (server shutdown). */
  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Graceful shutdown: reads no more requests (bytes still coming are read and dropped, as after
   * QUIT), answers the ones in flight, then closes. With nothing in flight that is at once,
   * whatever connection state the client has: subscribed and inside-MULTI clients could never
   * send the request that ends their state, so they are closed (the transaction is discarded on
   * its node, the subscriptions end). A blocked client waits for its reply like any other
   * request in flight.
   */
  drain(): void {
    if (this.closed) return;
    this.closeAfterReply();
    // Read (and drop) what still comes, as after QUIT: unread input would turn the close into a reset.
    this.pausedForPending = false;
    this.socket.resume();
  }

  /** The user this client is authenticated as changed (SIGHUP reload): its new rules apply from the next request. */
  rebind(user: AclUser): void {
    this.user = user;
    this.authenticated = true;
  }

  /** Ends the client's transaction, subscriptions and blocked call (it went away, or RESET). */
  endConnectionState(): void {
    const states = [this.transaction, this.subscription, this.blocked];
    this.transaction = null;
    this.subscription = null;
    this.blocked = null;
    this.channel = null;
    for (const state of states) state?.end();
  }

  get peerAddress(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  get socketAddress(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  /** Redis' client type (CLIENT KILL TYPE): `pubsub` while subscribed, else `normal`. */
  get type(): string {
    return this.subscription !== null ? 'pubsub' : 'normal';
  }

  /** CLIENT KILL: closes the connection now, and the session is gone from the client list at once. */
  kill(): void {
    this.socket.destroy();
    this.onSocketClose();
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.head = null;
    this.tail = null;
    this.out.clear();
    this.endConnectionState();
    this.onClose(this);
  }
}
