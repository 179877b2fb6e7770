import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { RequestScanner, type RequestScannerLimits, type RequestSink } from '../../../src/resp/request-scanner.js';
import { Prng } from '../support/prng.js';
import { oneBytePieces, randomPieces, sampledTwoPieceSplits, twoPieceSplits } from '../support/chunks.js';
import { allByteValues, bytes, multibulk, toBuffer, type Arg } from '../support/resp.js';

const ROOMY: RequestScannerLimits = { maxBulkLen: 512 * 1024 * 1024, maxArgs: 1024 * 1024, maxBuffered: 1024 * 1024 * 1024 };
const MAX_LINE = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Recording what the scanner emits

/** One call the sink received, in a shape toEqual compares fast and prints readably. */
type ScanEvent = { request: string[]; raw: string } | { error: string };

/** Short byte strings as latin1 text (one char per byte); long ones as length + digest. */
function show(b: Buffer): string {
  if (b.length <= 300) return b.toString('latin1');
  return `<${b.length} bytes, sha256 ${createHash('sha256').update(b).digest('hex').slice(0, 16)}>`;
}

function requestEvent(args: Arg[], raw: Buffer): ScanEvent {
  return { request: args.map((a) => show(toBuffer(a))), raw: show(raw) };
}

class Recorder implements RequestSink {
  readonly events: ScanEvent[] = [];
  /** The buffer and frame offsets of every request, to check zero-copy forwarding. */
  readonly frames: { buf: Buffer; start: number; end: number }[] = [];

  onRequest(buf: Buffer, start: number, end: number, argc: number, args: Int32Array): void {
    const request: string[] = [];
    for (let i = 0; i < argc; i++) {
      const s = args[i * 2];
      const e = args[i * 2 + 1];
      if (!(start <= s && s <= e && e <= end)) throw new Error(`argument ${i} [${s}, ${e}) lies outside the frame [${start}, ${end})`);
      request.push(show(buf.subarray(s, e)));
    }
    this.events.push({ request, raw: show(buf.subarray(start, end)) });
    this.frames.push({ buf, start, end });
  }

  onProtocolError(message: string): void {
    this.events.push({ error: message });
  }

  /** Requests the recorder still accepts before the scanner must hold back (flow control). */
  capacity = Infinity;

  acceptsRequests(): boolean {
    return this.frames.length < this.capacity;
  }
}

/**
 * Feeds each piece as slotgate's client sockets deliver it with `transientInput`: through one
 * reused read buffer, overwritten (here: poisoned) right after the call, as the next read would.
 */
function feedThroughSharedBuffer(scanner: RequestScanner, pieces: Buffer[]): void {
  let shared = Buffer.alloc(64 * 1024);
  for (const piece of pieces) {
    if (piece.length > shared.length) shared = Buffer.alloc(piece.length);
    piece.copy(shared);
    scanner.feed(shared.subarray(0, piece.length));
    shared.fill(0xee, 0, piece.length);
  }
}

