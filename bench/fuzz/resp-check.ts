/**
 * A strict, streaming checker of what slotgate writes to a client (RESP2 and RESP3 replies),
 * written apart from slotgate's own scanners so that the fuzzer does not trust the code it tests.
 * It reports each top-level reply's type byte and, for errors, their text; anything that is not
 * well-formed RESP makes it `broken` (and it stops there).
 */

export interface CheckedReply {
  /** The type byte as a character: '+', '-', ':', '$', '*', '%', '>', ... */
  type: string;
  /** For '-' and '!' (and '+'), the text; else ''. */
  text: string;
  /** The reply's bytes, up to 200 of them, for messages. */
  head: string;
}

const INCOMPLETE = -1;
const MAX_DEPTH = 64;

class Broken extends Error {}

export class RespChecker {
  private buf: Buffer = Buffer.alloc(0);
  broken: string | null = null;
  readonly replies: CheckedReply[] = [];
  /** Every error text, top-level or nested. */
  readonly errors: string[] = [];

  feed(chunk: Buffer): void {
    if (this.broken !== null) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    try {
      while (pos < this.buf.length) {
        const errorsBefore = this.errors.length;
        const end = this.value(pos, 0);
        if (end === INCOMPLETE) {
          this.errors.length = errorsBefore;
          break;
        }
        const type = String.fromCharCode(this.buf[pos]);
        const head = this.buf.toString('latin1', pos, Math.min(end, pos + 200));
        const text = type === '-' || type === '+' ? this.buf.toString('latin1', pos + 1, end - 2) : type === '!' ? (this.errors.at(-1) ?? '') : '';
        this.replies.push({ type, text, head });
        pos = end;
      }
    } catch (error) {
      if (!(error instanceof Broken)) throw error;
      this.broken = `${error.message} at byte ${pos}: ${JSON.stringify(this.buf.toString('latin1', pos, pos + 120))}`;
      return;
    }
    this.buf = pos === 0 ? this.buf : this.buf.subarray(pos);
    if (pos > 0 && this.buf.length === 0) this.buf = Buffer.alloc(0);
  }

  /** Bytes received and not yet a whole reply. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  /** The line after the type byte at `pos`: [its end (the \r), the offset after \r\n], or null. */
  private line(pos: number): [number, number] | null {
    const buf = this.buf;
    for (let i = pos + 1; i < buf.length; i++) {
      const c = buf[i];
      if (c === 13) {
        if (i + 1 >= buf.length) return null;
        if (buf[i + 1] !== 10) throw new Broken('\\r not followed by \\n');
        return [i, i + 2];
      }
      if (c === 10) throw new Broken('lone \\n in a line');
    }
    return null;
  }

  private int(from: number, to: number, what: string): number {
    const s = this.buf.toString('latin1', from, to);
    if (!/^(0|-?[1-9][0-9]*)$/.test(s)) throw new Broken(`bad ${what} ${JSON.stringify(s)}`);
    return Number(s);
  }

  /** Returns the offset after the value at `pos`, or INCOMPLETE. */
  private value(pos: number, depth: number): number {
    if (depth > MAX_DEPTH) throw new Broken('nesting too deep');
    if (pos >= this.buf.length) return INCOMPLETE;
    const type = this.buf[pos];
    const l = this.line(pos);
    if (l === null) return INCOMPLETE;
    const [lineEnd, next] = l;
    switch (type) {
      case 43: // +
      case 40: // (
        return next;
      case 45: // -
        this.errors.push(this.buf.toString('latin1', pos + 1, lineEnd));
        return next;
      case 58: // :
        this.int(pos + 1, lineEnd, 'integer');
        return next;
      case 44: {
        // ,
        const s = this.buf.toString('latin1', pos + 1, lineEnd);
        if (!/^(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|inf|-inf|nan)$/.test(s)) throw new Broken(`bad double ${JSON.stringify(s)}`);
        return next;
      }
      case 35: {
        // #
        const s = this.buf.toString('latin1', pos + 1, lineEnd);
        if (s !== 't' && s !== 'f') throw new Broken(`bad boolean ${JSON.stringify(s)}`);
        return next;
      }
      case 95: // _
        if (lineEnd !== pos + 1) throw new Broken('null with a body');
        return next;
      case 36: // $
      case 61: // =
      case 33: {
        // !
        const n = this.int(pos + 1, lineEnd, 'bulk length');
        if (n < -1 || (n === -1 && type !== 36)) throw new Broken(`bad bulk length ${n}`);
        if (n === -1) return next;
        if (next + n + 2 > this.buf.length) return INCOMPLETE;
        if (this.buf[next + n] !== 13 || this.buf[next + n + 1] !== 10) throw new Broken('bulk not followed by \\r\\n');
        if (type === 33) this.errors.push(this.buf.toString('latin1', next, next + n));
        if (type === 61 && (n < 4 || this.buf[next + 3] !== 58)) throw new Broken('verbatim string without its format');
        return next + n + 2;
      }
      case 42: // *
      case 126: // ~
      case 62: // >
      case 37: // %
      case 124: {
        // |
        const n = this.int(pos + 1, lineEnd, 'aggregate length');
        if (n < -1 || (n === -1 && type !== 42)) throw new Broken(`bad aggregate length ${n}`);
        const elements = type === 37 || type === 124 ? n * 2 : n;
        let p = next;
        for (let i = 0; i < elements; i++) {
          p = this.value(p, depth + 1);
          if (p === INCOMPLETE) return INCOMPLETE;
        }
        // An attribute describes the value that follows it.
        return type === 124 ? this.value(p, depth + 1) : p;
      }
      default:
        throw new Broken(`unknown type byte ${type}`);
    }
  }
}

/**
 * Error prefixes a Redis client may see from slotgate (Redis' own, and slotgate's, which keep
 * Redis' prefixes). MOVED, ASK, TRYAGAIN and CLUSTERDOWN are not here: slotgate must hide them.
 */
const REDIS_ERROR = /^(ERR|WRONGTYPE|CROSSSLOT|EXECABORT|NOPROTO|NOSCRIPT|NOAUTH|NOPERM|WRONGPASS|BUSYGROUP|NOGROUP|OOM|READONLY|BUSY|LOADING) \S/;

export function isRedisStyleError(text: string): boolean {
  return REDIS_ERROR.test(text);
}
