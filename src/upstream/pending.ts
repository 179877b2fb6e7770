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
  /** True for client requests, which may be redirected or re-routed and sent again. */
  readonly retryable: boolean;
}

/** A FIFO of pending replies with the (coarse) time each was queued; a ring buffer, no shifting. */
export class PendingQueue {
  private items: (PendingReply | null)[] = new Array(64).fill(null);
  private times = new Float64Array(64);
  private head = 0;
  length = 0;

  push(item: PendingReply, time: number): void {
    if (this.length === this.items.length) this.grow();
    const i = (this.head + this.length) & (this.items.length - 1);
    this.items[i] = item;
    this.times[i] = time;
    this.length++;
  }

  shift(): PendingReply | null {
    if (this.length === 0) return null;
    const item = this.items[this.head];
    this.items[this.head] = null;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.length--;
    return item;
  }

  /** Removes the newest entry (the tail). */
  pop(): PendingReply | null {
    if (this.length === 0) return null;
    const i = (this.head + this.length - 1) & (this.items.length - 1);
    const item = this.items[i];
    this.items[i] = null;
    this.length--;
    return item;
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
