import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ScriptStore, scriptSha } from '../../../../src/proxy/scripts/script-store.js';

const body = (text: string): Buffer => Buffer.from(text);

describe('scriptSha', () => {
  it("is Redis' script name: the lower-case sha1 hex of the body", () => {
    // SCRIPT LOAD "return 1" answers this sha on any Redis.
    expect(scriptSha(body('return 1'))).toBe('e0e1f9fabfc9d4800c877a703b823ac0578ff8db');
    const binary = Buffer.from([0, 255, 13, 10, 0xc3, 0x28]);
    expect(scriptSha(binary)).toBe(createHash('sha1').update(binary).digest('hex'));
  });
});

describe('ScriptStore', () => {
  it('keeps a copy of each body by its sha', () => {
    const store = new ScriptStore();
    const source = body('xx return 2 yy');
    const view = source.subarray(3, 11);
    const sha = store.remember(view);
    expect(sha).toBe(scriptSha(body('return 2')));
    source.fill(0); // the read buffer it came from is reused
    expect(store.get(sha)?.toString()).toBe('return 2');
    expect(store.get('f'.repeat(40))).toBeUndefined();
    expect(store.size).toBe(1);
    expect(store.bytes).toBe(8);
  });

  it('counts a body remembered twice once', () => {
    const store = new ScriptStore();
    store.remember(body('return 1'));
    store.remember(body('return 1'));
    expect(store.size).toBe(1);
    expect(store.bytes).toBe(8);
  });

  it('drops the least recently used script beyond the count limit', () => {
    const store = new ScriptStore({ maxScripts: 2, maxBytes: 1000 });
    const a = store.remember(body('return "a"'));
    const b = store.remember(body('return "b"'));
    store.get(a); // a used again: b is now the oldest
    const c = store.remember(body('return "c"'));
    expect(store.size).toBe(2);
    expect(store.get(b)).toBeUndefined();
    expect(store.get(a)?.toString()).toBe('return "a"');
    expect(store.get(c)?.toString()).toBe('return "c"');
    store.remember(body('return "a"')); // remembering again also counts as a use
    store.remember(body('return "d"'));
    expect(store.get(c)).toBeUndefined();
    expect(store.get(a)).toBeDefined();
  });

  it('drops the least recently used scripts until the bodies fit the byte limit, and never keeps a body larger than it', () => {
    const store = new ScriptStore({ maxScripts: 100, maxBytes: 25 });
    const of = (c: string, n: number): Buffer => body(c.repeat(n));
    const a = store.remember(of('a', 10));
    const b = store.remember(of('b', 10));
    expect(store.bytes).toBe(20);
    const c = store.remember(of('c', 6)); // 26 bytes: a goes
    expect(store.get(a)).toBeUndefined();
    expect(store.get(b)).toBeDefined(); // b used after c: c is now the oldest
    expect(store.bytes).toBe(16);
    const d = store.remember(of('d', 15)); // 31 bytes: c goes, then 25 fit exactly
    expect(store.get(c)).toBeUndefined();
    expect(store.get(b)).toBeDefined();
    expect(store.get(d)).toBeDefined();
    expect(store.bytes).toBe(25);
    const huge = store.remember(of('h', 26));
    expect(huge).toBe(scriptSha(of('h', 26)));
    expect(store.get(huge)).toBeUndefined();
    expect(store.size).toBe(2);
    expect(store.bytes).toBe(25);
  });

  it('forgets everything on clear', () => {
    const store = new ScriptStore();
    const sha = store.remember(body('return 1'));
    store.clear();
    expect(store.get(sha)).toBeUndefined();
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
  });
});
