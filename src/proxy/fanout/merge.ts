import { NULL_BULK, errorReply, integerReply } from '../../resp/encode.js';
import { elementRanges, integerAt, isErrorReply, valueEnd } from '../../resp/reply-reader.js';
import { parseDecimal } from '../../resp/pending-bytes.js';
import type { ChildReplies } from './gather.js';
import type { SplitPlan } from './split.js';

/**
 * How the replies of a fan-out become the one reply the client gets. Every merge gives the
 * first error (in sub-request order, which is key order for splits) when any sub-request
 * failed: no partial replies. The sub-requests went on links of the client's protocol, so the
 * replies are RESP2 or RESP3 as the client's are: merges keep the nodes' element bytes and
 * aggregate types (a RESP3 map stays a map), and take nulls from the nodes' replies.
 */
export type MergeKind =
  /** MGET: one array, elements put back in the client's key order. */
  | 'ordered-array'
  /** MSET, FLUSHALL, SCRIPT LOAD...: the first reply once all succeeded (they agree). */
  | 'all-ok'
  /** DEL, EXISTS, DBSIZE...: the sum of integer replies. */
  | 'sum'
  /** KEYS, SLOWLOG GET: arrays joined; duplicates (a key seen mid-migration on two nodes) dropped. */
  | 'concat'
  /** PUBSUB CHANNELS: arrays joined, duplicates dropped. */
  | 'union'
  /** SCRIPT KILL, FUNCTION KILL: fine when any node did it, else the first error (NOTBUSY). */
  | 'any-ok'
  /** SCRIPT EXISTS: 1 for a script only when every node has it. */
  | 'and-array'
  /** LASTSAVE: the oldest, the time since which everything is saved. */
  | 'min'
  /** RANDOMKEY: any node's non-null answer. */
  | 'random'
  /** PUBSUB NUMSUB: name/count pairs, counts summed per name. */
  | 'pairs-sum';

const UNEXPECTED = errorReply('ERR slotgate: unexpected reply from a node while merging');

/** Index of the first error reply, or -1. */
export function firstError(r: ChildReplies): number {
  for (let i = 0; i < r.count; i++) if (isErrorReply(r.bufs[i], r.starts[i])) return i;
  return -1;
}

function replyBytes(r: ChildReplies, i: number): Buffer {
  return r.bufs[i].subarray(r.starts[i], r.ends[i]);
}

/** Merges the replies of a fan-out with one of the kinds that need nothing but the replies. */
export function merge(kind: Exclude<MergeKind, 'ordered-array'>, r: ChildReplies): Buffer {
  if (kind === 'any-ok') {
    for (let i = 0; i < r.count; i++) if (!isErrorReply(r.bufs[i], r.starts[i])) return replyBytes(r, i);
    return r.count > 0 ? replyBytes(r, 0) : UNEXPECTED;
  }
  const failed = firstError(r);
  if (failed >= 0) return replyBytes(r, failed);
  switch (kind) {
    case 'all-ok':
      return r.count > 0 ? replyBytes(r, 0) : UNEXPECTED;
    case 'sum':
      return foldIntegers(r, (a, b) => a + b);
    case 'min':
      return foldIntegers(r, Math.min);
    case 'concat':
    case 'union':
      return concatArrays(r);
    case 'and-array':
      return andArrays(r);
    case 'random':
      return randomNonNull(r);
    case 'pairs-sum':
      return sumPairs(r);
  }
}

function foldIntegers(r: ChildReplies, fold: (a: number, b: number) => number): Buffer {
  let acc = NaN;
  for (let i = 0; i < r.count; i++) {
    const n = integerAt(r.bufs[i], r.starts[i]);
    if (Number.isNaN(n)) return UNEXPECTED;
    acc = i === 0 ? n : fold(acc, n);
  }
  return Number.isNaN(acc) ? UNEXPECTED : integerReply(acc);
}

/** Joins array replies, keeping the first of equal elements. */
function concatArrays(r: ChildReplies): Buffer {
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  for (let i = 0; i < r.count; i++) {
    const ranges = elementRanges(r.bufs[i], r.starts[i]);
    if (ranges === null) return UNEXPECTED;
    for (let e = 0; e < ranges.length; e += 2) {
      const element = r.bufs[i].subarray(ranges[e], ranges[e + 1]);
      const id = element.toString('latin1');
      if (seen.has(id)) continue;
      seen.add(id);
      parts.push(element);
    }
  }
  return Buffer.concat([aggregateHeader(r, parts.length), ...parts]);
}

/** `*n` (or the first reply's aggregate type, e.g. a RESP3 set's `~`) for a merged reply of `n` elements. */
function aggregateHeader(r: ChildReplies, n: number): Buffer {
  const type = r.count > 0 ? String.fromCharCode(r.bufs[0][r.starts[0]]) : '*';
  return Buffer.from(`${type}${n}\r\n`);
}

