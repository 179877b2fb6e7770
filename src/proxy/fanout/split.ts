import { slotOfKey } from '../../cluster/key-slot.js';
import type { KeyLayout } from '../commands/key-finder.js';

/**
 * How a multi-key request whose keys span slots is cut into one sub-command per slot. Groups
 * are numbered in the order their first key appears, so "the first error in key order" is
 * the first error in group order. Each key argument takes its `step - 1` following arguments
 * along (MSET's values). Flat arrays: this is built once per split request, and a few arrays
 * cost less to allocate (and collect) than an array per group.
 */
export interface SplitPlan {
  /** Argument index of the first key, and arguments per key (2 for MSET). */
  firstKey: number;
  step: number;
  /** Slot of each group. */
  slots: number[];
  /** For the client's k-th key: its group, and its position in that group. */
  keyGroup: number[];
  keyPos: number[];
  /** The client's key numbers grouped: group g's keys are members[groupStart[g] .. groupStart[g + 1]), in key order. */
  members: number[];
  groupStart: number[];
}

/** Groups the keys of a fixed-layout request (firstKey/lastKey/step) by slot. */
export function planSplit(layout: KeyLayout, buf: Buffer, argc: number, args: Int32Array): SplitPlan {
  const step = layout.keyStep;
  const firstKey = layout.firstKey;
  const last = layout.lastKey < 0 ? argc + layout.lastKey : layout.lastKey;
  const keyCount = last >= firstKey ? Math.floor((last - firstKey) / step) + 1 : 0;
  const slots: number[] = [];
  const sizes: number[] = [];
  const keyGroup = new Array<number>(keyCount);
  const keyPos = new Array<number>(keyCount);
  // A few keys (the usual case) find their group by a scan; many keys by a map.
  const groupOfSlot = keyCount > 16 ? new Map<number, number>() : null;
  for (let k = 0, i = firstKey; k < keyCount; k++, i += step) {
    const slot = slotOfKey(buf, args[i * 2], args[i * 2 + 1]);
    let g = groupOfSlot !== null ? (groupOfSlot.get(slot) ?? -1) : slots.indexOf(slot);
    if (g < 0) {
      g = slots.length;
      groupOfSlot?.set(slot, g);
      slots.push(slot);
      sizes.push(0);
    }
    keyGroup[k] = g;
    keyPos[k] = sizes[g]++;
  }
  const groupStart = new Array<number>(slots.length + 1);
  groupStart[0] = 0;
  for (let g = 0; g < slots.length; g++) groupStart[g + 1] = groupStart[g] + sizes[g];
  const members = new Array<number>(keyCount);
  for (let k = 0; k < keyCount; k++) members[groupStart[keyGroup[k]] + keyPos[k]] = k;
  return { firstKey, step, slots, keyGroup, keyPos, members, groupStart };
}

/** The argument indexes of group g's keys, in key order. */
export function groupKeyArgs(plan: SplitPlan, g: number): number[] {
  const out: number[] = [];
  for (let m = plan.groupStart[g]; m < plan.groupStart[g + 1]; m++) out.push(plan.firstKey + plan.members[m] * plan.step);
  return out;
}

/**
 * True when the arguments after the first key come in whole groups of `step` (MSET's key/value
 * pairs); otherwise Redis answers with its arity error, and so must slotgate.
 */
export function hasWholeGroups(layout: KeyLayout, argc: number): boolean {
  return layout.keyStep <= 1 || (argc - layout.firstKey) % layout.keyStep === 0;
}

/** Bytes of group g's sub-command. */
export function groupSize(plan: SplitPlan, g: number, args: Int32Array): number {
  const { step, firstKey, members, groupStart } = plan;
  let size = headerSize(1 + (groupStart[g + 1] - groupStart[g]) * step) + bulkSize(args[1] - args[0]);
  for (let m = groupStart[g]; m < groupStart[g + 1]; m++) {
    const k = firstKey + members[m] * step;
    for (let j = 0; j < step; j++) size += bulkSize(args[(k + j) * 2 + 1] - args[(k + j) * 2]);
  }
  return size;
}

/**
 * Writes group g's sub-command at `out[at]` (exactly groupSize bytes): the command name
 * (argument 0) and the group's keys, each with its following `step - 1` arguments, copied from
 * the client's bytes. Written straight into a node link's output, so it is encoded once and
 * copied nowhere else.
 */
export function writeGroup(plan: SplitPlan, g: number, buf: Buffer, args: Int32Array, out: Buffer, at: number): number {
  const { step, firstKey, members, groupStart } = plan;
  out[at++] = 0x2a; // *
  at = writeNumber(out, at, 1 + (groupStart[g + 1] - groupStart[g]) * step);
  at = writeBulk(out, at, buf, args[0], args[1]);
  for (let m = groupStart[g]; m < groupStart[g + 1]; m++) {
    const k = firstKey + members[m] * step;
    for (let j = 0; j < step; j++) at = writeBulk(out, at, buf, args[(k + j) * 2], args[(k + j) * 2 + 1]);
  }
  return at;
}

/** Group g's sub-command in a buffer of its own. */
export function encodeGroup(plan: SplitPlan, g: number, buf: Buffer, args: Int32Array): Buffer {
  const out = Buffer.allocUnsafe(groupSize(plan, g, args));
  writeGroup(plan, g, buf, args, out, 0);
  return out;
}

function digits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : String(n).length;
}

function headerSize(count: number): number {
  return 1 + digits(count) + 2;
}

function bulkSize(length: number): number {
  return 1 + digits(length) + 2 + length + 2;
}

/** Writes `n` in decimal and CRLF at `at`; returns the offset after them. */
function writeNumber(out: Buffer, at: number, n: number): number {
  const width = digits(n);
  for (let i = width - 1; i >= 0; i--) {
    out[at + i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  at += width;
  out[at] = 13;
  out[at + 1] = 10;
  return at + 2;
}

/** Below this many bytes a loop copies faster than Buffer#copy (its call overhead dominates). */
const SMALL_COPY = 48;

function writeBulk(out: Buffer, at: number, buf: Buffer, start: number, end: number): number {
  out[at++] = 0x24; // $
  at = writeNumber(out, at, end - start);
  if (end - start < SMALL_COPY) {
    for (let i = start; i < end; i++) out[at++] = buf[i];
  } else {
    at += buf.copy(out, at, start, end);
  }
  out[at] = 13;
  out[at + 1] = 10;
  return at + 2;
}
