import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { ProxyServer } from '../../src/proxy/server.js';
import { sharedClusterSeeds } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { runRedisCli } from '../helpers/redis-cli.js';

const PROXY_PASSWORD = 'proxy-Secret-1';
const READER_PASSWORD = 'reader-Secret-2';
const CACHE_PASSWORD = 'cache-Secret-3';
const CACHE_SHA = createHash('sha256').update(CACHE_PASSWORD).digest('hex');
const USERS = [
  { name: 'reader', password: READER_PASSWORD, commands: '+@read +@connection +acl|whoami', keys: 'allkeys' },
  { name: 'cache', sha256: CACHE_SHA, commands: 'allcommands -@dangerous', keys: '~cache:* ~{cache}*' },
  { name: 'off', password: 'off-Secret-4', enabled: false },
];
const prefix = `auth:${process.pid}:`;

describe.each([2, 3] as const)('authentication and users (ioredis, RESP%s)', (protocol) => {
  let proxy: ProxyServer;
  const open: Redis[] = [];
  const connect = (options: Record<string, unknown> = {}): Redis => {
    const c = proxyClient(proxy, { protocol, lazyConnect: true, enableReadyCheck: false, ...options });
    c.on('error', () => {});
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    proxy = await startTestProxy(sharedClusterSeeds(), { requirepass: PROXY_PASSWORD, users: USERS });
  });

  afterAll(async () => {
    for (const c of open) c.disconnect();
    await proxy?.close();
  });

  it('refuses everything before AUTH, then a wrong password, and lets the right one in', async () => {
    const c = connect({ protocol: 2 });
    await c.connect();
    await expect(c.get(`${prefix}x`)).rejects.toThrow(/^NOAUTH Authentication required/);
    await expect(c.call('AUTH', 'wrong')).rejects.toThrow('WRONGPASS invalid username-password pair or user is disabled.');
    await expect(c.call('AUTH', 'reader', 'wrong')).rejects.toThrow(/^WRONGPASS/);
    await expect(c.call('AUTH', 'nobody', READER_PASSWORD)).rejects.toThrow(/^WRONGPASS/);
    await expect(c.call('AUTH', 'off', 'off-Secret-4')).rejects.toThrow(/^WRONGPASS/); // disabled
    await expect(c.get(`${prefix}x`)).rejects.toThrow(/^NOAUTH/);
    expect(await c.call('AUTH', PROXY_PASSWORD)).toBe('OK');
    expect(await c.call('ACL', 'WHOAMI')).toBe('default');
    expect(await c.set(`${prefix}x`, 'v')).toBe('OK');
  });

  it('authenticates with HELLO AUTH and with the client options, as a user', async () => {
    const c = connect({ username: 'reader', password: READER_PASSWORD });
    await c.connect();
    expect(await c.call('ACL', 'WHOAMI')).toBe('reader');
    const raw = connect({ protocol: 2 });
    await raw.connect();
    const hello = (await raw.call('HELLO', String(protocol), 'AUTH', 'cache', CACHE_PASSWORD)) as unknown[];
    expect(hello).toContain('proto');
    expect(await raw.call('ACL', 'WHOAMI')).toBe('cache');
    await expect(raw.call('HELLO', '3', 'AUTH', 'cache', 'nope')).rejects.toThrow(/^WRONGPASS/);
  });

  it('denies a read-only user a write, and a whole-cluster admin command, with Redis\' NOPERM', async () => {
    const c = connect({ username: 'reader', password: READER_PASSWORD });
    await c.connect();
    expect(await c.get(`${prefix}x`)).toBe('v');
    expect(await c.mget(`${prefix}x`, `${prefix}y`)).toEqual(['v', null]);
    await expect(c.set(`${prefix}x`, 'w')).rejects.toThrow("NOPERM this user has no permissions to run the 'set' command");
    await expect(c.call('FLUSHALL')).rejects.toThrow("NOPERM this user has no permissions to run the 'flushall' command");
    await expect(c.call('CONFIG', 'SET', 'maxmemory', '1')).rejects.toThrow("NOPERM this user has no permissions to run the 'config|set' command");
    await expect(c.call('PROXY', 'CONFIG', 'SET', 'cross-slot', 'reject')).rejects.toThrow("NOPERM this user has no permissions to run the 'proxy' command");
    expect(await c.get(`${prefix}x`)).toBe('v');
  });

  it('denies a key-pattern user other keys, also inside MULTI (then EXEC aborts) and across slots', async () => {
    const c = connect({ username: 'cache', password: CACHE_PASSWORD });
    await c.connect();
    expect(await c.set('cache:a', '1')).toBe('OK');
    expect(await c.mset('cache:b', '2', 'cache:c', '3')).toBe('OK'); // split over slots, all allowed
    const noKey = 'NOPERM this user has no permissions to access one of the keys used as arguments';
    await expect(c.set(`${prefix}other`, '1')).rejects.toThrow(noKey);
    await expect(c.mget('cache:a', `${prefix}other`)).rejects.toThrow(noKey);
    await expect(c.call('FLUSHALL')).rejects.toThrow(/^NOPERM this user has no permissions to run the 'flushall' command/);
    expect(await c.call('MULTI')).toBe('OK');
    expect(await c.call('SET', '{cache}1', 'x')).toBe('QUEUED');
    await expect(c.call('SET', `${prefix}{cache}`, 'y')).rejects.toThrow(noKey);
    await expect(c.call('EXEC')).rejects.toThrow(/^EXECABORT/);
    expect(await c.get('{cache}1')).toBeNull();
    const info = (await c.call('CLIENT', 'INFO')) as string;
    expect(info).toMatch(/ user=cache /);
  });
});

