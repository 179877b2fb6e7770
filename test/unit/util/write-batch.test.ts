import { describe, it, expect } from 'vitest';
import { WriteBatch } from '../../../src/util/write-batch.js';
import { bytes } from '../support/resp.js';

/** Whether out[outIndex] is the same memory as src[srcIndex]: writes to one show in the other. */
function sharesMemory(out: Buffer, outIndex: number, src: Buffer, srcIndex: number): boolean {
  const saved = src[srcIndex];
  src[srcIndex] = saved ^ 0xff;
  const shared = out[outIndex] === src[srcIndex];
  src[srcIndex] = saved;
  return shared;
}

describe('WriteBatch', () => {
  it('starts empty', () => {
    const batch = new WriteBatch();
    expect(batch.isEmpty).toBe(true);
    expect(batch.bytes).toBe(0);
  });

  it('takes a single range as a view of its buffer, without copying', () => {
    const buf = bytes('xx+OK\r\nyy');
    const batch = new WriteBatch();
    batch.add(buf, 2, 7);
    expect(batch.isEmpty).toBe(false);
    expect(batch.bytes).toBe(5);
    const out = batch.take();
    expect(out.toString()).toBe('+OK\r\n');
    expect(sharesMemory(out, 0, buf, 2)).toBe(true);
  });

  it('merges adjacent ranges of the same buffer into one range (still a view)', () => {
    const buf = bytes('*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n');
    const batch = new WriteBatch();
    batch.add(buf, 0, 14);
    batch.add(buf, 14, 28);
    expect(batch.bytes).toBe(28);
    const out = batch.take();
    expect(out.equals(buf)).toBe(true);
    expect(sharesMemory(out, 20, buf, 20)).toBe(true);
  });

  it('does not merge ranges of one buffer that are not adjacent', () => {
    const buf = bytes('AAAA-BBBB');
    const batch = new WriteBatch();
    batch.add(buf, 0, 4);
    batch.add(buf, 5, 9);
    const out = batch.take();
    expect(out.toString()).toBe('AAAABBBB');
    expect(sharesMemory(out, 0, buf, 0)).toBe(false);
  });

  it('does not merge a range of another buffer that happens to start where the last ended', () => {
    const one = bytes('0123');
    const two = bytes('4567');
    const batch = new WriteBatch();
    batch.add(one, 0, 2);
    batch.add(two, 2, 4);
    expect(batch.take().toString()).toBe('0167');
  });

  it('joins many ranges of several buffers in the order they were added', () => {
    const a = bytes('+a\r\n+b\r\n');
    const b = bytes(':1\r\n');
    const c = bytes('$3\r\nfoo\r\n');
    const batch = new WriteBatch();
    batch.add(a, 4, 8);
    batch.add(b, 0, 4);
    batch.add(a, 0, 4);
    batch.add(c, 0, 9);
    batch.add(c, 9, 9); // an empty range changes nothing
    expect(batch.bytes).toBe(21);
    const out = batch.take();
    expect(out.toString()).toBe('+b\r\n:1\r\n+a\r\n$3\r\nfoo\r\n');
    expect(out.length).toBe(21);
  });

  it('is empty after take and can be reused', () => {
    const batch = new WriteBatch();
    const buf = bytes('hello world');
    batch.add(buf, 0, 5);
    batch.add(bytes('!'), 0, 1);
    expect(batch.take().toString()).toBe('hello!');
    expect(batch.isEmpty).toBe(true);
    expect(batch.bytes).toBe(0);
    // A range adjacent to one already taken starts a new range rather than merging with it.
    batch.add(buf, 5, 11);
    expect(batch.take().toString()).toBe(' world');
    expect(batch.take().length).toBe(0);
  });

  it('clear() drops everything added', () => {
    const batch = new WriteBatch();
    batch.add(bytes('abc'), 0, 3);
    batch.add(bytes('def'), 0, 3);
    batch.clear();
    expect(batch.isEmpty).toBe(true);
    expect(batch.bytes).toBe(0);
    batch.add(bytes('xyz'), 1, 3);
    expect(batch.take().toString()).toBe('yz');
  });
});
