import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { globMatch } from '../../../src/util/glob.js';
import { bytes } from '../support/resp.js';

const match = (pattern: string | Buffer, subject: string | Buffer): boolean =>
  globMatch(typeof pattern === 'string' ? bytes(pattern) : pattern, typeof subject === 'string' ? bytes(subject) : subject);

/**
 * [pattern, subject, expected], strings as latin1 bytes. Expected values follow Redis' util.c
 * stringmatchlen (nocase = 0), worked out by hand; the real-Redis check below runs every one
 * of them through KEYS as well.
 */
const CASES: [string, string, boolean][] = [
  // Empty pattern and subject.
  ['', '', true],
  ['', 'a', false],
  ['a', '', false],
  // A lone star: stringmatchlen("*", "") is 0 (the loop never runs); KEYS/SCAN special-case "*".
  ['*', '', false],
  ['**', '', false],
  ['*', 'anything', true],
  ['**', 'x', true],
  // Literals are case-sensitive, byte for byte.
  ['hello', 'hello', true],
  ['hello', 'Hello', false],
  ['hello', 'hell', false],
  ['hell', 'hello', false],
  // Stars.
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ba', false],
  ['*c', 'abc', true],
  ['*c', 'abd', false],
  ['a*c', 'ac', true],
  ['a*c', 'abbbc', true],
  ['a*c', 'abbbcd', false],
  ['a*b*c', 'aXbYc', true],
  ['a*b*c', 'aXcYb', false],
  ['***a', 'a', true],
  ['a***', 'a', true],
  ['*a*', 'bab', true],
  ['*a*', 'bbb', false],
  // Question marks: exactly one byte.
  ['h?llo', 'hello', true],
  ['h?llo', 'hllo', false],
  ['h?llo', 'heello', false],
  ['?', '', false],
  ['?', 'ab', false],
  ['??', 'ab', true],
  ['*?', '', false],
  ['*?', 'a', true],
  ['?*', 'a', true],
  ['?*?', 'a', false],
  // Classes.
  ['h[ae]llo', 'hello', true],
  ['h[ae]llo', 'hallo', true],
  ['h[ae]llo', 'hillo', false],
  ['h[^e]llo', 'hallo', true],
  ['h[^e]llo', 'hello', false],
  ['h[a-b]llo', 'hbllo', true],
  ['h[a-b]llo', 'hcllo', false],
  ['[!a]', 'b', false], // no "!" negation in Redis: it is a member
  ['[!a]', '!', true],
  ['[a-c-e]', 'b', true], // a range, then "-" and "e" as members
  ['[a-c-e]', '-', true],
  ['[a-c-e]', 'e', true],
  ['[a-c-e]', 'd', false],
  ['[A-Z]', 'q', false],
  ['[0-9][0-9]', '42', true],
  ['[0-9][0-9]', '4x', false],
  // Reversed ranges are swapped.
  ['h[b-a]llo', 'hallo', true],
  ['[z-a]', 'm', true],
  ['[z-a]', 'A', false],
  ['[9-0]x', '5x', true],
  // An empty class never matches; "[^]" matches any byte.
  ['[]', 'a', false],
  ['[]', ']', false],
  ['[]]', ']', false], // the first "]" closes the class
  ['[^]', 'a', true],
  ['[^]', ']', true],
  ['[^]', '', false],
  // Escapes inside a class.
  ['[\\]]', ']', true],
  ['[\\]]', '\\', false],
  ['[a\\-z]', '-', true],
  ['[a\\-z]', 'z', true],
  ['[a\\-z]', 'b', false], // the escaped "-" is no range
  ['[\\^a]', '^', true],
  ['[\\^a]', 'b', false],
  ['[\\\\]', '\\', true],
  ['[\\*]', '*', true],
  ['[\\*]', 'a', false],
  // Escapes outside a class.
  ['\\*', '*', true],
  ['\\*', 'a', false],
  ['\\?', '?', true],
  ['\\?', 'x', false],
  ['\\[', '[', true],
  ['\\[a]', '[a]', true],
  ['\\[a]', 'a', false],
  ['\\a', 'a', true],
  ['\\\\', '\\', true],
  ['*\\*', 'abc*', true],
  ['*\\*', 'abc', false],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'axb', false],
  // A trailing backslash matches a backslash.
  ['\\', '\\', true],
  ['a\\', 'a\\', true],
  ['a\\', 'a', false],
  ['a\\', 'ab', false],
  // An unclosed "[" ends with the pattern: what follows it is the class.
  ['[abc', 'a', true],
  ['[abc', 'c', true],
  ['[abc', 'd', false],
  ['[abc', 'ab', false],
  ['[', '[', false],
  ['[', '', false],
  ['[^', 'x', true],
  ['[^', 'xy', false],
  ['[^', '', false],
  ['[a-', 'a', true],
  ['[a-', '-', true],
  ['[a-', 'b', false],
  ['x[a', 'xa', true],
  // A range may swallow the "]" as its end: "[a-]x" is the class {"]".."a", "x"}, unclosed.
  ['[a-]x', '_', true],
  ['[a-]x', 'x', true],
  ['[a-]x', 'ax', false],
  ['[a-]x', 'b', false],
  // Bytes, not characters: UTF-8 "é" is two bytes.
  ['?', '\xc3\xa9', false],
  ['??', '\xc3\xa9', true],
  ['caf\xc3\xa9', 'caf\xc3\xa9', true],
  ['caf?', 'caf\xc3\xa9', false],
  ['caf*', 'caf\xc3\xa9', true],
  // NUL and high bytes.
  ['\x00*', '\x00abc', true],
  ['a?c', 'a\x00c', true],
  ['*\r\n', 'line\r\n', true],
  ['?', '\xff', true],
  ['[\x80-\xff]', '\x90', true],
  ['[\x80-\xff]', 'a', false],
  // Ranges compare C's signed chars: "[\x01-\xff]" is -1..1, so it holds \xff, \x00 and \x01 only.
  ['[\x01-\xff]', '\xff', true],
  ['[\x01-\xff]', '\x00', true],
  ['[\x01-\xff]', '\x01', true],
  ['[\x01-\xff]', '\x02', false],
  ['[\x01-\xff]', 'a', false],
  ['[\x01-\xff]', '\x80', false],
  ['[a-\xe9]', 'b', false], // 'a'..-23: swapped to -23..97, so "b" (98) is out
  ['[a-\xe9]', '0', true],
  ['[a-\xe9]', '\xf0', true],
];

