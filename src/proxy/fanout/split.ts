import { slotOfKey } from '../../cluster/key-slot.js';
import type { KeyLayout } from '../commands/key-finder.js';

/**
 * How a multi-key request whose keys span slots is cut into one sub-command per slot. Groups
 * are numbered in the order their first key appears, so "the first error in key order" is
 * the first error in group order. Each key argument takes its `step - 1` following arguments
 * along (MSET's values).
 */
export interface SplitPlan {
  /** Slot of each group. */
  slots: number[];
  /** Argument index of each key, per group, in the client's order. */
  keyArgs: number[][];
  /** For the client's k-th key: its group and its position in that group. */
  keyGroup: Int32Array;
  keyPos: Int32Array;
  step: number;
}

/** Groups the keys of a fixed-layout request (firstKey/lastKey/step) by slot. */
export function planSplit(layout: KeyLayout, buf: Buffer, argc: number, args: Int32Array): SplitPlan {
  const step = layout.keyStep;
  const last = layout.lastKey < 0 ? argc + layout.lastKey : layout.lastKey;
  const keyCount = last >= layout.firstKey ? Math.floor((last - layout.firstKey) / step) + 1 : 0;
  const slots: number[] = [];
  const keyArgs: number[][] = [];
  const keyGroup = new Int32Array(keyCount);
  const keyPos = new Int32Array(keyCount);
  const groupOfSlot = new Map<number, number>();
  for (let k = 0, i = layout.firstKey; k < keyCount; k++, i += step) {
    const slot = slotOfKey(buf, args[i * 2], args[i * 2 + 1]);
    let g = groupOfSlot.get(slot);
    if (g === undefined) {
      g = slots.length;
      groupOfSlot.set(slot, g);
      slots.push(slot);
      keyArgs.push([]);
    }
    keyGroup[k] = g;
    keyPos[k] = keyArgs[g].length;
    keyArgs[g].push(i);
  }
  return { slots, keyArgs, keyGroup, keyPos, step };
}

/**
 * True when the arguments after the first key come in whole groups of `step` (MSET's key/value
 * pairs); otherwise Redis answers with its arity error, and so must slotgate.
 */
export function hasWholeGroups(layout: KeyLayout, argc: number): boolean {
  return layout.keyStep <= 1 || (argc - layout.firstKey) % layout.keyStep === 0;
}

/**
 * Encodes the sub-command of group `g`: the command name (argument 0) and the group's keys,
 * each with its following `step - 1` arguments, copied from the client's bytes.
 */
export function encodeGroup(plan: SplitPlan, g: number, buf: Buffer, args: Int32Array): Buffer {
  const keys = plan.keyArgs[g];
  const step = plan.step;
  const argCount = 1 + keys.length * step;
  let size = headerSize(argCount) + bulkSize(args[1] - args[0]);
  for (const k of keys) for (let j = 0; j < step; j++) size += bulkSize(args[(k + j) * 2 + 1] - args[(k + j) * 2]);
  const out = Buffer.allocUnsafe(size);
  let at = out.write(`*${argCount}\r\n`, 0, 'latin1');
  at = writeBulk(out, at, buf, args[0], args[1]);
  for (const k of keys) for (let j = 0; j < step; j++) at = writeBulk(out, at, buf, args[(k + j) * 2], args[(k + j) * 2 + 1]);
  return out;
}

function digits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : String(n).length;
}

function headerSize(count: number): number {
  return 1 + digits(count) + 2;
}

function bulkSize(length: number): number {
  return 1 + digits(length) + 2 + length + 2;
}

function writeBulk(out: Buffer, at: number, buf: Buffer, start: number, end: number): number {
  at += out.write(`$${end - start}\r\n`, at, 'latin1');
  at += buf.copy(out, at, start, end);
  out[at] = 13;
  out[at + 1] = 10;
  return at + 2;
}
