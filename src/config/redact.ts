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
    if (spec.secret && copy[spec.field] !== undefined) copy[spec.field] = REDACTED;
  }
  return copy as unknown as SlotgateConfig;
}
