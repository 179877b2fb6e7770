import { afterEach, describe, it, expect, vi } from 'vitest';
import { firstError, merge, mergeOrderedArray, type MergeKind } from '../../../../src/proxy/fanout/merge.js';
import { groupKeyArgs, planSplit, type SplitPlan } from '../../../../src/proxy/fanout/split.js';
import type { ChildReplies } from '../../../../src/proxy/fanout/gather.js';
import { fallbackCommandTable, type CommandSpec } from '../../../../src/proxy/commands/table.js';
import { slotOf } from '../../../../src/cluster/key-slot.js';
import { Prng } from '../../support/prng.js';
import { bytes, requestView } from '../../support/resp.js';

/** Each group's key argument indexes (the plan keeps them flat). */
const keyArgsOf = (plan: SplitPlan): number[][] => plan.slots.map((_, g) => groupKeyArgs(plan, g));

/**
 * Sub-request replies as the Gather holds them: all in one shared read buffer, laid out in the
 * REVERSE of their index order and with junk between them, so that "first" must mean the first
 * sub-request, not the first bytes, and nothing may read outside [start, end).
 */
function replies(...frames: (string | Buffer)[]): ChildReplies {
  const count = frames.length;
  const starts = new Int32Array(count);
  const ends = new Int32Array(count);
  const parts: Buffer[] = [];
  let pos = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    pos += b.length;
  };
  push(bytes('-ERR junk before\r\n:77\r\n'));
  for (let i = count - 1; i >= 0; i--) {
    const frame = frames[i];
    const body = typeof frame === 'string' ? bytes(frame) : frame;
    starts[i] = pos;
    push(body);
    ends[i] = pos;
    push(bytes(':55\r\n-ERR junk between\r\n'));
  }
  const shared = Buffer.concat(parts);
  return { count, bufs: new Array<Buffer>(count).fill(shared), starts, ends };
}

/** The same replies, each in its own buffer at a non-zero offset. */
function separateReplies(...frames: string[]): ChildReplies {
  const starts = new Int32Array(frames.length);
  const ends = new Int32Array(frames.length);
  const bufs = frames.map((frame, i) => {
    const prefix = bytes(`*2\r\n:${i}\r\n`);
    starts[i] = prefix.length;
    ends[i] = prefix.length + frame.length;
    return Buffer.concat([prefix, bytes(frame), bytes('+after\r\n')]);
  });
  return { count: frames.length, bufs, starts, ends };
}

const text = (b: Buffer) => b.toString('latin1');
const UNEXPECTED = '-ERR slotgate: unexpected reply from a node while merging\r\n';

const arr = (...elements: string[]) => `*${elements.length}\r\n${elements.join('')}`;
const bulk = (s: string) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const int = (n: number) => `:${n}\r\n`;
const NIL = '$-1\r\n';

type Kind = Exclude<MergeKind, 'ordered-array'>;
const ALL_KINDS: Kind[] = ['all-ok', 'sum', 'concat', 'union', 'any-ok', 'and-array', 'min', 'random', 'pairs-sum'];

/** A well-formed success reply of each kind, so that only the error decides. */
const GOOD: Record<Kind, string> = {
  'all-ok': '+OK\r\n',
  sum: int(1),
  concat: arr(bulk('k')),
  union: arr(bulk('ch')),
  'any-ok': '+OK\r\n',
  'and-array': arr(int(1)),
  min: int(5),
  random: bulk('k'),
  'pairs-sum': arr(bulk('ch'), int(1)),
};

describe('firstError', () => {
  it('gives the index of the first error reply in sub-request order', () => {
    expect(firstError(replies('+OK\r\n', '-ERR b\r\n', '-ERR c\r\n'))).toBe(1);
    expect(firstError(replies('+OK\r\n', ':1\r\n', '!3\r\nERR\r\n'))).toBe(2);
    expect(firstError(replies('+OK\r\n', ':1\r\n'))).toBe(-1);
    expect(firstError(replies())).toBe(-1);
  });
});

