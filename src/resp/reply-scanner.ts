import { BAD_NUMBER, PendingBytes, parseDecimal } from './pending-bytes.js';

/** Receives each complete reply frame found in a node's byte stream, in order. */
export interface ReplySink {
  onReply(buf: Buffer, start: number, end: number): void;
  /** The node sent bytes that are not RESP: the link must be dropped. */
  onReplyProtocolError(message: string): void;
}

const CR = 13;
/** Deeper nesting than this is not something a Redis node sends. */
const MAX_DEPTH = 128;
const INCOMPLETE = -1;
const FAILED = -2;

/**
 * A resumable scanner that finds the ends of RESP2 and RESP3 reply frames without decoding
 * them, so replies are forwarded as the node's own bytes. State across chunks: the incomplete
 * frame's bytes, the offset reached in it and the stack of elements still expected by
 * enclosing aggregates. Large bulk replies are collected as chunks and joined once.
 */
export class ReplyScanner {
  private readonly pending = new PendingBytes();

  /** Offset of the next value to scan, relative to the incomplete frame's start. */
  private pos = 0;
  /** Elements still expected by each open aggregate, innermost last. */
  private readonly stack = new Int32Array(MAX_DEPTH);
  private depth = 0;
  /** True while a frame is incomplete (pos, stack and depth describe the progress in it). */
  private inFrame = false;
  private failed = false;

  constructor(private readonly sink: ReplySink, private readonly maxBulkLen = 1024 * 1024 * 1024) {}

  /** Forgets any partial frame (the connection it came from is gone). */
  reset(): void {
    this.pending.clear();
    this.pending.needed = 0;
    this.pos = 0;
    this.depth = 0;
    this.inFrame = false;
    this.failed = false;
  }

  feed(chunk: Buffer): void {
    if (this.failed) return;
    const data = this.pending.add(chunk);
    if (data === null) return;
    let frameStart = 0;
    const len = data.length;
    while (frameStart < len) {
      const end = this.scanFrame(data, frameStart);
      if (end === FAILED) return;
      if (end === INCOMPLETE) {
        this.pending.keep(data, frameStart);
        this.pos -= frameStart;
        this.pending.needed -= frameStart;
        return;
      }
      this.sink.onReply(data, frameStart, end);
      frameStart = end;
    }
  }

  /** Scans (or resumes) the frame at `frameStart`; returns its end, INCOMPLETE or FAILED. */
  private scanFrame(data: Buffer, frameStart: number): number {
    const len = data.length;
    // A resumed frame always starts at offset 0 of the joined buffer.
    let pos = this.inFrame ? this.pos : frameStart;
    const stack = this.stack;
    while (true) {
      if (pos >= len) return this.suspend(pos, pos + 1);
      const type = data[pos];
      let lineEnd = -1;
      for (let i = pos + 1; i < len; i++) {
        if (data[i] === CR) {
          lineEnd = i;
          break;
        }
      }
      if (lineEnd < 0 || lineEnd + 1 >= len) return this.suspend(pos, len + 1);
      let valueEnd = lineEnd + 2;
      switch (type) {
        case 0x2b: // + simple string
        case 0x2d: // - error
        case 0x3a: // : integer
        case 0x5f: // _ null
        case 0x2c: // , double
        case 0x23: // # boolean
        case 0x28: // ( big number
          break;
        case 0x24: // $ bulk string
        case 0x21: // ! bulk error
        case 0x3d: {
          // = verbatim string
          const n = parseDecimal(data, pos + 1, lineEnd);
          if (n === BAD_NUMBER || n < -1 || n > this.maxBulkLen) return this.fail('bad bulk length');
          if (n >= 0) {
            valueEnd = lineEnd + 2 + n + 2;
            if (valueEnd > len) return this.suspend(pos, valueEnd);
          }
          break;
        }
        case 0x2a: // * array
        case 0x7e: // ~ set
        case 0x3e: // > push
        case 0x25: // % map
        case 0x7c: {
          // | attribute (its pairs, then the value it describes)
          const n = parseDecimal(data, pos + 1, lineEnd);
          if (n === BAD_NUMBER || n < -1) return this.fail('bad aggregate length');
          const elements = type === 0x25 ? n * 2 : type === 0x7c ? n * 2 + 1 : n;
          if (elements > 0) {
            if (this.depth >= MAX_DEPTH) return this.fail('nesting too deep');
            stack[this.depth++] = elements;
            pos = valueEnd;
            continue;
          }
          break;
        }
        default:
          return this.fail(`unexpected byte ${type}`);
      }
      pos = valueEnd;
      // One value done: close every aggregate it completes.
      while (this.depth > 0) {
        if (--stack[this.depth - 1] > 0) break;
        this.depth--;
      }
      if (this.depth === 0) {
        this.inFrame = false;
        return pos;
      }
    }
  }

  private suspend(pos: number, needed: number): number {
    this.inFrame = true;
    this.pos = pos;
    this.pending.needed = needed;
    return INCOMPLETE;
  }

  private fail(message: string): number {
    this.failed = true;
    this.sink.onReplyProtocolError(`Protocol error from node: ${message}`);
    return FAILED;
  }
}
