import { describe, it, expect } from 'vitest';
import { parseSeed } from '../../../src/config/seed.js';

describe('parseSeed', () => {
  it('accepts hostnames, DNS names, IPv4 and bracketed IPv6', () => {
    expect(parseSeed('127.0.0.1:7000')).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(parseSeed('redis-cluster-headless.db.svc.cluster.local:6379')).toEqual({
      host: 'redis-cluster-headless.db.svc.cluster.local',
      port: 6379,
    });
    expect(parseSeed('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(parseSeed('[fe80::1%eth0]:1')).toEqual({ host: 'fe80::1%eth0', port: 1 });
    expect(parseSeed('localhost:65535')).toEqual({ host: 'localhost', port: 65535 });
  });

  it('rejects malformed seeds with a message naming the seed', () => {
    const bad = ['localhost', 'localhost:', ':7000', 'host:0', 'host:65536', 'host:7k', '::1:7000', '[zz]:1', 'a b:1', '-x:1'];
    for (const seed of bad) {
      const result = parseSeed(seed);
      expect(typeof result, seed).toBe('string');
      expect(result).toContain(seed);
    }
    expect(parseSeed('::1:7000')).toContain('brackets');
  });
});
