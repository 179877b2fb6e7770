const SLAB_SIZE = 64 * 1024;
/** A read gets at least this much room; a smaller rest of a slab is left unused. */
const MIN_READ = 16 * 1024;

/**
 * Read buffers for one socket whose data is kept as views (a node link's replies wait in client
 * output queues until written): each read lands in the unused rest of a 64 KiB slab, so a slab
 * serves many reads, and is never written twice. Use with Node's `onread` option, `next` as its
 * `buffer` function, and call `took(n)` from its callback.
 */
export class ReadSlabs {
  private slab = Buffer.allocUnsafe(SLAB_SIZE);
  private used = 0;

  /** The buffer for the next read: the rest of the current slab, or a new slab. */
  next(): Buffer {
    if (SLAB_SIZE - this.used < MIN_READ) {
      this.slab = Buffer.allocUnsafe(SLAB_SIZE);
      this.used = 0;
    }
    return this.slab.subarray(this.used);
  }

  /** The `length` bytes just read into the buffer `next` handed out; they belong to the caller now. */
  took(length: number): Buffer {
    const chunk = this.slab.subarray(this.used, this.used + length);
    this.used += length;
    return chunk;
  }
}
