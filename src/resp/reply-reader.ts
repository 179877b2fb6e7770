import { parseDecimal } from './pending-bytes.js';

/**
 * Reads complete reply frames that the ReplyScanner already framed (so they are known to be
 * whole and well-formed): finds value boundaries and decodes values for the few places that
 * need them (merging fan-out replies). The forwarding path never decodes.
 */

/** An error reply (`-ERR ...` or a RESP3 blob error), kept as its text without the `-`. */
export class ReplyError {
  constructor(readonly message: string) {}
}

/**
 * A decoded reply: simple strings as string, bulk strings as Buffer, integers as number,
 * nulls as null, aggregates (arrays, sets, maps flattened to key/value pairs, pushes) as arrays.
 */
export type Decoded = string | Buffer | number | null | boolean | ReplyError | Decoded[];

const CR = 13;

/** Offset of the CR ending the line at `pos` (a loop: header lines are a few bytes, shorter than an indexOf call costs). */
function lineEnd(buf: Buffer, pos: number): number {
  const len = buf.length;
  for (let i = pos; i < len; i++) if (buf[i] === CR) return i;
  throw new Error('reply frame without CRLF');
}

/** The number of values an aggregate header of type `type` and count `n` is followed by. */
function elementCount(type: number, n: number): number {
  if (n < 0) return 0;
  if (type === 0x25) return n * 2; // % map
  if (type === 0x7c) return n * 2 + 1; // | attribute, then the value it describes
  return n;
}

function isAggregate(type: number): boolean {
  return type === 0x2a || type === 0x7e || type === 0x3e || type === 0x25 || type === 0x7c;
}

function isBulk(type: number): boolean {
  return type === 0x24 || type === 0x21 || type === 0x3d;
}

/** End offset of the complete value starting at `pos`. */
export function valueEnd(buf: Buffer, pos: number): number {
  let remaining = 1;
  while (remaining > 0) {
    const type = buf[pos];
    const cr = lineEnd(buf, pos + 1);
    remaining--;
    if (isBulk(type)) {
      const n = parseDecimal(buf, pos + 1, cr);
      pos = n >= 0 ? cr + 2 + n + 2 : cr + 2;
    } else if (isAggregate(type)) {
      remaining += elementCount(type, parseDecimal(buf, pos + 1, cr));
      pos = cr + 2;
    } else {
      pos = cr + 2;
    }
  }
  return pos;
}

/**
 * Offsets of the elements of the array, set or map reply at `start`, as [start0, end0, start1,
 * end1, ...] (a map's keys and values alternate); null when the reply is not one (an error, a null array).
 */
export function elementRanges(buf: Buffer, start: number): Int32Array | null {
  const type = buf[start];
  if (type !== 0x2a && type !== 0x7e && type !== 0x25) return null;
  const cr = lineEnd(buf, start + 1);
  const count = parseDecimal(buf, start + 1, cr);
  if (count < 0) return null;
  const n = elementCount(type, count);
  const ranges = new Int32Array(n * 2);
  let pos = cr + 2;
  for (let i = 0; i < n; i++) {
    const end = valueEnd(buf, pos);
    ranges[i * 2] = pos;
    ranges[i * 2 + 1] = end;
    pos = end;
  }
  return ranges;
}

/** Decodes the complete reply at `start` (RESP2 or RESP3). */
export function decodeReply(buf: Buffer, start = 0): Decoded {
  return decodeAt(buf, start).value;
}

function decodeAt(buf: Buffer, pos: number): { value: Decoded; end: number } {
  const type = buf[pos];
  const cr = lineEnd(buf, pos + 1);
  const next = cr + 2;
  switch (type) {
    case 0x2b: // + simple string
    case 0x28: // ( big number
      return { value: buf.toString('utf8', pos + 1, cr), end: next };
    case 0x2d: // - error
      return { value: new ReplyError(buf.toString('utf8', pos + 1, cr)), end: next };
    case 0x3a: // : integer
      return { value: Number(buf.toString('latin1', pos + 1, cr)), end: next };
    case 0x2c: // , double (RESP3 spells the infinities inf and -inf)
      return { value: parseDouble(buf.toString('latin1', pos + 1, cr)), end: next };
    case 0x5f: // _ null
      return { value: null, end: next };
    case 0x23: // # boolean
      return { value: buf[pos + 1] === 0x74, end: next };
    case 0x24: // $ bulk string
    case 0x21: // ! blob error
    case 0x3d: {
      // = verbatim string (its first 4 bytes name the format: "txt:")
      const n = parseDecimal(buf, pos + 1, cr);
      if (n < 0) return { value: null, end: next };
      const body = buf.subarray(next + (type === 0x3d ? 4 : 0), next + n);
      if (type === 0x21) return { value: new ReplyError(body.toString('utf8')), end: next + n + 2 };
      return { value: body, end: next + n + 2 };
    }
    default: {
      if (!isAggregate(type)) throw new Error(`unexpected reply type byte ${type}`);
      const n = parseDecimal(buf, pos + 1, cr);
      if (n < 0) return { value: null, end: next };
      const items: Decoded[] = [];
      let at = next;
      for (let i = 0; i < elementCount(type, n); i++) {
        const item = decodeAt(buf, at);
        items.push(item.value);
        at = item.end;
      }
      // An attribute describes the value that follows it: keep the value only.
      if (type === 0x7c) return { value: items[items.length - 1], end: at };
      return { value: items, end: at };
    }
  }
}

/** True when the reply at `start` is an error (RESP2 `-` or RESP3 `!`). */
export function isErrorReply(buf: Buffer, start: number): boolean {
  const type = buf[start];
  return type === 0x2d || type === 0x21;
}

/** The integer of a `:` reply at `start`, or NaN when it is not one. */
export function integerAt(buf: Buffer, start: number): number {
  if (buf[start] !== 0x3a) return NaN;
  return Number(buf.toString('latin1', start + 1, lineEnd(buf, start + 1)));
}

function parseDouble(text: string): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}
