import { describe, it, expect } from 'vitest';
import { slotOf } from '../../../../src/cluster/key-slot.js';
import { encodeGroup, groupKeyArgs, groupSize, hasWholeGroups, planSplit, writeGroup, type SplitPlan } from '../../../../src/proxy/fanout/split.js';
import { fallbackCommandTable, type CommandSpec } from '../../../../src/proxy/commands/table.js';
import { Prng } from '../../support/prng.js';
import { allByteValues, bytes, multibulk, requestView, toBuffer, type Arg, type RequestView } from '../../support/resp.js';

/** Each group's key argument indexes (the plan keeps them flat). */
const keyArgsOf = (plan: SplitPlan): number[][] => plan.slots.map((_, g) => groupKeyArgs(plan, g));

const table = fallbackCommandTable();

function command(name: string): CommandSpec {
  const spec = table.get(name);
  if (spec === undefined) throw new Error(`no command ${name} in the fallback table`);
  return spec;
}

const MGET = command('mget');
const MSET = command('mset');

/**
 * Parses one RESP multibulk request strictly (written independently of the code under test):
 * `*N\r\n` then N times `$len\r\n<len bytes>\r\n`, and nothing after it.
 */
function parseMultibulk(buf: Buffer): Buffer[] {
  let pos = 0;
  const line = (): string => {
    const cr = buf.indexOf('\r\n', pos, 'latin1');
    if (cr < 0) throw new Error(`no CRLF after offset ${pos}`);
    const text = buf.toString('latin1', pos, cr);
    pos = cr + 2;
    return text;
  };
  const header = line();
  if (!/^\*(0|[1-9]\d*)$/.test(header)) throw new Error(`bad multibulk header ${JSON.stringify(header)}`);
  const count = Number(header.slice(1));
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const len = line();
    if (!/^\$(0|[1-9]\d*)$/.test(len)) throw new Error(`bad bulk header ${JSON.stringify(len)} for argument ${i}`);
    const n = Number(len.slice(1));
    if (buf.length < pos + n + 2) throw new Error(`argument ${i} is cut short`);
    out.push(Buffer.from(buf.subarray(pos, pos + n)));
    if (buf[pos + n] !== 13 || buf[pos + n + 1] !== 10) throw new Error(`argument ${i} is not followed by CRLF`);
    pos += n + 2;
  }
  if (pos !== buf.length) throw new Error(`${buf.length - pos} bytes after the request`);
  return out;
}

function plan(spec: CommandSpec, view: RequestView): SplitPlan {
  return planSplit(spec, view.buf, view.argc, view.args);
}

/** Every group's sub-command, parsed back to latin1 argument strings. */
function subCommands(p: SplitPlan, view: RequestView): string[][] {
  return p.slots.map((_, g) => parseMultibulk(encodeGroup(p, g, view.buf, view.args)).map((a) => a.toString('latin1')));
}

/** Keys, checked once, that hash to pairwise different slots. */
const [A, B, C, D] = ['a', 'b', 'c', 'd'];

