import { describe, it, expect } from 'vitest';
import { OPTIONS } from '../../../src/config/schema.js';
import { coerceValue, formatDuration, formatSize, parseDuration, parseSize } from '../../../src/config/values.js';

const spec = (name: string) => OPTIONS.find((o) => o.name === name)!;

describe('parseSize', () => {
  it('reads binary units and plain bytes', () => {
    expect(parseSize('512mb')).toBe(512 * 1024 * 1024);
    expect(parseSize('1gb')).toBe(1024 ** 3);
    expect(parseSize('64kb')).toBe(65536);
    expect(parseSize('64KB')).toBe(65536);
    expect(parseSize('100b')).toBe(100);
    expect(parseSize('4096')).toBe(4096);
  });

  it('refuses ambiguous or malformed sizes', () => {
    for (const bad of ['', 'mb', '1k', '1.5gb', '-1', '12tb', 'abc', '1 gib', '99999999999999gb']) {
      expect(parseSize(bad), bad).toBeUndefined();
    }
  });

  it('formats back to the same number', () => {
    for (const n of [1, 1000, 1024, 65536, 512 * 1024 * 1024, 1024 ** 3, 3 * 1024 ** 3 + 1]) {
      expect(parseSize(formatSize(n))).toBe(n);
    }
    expect(formatSize(512 * 1024 * 1024)).toBe('512mb');
    expect(formatSize(1500)).toBe('1500b');
  });
});

describe('parseDuration', () => {
  it('reads ms, s, m, h and plain milliseconds', () => {
    expect(parseDuration('200ms')).toBe(200);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('750')).toBe(750);
  });

  it('refuses malformed durations', () => {
    for (const bad of ['', 's', '1.5s', '-5s', '5 seconds', '5d', 'soon']) {
      expect(parseDuration(bad), bad).toBeUndefined();
    }
  });

  it('formats back to the same number', () => {
    expect(formatDuration(5000)).toBe('5s');
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(1500)).toBe('1500ms');
    for (const n of [1, 999, 1000, 90_000, 3_600_000]) expect(parseDuration(formatDuration(n))).toBe(n);
  });
});

describe('coerceValue', () => {
  it('accepts YAML numbers and strings for numeric options', () => {
    expect(coerceValue(spec('port'), 6380)).toEqual({ ok: true, value: 6380 });
    expect(coerceValue(spec('port'), '6380')).toEqual({ ok: true, value: 6380 });
    expect(coerceValue(spec('request-timeout'), '2s')).toEqual({ ok: true, value: 2000 });
    expect(coerceValue(spec('request-timeout'), 250)).toEqual({ ok: true, value: 250 });
  });

  it('explains what was expected', () => {
    expect(coerceValue(spec('port'), 'x')).toEqual({ ok: false, error: 'expected a non-negative integer' });
    expect(coerceValue(spec('port'), 70000)).toEqual({ ok: false, error: 'must be between 0 and 65535, got 70000' });
    expect(coerceValue(spec('port'), 1.5).ok).toBe(false);
    expect(coerceValue(spec('connections-per-node'), '0')).toEqual({ ok: false, error: 'must be at least 1, got 0' });
    expect(coerceValue(spec('proto-max-bulk-len'), '1k')).toMatchObject({ ok: false, error: expect.stringContaining('512mb') });
    expect(coerceValue(spec('refresh-interval'), '0s')).toMatchObject({ ok: false });
    expect(coerceValue(spec('log-level'), 'loud')).toMatchObject({ ok: false, error: expect.stringContaining('debug') });
    expect(coerceValue(spec('bind'), 42)).toMatchObject({ ok: false, error: expect.stringContaining('string') });
    expect(coerceValue(spec('bind'), ' ')).toEqual({ ok: false, error: 'must not be empty' });
  });

  it('reads booleans from YAML and from text (no boolean option exists yet)', () => {
    const flag = { name: 'x', field: 'port', type: 'boolean', description: '' } as const;
    expect(coerceValue(flag, true)).toEqual({ ok: true, value: true });
    expect(coerceValue(flag, 'yes')).toEqual({ ok: true, value: true });
    expect(coerceValue(flag, '0')).toEqual({ ok: true, value: false });
    expect(coerceValue(flag, 'maybe')).toEqual({ ok: false, error: 'expected true or false' });
  });

  it('reads lists from comma strings and YAML lists, dropping blanks and duplicates', () => {
    expect(coerceValue(spec('seeds'), 'a:1, b:2,,a:1')).toEqual({ ok: true, value: ['a:1', 'b:2'] });
    expect(coerceValue(spec('seeds'), ['a:1', 'b:2,c:3'])).toEqual({ ok: true, value: ['a:1', 'b:2', 'c:3'] });
    expect(coerceValue(spec('seeds'), [7000]).ok).toBe(false);
    expect(coerceValue(spec('seeds'), { a: 1 }).ok).toBe(false);
  });
});
