/**
 * Seeded generator of hostile client input for the fuzzer (bench/fuzz/runner.ts). Pure: the same
 * seed gives the same cases, byte for byte, on every machine (its own PRNG, never Math.random).
 *
 * A case is a list of writes: the runner sends each write separately, so a frame split across
 * writes reaches slotgate in several reads. Kinds:
 *   random-bytes      random bytes, sometimes starting with a RESP type byte
 *   truncated         a valid command cut short (the rest never comes)
 *   oversized         a bulk or count beyond slotgate's limits (its value never comes)
 *   huge-length       declared lengths: *99999999999, $2147483648, negative, non-numeric, leading zeros...
 *   legal-huge-count  a legal but large multibulk count (*1048576) with few arguments after it
 *   nesting           RESP3 aggregates (maps, sets, pushes, attributes) and *1\r\n*1\r\n... sent as requests
 *   inline            long inline lines, unbalanced quotes, NUL bytes, lone \r or \n, escapes
 *   mixed             valid commands (SET/GET/MGET/MSET/DEL/HELLO/MULTI/SUBSCRIBE/PING...) with
 *                     garbage in the same write, the whole split at random byte boundaries
 *   valid             valid commands only, split at random byte boundaries
 */

import { seededRandom } from '../support/seeded-random.js';


export type CaseKind =
  | 'random-bytes'
  | 'truncated'
  | 'oversized'
  | 'huge-length'
  | 'legal-huge-count'
  | 'nesting'
  | 'inline'
  | 'mixed'
  | 'valid';

export interface FuzzCase {
  id: number;
  kind: CaseKind;
  /** Sent one write at a time. */
  writes: Buffer[];
}

/** Limits the generator aims around (slotgate's, as the runner starts it). */
export interface CaseLimits {
  maxBulkLen: number;
  maxArgs: number;
}

export const DEFAULT_CASE_LIMITS: CaseLimits = { maxBulkLen: 512 * 1024 * 1024, maxArgs: 1048576 };

/** How often each kind comes, out of the sum. */
const WEIGHTS: [CaseKind, number][] = [
  ['random-bytes', 12],
  ['truncated', 10],
  ['oversized', 6],
  ['huge-length', 10],
  ['legal-huge-count', 2],
  ['nesting', 8],
  ['inline', 14],
  ['mixed', 28],
  ['valid', 10],
];
const WEIGHT_SUM = WEIGHTS.reduce((s, [, w]) => s + w, 0);

/** Every key the fuzz cases write starts with this, apart from the control connection's. */
export const FUZZ_KEY_PREFIX = 'fz:';

