import { describe, it, expect } from 'vitest';
import { ReplyScanner, type ReplySink } from '../../../src/resp/reply-scanner.js';
import { Prng } from '../support/prng.js';
import { cutAt, oneBytePieces, randomPieces, twoPieceSplits } from '../support/chunks.js';
import { allByteValues, bytes } from '../support/resp.js';

class Recorder implements ReplySink {
  /** Each frame's bytes as latin1 text (one char per byte). */
  readonly frames: string[] = [];
  readonly views: { buf: Buffer; start: number; end: number }[] = [];
  readonly errors: string[] = [];

  onReply(buf: Buffer, start: number, end: number): void {
    this.frames.push(buf.toString('latin1', start, end));
    this.views.push({ buf, start, end });
  }

  onReplyProtocolError(message: string): void {
    this.errors.push(message);
  }
}

function scan(pieces: Buffer[], maxBulkLen?: number): Recorder {
  const recorder = new Recorder();
  const scanner = new ReplyScanner(recorder, maxBulkLen);
  for (const piece of pieces) scanner.feed(piece);
  return recorder;
}

const bulk = (value: Buffer) => Buffer.concat([bytes(`$${value.length}\r\n`), value, bytes('\r\n')]).toString('latin1');

/** Whole reply frames, each exactly as a node sends it. */
const RESP2_FRAMES: Record<string, string> = {
  'simple string': '+OK\r\n',
  'empty simple string': '+\r\n',
  error: '-ERR unknown command \'FOO\'\r\n',
  'MOVED error': '-MOVED 3999 127.0.0.1:6381\r\n',
  integer: ':1000\r\n',
  'negative integer': ':-1\r\n',
  bulk: '$5\r\nhello\r\n',
  'empty bulk': '$0\r\n\r\n',
  'null bulk': '$-1\r\n',
  'bulk holding CRLF and RESP-looking bytes': '$12\r\n\r\n*1\r\n:1\r\n+x\r\n',
  'bulk of every byte value': bulk(allByteValues()),
  'bulk with a 4-digit length': bulk(Buffer.alloc(1234, 'b')),
  'null array': '*-1\r\n',
  'empty array': '*0\r\n',
  'flat array': '*3\r\n:1\r\n:2\r\n:3\r\n',
  'nested arrays with nulls': '*3\r\n:1\r\n$3\r\nfoo\r\n*2\r\n+a\r\n$-1\r\n',
  'array of empty and null arrays': '*3\r\n*0\r\n*-1\r\n*1\r\n*0\r\n',
  'deeply nested arrays': '*1\r\n*1\r\n*1\r\n*2\r\n*1\r\n:1\r\n:2\r\n',
  'CLUSTER SLOTS shaped': '*1\r\n*4\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$4\r\nabcd\r\n*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$4\r\nefgh\r\n',
};

const RESP3_FRAMES: Record<string, string> = {
  null: '_\r\n',
  double: ',3.14\r\n',
  'double inf': ',-inf\r\n',
  'boolean true': '#t\r\n',
  'boolean false': '#f\r\n',
  'big number': '(3492890328409238509324850943850943825024385\r\n',
  'verbatim string': '=15\r\ntxt:Some string\r\n',
  'bulk error': '!21\r\nSYNTAX invalid syntax\r\n',
  map: '%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n',
  'nested maps': '%2\r\n+server\r\n%2\r\n+name\r\n$5\r\nredis\r\n+modules\r\n*0\r\n+nested\r\n%1\r\n+set\r\n~2\r\n:1\r\n:2\r\n',
  'empty map': '%0\r\n',
  set: '~3\r\n+a\r\n+b\r\n+c\r\n',
  'empty set': '~0\r\n',
  push: '>3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$5\r\nhello\r\n',
  'attribute before a value': '|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n',
  'attribute before an array element': '*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n',
  'attribute before a simple value': '|1\r\n+a\r\n+b\r\n+OK\r\n',
  'map holding nulls and a bulk error': '%2\r\n+a\r\n_\r\n+b\r\n!3\r\nERR\r\n',
  'attribute with no pairs (only the value it precedes)': '|0\r\n:1\r\n',
  'invalidation push with a null key list': '>2\r\n$10\r\ninvalidate\r\n_\r\n',
  'HELLO 3 reply of Redis 7.0.15':
    '%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:3\r\n' +
    '$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n',
  'CLUSTER SLOTS of Redis 7.0 in RESP3 (endpoint metadata map)': '*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$0\r\n\r\n:7001\r\n$2\r\nid\r\n%0\r\n',
};

const ALL_FRAMES = Object.entries({ ...RESP2_FRAMES, ...RESP3_FRAMES });

