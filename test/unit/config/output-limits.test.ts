import { describe, expect, it } from 'vitest';
import { checkOutputLimits, DEFAULT_OUTPUT_LIMITS, parseOutputLimits } from '../../../src/config/output-limits.js';

describe("client-output-buffer-limit (Redis' syntax)", () => {
  it("parses Redis' default", () => {
    expect(parseOutputLimits(DEFAULT_OUTPUT_LIMITS)).toEqual({
      normal: { hard: 0, soft: 0, softSeconds: 0 },
      pubsub: { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60 },
    });
  });

  it('keeps the defaults of classes not given, and accepts a replica class copied from a Redis config', () => {
    expect(parseOutputLimits('normal 10mb 5mb 30 replica 256mb 64mb 60')).toEqual({
      normal: { hard: 10 * 1024 * 1024, soft: 5 * 1024 * 1024, softSeconds: 30 },
      pubsub: { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60 },
    });
    expect(parseOutputLimits('PUBSUB 1024 0 0')).toMatchObject({ pubsub: { hard: 1024, soft: 0, softSeconds: 0 } });
  });

  it('says what is wrong with a bad value', () => {
    expect(checkOutputLimits('normal 1mb')).toMatch(/groups of four/);
    expect(checkOutputLimits('')).toMatch(/groups of four/);
    expect(checkOutputLimits('normal 1xb 0 0')).toMatch(/invalid size/);
    expect(checkOutputLimits('normal 1mb 0 -1')).toMatch(/soft seconds/);
    expect(checkOutputLimits('master 1mb 0 0')).toMatch(/unknown client class 'master'/);
    expect(checkOutputLimits('normal 0 0 0')).toBeUndefined();
  });
});
