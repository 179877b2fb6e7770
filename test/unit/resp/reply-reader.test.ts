import { describe, it, expect } from 'vitest';
import {
  ReplyError,
  decodeReply,
  elementRanges,
  integerAt,
  isErrorReply,
  valueEnd,
  type Decoded,
} from '../../../src/resp/reply-reader.js';
import { allByteValues, bytes } from '../support/resp.js';

/**
 * A frame inside a bigger buffer, as replies are in a read chunk: valid RESP before it (so a
 * reader that starts at 0 finds something else) and after it (so a reader that counts one value
 * too many swallows it instead of failing).
 */
function embed(frame: string | Buffer): { buf: Buffer; start: number; end: number } {
  const prefix = bytes('+junk\r\n:7\r\n*1\r\n');
  const suffix = bytes(':99\r\n$2\r\nzz\r\n*3\r\n');
  const body = typeof frame === 'string' ? bytes(frame) : frame;
  return { buf: Buffer.concat([prefix, body, suffix]), start: prefix.length, end: prefix.length + body.length };
}

const bulk = (value: Buffer) => Buffer.concat([bytes(`$${value.length}\r\n`), value, bytes('\r\n')]).toString('latin1');

/** Whole reply frames, each exactly as a node sends it. */
const FRAMES: Record<string, string> = {
  'simple string': '+OK\r\n',
  'empty simple string': '+\r\n',
  error: "-ERR unknown command 'FOO'\r\n",
  integer: ':1000\r\n',
  'negative integer': ':-1\r\n',
  bulk: '$5\r\nhello\r\n',
  'empty bulk': '$0\r\n\r\n',
  'null bulk': '$-1\r\n',
  'bulk holding CRLF and RESP-looking bytes': '$12\r\n\r\n*1\r\n:1\r\n+x\r\n',
  'bulk of every byte value': bulk(allByteValues()),
  'bulk with a 5-digit length': bulk(Buffer.alloc(12345, 'b')),
  'null array': '*-1\r\n',
  'empty array': '*0\r\n',
  'flat array': '*3\r\n:1\r\n:2\r\n:3\r\n',
  'nested arrays with nulls': '*3\r\n:1\r\n$3\r\nfoo\r\n*2\r\n+a\r\n$-1\r\n',
  'array of empty and null arrays': '*3\r\n*0\r\n*-1\r\n*1\r\n*0\r\n',
  'deeply nested arrays': '*1\r\n*1\r\n*1\r\n*2\r\n*1\r\n:1\r\n:2\r\n',
  'RESP3 null': '_\r\n',
  'RESP3 double': ',3.14\r\n',
  'RESP3 boolean': '#t\r\n',
  'RESP3 big number': '(3492890328409238509324850943850943825024385\r\n',
  'RESP3 verbatim string': '=15\r\ntxt:Some string\r\n',
  'RESP3 blob error': '!21\r\nSYNTAX invalid syntax\r\n',
  'RESP3 map': '%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n',
  'RESP3 nested map': '%2\r\n+server\r\n%1\r\n+name\r\n$5\r\nredis\r\n+set\r\n~2\r\n:1\r\n:2\r\n',
  'RESP3 empty map': '%0\r\n',
  'RESP3 set': '~3\r\n+a\r\n+b\r\n+c\r\n',
  'RESP3 push': '>3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$5\r\nhello\r\n',
  'RESP3 attribute before a value': '|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n',
  'RESP3 attribute before an array element': '*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n',
};

describe('valueEnd', () => {
  it.each(Object.entries(FRAMES))('finds the end of a %s frame inside a bigger buffer', (_name, frame) => {
    const { buf, start, end } = embed(frame);
    expect(valueEnd(buf, start)).toBe(end);
  });

  it('walks a pipeline of every frame, one value at a time', () => {
    const frames = Object.values(FRAMES);
    const buf = bytes(frames.join(''));
    let pos = 0;
    for (const frame of frames) {
      const end = valueEnd(buf, pos);
      expect(buf.toString('latin1', pos, end)).toBe(frame);
      pos = end;
    }
    expect(pos).toBe(buf.length);
  });

  it('counts a map as key/value pairs and an attribute as pairs plus the value it describes', () => {
    // Without the pairs a %1 would end after its key; without the described value a |1 would
    // end before it.
    const { buf, start, end } = embed('%1\r\n+k\r\n+v\r\n');
    expect(valueEnd(buf, start)).toBe(end);
    const attr = embed('|1\r\n+k\r\n+v\r\n:5\r\n');
    expect(valueEnd(attr.buf, attr.start)).toBe(attr.end);
  });
});

