import type { PendingReply } from '../upstream/pending.js';

/** Where a request's reply goes: the client session, which writes replies in request order. */
export interface ReplyTarget {
  replyReady(request: Request): void;
  readonly id: number;
}

/**
 * One client request on its way through slotgate: a view of the client's original bytes, the
 * slot it routes by, and, once known, a view of the reply bytes. It is also the session's
 * queue entry (`next`), so ordering replies allocates nothing more.
 */
export class Request implements PendingReply {
  readonly retryable = true;
  /** Next request of the same client, in arrival order. */
  next: Request | null = null;
  replyBuf: Buffer | null = null;
  replyStart = 0;
  replyEnd = 0;
  /** MOVED/ASK hops taken and TRYAGAIN/CLUSTERDOWN retries made. */
  redirects = 0;
  retries = 0;
  /** Coarse-clock time after which slotgate gives up on this request. */
  deadline = 0;

  constructor(
    readonly client: ReplyTarget,
    readonly buf: Buffer,
    readonly start: number,
    readonly end: number,
    /** Slot of its keys, or -1 for keyless commands. */
    readonly slot: number,
  ) {}

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

  /** A request answered by slotgate itself. */
  static answered(client: ReplyTarget, reply: Buffer): Request {
    const request = new Request(client, reply, 0, 0, -1);
    request.replyBuf = reply;
    request.replyEnd = reply.length;
    return request;
  }
}