describe('merge: errors', () => {
  it.each(ALL_KINDS.filter((k) => k !== 'any-ok'))('%s gives the first error in sub-request order, as its bytes', (kind) => {
    const r = replies(GOOD[kind], '-MOVED 1 127.0.0.1:1\r\n', GOOD[kind], '-ERR second\r\n');
    expect(text(merge(kind, r))).toBe('-MOVED 1 127.0.0.1:1\r\n');
  });

  it.each(ALL_KINDS.filter((k) => k !== 'any-ok'))('%s treats a RESP3 blob error as an error', (kind) => {
    const r = replies(GOOD[kind], '!9\r\nERR third\r\n', '-ERR later\r\n');
    expect(text(merge(kind, r))).toBe('!9\r\nERR third\r\n');
  });

  it.each(ALL_KINDS.filter((k) => k !== 'any-ok'))('%s gives the error even when another reply has an unexpected shape', (kind) => {
    // The error decides first: a node's error is more useful than "unexpected reply".
    const r = replies('*-1\r\n', '-ERR real\r\n');
    expect(text(merge(kind, r))).toBe('-ERR real\r\n');
  });

  it('reads replies in separate buffers too', () => {
    expect(text(merge('sum', separateReplies(int(2), '-ERR x\r\n')))).toBe('-ERR x\r\n');
    expect(text(merge('sum', separateReplies(int(2), int(3))))).toBe(':5\r\n');
  });
});

describe("merge 'all-ok'", () => {
  it('gives the first reply once all succeeded', () => {
    expect(text(merge('all-ok', replies('+OK\r\n', '+OK\r\n', '+OK\r\n')))).toBe('+OK\r\n');
  });

  it('gives the first reply when the replies are not all the same (SCRIPT LOAD sha1s agree)', () => {
    expect(text(merge('all-ok', replies(bulk('sha-a'), bulk('sha-b'))))).toBe(bulk('sha-a'));
  });

  it('gives a slotgate error when there is no reply at all', () => {
    expect(text(merge('all-ok', replies()))).toBe(UNEXPECTED);
  });
});

describe("merge 'any-ok'", () => {
  it('gives the first success when any node succeeded, whatever errors came before', () => {
    const r = replies('-NOTBUSY No scripts in execution right now.\r\n', '+OK\r\n', '-UNKILLABLE x\r\n');
    expect(text(merge('any-ok', r))).toBe('+OK\r\n');
  });

  it('gives the first error when every node failed', () => {
    const r = replies('-NOTBUSY No scripts in execution right now.\r\n', '-UNKILLABLE Sorry the script already executed write commands\r\n');
    expect(text(merge('any-ok', r))).toBe('-NOTBUSY No scripts in execution right now.\r\n');
  });

  it('treats a blob error as a failure', () => {
    expect(text(merge('any-ok', replies('!7\r\nNOTBUSY\r\n', '+OK\r\n')))).toBe('+OK\r\n');
    expect(text(merge('any-ok', replies('!7\r\nNOTBUSY\r\n', '-ERR b\r\n')))).toBe('!7\r\nNOTBUSY\r\n');
  });

  it('gives a slotgate error when there is no reply at all', () => {
    expect(text(merge('any-ok', replies()))).toBe(UNEXPECTED);
  });
});

describe("merge 'sum'", () => {
  it('adds the integer replies', () => {
    expect(text(merge('sum', replies(int(1), int(0), int(41))))).toBe(':42\r\n');
  });

  it('adds negative integers and one reply alone', () => {
    expect(text(merge('sum', replies(int(-3), int(5))))).toBe(':2\r\n');
    expect(text(merge('sum', replies(int(7))))).toBe(':7\r\n');
  });

  it('goes past 32 bits', () => {
    expect(text(merge('sum', replies(int(2147483647), int(2147483647), int(2))))).toBe(':4294967296\r\n');
  });

  it.each([
    ['a simple string', '+OK\r\n'],
    ['a bulk holding digits', bulk('3')],
    ['a null bulk', NIL],
    ['an array', arr(int(1))],
  ])('gives a slotgate error for %s', (_name, odd) => {
    expect(text(merge('sum', replies(int(1), odd, int(2))))).toBe(UNEXPECTED);
  });

  it('gives a slotgate error when there is no reply at all', () => {
    expect(text(merge('sum', replies()))).toBe(UNEXPECTED);
  });
});

