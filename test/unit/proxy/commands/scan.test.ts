import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it, expect, inject } from 'vitest';
import { SLOT_COUNT } from '../../../../src/cluster/key-slot.js';
import { parseScanArguments, slotsPerRound, type ScanArguments } from '../../../../src/proxy/commands/scan.js';
import { bytes } from '../../support/resp.js';

const INVALID_CURSOR = 'ERR invalid cursor';
const SYNTAX = 'ERR syntax error';
const NOT_INTEGER = 'ERR value is not an integer or out of range';

/** parseScanArguments of `SCAN ...args` (latin1 strings). */
function parse(...args: string[]): ScanArguments | string {
  return parseScanArguments([bytes('SCAN'), ...args.map(bytes)]);
}

/** What parse gives for valid arguments, with the defaults filled in. */
function parsed(fields: Partial<Omit<ScanArguments, 'pattern'>> & { pattern?: string | null }): ScanArguments {
  return {
    cursor: fields.cursor ?? 0,
    count: fields.count ?? 10,
    pattern: fields.pattern === undefined || fields.pattern === null ? null : bytes(fields.pattern),
    type: fields.type ?? null,
  };
}

/**
 * SCAN arguments (after the command name) and the result Redis gives them: an error text, or
 * the parsed arguments slotgate uses (cursor: the next slot; a cursor slotgate never gave out
 * ends the scan). The error-or-not column is checked against a real node below.
 */
const VALID: [string[], ScanArguments][] = [
  [['0'], parsed({})],
  [['1'], parsed({ cursor: 1 })],
  [['16383'], parsed({ cursor: 16383 })],
  [['+5'], parsed({ cursor: 5 })],
  [['007'], parsed({ cursor: 7 })],
  [['16384'], parsed({ cursor: SLOT_COUNT })],
  [['99999'], parsed({ cursor: SLOT_COUNT })],
  [['18446744073709551615'], parsed({ cursor: SLOT_COUNT })],
  [['-1'], parsed({ cursor: SLOT_COUNT })],
  [['0', 'COUNT', '5'], parsed({ count: 5 })],
  [['0', 'count', '1'], parsed({ count: 1 })],
  [['0', 'CoUnT', '1000000'], parsed({ count: 1000000 })],
  [['0', 'COUNT', '5', 'COUNT', '7'], parsed({ count: 7 })],
  [['0', 'MATCH', '*'], parsed({})],
  [['0', 'MATCH', '**'], parsed({ pattern: '**' })],
  [['0', 'MATCH', ''], parsed({ pattern: '' })],
  [['0', 'match', 'user:*'], parsed({ pattern: 'user:*' })],
  [['0', 'MATCH', 'a', 'MATCH', 'b'], parsed({ pattern: 'b' })],
  [['0', 'MATCH', 'a', 'MATCH', '*'], parsed({})],
  [['0', 'MATCH', 'k\r\n\xff'], parsed({ pattern: 'k\r\n\xff' })],
  [['0', 'TYPE', 'string'], parsed({ type: 'string' })],
  [['0', 'type', 'ZSet'], parsed({ type: 'zset' })],
  [['0', 'TYPE', 'nosuchtype'], parsed({ type: 'nosuchtype' })],
  [['12', 'MATCH', 'user:*', 'COUNT', '100', 'TYPE', 'hash'], parsed({ cursor: 12, pattern: 'user:*', count: 100, type: 'hash' })],
  [['0', 'TYPE', 'list', 'COUNT', '3', 'MATCH', '?'], parsed({ pattern: '?', count: 3, type: 'list' })],
];

