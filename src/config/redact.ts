import type { SlotgateConfig } from './config.js';
import { OPTIONS } from './schema.js';

export const REDACTED = '(redacted)';

/**
 * A copy of the config that is safe to log: every secret option that is set reads `(redacted)`.
 * Driven by the schema's `secret` flag, so a new secret option is redacted without touching this.
 */
export function redactConfig(cfg: SlotgateConfig): SlotgateConfig {
  const copy: Record<string, unknown> = { ...cfg, seeds: [...cfg.seeds] };
  for (const spec of OPTIONS) {
    if (spec.secret && copy[spec.field] !== undefined) copy[spec.field] = redactValue(copy[spec.field]);
  }
  return copy as unknown as SlotgateConfig;
}

/**
 * A secret as it may be shown: `(redacted)`, or for the user list the users with their rules
 * and `(redacted)` for each password or digest (so an empty list reads `[]`).
 */
export function redactValue(value: unknown): unknown {
  if (!Array.isArray(value)) return REDACTED;
  return value.map((user: Record<string, unknown>) => {
    const shown = { ...user };
    if (shown.password !== undefined) shown.password = REDACTED;
    if (shown.sha256 !== undefined) shown.sha256 = REDACTED;
    return shown;
  });
}
