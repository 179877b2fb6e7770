// Differential acceptance test: seeded random sequences of thousands of commands (every data type,
// multi-key commands split per slot, whole-cluster commands, scripts, functions, malformed
// requests) go both to slotgate, in front of the shared 3-master test cluster, and to one
// standalone redis-server; every reply must be the same. Both sides get the same commands in the
// same order, pipelined BATCH at a time, so a pipelined command must see the effects of every
// command before it and none after it, as on one server.
//
// Compared exactly, except:
// - order-free where Redis defines no order: KEYS, SMEMBERS, SINTER/SUNION/SDIFF, HKEYS/HVALS/
//   HGETALL, and full SCAN/SSCAN/HSCAN/ZSCAN iterations (the set of everything returned);
// - random picks (RANDOMKEY, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER): same size as standalone's
//   pick and taken from the collection, which both sides then list in full and must agree on;
// - SPOP: run on slotgate only, the popped members are SREM'd on standalone (proving they were
//   there), so both datasets stay identical;
// - TTL/PTTL/EXPIRETIME: by class (-2 / -1 / positive); all TTLs are long, nothing expires;
// - one SCAN call: slotgate's cursor is a slot number, so its pages are not standalone's; a
//   whole-keyspace call (COUNT 100000) is compared, a smaller page must hold only keys that
//   exist at that point, and malformed SCAN arguments must give the same errors;
// - ZRANGE BYLEX and friends only on lex:* sorted sets whose scores are all 0 (with mixed scores
//   the result is undefined and differs between two Redis servers).
// Cross-slot commands that slotgate must refuse (MSETNX, RENAME, COPY, LMOVE, SUNIONSTORE,
// ZUNIONSTORE, PFCOUNT, EVAL... over keys of different slots) succeed on a standalone server:
// they are not compared and not sent to standalone; slotgate must answer CROSSSLOT (refusal beats
// guessing: it cannot run them atomically across nodes). Not covered, as intended differences:
// INFO, CLIENT, CONFIG, DEBUG, replication and persistence, OBJECT FREQ/IDLETIME, MEMORY USAGE,
// SELECT of other databases, WAIT/MULTI/blocking/pub-sub, SORT BY/GET (denied in cluster mode)
// and EVAL-cached scripts (cached on one node only).
//
// It flushes and counts the whole keyspace of the shared cluster (FLUSHALL, DBSIZE, KEYS, SCAN).
//
// Run twice: in RESP2 with ioredis on both sides (decoded replies compared), and in RESP3 with a
// raw client that sends HELLO 3 to both sides first and compares every reply's bytes: exactly
// where the RESP2 run compares exactly, and elsewhere the normalised values plus the multiset of
// RESP3 types the reply is made of (a map must stay a map, a double a double). The RESP3 run
// runs the same seeds (SLOTGATE_DIFF_RESP3_SEEDS chooses others); it is no slower.
//
// On the first mismatch of a seed the test fails with the seed, the index of the operation in
// that seed's sequence, the command(s) and both replies. SLOTGATE_DIFF_SEEDS=7,8 and
// SLOTGATE_DIFF_COUNT=5000 change the run.

import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { slotOf } from '../../src/cluster/key-slot.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, seededRandom, startTestProxy } from '../helpers/proxy.js';
import { RawRespClient } from '../helpers/raw-resp-client.js';
import { startStandaloneRedis, type StandaloneRedis } from '../helpers/standalone-redis.js';
import { startLocalCluster, type LocalCluster } from '../../src/tools/local-cluster.js';

const SEEDS = (process.env.SLOTGATE_DIFF_SEEDS ?? '1,2,3,4,5').split(',').map(Number);
const RESP3_SEEDS = (process.env.SLOTGATE_DIFF_RESP3_SEEDS ?? SEEDS.join(',')).split(',').map(Number);
const COMMANDS_PER_SEED = Number(process.env.SLOTGATE_DIFF_COUNT ?? 2000);
/** Commands pipelined per round trip on each side (same order on both). */
const BATCH = 50;

// ---------------------------------------------------------------------------------------------
// Replies and how they are compared

/** A reply; `raw` (its bytes) and `types` (its sorted type bytes) come from the RESP3 run's raw client. */
type Reply = ({ ok: unknown } | { err: string }) & { raw?: string; types?: string };

/** ioredis (RESP2 run) or the raw client (RESP3 run): both sides of one run use the same kind. */
type Client = Redis | RawRespClient;

function send(client: Client, cmd: string[]): Promise<Reply> {
  if (client instanceof RawRespClient) return client.request(cmd);
  return client.call(cmd[0], ...cmd.slice(1)).then(
    (ok) => ({ ok }),
    (e: unknown) => ({ err: e instanceof Error ? e.message : String(e) }),
  );
}

