import type { Protocol } from '../resp/encode.js';
import type { PendingReply } from '../upstream/pending.js';
import type { NodeLink } from '../upstream/node-link.js';
import { readClock } from '../util/read-clock.js';
import { clock } from '../util/coarse-clock.js';
import type { CommandStat } from '../telemetry/command-stats.js';

/** Where a request's reply goes: the client session, which writes replies in request order. */
export interface ReplyTarget {
  replyReady(request: Request): void;
  readonly id: number;
  /** The client's RESP version: its requests go on node links of that version, so node replies need no translation. */
  readonly protocol: Protocol;
  /** Counts the client's reads; a request belongs to the read it came in (see Session.flush). */
  readonly batch: number;
  /** Stop reading from the client until `link` has `resumeAt` requests in flight or fewer (node-max-pending). */
  waitForLink?(link: NodeLink, resumeAt: number): void;
}

/**
 * One client request on its way through slotgate: a view of the client's original bytes, the
 * slot it routes by, and, once known, a view of the reply bytes. It is also the session's
 * queue entry (`next`), so ordering replies allocates nothing more.
 *
 * The original bytes are first a view of the client's read buffer, which is reused by the next
 * read: once routed, they are a view of the link's copy (`sentFrom`), or of the request's own
 * copy (`keepBytes`) while it waits for a node.
 */
export class Request implements PendingReply {
  /** False for requests aimed at one particular node (whole-cluster fan-outs): never redirected or re-routed. */
  retryable = true;
  /** Next request of the same client, in arrival order. */
  next: Request | null = null;
  replyBuf: Buffer | null = null;
  replyStart = 0;
  replyEnd = 0;
  /** Read-only (Redis' `readonly` command flag): may be sent again after its connection was lost in flight. */
  readOnly = false;
  /** Already sent again once after a lost connection. */
  private resent = false;
  /** MOVED/ASK hops taken and TRYAGAIN/CLUSTERDOWN retries made. */
  redirects = 0;
  retries = 0;
  /** Coarse-clock time after which slotgate gives up on this request. */
  deadline = 0;
  /** The client read it came in. */
  readonly batch: number;
  /**
   * Sends the request once every earlier request of the client is answered (see
   * Session.enqueueWhenHead); null once started, or for requests sent at once.
   */
  startWhenHead: (() => void) | null = null;
  /** The client's later requests wait until this one is answered (a blocking command, EXEC). */
  exclusive = false;
  /** Its reply is not written (CLIENT REPLY OFF or SKIP). */
  silent = false;
  /** readClock time of the client read it came in: its reply time (metrics, slow log) starts there. */
  startedAt: number;
  /** False for a blocking command: its blocked time is not slowness (Redis' slow log leaves it out too). */
  timed = true;
  /** host:port of the node it was last sent to (null: answered by slotgate or a fan-out). */
  node: string | null = null;
  /** The client command it answers, counted when its reply is ready (set by Session.enqueue; null for sub-requests). */
  command: CommandStat | null = null;
  /**
   * The client's protocol when it was read: its reply must be in that one, also when it is sent
   * again (MOVED, TRYAGAIN, parked) after the client switched with a later HELLO.
   */
  readonly protocol: Protocol;

  constructor(
    readonly client: ReplyTarget,
    public buf: Buffer,
    public start: number,
    public end: number,
    /** Slot of its keys, or -1 for keyless commands. */
    readonly slot: number,
  ) {
    this.batch = client.batch;
    this.startedAt = readClock.now;
    this.protocol = client.protocol;
  }

  complete(buf: Buffer, start: number, end: number): void {
    if (this.replyBuf !== null) return;
    this.replyBuf = buf;
    this.replyStart = start;
    this.replyEnd = end;
    this.client.replyReady(this);
  }

  fail(reply: Buffer): void {
    this.complete(reply, 0, reply.length);
  }

  sentFrom(buf: Buffer, start: number, end: number, via?: string): void {
    if (via !== undefined) this.node = via;
    this.buf = buf;
    this.start = start;
    this.end = end;
  }

  giveUp(reply: Buffer): boolean {
    if (this.replyBuf !== null) return false;
    this.fail(reply);
    return true;
  }

  resendAfterLoss(): boolean {
    if (!this.readOnly || this.resent || this.replyBuf !== null || clock.now > this.deadline) return false;
    this.resent = true;
    return true;
  }

  /** Copies the request's bytes, so they outlive the read buffer they came in. */
  keepBytes(): void {
    this.sentFrom(Buffer.from(this.buf.subarray(this.start, this.end)), 0, this.end - this.start);
  }

  /** A request answered by slotgate itself. */
  static answered(client: ReplyTarget, reply: Buffer): Request {
    const request = new Request(client, reply, 0, 0, -1);
    request.replyBuf = reply;
    request.replyEnd = reply.length;
    return request;
  }
}
