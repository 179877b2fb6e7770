import { slotOfKey } from '../../cluster/key-slot.js';
import type { KeySpec } from './command-info.js';

/** Result of `findSlot` when the request names no key (a keyless command). */
export const NO_KEYS = -1;
/** Result of `findSlot` when the request's keys hash to different slots. */
export const CROSS_SLOT = -2;

/** Where a command's keys are: the legacy first/last/step triple, or Redis 7 key specs. */
export interface KeyLayout {
  /** True when first/last/step describe every key (no `movablekeys` flag). */
  fixed: boolean;
  firstKey: number;
  lastKey: number;
  keyStep: number;
  keySpecs: KeySpec[];
}

/**
 * Calls `visit(argIndex)` for each key argument of a request, using the layout the command table
 * read from Redis' `COMMAND`. `args` holds [start, end) offsets per argument into `buf`.
 * Mirrors Redis' getKeysUsingKeySpecs, so keys are found where Redis itself looks for them.
 */
export function forEachKey(
  layout: KeyLayout,
  buf: Buffer,
  argc: number,
  args: Int32Array,
  visit: (argIndex: number) => void,
): void {
  if (layout.fixed) {
    if (layout.firstKey <= 0) return;
    const last = layout.lastKey < 0 ? argc + layout.lastKey : layout.lastKey;
    for (let i = layout.firstKey; i <= last && i < argc; i += layout.keyStep) visit(i);
    return;
  }
  for (const spec of layout.keySpecs) forEachSpecKey(spec, buf, argc, args, visit);
}

/**
 * The one slot all keys of the request hash to, NO_KEYS, or CROSS_SLOT. This is the per-request
 * routing step, so the common fixed layout is handled inline without callbacks.
 */
export function findSlot(layout: KeyLayout, buf: Buffer, argc: number, args: Int32Array): number {
  if (layout.fixed) {
    if (layout.firstKey <= 0 || layout.firstKey >= argc) return NO_KEYS;
    const first = layout.firstKey;
    const slot = slotOfKey(buf, args[first * 2], args[first * 2 + 1]);
    const last = layout.lastKey < 0 ? argc + layout.lastKey : layout.lastKey;
    for (let i = first + layout.keyStep; i <= last && i < argc; i += layout.keyStep) {
      if (slotOfKey(buf, args[i * 2], args[i * 2 + 1]) !== slot) return CROSS_SLOT;
    }
    return slot;
  }
  let slot = NO_KEYS;
  forEachKey(layout, buf, argc, args, (i) => {
    const s = slotOfKey(buf, args[i * 2], args[i * 2 + 1]);
    if (slot === NO_KEYS) slot = s;
    else if (slot !== s) slot = CROSS_SLOT;
  });
  return slot;
}

function forEachSpecKey(spec: KeySpec, buf: Buffer, argc: number, args: Int32Array, visit: (i: number) => void): void {
  let first: number;
  const bs = spec.beginSearch;
  if (bs.type === 'index') {
    first = bs.index;
  } else if (bs.type === 'keyword') {
    const found = findKeyword(bs.keyword, bs.startFrom, buf, argc, args);
    if (found < 0) return;
    first = found + 1;
  } else {
    return;
  }
  const fk = spec.findKeys;
  let last: number;
  let step: number;
  if (fk.type === 'range') {
    step = fk.keyStep;
    if (fk.lastKey >= 0) last = first + fk.lastKey;
    else if (fk.limit === 0) last = argc + fk.lastKey;
    else last = first + (Math.floor((argc - first) / fk.limit) + fk.lastKey);
  } else if (fk.type === 'keynum') {
    step = fk.keyStep;
    const at = first + fk.keyNumIndex;
    if (at >= argc) return;
    const count = parseNonNegative(buf, args[at * 2], args[at * 2 + 1]);
    if (count < 0) return;
    first += fk.firstKey;
    last = first + count - 1;
  } else {
    return;
  }
  if (step <= 0) return;
  for (let i = first; i <= last; i += step) {
    if (i >= argc) return; // too few arguments: the node reports the syntax error
    visit(i);
  }
}

/** Index of the argument equal (ignoring case) to `keyword`, searched as Redis does, or -1. */
function findKeyword(keyword: string, startFrom: number, buf: Buffer, argc: number, args: Int32Array): number {
  const forward = startFrom >= 0;
  let i = forward ? startFrom : argc + startFrom;
  const end = forward ? argc : 0;
  for (; forward ? i < end : i > end; i += forward ? 1 : -1) {
    if (i <= 0 || i >= argc) continue;
    const s = args[i * 2];
    const e = args[i * 2 + 1];
    if (e - s === keyword.length && buf.toString('latin1', s, e).toLowerCase() === keyword) return i;
  }
  return -1;
}

function parseNonNegative(buf: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 9) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