class Gen {
  constructor(
    readonly rand: () => number,
    readonly limits: CaseLimits,
  ) {}

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.rand() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  bytes(len: number): Buffer {
    const b = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) b[i] = this.int(256);
    return b;
  }

  /** Short random bytes, biased towards the ones that matter to a RESP scanner. */
  nastyBytes(len: number): Buffer {
    const special = [13, 10, 0, 42, 36, 43, 45, 58, 34, 39, 92, 32, 9, 48, 49, 57];
    const b = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) b[i] = this.chance(0.4) ? this.pick(special) : this.int(256);
    return b;
  }

  key(): string {
    // A few hundred keys over every slot, some with hash tags, some binary-looking.
    const n = this.int(400);
    if (this.chance(0.2)) return `${FUZZ_KEY_PREFIX}{t${n % 7}}:${n}`;
    if (this.chance(0.05)) return `${FUZZ_KEY_PREFIX}\u0000\r\n${n}`;
    return `${FUZZ_KEY_PREFIX}${n}`;
  }

  value(): string {
    if (this.chance(0.1)) return '';
    if (this.chance(0.1)) return '\r\n-ERR not an error\r\n$5\r\n';
    return this.bytes(this.int(48)).toString('latin1');
  }

  /** One valid command as its arguments. Never a blocking command without a timeout. */
  command(): string[] {
    switch (this.int(16)) {
      case 0:
        return ['SET', this.key(), this.value()];
      case 1:
        return ['GET', this.key()];
      case 2: {
        const keys = Array.from({ length: this.range(1, 6) }, () => this.key());
        return ['MGET', ...keys];
      }
      case 3: {
        const args: string[] = ['MSET'];
        for (let i = this.range(1, 4); i > 0; i--) args.push(this.key(), this.value());
        return args;
      }
      case 4:
        return ['DEL', ...Array.from({ length: this.range(1, 4) }, () => this.key())];
      case 5:
        return this.pick([['HELLO'], ['HELLO', '2'], ['HELLO', '3'], ['HELLO', '4'], ['HELLO', 'x']]);
      case 6:
        return ['MULTI'];
      case 7:
        return this.pick([['EXEC'], ['DISCARD'], ['WATCH', this.key()], ['UNWATCH']]);
      case 8:
        return this.pick([['SUBSCRIBE', `${FUZZ_KEY_PREFIX}ch${this.int(5)}`], ['UNSUBSCRIBE'], ['PSUBSCRIBE', 'fz:*'], ['PUNSUBSCRIBE']]);
      case 9:
        return this.pick([['PING'], ['PING', this.value()], ['ECHO', this.value()]]);
      case 10:
        return ['INCR', this.key()];
      case 11:
        return this.pick([['LPUSH', this.key(), this.value()], ['LRANGE', this.key(), '0', '-1'], ['HSET', this.key(), 'f', this.value()]]);
      case 12:
        return this.pick([['EXISTS', this.key(), this.key()], ['TYPE', this.key()], ['TTL', this.key()], ['EXPIRE', this.key(), '100']]);
      case 13:
        return this.pick([['BLPOP', this.key(), '0.01'], ['CLIENT', 'SETNAME', 'fz'], ['CLIENT', 'GETNAME'], ['SELECT', '0'], ['SELECT', '1']]);
      case 14:
        return this.pick([['NOSUCHCOMMAND'], ['GET'], ['SET', this.key()], ['CLUSTER', 'KEYSLOT', this.key()], ['COMMAND', 'COUNT']]);
      default:
        return this.pick([['RESET'], ['CLIENT', 'REPLY', 'SKIP'], ['PUBLISH', `${FUZZ_KEY_PREFIX}ch1`, 'm'], ['SCAN', '0', 'COUNT', '5']]);
    }
  }

  multibulk(args: string[]): Buffer {
    const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const v = Buffer.from(a, 'latin1');
      parts.push(Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n'));
    }
    return Buffer.concat(parts);
  }

  /** A valid command in multibulk (mostly) or inline form (when its arguments allow it). */
  encoded(args: string[]): Buffer {
    if (this.chance(0.15) && args.every((a) => /^[A-Za-z0-9:{}*._-]+$/.test(a))) {
      return Buffer.from(`${args.join(this.pick([' ', '  ', '\t']))}${this.pick(['\r\n', '\n'])}`, 'latin1');
    }
    return this.multibulk(args);
  }

  randomBytes(): Buffer {
    const body = this.bytes(this.range(1, this.chance(0.1) ? 4096 : 96));
    if (this.chance(0.5)) body[0] = this.pick([42, 36, 43, 45, 58, 37, 126, 62, 124, 95, 44, 35, 40, 61]);
    return body;
  }

  truncated(): Buffer {
    const frame = this.multibulk(this.command());
    return frame.subarray(0, this.int(frame.length));
  }

  oversized(): Buffer {
    const max = this.limits.maxBulkLen;
    switch (this.int(4)) {
      case 0:
        return Buffer.from(`*1\r\n$${max + 1 + this.int(1000)}\r\n`);
      case 1:
        return Buffer.from(`*2\r\n$3\r\nSET\r\n$${max + 1}\r\nabc`);
      case 2:
        return Buffer.from(`*${this.limits.maxArgs + 1 + this.int(1000)}\r\n$3\r\nGET\r\n`);
      default:
        // A length line longer than Redis' 64 KB inline limit.
        return Buffer.concat([Buffer.from(this.pick(['*', '*1\r\n$'])), Buffer.alloc(this.range(65 * 1024, 70 * 1024), 0x31)]);
    }
  }

  hugeLength(): Buffer {
    const n = this.pick([
      '99999999999', '2147483648', '2147483647', '4294967296', '4294967295', '9223372036854775807',
      '9223372036854775808', '18446744073709551616', '-1', '-2', '-2147483648', '-9999999999', '0x10',
      '1e9', 'abc', '', ' 1', '1 ', '+1', '01', '-0', '1.5', '\u0000', '٣', '536870913', '536870912',
    ]);
    const head = this.pick(['*', '*1\r\n$', '*2\r\n$3\r\nGET\r\n$', '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$']);
    const frame = Buffer.from(`${head}${n}\r\n`, 'latin1');
    return this.chance(0.5) ? Buffer.concat([frame, this.nastyBytes(this.int(64))]) : frame;
  }

  legalHugeCount(): Buffer {
    // Legal counts: slotgate must not set aside memory for arguments that never come.
    const count = this.pick([this.limits.maxArgs, this.limits.maxArgs - 1, 500_000, 100_000]);
    return Buffer.from(`*${count}\r\n$3\r\nGET\r\n$1\r\nk\r\n`);
  }

  nesting(): Buffer {
    switch (this.int(5)) {
      case 0: {
        const depth = this.range(2, this.chance(0.2) ? 20000 : 200);
        return Buffer.from('*1\r\n'.repeat(depth) + (this.chance(0.5) ? '$4\r\nPING\r\n' : ''));
      }
      case 1:
        // RESP3 aggregates and types a client may not send.
        return Buffer.from(
          this.pick([
            '%1\r\n$3\r\nGET\r\n$1\r\nk\r\n', '~2\r\n$3\r\nGET\r\n$1\r\nk\r\n', '>2\r\n$3\r\nGET\r\n$1\r\nk\r\n',
            '|1\r\n+a\r\n+b\r\n*1\r\n$4\r\nPING\r\n', '_\r\n', ',1.5\r\n', '#t\r\n', '(123\r\n', '=8\r\ntxt:PING\r\n',
            '!3\r\nERR\r\n', ':1\r\n', '+PING\r\n', '-ERR x\r\n', '$4\r\nPING\r\n',
          ]),
        );
      case 2:
        // An aggregate where an argument should be.
        return Buffer.from(this.pick(['*2\r\n$3\r\nGET\r\n*1\r\n$1\r\nk\r\n', '*2\r\n*1\r\n$3\r\nGET\r\n$1\r\nk\r\n', '*2\r\n$4\r\nECHO\r\n%1\r\n:1\r\n:2\r\n', '*1\r\n:1\r\n']));
      case 3: {
        const depth = this.range(2, 64);
        const opens = this.pick(['*', '%', '~', '>']);
        return Buffer.from(`${opens}1\r\n`.repeat(depth) + ':1\r\n');
      }
      default:
        return Buffer.from(`*${this.range(1, 3)}\r\n`.repeat(this.range(2, 50)));
    }
  }

  inline(): Buffer {
    switch (this.int(8)) {
      case 0:
        return Buffer.concat([Buffer.from('SET fz:long '), Buffer.alloc(this.range(60 * 1024, 70 * 1024), 0x61), Buffer.from('\r\n')]);
      case 1:
        return Buffer.from(this.pick(['SET "x y\r\n', "SET 'x\r\n", 'GET "a"b\r\n', "GET 'a'b\r\n", 'ECHO "\\"\r\n', 'ECHO "\\x4\r\n']));
      case 2:
        return Buffer.from(`GET fz:\u0000${this.int(99)}\r\nPING\u0000\r\n`, 'latin1');
      case 3:
        return Buffer.from(this.pick(['\r', '\n', '\r\r\r', '\n\n\n', 'PING\r', 'PING\rPING\n', '\r\nPING', ' \r\n', '\t\n']));
      case 4:
        return Buffer.from(`ECHO "\\x${this.pick(['41', 'zz', 'f', '00', 'FF'])}\\n\\r\\t\\b\\a\\q"\r\n`, 'latin1');
      case 5:
        return Buffer.concat([Buffer.from(this.pick(['GET ', 'PING ', 'ECHO ', ''])), this.nastyBytes(this.range(1, 200)), Buffer.from('\n')]);
      case 6:
        // A long line that never ends (no \n): over the 64 KB limit, or just under it.
        return Buffer.alloc(this.chance(0.5) ? 66 * 1024 : 60 * 1024, this.pick([0x61, 0x20, 0x22, 0x00]));
      default:
        return Buffer.from(`${'a '.repeat(this.range(1, 20000))}\r\n`);
    }
  }

  garbage(): Buffer {
    switch (this.int(6)) {
      case 0:
        return this.randomBytes();
      case 1:
        return this.truncated();
      case 2:
        return this.hugeLength();
      case 3:
        return this.nesting();
      case 4:
        return this.inline();
      default:
        return this.nastyBytes(this.range(1, 32));
    }
  }

  valid(): Buffer {
    return Buffer.concat(Array.from({ length: this.range(1, 12) }, () => this.encoded(this.command())));
  }

  mixed(): Buffer {
    const parts: Buffer[] = [];
    for (let i = this.range(2, 10); i > 0; i--) parts.push(this.chance(0.7) ? this.encoded(this.command()) : this.garbage());
    return Buffer.concat(parts);
  }

  /** Splits `data` at random byte boundaries into 1..8 writes (sometimes one per byte for short data). */
  split(data: Buffer): Buffer[] {
    if (data.length <= 1) return [data];
    if (data.length <= 64 && this.chance(0.05)) return Array.from(data, (b) => Buffer.from([b]));
    const cuts = new Set<number>();
    for (let i = this.int(8); i > 0; i--) cuts.add(1 + this.int(data.length - 1));
    const sorted = [...cuts].sort((a, b) => a - b);
    const out: Buffer[] = [];
    let from = 0;
    for (const c of sorted) {
      out.push(data.subarray(from, c));
      from = c;
    }
    out.push(data.subarray(from));
    return out;
  }
}

