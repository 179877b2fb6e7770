import { createRequire } from 'node:module';
import { describe, it, expect } from 'vitest';
import { slotOf } from '../../../../src/cluster/key-slot.js';
import { CROSS_SLOT, NO_KEYS, findSlot, forEachKey, type KeyLayout } from '../../../../src/proxy/commands/key-finder.js';
import type { CommandInfo } from '../../../../src/proxy/commands/command-info.js';
import { fallbackCommandTable, type CommandSpec } from '../../../../src/proxy/commands/table.js';
import { requestView, type Arg } from '../../support/resp.js';

const table = fallbackCommandTable();

/** The committed table's raw entries, to iterate over every command. */
function fallbackCommands(): CommandInfo[] {
  const require = createRequire(import.meta.url);
  return (require('../../../../src/proxy/commands/fallback-commands.json') as { commands: CommandInfo[] }).commands;
}

function command(name: string): CommandSpec {
  const spec = table.get(name);
  if (spec === undefined) throw new Error(`no command ${name} in the fallback table`);
  return spec;
}

function subcommand(container: string, sub: string): CommandSpec {
  const spec = command(container).subcommandNames?.get(sub);
  if (spec === undefined) throw new Error(`no subcommand ${container}|${sub}`);
  return spec;
}

/** The slot findSlot gives for a request, with the layout of its command (args[0]). */
function slotFor(layout: KeyLayout, ...parts: Arg[]): number {
  const { buf, argc, args } = requestView(...parts);
  return findSlot(layout, buf, argc, args);
}

/** The argument indexes forEachKey visits. */
function keyIndexes(layout: KeyLayout, ...parts: Arg[]): number[] {
  const { buf, argc, args } = requestView(...parts);
  const seen: number[] = [];
  forEachKey(layout, buf, argc, args, (i) => seen.push(i));
  return seen;
}

// Keys known to hash to different slots (checked below), and keys sharing a hash tag.
const A = 'a';
const B = 'b';

