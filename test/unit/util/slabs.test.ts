import { describe, it, expect } from 'vitest';
import { OutputSlab } from '../../../src/util/output-slab.js';
import { ReadSlabs } from '../../../src/util/read-slabs.js';
import { bytes } from '../support/resp.js';

describe('OutputSlab', () => {
  it('copies appended ranges at once, so the source can be reused, and takes them as one view', () => {
    const out = new OutputSlab();
    const source = bytes('xxGET ayy');
    const at = out.append(source, 2, 7);
    source.fill(0x21);
    out.append(bytes('GET b'), 0, 5);
    expect(out.bytes).toBe(10);
    expect(out.buffer.toString('latin1', at, at + 5)).toBe('GET a');
    expect(out.take().toString()).toBe('GET aGET b');
    expect(out.isEmpty).toBe(true);
  });

  it('never overwrites bytes already taken: an appended range stays valid after later appends', () => {
    const out = new OutputSlab();
    const kept: { buf: Buffer; at: number; text: string }[] = [];
    for (let i = 0; i < 5000; i++) {
      const text = `request-${i}-`.padEnd(40 + (i % 50), 'x');
      const at = out.append(Buffer.from(text), 0, text.length);
      kept.push({ buf: out.buffer, at, text });
      if (i % 7 === 0) out.take();
    }
    for (const { buf, at, text } of kept) expect(buf.toString('latin1', at, at + text.length)).toBe(text);
  });

  it('keeps the order of untaken bytes across a new slab, and takes a range larger than a slab', () => {
    const out = new OutputSlab();
    out.append(bytes('head'), 0, 4);
    const big = Buffer.alloc(200 * 1024, 0x61);
    const at = out.append(big, 0, big.length);
    expect(out.buffer.subarray(at, at + big.length).equals(big)).toBe(true);
    out.append(bytes('tail'), 0, 4);
    const taken = out.take();
    expect(taken.length).toBe(4 + big.length + 4);
    expect(taken.toString('latin1', 0, 4)).toBe('head');
    expect(taken.toString('latin1', taken.length - 4)).toBe('tail');
  });

  it('attaches views between appended bytes without copying them, and takes everything in order', () => {
    const out = new OutputSlab();
    out.append(bytes('one '), 0, 4);
    const own = Buffer.from('--big value--');
    out.attach(own, 2, 11);
    const at = out.append(bytes('two '), 0, 4);
    out.attach(own, 0, 2);
    expect(out.hasPieces).toBe(true);
    expect(out.bytes).toBe(4 + 9 + 4 + 2);
    expect(out.buffer.toString('latin1', at, at + 4)).toBe('two ');
    const pieces = out.takePieces();
    expect(Buffer.concat(pieces).toString()).toBe('one big valuetwo --');
    expect(pieces[1].buffer).toBe(own.buffer); // a view, not a copy
    expect(out.isEmpty).toBe(true);
    expect(out.hasPieces).toBe(false);
    out.append(bytes('three'), 0, 5);
    expect(out.take().toString()).toBe('three');
    out.attach(own, 0, 4);
    out.clear();
    expect(out.isEmpty).toBe(true);
  });

  it('clear drops what was not taken', () => {
    const out = new OutputSlab();
    out.append(bytes('abc'), 0, 3);
    out.clear();
    expect(out.isEmpty).toBe(true);
    out.append(bytes('d'), 0, 1);
    expect(out.take().toString()).toBe('d');
  });
});

describe('ReadSlabs', () => {
  it('hands out the unused rest of a slab, and the bytes read stay valid after further reads', () => {
    const slabs = new ReadSlabs();
    const chunks: { chunk: Buffer; fill: number }[] = [];
    for (let i = 0; i < 40; i++) {
      const target = slabs.next();
      expect(target.length).toBeGreaterThanOrEqual(16 * 1024);
      const length = 1 + ((i * 997) % 9000);
      target.fill(i, 0, length); // what a read would write
      chunks.push({ chunk: slabs.took(length), fill: i });
    }
    for (const { chunk, fill } of chunks) expect(chunk.every((b) => b === fill)).toBe(true);
  });
});
