/**
 * Reply encoders for replies slotgate makes itself (off the forwarding path). Most replies are
 * the same bytes in RESP2 and RESP3 (simple strings, errors, integers, bulk strings, arrays);
 * the few that differ (null, maps, verbatim text) are encoded by `encodeReply` for the client's
 * protocol, as Redis 7 encodes them for a client of that protocol.
 */
import { ReplyError, type Decoded } from './reply-reader.js';

/** The RESP version a client speaks (HELLO 2 / HELLO 3); slotgate's links to nodes speak it too. */
export type Protocol = 2 | 3;

export const OK = Buffer.from('+OK\r\n');
export const PONG = Buffer.from('+PONG\r\n');
export const NULL_BULK = Buffer.from('$-1\r\n');
/** RESP3's null (`_`), what Redis sends a RESP3 client wherever it sends a RESP2 one `$-1` or `*-1`. */
export const NULL_RESP3 = Buffer.from('_\r\n');

/** The null reply in `protocol`. */
export function nullReply(protocol: Protocol): Buffer {
  return protocol === 3 ? NULL_RESP3 : NULL_BULK;
}

export function simpleString(s: string): Buffer {
  return Buffer.from(`+${s}\r\n`);
}

/** An error reply; `message` starts with its code (ERR, CROSSSLOT, ...). CR/LF become spaces. */
export function errorReply(message: string): Buffer {
  return Buffer.from(`-${message.replace(/[\r\n]+/g, ' ')}\r\n`);
}

export function integerReply(n: number | bigint): Buffer {
  return Buffer.from(`:${n}\r\n`);
}

export function bulkReply(value: Buffer | string | null): Buffer {
  if (value === null) return NULL_BULK;
  const body = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([Buffer.from(`$${body.length}\r\n`), body, CRLF]);
}

/**
 * A value for `arrayReply` / `encodeReply`: strings and buffers become bulk strings, numbers
 * integers, arrays arrays; `MapReply` and `VerbatimReply` are what Redis sends as a map or a
 * verbatim string in RESP3 (and as a flat array or a bulk string in RESP2).
 */
export type ReplyValue = string | Buffer | number | null | ReplyValue[] | MapReply | VerbatimReply | PushReply;

/** A map: key/value pairs, flat (`%n` in RESP3, an array of 2n elements in RESP2). */
export class MapReply {
  constructor(readonly pairs: ReplyValue[]) {}
}

/** Text Redis sends as a verbatim string (`=len\r\ntxt:...` in RESP3, a bulk string in RESP2): INFO, CLIENT LIST... */
export class VerbatimReply {
  constructor(readonly text: string) {}
}

/** An out-of-band message (pub/sub): a push (`>n`) in RESP3, an array in RESP2. */
export class PushReply {
  constructor(readonly items: ReplyValue[]) {}
}

/** Encodes `value` as Redis encodes it for a client of `protocol`. */
export function encodeReply(value: ReplyValue, protocol: Protocol): Buffer {
  if (protocol === 2) return encodeValue(value);
  const parts: Buffer[] = [];
  appendResp3(value, parts);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

function appendResp3(v: ReplyValue, parts: Buffer[]): void {
  if (v === null) parts.push(NULL_RESP3);
  else if (Array.isArray(v)) {
    parts.push(Buffer.from(`*${v.length}\r\n`));
    for (const item of v) appendResp3(item, parts);
  } else if (v instanceof MapReply) {
    parts.push(Buffer.from(`%${v.pairs.length / 2}\r\n`));
    for (const item of v.pairs) appendResp3(item, parts);
  } else if (v instanceof PushReply) {
    parts.push(Buffer.from(`>${v.items.length}\r\n`));
    for (const item of v.items) appendResp3(item, parts);
  } else if (v instanceof VerbatimReply) {
    const body = Buffer.from(`txt:${v.text}`);
    parts.push(Buffer.from(`=${body.length}\r\n`), body, CRLF);
  } else parts.push(encodeValue(v));
}

export function arrayReply(items: ReplyValue[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${items.length}\r\n`)];
  for (const item of items) parts.push(encodeValue(item));
  return Buffer.concat(parts);
}

/** RESP2 encoding (also RESP3's for strings and numbers, which are the same there). */
function encodeValue(v: ReplyValue): Buffer {
  if (v === null) return NULL_BULK;
  if (typeof v === 'number') return integerReply(v);
  if (Array.isArray(v)) return arrayReply(v);
  if (v instanceof MapReply) return arrayReply(v.pairs);
  if (v instanceof PushReply) return arrayReply(v.items);
  if (v instanceof VerbatimReply) return bulkReply(v.text);
  return bulkReply(v);
}

/** Encodes a command as a RESP multibulk request. */
export function encodeCommand(args: (string | Buffer)[]): Buffer {
  return arrayReply(args);
}

const CRLF = Buffer.from('\r\n');

/**
 * Encodes a decoded reply back to RESP2: strings as simple strings, buffers as bulk strings,
 * numbers as integers, booleans as 1/0, ReplyError as an error.
 */
export function encodeDecoded(value: Decoded): Buffer {
  if (value === null) return NULL_BULK;
  if (typeof value === 'string') return simpleString(value);
  if (typeof value === 'number') return integerReply(value);
  if (typeof value === 'boolean') return integerReply(value ? 1 : 0);
  if (value instanceof ReplyError) return errorReply(value.message);
  if (Buffer.isBuffer(value)) return bulkReply(value);
  return Buffer.concat([Buffer.from(`*${value.length}\r\n`), ...value.map(encodeDecoded)]);
}