describe('planSplit', () => {
  it('uses keys in four different slots (test premise)', () => {
    expect(new Set([A, B, C, D].map((k) => slotOf(k))).size).toBe(4);
  });

  it('makes one group per slot, numbered in the order their first key appears', () => {
    const p = plan(MGET, requestView('MGET', C, A, B, D));
    expect(p.slots).toEqual([slotOf(C), slotOf(A), slotOf(B), slotOf(D)]);
    expect(keyArgsOf(p)).toEqual([[1], [2], [3], [4]]);
    expect(Array.from(p.keyGroup)).toEqual([0, 1, 2, 3]);
    expect(Array.from(p.keyPos)).toEqual([0, 0, 0, 0]);
    expect(p.step).toBe(1);
  });

  it('puts keys that share a hash tag in one group, in the client order', () => {
    const p = plan(MGET, requestView('MGET', '{u1}:x', B, '{u1}:y', '{u1}:z', B));
    expect(p.slots).toEqual([slotOf('u1'), slotOf(B)]);
    expect(keyArgsOf(p)).toEqual([[1, 3, 4], [2, 5]]);
    expect(Array.from(p.keyGroup)).toEqual([0, 1, 0, 0, 1]);
    expect(Array.from(p.keyPos)).toEqual([0, 0, 1, 2, 1]);
  });

  it('keeps a repeated key in its slot group each time it appears', () => {
    const p = plan(MGET, requestView('MGET', A, B, A, C, A));
    expect(p.slots).toEqual([slotOf(A), slotOf(B), slotOf(C)]);
    expect(keyArgsOf(p)).toEqual([[1, 3, 5], [2], [4]]);
    expect(Array.from(p.keyGroup)).toEqual([0, 1, 0, 2, 0]);
    expect(Array.from(p.keyPos)).toEqual([0, 0, 1, 0, 2]);
  });

  it('makes a single group when every key is in one slot', () => {
    const p = plan(command('del'), requestView('DEL', '{t}1', '{t}2', '{t}3'));
    expect(p.slots).toEqual([slotOf('t')]);
    expect(keyArgsOf(p)).toEqual([[1, 2, 3]]);
  });

  it('takes MSET keys at every second argument, never a value', () => {
    // The values hash to other slots than their keys: taking a value for a key would show.
    const p = plan(MSET, requestView('MSET', A, B, C, D, A, C));
    expect(p.step).toBe(2);
    expect(p.slots).toEqual([slotOf(A), slotOf(C)]);
    expect(keyArgsOf(p)).toEqual([[1, 5], [3]]);
    expect(Array.from(p.keyGroup)).toEqual([0, 1, 0]);
    expect(Array.from(p.keyPos)).toEqual([0, 0, 1]);
  });

  it.each(['del', 'unlink', 'exists', 'touch', 'mget'])('splits %s one key per argument', (name) => {
    const p = plan(command(name), requestView(name.toUpperCase(), B, A, B));
    expect(p.slots).toEqual([slotOf(B), slotOf(A)]);
    expect(keyArgsOf(p)).toEqual([[1, 3], [2]]);
  });

  it('reads key bytes through the offsets (junk and braces around the frame do not count)', () => {
    // requestView surrounds the frame with "junk{x}" / "{y}junk"; the empty key hashes to slot 0.
    const p = plan(MGET, requestView('MGET', '', 'x}', '{y'));
    expect(p.slots).toEqual([...new Set([slotOf(''), slotOf('x}'), slotOf('{y')])]);
    expect(p.slots[0]).toBe(0);
  });

  it('reads only argc arguments when the offsets array is longer (the scanner reuses it)', () => {
    const view = requestView('MGET', A, B);
    const args = new Int32Array(64).fill(3);
    args.set(view.args);
    const p = planSplit(MGET, view.buf, view.argc, args);
    expect(p.slots).toEqual([slotOf(A), slotOf(B)]);
    expect(keyArgsOf(p)).toEqual([[1], [2]]);
    expect(p.keyGroup.length).toBe(2);
  });

  it('hashes binary keys byte by byte, hash tags included', () => {
    const keys: Buffer[] = [bytes('k\r\ney'), Buffer.from('ключ'), allByteValues(), bytes('{\x00\xff}a'), bytes('{\x00\xff}b'), bytes('')];
    const p = plan(MGET, requestView('MGET', ...keys));
    const expectedSlots: number[] = [];
    for (const key of keys) if (!expectedSlots.includes(slotOf(key))) expectedSlots.push(slotOf(key));
    expect(p.slots).toEqual(expectedSlots);
    keys.forEach((key, k) => expect(p.slots[p.keyGroup[k]], `key ${k}`).toBe(slotOf(key)));
  });
});

describe('hasWholeGroups', () => {
  it.each([
    [3, true], // MSET k v
    [5, true], // MSET k v k v
    [4, false], // MSET k v k
    [6, false],
    [2, false], // MSET k
  ])('MSET with argc %d -> %s', (argc, expected) => {
    expect(hasWholeGroups(MSET, argc)).toBe(expected);
  });

  it.each(['mget', 'del', 'unlink', 'exists', 'touch'])('is always true for %s (one argument per key)', (name) => {
    for (let argc = 2; argc < 8; argc++) expect(hasWholeGroups(command(name), argc)).toBe(true);
  });
});

