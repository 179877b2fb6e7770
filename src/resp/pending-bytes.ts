/**
 * The bytes of an incomplete frame, plus the chunks received after them. The chunks are joined
 * only once `needed` bytes are held, so a large value arriving in many chunks is copied once,
 * not once per chunk. Shared by the request and the reply scanners.
 *
 * With `transient` input (chunks in a read buffer that the next read overwrites) whatever is
 * held is copied first; otherwise chunks are held as views.
 */
export class PendingBytes {
  constructor(private readonly transient = false) {}

  private rest: Buffer | null = null;
  private chunks: Buffer[] = [];
  private chunksLen = 0;
  /** Joining and rescanning is pointless before this many bytes are held. */
  needed = 0;

  /** Bytes held. */
  get length(): number {
    return (this.rest === null ? 0 : this.rest.length) + this.chunksLen;
  }

  /**
   * Adds a received chunk. Returns the bytes to scan (the chunk itself when nothing was held,
   * else everything joined), or null while fewer than `needed` bytes are held.
   */
  add(chunk: Buffer): Buffer | null {
    if (this.rest === null) return chunk;
    const total = this.rest.length + this.chunksLen + chunk.length;
    if (total < this.needed) {
      this.chunks.push(this.own(chunk));
      this.chunksLen += chunk.length;
      return null;
    }
    const data = Buffer.concat([this.rest, ...this.chunks, chunk], total);
    this.clear();
    return data;
  }

  /** Appends a chunk without joining, whatever `needed` says (the scanner is holding back). */
  hold(chunk: Buffer): void {
    if (this.rest === null) this.rest = this.own(chunk);
    else {
      this.chunks.push(this.own(chunk));
      this.chunksLen += chunk.length;
    }
  }

  /** Holds data[from...] (an incomplete frame) until more bytes arrive. */
  keep(data: Buffer, from: number): void {
    this.rest = this.own(from === 0 ? data : data.subarray(from));
  }

  private own(chunk: Buffer): Buffer {
    return this.transient ? Buffer.from(chunk) : chunk;
  }

  clear(): void {
    this.rest = null;
    this.chunks = [];
    this.chunksLen = 0;
  }
}

/** Marks a length that is not a decimal integer. */
export const BAD_NUMBER = -0x7fffffff;

/**
 * Parses a signed decimal integer in data[from, to) as Redis' string2ll does: no spaces, no `+`,
 * no leading zeros, no `-0`. Returns BAD_NUMBER when it is not one (or has more than 15 digits).
 */
export function parseDecimal(data: Buffer, from: number, to: number): number {
  let i = from;
  let negative = false;
  if (i < to && data[i] === 45) {
    negative = true;
    i++;
  }
  if (i >= to || to - i > 15) return BAD_NUMBER;
  if (data[i] === 48 && (to - i > 1 || negative)) return BAD_NUMBER; // "01" and "-0"
  let n = 0;
  for (; i < to; i++) {
    const d = data[i] - 48;
    if (d < 0 || d > 9) return BAD_NUMBER;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}
