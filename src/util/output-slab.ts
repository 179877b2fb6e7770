const SLAB_SIZE = 64 * 1024;

/**
 * Bytes queued for one socket, copied in as they are appended, written out as one range per
 * event-loop turn. Copying at once lets the source buffer be reused right away (client sockets
 * share one read buffer); and since a slab is never overwritten, the copy stays valid for as long
 * as something refers to it (a request keeps it to resend after a redirect).
 */
export class OutputSlab {
  private slab = Buffer.allocUnsafe(SLAB_SIZE);
  /** First byte not yet taken for writing. */
  private start = 0;
  /** End of the bytes appended. */
  private end = 0;
  /** What goes out before the slab's bytes [start, end): earlier slab bytes and attached views, in order. */
  private pieces: Buffer[] = [];
  private piecesBytes = 0;

  get isEmpty(): boolean {
    return this.start === this.end && this.piecesBytes === 0;
  }

  /** Bytes appended (or attached) and not yet taken. */
  get bytes(): number {
    return this.end - this.start + this.piecesBytes;
  }

  /** Views were attached since the last take: take them with `takePieces`. */
  get hasPieces(): boolean {
    return this.pieces.length > 0;
  }

  /**
   * Queues buf[start, end) as it is, without copying: for large requests in a buffer that is
   * never written again (copying 100 KB values into slabs cost more than writing them).
   */
  attach(buf: Buffer, start: number, end: number): void {
    this.seal();
    this.pieces.push(buf.subarray(start, end));
    this.piecesBytes += end - start;
  }

  /** Everything queued since the last take, in order, as views (one write with writev). */
  takePieces(): Buffer[] {
    this.seal();
    const pieces = this.pieces;
    this.pieces = [];
    this.piecesBytes = 0;
    return pieces;
  }

  /** Moves the slab bytes not yet taken to the pieces, so an attached view goes after them. */
  private seal(): void {
    if (this.end === this.start) return;
    this.pieces.push(this.slab.subarray(this.start, this.end));
    this.piecesBytes += this.end - this.start;
    this.start = this.end;
  }

  /** The buffer the last `append` copied into (its bytes are at the offset `append` returned). */
  get buffer(): Buffer {
    return this.slab;
  }

  /** Copies buf[start, end) to the queue; returns its offset in `this.buffer`. */
  append(buf: Buffer, start: number, end: number): number {
    const length = end - start;
    if (this.slab.length - this.end < length) this.newSlab(length);
    const at = this.end;
    buf.copy(this.slab, at, start, end);
    this.end = at + length;
    return at;
  }

  /**
   * Makes room for `length` bytes the caller writes itself at the returned offset of
   * `this.buffer` (encoding straight into the queue instead of copying an encoded buffer in).
   */
  reserve(length: number): number {
    if (this.slab.length - this.end < length) this.newSlab(length);
    const at = this.end;
    this.end = at + length;
    return at;
  }

  /** Everything appended since the last take, as one view (when nothing was attached: see `hasPieces`). */
  take(): Buffer {
    const out = this.slab.subarray(this.start, this.end);
    this.start = this.end;
    return out;
  }

  /** Drops what was not taken. */
  clear(): void {
    this.start = this.end;
    this.pieces = [];
    this.piecesBytes = 0;
  }

  /** Moves the bytes not yet taken to a new slab with room for `length` more (the old copy stays valid). */
  private newSlab(length: number): void {
    const queued = this.end - this.start;
    // Room to grow: appends that keep overflowing a full slab must not copy the queue each time.
    const slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, 2 * (queued + length)));
    this.slab.copy(slab, 0, this.start, this.end);
    this.slab = slab;
    this.start = 0;
    this.end = queued;
  }
}