describe("merge 'min'", () => {
  it('gives the smallest integer (LASTSAVE: the oldest save)', () => {
    expect(text(merge('min', replies(int(1700000300), int(1700000100), int(1700000200))))).toBe(':1700000100\r\n');
    expect(text(merge('min', replies(int(1700000100), int(1700000300))))).toBe(':1700000100\r\n');
    expect(text(merge('min', replies(int(9))))).toBe(':9\r\n');
  });

  it('handles zero and negative values', () => {
    expect(text(merge('min', replies(int(3), int(0), int(-1), int(2))))).toBe(':-1\r\n');
  });

  it('gives a slotgate error for a non-integer reply', () => {
    expect(text(merge('min', replies(int(3), '+OK\r\n')))).toBe(UNEXPECTED);
    expect(text(merge('min', replies(bulk('3'), int(3))))).toBe(UNEXPECTED);
  });
});

describe.each(['concat', 'union'] as const)("merge '%s'", (kind) => {
  it('joins the arrays in sub-request order', () => {
    const r = replies(arr(bulk('a'), bulk('b')), arr(), arr(bulk('c')));
    expect(text(merge(kind, r))).toBe(arr(bulk('a'), bulk('b'), bulk('c')));
  });

  it('drops repeated elements, keeping the first (a key seen on two nodes mid-migration)', () => {
    const r = replies(arr(bulk('a'), bulk('b')), arr(bulk('b'), bulk('c'), bulk('a')), arr(bulk('c'), bulk('d')));
    expect(text(merge(kind, r))).toBe(arr(bulk('a'), bulk('b'), bulk('c'), bulk('d')));
  });

  it('compares whole element bytes: same text in another type, or other bytes, is not a repeat', () => {
    const r = replies(
      arr(bulk('ab'), bulk('\xc3\xa9')),
      arr('+ab\r\n', bulk('\xe9'), bulk('\xc3\xa9'), bulk('AB')),
    );
    expect(text(merge(kind, r))).toBe(arr(bulk('ab'), bulk('\xc3\xa9'), '+ab\r\n', bulk('\xe9'), bulk('AB')));
  });

  it('keeps binary elements whole (CRLF inside a bulk, empty key)', () => {
    const r = replies(arr(bulk('k\r\n:1\r\n'), bulk('')), arr(bulk(''), bulk('z')));
    expect(text(merge(kind, r))).toBe(arr(bulk('k\r\n:1\r\n'), bulk(''), bulk('z')));
  });

  it('joins nested array elements (SLOWLOG GET entries) and drops identical ones', () => {
    const entry = (id: number, cmd: string) => arr(int(id), int(1700000000), int(12), arr(bulk(cmd)), bulk('127.0.0.1:5000'), bulk(''));
    const r = replies(arr(entry(1, 'KEYS'), entry(0, 'GET')), arr(entry(1, 'KEYS'), entry(7, 'SET')));
    expect(text(merge(kind, r))).toBe(arr(entry(1, 'KEYS'), entry(0, 'GET'), entry(7, 'SET')));
  });

  it('gives an empty array when every node has none', () => {
    expect(text(merge(kind, replies(arr(), arr(), arr())))).toBe('*0\r\n');
  });

  it.each([
    ['a null array', '*-1\r\n'],
    ['an integer', int(3)],
    ['a bulk', bulk('a')],
    ['a simple string', '+OK\r\n'],
  ])('gives a slotgate error for %s', (_name, odd) => {
    expect(text(merge(kind, replies(arr(bulk('a')), odd)))).toBe(UNEXPECTED);
  });
});

