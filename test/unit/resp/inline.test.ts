import { describe, it, expect } from 'vitest';
import { splitInlineArgs } from '../../../src/resp/inline.js';
import { Prng } from '../support/prng.js';
import { bytes } from '../support/resp.js';

/** Splits a whole line; arguments as latin1 strings (one char per byte), null on error. */
function split(line: string | Buffer): string[] | null {
  const buf = typeof line === 'string' ? bytes(line) : line;
  const args = splitInlineArgs(buf, 0, buf.length);
  return args === null ? null : args.map((a) => a.toString('latin1'));
}

/**
 * A line-by-line transcription of Redis' sdssplitargs (src/sds.c) over a NUL-terminated byte
 * array, used as the reference. `isspace` is C's: space, \t, \n, \v, \f, \r.
 */
function sdssplitargs(line: Buffer): string[] | null {
  const s = Buffer.concat([line, Buffer.from([0])]);
  const isspace = (c: number) => c === 32 || (c >= 9 && c <= 13);
  const isHexDigit = (c: number) => /^[0-9a-fA-F]$/.test(String.fromCharCode(c));
  const hexDigitToInt = (c: number) => parseInt(String.fromCharCode(c), 16);
  const vector: string[] = [];
  let p = 0;
  while (true) {
    while (s[p] && isspace(s[p])) p++;
    if (!s[p]) return vector;
    let inq = false;
    let insq = false;
    let done = false;
    let current = '';
    while (!done) {
      if (inq) {
        if (s[p] === 0x5c && s[p + 1] === 0x78 && isHexDigit(s[p + 2]) && isHexDigit(s[p + 3])) {
          current += String.fromCharCode(hexDigitToInt(s[p + 2]) * 16 + hexDigitToInt(s[p + 3]));
          p += 3;
        } else if (s[p] === 0x5c && s[p + 1]) {
          p++;
          const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };
          const c = String.fromCharCode(s[p]);
          current += escapes[c] ?? c;
        } else if (s[p] === 0x22) {
          if (s[p + 1] && !isspace(s[p + 1])) return null;
          done = true;
        } else if (!s[p]) {
          return null;
        } else {
          current += String.fromCharCode(s[p]);
        }
      } else if (insq) {
        if (s[p] === 0x5c && s[p + 1] === 0x27) {
          p++;
          current += "'";
        } else if (s[p] === 0x27) {
          if (s[p + 1] && !isspace(s[p + 1])) return null;
          done = true;
        } else if (!s[p]) {
          return null;
        } else {
          current += String.fromCharCode(s[p]);
        }
      } else {
        switch (s[p]) {
          case 0x20:
          case 0x0a:
          case 0x0d:
          case 0x09:
          case 0x00:
            done = true;
            break;
          case 0x22:
            inq = true;
            break;
          case 0x27:
            insq = true;
            break;
          default:
            current += String.fromCharCode(s[p]);
        }
      }
      if (s[p]) p++;
    }
    vector.push(current);
  }
}

