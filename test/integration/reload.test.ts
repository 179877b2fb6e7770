import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { sharedClusterSeeds, testBasePort } from '../helpers/cluster.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { rawConnect, spawnSlotgate, type RawConnection, type SlotgateProcess } from '../helpers/slotgate-process.js';

// SIGHUP re-reads the configuration: the real `slotgate` command with --config, its file
// rewritten between signals. Ports: RESP at the test base + 360.., admin at + 990...

const cleanup = cleanupAfterEach();
let dir: string;
let next = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'slotgate-reload-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SECRETS = {
  pass1: 'pass-One-Secret-1',
  pass2: 'pass-Two-Secret-2',
  app1: 'app-One-Secret-3',
  app2: 'app-Two-Secret-4',
  gone: 'gone-Secret-5',
  reader: 'reader-Secret-6',
};

async function start(
  config: Record<string, unknown>,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ slotgate: SlotgateProcess; port: number; file: string; rewrite: (c: Record<string, unknown> | string) => Promise<void> }> {
  const n = next++;
  const port = testBasePort() + 360 + n;
  const adminPort = testBasePort() + 990 + n;
  const file = path.join(dir, `slotgate-${n}.yaml`);
  const rewrite = (c: Record<string, unknown> | string): Promise<void> => writeFile(file, typeof c === 'string' ? c : stringify(c));
  await rewrite(config);
  const args = ['--config', file, '--threads', '1', '--bind', '127.0.0.1', '--port', String(port), '--admin-bind', '127.0.0.1', '--admin-port', String(adminPort)];
  const slotgate = await spawnSlotgate([...args, '--drain-delay', '0', ...extra, ...sharedClusterSeeds()], {
    env: { ...process.env, ...env },
    adminPort,
  });
  cleanup(() => slotgate.kill());
  return { slotgate, port, file, rewrite };
}

/** Sends one command and waits for the reply bytes (the connection's received text grows by one reply). */
async function call(conn: RawConnection, args: string[], expected: RegExp): Promise<void> {
  const before = conn.received().length;
  conn.send(args);
  await conn.waitFor(new RegExp(`^[\\s\\S]{${before}}${expected.source}`)).catch(() => {
    throw new Error(`${args.join(' ')}: expected ${expected}, got ${JSON.stringify(conn.received().slice(before))}`);
  });
}

const configValue = (name: string, value: string): RegExp => new RegExp(`\\*2\\r\\n\\$${name.length}\\r\\n${name}\\r\\n\\$${value.length}\\r\\n${value}\\r\\n`);

async function sighup(slotgate: SlotgateProcess, msg: string): Promise<void> {
  const seen = slotgate.logs().filter((l) => l.msg.includes(msg)).length;
  slotgate.signal('SIGHUP');
  await slotgate.waitForLog(msg, 10_000, () => slotgate.logs().filter((l) => l.msg.includes(msg)).length > seen);
}