describe('findSlot / forEachKey with the fallback command table', () => {
  it('uses keys that really hash to different slots', () => {
    expect(slotOf(A)).not.toBe(slotOf(B));
    expect(slotOf('{t}x')).toBe(slotOf('{t}y'));
  });

  it('GET k routes by k', () => {
    expect(slotFor(command('get'), 'GET', 'user:1')).toBe(slotOf('user:1'));
    expect(slotFor(command('get'), 'GET', '{user1000}.following')).toBe(slotOf('user1000'));
    expect(keyIndexes(command('get'), 'GET', 'k')).toEqual([1]);
  });

  it('MSET with keys sharing a hash tag gives their slot; values never count', () => {
    const mset = command('mset');
    expect(slotFor(mset, 'MSET', '{t}a', A, '{t}b', B)).toBe(slotOf('t'));
    expect(keyIndexes(mset, 'MSET', 'k1', 'v1', 'k2', 'v2', 'k3', 'v3')).toEqual([1, 3, 5]);
  });

  it('MSET with keys in different slots is CROSS_SLOT', () => {
    expect(slotFor(command('mset'), 'MSET', A, '1', B, '2')).toBe(CROSS_SLOT);
  });

  it('MGET and DEL check every key', () => {
    expect(slotFor(command('mget'), 'MGET', '{x}1', '{x}2', '{x}3')).toBe(slotOf('x'));
    expect(slotFor(command('mget'), 'MGET', A)).toBe(slotOf(A));
    expect(slotFor(command('mget'), 'MGET', A, A, B)).toBe(CROSS_SLOT);
    expect(slotFor(command('del'), 'DEL', '{x}1', '{x}2')).toBe(slotOf('x'));
    expect(slotFor(command('del'), 'DEL', '{x}1', B)).toBe(CROSS_SLOT);
    expect(keyIndexes(command('del'), 'DEL', 'a', 'b', 'c')).toEqual([1, 2, 3]);
  });

  it('BLPOP keys stop before the timeout', () => {
    expect(keyIndexes(command('blpop'), 'BLPOP', 'l1', 'l2', '0')).toEqual([1, 2]);
  });

  it('EVAL reads numkeys: keys after it, script arguments never count', () => {
    const evalSpec = command('eval');
    expect(evalSpec.fixed).toBe(false);
    expect(keyIndexes(evalSpec, 'EVAL', 'return 1', '2', 'k1', 'k2', 'arg1', 'arg2')).toEqual([3, 4]);
    expect(slotFor(evalSpec, 'EVAL', 'return 1', '2', '{s}k1', '{s}k2', A, B)).toBe(slotOf('s'));
    expect(slotFor(evalSpec, 'EVAL', 'return 1', '2', A, B)).toBe(CROSS_SLOT);
    expect(slotFor(evalSpec, 'EVAL', 'return 1', '1', A, B)).toBe(slotOf(A));
  });

  it('EVAL with numkeys 0 names no key', () => {
    expect(slotFor(command('eval'), 'EVAL', 'return 1', '0', A, B)).toBe(NO_KEYS);
    expect(keyIndexes(command('eval'), 'EVAL', 'return 1', '0')).toEqual([]);
  });

  it('XREAD finds STREAMS (any case) and takes half of the rest as keys', () => {
    const xread = command('xread');
    expect(keyIndexes(xread, 'XREAD', 'COUNT', '1', 'STREAMS', 's1', 's2', '0', '0')).toEqual([4, 5]);
    expect(keyIndexes(xread, 'XREAD', 'streams', 's', '$')).toEqual([2]);
    expect(keyIndexes(xread, 'XREAD', 'BLOCK', '0', 'StReAmS', 'a', 'b', 'c', '1', '2', '3')).toEqual([4, 5, 6]);
    expect(slotFor(xread, 'XREAD', 'COUNT', '1', 'STREAMS', '{q}s1', '{q}s2', '0', '0')).toBe(slotOf('q'));
    expect(slotFor(xread, 'XREAD', 'COUNT', '1', 'STREAMS', A, B, '0', '0')).toBe(CROSS_SLOT);
  });

  it('XREAD takes the first STREAMS, even when a key is called "streams"', () => {
    expect(keyIndexes(command('xread'), 'XREAD', 'STREAMS', 'streams', '0')).toEqual([2]);
  });

  it('XREADGROUP searches STREAMS from after GROUP g c', () => {
    expect(keyIndexes(command('xreadgroup'), 'XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>')).toEqual([5]);
  });

  it('ZUNIONSTORE: the destination and numkeys source keys', () => {
    const z = command('zunionstore');
    expect(keyIndexes(z, 'ZUNIONSTORE', 'dest', '2', 'a', 'b', 'WEIGHTS', '1', '2')).toEqual([1, 3, 4]);
    expect(slotFor(z, 'ZUNIONSTORE', '{z}dest', '2', '{z}a', '{z}b')).toBe(slotOf('z'));
    expect(slotFor(z, 'ZUNIONSTORE', '{z}dest', '2', '{z}a', B)).toBe(CROSS_SLOT);
  });

  it('BLMPOP: numkeys keys after the timeout', () => {
    const blmpop = command('blmpop');
    expect(keyIndexes(blmpop, 'BLMPOP', '0', '2', 'l1', 'l2', 'LEFT', 'COUNT', '3')).toEqual([3, 4]);
    expect(slotFor(blmpop, 'BLMPOP', '0', '1', 'l1', 'LEFT')).toBe(slotOf('l1'));
  });

  it('OBJECT ENCODING key routes by key (subcommand layout)', () => {
    const encoding = subcommand('object', 'encoding');
    expect(encoding.name).toBe('object|encoding');
    expect(slotFor(encoding, 'OBJECT', 'ENCODING', 'mykey')).toBe(slotOf('mykey'));
    expect(keyIndexes(encoding, 'OBJECT', 'ENCODING', 'mykey')).toEqual([2]);
  });

  it('PING names no key', () => {
    expect(slotFor(command('ping'), 'PING')).toBe(NO_KEYS);
    expect(slotFor(command('ping'), 'PING', 'hello')).toBe(NO_KEYS);
  });

  it('SPUBLISH routes by its shard channel', () => {
    expect(slotFor(command('spublish'), 'SPUBLISH', 'channel', 'msg')).toBe(slotOf('channel'));
  });

  it('too few arguments never throw: they route by the keys present, or none', () => {
    expect(slotFor(command('get'), 'GET')).toBe(NO_KEYS);
    expect(slotFor(command('mset'), 'MSET', A)).toBe(slotOf(A));
    expect(slotFor(command('eval'), 'EVAL', 'return 1')).toBe(NO_KEYS);
    expect(slotFor(command('eval'), 'EVAL', 'return 1', 'two', A)).toBe(NO_KEYS);
    expect(slotFor(command('eval'), 'EVAL', 'return 1', '5', A)).toBe(slotOf(A));
    expect(slotFor(command('xread'), 'XREAD', 'COUNT', '1', 'STREAMS')).toBe(NO_KEYS);
    expect(slotFor(command('xread'), 'XREAD', 'COUNT', '1')).toBe(NO_KEYS);
    expect(slotFor(command('zunionstore'), 'ZUNIONSTORE', 'dest')).toBe(slotOf('dest'));
    expect(slotFor(command('blmpop'), 'BLMPOP', '0')).toBe(NO_KEYS);
    expect(slotFor(subcommand('object', 'encoding'), 'OBJECT', 'ENCODING')).toBe(NO_KEYS);
  });

  it('for every fixed-layout command, first/last/step and the key specs find the same keys', () => {
    // The fast path (first/last/step) must agree with Redis' own key specs wherever it is used.
    const specs: CommandSpec[] = [];
    for (const info of fallbackCommands()) {
      const spec = command(info.name);
      specs.push(spec, ...(spec.subcommandNames?.values() ?? []));
    }
    let compared = 0;
    for (const spec of specs) {
      if (!spec.fixed || spec.keySpecs.length === 0) continue;
      const bySpecs: KeyLayout = { ...spec, fixed: false };
      const minArgs = Math.abs(spec.arity);
      for (let argc = minArgs; argc <= minArgs + 5; argc++) {
        if (spec.arity > 0 && argc !== spec.arity) continue;
        const parts = [...spec.name.split('|'), ...Array.from({ length: argc }, (_, i) => `arg${i}`)].slice(0, argc);
        expect(keyIndexes(bySpecs, ...parts), `${spec.name} with ${argc} arguments`).toEqual(keyIndexes(spec, ...parts));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(200);
  });
});
