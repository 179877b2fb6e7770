import { describe, expect, it } from 'vitest';
import { CommandStats, DURATION_BUCKETS_SECONDS, OTHER_COMMAND, type CountedCommand } from '../../../src/telemetry/command-stats.js';

const PLUS = '+'.charCodeAt(0);
const MINUS = '-'.charCodeAt(0);
const BANG = '!'.charCodeAt(0);
const DOLLAR = '$'.charCodeAt(0);

describe('command stats', () => {
  it('labels by top-level command name; subcommands count under their container; unknown ones under other', () => {
    const stats = new CommandStats();
    const get: CountedCommand = { name: 'get', stat: null };
    const clientList: CountedCommand = { name: 'client|list', stat: null };
    stats.bind([get, clientList]);
    expect(get.stat?.name).toBe('get');
    expect(clientList.stat).toBeNull(); // dispatch counts CLIENT LIST under `client`, its top-level spec
    expect(stats.other.name).toBe(OTHER_COMMAND);
  });

  it('keeps the same stat object when a new table binds the same names (counts survive the table change)', () => {
    const stats = new CommandStats();
    const first: CountedCommand = { name: 'set', stat: null };
    stats.bind([first]);
    first.stat!.record(PLUS, 0.1);
    const second: CountedCommand = { name: 'set', stat: null };
    stats.bind([second]);
    expect(second.stat).toBe(first.stat);
    expect(second.stat!.ok).toBe(1);
  });

  it('counts error replies (RESP2 `-`, RESP3 `!`) apart from the others', () => {
    const stat = new CommandStats().forName('incr');
    stat.record(MINUS, 1);
    stat.record(BANG, 1);
    stat.record(DOLLAR, 1);
    stat.record(PLUS, 1);
    expect({ ok: stat.ok, errors: stat.errors, count: stat.count }).toEqual({ ok: 2, errors: 2, count: 4 });
  });

  it('puts reply times in the first bucket whose bound is not below them, and sums them', () => {
    const stat = new CommandStats().forName('get');
    stat.record(PLUS, 0.05); // 50 us: first bucket (100 us)
    stat.record(PLUS, 0.1); // exactly 100 us: still the first (le is inclusive)
    stat.record(PLUS, 0.3); // 300 us: the 500 us bucket
    stat.record(PLUS, 60_000); // a minute: above every bound
    const last = DURATION_BUCKETS_SECONDS.length;
    expect(stat.buckets[0]).toBe(2);
    expect(stat.buckets[DURATION_BUCKETS_SECONDS.indexOf(0.0005)]).toBe(1);
    expect(stat.buckets[last]).toBe(1);
    expect(stat.sumMs).toBeCloseTo(60_000.45);
  });

  it('lists only commands seen at least once', () => {
    const stats = new CommandStats();
    stats.bind([
      { name: 'get', stat: null },
      { name: 'set', stat: null },
    ]);
    stats.forName('set').record(PLUS, 1);
    expect([...stats.used()].map((s) => s.name)).toEqual(['set']);
  });
});
