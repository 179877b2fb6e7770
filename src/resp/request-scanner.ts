import { splitInlineArgs } from './inline.js';
import { BAD_NUMBER, PendingBytes, parseDecimal } from './pending-bytes.js';

/**
 * Receives each complete request the scanner finds. `args` holds [start, end) byte offsets into
 * `buf` for every argument (2 numbers per argument) and is reused for the next request: read it
 * synchronously. `buf[start, end)` is the request's original bytes, forwarded as they are.
 */
export interface RequestSink {
  onRequest(buf: Buffer, start: number, end: number, argc: number, args: Int32Array): void;
  /** The client broke the protocol: reply `-ERR <message>` after earlier replies, then close it. */
  onProtocolError(message: string): void;
  /**
   * False while the sink takes no more requests (the client has too many in flight): the
   * scanner then holds the remaining bytes, unscanned, until `resume()`.
   */
  acceptsRequests(): boolean;
}

export interface RequestScannerLimits {
  /** Largest bulk string (Redis' proto-max-bulk-len). */
  maxBulkLen: number;
  /** Most arguments in one multibulk request. */
  maxArgs: number;
  /** Most bytes buffered for one incomplete request (Redis' client-query-buffer-limit). */
  maxBuffered: number;
}

export interface RequestScannerOptions {
  /**
   * Chunks are in a read buffer the next read overwrites: what is held across reads is copied,
   * and `onRequest` bytes are valid only during the call.
   */
  transientInput?: boolean;
}

/** Redis' PROTO_INLINE_MAX_SIZE: an inline request or a length line may not be longer. */
const MAX_LINE = 64 * 1024;
const EMPTY = Buffer.alloc(0);
const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;

/** Arguments room is made for when a multibulk count is read; more as they arrive (Redis' 1024 too). */
const INITIAL_ARGS_MAX = 1024;
/** Returned by the frame scanners when the frame is not complete in the buffered bytes. */
const INCOMPLETE = -1;
/** Returned by the frame scanners when they reported a protocol error. */
const FAILED = -2;

/**
 * A resumable scanner of client requests (RESP multibulk and inline), fed with socket chunks
 * split anywhere. It keeps the bytes of an incomplete request and the progress made in it, so
 * resuming never re-reads finished arguments; while a large bulk is being received it only
 * collects chunks and joins them once, when enough bytes have arrived.
 */
export class RequestScanner {
  /** Bytes of the incomplete request (it starts at offset 0 once joined). */
  private readonly pending: PendingBytes;

  // Progress inside an incomplete multibulk request (offsets relative to its first byte).
  private argc = -1;
  private argi = 0;
  private pos = 0;
  private args = new Int32Array(64);

  private failed = false;
  /** Complete bytes are held back because the sink accepts no more requests. */
  private holding = false;

  constructor(
    private readonly sink: RequestSink,
    private readonly limits: RequestScannerLimits,
    options: RequestScannerOptions = {},
  ) {
    this.pending = new PendingBytes(options.transientInput === true);
  }

  /** Bytes held for an incomplete request. */
  get buffered(): number {
    return this.pending.length;
  }

  feed(chunk: Buffer): void {
    if (this.failed) return;
    if (this.holding) {
      this.pending.hold(chunk);
      if (this.pending.length > this.limits.maxBuffered) this.fail('query buffer limit exceeded');
      return;
    }
    const data = this.pending.add(chunk);
    if (data === null) {
      // All of it belongs to the incomplete request. Once `needed` is reached, complete
      // requests are emitted first and keepRest checks only what is still incomplete.
      if (this.pending.length > this.limits.maxBuffered) this.fail('query buffer limit exceeded');
      return;
    }
    this.scan(data);
  }

  /** Scans what was held back while the sink accepted no requests. */
  resume(): void {
    if (!this.holding || this.failed) return;
    this.holding = false;
    this.pending.needed = 0;
    const data = this.pending.add(EMPTY);
    if (data !== null) this.scan(data);
  }

  private scan(data: Buffer): void {
    let frameStart = 0;
    const len = data.length;
    while (frameStart < len) {
      if (this.argc < 0 && !this.sink.acceptsRequests()) {
        // Between two requests: keep the rest as it is and wait for resume().
        this.holding = true;
        this.pending.needed = 0; // nothing is scanned until resume()
        this.pending.keep(data, frameStart);
        return;
      }
      const end = data[frameStart] === STAR ? this.scanMultibulk(data, frameStart) : this.scanInline(data, frameStart);
      if (end === FAILED) return;
      if (end === INCOMPLETE) {
        this.keepRest(data, frameStart);
        return;
      }
      frameStart = end;
    }
  }

  /** Keeps the incomplete frame starting at `frameStart`; progress offsets become relative to it. */
  private keepRest(data: Buffer, frameStart: number): void {
    if (data.length - frameStart > this.limits.maxBuffered) {
      this.fail('query buffer limit exceeded');
      return;
    }
    if (frameStart !== 0 && this.argc >= 0) {
      this.pos -= frameStart;
      const args = this.args;
      for (let i = 0; i < this.argi * 2; i++) args[i] -= frameStart;
      this.pending.needed -= frameStart;
    }
    // After `needed` counts from the frame: a large one gets room for all of it at once.
    this.pending.keep(data, frameStart);
  }

