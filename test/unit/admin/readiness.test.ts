import { describe, expect, it } from 'vitest';
import { decideReadiness, readinessInput } from '../../../src/admin/readiness.js';

interface FakeMaster {
  address: string;
}

const a: FakeMaster = { address: '10.0.0.1:6379' };
const b: FakeMaster = { address: '10.0.0.2:6379' };

/** Slots 0-8191 on a, 8192-16383 on b (or none where `gap` says). */
function ownerOf(gap = -1): (slot: number) => FakeMaster | null {
  return (slot) => (slot === gap ? null : slot < 8192 ? a : b);
}

describe('readiness', () => {
  it('is ready when every slot has a reachable master', () => {
    const input = readinessInput(false, ownerOf(), [a, b], new Set([a, b]));
    expect(input).toEqual({ draining: false, reachableSlots: 16384, unreachableMasters: [] });
    expect(decideReadiness(input)).toEqual({ ready: true, coveredSlots: 16384 });
  });

  it('is unready when a slot has no master, saying how many are covered', () => {
    const input = readinessInput(false, ownerOf(100), [a, b], new Set([a, b]));
    expect(decideReadiness(input)).toEqual({ ready: false, reason: 'slots not covered', coveredSlots: 16383 });
  });

  it('is unready when a master is unreachable, naming it; its slots do not count', () => {
    const input = readinessInput(false, ownerOf(), [a, b], new Set([a]));
    expect(decideReadiness(input)).toEqual({
      ready: false,
      reason: 'master unreachable',
      coveredSlots: 8192,
      unreachableMasters: ['10.0.0.2:6379'],
    });
  });

  it('is unready while draining, even with every slot covered', () => {
    const input = readinessInput(true, ownerOf(), [a, b], new Set([a, b]));
    expect(decideReadiness(input)).toEqual({ ready: false, reason: 'draining', coveredSlots: 16384 });
  });

  it('is unready with no topology at all', () => {
    expect(decideReadiness(readinessInput(false, () => null, [], new Set()))).toEqual({
      ready: false,
      reason: 'slots not covered',
      coveredSlots: 0,
    });
  });
});
