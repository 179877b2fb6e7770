import type { UserConfig } from '../auth/users.js';
import type { SlotgateConfig } from './config.js';
import { REDACTED } from './redact.js';
import { OPTIONS, type OptionSpec } from './schema.js';
import { formatValue } from './values.js';

/**
 * What a SIGHUP reload would change: the options whose resolved value differs from the running
 * one, each with how it can take effect. Pure (no I/O), so the rules are unit-tested.
 */
export interface ConfigChange {
  spec: OptionSpec;
  /** `apply`: taken over while running (runtime or reloadable); `restart`: kept, needs a restart. */
  effect: 'apply' | 'restart';
}

/** The options whose values differ between `running` and `next`, in table order. */
export function diffConfig(running: SlotgateConfig, next: SlotgateConfig): ConfigChange[] {
  const a = running as unknown as Record<string, unknown>;
  const b = next as unknown as Record<string, unknown>;
  const changes: ConfigChange[] = [];
  for (const spec of OPTIONS) {
    if (sameValue(a[spec.field], b[spec.field])) continue;
    changes.push({ spec, effect: spec.runtime === true || spec.reloadable === true ? 'apply' : 'restart' });
  }
  return changes;
}

/**
 * A change as it may be logged: `{from, to}` for ordinary options (as they are written, 5s,
 * 512mb), `(redacted)` for secrets (their values never reach a log; `users` has its own summary).
 */
export function describeChange(spec: OptionSpec, from: unknown, to: unknown): unknown {
  if (spec.secret === true) return REDACTED;
  const shown = (value: unknown): unknown => (value === undefined ? null : formatValue(spec, value as never));
  return { from: shown(from), to: shown(to) };
}

/** Names of the users added, removed and changed (password, rules or enabled) between two user lists. */
export function diffUsers(
  running: readonly UserConfig[],
  next: readonly UserConfig[],
): { added: string[]; removed: string[]; changed: string[] } {
  const before = new Map(running.map((u) => [u.name, u]));
  const after = new Map(next.map((u) => [u.name, u]));
  const added = [...after.keys()].filter((name) => !before.has(name));
  const removed = [...before.keys()].filter((name) => !after.has(name));
  const changed = [...after.keys()].filter((name) => before.has(name) && !sameValue(before.get(name), after.get(name)));
  return { added, removed, changed };
}

/** Structural equality of option values: scalars, lists, and maps (users) whatever their key order. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameValue(item, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}