function show(v: unknown): string {
  const text = JSON.stringify(v);
  return text.length > 1500 ? `${text.slice(0, 1500)}... (${text.length} chars)` : text;
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How an ok reply is made comparable. */
type Norm = (v: unknown) => unknown;
const exact: Norm = (v) => v;
/** Elements in no defined order (SMEMBERS, KEYS, SUNION...). */
const unordered: Norm = (v) => (Array.isArray(v) ? v.map((e) => JSON.stringify(e)).sort(byText) : v);
/** field/value (member/score) pairs in no defined order (HGETALL, HSCAN pages; RESP3 gives some as [field, value] arrays). */
const unorderedPairs: Norm = (v) => {
  if (Array.isArray(v) && v.length > 0 && v.every((e) => Array.isArray(e) && e.length === 2)) {
    return v.map((e) => JSON.stringify(e)).sort(byText);
  }
  if (Array.isArray(v)) {
    const pairs: string[] = [];
    for (let i = 0; i < v.length; i += 2) pairs.push(JSON.stringify([v[i], v[i + 1]]));
    return pairs.sort(byText);
  }
  if (v !== null && typeof v === 'object') return Object.entries(v).map((e) => JSON.stringify(e)).sort(byText);
  return v;
};
/** One SCAN page: [cursor, keys in no defined order]. */
const scanPage: Norm = (v) => (Array.isArray(v) && v.length === 2 ? [v[0], unordered(v[1])] : v);
/** TTL/PTTL/EXPIRETIME: -2 (no key), -1 (no expiry) or "positive"; never the exact time. */
const ttlClass: Norm = (v) => (typeof v === 'number' && v >= 0 ? 'positive' : v);

function compareReply(p: Reply, s: Reply, norm: Norm): string | null {
  if (p.raw !== undefined && s.raw !== undefined) {
    if (norm === exact) return p.raw === s.raw ? null : 'different reply bytes';
    if (p.types !== s.types) return `different RESP types (slotgate ${p.types}, standalone ${s.types})`;
  }
  if ('err' in p || 'err' in s) {
    if ('err' in p && 'err' in s && p.err === s.err) return null;
    return 'different errors / error on one side only';
  }
  return JSON.stringify(norm(p.ok)) === JSON.stringify(norm(s.ok)) ? null : 'different replies';
}

// ---------------------------------------------------------------------------------------------
// Operations: one or more commands per side plus a check, or a "barrier" that needs round trips

type Check = (p: Reply[], s: Reply[]) => string | null;

interface BatchOp {
  kind: 'batch';
  /** Said after the commands in a mismatch report. */
  note?: string;
  proxy: string[][];
  standalone: string[][];
  check: Check;
}

interface BarrierOp {
  kind: 'barrier';
  label: string;
  /** Runs on both clients after every earlier command was answered; null when fine. */
  run: (p: Client, s: Client) => Promise<{ problem: string | null; proxyReply: unknown; standaloneReply: unknown }>;
}

type Op = BatchOp | BarrierOp;

/** The same command on both sides, replies compared with `norm`. */
function same(cmd: string[], norm: Norm = exact): BatchOp {
  return { kind: 'batch', proxy: [cmd], standalone: [cmd], check: (p, s) => compareReply(p[0], s[0], norm) };
}

function sameSlot(keys: string[]): boolean {
  return keys.every((k) => slotOf(k) === slotOf(keys[0]));
}

/**
 * A command over keys of different slots: slotgate must refuse it with CROSSSLOT; the
 * standalone server is not asked (it would run it, slotgate must not guess). When the keys
 * happen to share a slot it is an ordinary compared command.
 */
function crossSlot(cmd: string[], keys: string[], norm: Norm = exact): BatchOp {
  if (sameSlot(keys)) return same(cmd, norm);
  return {
    kind: 'batch',
    note: '[cross-slot: CROSSSLOT expected from slotgate, not sent to standalone]',
    proxy: [cmd],
    standalone: [],
    check: (p) => ('err' in p[0] && p[0].err.startsWith('CROSSSLOT') ? null : 'slotgate did not refuse a cross-slot command with CROSSSLOT'),
  };
}

/**
 * A random pick from a collection (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, RANDOMKEY): both sides
 * run `cmd` then `universe` (the whole collection, same state); the universes must be equal,
 * slotgate's pick must come from it, and have the size standalone's pick has. With `pairs`,
 * both the pick and the universe are name/value pairs (WITHVALUES, WITHSCORES).
 */
function randomPick(cmd: string[], universe: string[], pairs = false): BatchOp {
  return {
    kind: 'batch',
    note: '(a random pick, then the whole collection)',
    proxy: [cmd, universe],
    standalone: [cmd, universe],
    check: (p, s) => {
      const universeProblem = compareReply(p[1], s[1], pairs ? unorderedPairs : unordered);
      if (universeProblem !== null) return `collection differs: ${universeProblem}`;
      if ('err' in p[0] || 'err' in s[0]) return compareReply(p[0], s[0], exact);
      if (p[0].types !== s[0].types) return `picks of different RESP types (slotgate ${p[0].types}, standalone ${s[0].types})`;
      // ioredis turns a lower-case hgetall's reply into an object; unorderedPairs takes both.
      const whole = 'ok' in p[1] ? p[1].ok : [];
      const all = new Set(pairs ? (unorderedPairs(whole) as string[]) : Array.isArray(whole) ? whole.map(String) : []);
      const pick = p[0].ok;
      const other = s[0].ok;
      if (pick === null || other === null) return pick === other ? null : 'null on one side only';
      if (typeof pick === 'string') return typeof other === 'string' && all.has(pick) ? null : 'pick not in the collection';
      if (!Array.isArray(pick) || !Array.isArray(other)) return 'unexpected reply shape';
      if (pick.length !== other.length) return 'picks of different sizes';
      const elements = pairs ? (unorderedPairs(pick) as string[]) : pick.map(String);
      for (const e of elements) if (!all.has(e)) return `${e} not in the collection`;
      return null;
    },
  };
}

/**
 * A SCAN call whose page cannot be compared (the cursor means something else on slotgate): only
 * whether it fails, and with which error.
 */
function sameErrors(cmd: string[]): BatchOp {
  return {
    kind: 'batch',
    note: '(only errors compared)',
    proxy: [cmd],
    standalone: [cmd],
    check: (p, s) => ('err' in p[0] || 'err' in s[0] ? compareReply(p[0], s[0], exact) : null),
  };
}

/**
 * One SCAN call pipelined with the rest: its page differs from standalone's (the cursor means
 * something else), but every key in it must exist at that point; standalone's KEYS says which.
 */
function scanPageSubset(cmd: string[], keysPattern: string): BatchOp {
  return {
    kind: 'batch',
    note: `(every key of slotgate's page must be in standalone's KEYS ${keysPattern})`,
    proxy: [cmd],
    standalone: [['KEYS', keysPattern]],
    check: (p, s) => {
      if ('err' in p[0] || 'err' in s[0]) return 'err' in p[0] ? `SCAN failed: ${p[0].err}` : 'KEYS failed on standalone';
      const page = p[0].ok;
      if (!Array.isArray(page) || page.length !== 2 || typeof page[0] !== 'string' || !Array.isArray(page[1])) return 'not a SCAN reply';
      const existing = new Set((s[0].ok as string[]).map(String));
      for (const key of page[1] as string[]) if (!existing.has(key)) return `key ${JSON.stringify(key)} does not exist at this point`;
      return null;
    },
  };
}

/** SPOP: popped on slotgate, the popped members SREM'd on standalone (which proves they were there). */
function spop(key: string, count: string | null): BarrierOp {
  const cmd = count === null ? ['SPOP', key] : ['SPOP', key, count];
  return {
    kind: 'barrier',
    label: `${cmd.join(' ')}   (popped members then SREM'd on standalone)`,
    run: async (pc, sc) => {
      const p = await send(pc, cmd);
      if ('err' in p) {
        const s = await send(sc, cmd); // an error changes nothing
        return { problem: compareReply(p, s, exact), proxyReply: p, standaloneReply: s };
      }
      const card = await send(sc, ['SCARD', key]);
      const members = p.ok === null ? [] : Array.isArray(p.ok) ? p.ok.map(String) : [String(p.ok)];
      const removed = members.length > 0 ? await send(sc, ['SREM', key, ...members]) : { ok: 0 };
      const size = 'ok' in card ? Number(card.ok) : NaN;
      const expected = count === null ? Math.min(1, size) : Math.min(Number(count), size);
      let problem: string | null = null;
      if (count === null && p.ok !== null && typeof p.ok !== 'string') problem = 'SPOP without count must give a bulk string or null';
      else if (count !== null && !Array.isArray(p.ok)) problem = 'SPOP with count must give an array';
      else if (members.length !== expected) problem = `popped ${members.length} members, standalone set had ${size}`;
      else if (!('ok' in removed) || removed.ok !== members.length) problem = 'popped members were not all in the standalone set';
      return { problem, proxyReply: p, standaloneReply: { scardBefore: card, sremOfPopped: removed } };
    },
  };
}

/** Iterates a cursor command to the end on one side; the set of elements (or pairs) seen. */
async function iterate(client: Client, head: string[], rest: string[], pairs: boolean): Promise<Reply> {
  let cursor = '0';
  const seen = new Set<string>();
  for (let calls = 0; ; calls++) {
    const r = await send(client, [...head, cursor, ...rest]);
    if ('err' in r) return r;
    const [next, elements] = r.ok as [string, string[]];
    if (pairs) for (let i = 0; i < elements.length; i += 2) seen.add(JSON.stringify([elements[i], elements[i + 1]]));
    else for (const e of elements) seen.add(e);
    cursor = next;
    if (cursor === '0') return { ok: [...seen].sort(byText) };
    if (calls > 100_000) return { err: `no end of iteration after ${calls} calls (cursor ${cursor})` };
  }
}

/** A full SCAN / HSCAN / SSCAN / ZSCAN iteration on each side: the sets of elements must be equal. */
function fullScan(head: string[], rest: string[], pairs: boolean): BarrierOp {
  return {
    kind: 'barrier',
    label: `${[...head, '<cursor>', ...rest].join(' ')}   (full iteration, compared as a set)`,
    run: async (pc, sc) => {
      const [p, s] = await Promise.all([iterate(pc, head, rest, pairs), iterate(sc, head, rest, pairs)]);
      return { problem: compareReply(p, s, exact), proxyReply: p, standaloneReply: s };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The generator

const TYPES = ['string', 'hash', 'list', 'set', 'zset', 'stream'] as const;
type KeyType = (typeof TYPES)[number];
const LETTER: Record<KeyType, string> = { string: 'v', hash: 'h', list: 'l', set: 's', zset: 'z', stream: 'x' };
/** Plain keys k:0..k:299 over ~300 slots; k:n is meant to hold TYPES[n % 6]. */
const PLAIN_KEYS = 300;
/** Hash-tagged families {t0}..{t11}: {tN}:<type letter><0..2>, same slot within a family. */
const FAMILIES = 12;
const FAMILY_SIZE = 3;
/** Most commands on a type go to its first few keys, so collections grow and commands meet data. */
const HOT_KEYS_PER_TYPE = 8;
/** Keys whose slot is easy to get wrong: empty, empty or nested hash tags, spaces, non-ASCII. */
const ODD_KEYS = [
  '', '{}', '{}x', 'a{}b{c}', '{{x}}', '{x}}y', 'x{y', 'key with spaces', 'ключ', '{t1}', 'k:{t1}:z', 'k:{t2}',
  '\\x00\u0000nul', 'a*b', 'a?b', 'a[b]', 'a\\b', 'k:1[', 'k:]',
];
/** KEYS and SCAN MATCH patterns, glob corner cases included (slotgate matches SCAN itself). */
const KEY_PATTERNS = [
  '*', 'k:*', 'k:1*', 'k:?', 'k:[0-4]?', 'k:*7', '{t1*', '{t2}:*', '*:s*', '*:[hz]?', 'k:[^1-8]*', 'nomatch*', 'k:\\*', '*}:x?',
  'a\\*b', 'a\\?b', 'a\\[b]', 'a\\\\b', 'a[*]b', 'a[?]b', 'k:[9-0]*', 'k:[!1]*', 'k:[1-]*', 'k:[]*', 'k:[\\]]*', 'k:1[',
  'k:[', '*[', '[', '*\\', '?', '*?*?*?*?*', 'x{*', '[a-k]:1*', 'k:[^]*', 'k:[^1]', '*ё*', '*\\x00*', 'k:[a-', 'a[\\*]b',
  '\\k:1', 'k:1\\', 'K:*', '**', '*:*:*', '',
];

/** Scripts only ever SCRIPT LOADed (EVAL caches its script on one node only). */
const LOADED_SCRIPTS = [
  "return {redis.call('TYPE', KEYS[1])['ok'], redis.call('EXISTS', KEYS[2])}",
  "return redis.call('SET', KEYS[1], ARGV[1] or 'from-script')",
];
const LOADED_SHAS = LOADED_SCRIPTS.map((s) => createHash('sha1').update(s).digest('hex'));
const FUNCTION_LIBRARY = [
  '#!lua name=difflib',
  "redis.register_function('diff_get', function(keys, args) return redis.call('GET', keys[1]) end)",
  "redis.register_function{function_name='diff_type', callback=function(keys, args) return redis.call('TYPE', keys[1]) end, flags={'no-writes'}}",
].join('\n');

class Generator {
  private readonly r: () => number;
  private streamSeq = 1;

  constructor(seed: number) {
    this.r = seededRandom(seed);
  }

  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Any key: mostly plain, some family keys, a few that are never written. */
  anyKey(): string {
    const x = this.r();
    if (x < 0.75) return `k:${this.int(PLAIN_KEYS)}`;
    if (x < 0.96) return `{t${this.int(FAMILIES)}}:${LETTER[this.pick(TYPES)]}${this.int(FAMILY_SIZE)}`;
    if (x < 0.98) return this.pick(ODD_KEYS);
    return `k:never:${this.int(10)}`;
  }

  /** A key meant to hold `type` (sometimes any key, for WRONGTYPE). */
  key(type: KeyType): string {
    const x = this.r();
    if (x < 0.03) return this.pick(ODD_KEYS);
    if (x < 0.07) return this.anyKey();
    if (x < 0.7) return `k:${6 * this.int(HOT_KEYS_PER_TYPE) + TYPES.indexOf(type)}`;
    if (x < 0.85) return `k:${6 * this.int(PLAIN_KEYS / 6) + TYPES.indexOf(type)}`;
    return `{t${this.int(FAMILIES)}}:${LETTER[type]}${this.int(FAMILY_SIZE)}`;
  }

  /** A sorted set whose scores are all 0 (for BYLEX). */
  lexKey(): string {
    return `lex:${this.int(4)}`;
  }

  /** `count` keys of one family (one slot), meant to hold `type`; repeats possible. */
  family(type: KeyType, count: number): string[] {
    const f = this.int(FAMILIES);
    return Array.from({ length: count }, () => `{t${f}}:${LETTER[this.chance(0.05) ? this.pick(TYPES) : type]}${this.int(FAMILY_SIZE)}`);
  }

  /** Keys of many slots, with repeats (EXISTS a a counts twice). */
  manyKeys(min: number, max: number): string[] {
    const n = min + this.int(max - min + 1);
    const keys: string[] = [];
    for (let i = 0; i < n; i++) keys.push(keys.length > 0 && this.chance(0.12) ? this.pick(keys) : this.anyKey());
    return keys;
  }

  /** The keys with some of them repeated at random places. */
  withRepeats(keys: string[]): string[] {
    const out = [...keys];
    for (let i = 0; i < keys.length / 5; i++) out.splice(this.int(out.length + 1), 0, this.pick(keys));
    return out;
  }

  /** `count` keys (>= 2) of different slots, meant to hold `type`. */
  crossKeys(type: KeyType, count: number): string[] {
    const keys = [this.key(type)];
    while (keys.length < count) keys.push(this.key(type));
    return keys;
  }

  value(): string {
    const x = this.r();
    if (x < 0.35) return `v${this.int(40)}`;
    if (x < 0.6) return String(this.int(200) - 50);
    if (x < 0.7) return String(this.int(1000) / 8);
    if (x < 0.75) return '';
    if (x < 0.82) return 'x'.repeat(this.int(90));
    if (x < 0.86) return 'héllo ✓ wörld';
    return `val-${this.int(1000)}`;
  }
  member(): string {
    return this.chance(0.25) ? String(this.int(10)) : `m${this.int(12)}`;
  }
  members(min: number, max: number): string[] {
    return Array.from({ length: min + this.int(max - min + 1) }, () => this.member());
  }
  field(): string {
    return `f${this.int(12)}`;
  }
  element(): string {
    return `e${this.int(8)}`;
  }
  score(): string {
    const x = this.r();
    if (x < 0.5) return String(this.int(20));
    if (x < 0.85) return String(this.int(100) / 4 - 5);
    if (x < 0.9) return this.pick(['-inf', '+inf', 'inf']);
    if (x < 0.93) return 'notanumber';
    return String(this.int(5));
  }
  index(): string {
    return String(this.int(14) - 7);
  }
  longSeconds(): string {
    return String(10_000 + this.int(1_000_000));
  }
  range(): [string, string] {
    const x = this.r();
    if (x < 0.4) return ['0', '-1'];
    return [this.index(), this.index()];
  }
  scoreBound(): string {
    const x = this.r();
    if (x < 0.15) return '-inf';
    if (x < 0.3) return '+inf';
    const n = String(this.int(25) - 5);
    return this.chance(0.3) ? `(${n}` : n;
  }
  lexBound(): string {
    const x = this.r();
    if (x < 0.2) return '-';
    if (x < 0.4) return '+';
    return `${this.chance(0.5) ? '[' : '('}m${this.int(25)}`;
  }

  /** Weighted table of command makers. */
  private readonly table: [number, () => Op][] = [
    // strings
    [6, () => {
      const cmd = ['SET', this.key('string'), this.value()];
      const x = this.r();
      if (x < 0.15) cmd.push('EX', this.longSeconds());
      else if (x < 0.22) cmd.push('PX', String(10_000_000 + this.int(1_000_000)));
      else if (x < 0.25) cmd.push('KEEPTTL');
      else if (x < 0.27) cmd.push('EX', this.pick(['0', '-3', 'soon']));
      if (this.chance(0.25)) cmd.push(this.pick(['NX', 'XX']));
      if (this.chance(0.2)) cmd.push('GET');
      return same(cmd);
    }],
    [5, () => same(['GET', this.key('string')])],
    [1, () => same(['GETSET', this.key('string'), this.value()])],
    [1, () => same(['GETDEL', this.key('string')])],
    [1, () => same(['GETEX', this.key('string'), ...this.pick([[], ['PERSIST'], ['EX', this.longSeconds()]])])],
    [2, () => same(['APPEND', this.key('string'), this.value()])],
    [1, () => same(['STRLEN', this.key('string')])],
    [2, () => same([this.pick(['INCR', 'DECR']), this.key('string')])],
    [2, () => same([this.pick(['INCRBY', 'DECRBY']), this.key('string'), String(this.int(100) - 30)])],
    [1, () => same(['INCRBYFLOAT', this.key('string'), this.pick(['0.5', '-1.25', '3', '1e3', '2.5e-1', 'x'])])],
    [1, () => same(['SETRANGE', this.key('string'), String(this.int(40)), this.value()])],
    [1, () => same(['GETRANGE', this.key('string'), this.index(), this.index()])],
    [1, () => same(['SETNX', this.key('string'), this.value()])],
    [1, () => same(['SETEX', this.key('string'), this.chance(0.9) ? this.longSeconds() : '0', this.value()])],
    [3, () => same(['MSET', ...this.crossKeys('string', 2 + this.int(6)).flatMap((k) => [k, this.value()])])],
    [3, () => same(['MGET', ...this.manyKeys(1, 10)])],
    [1, () => same(['MSETNX', ...this.family('string', 1 + this.int(3)).flatMap((k) => [k, this.value()])])],
    [1, () => {
      const keys = this.crossKeys('string', 2 + this.int(2));
      return crossSlot(['MSETNX', ...keys.flatMap((k) => [k, this.value()])], keys);
    }],
    [1, () => same(['LCS', ...this.family('string', 2), ...(this.chance(0.5) ? ['LEN'] : [])])],

    // hashes
    [5, () => same(['HSET', this.key('hash'), ...Array.from({ length: 1 + this.int(4) }, () => [this.field(), this.value()]).flat()])],
    [1, () => same(['HSETNX', this.key('hash'), this.field(), this.value()])],
    [3, () => same(['HGET', this.key('hash'), this.field()])],
    [1, () => same(['HMGET', this.key('hash'), this.field(), this.field(), this.field()])],
    [2, () => same(['HDEL', this.key('hash'), this.field(), ...(this.chance(0.5) ? [this.field()] : [])])],
    [1, () => same(['HLEN', this.key('hash')])],
    [1, () => same(['HEXISTS', this.key('hash'), this.field()])],
    [1, () => same(['HINCRBY', this.key('hash'), this.field(), String(this.int(20) - 5)])],
    [1, () => same(['HINCRBYFLOAT', this.key('hash'), this.field(), this.pick(['0.5', '-2', '1.125'])])],
    [1, () => same(['HKEYS', this.key('hash')], unordered)],
    [1, () => same(['HVALS', this.key('hash')], unordered)],
    [2, () => same(['HGETALL', this.key('hash')], unorderedPairs)],
    [1, () => same(['HSTRLEN', this.key('hash'), this.field()])],
    [1, () => {
      const k = this.key('hash');
      const count = this.pick([[], [String(this.int(6))], [String(-this.int(6) - 1)], ['3', 'WITHVALUES']]);
      const withValues = count.length === 2;
      return randomPick(['HRANDFIELD', k, ...count], withValues ? ['HGETALL', k] : ['HKEYS', k], withValues);
    }],
    [0.3, () => fullScan([this.spell('HSCAN'), this.key('hash')], this.chance(0.5) ? ['COUNT', String(1 + this.int(5))] : ['MATCH', 'f1*'], true)],

    // lists
    [4, () => same([this.pick(['LPUSH', 'RPUSH']), this.key('list'), ...Array.from({ length: 1 + this.int(4) }, () => this.element())])],
    [1, () => same([this.pick(['LPUSHX', 'RPUSHX']), this.key('list'), this.element()])],
    [2, () => same([this.pick(['LPOP', 'RPOP']), this.key('list'), ...(this.chance(0.5) ? [String(this.int(4))] : [])])],
    [3, () => same(['LRANGE', this.key('list'), ...this.range()])],
    [1, () => same(['LINDEX', this.key('list'), this.index()])],
    [1, () => same(['LSET', this.key('list'), this.index(), this.element()])],
    [1, () => same(['LREM', this.key('list'), String(this.int(5) - 2), this.element()])],
    [1, () => same(['LTRIM', this.key('list'), String(this.int(3)), String(this.int(20) - 3)])],
    [1, () => {
      const cmd = ['LPOS', this.key('list'), this.element()];
      if (this.chance(0.4)) cmd.push('RANK', this.pick(['1', '2', '-1', '-2', '0']));
      if (this.chance(0.4)) cmd.push('COUNT', String(this.int(4)));
      if (this.chance(0.2)) cmd.push('MAXLEN', String(this.int(10)));
      return same(cmd);
    }],
    [1, () => same(['LLEN', this.key('list')])],
    [1, () => same(['LINSERT', this.key('list'), this.pick(['BEFORE', 'AFTER']), this.element(), this.element()])],
    [1, () => same(['LMOVE', ...this.family('list', 2), this.pick(['LEFT', 'RIGHT']), this.pick(['LEFT', 'RIGHT'])])],
    [0.5, () => same(['RPOPLPUSH', ...this.family('list', 2)])],
    [0.5, () => {
      const keys = this.family('list', 1 + this.int(3));
      return same(['LMPOP', String(keys.length), ...keys, this.pick(['LEFT', 'RIGHT']), ...(this.chance(0.5) ? ['COUNT', String(1 + this.int(3))] : [])]);
    }],
    [0.5, () => {
      const keys = this.crossKeys('list', 2);
      return crossSlot(['LMOVE', ...keys, 'LEFT', 'RIGHT'], keys);
    }],

    // sets
    [5, () => same(['SADD', this.key('set'), ...this.members(1, 6)])],
    [1.5, () => same(['SREM', this.key('set'), ...this.members(1, 3)])],
    [1, () => same(['SISMEMBER', this.key('set'), this.member()])],
    [1, () => same(['SMISMEMBER', this.key('set'), ...this.members(1, 4)])],
    [1, () => same(['SCARD', this.key('set')])],
    [2, () => same(['SMEMBERS', this.key('set')], unordered)],
    [2, () => same([this.pick(['SINTER', 'SUNION', 'SDIFF']), ...this.family('set', 1 + this.int(3))], unordered)],
    [2, () => same([this.pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), ...this.family('set', 2 + this.int(3))])],
    [0.5, () => {
      const keys = this.family('set', 1 + this.int(3));
      return same(['SINTERCARD', String(keys.length), ...keys, ...(this.chance(0.3) ? ['LIMIT', String(this.int(3))] : [])]);
    }],
    [1, () => same(['SMOVE', ...this.family('set', 2), this.member()])],
    [0.7, () => spop(this.key('set'), this.chance(0.5) ? null : String(this.int(4)))],
    [1, () => {
      const k = this.key('set');
      return randomPick(['SRANDMEMBER', k, ...this.pick([[], [String(this.int(6))], [String(-this.int(6) - 1)]])], ['SMEMBERS', k]);
    }],
    [0.3, () => fullScan([this.spell('SSCAN'), this.key('set')], this.chance(0.5) ? ['COUNT', String(1 + this.int(5))] : ['MATCH', 'm1*'], false)],
    [0.5, () => {
      const keys = this.crossKeys('set', 2 + this.int(2));
      return crossSlot([this.pick(['SUNIONSTORE', 'SINTERSTORE', 'SDIFFSTORE']), ...keys], keys);
    }],
    [0.5, () => {
      const keys = this.crossKeys('set', 2);
      return crossSlot(['SINTER', ...keys], keys, unordered);
    }],

    // sorted sets
    [5, () => {
      const cmd = ['ZADD', this.key('zset')];
      if (this.chance(0.15)) cmd.push(this.pick(['NX', 'XX']));
      if (this.chance(0.15)) cmd.push(this.pick(['GT', 'LT']));
      if (this.chance(0.2)) cmd.push('CH');
      const incr = this.chance(0.1);
      if (incr) cmd.push('INCR');
      const pairs = incr && this.chance(0.8) ? 1 : 1 + this.int(4);
      for (let i = 0; i < pairs; i++) cmd.push(this.score(), this.member());
      return same(cmd);
    }],
    [1, () => same(['ZINCRBY', this.key('zset'), this.score(), this.member()])],
    [1, () => same(['ZSCORE', this.key('zset'), this.member()])],
    [1, () => same(['ZMSCORE', this.key('zset'), ...this.members(1, 3)])],
    [1, () => same([this.pick(['ZRANK', 'ZREVRANK']), this.key('zset'), this.member()])],
    [2, () => same(['ZREM', this.key('zset'), ...this.members(1, 3)])],
    [1, () => same(['ZCARD', this.key('zset')])],
    [1, () => same(['ZCOUNT', this.key('zset'), this.scoreBound(), this.scoreBound()])],
    [3, () => {
      const k = this.key('zset');
      const x = this.r();
      let cmd: string[];
      if (x < 0.4) cmd = ['ZRANGE', k, ...this.range(), ...(this.chance(0.3) ? ['REV'] : [])];
      else if (x < 0.8) {
        const rev = this.chance(0.3);
        const [a, b] = [this.scoreBound(), this.scoreBound()];
        cmd = ['ZRANGE', k, a, b, 'BYSCORE', ...(rev ? ['REV'] : [])];
        if (this.chance(0.4)) cmd.push('LIMIT', String(this.int(3)), String(this.int(5) - 1));
      } else cmd = ['ZRANGE', k, String(this.int(10)), String(this.int(10)), ...(this.chance(0.5) ? ['REV'] : [])];
      if (this.chance(0.4)) cmd.push('WITHSCORES');
      return same(cmd);
    }],
    // lexicographic ranges are defined only when all scores are equal: lex:0..lex:3 only get score 0
    [1.5, () => same(['ZADD', this.lexKey(), ...this.members(1, 4).flatMap((m) => ['0', m])])],
    [1, () => {
      const cmd = ['ZRANGE', this.lexKey(), this.lexBound(), this.lexBound(), 'BYLEX'];
      if (this.chance(0.3)) cmd.push('REV');
      if (this.chance(0.3)) cmd.push('LIMIT', String(this.int(3)), String(this.int(5) - 1));
      return same(cmd);
    }],
    [0.5, () => same([this.pick(['ZRANGEBYLEX', 'ZLEXCOUNT']), this.lexKey(), this.lexBound(), this.lexBound()])],
    [0.3, () => same(['ZREMRANGEBYLEX', this.lexKey(), this.lexBound(), this.lexBound()])],
    [1, () => same(['ZRANGEBYSCORE', this.key('zset'), this.scoreBound(), this.scoreBound(), ...(this.chance(0.5) ? ['WITHSCORES'] : [])])],
    [1, () => same(['ZREVRANGE', this.key('zset'), ...this.range(), ...(this.chance(0.5) ? ['WITHSCORES'] : [])])],
    [1, () => same([this.pick(['ZPOPMIN', 'ZPOPMAX']), this.key('zset'), ...(this.chance(0.5) ? [String(this.int(4))] : [])])],
    [0.5, () => same(['ZREMRANGEBYRANK', this.key('zset'), String(this.int(3)), String(this.int(3))])],
    [0.5, () => same(['ZREMRANGEBYSCORE', this.key('zset'), this.scoreBound(), this.scoreBound()])],
    [2, () => {
      const [dest, ...sources] = this.family('zset', 2 + this.int(3));
      const cmd = [this.pick(['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE']), dest, String(sources.length), ...sources];
      if (cmd[0] !== 'ZDIFFSTORE' && this.chance(0.3)) cmd.push('WEIGHTS', ...sources.map(() => String(this.int(4))));
      if (cmd[0] !== 'ZDIFFSTORE' && this.chance(0.3)) cmd.push('AGGREGATE', this.pick(['SUM', 'MIN', 'MAX']));
      return same(cmd);
    }],
    [1, () => {
      const keys = this.family('zset', 1 + this.int(3));
      return same([this.pick(['ZUNION', 'ZINTER', 'ZDIFF']), String(keys.length), ...keys, ...(this.chance(0.6) ? ['WITHSCORES'] : [])]);
    }],
    [0.5, () => same(['ZRANGESTORE', ...this.family('zset', 2), ...this.range()])],
    [1, () => {
      const k = this.key('zset');
      const count = this.pick([[], [String(this.int(6))], [String(-this.int(6) - 1)], ['3', 'WITHSCORES']]);
      const withScores = count.length === 2;
      return randomPick(['ZRANDMEMBER', k, ...count], ['ZRANGE', k, '0', '-1', ...(withScores ? ['WITHSCORES'] : [])], withScores);
    }],
    [0.3, () => fullScan([this.spell('ZSCAN'), this.key('zset')], this.chance(0.5) ? ['COUNT', String(1 + this.int(5))] : ['MATCH', 'm*'], true)],
    [0.5, () => {
      const keys = this.crossKeys('zset', 3);
      return crossSlot(['ZUNIONSTORE', keys[0], '2', keys[1], keys[2]], keys);
    }],

    // streams (explicit, increasing IDs: nothing depends on the clock)
    [3, () => {
      const cmd = ['XADD', this.key('stream')];
      if (this.chance(0.1)) cmd.push('NOMKSTREAM');
      if (this.chance(0.2)) cmd.push('MAXLEN', '=', String(3 + this.int(8)));
      cmd.push(this.chance(0.05) ? this.pick(['0-1', '1-0', '0-0']) : `${this.streamSeq++}-${this.int(3)}`);
      cmd.push(this.field(), this.value());
      return same(cmd);
    }],
    [1, () => same(['XLEN', this.key('stream')])],
    [2, () => same(['XRANGE', this.key('stream'), '-', '+', ...(this.chance(0.5) ? ['COUNT', String(this.int(5))] : [])])],
    [1, () => same(['XREVRANGE', this.key('stream'), '+', '-', 'COUNT', String(1 + this.int(4))])],
    [1, () => same(['XDEL', this.key('stream'), `${Math.max(1, this.streamSeq - this.int(40))}-${this.int(3)}`])],
    [0.5, () => same(['XTRIM', this.key('stream'), 'MAXLEN', String(this.int(10))])],

    // keyspace
    [1.5, () => same(['DEL', ...this.manyKeys(1, 6)])],
    [0.5, () => same(['UNLINK', ...this.manyKeys(1, 6)])],
    [4, () => same(['EXISTS', ...this.manyKeys(1, 14)])],
    [1, () => same(['TOUCH', ...this.manyKeys(1, 8)])],
    [2, () => same(['TYPE', this.anyKey()])],
    [2, () => same(['EXPIRE', this.anyKey(), this.longSeconds(), ...(this.chance(0.3) ? [this.pick(['NX', 'XX', 'GT', 'LT'])] : [])])],
    [0.5, () => same(['PEXPIRE', this.anyKey(), String(50_000_000 + this.int(1_000_000))])],
    [0.5, () => same(['EXPIREAT', this.anyKey(), String(4_102_444_800 + this.int(100_000))])],
    [1, () => same(['PERSIST', this.anyKey()])],
    [2, () => same([this.pick(['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME']), this.anyKey()], ttlClass)],
    [1, () => same([this.pick(['RENAME', 'RENAMENX']), ...this.family(this.pick(TYPES), 2)])],
    [1, () => same(['COPY', ...this.family(this.pick(TYPES), 2), ...(this.chance(0.4) ? ['REPLACE'] : [])])],
    [0.5, () => {
      const keys = [this.anyKey(), this.anyKey()];
      return crossSlot([this.pick(['RENAME', 'RENAMENX', 'COPY']), ...keys], keys);
    }],
    [1, () => same(['OBJECT', 'ENCODING', this.anyKey()])],
    [1, () => {
      const k = this.key(this.pick(['list', 'set', 'zset'] as const));
      const cmd = [this.pick(['SORT', 'SORT_RO']), k];
      if (this.chance(0.3)) cmd.push('LIMIT', String(this.int(3)), String(this.int(5)));
      if (this.chance(0.5)) cmd.push('ALPHA');
      if (this.chance(0.3)) cmd.push('DESC');
      return same(cmd);
    }],
    [0.5, () => same(['SORT', ...this.family('list', 2).flatMap((k, i) => (i === 0 ? [k, 'ALPHA'] : ['STORE', k]))])],
    [1, () => {
      const keys = this.family(this.pick(TYPES), 2);
      const script = this.pick([
        "return redis.call('EXISTS', KEYS[1], KEYS[2])",
        "return redis.call('TYPE', KEYS[1])",
        "return redis.call('INCR', KEYS[2])",
        "return {redis.call('GET', KEYS[1]), redis.call('DEL', KEYS[2])}",
      ]);
      return same(['EVAL', script, '2', ...keys]);
    }],
    [0.3, () => {
      const keys = [this.anyKey(), this.anyKey()];
      return crossSlot(['EVAL', "return redis.call('EXISTS', KEYS[1], KEYS[2])", '2', ...keys], keys);
    }],
    // scripts loaded on every master (SCRIPT LOAD, FUNCTION LOAD) and run where their keys are
    [0.4, () => same(['SCRIPT', 'LOAD', this.pick(LOADED_SCRIPTS)])],
    [1, () => {
      const keys = this.family(this.pick(TYPES), 2);
      return same(['EVALSHA', this.pick(LOADED_SHAS), '2', ...keys]);
    }],
    [0.3, () => same(['SCRIPT', 'EXISTS', ...LOADED_SHAS, 'ffffffffffffffffffffffffffffffffffffffff'])],
    [0.05, () => same(['SCRIPT', 'FLUSH', ...this.pick([[], ['SYNC'], ['ASYNC']])])],
    [0.3, () => same(['FUNCTION', 'LOAD', ...(this.chance(0.5) ? ['REPLACE'] : []), FUNCTION_LIBRARY])],
    [1, () => same([this.pick(['FCALL', 'FCALL_RO']), this.pick(['diff_get', 'diff_type', 'diff_nosuch']), '1', this.anyKey()])],
    [0.1, () => same(['FUNCTION', 'DELETE', 'difflib'])],
    [0.2, () => same(['FUNCTION', 'LIST', 'LIBRARYNAME', 'diff'])],

    // malformed requests: Redis' own errors
    [1, () => same(this.pick([
      ['GET'],
      ['MGET'],
      ['DEL'],
      ['EXISTS'],
      ['MSET', this.anyKey()],
      ['MSET', this.anyKey(), 'v', this.anyKey()],
      ['MSETNX', this.anyKey()],
      ['SET', this.anyKey(), 'v', 'NX', 'XX'],
      ['SET', this.anyKey(), 'v', 'EX'],
      ['LRANGE', this.key('list'), 'a', 'b'],
      ['HSET', this.key('hash'), 'f'],
      ['ZADD', this.key('zset'), 'nan', 'm'],
      ['EXPIRE', this.anyKey(), 'soon'],
      ['TOUCH'],
      ['UNLINK'],
      ['XADD', this.key('stream'), 'notanid', 'f', 'v'],
      ['GET', this.anyKey(), this.anyKey()],
      ['NOSUCHCOMMAND', this.anyKey()],
      ['DBSIZE', 'extra'],
      ['KEYS'],
      ['KEYS', '*', 'extra'],
      ['RANDOMKEY', 'extra'],
      ['FLUSHALL', 'SOMETIMES'],
      ['SCAN'],
      ['SCAN', 'notacursor'],
      ['SCAN', '0', 'COUNT', '0'],
      ['SCAN', '0', 'COUNT', 'many'],
      ['SCAN', '0', 'MATCH'],
      ['SCAN', '0', 'NOSUCHOPTION', 'x'],
      ['MSET', this.anyKey(), 'v', this.anyKey(), 'v', this.anyKey()],
      ['PING', 'a', 'b'],
      ['ECHO', 'a', 'b'],
      ['SELECT', this.pick(['0', '00', '-0', '+0', 'abc', '0x0'])],
      // Same slot: across slots Redis Cluster itself says CROSSSLOT before it counts arguments.
      ['MSETNX', ...this.family('string', 2).flatMap((k, i) => (i === 0 ? [k, 'v'] : [k]))],
    ]))],

    // geo (a sorted set underneath), HyperLogLog, bits
    [1.5, () => same(['GEOADD', this.key('zset'), ...Array.from({ length: 1 + this.int(3) }, () => [String(this.int(360) - 180 + 0.5), String(this.int(160) - 80 + 0.25), this.member()]).flat()])],
    [0.5, () => same(['GEOPOS', this.key('zset'), this.member(), this.member()])],
    [0.5, () => same(['GEODIST', this.key('zset'), this.member(), this.member(), this.pick(['m', 'km'])])],
    [0.5, () => same(['GEOSEARCH', this.key('zset'), 'FROMLONLAT', '0', '0', 'BYRADIUS', String(1000 + this.int(20000)), 'km', 'ASC', 'COUNT', '5', 'WITHDIST'])],
    [0.3, () => same(['GEOSEARCHSTORE', ...this.family('zset', 2), 'FROMLONLAT', '10', '10', 'BYBOX', '8000', '8000', 'km', 'DESC'])],
    [1, () => same(['PFADD', this.key('string'), ...this.members(1, 4)])],
    [0.5, () => same(['PFCOUNT', ...this.family('string', 1 + this.int(3))])],
    [0.3, () => same(['PFMERGE', ...this.family('string', 2 + this.int(2))])],
    [0.3, () => {
      const keys = this.crossKeys('string', 2);
      return crossSlot(['PFCOUNT', ...keys], keys);
    }],
    [1, () => same(['SETBIT', this.key('string'), String(this.int(64)), this.pick(['0', '1'])])],
    [0.5, () => same(['GETBIT', this.key('string'), String(this.int(80))])],
    [0.5, () => same(['BITCOUNT', this.key('string'), ...(this.chance(0.5) ? [this.index(), this.index()] : [])])],
    [0.5, () => same(['BITPOS', this.key('string'), this.pick(['0', '1'])])],
    [0.5, () => same(['BITOP', this.pick(['AND', 'OR', 'XOR']), ...this.family('string', 2 + this.int(2))])],
    [0.5, () => same(['BITFIELD', this.key('string'), 'INCRBY', this.pick(['u8', 'i5', 'u2']), String(this.int(40)), String(this.int(9) - 3), 'GET', 'u4', '0'])],
    [0.5, () => same(this.chance(0.5) ? ['PING', ...(this.chance(0.5) ? [this.value()] : [])] : ['ECHO', this.value()])],

    // many keys in many slots at once (one group per slot), with repeats
    [0.5, () => same(['MSET', ...this.withRepeats(this.crossKeys('string', 10 + this.int(50))).flatMap((k) => [k, this.value()])])],
    [0.5, () => same(['MGET', ...this.manyKeys(20, 80)])],
    [0.5, () => same([this.pick(['EXISTS', 'TOUCH', 'EXISTS', 'DEL', 'UNLINK']), ...this.manyKeys(20, 80)])],

    // whole cluster
    [2, () => same(['DBSIZE'])],
    [1.5, () => same(['KEYS', this.pick(KEY_PATTERNS)], unordered)],
    [1, () => randomPick(['RANDOMKEY'], ['KEYS', '*'])],
    [0.5, () => {
      const pattern = this.pick(KEY_PATTERNS);
      const match = this.chance(0.4);
      return scanPageSubset(['SCAN', '0', ...(match ? ['MATCH', pattern] : []), ...(this.chance(0.5) ? ['COUNT', String(1 + this.int(30))] : [])], match ? pattern : '*');
    }],
    [0.3, () => sameErrors(['SCAN', ...this.pick([
      [''],
      ['-1'],
      ['+0'],
      ['18446744073709551615'],
      ['18446744073709551616'],
      ['99999999999999999999999'],
      ['0x10'],
      [' 1'],
      ['1.0'],
      ['0', 'COUNT', '+5'],
      ['0', 'COUNT', '1.5'],
      ['0', 'COUNT', '-1'],
      ['0', 'COUNT', '99999999999999999999'],
      ['0', 'TYPE'],
      ['0', 'count', '5', 'match', 'k*', 'type', 'STRING'],
      ['0', 'COUNT', '5', 'COUNT', '0'],
      ['0', 'MATCH', 'a', 'MATCH'],
    ])])],
    // one SCAN call that reads everything (COUNT above the keyspace size) pipelined with the rest
    [0.7, () => same(['SCAN', '0', 'COUNT', '100000', ...(this.chance(0.7) ? ['MATCH', this.pick(KEY_PATTERNS)] : []), ...(this.chance(0.3) ? ['TYPE', this.pick(TYPES)] : [])], scanPage)],
    [0.25, () => {
      const rest: string[] = [];
      if (this.chance(0.6)) rest.push('MATCH', this.pick(KEY_PATTERNS));
      if (this.chance(0.7)) rest.push('COUNT', String(1 + this.int(200)));
      if (this.chance(0.4)) rest.push('TYPE', this.pick([...TYPES, 'Hash', 'nosuchtype']));
      return fullScan([this.spell('SCAN')], rest, false);
    }],
    [0.04, () => same([this.pick(['FLUSHDB', 'FLUSHALL']), ...this.pick([[], ['SYNC'], ['ASYNC']])])],
  ];

  private readonly total = this.table.reduce((sum, [w]) => sum + w, 0);

  /** A command name as clients may spell it: mostly upper case, sometimes lower or mixed. */
  spell(name: string): string {
    const x = this.r();
    if (x < 0.8) return name;
    if (x < 0.9) return name.toLowerCase();
    return [...name].map((c) => (this.chance(0.5) ? c.toLowerCase() : c)).join('');
  }

  next(): Op {
    let x = this.r() * this.total;
    let op: Op | undefined;
    for (const [w, make] of this.table) {
      if (x < w) {
        op = make();
        break;
      }
      x -= w;
    }
    op ??= this.table[this.table.length - 1][1]();
    if (op.kind === 'batch') {
      // Both sides share the command arrays: respell each once.
      for (const cmd of new Set([...op.proxy, ...op.standalone])) cmd[0] = this.spell(cmd[0]);
    }
    return op;
  }
}

// ---------------------------------------------------------------------------------------------
// The run

interface RunResult {
  mismatch: string | null;
  commands: number;
  errors: number;
  crossSlot: number;
}

async function runSequence(seed: number, count: number, pc: Client, sc: Client): Promise<RunResult> {
  const gen = new Generator(seed);
  const result: RunResult = { mismatch: null, commands: 0, errors: 0, crossSlot: 0 };
  const describeMismatch = (index: number, label: string, problem: string, p: unknown, s: unknown) =>
    `seed ${seed}, command #${index}: ${label.length > 2000 ? `${label.slice(0, 2000)}...` : label}\n  problem:    ${problem}\n  slotgate:   ${show(p)}\n  standalone: ${show(s)}`;

  let pending: { index: number; op: BatchOp }[] = [];
  const flush = async (): Promise<string | null> => {
    const batch = pending;
    pending = [];
    const [pr, sr] = await Promise.all([
      Promise.all(batch.flatMap(({ op }) => op.proxy.map((cmd) => send(pc, cmd)))),
      Promise.all(batch.flatMap(({ op }) => op.standalone.map((cmd) => send(sc, cmd)))),
    ]);
    let pi = 0;
    let si = 0;
    for (const { index, op } of batch) {
      const p = pr.slice(pi, (pi += op.proxy.length));
      const s = sr.slice(si, (si += op.standalone.length));
      if (p.length > 0 && 'err' in p[0]) result.errors++;
      if (op.standalone.length === 0) result.crossSlot++;
      const problem = op.check(p, s);
      if (problem !== null) return describeMismatch(index, op.proxy.map((c) => c.join(' ')).join(' ; ') + (op.note === undefined ? '' : `   ${op.note}`), problem, p, s);
    }
    return null;
  };

  for (let index = 0; index < count; index++) {
    const op = gen.next();
    result.commands++;
    if (op.kind === 'barrier') {
      if (pending.length > 0 && (result.mismatch = await flush()) !== null) return result;
      const { problem, proxyReply, standaloneReply } = await op.run(pc, sc);
      if (problem !== null) {
        result.mismatch = describeMismatch(index, op.label, problem, proxyReply, standaloneReply);
        return result;
      }
      continue;
    }
    pending.push({ index, op });
    if (pending.length >= BATCH && (result.mismatch = await flush()) !== null) return result;
  }
  if (pending.length > 0) result.mismatch = await flush();
  return result;
}

let proxy: ProxyServer;
let standalone: StandaloneRedis;

// Its own cluster: the sequences flush and count the whole keyspace, which other test files
// (running at the same time on the shared cluster) must not see, nor disturb.
const BASE_PORT = Number(process.env.SLOTGATE_TEST_BASE_PORT ?? 21001);
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({
    masters: 3,
    replicasPerMaster: 1,
    basePort: BASE_PORT + 600,
    dir: path.join(os.tmpdir(), `slotgate-differential-${process.pid}`),
  });
  standalone = await startStandaloneRedis(BASE_PORT + 500);
  proxy = await startTestProxy(cluster.seeds);
});

afterAll(async () => {
  await proxy?.close();
  await standalone?.stop();
  await cluster?.stop();
});

const RUNS = [
  {
    protocol: 2,
    seeds: SEEDS,
    connect: async (): Promise<[Client, Client]> => [
      proxyClient(proxy),
      new Redis({ host: '127.0.0.1', port: standalone.port, protocol: 2, maxRetriesPerRequest: 0 }),
    ],
  },
  {
    protocol: 3,
    seeds: RESP3_SEEDS,
    connect: async (): Promise<[Client, Client]> => [await RawRespClient.connect(proxy.port, 3), await RawRespClient.connect(standalone.port, 3)],
  },
] as const;

describe.each(RUNS)('differential in RESP$protocol: slotgate in front of a cluster vs one standalone redis-server', ({ protocol, seeds, connect }) => {
  let pc: Client;
  let sc: Client;

  beforeAll(async () => {
    [pc, sc] = await connect();
  });

  afterAll(() => {
    pc?.disconnect();
    sc?.disconnect();
  });

  for (const seed of seeds) {
    it(`seed ${seed}: ${COMMANDS_PER_SEED} random commands give the same replies`, async () => {
      // Both sides start empty (FLUSHALL through slotgate reaches every master), without scripts or functions.
      for (const c of [pc, sc]) {
        expect(await c.call('FLUSHALL')).toBe('OK');
        expect(await c.call('SCRIPT', 'FLUSH')).toBe('OK');
        expect(await c.call('FUNCTION', 'FLUSH')).toBe('OK');
      }
      expect(await pc.call('DBSIZE'), `seed ${seed}: cluster not empty after FLUSHALL`).toBe(0);

      const started = Date.now();
      const result = await runSequence(seed, COMMANDS_PER_SEED, pc, sc);
      console.log(
        `differential RESP${protocol} seed ${seed}: ${result.commands} commands (${result.errors} error replies, ` +
          `${result.crossSlot} cross-slot refusals) in ${Date.now() - started} ms` +
          (result.mismatch === null ? '' : ` -- MISMATCH\n${result.mismatch}`),
      );
      expect(result.mismatch, `RESP${protocol} seed ${seed}: first mismatch`).toBeNull();

      // The datasets must still be identical at the end.
      const [pKeys, sKeys] = await Promise.all([send(pc, ['KEYS', '*']), send(sc, ['KEYS', '*'])]);
      expect(compareReply(pKeys, sKeys, unordered), `seed ${seed}: final KEYS *\n slotgate ${show(pKeys)}\n standalone ${show(sKeys)}`).toBeNull();
      expect(result.errors, `seed ${seed}: mostly successful commands`).toBeLessThan(result.commands / 3);
    }, 60_000);
  }
});
