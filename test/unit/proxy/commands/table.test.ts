import { describe, it, expect } from 'vitest';
import { fallbackCommandTable } from '../../../../src/proxy/commands/table.js';
import { bytes } from '../../support/resp.js';

const table = fallbackCommandTable();

/** Looks a name up as the dispatcher does: in place, inside a larger buffer. */
function lookup(name: string) {
  const buf = bytes(`*1\r\n$${name.length}\r\n${name}\r\n`);
  const start = buf.indexOf(name, 4, 'latin1');
  return table.lookup(buf, start, start + name.length);
}

describe('CommandTable (fallback, Redis 7.0)', () => {
  it('says where it came from and holds the Redis 7.0 commands', () => {
    expect(table.source).toMatch(/^fallback \(Redis 7\.0/);
    expect(table.size).toBeGreaterThan(200);
  });

  it('looks names up in any letter case', () => {
    const get = lookup('get');
    expect(get?.name).toBe('get');
    expect(lookup('GET')).toBe(get);
    expect(lookup('GeT')).toBe(get);
    expect(table.get('GET')).toBe(get);
    expect(table.get('gEt')).toBe(get);
  });

  it('reads only the bytes of the name', () => {
    const buf = bytes('xxGETyy');
    expect(table.lookup(buf, 2, 5)?.name).toBe('get');
    expect(table.lookup(buf, 2, 4)).toBeUndefined();
  });

  it('returns undefined for an unknown command', () => {
    expect(lookup('NOSUCHCOMMAND')).toBeUndefined();
    expect(table.get('nosuchcommand')).toBeUndefined();
    expect(lookup('')).toBeUndefined();
  });

  it('keeps arity and key layout from COMMAND', () => {
    expect(table.get('get')).toMatchObject({ arity: 2, fixed: true, firstKey: 1, lastKey: 1, keyStep: 1 });
    expect(table.get('mset')).toMatchObject({ arity: -3, fixed: true, firstKey: 1, lastKey: -1, keyStep: 2 });
    expect(table.get('eval')?.fixed).toBe(false);
  });

  it('answers PING, ECHO, AUTH, HELLO itself', () => {
    for (const name of ['ping', 'echo', 'auth', 'hello', 'quit', 'select']) {
      const spec = table.get(name);
      expect(spec?.policy, name).toBe('local');
      expect(typeof spec?.handler, name).toBe('function');
    }
  });

  it('forwards ordinary commands', () => {
    for (const name of ['get', 'set', 'eval', 'spublish', 'zunionstore', 'msetnx', 'rename']) {
      expect(table.get(name)?.policy, name).toBe('forward');
      expect(table.get(name)?.handler, name).toBeNull();
    }
  });

  it('remembers the scripts of EVAL and EVAL_RO only', () => {
    for (const name of ['eval', 'eval_ro']) expect(table.get(name)?.remembersScript, name).toBe(true);
    for (const name of ['evalsha', 'fcall', 'get']) expect(table.get(name)?.remembersScript, name).toBe(false);
  });

  it('splits MGET, MSET, DEL, UNLINK, EXISTS and TOUCH per slot with their merges', () => {
    const merges: Record<string, string> = { mget: 'ordered-array', mset: 'all-ok', del: 'sum', unlink: 'sum', exists: 'sum', touch: 'sum' };
    for (const [name, merge] of Object.entries(merges)) expect(table.get(name), name).toMatchObject({ policy: 'split', merge });
  });

  it('answers whole-keyspace commands from every master', () => {
    for (const name of ['dbsize', 'keys', 'scan', 'randomkey', 'flushall', 'flushdb', 'info', 'lastsave']) {
      const spec = table.get(name);
      expect(spec?.policy, name).toBe('cluster');
      expect(typeof spec?.cluster, name).toBe('function');
    }
    const script = table.get('script')?.subcommandNames;
    for (const sub of ['load', 'flush', 'kill', 'exists']) expect(script?.get(sub)?.policy, sub).toBe('cluster');
  });

  it('emulates a one-node cluster and refuses to change the real one', () => {
    const cluster = table.get('cluster')?.subcommandNames;
    for (const sub of ['info', 'slots', 'shards', 'nodes', 'myid', 'keyslot']) expect(cluster?.get(sub)?.policy, sub).toBe('local');
    for (const sub of ['countkeysinslot', 'getkeysinslot']) expect(cluster?.get(sub)?.policy, sub).toBe('cluster');
    for (const sub of ['addslots', 'setslot', 'failover', 'reset', 'forget', 'meet']) expect(cluster?.get(sub)?.policy, sub).toBe('deny');
  });

  it('lets administrative commands through only as admin', () => {
    expect(table.get('config')?.subcommandNames?.get('set')?.policy).toBe('admin');
    expect(table.get('config')?.subcommandNames?.get('get')?.policy).toBe('forward');
    for (const name of ['bgsave', 'save', 'debug']) expect(table.get(name)?.policy, name).toBe('admin');
    expect(table.get('acl')?.subcommandNames?.get('setuser')?.policy).toBe('admin');
  });

  it('runs transactions and pub/sub on dedicated links, each step named', () => {
    for (const name of ['multi', 'exec', 'discard', 'watch', 'unwatch'] as const) {
      expect(table.get(name)).toMatchObject({ policy: 'transaction', transaction: name });
    }
    for (const name of ['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe'] as const) {
      expect(table.get(name)).toMatchObject({ policy: 'pubsub', pubsub: name });
    }
    expect(table.get('publish')).toMatchObject({ policy: 'forward', fixedSlot: 0 });
    expect(table.get('get')?.fixedSlot).toBe(-1);
    expect(table.get('wait')?.policy).toBe('private');
  });

  it('lets only PING, QUIT and RESET (and the subscription commands) through in subscribed mode', () => {
    expect(table.get('ping')?.inSubscription).toBe('node');
    expect(table.get('quit')?.inSubscription).toBe('local');
    expect(table.get('reset')?.inSubscription).toBe('local');
    expect(table.get('get')?.inSubscription).toBeNull();
    expect(table.get('ping')?.nodeToo).toBe(true);
    expect(table.get('echo')?.nodeToo).toBe(true);
    expect(table.get('hello')?.nodeToo).toBe(false);
  });

  it('gives commands Redis flags blocking a dedicated link each', () => {
    for (const name of ['blpop', 'brpop', 'blmove', 'blmpop', 'bzpopmin', 'brpoplpush']) {
      expect(table.get(name)?.policy, name).toBe('blocking');
    }
  });

  it('forwards XREAD and XREADGROUP unless they carry BLOCK', () => {
    for (const name of ['xread', 'xreadgroup']) {
      expect(table.get(name)?.policy, name).toBe('forward');
      expect(table.get(name)?.blockingWithKeyword, name).toBe('block');
    }
    expect(table.get('get')?.blockingWithKeyword).toBeNull();
  });

  it('denies commands that act on the node or its connection', () => {
    for (const name of ['monitor', 'sync', 'psync', 'shutdown', 'replicaof', 'module', 'migrate']) expect(table.get(name)?.policy, name).toBe('deny');
  });

  it('gives subcommands their own policies', () => {
    const client = table.get('client')?.subcommandNames;
    expect(client?.get('setname')?.policy).toBe('local');
    expect(client?.get('kill')?.policy).toBe('admin');
    // Asynchronous (the other workers are asked through the primary with threads > 1).
    expect(typeof client?.get('kill')?.cluster).toBe('function');
    expect(client?.get('tracking')?.policy).toBe('private');
    expect(client?.get('list')?.policy).toBe('cluster');
    expect(client?.get('no-evict')?.policy).toBe('local');
    expect(client?.get('no-touch')).toBeUndefined(); // Redis 7.2+
    expect(table.get('object')?.subcommandNames?.get('encoding')).toMatchObject({ name: 'object|encoding', firstKey: 2 });
    expect(table.get('get')?.subcommands).toBeNull();
  });

  it('allows AUTH, HELLO and QUIT before authentication, not GET', () => {
    expect(table.get('auth')?.noAuth).toBe(true);
    expect(table.get('hello')?.noAuth).toBe(true);
    expect(table.get('quit')?.noAuth).toBe(true);
    expect(table.get('get')?.noAuth).toBe(false);
  });

  it("adds slotgate's own PROXY command", () => {
    expect(table.get('proxy')).toMatchObject({ name: 'proxy', arity: -2, policy: 'cluster' });
    expect(lookup('PROXY')?.name).toBe('proxy');
  });
});
