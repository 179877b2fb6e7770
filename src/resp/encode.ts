/** RESP2 reply encoders for replies slotgate makes itself (off the forwarding path). */
import { ReplyError, type Decoded } from './reply-reader.js';

export const OK = Buffer.from('+OK\r\n');
export const PONG = Buffer.from('+PONG\r\n');
export const NULL_BULK = Buffer.from('$-1\r\n');

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

/** A value for `arrayReply`: strings and buffers become bulk strings, numbers integers. */
export type ReplyValue = string | Buffer | number | null | ReplyValue[];

export function arrayReply(items: ReplyValue[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${items.length}\r\n`)];
  for (const item of items) parts.push(encodeValue(item));
  return Buffer.concat(parts);
}

function encodeValue(v: ReplyValue): Buffer {
  if (v === null) return NULL_BULK;
  if (typeof v === 'number') return integerReply(v);
  if (Array.isArray(v)) return arrayReply(v);
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
