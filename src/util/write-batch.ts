/**
 * Byte ranges waiting to be written to one socket, joined into a single buffer at flush time,
 * so one write carries everything a turn of the event loop produced. Adjacent ranges of the
 * same buffer (a client's pipelined requests, a node's consecutive replies) merge for free.
 */
export class WriteBatch {
  private bufs: (Buffer | null)[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  private count = 0;
  bytes = 0;

  get isEmpty(): boolean {
    return this.count === 0;
  }

  add(buf: Buffer, start: number, end: number): void {
    const last = this.count - 1;
    if (last >= 0 && this.bufs[last] === buf && this.ends[last] === start) {
      this.ends[last] = end;
    } else {
      this.bufs[this.count] = buf;
      this.starts[this.count] = start;
      this.ends[this.count] = end;
      this.count++;
    }
    this.bytes += end - start;
  }

  /** Everything added since the last take, as one buffer (a view when it is a single range). */
  take(): Buffer {
    let out: Buffer;
    if (this.count === 1) {
      out = (this.bufs[0] as Buffer).subarray(this.starts[0], this.ends[0]);
      this.bufs[0] = null;
    } else {
      out = Buffer.allocUnsafe(this.bytes);
      let offset = 0;
      for (let i = 0; i < this.count; i++) {
        offset += (this.bufs[i] as Buffer).copy(out, offset, this.starts[i], this.ends[i]);
        this.bufs[i] = null;
      }
    }
    this.count = 0;
    this.bytes = 0;
    return out;
  }

  clear(): void {
    this.bufs = [];
    this.starts = [];
    this.ends = [];
    this.count = 0;
    this.bytes = 0;
  }
}
