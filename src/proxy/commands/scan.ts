import { SLOT_COUNT, slotOf } from '../../cluster/key-slot.js';
import { arrayReply, encodeCommand, errorReply } from '../../resp/encode.js';
import { elementRanges, isErrorReply } from '../../resp/reply-reader.js';
import { globMatch } from '../../util/glob.js';
import { parseLongLong } from '../../util/redis-integer.js';
import type { ClusterNode } from '../../upstream/cluster-node.js';
import type { ClientContext } from '../client-context.js';
import type { ChildReplies } from '../fanout/gather.js';
import type { ClusterOps } from '../fanout/cluster-ops.js';

/**
 * SCAN across the whole cluster. The cursor is the next hash slot to visit (0 = start; 0 again
 * = done), so it means the same thing on every slotgate and survives any topology change.
 *
 * Each call reads whole slots with CLUSTER GETKEYSINSLOT, in two rounds: first from the slot's
 * owner, then, once the owner has answered, from every other master. A key that exists for
 * the whole scan is either still on the owner when the owner is read, or was already moved
 * (MIGRATE copies to the target before deleting from the source) to another master, which is
 * read after that: either way it is returned, also while slots migrate. MATCH is applied by
 * slotgate with Redis' own glob rules; TYPE asks the owner of each key.
 */

export interface ScanArguments {
  cursor: number;
  count: number;
  pattern: Buffer | null;
  type: string | null;
}

/** Parses SCAN's arguments as Redis does, with Redis' error texts; a string is an error reply. */
export function parseScanArguments(args: Buffer[]): ScanArguments | string {
  const cursor = parseCursor(args[1].toString('latin1'));
  if (cursor < 0) return 'ERR invalid cursor';
  let count = 10;
  let pattern: Buffer | null = null;
  let type: string | null = null;
  for (let i = 2; i < args.length; i += 2) {
    const option = args[i].toString('latin1').toLowerCase();
    if (i + 1 >= args.length) return 'ERR syntax error';
    const value = args[i + 1];
    if (option === 'count') {
      const parsed = parseLongLong(value.toString('latin1'));
      if (parsed === null) return 'ERR value is not an integer or out of range';
      if (parsed < 1) return 'ERR syntax error';
      count = parsed;
    } else if (option === 'match') {
      pattern = value.length === 1 && value[0] === 0x2a ? null : value;
    } else if (option === 'type') {
      type = value.toString('latin1').toLowerCase();
    } else {
      return 'ERR syntax error';
    }
  }
  return { cursor, count, pattern, type };
}

const U64 = 2n ** 64n;

/**
 * The cursor as Redis reads it (strtoul, no leading space): the next slot, SLOT_COUNT for any
 * cursor slotgate never gave out (the scan is over), or -1 when Redis would say "invalid cursor".
 */
function parseCursor(text: string): number {
  if (text === '') return 0; // strtoul("") is 0 and leaves nothing unread
  if (!/^[+-]?\d+$/.test(text)) return -1;
  const value = BigInt(text.startsWith('+') ? text.slice(1) : text);
  if (value >= U64 || value <= -U64) return -1; // ERANGE
  const unsigned = value < 0n ? U64 + value : value; // strtoul negates in unsigned arithmetic
  return unsigned < BigInt(SLOT_COUNT) ? Number(unsigned) : SLOT_COUNT;
}

/** Slots read per round: enough for COUNT keys on a sparse keyspace, bounded work per call. */
export function slotsPerRound(count: number): number {
  return Math.min(SLOT_COUNT, Math.max(64, count * 16));
}

/** A call reads rounds of slots until it has COUNT keys or has read this many slots. */
const MAX_SLOTS_PER_CALL = 2048;

/** Large enough for any slot: GETKEYSINSLOT returns all keys of the slot. */
const ALL_KEYS = '2147483647';

export async function scan(ops: ClusterOps, client: ClientContext, args: Buffer[]): Promise<Buffer> {
  const parsed = parseScanArguments(args);
  if (typeof parsed === 'string') return errorReply(parsed);
  const { count, pattern, type } = parsed;
  let slot = parsed.cursor;
  const keys = new Map<string, Buffer>();
  const budgetEnd = Math.min(SLOT_COUNT, slot + Math.max(MAX_SLOTS_PER_CALL, slotsPerRound(count)));
  while (slot < budgetEnd && keys.size < count) {
    const end = Math.min(budgetEnd, slot + slotsPerRound(count));
    const failure = await readSlots(ops, client, slot, end, keys);
    if (failure !== null) return failure;
    slot = end;
  }
  let found = [...keys.values()];
  if (pattern !== null) found = found.filter((key) => globMatch(pattern, key));
  if (type !== null) found = await keepType(ops, client, found, type);
  return arrayReply([String(slot >= SLOT_COUNT ? 0 : slot), found]);
}

/** Adds every key of slots [from, to) to `keys`; returns an error reply if a node gave one. */
async function readSlots(ops: ClusterOps, client: ClientContext, from: number, to: number, keys: Map<string, Buffer>): Promise<Buffer | null> {
  const router = ops.router;
  const owners: { node: ClusterNode; command: Buffer }[] = [];
  for (let s = from; s < to; s++) {
    const owner = router.ownerOf(s);
    if (owner !== null) owners.push({ node: owner, command: getKeysInSlot(s) });
  }
  const first = await ops.onNodes(client, owners);
  const masters = await ops.masters();
  const others: { node: ClusterNode; command: Buffer }[] = [];
  for (let s = from; s < to; s++) {
    const owner = router.ownerOf(s);
    for (const node of masters) if (node !== owner) others.push({ node, command: getKeysInSlot(s) });
  }
  const second = await ops.onNodes(client, others);
  return addKeys(first, keys) ?? addKeys(second, keys);
}

function getKeysInSlot(slot: number): Buffer {
  return encodeCommand(['CLUSTER', 'GETKEYSINSLOT', String(slot), ALL_KEYS]);
}

function addKeys(replies: ChildReplies, keys: Map<string, Buffer>): Buffer | null {
  for (let i = 0; i < replies.count; i++) {
    const buf = replies.bufs[i];
    if (isErrorReply(buf, replies.starts[i])) return buf.subarray(replies.starts[i], replies.ends[i]);
    const ranges = elementRanges(buf, replies.starts[i]);
    if (ranges === null) continue;
    for (let e = 0; e < ranges.length; e += 2) {
      // Each element is a bulk string: $<len>\r\n<key>\r\n
      const element = buf.subarray(ranges[e], ranges[e + 1]);
      const key = Buffer.from(element.subarray(element.indexOf(10) + 1, element.length - 2));
      keys.set(key.toString('latin1'), key);
    }
  }
  return null;
}

async function keepType(ops: ClusterOps, client: ClientContext, keys: Buffer[], type: string): Promise<Buffer[]> {
  const types = await Promise.all(keys.map((key) => ops.onSlot(client, slotOf(key), ['TYPE', key])));
  return keys.filter((_, i) => {
    const r = types[i];
    return r.bufs[0].toString('latin1', r.starts[0] + 1, r.ends[0] - 2) === type;
  });
}