  /**
   * Scans (or resumes) a multibulk request at `frameStart`. Returns the offset after it,
   * INCOMPLETE (progress saved, `needed` set) or FAILED.
   */
  private scanMultibulk(data: Buffer, frameStart: number): number {
    const len = data.length;
    let pos: number;
    if (this.argc < 0) {
      const lineEnd = findCR(data, frameStart + 1, len);
      if (lineEnd < 0) return this.needLine(len, frameStart, 'too big mbulk count string');
      if (lineEnd + 1 >= len) return this.needLine(len, frameStart, 'too big mbulk count string');
      const count = parseDecimal(data, frameStart + 1, lineEnd);
      if (count === BAD_NUMBER || count > this.limits.maxArgs) return this.fail('invalid multibulk length');
      pos = lineEnd + 2;
      // Redis silently skips `*0` and negative counts.
      if (count <= 0) return pos;
      this.argc = count;
      this.argi = 0;
      // Room for the arguments as they arrive, not for the count announced: 12 bytes
      // (`*1048576\r\n`) must not set aside 8 MB per connection (Redis fixed the same, CVE-2021-32675).
      const room = Math.min(count, INITIAL_ARGS_MAX) * 2;
      if (this.args.length < room) this.args = new Int32Array(growTo(this.args.length, room));
    } else {
      pos = this.pos;
    }
    let args = this.args;
    const argc = this.argc;
    const maxBulk = this.limits.maxBulkLen;
    while (this.argi < argc) {
      if (pos >= len) return this.suspend(pos, pos + 1);
      if (data[pos] !== DOLLAR) {
        return this.fail(`expected '$', got '${String.fromCharCode(data[pos])}'`);
      }
      const lineEnd = findCR(data, pos + 1, len);
      if (lineEnd < 0 || lineEnd + 1 >= len) {
        if (len - pos > MAX_LINE) return this.fail('too big bulk count string');
        return this.suspend(pos, len + 1);
      }
      const bulkLen = parseDecimal(data, pos + 1, lineEnd);
      if (bulkLen < 0 || bulkLen > maxBulk) return this.fail('invalid bulk length');
      const valueStart = lineEnd + 2;
      const next = valueStart + bulkLen + 2;
      if (next > len) return this.suspend(pos, next);
      if (this.argi * 2 >= args.length) args = this.growArgs();
      args[this.argi * 2] = valueStart;
      args[this.argi * 2 + 1] = valueStart + bulkLen;
      this.argi++;
      pos = next;
    }
    this.argc = -1;
    this.sink.onRequest(data, frameStart, pos, argc, args);
    return pos;
  }

  /** Doubles the room for argument offsets, keeping those found so far. */
  private growArgs(): Int32Array<ArrayBuffer> {
    const bigger = new Int32Array(this.args.length * 2);
    bigger.set(this.args);
    this.args = bigger;
    return bigger;
  }

  private needLine(len: number, lineStart: number, tooBig: string): number {
    if (len - lineStart > MAX_LINE) return this.fail(tooBig);
    this.pending.needed = len - lineStart + 1;
    return INCOMPLETE;
  }

  /** Saves progress at `pos` (the next argument header) and asks for `needed` bytes in all. */
  private suspend(pos: number, needed: number): number {
    this.pos = pos;
    this.pending.needed = needed;
    return INCOMPLETE;
  }

  private scanInline(data: Buffer, frameStart: number): number {
    const len = data.length;
    const nl = data.indexOf(LF, frameStart);
    if (nl < 0) {
      if (len - frameStart > MAX_LINE) return this.fail('too big inline request');
      this.pending.needed = len - frameStart + 1;
      return INCOMPLETE;
    }
    if (nl - frameStart > MAX_LINE) return this.fail('too big inline request');
    const lineEnd = nl > frameStart && data[nl - 1] === CR ? nl - 1 : nl;
    const parts = splitInlineArgs(data, frameStart, lineEnd);
    if (parts === null) return this.fail('unbalanced quotes in request');
    if (parts.length > 0) this.emitInline(parts);
    return nl + 1;
  }

  /** Re-encodes an inline request as multibulk, so nodes and routing see one format. */
  private emitInline(parts: Buffer[]): void {
    let size = 1 + String(parts.length).length + 2;
    for (const p of parts) size += 1 + String(p.length).length + 2 + p.length + 2;
    const buf = Buffer.allocUnsafe(size);
    let o = buf.write(`*${parts.length}\r\n`, 0, 'latin1');
    const args = new Int32Array(parts.length * 2);
    parts.forEach((p, i) => {
      o += buf.write(`$${p.length}\r\n`, o, 'latin1');
      args[i * 2] = o;
      o += p.copy(buf, o);
      args[i * 2 + 1] = o;
      buf[o++] = CR;
      buf[o++] = LF;
    });
    this.sink.onRequest(buf, 0, size, parts.length, args);
  }

  private fail(message: string): number {
    this.failed = true;
    this.pending.clear();
    this.sink.onProtocolError(`Protocol error: ${message}`);
    return FAILED;
  }
}

function findCR(data: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (data[i] === CR) return i;
  return -1;
}

function growTo(current: number, wanted: number): number {
  let n = current;
  while (n < wanted) n *= 2;
  return n;
}
