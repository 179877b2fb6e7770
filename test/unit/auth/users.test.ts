import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AclUser, UserDirectory, checkUserConfig } from '../../../src/auth/users.js';
import { fallbackCommandTable } from '../../../src/proxy/commands/table.js';
import { encodeCommand } from '../../../src/resp/encode.js';
import { RequestScanner } from '../../../src/resp/request-scanner.js';

const table = fallbackCommandTable();

/** Runs `user.check` on a request as the dispatcher does (spec looked up, subcommand too). */
function check(user: AclUser, ...words: string[]): string | null {
  let result: string | null = 'not scanned';
  const scanner = new RequestScanner(
    {
      onRequest: (buf, _start, _end, argc, args) => {
        let spec = table.lookup(buf, args[0], args[1])!;
        if (spec.subcommands !== null && argc >= 2) spec = spec.subcommands.find(buf, args[2], args[3]) ?? spec;
        const denied = user.check(table, spec, buf, argc, args);
        result = denied === null ? null : denied.toString().trim();
      },
      onProtocolError: () => {},
      acceptsRequests: () => true,
    },
    { maxBulkLen: 1 << 20, maxArgs: 1024, maxBuffered: 1 << 20 },
  );
  scanner.feed(encodeCommand(words));
  return result;
}

describe('ACL users', () => {
  it('applies command rules in order, by category, command and subcommand', () => {
    const reader = new AclUser({ name: 'r', commands: '+@read -hgetall +client|info' });
    expect(check(reader, 'GET', 'k')).toBeNull();
    expect(check(reader, 'SET', 'k', 'v')).toBe("-NOPERM this user has no permissions to run the 'set' command");
    expect(check(reader, 'HGETALL', 'h')).toBe("-NOPERM this user has no permissions to run the 'hgetall' command");
    expect(check(reader, 'CLIENT', 'INFO')).toBeNull();
    expect(check(reader, 'CLIENT', 'LIST')).toBe("-NOPERM this user has no permissions to run the 'client|list' command");
    const most = new AclUser({ name: 'm', commands: 'allcommands -@dangerous +config|get' });
    expect(check(most, 'FLUSHALL')).toMatch(/'flushall'/);
    expect(check(most, 'CONFIG', 'GET', 'x')).toBeNull();
    expect(check(most, 'CONFIG', 'SET', 'x', 'y')).toMatch(/'config\|set'/);
    expect(check(most, 'PROXY', 'INFO')).toMatch(/'proxy'/); // slotgate's own command counts as @dangerous
    const none = new AclUser({ name: 'n', commands: 'allcommands nocommands +ping' });
    expect(check(none, 'PING')).toBeNull();
    expect(check(none, 'GET', 'k')).toMatch(/'get'/);
    // A container rule covers its subcommands.
    expect(check(new AclUser({ name: 'c', commands: '+client' }), 'CLIENT', 'LIST')).toBeNull();
  });

  it('checks every key against the patterns, with Redis glob rules', () => {
    const user = new AclUser({ name: 'k', keys: '~cache:* ~{u1}?' });
    expect(check(user, 'GET', 'cache:x')).toBeNull();
    expect(check(user, 'MSET', 'cache:a', '1', '{u1}b', '2')).toBeNull();
    const noKey = '-NOPERM this user has no permissions to access one of the keys used as arguments';
    expect(check(user, 'MGET', 'cache:a', 'other')).toBe(noKey);
    expect(check(user, 'GET', '{u1}bb')).toBe(noKey);
    // Keys found through key specs (EVAL's numkeys), arguments that are not keys ignored.
    expect(check(user, 'EVAL', 'return 1', '1', 'cache:a', 'not-a-key')).toBeNull();
    expect(check(user, 'EVAL', 'return 1', '1', 'nope')).toBe(noKey);
    expect(check(new AclUser({ name: 'all', keys: '~x resetkeys allkeys' }), 'GET', 'anything')).toBeNull();
  });

  it('is unrestricted only with every command and every key', () => {
    expect(new AclUser({ name: 'a' }).unrestricted).toBe(true);
    expect(new AclUser({ name: 'b', commands: '+@all', keys: '~*' }).unrestricted).toBe(true);
    expect(new AclUser({ name: 'c', keys: '~x:*' }).unrestricted).toBe(false);
    expect(new AclUser({ name: 'd', commands: 'allcommands -flushall' }).unrestricted).toBe(false);
  });

  it('checks passwords given in clear or as SHA-256; nopass takes any; disabled users never log in', () => {
    const sha = createHash('sha256').update('s3cret').digest('hex');
    const users = new UserDirectory(
      [
        { name: 'a', password: 'pw' },
        { name: 'b', sha256: sha },
        { name: 'c' },
        { name: 'd', password: 'pw', enabled: false },
      ],
      'top',
    );
    expect(users.authenticate('a', Buffer.from('pw'))?.name).toBe('a');
    expect(users.authenticate('a', Buffer.from('pw '))).toBeNull();
    expect(users.authenticate('b', Buffer.from('s3cret'))?.name).toBe('b');
    expect(users.authenticate('b', Buffer.from(sha))).toBeNull();
    expect(users.authenticate('c', Buffer.from('anything'))?.name).toBe('c');
    expect(users.authenticate('d', Buffer.from('pw'))).toBeNull();
    expect(users.authenticate('nobody', Buffer.from('pw'))).toBeNull();
    expect(users.authenticate('default', Buffer.from('top'))?.name).toBe('default');
    expect(users.initialUser).toBeNull(); // requirepass: AUTH first
    expect(new UserDirectory([], undefined).initialUser?.name).toBe('default');
    // A configured default user replaces requirepass's.
    const restricted = new UserDirectory([{ name: 'default', commands: '+@read' }], undefined);
    expect(restricted.initialUser?.unrestricted).toBe(false);
  });

  it('explains bad user entries', () => {
    expect(checkUserConfig({ name: 'ok', commands: '+@read -set', keys: '~a:*' })).toBeUndefined();
    expect(checkUserConfig({ name: 'bad name' })).toMatch(/bad user name/);
    expect(checkUserConfig({ name: 'x', commands: 'read' })).toMatch(/bad command rule 'read'/);
    expect(checkUserConfig({ name: 'x', keys: 'cache:*' })).toMatch(/bad key rule/);
    expect(checkUserConfig({ name: 'x', sha256: 'abc' })).toMatch(/64 hex digits/);
    expect(checkUserConfig({ name: 'x', password: 'a', sha256: 'a'.repeat(64) })).toMatch(/not both/);
  });
});