describe("merge 'and-array'", () => {
  it('gives 1 only where every node gave 1 (SCRIPT EXISTS)', () => {
    const r = replies(arr(int(1), int(0), int(1), int(1)), arr(int(1), int(1), int(0), int(1)), arr(int(1), int(1), int(1), int(1)));
    expect(text(merge('and-array', r))).toBe(arr(int(1), int(0), int(0), int(1)));
  });

  it('passes one node through and handles empty arrays', () => {
    expect(text(merge('and-array', replies(arr(int(0), int(1)))))).toBe(arr(int(0), int(1)));
    expect(text(merge('and-array', replies(arr(), arr())))).toBe('*0\r\n');
  });

  it('gives a slotgate error when nodes disagree on the length', () => {
    expect(text(merge('and-array', replies(arr(int(1), int(1)), arr(int(1)))))).toBe(UNEXPECTED);
  });

  it('gives a slotgate error for a reply that is not an array', () => {
    expect(text(merge('and-array', replies(arr(int(1)), int(1))))).toBe(UNEXPECTED);
    expect(text(merge('and-array', replies('*-1\r\n')))).toBe(UNEXPECTED);
  });

  it('gives a slotgate error when there is no reply at all', () => {
    expect(text(merge('and-array', replies()))).toBe(UNEXPECTED);
  });

  // KNOWN BUG (reported, src not changed here): a non-integer element is read as NaN by
  // integerAt and silently becomes 0, where every other integer merge gives the slotgate error.
  it('gives a slotgate error for an array element that is not an integer', () => {
    expect(text(merge('and-array', replies(arr(int(1), int(1)), arr(int(1), bulk('1')))))).toBe(UNEXPECTED);
  });
});

describe("merge 'random'", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Runs merge('random') with Math.random giving `value`. */
  function pick(value: number, r: ChildReplies): string {
    vi.spyOn(Math, 'random').mockReturnValue(value);
    try {
      return text(merge('random', r));
    } finally {
      vi.restoreAllMocks();
    }
  }

  it('chooses only among non-null replies', () => {
    const r = replies(NIL, bulk('foo'), '_\r\n', bulk('bar'), NIL);
    expect(pick(0, r)).toBe(bulk('foo'));
    expect(pick(0.49, r)).toBe(bulk('foo'));
    expect(pick(0.5, r)).toBe(bulk('bar'));
    expect(pick(0.999999, r)).toBe(bulk('bar'));
  });

  it('can give every non-null reply (seeded draws)', () => {
    const rng = new Prng(11);
    vi.spyOn(Math, 'random').mockImplementation(() => rng.next());
    const r = replies(bulk('k1'), NIL, bulk('k2'), bulk('k3'));
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(text(merge('random', r)));
    expect([...seen].sort()).toEqual([bulk('k1'), bulk('k2'), bulk('k3')].sort());
  });

  it('counts an empty key as a key, not as null', () => {
    expect(pick(0.9, replies(NIL, bulk(''), NIL))).toBe('$0\r\n\r\n');
  });

  it('gives a null bulk when every node gave null (an empty database)', () => {
    expect(pick(0.3, replies(NIL, '_\r\n', NIL))).toBe('$-1\r\n');
    expect(pick(0.3, replies())).toBe('$-1\r\n');
  });
});

describe("merge 'pairs-sum'", () => {
  it('sums the counts per name, names from the first node (PUBSUB NUMSUB)', () => {
    const r = replies(
      arr(bulk('ch1'), int(1), bulk('ch2'), int(0)),
      arr(bulk('ch1'), int(2), bulk('ch2'), int(5)),
      arr(bulk('ch1'), int(0), bulk('ch2'), int(10)),
    );
    expect(text(merge('pairs-sum', r))).toBe(arr(bulk('ch1'), int(3), bulk('ch2'), int(15)));
  });

  it('keeps a repeated name as its own pair (Redis answers each asked name)', () => {
    const r = replies(arr(bulk('a'), int(1), bulk('a'), int(1)), arr(bulk('a'), int(2), bulk('a'), int(2)));
    expect(text(merge('pairs-sum', r))).toBe(arr(bulk('a'), int(3), bulk('a'), int(3)));
  });

  it('gives an empty array for no names', () => {
    expect(text(merge('pairs-sum', replies(arr(), arr())))).toBe('*0\r\n');
  });

  it('keeps binary names whole', () => {
    const r = replies(arr(bulk('c\r\nh'), int(4)), arr(bulk('c\r\nh'), int(6)));
    expect(text(merge('pairs-sum', r))).toBe(arr(bulk('c\r\nh'), int(10)));
  });

  it.each([
    ['an odd number of elements', arr(bulk('ch1'), int(1), bulk('ch2'))],
    ['a non-integer count', arr(bulk('ch1'), bulk('1'))],
    ['another number of pairs', arr(bulk('ch1'), int(1), bulk('ch2'), int(1))],
    ['a null array', '*-1\r\n'],
    ['an integer', int(1)],
  ])('gives a slotgate error for %s', (_name, odd) => {
    expect(text(merge('pairs-sum', replies(arr(bulk('ch1'), int(1)), odd)))).toBe(UNEXPECTED);
  });

  it('gives a slotgate error when there is no reply at all', () => {
    expect(text(merge('pairs-sum', replies()))).toBe(UNEXPECTED);
  });
});