function pickKind(g: Gen): CaseKind {
  let r = g.rand() * WEIGHT_SUM;
  for (const [kind, w] of WEIGHTS) {
    r -= w;
    if (r < 0) return kind;
  }
  return 'mixed';
}

/** The cases of a run, one at a time (a 100,000-case run never holds all of them). */
export function* generateCases(seed: number, count: number, limits: CaseLimits = DEFAULT_CASE_LIMITS): Generator<FuzzCase> {
  const g = new Gen(seededRandom(seed), limits);
  for (let id = 0; id < count; id++) {
    const kind = pickKind(g);
    let data: Buffer;
    switch (kind) {
      case 'random-bytes': data = g.randomBytes(); break;
      case 'truncated': data = g.truncated(); break;
      case 'oversized': data = g.oversized(); break;
      case 'huge-length': data = g.hugeLength(); break;
      case 'legal-huge-count': data = g.legalHugeCount(); break;
      case 'nesting': data = g.nesting(); break;
      case 'inline': data = g.inline(); break;
      case 'valid': data = g.valid(); break;
      default: data = g.mixed(); break;
    }
    yield { id, kind, writes: g.split(data) };
  }
}

/**
 * The first bytes of a connection: SET then GET of a key of its own with a value of its own,
 * split at random boundaries, so the first two replies are known (+OK and the value).
 */
export function canary(seed: number, connection: number): { writes: Buffer[]; key: string; value: string } {
  const g = new Gen(seededRandom((seed * 1_000_003 + connection) >>> 0), DEFAULT_CASE_LIMITS);
  const key = `${FUZZ_KEY_PREFIX}canary:${connection}`;
  const value = g.bytes(g.range(0, 40)).toString('latin1');
  const data = Buffer.concat([g.multibulk(['SET', key, value]), g.multibulk(['GET', key])]);
  return { writes: g.split(data), key, value };
}