describe('elementRanges', () => {
  /** The elements of the aggregate at the frame's offset, as latin1 strings. */
  function elements(frame: string): string[] | null {
    const { buf, start } = embed(frame);
    const ranges = elementRanges(buf, start);
    if (ranges === null) return null;
    expect(ranges.length % 2).toBe(0);
    const out: string[] = [];
    for (let i = 0; i < ranges.length; i += 2) out.push(buf.toString('latin1', ranges[i], ranges[i + 1]));
    return out;
  }

  it('gives each element of a flat array', () => {
    expect(elements('*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n')).toEqual([':1\r\n', '$3\r\nfoo\r\n', '+bar\r\n']);
  });

  it('gives nested arrays, null bulks and null arrays as whole elements', () => {
    expect(elements('*4\r\n*2\r\n+a\r\n$-1\r\n$-1\r\n*-1\r\n*0\r\n')).toEqual(['*2\r\n+a\r\n$-1\r\n', '$-1\r\n', '*-1\r\n', '*0\r\n']);
  });

  it('keeps bulk bodies that look like RESP inside their element', () => {
    expect(elements('*2\r\n$8\r\n*1\r\n:1\r\n\r\n:2\r\n')).toEqual(['$8\r\n*1\r\n:1\r\n\r\n', ':2\r\n']);
  });

  it('gives an empty list for an empty array', () => {
    const { buf, start } = embed('*0\r\n');
    const ranges = elementRanges(buf, start);
    expect(ranges).not.toBeNull();
    expect(ranges?.length).toBe(0);
  });

  it('reads a RESP3 set like an array', () => {
    expect(elements('~2\r\n+a\r\n+b\r\n')).toEqual(['+a\r\n', '+b\r\n']);
  });

  it('reads a RESP3 map as its keys and values, alternating', () => {
    expect(elements('%2\r\n$1\r\na\r\n:1\r\n+b\r\n%1\r\n+c\r\n_\r\n')).toEqual(['$1\r\na\r\n', ':1\r\n', '+b\r\n', '%1\r\n+c\r\n_\r\n']);
    expect(elements('%0\r\n')).toEqual([]);
  });

  it('keeps an attribute together with the element it describes', () => {
    expect(elements('*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n')).toEqual(['|1\r\n+ttl\r\n:3600\r\n:1\r\n', ':2\r\n']);
  });

  it.each([
    ['a null array', '*-1\r\n'],
    ['an error', '-ERR x\r\n'],
    ['a blob error', '!3\r\nERR\r\n'],
    ['a bulk string', '$1\r\n*\r\n'],
    ['an integer', ':3\r\n'],
    ['a simple string', '+*2\r\n'],
  ])('gives null for %s', (_name, frame) => {
    expect(elements(frame)).toBeNull();
  });

  it('reads the aggregate at the given offset, not the one before it', () => {
    // The prefix of embed() holds a *1 right before the frame.
    expect(elements('*2\r\n:1\r\n:2\r\n')).toEqual([':1\r\n', ':2\r\n']);
  });
});

