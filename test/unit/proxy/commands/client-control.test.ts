import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseKillFilter } from '../../../../src/proxy/commands/client-control.js';
import type { CommandInfo } from '../../../../src/proxy/commands/command-info.js';
import { CommandTable } from '../../../../src/proxy/commands/table.js';
import { Dispatcher } from '../../../../src/proxy/dispatcher.js';
import type { Request } from '../../../../src/proxy/request.js';
import type { Router } from '../../../../src/proxy/router.js';
import type { PrivateContext } from '../../../../src/proxy/private/private-context.js';
import type { Session } from '../../../../src/proxy/session.js';
import { RequestScanner } from '../../../../src/resp/request-scanner.js';
import { encodeCommand } from '../../../../src/resp/encode.js';

const args = (...words: string[]): Buffer[] => ['CLIENT', 'KILL', ...words].map((w) => Buffer.from(w));
const text = (reply: unknown): string => (Buffer.isBuffer(reply) ? reply.toString() : JSON.stringify(reply));

describe('parseKillFilter (Redis 7.0 CLIENT KILL)', () => {
  it('reads the old form: one address, and the caller may be killed', () => {
    expect(parseKillFilter(args('127.0.0.1:5000'))).toEqual({ addr: '127.0.0.1:5000', skipMe: false, oldForm: true });
  });

  it('reads filters in any letter case; SKIPME defaults to yes', () => {
    expect(parseKillFilter(args('id', '7', 'ADDR', 'a:1', 'LAddr', 'b:2', 'user', 'default', 'TYPE', 'Slave'))).toEqual({
      id: 7,
      addr: 'a:1',
      laddr: 'b:2',
      type: 'replica',
      user: 'default',
      skipMe: true,
      oldForm: false,
    });
    expect(parseKillFilter(args('SKIPME', 'NO', 'ID', '1'))).toMatchObject({ skipMe: false, id: 1 });
    // Whether the user exists is the directory's to say (CLIENT KILL answers No such user).
    expect(parseKillFilter(args('USER', 'alice'))).toMatchObject({ user: 'alice' });
  });

  it("gives Redis' errors", () => {
    const cases: [string[], string][] = [
      [['ID', '0'], '-ERR client-id should be greater than 0\r\n'],
      [['ID', '-1'], '-ERR client-id should be greater than 0\r\n'],
      [['ID', 'abc'], '-ERR client-id should be greater than 0\r\n'],
      [['ID', '01'], '-ERR client-id should be greater than 0\r\n'],
      [['ID', '9223372036854775808'], '-ERR client-id should be greater than 0\r\n'],
      [['TYPE', 'bogus'], "-ERR Unknown client type 'bogus'\r\n"],
      [['SKIPME', 'maybe'], '-ERR syntax error\r\n'],
      [['BOGUS', '1'], '-ERR syntax error\r\n'],
      [['ID', '1', 'ID'], '-ERR syntax error\r\n'],
    ];
    for (const [words, error] of cases) expect(text(parseKillFilter(args(...words))), words.join(' ')).toBe(error);
  });
});

describe('CLIENT NO-TOUCH where the nodes have it (Redis 7.2+)', () => {
  it('is refused with the reason', () => {
    const file = JSON.parse(readFileSync(new URL('../../../../src/proxy/commands/fallback-commands.json', import.meta.url), 'utf8')) as {
      commands: CommandInfo[];
    };
    const noTouch: CommandInfo = { name: 'client|no-touch', arity: 3, flags: ['noscript', 'loading', 'stale'], firstKey: 0, lastKey: 0, keyStep: 0, keySpecs: [], subcommands: [] };
    const infos = file.commands.map((c) => (c.name === 'client' ? { ...c, subcommands: [...c.subcommands, noTouch] } : c));
    const table = new CommandTable(infos, 'Redis 7.0 and CLIENT NO-TOUCH');
    expect(table.get('client')?.subcommandNames?.get('no-touch')?.policy).toBe('deny');

    // Refused requests never reach the router.
    const dispatcher = new Dispatcher(table, null as unknown as Router, { crossSlot: 'split', adminCommands: true }, null as unknown as PrivateContext);
    const replies: string[] = [];
    const session = {
      id: 1,
      batch: 0,
      protocol: 2,
      authenticated: true,
      user: null,
      subscription: null,
      transaction: null,
      channel: null,
      enqueue: (r: Request) => replies.push(text(r.replyBuf)),
    } as unknown as Session;
    const scanner = new RequestScanner(
      {
        onRequest: (buf, start, end, argc, offsets) => dispatcher.dispatch(session, buf, start, end, argc, offsets),
        onProtocolError: (message) => replies.push(message),
        acceptsRequests: () => true,
      },
      { maxBulkLen: 1024, maxArgs: 16, maxBuffered: 4096 },
    );
    scanner.feed(encodeCommand(['client', 'NO-TOUCH', 'on']));
    expect(replies).toEqual([
      "-ERR slotgate: CLIENT NO-TOUCH is not allowed through the proxy: slotgate's clients share its node connections, which cannot honour one client's NO-TOUCH (it would apply to every client on them)\r\n",
    ]);
  });
});
