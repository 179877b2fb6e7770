/** One request sent (or about to be sent) on a node link, waiting for its reply. */
export interface PendingReply {
  /** The node's reply frame, as bytes of `buf`. */
  complete(buf: Buffer, start: number, end: number): void;
  /** No reply will come (connection lost, timeout, handshake failed): `reply` is the error to give. */
  fail(reply: Buffer): void;
  /**
   * The link copied the request's bytes to its own buffer, where they stay valid: send them from
   * there if the request must go again (the original may be a reused read buffer). `via` is the
   * node's host:port (the slow log names it).
   */
  sentFrom(buf: Buffer, start: number, end: number, via?: string): void;
  /** Coarse-clock time by which it must be answered (Infinity: none, e.g. an ASKING before a request). */
  readonly deadline: number;
  /** True for client requests, which may be redirected or re-routed and sent again. */
  readonly retryable: boolean;
  /**
   * The request was written to a connection that was lost (or timed out) before its reply came:
   * true, once, when it may be sent again without being applied twice (a read-only request
   * within its deadline). Writes return false: they may have run, and the client gets an error.
   */
  resendAfterLoss(): boolean;
  /** Answers `reply` now, if not answered yet (true); a reply coming later is dropped. */
  giveUp(reply: Buffer): boolean;
}

/**
 * A FIFO of pending replies with the (coarse) time each was queued; a ring buffer, no shifting.
 * Deadlines mostly grow along the queue; a request sent again (redirected, re-routed after a
 * lost connection) keeps its earlier one and may sit behind newer requests: then `unordered`
 * is set, and `failLate` finds it.
 */
export class PendingQueue {
  private items: (PendingReply | null)[] = new Array(64).fill(null);
  private times = new Float64Array(64);
  private head = 0;
  length = 0;
  /** Some entry has an earlier deadline than one ahead of it (cleared when the queue empties). */
  unordered = false;
  private latestDeadline = 0;

  push(item: PendingReply, time: number): void {
    if (this.length === this.items.length) this.grow();
    const i = (this.head + this.length) & (this.items.length - 1);
    this.items[i] = item;
    this.times[i] = time;
    this.length++;
    if (item.deadline < this.latestDeadline) this.unordered = true;
    else if (item.deadline !== Infinity) this.latestDeadline = item.deadline;
  }

  shift(): PendingReply | null {
    if (this.length === 0) return null;
    const item = this.items[this.head];
    this.items[this.head] = null;
    this.head = (this.head + 1) & (this.items.length - 1);
    if (--this.length === 0) {
      this.unordered = false;
      this.latestDeadline = 0;
    }
    return item;
  }

  /**
   * Gives `reply` to every entry past its deadline now. They stay queued (their replies, when
   * they come, must still be matched and are then dropped: a request takes its first answer).
   */
  failLate(now: number, reply: Buffer): number {
    let failed = 0;
    for (let k = 0; k < this.length; k++) {
      const item = this.items[(this.head + k) & (this.items.length - 1)] as PendingReply;
      if (item.deadline < now && item.giveUp(reply)) failed++;
    }
    return failed;
  }

  /** Queue time of the oldest entry (the head). */
  oldestTime(): number {
    return this.length === 0 ? Infinity : this.times[this.head];
  }

  private grow(): void {
    const size = this.items.length;
    const items: (PendingReply | null)[] = new Array(size * 2).fill(null);
    const times = new Float64Array(size * 2);
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & (size - 1);
      items[k] = this.items[i];
      times[k] = this.times[i];
    }
    this.items = items;
    this.times = times;
    this.head = 0;
  }
}