describe('splitInlineArgs', () => {
  it('returns no arguments for an empty or blank line', () => {
    expect(split('')).toEqual([]);
    expect(split('   ')).toEqual([]);
    expect(split(' \t \r ')).toEqual([]);
  });

  it('separates arguments by spaces and tabs, ignoring leading, trailing and repeated blanks', () => {
    expect(split('SET key value')).toEqual(['SET', 'key', 'value']);
    expect(split('  SET   key\t\tvalue  ')).toEqual(['SET', 'key', 'value']);
    expect(split('SET\tkey\tvalue')).toEqual(['SET', 'key', 'value']);
    expect(split('GET a\rb')).toEqual(['GET', 'a', 'b']);
  });

  it('keeps vertical tab and form feed inside an unquoted argument, as sdssplitargs does', () => {
    // Only space, \n, \r, \t (and NUL) end an unquoted token in sdssplitargs; \v and \f are
    // skipped as blanks between arguments but are ordinary bytes inside one.
    expect(split('SET k a\x0bb')).toEqual(['SET', 'k', 'a\x0bb']);
    expect(split('SET k a\x0cb')).toEqual(['SET', 'k', 'a\x0cb']);
    expect(split('\x0b\x0cGET k')).toEqual(['GET', 'k']);
    expect(split('"a"\x0bb')).toEqual(['a', 'b']);
  });

  it('joins a double-quoted argument with its spaces', () => {
    expect(split('SET "hello world" x')).toEqual(['SET', 'hello world', 'x']);
    expect(split('"" \'\'')).toEqual(['', '']);
    expect(split('"a"\t"b"')).toEqual(['a', 'b']);
  });

  it('understands \\xHH hex escapes (either case) in double quotes', () => {
    expect(split(String.raw`"\x41\x42\x7a"`)).toEqual(['ABz']);
    expect(split(String.raw`"\x4a\x4A\xff\x00"`)).toEqual(['JJ\xff\x00']);
  });

  it('treats \\x without two hex digits as an escaped x', () => {
    expect(split(String.raw`"\xZZ"`)).toEqual(['xZZ']);
    expect(split(String.raw`"\x4"`)).toEqual(['x4']);
  });

  it('understands \\n \\r \\t \\b \\a in double quotes and keeps any other escaped byte', () => {
    expect(split(String.raw`"a\nb\rc\td\be\af"`)).toEqual(['a\nb\rc\td\be\x07f']);
    expect(split(String.raw`"say \"hi\" \\ \z"`)).toEqual(['say "hi" \\ z']);
  });

  it("understands only \\' in single quotes", () => {
    expect(split(String.raw`'it\'s'`)).toEqual(["it's"]);
    expect(split(String.raw`'no \n escapes \x41'`)).toEqual([String.raw`no \n escapes \x41`]);
    expect(split(`'say "hi"'`)).toEqual(['say "hi"']);
  });

  it('lets quotes start in the middle of an argument', () => {
    expect(split('ab"cd" ef')).toEqual(['abcd', 'ef']);
    expect(split("ab'c d'")).toEqual(['abc d']);
  });

  it('rejects a closing quote followed by anything but a blank', () => {
    expect(split('"abc"def')).toBeNull();
    expect(split("'abc'def")).toBeNull();
    expect(split('a"b c"d')).toBeNull();
  });

  it('rejects unterminated quotes, including a trailing backslash', () => {
    expect(split('SET "foo bar')).toBeNull();
    expect(split("GET 'a")).toBeNull();
    expect(split('"ends with backslash\\')).toBeNull();
    expect(split(String.raw`'escaped quote\'`)).toBeNull();
  });

  it('keeps bytes 0x80..0xff as they are', () => {
    expect(splitInlineArgs(Buffer.from([0xff, 0x20, 0x80, 0xc3, 0xa9]), 0, 5)).toEqual([Buffer.from([0xff]), Buffer.from([0x80, 0xc3, 0xa9])]);
  });

  it('reads only buf[from, to)', () => {
    const buf = bytes('junk"SET k v\r\nmore"');
    expect(splitInlineArgs(buf, 5, 12)?.map(String)).toEqual(['SET', 'k', 'v']);
    // A closing quote beyond `to` does not count, nor do hex digits beyond it.
    const quoted = bytes('"abc" tail');
    expect(splitInlineArgs(quoted, 0, 4)).toBeNull();
    expect(splitInlineArgs(bytes(String.raw`"\x41"`), 0, 5)).toBeNull();
    expect(splitInlineArgs(bytes(String.raw`"\x41"`), 0, 6)?.map(String)).toEqual(['A']);
  });

  it('agrees with a transcription of sdssplitargs on 20,000 random lines', () => {
    const rng = new Prng(0x1d11e);
    // Bytes that matter to the splitter, weighted towards quotes, escapes and blanks (no NUL:
    // sdssplitargs stops at one because it works on C strings).
    const alphabet = [' ', ' ', '\t', '\r', '\x0b', '\x0c', '"', '"', "'", "'", '\\', '\\', 'x', 'x', 'n', 'a', 'F', '4', '1', 'z', '\xff', '\x01'];
    let errors = 0;
    for (let n = 0; n < 20_000; n++) {
      let line = '';
      const length = rng.int(0, 24);
      for (let i = 0; i < length; i++) line += rng.pick(alphabet);
      const expected = sdssplitargs(bytes(line));
      if (expected === null) errors++;
      expect(split(line), JSON.stringify(line)).toEqual(expected);
    }
    // Both outcomes were exercised.
    expect(errors).toBeGreaterThan(1000);
    expect(errors).toBeLessThan(19_000);
  });
});
