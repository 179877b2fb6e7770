import { describe, expect, it } from 'vitest';
import { cpuCount, detectCpuCount } from '../../../src/workers/cpu-count.js';

describe('cpuCount', () => {
  it('is the available CPUs without a quota (no file, or "max")', () => {
    expect(cpuCount(8, null)).toBe(8);
    expect(cpuCount(8, 'max 100000\n')).toBe(8);
  });

  it('caps by the cgroup v2 quota, rounded up', () => {
    expect(cpuCount(8, '150000 100000\n')).toBe(2);
    expect(cpuCount(8, '100000 100000')).toBe(1);
    expect(cpuCount(8, '50000 100000')).toBe(1);
    expect(cpuCount(8, '400000 100000')).toBe(4);
    expect(cpuCount(8, '200001 100000')).toBe(3);
  });

  it('never exceeds the available CPUs and is at least 1', () => {
    expect(cpuCount(2, '800000 100000')).toBe(2);
    expect(cpuCount(0, null)).toBe(1);
    expect(cpuCount(1, '1000 100000')).toBe(1);
  });

  it('ignores a quota it cannot read', () => {
    expect(cpuCount(4, '')).toBe(4);
    expect(cpuCount(4, 'garbage 100000')).toBe(4);
    expect(cpuCount(4, '-1 100000')).toBe(4);
    expect(cpuCount(4, '100000 0')).toBe(4);
  });

  it('detects something between 1 and the machine CPUs here', async () => {
    const os = await import('node:os');
    const n = detectCpuCount();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(os.availableParallelism());
  });
});