function mgetSpec(): CommandSpec {
  const spec = fallbackCommandTable().get('mget');
  if (spec === undefined) throw new Error('no mget in the fallback table');
  return spec;
}

describe('mergeOrderedArray', () => {
  const MGET = mgetSpec();

  /** A plan for MGET of `keys`, and the replies nodes would give with `values` (null: nil). */
  function mget(keys: string[], values: Record<string, string | null>, reply = (frame: string) => frame) {
    const view = requestView('MGET', ...keys);
    const plan = planSplit(MGET, view.buf, view.argc, view.args);
    const frames = keyArgsOf(plan).map((group) =>
      reply(arr(...group.map((argIndex) => {
        const v = values[keys[argIndex - 1]];
        return v === null || v === undefined ? NIL : bulk(v);
      }))),
    );
    return { plan, frames };
  }

  const [A, B, C] = ['a', 'b', 'c'];

  it('uses keys in three different slots (test premise)', () => {
    expect(new Set([A, B, C].map((k) => slotOf(k))).size).toBe(3);
  });

  it("puts the elements back in the client's key order", () => {
    const { plan, frames } = mget([C, A, B, A], { a: '1', b: '2', c: '3' });
    expect(frames).toEqual([arr(bulk('3')), arr(bulk('1'), bulk('1')), arr(bulk('2'))]);
    expect(text(mergeOrderedArray(replies(...frames), plan))).toBe(arr(bulk('3'), bulk('1'), bulk('2'), bulk('1')));
  });

  it('keeps nil elements in their place', () => {
    const { plan, frames } = mget([A, B, C, '{a}x'], { a: null, b: '2', c: null, '{a}x': 'ax' });
    expect(text(mergeOrderedArray(replies(...frames), plan))).toBe(arr(NIL, bulk('2'), NIL, bulk('ax')));
  });

  it('gives each repeated key its own element, in order', () => {
    const keys = [A, B, A, A, C, B];
    const view = requestView('MGET', ...keys);
    const plan = planSplit(MGET, view.buf, view.argc, view.args);
    // The nodes' elements differ per position so a mix-up shows (a value that changes between reads).
    const frames = [arr(bulk('a0'), bulk('a1'), bulk('a2')), arr(bulk('b0'), bulk('b1')), arr(bulk('c0'))];
    expect(keyArgsOf(plan)).toEqual([[1, 3, 4], [2, 6], [5]]);
    expect(text(mergeOrderedArray(replies(...frames), plan))).toBe(
      arr(bulk('a0'), bulk('b0'), bulk('a1'), bulk('a2'), bulk('c0'), bulk('b1')),
    );
  });

  it('copies element bytes as they are (binary values, RESP3 nulls)', () => {
    const keys = [A, B];
    const view = requestView('MGET', ...keys);
    const plan = planSplit(MGET, view.buf, view.argc, view.args);
    const frames = [arr(bulk('\r\n\x00\xff*1\r\n')), arr('_\r\n')];
    expect(text(mergeOrderedArray(replies(...frames), plan))).toBe(arr(bulk('\r\n\x00\xff*1\r\n'), '_\r\n'));
  });

  it('works with replies in separate buffers', () => {
    const { plan, frames } = mget([B, A], { a: '1', b: '2' });
    expect(text(mergeOrderedArray(separateReplies(...frames), plan))).toBe(arr(bulk('2'), bulk('1')));
  });

  it('gives the first error in group order', () => {
    const { plan } = mget([A, B, C], {});
    const r = replies(arr(NIL), '-TRYAGAIN Multiple keys request during rehashing of slot\r\n', '-ERR later\r\n');
    expect(text(mergeOrderedArray(r, plan))).toBe('-TRYAGAIN Multiple keys request during rehashing of slot\r\n');
  });

  it('gives a slotgate error when a group has another number of elements than keys', () => {
    const { plan } = mget([A, B, A], {});
    expect(text(mergeOrderedArray(replies(arr(NIL), arr(NIL)), plan))).toBe(UNEXPECTED);
    expect(text(mergeOrderedArray(replies(arr(NIL, NIL), arr(NIL, NIL)), plan))).toBe(UNEXPECTED);
  });

  it('gives a slotgate error for a reply that is not an array', () => {
    const { plan } = mget([A, B], {});
    expect(text(mergeOrderedArray(replies(arr(NIL), '+OK\r\n'), plan))).toBe(UNEXPECTED);
    expect(text(mergeOrderedArray(replies('*-1\r\n', arr(NIL)), plan))).toBe(UNEXPECTED);
    expect(text(mergeOrderedArray(replies(int(1), arr(NIL)), plan))).toBe(UNEXPECTED);
  });

  it('restores the client order for random requests (seeded)', () => {
    const rng = new Prng(31337);
    for (let round = 0; round < 300; round++) {
      const pool = Array.from({ length: rng.int(1, 12) }, (_, i) => (rng.next() < 0.3 ? `{t${rng.int(0, 2)}}${i}` : `key:${rng.int(0, 10000)}`));
      const keys = Array.from({ length: rng.int(1, 25) }, () => rng.pick(pool));
      const values: Record<string, string | null> = {};
      for (const key of pool) values[key] = rng.next() < 0.25 ? null : rng.bytes(rng.int(0, 8)).toString('latin1');
      const { plan, frames } = mget(keys, values);
      const expected = arr(...keys.map((k) => (values[k] === null ? NIL : bulk(values[k] as string))));
      expect(text(mergeOrderedArray(replies(...frames), plan)), `round ${round}: ${JSON.stringify(keys)}`).toBe(expected);
    }
  });
});