describe('SIGHUP reloads the configuration file', () => {
  it('applies log level, limits, cross-slot, passwords and users to open connections; flags and env still win; needs-a-restart options are kept', async () => {
    const passFile = path.join(dir, 'requirepass.txt');
    await writeFile(passFile, SECRETS.pass1 + '\n');
    const users = [
      { name: 'app', password: SECRETS.app1, commands: 'allcommands', keys: 'allkeys' },
      { name: 'gone', password: SECRETS.gone },
      { name: 'reader', password: SECRETS.reader, commands: '+@read +@connection' },
    ];
    const before = {
      'log-level': 'info',
      'max-clients': 50,
      'requirepass-file': passFile,
      users,
      'cross-slot': 'split',
      'max-redirects': 9,
      'slowlog-max-len': 99,
    };
    const { slotgate, port, rewrite } = await start(before, ['--max-redirects', '3'], { SLOTGATE_SLOWLOG_MAX_LEN: '7' });

    const admin = await rawConnect(port);
    await call(admin, ['AUTH', SECRETS.pass1], /\+OK\r\n/);
    const app = await rawConnect(port);
    await call(app, ['AUTH', 'app', SECRETS.app1], /\+OK\r\n/);
    await call(app, ['SET', 'reload:app', 'v1'], /\+OK\r\n/);
    const gone = await rawConnect(port);
    await call(gone, ['AUTH', 'gone', SECRETS.gone], /\+OK\r\n/);
    const reader = await rawConnect(port);
    await call(reader, ['AUTH', 'reader', SECRETS.reader], /\+OK\r\n/);
    const anonymous = await rawConnect(port);
    await call(anonymous, ['PING'], /-NOAUTH/);
    await call(admin, ['MGET', 'reload:a', 'reload:b', 'reload:c'], /\*3\r\n/); // split across slots
    await call(admin, ['PROXY', 'CONFIG', 'GET', 'max-redirects'], configValue('max-redirects', '3'));
    await call(admin, ['PROXY', 'CONFIG', 'GET', 'slowlog-max-len'], configValue('slowlog-max-len', '7'));

    await writeFile(passFile, SECRETS.pass2 + '\n');
    await rewrite({
      'log-level': 'debug',
      'max-clients': 6,
      'requirepass-file': passFile,
      users: [
        { name: 'app', password: SECRETS.app2, commands: '+@read +@connection', keys: 'allkeys' },
        { name: 'reader', password: SECRETS.reader, commands: '+@read +@connection', enabled: false },
      ],
      'cross-slot': 'reject',
      'max-redirects': 1, // the flag (3) wins
      'slowlog-max-len': 1, // the env var (7) wins
      'proto-max-bulk-len': '1kb',
      'connections-per-node': 2, // needs a restart
    });
    await sighup(slotgate, 'configuration reloaded');

    const reloaded = slotgate.logs().find((l) => l.msg === 'configuration reloaded')!;
    expect(Object.keys(reloaded.changed as object).sort()).toEqual(
      ['cross-slot', 'log-level', 'max-clients', 'proto-max-bulk-len', 'requirepass', 'users'].sort(),
    );
    expect(reloaded).toMatchObject({
      changed: { 'max-clients': { from: 50, to: 6 }, requirepass: '(redacted)' },
      users: { added: [], removed: ['gone'], changed: ['app', 'reader'] },
      clientsClosed: 2,
      clientsRebound: 2,
    });
    expect(await slotgate.waitForLog('needs a restart')).toMatchObject({ options: ['connections-per-node'] });

    // Users removed or disabled: their connections are closed; the others stay open.
    expect((await gone.closed).how).toBe('end');
    expect((await reader.closed).how).toBe('end');
    await call(admin, ['PING'], /\+PONG\r\n/);
    await call(anonymous, ['PING'], /-NOAUTH/);

    // New values in effect.
    await call(admin, ['PROXY', 'CONFIG', 'GET', 'log-level'], configValue('log-level', 'debug'));
    await call(admin, ['PROXY', 'CONFIG', 'GET', 'max-clients'], configValue('max-clients', '6'));
    await call(admin, ['PROXY', 'CONFIG', 'GET', 'cross-slot'], configValue('cross-slot', 'reject'));
    await call(admin, ['PROXY', 'CONFIG', 'GET', 'connections-per-node'], configValue('connections-per-node', '1'));
    await call(admin, ['PROXY', 'CONFIG', 'GET', 'max-redirects'], configValue('max-redirects', '3'));
    await call(admin, ['PROXY', 'CONFIG', 'GET', 'slowlog-max-len'], configValue('slowlog-max-len', '7'));
    await call(admin, ['MGET', 'reload:a', 'reload:b', 'reload:c'], /-CROSSSLOT/);
    await call(admin, ['PROXY', 'CONFIG', 'SET', 'requirepass', 'x'], /-ERR 'requirepass' cannot be changed with PROXY CONFIG SET \(change the configuration and send slotgate SIGHUP\)\r\n/);
    await call(admin, ['PROXY', 'CONFIG', 'SET', 'drain-delay', '20s'], /-ERR Invalid value for 'drain-delay': drain-delay \(20s\) must be shorter than drain-timeout \(10s\)/);
    // Newly changeable with PROXY CONFIG SET too, and for open connections: max-args.
    await call(admin, ['PROXY', 'CONFIG', 'SET', 'max-args', '5'], /\+OK\r\n/);
    await call(admin, ['PROXY', 'CONFIG', 'GET', 'max-args'], configValue('max-args', '5'));
    const wide = await rawConnect(port);
    await call(wide, ['MGET', 'a', 'b', 'c', 'd', 'e'], /-ERR Protocol error: invalid multibulk length\r\n/);
    await wide.closed;
    await call(admin, ['PROXY', 'CONFIG', 'SET', 'max-args', '1048576'], /\+OK\r\n/);

    // The app user has its new permissions on its open connection, and its new password.
    await call(app, ['GET', 'reload:app'], /\$2\r\nv1\r\n/);
    await call(app, ['SET', 'reload:app', 'v2'], /-NOPERM this user has no permissions to run the 'set' command\r\n/);
    await call(admin, ['PROXY', 'CLIENT', 'LIST'], /\$\d+\r\n[^$]*user=app /);
    await call(anonymous, ['AUTH', 'app', SECRETS.app1], /-WRONGPASS/);
    await call(anonymous, ['AUTH', 'reader', SECRETS.reader], /-WRONGPASS/);
    await call(anonymous, ['AUTH', SECRETS.pass1], /-WRONGPASS/);
    await call(anonymous, ['AUTH', SECRETS.pass2], /\+OK\r\n/);
    const fresh = await rawConnect(port);
    await call(fresh, ['AUTH', 'app', SECRETS.app2], /\+OK\r\n/);

    // max-clients 6: admin, app, anonymous, fresh are open; two more get in, the third is refused.
    const more = [await rawConnect(port), await rawConnect(port)];
    for (const c of more) await call(c, ['PING'], /-NOAUTH/);
    const refused = await rawConnect(port);
    await refused.waitFor(/^-ERR max number of clients reached\r\n$/);
    await refused.closed;
    for (const c of more) c.socket.destroy();

    // proto-max-bulk-len 1kb reaches the open connection's parser too.
    await call(admin, ['SET', 'reload:big', 'x'.repeat(2048)], /-ERR Protocol error: invalid bulk length\r\n/);
    await admin.closed;

    for (const secret of Object.values(SECRETS)) expect(slotgate.output(), secret).not.toContain(secret);
    for (const c of [app, anonymous, fresh]) c.socket.destroy();
  });

  it('keeps the running configuration when the file is not valid, and logs why', async () => {
    const { slotgate, port, rewrite } = await start({ 'cross-slot': 'reject', 'max-clients': 40, requirepass: SECRETS.pass1 });
    const client = await rawConnect(port);
    await call(client, ['AUTH', SECRETS.pass1], /\+OK\r\n/);

    await rewrite({ 'cross-slot': 'split', 'max-clients': 0, requirepass: SECRETS.pass2 });
    await sighup(slotgate, 'configuration not reloaded');
    const failed = slotgate.logs().find((l) => l.msg.includes('configuration not reloaded'))!;
    expect(failed.level).toBe(50);
    expect((failed.errors as string[]).join('\n')).toMatch(/max-clients: must be at least 1/);

    // Not YAML at all (a secret on the line YAML quotes must not reach the log).
    await rewrite(`cross-slot: split\nrequirepass: "${SECRETS.pass2}\n  bad: [`);
    await sighup(slotgate, 'configuration not reloaded');

    // An unknown option.
    await rewrite({ 'cross-slot': 'split', 'no-such-option': 1 });
    await sighup(slotgate, 'configuration not reloaded');

    await call(client, ['PROXY', 'CONFIG', 'GET', 'cross-slot'], configValue('cross-slot', 'reject'));
    await call(client, ['PROXY', 'CONFIG', 'GET', 'max-clients'], configValue('max-clients', '40'));
    const other = await rawConnect(port);
    await call(other, ['AUTH', SECRETS.pass2], /-WRONGPASS/);
    await call(other, ['AUTH', SECRETS.pass1], /\+OK\r\n/);

    // A good file again: taken over.
    await rewrite({ 'cross-slot': 'split', 'max-clients': 40, requirepass: SECRETS.pass1 });
    await sighup(slotgate, 'configuration reloaded');
    await call(client, ['PROXY', 'CONFIG', 'GET', 'cross-slot'], configValue('cross-slot', 'split'));
    for (const secret of Object.values(SECRETS)) expect(slotgate.output(), secret).not.toContain(secret);
    client.socket.destroy();
    other.socket.destroy();
  });

  it('an unchanged file changes nothing; requirepass newly set keeps open connections in, new ones must AUTH', async () => {
    const { slotgate, port, rewrite } = await start({ 'cross-slot': 'split' });
    await sighup(slotgate, 'nothing to change');
    const open = await rawConnect(port);
    await call(open, ['PING'], /\+PONG\r\n/);
    await rewrite({ 'cross-slot': 'split', requirepass: SECRETS.pass1 });
    await sighup(slotgate, 'configuration reloaded');
    await call(open, ['PING'], /\+PONG\r\n/); // as on Redis: already in
    const late = await rawConnect(port);
    await call(late, ['PING'], /-NOAUTH/);
    await call(late, ['AUTH', SECRETS.pass1], /\+OK\r\n/);

    // requirepass removed again: a connection still waiting to AUTH is in as default, as on Redis.
    const waiting = await rawConnect(port);
    await call(waiting, ['PING'], /-NOAUTH/);
    await rewrite({ 'cross-slot': 'split' });
    await sighup(slotgate, 'configuration reloaded');
    await call(waiting, ['PING'], /\+PONG\r\n/);
    for (const c of [open, late, waiting]) c.socket.destroy();
  });
});