describe('encodeGroup', () => {
  it('encodes each group as the command name and its keys, in the client order', () => {
    const view = requestView('MGET', A, B, A, C, B);
    const p = plan(MGET, view);
    expect(subCommands(p, view)).toEqual([
      ['MGET', A, A],
      ['MGET', B, B],
      ['MGET', C],
    ]);
  });

  it('keeps the command name exactly as the client sent it', () => {
    const view = requestView('mGeT', A, B);
    expect(subCommands(plan(MGET, view), view)).toEqual([['mGeT', A], ['mGeT', B]]);
  });

  it('sends MSET values along with their keys', () => {
    const view = requestView('MSET', A, 'va', B, 'vb', A, 'va2', C, '');
    const p = plan(MSET, view);
    expect(subCommands(p, view)).toEqual([
      ['MSET', A, 'va', A, 'va2'],
      ['MSET', B, 'vb'],
      ['MSET', C, ''],
    ]);
  });

  it('produces exactly the canonical multibulk bytes (nothing more, no stale bytes)', () => {
    const view = requestView('MSET', A, '1', B, '2', A, '3');
    const p = plan(MSET, view);
    expect(encodeGroup(p, 0, view.buf, view.args).toString('latin1')).toBe(multibulk('MSET', A, '1', A, '3').toString('latin1'));
    expect(encodeGroup(p, 1, view.buf, view.args).toString('latin1')).toBe(multibulk('MSET', B, '2').toString('latin1'));
  });

  it('copies binary keys and values unchanged: CRLF, RESP-looking bytes, non-ASCII, every byte, empty', () => {
    const keys: Buffer[] = [bytes('k\r\n'), bytes('$3\r\n*1'), Buffer.from('ключ-é'), allByteValues(), bytes('')];
    const values: Buffer[] = [bytes('\r\n'), bytes('*-1\r\n'), Buffer.from('значение'), allByteValues().reverse(), bytes('')];
    const parts: Arg[] = ['MSET'];
    keys.forEach((key, i) => parts.push(key, values[i]));
    const view = requestView(...parts);
    const p = plan(MSET, view);
    const expected = new Map<number, Buffer[]>();
    keys.forEach((key, i) => {
      const slot = slotOf(key);
      expected.set(slot, [...(expected.get(slot) ?? [bytes('MSET')]), key, values[i]]);
    });
    expect(p.slots).toEqual([...expected.keys()]);
    p.slots.forEach((slot, g) => {
      const encoded = encodeGroup(p, g, view.buf, view.args);
      expect(parseMultibulk(encoded), `group ${g}`).toEqual(expected.get(slot));
      expect(encoded.equals(multibulk(...(expected.get(slot) as Buffer[])))).toBe(true);
    });
  });

  it.each([0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 123456])('sizes bulk headers right for a %d-byte value', (len) => {
    const value = Buffer.alloc(len, 'v');
    const key = Buffer.alloc(len, 'k');
    const view = requestView('MSET', key, value, A, value);
    const p = plan(MSET, view);
    expect(p.slots).toEqual([slotOf(key), slotOf(A)]);
    expect(encodeGroup(p, 0, view.buf, view.args).equals(multibulk('MSET', key, value))).toBe(true);
    expect(encodeGroup(p, 1, view.buf, view.args).equals(multibulk('MSET', A, value))).toBe(true);
  });

  it.each([4, 5, 50, 499, 500, 5000])('sizes the multibulk header right for %d keys in one group', (n) => {
    // 1 + 2n arguments: 9, 11, 101, 999, 1001, 10001.
    const parts: Arg[] = ['MSET'];
    for (let i = 0; i < n; i++) parts.push(`{g}${i}`, `v${i}`);
    parts.push(B, 'other');
    const view = requestView(...parts);
    const p = plan(MSET, view);
    expect(p.slots).toEqual([slotOf('g'), slotOf(B)]);
    const encoded = encodeGroup(p, 0, view.buf, view.args);
    expect(encoded.equals(multibulk(...parts.slice(0, 1 + 2 * n)))).toBe(true);
    expect(encodeGroup(p, 1, view.buf, view.args).equals(multibulk('MSET', B, 'other'))).toBe(true);
  });
});