describe('ReplyScanner: frame boundaries', () => {
  it.each(ALL_FRAMES)('finds one %s frame fed whole', (_name, frame) => {
    const recorder = scan([bytes(frame)]);
    expect(recorder.frames).toEqual([frame]);
    expect(recorder.errors).toEqual([]);
  });

  it.each(ALL_FRAMES)('needs every byte of a %s frame', (_name, frame) => {
    // Any strict prefix is incomplete: nothing is reported yet.
    for (let len = 1; len < frame.length; len++) {
      const recorder = scan([bytes(frame.slice(0, len))]);
      expect(recorder.frames, `prefix of ${len} bytes`).toEqual([]);
      expect(recorder.errors).toEqual([]);
    }
  });

  const pipeline = ALL_FRAMES.map(([, frame]) => frame);
  const input = bytes(pipeline.join(''));

  it('finds every frame of a pipeline of all of them, fed whole, as views of the chunk', () => {
    const recorder = scan([input]);
    expect(recorder.frames).toEqual(pipeline);
    let offset = 0;
    for (const view of recorder.views) {
      expect(view.buf).toBe(input);
      expect(view.start).toBe(offset);
      offset = view.end;
    }
    expect(offset).toBe(input.length);
  });

  it('finds the same frames when the pipeline is split in two at every byte', () => {
    for (const { at, pieces } of twoPieceSplits(input)) {
      expect(scan(pieces).frames, `split at ${at}`).toEqual(pipeline);
    }
  });

  it('finds the same frames when the pipeline is fed one byte at a time', () => {
    expect(scan(oneBytePieces(input)).frames).toEqual(pipeline);
  });

  it('finds the same frames for random piece sizes', () => {
    const rng = new Prng(42);
    for (const maxPiece of [2, 5, 40, 700]) {
      for (let run = 0; run < 10; run++) {
        expect(scan(randomPieces(input, rng, maxPiece)).frames, `pieces up to ${maxPiece}, run ${run}`).toEqual(pipeline);
      }
    }
  });

  it('finds a 1 MB bulk reply between small ones, however it is split', () => {
    const rng = new Prng(7);
    const frames = ['+OK\r\n', bulk(rng.bytes(1024 * 1024)), ':1\r\n'];
    const big = bytes(frames.join(''));
    const check = (pieces: Buffer[], label: string) => expect(scan(pieces).frames, label).toEqual(frames);
    check([big], 'whole');
    for (let i = 0; i < 200; i++) {
      const at = rng.int(1, big.length - 1);
      check(cutAt(big, [at]), `split at ${at}`);
    }
    check(randomPieces(big, rng, 65536), 'socket-sized pieces');
  });

  it('accepts 128 levels of nesting', () => {
    const frame = '*1\r\n'.repeat(127) + '*0\r\n';
    expect(scan([bytes(frame)]).frames).toEqual([frame]);
    const deeper = '*1\r\n'.repeat(128) + ':1\r\n';
    expect(scan([bytes(deeper)]).frames).toEqual([deeper]);
  });
});

describe('ReplyScanner: malformed input', () => {
  const malformed: [string, string][] = [
    ['an unknown type byte', '?foo\r\n'],
    ['a non-numeric bulk length', '$abc\r\n'],
    ['a bulk length below -1', '$-2\r\n'],
    ['a non-numeric array length', '*x\r\n'],
    ['an array length below -1', '*-2\r\n'],
    ['an unknown type inside an array', '*2\r\n:1\r\n?\r\n'],
  ];

  it.each(malformed)('reports %s once, after the frames before it, and nothing after', (_name, bad) => {
    const input = bytes(`+OK\r\n${bad}:1\r\n+PONG\r\n`);
    const check = (pieces: Buffer[], label: string) => {
      const recorder = scan(pieces);
      expect(recorder.frames, label).toEqual(['+OK\r\n']);
      expect(recorder.errors, label).toHaveLength(1);
      expect(recorder.errors[0]).toMatch(/^Protocol error from node: /);
    };
    check([input], 'whole');
    for (const { at, pieces } of twoPieceSplits(input)) check(pieces, `split at ${at}`);
    check(oneBytePieces(input), 'one byte at a time');
  });

  it('ignores everything fed after an error', () => {
    const recorder = new Recorder();
    const scanner = new ReplyScanner(recorder);
    scanner.feed(bytes('?foo\r\n'));
    scanner.feed(bytes('+OK\r\n'));
    scanner.feed(bytes('?bar\r\n'));
    expect(recorder.frames).toEqual([]);
    expect(recorder.errors).toHaveLength(1);
  });

  it('rejects a bulk longer than maxBulkLen, accepts one of exactly maxBulkLen', () => {
    expect(scan([bytes('$10\r\n0123456789\r\n')], 10).frames).toEqual(['$10\r\n0123456789\r\n']);
    const recorder = scan([bytes('$11\r\n')], 10);
    expect(recorder.errors).toHaveLength(1);
    expect(recorder.errors[0]).toContain('bad bulk length');
  });

  it('rejects nesting deeper than 128 levels', () => {
    const recorder = scan([bytes('*1\r\n'.repeat(129) + ':1\r\n')]);
    expect(recorder.frames).toEqual([]);
    expect(recorder.errors).toEqual(['Protocol error from node: nesting too deep']);
  });
});

describe('ReplyScanner.reset', () => {
  it('drops a partial frame, so the next connection starts clean', () => {
    const recorder = new Recorder();
    const scanner = new ReplyScanner(recorder);
    scanner.feed(bytes('*3\r\n:1\r\n$5\r\nhel'));
    scanner.reset();
    scanner.feed(bytes(':5\r\n'));
    expect(recorder.frames).toEqual([':5\r\n']);
  });

  it('drops a partial aggregate whose stack was deep', () => {
    const recorder = new Recorder();
    const scanner = new ReplyScanner(recorder);
    scanner.feed(bytes('*2\r\n*2\r\n%1\r\n+k\r\n'));
    scanner.reset();
    scanner.feed(bytes('*2\r\n:1\r\n:2\r\n+OK\r\n'));
    expect(recorder.frames).toEqual(['*2\r\n:1\r\n:2\r\n', '+OK\r\n']);
  });

  it('clears a protocol error', () => {
    const recorder = new Recorder();
    const scanner = new ReplyScanner(recorder);
    scanner.feed(bytes('?foo\r\n'));
    scanner.reset();
    scanner.feed(bytes('+OK\r\n'));
    expect(recorder.errors).toHaveLength(1);
    expect(recorder.frames).toEqual(['+OK\r\n']);
  });
});
