import type { SlotgateConfig } from './config.js';
import { formatDuration } from './values.js';

/** drain-timeout counts from the signal, so the delay before the listeners close must fit in it. */
export function drainConfigErrors(config: Pick<SlotgateConfig, 'drainDelayMs' | 'drainTimeoutMs'>): string[] {
  if (config.drainDelayMs < config.drainTimeoutMs) return [];
  return [
    `drain-delay (${formatDuration(config.drainDelayMs)}) must be shorter than drain-timeout (${formatDuration(config.drainTimeoutMs)}), which counts from the signal`,
  ];
}
