import { describe, expect, it } from 'vitest';
import type { SlotgateConfig } from '../../../src/config/config.js';
import { describeChange, diffConfig, diffUsers, sameValue } from '../../../src/config/diff.js';
import { drainConfigErrors } from '../../../src/config/drain-check.js';
import { defaultConfig, OPTIONS } from '../../../src/config/schema.js';

const base = (): SlotgateConfig => ({ ...defaultConfig(), seeds: ['127.0.0.1:7001'] });
const spec = (name: string) => OPTIONS.find((o) => o.name === name)!;
const names = (running: SlotgateConfig, next: SlotgateConfig) => diffConfig(running, next).map((c) => `${c.spec.name}:${c.effect}`);

describe('diffConfig (SIGHUP reload)', () => {
  it('finds nothing between equal configs, lists included', () => {
    expect(diffConfig(base(), base())).toEqual([]);
    const users = [{ name: 'a', password: 'x', commands: '+@read' }];
    expect(diffConfig({ ...base(), users }, { ...base(), users: [{ commands: '+@read', password: 'x', name: 'a' }] })).toEqual([]);
  });

  it('applies runtime and reloadable options, keeps the others for a restart, in table order', () => {
    const next: SlotgateConfig = {
      ...base(),
      logLevel: 'debug',
      maxClients: 3,
      crossSlot: 'reject',
      protoMaxBulkLen: 1024,
      requirepass: 'secret',
      users: [{ name: 'app', password: 'pw' }],
      port: 1234,
      seeds: ['127.0.0.1:7002'],
      connectionsPerNode: 2,
      drainDelayMs: 0,
    };
    expect(names(base(), next)).toEqual([
      'seeds:restart',
      'port:restart',
      'requirepass:apply',
      'users:apply',
      'connections-per-node:restart',
      'log-level:apply',
      'proto-max-bulk-len:apply',
      'max-clients:apply',
      'cross-slot:apply',
      'drain-delay:apply',
    ]);
  });

  it('sees an option set or unset (undefined) as a change', () => {
    expect(names(base(), { ...base(), announceHost: 'proxy.example' })).toEqual(['announce-host:apply']);
    expect(names({ ...base(), tlsPort: 6380 }, base())).toEqual(['tls-port:restart']);
  });

  it('keeps threads for a restart: workers are forked at start', () => {
    expect(names(base(), { ...base(), threads: base().threads + 1 })).toEqual(['threads:restart']);
  });

  it('every option is either applied or named for a restart, and those needing a restart are the listeners, seeds and links', () => {
    const restart = OPTIONS.filter((o) => o.runtime !== true && o.reloadable !== true).map((o) => o.name);
    expect(restart).toEqual(expect.arrayContaining(['seeds', 'bind', 'port', 'tls-port', 'admin-port', 'admin-bind', 'backend-password']));
    expect(restart).not.toContain('requirepass');
    expect(restart).not.toContain('users');
    expect(restart).not.toContain('max-clients');
  });
});

describe('describeChange', () => {
  it('shows ordinary values as they are written, secrets redacted', () => {
    expect(describeChange(spec('max-clients'), 10000, 3)).toEqual({ from: 10000, to: 3 });
    expect(describeChange(spec('request-timeout'), 5000, 200)).toEqual({ from: '5s', to: '200ms' });
    expect(describeChange(spec('announce-host'), undefined, 'h')).toEqual({ from: null, to: 'h' });
    expect(describeChange(spec('requirepass'), 'old-secret', 'new-secret')).toBe('(redacted)');
    expect(JSON.stringify(describeChange(spec('users'), [{ name: 'a', password: 'p1' }], [{ name: 'a', password: 'p2' }]))).not.toContain('p2');
  });
});

describe('diffUsers', () => {
  it('names the users added, removed and changed (password, rules, enabled)', () => {
    const before = [
      { name: 'same', password: 'x' },
      { name: 'pw', password: 'x' },
      { name: 'rules', commands: '+@read' },
      { name: 'off' },
      { name: 'gone' },
    ];
    const after = [
      { name: 'same', password: 'x' },
      { name: 'pw', password: 'y' },
      { name: 'rules', commands: '+@read +@write' },
      { name: 'off', enabled: false },
      { name: 'new' },
    ];
    expect(diffUsers(before, after)).toEqual({ added: ['new'], removed: ['gone'], changed: ['pw', 'rules', 'off'] });
  });
});

describe('sameValue', () => {
  it('compares scalars, lists and maps structurally', () => {
    expect(sameValue(1, 1)).toBe(true);
    expect(sameValue('a', 'b')).toBe(false);
    expect(sameValue(['a', 'b'], ['a', 'b'])).toBe(true);
    expect(sameValue(['a', 'b'], ['b', 'a'])).toBe(false);
    expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameValue({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameValue(undefined, 0)).toBe(false);
    expect(sameValue([], undefined)).toBe(false);
  });
});

describe('drainConfigErrors', () => {
  it('requires drain-delay shorter than drain-timeout (which counts from the signal)', () => {
    expect(drainConfigErrors({ drainDelayMs: 5000, drainTimeoutMs: 10000 })).toEqual([]);
    expect(drainConfigErrors({ drainDelayMs: 0, drainTimeoutMs: 1 })).toEqual([]);
    expect(drainConfigErrors({ drainDelayMs: 10000, drainTimeoutMs: 10000 })[0]).toMatch(/drain-delay \(10s\) must be shorter than drain-timeout \(10s\)/);
  });
});