const ERRORS: [string[], string][] = [
  [['abc'], INVALID_CURSOR],
  [[' 1'], INVALID_CURSOR],
  [['1 '], INVALID_CURSOR],
  [['1.0'], INVALID_CURSOR],
  [['0x1'], INVALID_CURSOR],
  [['1e3'], INVALID_CURSOR],
  [['-'], INVALID_CURSOR],
  [['+'], INVALID_CURSOR],
  [['+-1'], INVALID_CURSOR],
  [['abc', 'COUNT', 'x'], INVALID_CURSOR], // the cursor is read first
  [['0', 'COUNT'], SYNTAX],
  [['0', 'MATCH'], SYNTAX],
  [['0', 'TYPE'], SYNTAX],
  [['0', 'FOO'], SYNTAX],
  [['0', 'FOO', 'bar'], SYNTAX],
  [['0', 'COUNT', '0'], SYNTAX],
  [['0', 'COUNT', '-1'], SYNTAX],
  [['0', 'COUNT', '-100'], SYNTAX],
  [['0', 'COUNT', 'x'], NOT_INTEGER],
  [['0', 'COUNT', ''], NOT_INTEGER],
  [['0', 'COUNT', '1.5'], NOT_INTEGER],
  [['0', 'COUNT', ' 1'], NOT_INTEGER],
  [['0', 'COUNT', '1 '], NOT_INTEGER],
  [['0', 'COUNT', '+1'], NOT_INTEGER],
  [['0', 'COUNT', '99999999999999999999'], NOT_INTEGER],
  [['0', 'COUNT', 'x', 'FOO'], NOT_INTEGER], // options are checked in order
  [['0', 'FOO', 'bar', 'COUNT', 'x'], SYNTAX],
  [['0', 'COUNT', '0', 'FOO'], SYNTAX],
  [['0', 'COUNT', '5', 'MATCH'], SYNTAX],
  [['0', 'MATCH', 'a', 'COUNT', '-5'], SYNTAX],
];

/**
 * Where slotgate differs from Redis 7.0 (reported as bugs; src not changed here). Redis reads
 * the cursor with strtoul (util: parseScanCursorOrReply: "" is 0, ERANGE is an invalid cursor)
 * and COUNT with string2ll (no leading zeros, no "-0", up to 2^63-1).
 */
const DIFFERENCES: [string[], ScanArguments | string][] = [
  [[''], parsed({})],
  [['18446744073709551616'], INVALID_CURSOR],
  [['0', 'COUNT', '01'], NOT_INTEGER],
  [['0', 'COUNT', '-0'], NOT_INTEGER],
  [['0', 'COUNT', '9223372036854775807'], parsed({ count: 2 ** 63 - 1 })],
];

describe('parseScanArguments', () => {
  it.each(VALID)('SCAN %j parses', (args, expected) => {
    expect(parse(...args)).toStrictEqual(expected);
  });

  it.each(ERRORS)('SCAN %j -> %s', (args, expected) => {
    expect(parse(...args)).toBe(expected);
  });

  // Corners where a simpler parser would differ from Redis' strtoul / string2ll.
  it.each(DIFFERENCES)('SCAN %j gives what Redis gives (%j)', (args, expected) => {
    const result = parse(...args);
    if (typeof expected === 'string') expect(result).toBe(expected);
    else expect(typeof result).toBe('object');
  });

  it('keeps the MATCH pattern bytes as given', () => {
    const pattern = Buffer.from([0x2a, 0x00, 0xff, 0x0d, 0x0a]);
    const result = parseScanArguments([bytes('SCAN'), bytes('0'), bytes('MATCH'), pattern]);
    expect(typeof result).toBe('object');
    expect((result as ScanArguments).pattern?.equals(pattern)).toBe(true);
  });
});

describe('slotsPerRound', () => {
  it.each([
    [1, 64],
    [4, 64],
    [5, 80],
    [10, 160],
    [100, 1600],
    [1023, 16368],
    [1024, 16384],
    [1025, 16384],
    [1_000_000, 16384],
    [Number.MAX_SAFE_INTEGER, 16384],
  ])('COUNT %d -> %d slots', (count, expected) => {
    expect(slotsPerRound(count)).toBe(expected);
  });
});

describe('the argument table agrees with a real node', () => {
  let node: Redis;

  beforeAll(async () => {
    const [host, port] = inject('clusterSeeds')[0].split(':');
    node = new Redis({ host, port: Number(port), maxRetriesPerRequest: 1, lazyConnect: true });
    await node.connect();
  });

  afterAll(() => {
    node?.disconnect();
  });

  /** Redis' error text for SCAN ...args, or null when it accepts them. */
  async function redisError(args: string[]): Promise<string | null> {
    try {
      await node.callBuffer('SCAN', ...args.map(bytes));
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  it('accepts every VALID row', async () => {
    for (const [args] of VALID) expect(await redisError(args), JSON.stringify(args)).toBeNull();
  });

  it('gives the error text of every ERRORS row', async () => {
    for (const [args, expected] of ERRORS) expect(await redisError(args), JSON.stringify(args)).toBe(expected);
  });

  it('gives what the DIFFERENCES rows say', async () => {
    for (const [args, expected] of DIFFERENCES) {
      expect(await redisError(args), JSON.stringify(args)).toBe(typeof expected === 'string' ? expected : null);
    }
  });
});
