import { parseSize } from './values.js';

/** One client class's output buffer limit, as Redis' `client-output-buffer-limit` (0: none). */
export interface OutputLimit {
  /** Bytes beyond which the client is closed at once. */
  hard: number;
  /** Bytes the client may stay above for `softSeconds` at most. */
  soft: number;
  softSeconds: number;
}

export interface OutputLimits {
  normal: OutputLimit;
  pubsub: OutputLimit;
}

/** Redis' defaults: normal clients unlimited, subscribers 32mb hard, 8mb for 60 s. */
export const DEFAULT_OUTPUT_LIMITS = 'normal 0 0 0 pubsub 32mb 8mb 60';

/**
 * Parses Redis' syntax, `<class> <hard> <soft> <soft seconds>` repeated (`normal 0 0 0 pubsub
 * 32mb 8mb 60`). Classes not given keep Redis' defaults; `replica` (or `slave`) is accepted for
 * configs copied from Redis and means nothing here. An error message instead when invalid.
 */
export function parseOutputLimits(text: string): OutputLimits | string {
  const limits: OutputLimits = { normal: { hard: 0, soft: 0, softSeconds: 0 }, pubsub: { hard: 32 << 20, soft: 8 << 20, softSeconds: 60 } };
  const words = text.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0 || words.length % 4 !== 0) return 'expected groups of four: <class> <hard> <soft> <soft seconds>';
  for (let i = 0; i < words.length; i += 4) {
    const kind = words[i].toLowerCase();
    const hard = parseSize(words[i + 1]);
    const soft = parseSize(words[i + 2]);
    const softSeconds = Number(words[i + 3]);
    if (hard === undefined || soft === undefined) return `invalid size in '${words.slice(i, i + 4).join(' ')}'`;
    if (!Number.isInteger(softSeconds) || softSeconds < 0) return `invalid soft seconds '${words[i + 3]}'`;
    if (kind === 'normal' || kind === 'pubsub') limits[kind] = { hard, soft, softSeconds };
    else if (kind !== 'replica' && kind !== 'slave') return `unknown client class '${words[i]}' (normal, pubsub)`;
  }
  return limits;
}

/** For the option table's check: an error message, or undefined when valid. */
export function checkOutputLimits(text: string): string | undefined {
  const parsed = parseOutputLimits(text);
  return typeof parsed === 'string' ? parsed : undefined;
}
