import { describe, expect, it } from 'vitest';
import { restartDelayMs } from '../../../src/workers/restart-backoff.js';

describe('restartDelayMs', () => {
  it('restarts at once after a worker that ran a while', () => {
    expect(restartDelayMs(0)).toBe(0);
  });
  it('waits at least 1 s after a quick crash, doubling up to 30 s', () => {
    expect(restartDelayMs(1)).toBe(1000);
    expect(restartDelayMs(2)).toBe(2000);
    expect(restartDelayMs(5)).toBe(16_000);
    expect(restartDelayMs(6)).toBe(30_000);
    expect(restartDelayMs(100)).toBe(30_000);
  });
});
