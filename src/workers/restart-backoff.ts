/** A worker that lived less than this before it exited counts as crashing at start (a loop). */
export const QUICK_CRASH_MS = 10_000;
export const FIRST_BACKOFF_MS = 1000;
export const MAX_BACKOFF_MS = 30_000;

/**
 * How long to wait before forking a replacement for a worker that exited outside a drain:
 * `quickCrashes` is how many times in a row (this one included) the worker exited within
 * QUICK_CRASH_MS of its fork. 1 s after the first, doubling to 30 s, so a crash loop (a bad
 * node, a port taken) does not spin the CPU; at once after a worker that ran for a while.
 */
export function restartDelayMs(quickCrashes: number): number {
  if (quickCrashes <= 0) return 0;
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (quickCrashes - 1));
}