function scanPieces(pieces: Buffer[], limits: RequestScannerLimits = ROOMY, transientInput = false): ScanEvent[] {
  const recorder = new Recorder();
  const scanner = new RequestScanner(recorder, limits, { transientInput });
  if (transientInput) feedThroughSharedBuffer(scanner, pieces);
  else for (const piece of pieces) scanner.feed(piece);
  return recorder.events;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: a byte stream and the events it must produce

interface StreamFixture {
  name: string;
  input: Buffer;
  expected: ScanEvent[];
  limits: RequestScannerLimits;
  /** Too large to split at every byte: sample the split points instead. */
  large: boolean;
}

class StreamBuilder {
  private readonly parts: Buffer[] = [];
  private readonly expected: ScanEvent[] = [];
  private limits: RequestScannerLimits = ROOMY;

  constructor(private readonly name: string) {}

  /** A multibulk request: emitted with exactly its own bytes. */
  mb(...args: Arg[]): this {
    const frame = multibulk(...args);
    this.parts.push(frame);
    this.expected.push(requestEvent(args, frame));
    return this;
  }

  /** An inline request line (with its line ending): emitted re-encoded as canonical multibulk. */
  inline(line: Arg, ...args: Arg[]): this {
    this.parts.push(toBuffer(line));
    this.expected.push(requestEvent(args, multibulk(...args)));
    return this;
  }

  /** Bytes that produce no event (`*0`, `*-1`, blank lines) or that follow an error. */
  silent(raw: Arg): this {
    this.parts.push(toBuffer(raw));
    return this;
  }

  /** Bytes that make the scanner report `Protocol error: <message>`. */
  fails(raw: Arg, message: string): this {
    this.parts.push(toBuffer(raw));
    this.expected.push({ error: `Protocol error: ${message}` });
    return this;
  }

  withLimits(limits: Partial<RequestScannerLimits>): this {
    this.limits = { ...ROOMY, ...limits };
    return this;
  }

  build(): StreamFixture {
    const input = Buffer.concat(this.parts);
    return { name: this.name, input, expected: this.expected, limits: this.limits, large: input.length > 20_000 };
  }
}

const stream = (name: string) => new StreamBuilder(name);

function wideRequest(argc: number): Arg[] {
  return ['RPUSH', 'list', ...Array.from({ length: argc - 2 }, (_, i) => `item-${i}`)];
}

const rng = new Prng(0x5107_6a7e);

const VALID_STREAMS: StreamFixture[] = [
  stream('a single GET').mb('GET', 'key').build(),
  stream('a SET whose value has a 4-digit length').mb('SET', 'key', 'v'.repeat(1234)).build(),
  (() => {
    const b = stream('a pipeline of 120 commands');
    for (let i = 0; i < 40; i++) b.mb('SET', `key:${i}`, `value-${i}`).mb('GET', `key:${i}`).mb('INCR', `counter:${i % 7}`);
    return b.build();
  })(),
  stream('empty bulk strings ($0)').mb('SET', 'k', '').mb('GET', '').mb('').build(),
  stream('binary values with every byte 0..255')
    .mb('SET', allByteValues(), allByteValues().reverse())
    .mb('SET', 'k', '\r\n')
    .mb('SET', 'k', bytes('x\r\n*1\r\n$4\r\nPING\r\n'))
    .mb('ECHO', '\r')
    .mb('ECHO', '\n')
    .mb('ECHO', '$')
    .mb('ECHO', '*')
    .build(),
  stream('requests wider than the initial offsets array, then narrow ones')
    .mb(...wideRequest(33))
    .mb('GET', 'a')
    .mb(...wideRequest(200))
    .mb(...wideRequest(70))
    .mb('PING')
    .build(),
  stream('inline commands')
    .inline('PING\r\n', 'PING')
    .inline('SET key value\r\n', 'SET', 'key', 'value')
    .inline('GET key\n', 'GET', 'key')
    .inline('  GET \t spaced  \r\n', 'GET', 'spaced')
    .inline(`SET "a b" 'c d'\r\n`, 'SET', 'a b', 'c d')
    .inline(String.raw`ECHO "\x41\x7a\n\r\t\b\a\"\\"` + '\r\n', 'ECHO', 'Az\n\r\t\b\x07"\\')
    .inline(String.raw`ECHO 'it\'s'` + '\r\n', 'ECHO', "it's")
    .inline('ECHO "" \'\'\r\n', 'ECHO', '', '')
    .inline('GET a\rb\r\n', 'GET', 'a', 'b')
    .inline(Buffer.concat([bytes('SET k '), Buffer.from([0x80, 0xff, 0x01]), bytes('\r\n')]), 'SET', 'k', Buffer.from([0x80, 0xff, 0x01]))
    .build(),
  stream('*0 and *-1 are skipped silently')
    .silent('*0\r\n')
    .mb('GET', 'a')
    .silent('*-1\r\n')
    .silent('*0\r\n')
    .mb('GET', 'b')
    .silent('*-1\r\n')
    .build(),
  stream('blank inline lines are skipped').silent('\r\n').silent('\n').silent('   \r\n').inline('PING\r\n', 'PING').silent('\t\n').build(),
  stream('inline and multibulk mixed')
    .inline('PING\r\n', 'PING')
    .mb('SET', 'k', 'v')
    .inline('GET k\r\n', 'GET', 'k')
    .silent('*0\r\n')
    .mb('DEL', 'k')
    .silent('\r\n')
    .inline('QUIT\n', 'QUIT')
    .build(),
  stream('a 1 MB binary value between two small requests')
    .mb('GET', 'before')
    .mb('SET', 'big', rng.bytes(1024 * 1024))
    .mb('GET', 'after')
    .build(),
];

// ---------------------------------------------------------------------------------------------
// Checking a fixture under every way of chunking it

function expectSameWhateverTheSplit(f: StreamFixture, extraCheck?: (events: ScanEvent[], label: string) => void): void {
  const check = (pieces: Buffer[], label: string) => {
    const events = scanPieces(pieces, f.limits);
    expect(events, label).toEqual(f.expected);
    extraCheck?.(events, label);
    expect(scanPieces(pieces, f.limits, true), `${label}, through a reused read buffer`).toEqual(f.expected);
  };
  const splitRng = new Prng(f.input.length);
  check([f.input], 'one chunk');
  const splits = f.large ? sampledTwoPieceSplits(f.input, splitRng, 200) : twoPieceSplits(f.input);
  for (const { at, pieces } of splits) check(pieces, `split at ${at}`);
  if (!f.large) check(oneBytePieces(f.input), 'one-byte pieces');
  // Small pieces on a long line are quadratic (each chunk rejoins the line): keep them for small inputs.
  for (const maxPiece of f.large ? [64, 1500, 65536] : [2, 7, 64, 1500]) {
    for (let run = 0; run < 5; run++) check(randomPieces(f.input, splitRng, maxPiece), `random pieces up to ${maxPiece}, run ${run}`);
  }
}

describe('RequestScanner: valid streams', () => {
  for (const f of VALID_STREAMS) {
    it(`${f.name}: emits the expected requests, whatever the chunking`, () => {
      expectSameWhateverTheSplit(f);
    });
  }

  it('a 1 MB value fed one byte at a time still gives the same request', () => {
    const f = VALID_STREAMS[VALID_STREAMS.length - 1];
    expect(f.large).toBe(true);
    expect(scanPieces(oneBytePieces(f.input))).toEqual(f.expected);
  });

  it('forwards multibulk requests of one chunk as views of that chunk (zero copy)', () => {
    const frames = [multibulk('SET', 'a', '1'), multibulk('GET', 'a'), multibulk('DEL', 'a')];
    const chunk = Buffer.concat(frames);
    const recorder = new Recorder();
    new RequestScanner(recorder, ROOMY).feed(chunk);
    expect(recorder.frames).toHaveLength(3);
    let offset = 0;
    recorder.frames.forEach((frame, i) => {
      expect(frame.buf).toBe(chunk);
      expect([frame.start, frame.end]).toEqual([offset, offset + frames[i].length]);
      offset += frames[i].length;
    });
  });

  it('reports the bytes held for an incomplete request in `buffered`', () => {
    const recorder = new Recorder();
    const scanner = new RequestScanner(recorder, ROOMY);
    const set = multibulk('SET', 'key', 'value');
    scanner.feed(Buffer.concat([multibulk('GET', 'k'), set.subarray(0, 10)]));
    expect(recorder.events).toHaveLength(1);
    expect(scanner.buffered).toBe(10);
    scanner.feed(Buffer.from(set.subarray(10, 20)));
    expect(scanner.buffered).toBe(20);
    scanner.feed(Buffer.from(set.subarray(20)));
    expect(scanner.buffered).toBe(0);
    expect(recorder.events).toHaveLength(2);
  });

  it('accepts a bulk of exactly maxBulkLen and a request of exactly maxArgs arguments', () => {
    const f = stream('limits reached, not exceeded')
      .withLimits({ maxBulkLen: 10, maxArgs: 3 })
      .mb('SET', 'k', '0123456789')
      .build();
    expectSameWhateverTheSplit(f);
  });

  it('a request of 3,000 arguments (beyond the room made when its count is read) is the same whatever the split', () => {
    const args = Array.from({ length: 3000 }, (_, i) => `k${i}`);
    expectSameWhateverTheSplit(stream('3,000 arguments').mb('MGET', ...args).mb('PING').build());
  });

  it('makes room for the arguments that arrived, not for the count announced (12 bytes must not cost 8 MB)', () => {
    const recorder = new Recorder();
    const scanner = new RequestScanner(recorder, ROOMY);
    scanner.feed(Buffer.from('*1048576\r\n$3\r\nGET\r\n$1\r\nk\r\n'));
    const room = (scanner as unknown as { args: Int32Array }).args.length;
    expect(room).toBeLessThanOrEqual(2 * 1024);
    expect(recorder.events).toEqual([]);
  });

  it('accepts an inline line of exactly 64 KB (its CR included)', () => {
    const line = Buffer.concat([bytes('ECHO '), Buffer.alloc(MAX_LINE - 6, 'x'), bytes('\r\n')]);
    const f = stream('64 KB inline line').inline(line, 'ECHO', 'x'.repeat(MAX_LINE - 6)).mb('PING').build();
    expectSameWhateverTheSplit(f);
  });
});

// ---------------------------------------------------------------------------------------------
// Protocol errors

const PING = multibulk('PING');

const ERROR_STREAMS: StreamFixture[] = [
  stream('a non-numeric multibulk count').mb('PING').fails('*abc\r\n', 'invalid multibulk length').silent(multibulk('GET', 'never')).build(),
  stream('an empty multibulk count').fails('*\r\n', 'invalid multibulk length').build(),
  stream('a multibulk count with a leading zero').fails('*01\r\n$4\r\nPING\r\n', 'invalid multibulk length').build(),
  stream('a multibulk count with a plus sign').fails('*+1\r\n$4\r\nPING\r\n', 'invalid multibulk length').build(),
  stream('a multibulk count of -0 (string2ll rejects it)').fails('*-0\r\n', 'invalid multibulk length').silent(PING).build(),
  stream('more arguments than maxArgs')
    .withLimits({ maxArgs: 3 })
    .mb('SET', 'k', 'v')
    .fails('*4\r\n', 'invalid multibulk length')
    .silent('$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n')
    .build(),
  stream('an integer where a bulk string is expected').fails('*1\r\n:5\r\n', "expected '$', got ':'").build(),
  stream('a simple string as the second argument').mb('PING').fails('*2\r\n$3\r\nGET\r\n+k\r\n', "expected '$', got '+'").build(),
  stream('a negative bulk length').fails('*1\r\n$-5\r\n', 'invalid bulk length').silent(PING).build(),
  stream('a null bulk in a request').fails('*2\r\n$3\r\nGET\r\n$-1\r\n', 'invalid bulk length').build(),
  stream('a bulk length of -0 (string2ll rejects it)').fails('*1\r\n$-0\r\n\r\n', 'invalid bulk length').silent(PING).build(),
  stream('a non-numeric bulk length').fails('*1\r\n$abc\r\n', 'invalid bulk length').build(),
  stream('a bulk longer than maxBulkLen')
    .withLimits({ maxBulkLen: 10 })
    .mb('SET', 'k', '0123456789')
    .fails('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$11\r\n', 'invalid bulk length')
    .silent('01234567890\r\n')
    .build(),
  stream('inline with an unterminated double quote').inline('PING\r\n', 'PING').fails('SET "foo bar\r\n', 'unbalanced quotes in request').silent(PING).build(),
  stream('inline with an unterminated single quote').fails("GET 'a\r\n", 'unbalanced quotes in request').build(),
  stream('inline with a closing quote followed by a letter').fails('GET "a"b\r\n', 'unbalanced quotes in request').build(),
  stream('an inline line over 64 KB without a newline')
    .inline('PING\r\n', 'PING')
    .fails(Buffer.alloc(MAX_LINE + 1, 'a'), 'too big inline request')
    .build(),
  stream('an inline line over 64 KB with its newline')
    .mb('PING')
    .fails(Buffer.concat([bytes('SET k '), Buffer.alloc(MAX_LINE, 'v'), bytes('\r\n')]), 'too big inline request')
    .silent(PING)
    .build(),
  stream('a multibulk count line over 64 KB').mb('PING').fails(Buffer.concat([bytes('*'), Buffer.alloc(MAX_LINE + 1, '1')]), 'too big mbulk count string').build(),
  stream('a bulk length line over 64 KB')
    .fails(Buffer.concat([bytes('*1\r\n$'), Buffer.alloc(MAX_LINE + 1, '1')]), 'too big bulk count string')
    .build(),
  stream('an incomplete request above maxBuffered')
    .withLimits({ maxBuffered: 200, maxBulkLen: 1000 })
    .mb('PING')
    .mb('SET', 'k', 'v'.repeat(150))
    .fails(Buffer.concat([bytes('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500\r\n'), Buffer.alloc(300, 'v')]), 'query buffer limit exceeded')
    .build(),
];

describe('RequestScanner: protocol errors', () => {
  for (const f of ERROR_STREAMS) {
    it(`${f.name}: emits the requests before it, then one error, whatever the chunking`, () => {
      expectSameWhateverTheSplit(f);
    });
  }

  it('emits nothing more after an error, whatever is fed later', () => {
    const recorder = new Recorder();
    const scanner = new RequestScanner(recorder, ROOMY);
    scanner.feed(Buffer.concat([PING, bytes('*1\r\n:5\r\n'), PING]));
    scanner.feed(PING);
    scanner.feed(bytes('PING\r\n'));
    expect(recorder.events).toEqual([requestEvent(['PING'], PING), { error: "Protocol error: expected '$', got ':'" }]);
    expect(scanner.buffered).toBe(0);
  });

  it('counts only the incomplete request against maxBuffered, not complete requests arriving with it', () => {
    const limits = { ...ROOMY, maxBuffered: 100 };
    const requests = Array.from({ length: 10 }, (_, i) => multibulk('SET', `key:${i}`, 'value'));
    const input = Buffer.concat(requests);
    // Every request fits the limit; the second chunk carries the rest of the first and nine more.
    const events = scanPieces([input.subarray(0, 5), input.subarray(5)], limits);
    expect(events).toHaveLength(10);
    expect(events.every((e) => 'request' in e)).toBe(true);
  });
});

describe('RequestScanner: holding back while the sink accepts no more requests', () => {
  const requests = Array.from({ length: 7 }, (_, i) => multibulk('SET', `k${i}`, `v${i}`));
  const stream = Buffer.concat([...requests, bytes('PING\r\n')]);
  const all = scanPieces([stream]);

  it('stops between requests, then resumes where it stopped, in order, whatever the chunking', () => {
    for (const pieces of [[stream], [...stream].map((b) => Buffer.from([b])), [stream.subarray(0, 20), stream.subarray(20, 90), stream.subarray(90)]]) {
      const recorder = new Recorder();
      recorder.capacity = 2;
      const scanner = new RequestScanner(recorder, ROOMY);
      for (const piece of pieces) scanner.feed(piece);
      expect(recorder.events).toEqual(all.slice(0, 2));
      expect(scanner.buffered).toBe(stream.length - requests[0].length - requests[1].length);
      recorder.capacity = 5;
      scanner.resume();
      expect(recorder.events).toEqual(all.slice(0, 5));
      recorder.capacity = Infinity;
      scanner.resume();
      expect(recorder.events).toEqual(all);
      expect(scanner.buffered).toBe(0);
    }
  });

  it('keeps what it holds back intact when the read buffer is reused (transientInput)', () => {
    const recorder = new Recorder();
    recorder.capacity = 2;
    const scanner = new RequestScanner(recorder, ROOMY, { transientInput: true });
    feedThroughSharedBuffer(scanner, [stream.subarray(0, 20), stream.subarray(20, 90), stream.subarray(90)]);
    expect(recorder.events).toEqual(all.slice(0, 2));
    recorder.capacity = Infinity;
    scanner.resume();
    expect(recorder.events).toEqual(all);
  });

  it('joins large values arriving in reads of any size into exact requests, holding back between them (transientInput)', () => {
    const rng = new Prng(11);
    const values = [100_000, 17_000, 300_000, 65_536, 20].map((n) => rng.bytes(n));
    const frames = values.map((v, i) => multibulk('SET', `k${i}`, v));
    const expected = values.map((v, i) => requestEvent(['SET', `k${i}`, v], frames[i]));
    const input = Buffer.concat(frames);
    for (const maxPiece of [1500, 9000, 65536]) {
      const recorder = new Recorder();
      recorder.capacity = 2;
      const scanner = new RequestScanner(recorder, ROOMY, { transientInput: true });
      feedThroughSharedBuffer(scanner, randomPieces(input, rng, maxPiece));
      expect(recorder.events, `pieces up to ${maxPiece}`).toEqual(expected.slice(0, 2));
      recorder.capacity = Infinity;
      scanner.resume();
      expect(recorder.events, `pieces up to ${maxPiece}, resumed`).toEqual(expected);
      expect(scanner.buffered).toBe(0);
    }
  });

  it('still enforces the buffer limit on bytes held back', () => {
    const recorder = new Recorder();
    recorder.capacity = 0;
    const scanner = new RequestScanner(recorder, { ...ROOMY, maxBuffered: 64 });
    scanner.feed(stream.subarray(0, 40));
    expect(recorder.events).toEqual([]);
    scanner.feed(stream.subarray(40));
    expect(recorder.events).toEqual([{ error: 'Protocol error: query buffer limit exceeded' }]);
  });
});