function andArrays(r: ChildReplies): Buffer {
  let result: number[] | null = null;
  for (let i = 0; i < r.count; i++) {
    const ranges = elementRanges(r.bufs[i], r.starts[i]);
    if (ranges === null) return UNEXPECTED;
    const values = Array.from({ length: ranges.length / 2 }, (_, e) => integerAt(r.bufs[i], ranges[e * 2]));
    if (values.some(Number.isNaN)) return UNEXPECTED;
    if (result === null) result = values;
    else if (values.length !== result.length) return UNEXPECTED;
    else result = result.map((v, e) => (v && values[e] ? 1 : 0));
  }
  if (result === null) return UNEXPECTED;
  return Buffer.from(`*${result.length}\r\n` + result.map((v) => `:${v}\r\n`).join(''));
}

function randomNonNull(r: ChildReplies): Buffer {
  const candidates: number[] = [];
  for (let i = 0; i < r.count; i++) {
    const b = r.bufs[i];
    const s = r.starts[i];
    const isNull = (b[s] === 0x24 && b[s + 1] === 0x2d) || b[s] === 0x5f;
    if (!isNull) candidates.push(i);
  }
  // Every node's null is the same null, in the client's protocol (`$-1` or RESP3's `_`).
  if (candidates.length === 0) return r.count > 0 ? replyBytes(r, 0) : NULL_BULK;
  return replyBytes(r, candidates[Math.floor(Math.random() * candidates.length)]);
}

/** [name, n, name, n, ...] (or a RESP3 map of them) from every node, same names in the same order: counts summed. */
function sumPairs(r: ChildReplies): Buffer {
  let names: Buffer[] | null = null;
  let counts: number[] = [];
  for (let i = 0; i < r.count; i++) {
    const ranges = elementRanges(r.bufs[i], r.starts[i]);
    if (ranges === null || ranges.length % 4 !== 0) return UNEXPECTED;
    const pairs = ranges.length / 4;
    if (names === null) {
      names = Array.from({ length: pairs }, (_, p) => r.bufs[i].subarray(ranges[p * 4], ranges[p * 4 + 1]));
      counts = new Array<number>(pairs).fill(0);
    } else if (names.length !== pairs) return UNEXPECTED;
    for (let p = 0; p < pairs; p++) {
      const n = integerAt(r.bufs[i], ranges[p * 4 + 2]);
      if (Number.isNaN(n)) return UNEXPECTED;
      counts[p] += n;
    }
  }
  if (names === null) return UNEXPECTED;
  const isMap = r.bufs[0][r.starts[0]] === 0x25;
  const parts: Buffer[] = [Buffer.from(isMap ? `%${names.length}\r\n` : `*${names.length * 2}\r\n`)];
  names.forEach((name, p) => parts.push(name, integerReply(counts[p])));
  return Buffer.concat(parts);
}

/**
 * MGET across slots: each group's array reply holds its keys' values in group order; the
 * client gets one array in its own key order, made of the nodes' element bytes.
 */
export function mergeOrderedArray(r: ChildReplies, plan: SplitPlan): Buffer {
  const failed = firstError(r);
  if (failed >= 0) return replyBytes(r, failed);
  const { members, groupStart, keyGroup } = plan;
  const keyCount = keyGroup.length;
  // Where each of the client's keys' value is: [start, end) in its group's reply.
  const ranges = new Array<number>(keyCount * 2);
  let size = 0;
  for (let g = 0; g < r.count; g++) {
    const buf = r.bufs[g];
    const start = r.starts[g];
    if (buf[start] !== 0x2a) return UNEXPECTED;
    let pos = start + 1;
    while (buf[pos] !== 13) pos++;
    if (parseDecimal(buf, start + 1, pos) !== groupStart[g + 1] - groupStart[g]) return UNEXPECTED;
    pos += 2;
    for (let m = groupStart[g]; m < groupStart[g + 1]; m++) {
      const end = bulkEnd(buf, pos);
      ranges[members[m] * 2] = pos;
      ranges[members[m] * 2 + 1] = end;
      size += end - pos;
      pos = end;
    }
  }
  const header = `*${keyCount}\r\n`;
  const out = Buffer.allocUnsafe(header.length + size);
  let at = out.write(header, 0, 'latin1');
  for (let k = 0; k < keyCount; k++) at += r.bufs[keyGroup[k]].copy(out, at, ranges[k * 2], ranges[k * 2 + 1]);
  return out;
}

/** End of the value at `pos`: bulk strings (MGET's values) read at once, anything else the general way. */
function bulkEnd(buf: Buffer, pos: number): number {
  if (buf[pos] !== 0x24) return valueEnd(buf, pos);
  let i = pos + 1;
  if (buf[i] === 0x2d) return valueEnd(buf, pos); // $-1: null
  let n = 0;
  for (; buf[i] !== 13; i++) n = n * 10 + buf[i] - 48;
  return i + 2 + n + 2;
}
