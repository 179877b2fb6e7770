import type { Protocol } from '../../resp/encode.js';
import { Request, type ReplyTarget } from '../request.js';

/** The replies of a fan-out's sub-requests, by sub-request index (what merges read). */
export interface ChildReplies {
  readonly count: number;
  readonly bufs: Buffer[];
  readonly starts: ArrayLike<number>;
  readonly ends: ArrayLike<number>;
}

/** One sub-request of a fan-out: its reply goes to the Gather at `index`. */
export class SubRequest extends Request {
  constructor(gather: Gather, buf: Buffer, start: number, end: number, slot: number, readonly index: number) {
    super(gather, buf, start, end, slot);
  }
}

/**
 * Collects the replies of a fan-out's sub-requests and calls `done` once all are in. It stands
 * in for the client as their reply target (same id, so keyless sub-requests and link choice
 * follow the client's, and the same read batch). Its sub-requests go on links of the client's
 * protocol: the nodes then encode every value as they would for the client, so the merged
 * reply is made of the nodes' own element bytes, byte-identical to what one Redis would send
 * that client (re-encoding RESP2 replies for a RESP3 client would have to guess types: a
 * RESP2 `$-1` is RESP3's `_`, but a RESP2 bulk string may be a RESP3 double).
 */
export class Gather implements ReplyTarget, ChildReplies {
  readonly bufs: Buffer[];
  readonly starts: number[];
  readonly ends: number[];
  private remaining: number;

  constructor(
    readonly id: number,
    readonly protocol: Protocol,
    readonly batch: number,
    readonly count: number,
    private readonly done: (replies: Gather) => void,
  ) {
    this.bufs = new Array<Buffer>(count);
    this.starts = new Array<number>(count);
    this.ends = new Array<number>(count);
    this.remaining = count;
    if (count === 0) queueMicrotask(() => done(this));
  }

  /** A sub-request for reply `index` carrying the encoded command `command` (or its bytes [start, end)). */
  child(index: number, command: Buffer, slot = -1, start = 0, end = command.length): SubRequest {
    return new SubRequest(this, command, start, end, slot, index);
  }

  replyReady(request: Request): void {
    const i = (request as SubRequest).index;
    this.bufs[i] = request.replyBuf as Buffer;
    this.starts[i] = request.replyStart;
    this.ends[i] = request.replyEnd;
    if (--this.remaining === 0) this.done(this);
  }
}