describe('no password in any log line', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slotgate-auth-logs-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('at trace level, through AUTH, HELLO AUTH, wrong passwords, PROXY CONFIG and --check-config', async () => {
    const usersFile = path.join(dir, 'users.yaml');
    await writeFile(usersFile, JSON.stringify(USERS));
    const args = ['dist/src/main.js', '--threads', '1', '--port', '0', '--admin-port', '0', '--bind', '127.0.0.1', '--log-level', 'trace', '--drain-delay', '0', '--users-file', usersFile, ...sharedClusterSeeds()];
    const env = { ...process.env, SLOTGATE_REQUIREPASS: PROXY_PASSWORD };
    const check = spawn(process.execPath, [...args, '--check-config'], { env });
    let checkOut = '';
    check.stdout.on('data', (d: Buffer) => (checkOut += d.toString()));
    await new Promise((r) => check.on('close', r));
    expect(checkOut).toContain('name: reader');

    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stdout.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
    try {
      await eventually(() => logs.includes('command table'), 15_000);
      const port = Number(/"port":(\d+),"seeds"/.exec(logs)?.[1]);
      const cli = ['-p', String(port), '--no-auth-warning'];
      const script = [
        `AUTH ${READER_PASSWORD}`,
        `AUTH reader wrong-${READER_PASSWORD}`,
        `AUTH reader ${READER_PASSWORD}`,
        `HELLO 3 AUTH cache ${CACHE_PASSWORD}`,
        `AUTH default ${PROXY_PASSWORD}`,
        'PROXY CONFIG GET *',
        `SET ${prefix}logged ${CACHE_SHA}`,
      ].join('\n');
      const out = await runRedisCli(cli, `${script}\n`);
      expect(out.stdout).toContain('WRONGPASS');
      expect(out.stdout).not.toContain(PROXY_PASSWORD);
      expect(out.stdout).not.toContain(READER_PASSWORD);
      // A per-request line at trace level shows up, without the arguments.
      await eventually(() => logs.includes('"command":"auth"'), 5000);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('close', r));
    }
    for (const secret of [PROXY_PASSWORD, READER_PASSWORD, CACHE_PASSWORD, CACHE_SHA, 'off-Secret-4']) {
      expect(logs, secret).not.toContain(secret);
      expect(checkOut, secret).not.toContain(secret);
    }
    expect(logs.split('\n').filter(Boolean).length).toBeGreaterThan(5);
    // The users were logged at start-up, each password shown as redacted.
    expect(logs).toContain('"name":"reader","password":"(redacted)"');
    expect(checkOut).toContain('password: (redacted)');
  });
});
