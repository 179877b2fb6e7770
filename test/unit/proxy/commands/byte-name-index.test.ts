import { describe, expect, it } from 'vitest';
import { ByteNameIndex } from '../../../../src/proxy/commands/byte-name-index.js';

describe('ByteNameIndex', () => {
  const index = new ByteNameIndex<string>();
  for (const name of ['get', 'set', 'gat', 'getex', 'client', 'object', 'x', 'no-evict']) index.add(name, name.toUpperCase());
  const find = (text: string, pad = 0): string | undefined => {
    const buf = Buffer.concat([Buffer.alloc(pad, '*'), Buffer.from(text, 'latin1'), Buffer.from('\r\n')]);
    return index.find(buf, pad, pad + text.length);
  };

  it('finds names in any letter case, inside a larger buffer', () => {
    expect(find('get')).toBe('GET');
    expect(find('GET', 5)).toBe('GET');
    expect(find('gEt')).toBe('GET');
    expect(find('CLIENT', 3)).toBe('CLIENT');
    expect(find('NO-EVICT')).toBe('NO-EVICT');
    expect(find('X')).toBe('X');
  });

  it('tells apart names that share length, first and last byte', () => {
    expect(find('gat')).toBe('GAT');
    expect(find('gxt')).toBeUndefined();
  });

  it('misses unknown names, prefixes, empty names and near-misses in case folding', () => {
    expect(find('ge')).toBeUndefined();
    expect(find('gets')).toBeUndefined();
    expect(find('')).toBeUndefined();
    // '@' (0x40) and '`' (0x60) differ from 'G'/'g' only in bit 5 but are not letters.
    expect(find('@et')).toBeUndefined();
    expect(find('`et')).toBeUndefined();
  });
});