// RESP3 clients' fan-outs go on RESP3 links: the nodes' replies hold RESP3 types, and the
// merged reply must keep them (the bytes standalone Redis sends a RESP3 client).
describe('merges of RESP3 replies', () => {
  const map = (...elements: string[]) => `%${elements.length / 2}\r\n${elements.join('')}`;
  const set = (...elements: string[]) => `~${elements.length}\r\n${elements.join('')}`;

  it("'pairs-sum' keeps a map a map", () => {
    const r = replies(map(bulk('a'), int(1), bulk('b'), int(0)), map(bulk('a'), int(2), bulk('b'), int(3)));
    expect(text(merge('pairs-sum', r))).toBe(map(bulk('a'), int(3), bulk('b'), int(3)));
    expect(text(merge('pairs-sum', replies(map(), map())))).toBe('%0\r\n');
  });

  it("'concat' and 'union' keep the aggregate type of the replies (a set stays a set)", () => {
    expect(text(merge('union', replies(set(bulk('x')), set(bulk('y'), bulk('x')))))).toBe(set(bulk('x'), bulk('y')));
    expect(text(merge('concat', replies(arr(bulk('x')), arr(bulk('y')))))).toBe(arr(bulk('x'), bulk('y')));
  });

  it("'random' gives RESP3's null when every node gave it", () => {
    expect(text(merge('random', replies('_\r\n', '_\r\n')))).toBe('_\r\n');
  });

  it("'concat' keeps RESP3 element types (doubles, maps) as the nodes' bytes", () => {
    const r = replies(arr(',1.5\r\n', map(bulk('k'), '#t\r\n')), arr(',1.5\r\n', '(12345678901234567890\r\n'));
    expect(text(merge('concat', r))).toBe(arr(',1.5\r\n', map(bulk('k'), '#t\r\n'), '(12345678901234567890\r\n'));
  });
});
