import { parse as parseYaml } from 'yaml';
import { checkUserConfig, type UserConfig } from '../auth/users.js';
import type { OptionSpec, OptionValue } from './schema.js';

/**
 * Turning raw option values into typed ones. A raw value is a string (CLI flag, env var) or
 * whatever YAML produced (string, number, boolean, list), so each parser accepts both.
 * Errors are returned, not thrown, so that every bad value can be reported in one go.
 */

export type Coerced = { ok: true; value: OptionValue } | { ok: false; error: string };

// Binary units, as Redis reads `512mb` in redis.conf. Bare k/m/g are refused rather than
// guessed: Redis reads `1k` as 1000 bytes, which would surprise as often as 1024 would.
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `512mb` → 536870912; a plain number is bytes. Returns undefined when not a size. */
export function parseSize(text: string): number | undefined {
  return parseWithUnit(text, /^(\d+)\s*(b|kb|mb|gb)?$/i, SIZE_UNITS, 'b');
}

/** `200ms`, `5s`, `1m`, `1h` → milliseconds; a plain number is milliseconds. */
export function parseDuration(text: string): number | undefined {
  return parseWithUnit(text, /^(\d+)\s*(ms|s|m|h)?$/i, DURATION_UNITS, 'ms');
}

function parseWithUnit(text: string, pattern: RegExp, units: Record<string, number>, base: string): number | undefined {
  const m = pattern.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]) * units[(m[2] ?? base).toLowerCase()];
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Largest exact unit, so that output reads like input and parses back to the same number. */
export function formatSize(bytes: number): string {
  for (const unit of ['gb', 'mb', 'kb']) {
    if (bytes !== 0 && bytes % SIZE_UNITS[unit] === 0) return `${bytes / SIZE_UNITS[unit]}${unit}`;
  }
  return `${bytes}b`;
}

export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's']) {
    if (ms !== 0 && ms % DURATION_UNITS[unit] === 0) return `${ms / DURATION_UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** A value as a person would write it (help defaults, --check-config output). */
export function formatValue(spec: OptionSpec, value: OptionValue): string | number | boolean | string[] {
  if (spec.type === 'size') return formatSize(value as number);
  if (spec.type === 'duration') return formatDuration(value as number);
  if (Array.isArray(value)) return [...value];
  return value as string | number | boolean;
}

/** Parses one raw value for `spec` and checks its bounds, choices and per-item check. */
export function coerceValue(spec: OptionSpec, raw: unknown): Coerced {
  switch (spec.type) {
    case 'string':
      return coerceString(spec, raw);
    case 'string-list':
      return coerceList(spec, raw);
    case 'boolean':
      return coerceBoolean(raw);
    case 'users':
      return coerceUsers(raw);
    case 'number':
      return checkBounds(spec, toInteger(raw), 'a non-negative integer');
    case 'size':
      return checkBounds(
        spec,
        typeof raw === 'string' ? parseSize(raw) : toInteger(raw),
        'a size like 64kb, 512mb, 1gb or a number of bytes',
      );
    case 'duration':
      return checkBounds(
        spec,
        typeof raw === 'string' ? parseDuration(raw) : toInteger(raw),
        'a duration like 200ms, 5s, 1m or a number of milliseconds',
      );
  }
}

function toInteger(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? raw : undefined;
  if (typeof raw === 'string' && /^\s*\d+\s*$/.test(raw)) {
    const n = Number(raw);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

function checkBounds(spec: OptionSpec, value: number | undefined, expected: string): Coerced {
  if (value === undefined) return { ok: false, error: `expected ${expected}` };
  const { min = 0, max } = spec;
  if (value < min || (max !== undefined && value > max)) {
    const range = max === undefined ? `at least ${min}` : `between ${min} and ${max}`;
    return { ok: false, error: `must be ${range}, got ${value}` };
  }
  return { ok: true, value };
}

function coerceString(spec: OptionSpec, raw: unknown): Coerced {
  // YAML turns `requirepass: 123` into a number; refusing it (rather than String()) avoids
  // silently mangling values such as `0x1f` or `1e3`.
  if (typeof raw !== 'string') return { ok: false, error: 'expected a string (quote it in YAML)' };
  const value = raw.trim();
  if (value === '') return { ok: false, error: 'must not be empty' };
  if (spec.choices && !spec.choices.includes(value)) {
    return { ok: false, error: `must be one of ${spec.choices.join(', ')}, got "${value}"` };
  }
  const problem = spec.check?.(value);
  return problem ? { ok: false, error: problem } : { ok: true, value };
}

function coerceList(spec: OptionSpec, raw: unknown): Coerced {
  // A string (CLI, env, or YAML scalar) is comma-separated; a YAML list gives one item each.
  let items: unknown[];
  if (typeof raw === 'string') items = raw.split(',');
  else if (Array.isArray(raw)) items = raw.flatMap((item) => (typeof item === 'string' ? item.split(',') : [item]));
  else return { ok: false, error: 'expected a list or a comma-separated string' };

  const values: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') {
      return { ok: false, error: `expected strings, got ${JSON.stringify(item)} (quote IPv6 seeds in YAML: "[::1]:7000")` };
    }
    const value = item.trim();
    if (value === '') continue;
    const problem = spec.check?.(value);
    if (problem) return { ok: false, error: problem };
    if (!values.includes(value)) values.push(value);
  }
  return { ok: true, value: values };
}

/** A list of users: from YAML (a list of maps) or a string of YAML/JSON (env, CLI, users-file). */
function coerceUsers(raw: unknown): Coerced {
  let list: unknown = raw;
  if (typeof raw === 'string') {
    try {
      list = parseYaml(raw);
    } catch (error) {
      return { ok: false, error: `not YAML or JSON: ${(error as Error).message.split('\n')[0]}` };
    }
  }
  if (list === null || list === undefined) list = [];
  if (!Array.isArray(list)) return { ok: false, error: 'expected a list of users' };
  const users: UserConfig[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return { ok: false, error: 'each user must be a map (name, password, commands, keys)' };
    const user = item as UserConfig;
    const problem = checkUserConfig(user);
    if (problem) return { ok: false, error: problem };
    if (users.some((u) => u.name === user.name)) return { ok: false, error: `user ${user.name} is given twice` };
    users.push({ ...user });
  }
  return { ok: true, value: users };
}

function coerceBoolean(raw: unknown): Coerced {
  if (typeof raw === 'boolean') return { ok: true, value: raw };
  const text = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (['true', 'yes', 'on', '1'].includes(text)) return { ok: true, value: true };
  if (['false', 'no', 'off', '0'].includes(text)) return { ok: true, value: false };
  return { ok: false, error: 'expected true or false' };
}