describe('decodeReply', () => {
  const b = (s: string) => bytes(s);
  const CASES: [string, string, Decoded][] = [
    ['simple string', '+OK\r\n', 'OK'],
    ['empty simple string', '+\r\n', ''],
    ['simple string in UTF-8', '+h\xc3\xa9\r\n', 'hé'],
    ['error', '-ERR wrong type\r\n', new ReplyError('ERR wrong type')],
    ['integer', ':1000\r\n', 1000],
    ['zero', ':0\r\n', 0],
    ['negative integer', ':-42\r\n', -42],
    ['bulk', '$5\r\nhello\r\n', b('hello')],
    ['empty bulk', '$0\r\n\r\n', b('')],
    ['null bulk', '$-1\r\n', null],
    ['binary bulk holding CRLF', '$4\r\n\r\n\x00\xff\r\n', b('\r\n\x00\xff')],
    ['null array', '*-1\r\n', null],
    ['empty array', '*0\r\n', []],
    ['array', '*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n', [1, b('foo'), 'bar']],
    ['nested arrays with nulls', '*3\r\n*2\r\n$-1\r\n*-1\r\n*0\r\n$-1\r\n', [[null, null], [], null]],
    ['array holding an error', '*2\r\n+OK\r\n-ERR x\r\n', ['OK', new ReplyError('ERR x')]],
    ['RESP3 null', '_\r\n', null],
    ['RESP3 true', '#t\r\n', true],
    ['RESP3 false', '#f\r\n', false],
    ['RESP3 double', ',3.14\r\n', 3.14],
    ['RESP3 double with exponent', ',1.5e3\r\n', 1500],
    ['RESP3 negative double', ',-0.5\r\n', -0.5],
    ['RESP3 big number (kept as text)', '(3492890328409238509324850943850943825024385\r\n', '3492890328409238509324850943850943825024385'],
    ['RESP3 verbatim string (format prefix dropped)', '=15\r\ntxt:Some string\r\n', b('Some string')],
    ['RESP3 empty verbatim string', '=4\r\ntxt:\r\n', b('')],
    ['RESP3 blob error', '!21\r\nSYNTAX invalid syntax\r\n', new ReplyError('SYNTAX invalid syntax')],
    ['RESP3 map (flattened to pairs)', '%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n_\r\n', ['first', 1, b('second'), null]],
    ['RESP3 empty map', '%0\r\n', []],
    ['RESP3 set', '~3\r\n+a\r\n:2\r\n#f\r\n', ['a', 2, false]],
    ['RESP3 push', '>3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$5\r\nhello\r\n', [b('message'), b('ch1'), b('hello')]],
    ['RESP3 nested map and set', '%1\r\n+k\r\n~2\r\n%1\r\n+a\r\n:1\r\n*0\r\n', ['k', [['a', 1], []]]],
    ['RESP3 attribute before a value (value kept)', '|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2039123\r\n:9543892\r\n', [2039123, 9543892]],
    ['RESP3 attribute before an array element', '*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n', [1, 2]],
    ['RESP3 attribute before a simple string', '|1\r\n+a\r\n+b\r\n+OK\r\n', 'OK'],
  ];

  it.each(CASES)('decodes a %s', (_name, frame, expected) => {
    const { buf, start } = embed(frame);
    expect(decodeReply(buf, start)).toStrictEqual(expected);
  });

  it('decodes at offset 0 by default', () => {
    expect(decodeReply(bytes('*2\r\n:1\r\n:2\r\n+trailing\r\n'))).toStrictEqual([1, 2]);
  });

  it('keeps a bulk binary-safe: every byte value survives', () => {
    const { buf, start } = embed(bulk(allByteValues()));
    expect(decodeReply(buf, start)).toStrictEqual(allByteValues());
  });

  it('decodes a reply whose bulk has a multi-digit length', () => {
    const value = Buffer.alloc(12345, 'q');
    const { buf, start } = embed(`*2\r\n${bulk(value)}:1\r\n`);
    expect(decodeReply(buf, start)).toStrictEqual([value, 1]);
  });

  // RESP3 doubles may be "inf" / "-inf" (RESP3 spec, "Double type"); Number('inf') is NaN.
  it('decodes the RESP3 double ",inf" as Infinity', () => {
    const { buf, start } = embed(',inf\r\n');
    expect(decodeReply(buf, start)).toBe(Infinity);
  });

  it('decodes the RESP3 double ",-inf" as -Infinity', () => {
    const { buf, start } = embed(',-inf\r\n');
    expect(decodeReply(buf, start)).toBe(-Infinity);
  });

  it('decodes a RESP3 ",nan" double as NaN', () => {
    const { buf, start } = embed(',nan\r\n');
    expect(decodeReply(buf, start)).toBeNaN();
  });
});

describe('isErrorReply', () => {
  it.each([
    ['-ERR x\r\n', true],
    ['-MOVED 3999 127.0.0.1:6381\r\n', true],
    ['!3\r\nERR\r\n', true],
    ['+OK\r\n', false],
    ['$4\r\n-ERR\r\n', false],
    [':-1\r\n', false],
    ['*1\r\n-ERR x\r\n', false],
    ['_\r\n', false],
  ])('%j -> %s', (frame, expected) => {
    const { buf, start } = embed(frame);
    expect(isErrorReply(buf, start)).toBe(expected);
  });
});

describe('integerAt', () => {
  it.each([
    [':0\r\n', 0],
    [':1000\r\n', 1000],
    [':-1\r\n', -1],
    [':2147483648\r\n', 2147483648],
    [':9007199254740991\r\n', 9007199254740991],
  ])('reads %j as %d', (frame, expected) => {
    const { buf, start } = embed(frame);
    expect(integerAt(buf, start)).toBe(expected);
  });

  it.each([['+1\r\n'], ['$1\r\n1\r\n'], ['-1\r\n'], [',1\r\n'], ['*1\r\n:1\r\n'], ['_\r\n']])('gives NaN for the non-integer %j', (frame) => {
    const { buf, start } = embed(frame);
    expect(integerAt(buf, start)).toBeNaN();
  });

  it('reads the integer at the offset, not the one before it', () => {
    // embed() puts :7 in the prefix.
    const { buf, start } = embed(':8\r\n');
    expect(integerAt(buf, start)).toBe(8);
  });
});