describe('planSplit + encodeGroup on random requests', () => {
  /** Random binary keys; braces are common, and a few hash tags repeat so groups get several keys. */
  function randomKey(rng: Prng): Buffer {
    const r = rng.next();
    if (r < 0.25) return bytes(`{tag${rng.int(0, 3)}}${rng.int(0, 1000)}`);
    if (r < 0.35) return bytes(rng.pick(['a', 'b', 'c', '']));
    const key = Buffer.alloc(rng.int(0, 24));
    for (let i = 0; i < key.length; i++) {
      const q = rng.next();
      key[i] = q < 0.1 ? 0x7b : q < 0.2 ? 0x7d : q < 0.3 ? rng.pick([13, 10]) : rng.int(0, 255);
    }
    return key;
  }

  it.each([
    ['MGET', 1],
    ['MSET', 2],
    ['DEL', 1],
  ] as const)('%s: groups cover every key once, one slot each, in first-key order; sub-commands re-parse', (name, step) => {
    const rng = new Prng(name === 'MSET' ? 2024 : name === 'MGET' ? 7 : 99);
    const spec = command(name);
    for (let round = 0; round < 200; round++) {
      const keyCount = rng.int(1, 30);
      const keys = Array.from({ length: keyCount }, () => randomKey(rng));
      const parts: Arg[] = [name];
      for (const key of keys) {
        parts.push(key);
        if (step === 2) {
          parts.push(rng.bytes(rng.int(0, 12)));
        }
      }
      const view = requestView(...parts);
      const p = plan(spec, view);
      const context = `round ${round}`;

      // Group slots: distinct, in the order of first appearance among the keys.
      const firstSeen: number[] = [];
      for (const key of keys) if (!firstSeen.includes(slotOf(key))) firstSeen.push(slotOf(key));
      expect(p.slots, context).toEqual(firstSeen);

      // keyGroup/keyPos point every client key at its own argument.
      expect(p.keyGroup.length, context).toBe(keyCount);
      for (let k = 0; k < keyCount; k++) {
        expect(keyArgsOf(p)[p.keyGroup[k]][p.keyPos[k]], context).toBe(1 + k * step);
      }
      // Each group's arguments increase (client order) and all hash to its slot.
      keyArgsOf(p).forEach((group, g) => {
        expect([...group].sort((x, y) => x - y), context).toEqual(group);
        for (const argIndex of group) expect(slotOf(toBuffer(parts[argIndex])), context).toBe(p.slots[g]);
      });
      expect(keyArgsOf(p).flat().length, context).toBe(keyCount);

      // The sub-commands carry exactly the group's keys (with their values) as bytes.
      p.slots.forEach((_, g) => {
        const args = parseMultibulk(encodeGroup(p, g, view.buf, view.args));
        const expected: Buffer[] = [bytes(name)];
        for (const argIndex of keyArgsOf(p)[g]) {
          for (let j = 0; j < step; j++) expected.push(toBuffer(parts[argIndex + j]));
        }
        expect(args, `${context}, group ${g}`).toEqual(expected);
      });
    }
  });
});

describe('groupSize and writeGroup', () => {
  it('writeGroup fills exactly groupSize bytes, for every group of seeded random requests', () => {
    const table = fallbackCommandTable();
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 200; n++) {
      const name = next() < 0.5 ? 'MSET' : 'MGET';
      const keyCount = 2 + Math.floor(next() * 30);
      const parts: string[] = [];
      for (let k = 0; k < keyCount; k++) {
        parts.push(`key${Math.floor(next() * 1000)}`.repeat(1 + Math.floor(next() * 5)));
        if (name === 'MSET') parts.push('v'.repeat(Math.floor(next() * 200)));
      }
      const view = requestView(name, ...parts);
      const spec = table.get(name.toLowerCase())!;
      const plan = planSplit(spec, view.buf, view.argc, view.args);
      for (let g = 0; g < plan.slots.length; g++) {
        const size = groupSize(plan, g, view.args);
        const out = Buffer.alloc(size + 8, 0xee);
        expect(writeGroup(plan, g, view.buf, view.args, out, 4)).toBe(4 + size);
        expect(out[3]).toBe(0xee);
        expect(out[4 + size]).toBe(0xee);
      }
    }
  });
});
