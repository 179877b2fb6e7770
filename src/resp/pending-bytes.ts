/** Frames from this size on get one buffer for all their bytes (see `room`). */
const ROOM_MIN_FRAME = 16 * 1024;
/** ... when a read brought at least this much of them (a slow trickle is held as before). */
const ROOM_MIN_READ = 8 * 1024;
/** Room beyond the frame: the chunk that completes it also brings the start of the next (a read is at most 64 KB). */
const ROOM_SLACK = 64 * 1024;

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
  /**
   * Transient input waiting for a large frame: one buffer with room for it (and a last chunk),
   * filled as chunks arrive and doubled when full, so each byte is copied about once and one or
   * a few buffers are allocated, instead of a copy per chunk and a join of them all (at 100 KB
   * values those allocations made V8 run major GCs for a third of slotgate's CPU). Null otherwise.
   */
  private room: Buffer | null = null;
  private filled = 0;
  /** Joining and rescanning is pointless before this many bytes are held. */
  needed = 0;

  /** Bytes held. */
  get length(): number {
    if (this.room !== null) return this.filled;
    return (this.rest === null ? 0 : this.rest.length) + this.chunksLen;
  }

  /**
   * Adds a received chunk. Returns the bytes to scan (the chunk itself when nothing was held,
   * else everything joined), or null while fewer than `needed` bytes are held. Joined bytes are
   * a buffer of their own, never written again.
   */
  add(chunk: Buffer): Buffer | null {
    if (this.room !== null) {
      if (this.filled + chunk.length > this.room.length) this.growRoom(this.filled + chunk.length);
      const room = this.room as Buffer;
      this.filled += chunk.copy(room, this.filled);
      if (this.filled < this.needed) return null;
      const data = room.subarray(0, this.filled);
      this.clear();
      return data;
    }
    if (this.rest === null) return chunk;
    const total = this.rest.length + this.chunksLen + chunk.length;
    if (total < this.needed) {
      if (this.chunks.length === 0 && this.wantsRoom(total)) {
        // A large frame after all (its start came at the end of an earlier read): room for it now.
        const room = this.openRoom(total);
        this.filled = this.rest.copy(room, 0);
        this.filled += chunk.copy(room, this.filled);
        this.rest = null;
        return null;
      }
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
    if (this.room !== null) this.spill();
    if (this.rest === null) this.rest = this.own(chunk);
    else {
      this.chunks.push(this.own(chunk));
      this.chunksLen += chunk.length;
    }
  }

  /**
   * Holds data[from...] (an incomplete frame) until more bytes arrive; set `needed` (counted
   * from `from`) first: a large frame on transient input gets its room at once.
   */
  keep(data: Buffer, from: number): void {
    const length = data.length - from;
    if (this.wantsRoom(length)) {
      this.filled = data.copy(this.openRoom(length), 0, from);
      return;
    }
    this.rest = this.own(from === 0 ? data : data.subarray(from));
  }

  /** Whether an incomplete frame of which `held` bytes are here gets a room (transient input, a large frame, a good part of a read). */
  private wantsRoom(held: number): boolean {
    return this.transient && this.needed >= ROOM_MIN_FRAME && this.needed > held && held >= ROOM_MIN_READ;
  }

  /**
   * A new room for the frame, to copy its `held` bytes into: sized by what arrived, not by the
   * length announced, so a header alone reserves nothing.
   */
  private openRoom(held: number): Buffer {
    const room = Buffer.allocUnsafe(Math.min(this.needed + ROOM_SLACK, 4 * held));
    this.room = room;
    this.filled = 0;
    return room;
  }

  /** A bigger room, at least `size` bytes: doubling, up to the frame (and a last chunk). */
  private growRoom(size: number): void {
    const room = this.room as Buffer;
    const bigger = Buffer.allocUnsafe(Math.max(size, Math.min(this.needed + ROOM_SLACK, 2 * room.length)));
    room.copy(bigger, 0, 0, this.filled);
    this.room = bigger;
  }

  /** Back to rest + chunks, for holding (the scanner is not taking requests). */
  private spill(): void {
    this.rest = (this.room as Buffer).subarray(0, this.filled);
    this.room = null;
    this.filled = 0;
  }

  private own(chunk: Buffer): Buffer {
    return this.transient ? Buffer.from(chunk) : chunk;
  }

  clear(): void {
    this.room = null;
    this.filled = 0;
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