describe('globMatch: Redis stringmatchlen rules', () => {
  it.each(CASES)('%j against %j -> %s', (pattern, subject, expected) => {
    expect(match(pattern, subject)).toBe(expected);
  });

  it('matches every byte value with "?" and with its own escape', () => {
    for (let b = 0; b < 256; b++) {
      const one = Buffer.from([b]);
      expect(globMatch(bytes('?'), one), `byte ${b}`).toBe(true);
      expect(globMatch(Buffer.from([0x5c, b]), one), `escaped byte ${b}`).toBe(true);
      expect(globMatch(Buffer.from([0x5b, 0x5c, b, 0x5d]), one), `escaped byte ${b} in a class`).toBe(true);
    }
  });

  it('reads the whole buffers (no NUL termination)', () => {
    expect(globMatch(Buffer.from([0x61, 0x00]), Buffer.from([0x61]))).toBe(false);
    expect(globMatch(Buffer.from([0x61]), Buffer.from([0x61, 0x00]))).toBe(false);
    expect(globMatch(Buffer.from([0x61, 0x00, 0x2a]), Buffer.from([0x61, 0x00, 0x62]))).toBe(true);
  });

  it('does not blow up on many stars that cannot match (Redis skipLongerMatches)', () => {
    const subject = bytes('a'.repeat(40));
    const started = performance.now();
    expect(match('a*a*a*a*a*a*a*a*b', subject)).toBe(false);
    expect(match('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', bytes('a'.repeat(200)))).toBe(false);
    expect(match('*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*b', bytes('x'.repeat(200)))).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('still finds matches that need the stars to take different lengths', () => {
    expect(match('a*a*a*a*a*a*a*a*b', bytes('a'.repeat(40) + 'b'))).toBe(true);
    expect(match('*ab*ab*ab*', bytes('xaxabyyabzzzab'))).toBe(true);
    expect(match('*ab*ab*ab*', bytes('xaxabyyabzzza'))).toBe(false);
    expect(match('*a'.repeat(500), bytes('a'.repeat(500)))).toBe(true);
  });

  it('gives up (no match, no stack overflow) past 1000 nested stars, as Redis does since its guard', () => {
    // util.c stringmatchlen_impl: "if (nesting > 1000) return 0;" (also checked against the real server below).
    const pattern = bytes('*a'.repeat(100_000));
    expect(globMatch(pattern, bytes('a'.repeat(100_000)))).toBe(false);
    expect(globMatch(bytes('*a'.repeat(1001)), bytes('a'.repeat(1001)))).toBe(false);
    expect(globMatch(bytes('*a'.repeat(1000)), bytes('a'.repeat(1000)))).toBe(true);
    expect(globMatch(bytes('*a'.repeat(1000)), bytes('a'.repeat(1001)))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// The same function against a real redis-server: KEYS applies stringmatchlen to every key.

const PORT = 23501;

/** Keys to store: every subject above plus assorted ones (binary, punctuation, lengths). */
function storedKeys(): Buffer[] {
  const extra = [
    'user:1', 'user:2', 'user:10', 'user:100', 'User:1', 'user:', 'user', 'users:1:name', 'session:abc', 'session:',
    'a', 'b', 'ab', 'ba', 'abc', 'aXbYc', 'aaa', 'a*b', 'a?b', 'a[b]c', 'a\\b', 'a]b', '[', ']', '[]', '^', '-', '*', '?', '\\',
    'x y', 'tab\tkey', 'nl\nkey', 'cr\rkey', 'crlf\r\nkey', '{tag}1', '{tag}2', '\x00', '\x00\x00', 'a\x00b', '\x7f', '\x80',
    '\xff', '\xff\xfe', '\xe9t\xe9', 'caf\xc3\xa9', '\xc3\xa9', '\xe2\x82\xac', 'k'.repeat(300), 'a'.repeat(40), 'a'.repeat(40) + 'b',
    'x'.repeat(200), 'hello', 'hallo', 'hbllo', 'hcllo', 'hllo', 'h[llo', 'h\\llo', '0', '42', '4x', '9x',
    'a'.repeat(1000), 'a'.repeat(1001),
  ];
  const all = new Map<string, Buffer>();
  for (const s of [...extra, ...CASES.map(([, subject]) => subject)]) all.set(s, bytes(s));
  return [...all.values()];
}

/** Patterns to try: every pattern above plus assorted ones. */
function patterns(): Buffer[] {
  const extra = [
    'user:*', 'user:?', 'user:??', 'user:[12]', 'user:[^1]*', '[uU]ser:*', '*:*', '*:*:*', '?ession:*', 'session:\\*',
    '*\\\\*', '*[\\[\\]]*', '*[[]*', '*]*', '*\\**', '*\\?*', '*\x00*', '\x00*', '*\xff', '[\x80-\xff]*', '*[\r\n]*',
    '*key', '{tag}*', '\\{tag\\}?', 'a*a*a*a*a*a*a*a*b', '*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'k*k', '???',
    '[^a-z]*', '*[0-9]', '[a-', '[^', '*[', 'h[^a-b]llo', '*\xc3\xa9', '*\xa9', '[\x01-\xff]', '*\\',
    // Nesting guard: 1000 nested stars still match, 1001 never do (Redis 7.0.15 as packaged has the guard).
    '*a'.repeat(1000), '*a'.repeat(1001),
  ];
  const all = new Map<string, Buffer>();
  // "*" alone is left out: KEYS does not match it (it returns every key, the empty one too).
  for (const s of [...extra, ...CASES.map(([pattern]) => pattern)]) if (s !== '*') all.set(s, bytes(s));
  return [...all.values()];
}

const hex = (b: Buffer) => b.toString('hex');

/** KEYS with a binary pattern, keys as buffers. */
async function keysMatching(client: Redis, pattern: Buffer): Promise<Buffer[]> {
  return (await client.callBuffer('KEYS', pattern)) as Buffer[];
}

describe('globMatch agrees with KEYS on a real redis-server', () => {
  let server: ChildProcess | null = null;
  let redis: Redis | null = null;
  let dir = '';
  const keys = storedKeys();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotgate-glob-'));
    const child = spawn('redis-server', ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      cwd: dir,
      stdio: 'ignore',
    });
    server = child;
    const exited = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start redis-server: ${err.message}`)));
      child.once('exit', (code, signal) => reject(new Error(`redis-server exited during start (${code ?? signal}); is port ${PORT} free?`)));
    });
    exited.catch(() => {});
    const client = new Redis({
      host: '127.0.0.1',
      port: PORT,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => (times > 100 ? null : 50),
    });
    redis = client;
    client.on('error', () => {}); // refused connections until the server listens: retried
    await Promise.race([client.ping(), exited]);
    // Make sure this is the server started here, not something else on the port.
    const info = await client.info('server');
    expect(info).toMatch(new RegExp(`^process_id:${child.pid}\\r?$`, 'm'));
    const pipeline = client.pipeline();
    for (const key of keys) pipeline.set(key, 'v');
    await pipeline.exec();
    expect(await client.dbsize()).toBe(keys.length);
  });

  afterAll(async () => {
    if (redis !== null) redis.disconnect();
    const child = server;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      await gone;
    }
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`stores at least 60 keys and tries at least 40 patterns (${keys.length} keys, ${patterns().length} patterns)`, () => {
    expect(keys.length).toBeGreaterThanOrEqual(60);
    expect(patterns().length).toBeGreaterThanOrEqual(40);
  });

  it('selects the same keys as KEYS for every pattern', async () => {
    const client = redis as Redis;
    const mismatches: string[] = [];
    for (const pattern of patterns()) {
      const fromRedis = (await keysMatching(client, pattern)).map(hex).sort();
      const fromGlob = keys.filter((key) => globMatch(pattern, key)).map(hex).sort();
      if (JSON.stringify(fromRedis) !== JSON.stringify(fromGlob)) {
        const only = (a: string[], b: string[]) => a.filter((x) => !b.includes(x)).map((h) => JSON.stringify(Buffer.from(h, 'hex').toString('latin1')));
        mismatches.push(
          `${JSON.stringify(pattern.toString('latin1'))}: only Redis ${only(fromRedis, fromGlob).join(' ')}; only globMatch ${only(fromGlob, fromRedis).join(' ')}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('matches the table cases the way Redis does, one key at a time', async () => {
    // The cross-product above covers these too; this names the failing table row directly.
    const client = redis as Redis;
    const stored = new Set(keys.map(hex));
    for (const [pattern, subject, expected] of CASES) {
      if (pattern === '*') continue;
      expect(stored.has(hex(bytes(subject)))).toBe(true);
      const found = (await keysMatching(client, bytes(pattern))).some((key) => key.equals(bytes(subject)));
      expect(found, `Redis: ${JSON.stringify(pattern)} against ${JSON.stringify(subject)}`).toBe(expected);
    }
  });

  it('KEYS * returns every key, the empty one too, which is why callers special-case "*"', async () => {
    const client = redis as Redis;
    expect((await keysMatching(client, bytes('*'))).length).toBe(keys.length);
    expect((await keysMatching(client, bytes('**'))).some((key) => key.length === 0)).toBe(false);
  });
});
