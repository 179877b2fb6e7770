import calculateSlot from 'cluster-key-slot';
import { describe, it, expect } from 'vitest';
import { SLOT_COUNT, slotOf, slotOfKey } from '../../../src/cluster/key-slot.js';
import { Prng } from '../support/prng.js';
import { bytes } from '../support/resp.js';

/** Bit-by-bit CRC16/XMODEM (poly 0x1021, init 0), independent of any lookup table. */
function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Redis' keyHashSlot (src/cluster.c), transcribed: the first `{`, the first `}` after it, non-empty. */
function redisKeyHashSlot(key: Uint8Array): number {
  const open = key.indexOf(0x7b);
  if (open < 0) return crc16(key) & 0x3fff;
  const close = key.indexOf(0x7d, open + 1);
  if (close < 0 || close === open + 1) return crc16(key) & 0x3fff;
  return crc16(key.subarray(open + 1, close)) & 0x3fff;
}

/**
 * cluster-key-slot differs from Redis in one case: when the first `{` is immediately followed by
 * `}` and another `}` comes later, it hashes the bytes between the `{}` and that later `}`, while
 * Redis hashes the whole key. Redis is the authority here.
 */
function clusterKeySlotDiffersFromRedis(key: Uint8Array): boolean {
  const open = key.indexOf(0x7b);
  return open >= 0 && key[open + 1] === 0x7d && key.indexOf(0x7d, open + 2) >= 0;
}

/** Random binary keys, with braces frequent enough to make hash tags of every shape common. */
function randomKey(rng: Prng): Buffer {
  const key = Buffer.alloc(rng.int(0, 40));
  for (let i = 0; i < key.length; i++) {
    const r = rng.next();
    key[i] = r < 0.15 ? 0x7b : r < 0.3 ? 0x7d : rng.int(0, 255);
  }
  return key;
}

describe('slotOf / slotOfKey', () => {
  it('gives the CRC16/XMODEM check value for "123456789" (0x31C3 mod 16384)', () => {
    expect(crc16(bytes('123456789'))).toBe(0x31c3);
    expect(slotOf('123456789')).toBe(0x31c3 % SLOT_COUNT);
    expect(slotOf('123456789')).toBe(12739);
  });

  it('knows slot("foo") = 12182 and slot("") = 0', () => {
    expect(slotOf('foo')).toBe(12182);
    expect(slotOf('')).toBe(0);
  });

  it('hashes only a non-empty hash tag', () => {
    expect(slotOf('{user1000}.following')).toBe(slotOf('user1000'));
    expect(slotOf('{user1000}.followers')).toBe(slotOf('user1000'));
    expect(slotOf('foo{bar}{zap}')).toBe(slotOf('bar'));
    expect(slotOf('foo{{bar}}zap')).toBe(slotOf('{bar'));
  });

  it('hashes the whole key when the first tag is empty or unclosed', () => {
    const whole = (key: string) => crc16(bytes(key)) & 0x3fff;
    for (const key of ['foo{}{bar}', '{}', '{', '}', '}{', 'foo{bar', 'foo}bar{', '']) {
      expect(slotOf(key), key).toBe(whole(key));
    }
    // The empty tag does not make `{bar}` count.
    expect(slotOf('foo{}{bar}')).not.toBe(slotOf('bar'));
  });

  it('agrees with cluster-key-slot on the hash tag examples', () => {
    for (const key of ['{user1000}.following', 'foo{{bar}}zap', 'foo{bar}{zap}', '{}', '{', '}', '', 'foo', '123456789']) {
      expect(slotOf(key), key).toBe(calculateSlot(key));
    }
  });

  it('hashes strings as UTF-8, like cluster-key-slot', () => {
    for (const key of ['é', '日本語', '{ключ}.x', '😀']) {
      expect(slotOf(key), key).toBe(calculateSlot(key));
      expect(slotOf(key)).toBe(slotOf(Buffer.from(key, 'utf8')));
    }
  });

  it('agrees with Redis and cluster-key-slot on 20,000 random binary keys, read in place', () => {
    const rng = new Prng(20_000);
    let tagged = 0;
    let divergent = 0;
    for (let n = 0; n < 20_000; n++) {
      const key = randomKey(rng);
      // The key sits between braces it must not read: slotOfKey stays within [start, end).
      const buf = Buffer.concat([bytes('{a}'), key, bytes('}{b}')]);
      const slot = slotOfKey(buf, 3, 3 + key.length);
      const label = key.toString('hex');
      expect(slot, label).toBe(redisKeyHashSlot(key));
      expect(slotOf(key), label).toBe(slot);
      if (clusterKeySlotDiffersFromRedis(key)) divergent++;
      else expect(slot, label).toBe(calculateSlot(key));
      if (redisKeyHashSlot(key) !== (crc16(key) & 0x3fff)) tagged++;
    }
    // The random keys exercised hash tags, and the keys where only Redis' rule applies.
    expect(tagged).toBeGreaterThan(2000);
    expect(divergent).toBeGreaterThan(100);
  });

  it('always returns a slot in 0..16383', () => {
    const rng = new Prng(3);
    for (let n = 0; n < 1000; n++) {
      const slot = slotOf(rng.bytes(rng.int(0, 64)));
      expect(Number.isInteger(slot) && slot >= 0 && slot < SLOT_COUNT).toBe(true);
    }
  });
});
