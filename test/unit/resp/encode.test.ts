import { describe, expect, it } from 'vitest';
import { MapReply, VerbatimReply, encodeReply, nullReply, type ReplyValue } from '../../../src/resp/encode.js';

const text = (b: Buffer) => b.toString('latin1');

// Expected bytes are written out by hand from the RESP2/RESP3 specs and checked against what a
// Redis 7.0 server sends (HELLO, CLIENT INFO, CLUSTER SHARDS, GET of a missing key).
describe('encodeReply', () => {
  const cases: [string, ReplyValue, string, string][] = [
    ['null', null, '$-1\r\n', '_\r\n'],
    ['integer', -42, ':-42\r\n', ':-42\r\n'],
    ['bulk string', 'a b', '$3\r\na b\r\n', '$3\r\na b\r\n'],
    ['binary bulk', Buffer.from([0, 13, 10, 255]), '$4\r\n\x00\r\n\xff\r\n', '$4\r\n\x00\r\n\xff\r\n'],
    ['empty array', [], '*0\r\n', '*0\r\n'],
    ['array with a null', ['a', null, 1], '*3\r\n$1\r\na\r\n$-1\r\n:1\r\n', '*3\r\n$1\r\na\r\n_\r\n:1\r\n'],
    ['map', new MapReply(['k', 1, 'n', null]), '*4\r\n$1\r\nk\r\n:1\r\n$1\r\nn\r\n$-1\r\n', '%2\r\n$1\r\nk\r\n:1\r\n$1\r\nn\r\n_\r\n'],
    ['empty map', new MapReply([]), '*0\r\n', '%0\r\n'],
    ['verbatim text', new VerbatimReply('id=1 name=\n'), '$11\r\nid=1 name=\n\r\n', '=15\r\ntxt:id=1 name=\n\r\n'],
    ['empty verbatim text', new VerbatimReply(''), '$0\r\n\r\n', '=4\r\ntxt:\r\n'],
    ['multi-byte verbatim text (length in bytes)', new VerbatimReply('é'), '$2\r\n\xc3\xa9\r\n', '=6\r\ntxt:\xc3\xa9\r\n'],
    [
      'maps in arrays in maps (CLUSTER SHARDS)',
      [new MapReply(['slots', [0, 16383], 'nodes', [new MapReply(['id', 'x', 'port', 7])]])],
      '*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n*4\r\n$2\r\nid\r\n$1\r\nx\r\n$4\r\nport\r\n:7\r\n',
      '*1\r\n%2\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n%2\r\n$2\r\nid\r\n$1\r\nx\r\n$4\r\nport\r\n:7\r\n',
    ],
    ['verbatim inside an array', [new VerbatimReply('a')], '*1\r\n$1\r\na\r\n', '*1\r\n=5\r\ntxt:a\r\n'],
  ];
  it.each(cases)('%s in RESP2 and RESP3', (_name, value, resp2, resp3) => {
    expect(text(encodeReply(value, 2))).toBe(resp2);
    expect(text(encodeReply(value, 3))).toBe(resp3);
  });

  it('encodes the HELLO 3 map byte for byte as Redis 7.0.15 does', () => {
    const hello = new MapReply(['server', 'redis', 'version', '7.0.15', 'proto', 3, 'id', 3, 'mode', 'standalone', 'role', 'master', 'modules', []]);
    expect(text(encodeReply(hello, 3))).toBe(
      '%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:3\r\n' +
        '$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n',
    );
  });
});

describe('nullReply', () => {
  it('is $-1 in RESP2 and _ in RESP3', () => {
    expect(text(nullReply(2))).toBe('$-1\r\n');
    expect(text(nullReply(3))).toBe('_\r\n');
  });
});
