import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { SlotgateConfig } from '../../../src/config/config.js';
import { loadConfig, type ExitResult, type LoadResult } from '../../../src/config/load.js';
import { redactConfig } from '../../../src/config/redact.js';
import { envName, OPTIONS } from '../../../src/config/schema.js';
import { detectCpuCount } from '../../../src/workers/cpu-count.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slotgate-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a file in the test's temp dir and returns its path. */
async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

function expectRun(result: LoadResult): SlotgateConfig {
  if (result.kind !== 'run') throw new Error(`expected run, got ${result.kind}: ${result.stderr}`);
  return result.config;
}

function expectExit(result: LoadResult, kind: ExitResult['kind']): ExitResult {
  if (result.kind !== kind) throw new Error(`expected ${kind}, got ${result.kind}: ${JSON.stringify(result)}`);
  return result as ExitResult;
}

describe('schema', () => {
  it('declares each option, flag and env var once', () => {
    const names = OPTIONS.map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(OPTIONS.map((o) => o.field)).size).toBe(names.length);
    for (const o of OPTIONS) expect(o.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
    expect(envName('connections-per-node')).toBe('SLOTGATE_CONNECTIONS_PER_NODE');
  });
});

describe('loadConfig defaults', () => {
  it('gives the documented defaults', async () => {
    const config = expectRun(await loadConfig(['redis:7000'], {}));
    expect(config).toEqual({
      seeds: ['redis:7000'],
      bind: '0.0.0.0',
      port: 7777,
      threads: detectCpuCount(),
      users: [],
      slowlogLogSlowerThanUs: 10000,
      slowlogMaxLen: 128,
      connectionsPerNode: 1,
      privateLinksMax: 2000,
      privateLinksIdle: 2,
      refreshIntervalMs: 5000,
      requestTimeoutMs: 5000,
      connectTimeoutMs: 2000,
      maxRedirects: 5,
      logLevel: 'info',
      protoMaxBulkLen: 512 * 1024 * 1024,
      maxArgs: 1048576,
      clientQueryBufferLimit: 1024 ** 3,
      clientMaxPending: 10000,
      clientOutputBufferLimit: 'normal 0 0 0 pubsub 32mb 8mb 60',
      clientIdleTimeoutMs: 0,
      nodeMaxPending: 100000,
      tcpKeepaliveMs: 60000,
      maxClients: 10000,
      crossSlot: 'split',
      adminCommands: false,
      tlsOnly: false,
      tlsProtocols: 'TLSv1.2 TLSv1.3',
      tlsAuthClients: 'yes',
      backendTls: false,
      backendTlsVerifyHostname: 'yes',
      drainDelayMs: 5000,
      drainTimeoutMs: 10000,
      adminEnabled: true,
      adminPort: 9121,
      adminBind: '0.0.0.0',
    });
    expect(config.backendUser).toBeUndefined();
    expect(config.backendPassword).toBeUndefined();
    expect(config.requirepass).toBeUndefined();
  });

  it('takes the admin options from flags and the environment, and refuses a port out of range', async () => {
    expect(expectRun(await loadConfig(['--admin-enabled', 'false', '--admin-port', '0', 'redis:7000'], {}))).toMatchObject({
      adminEnabled: false,
      adminPort: 0,
    });
    expect(expectRun(await loadConfig(['redis:7000'], { SLOTGATE_ADMIN_PORT: '9200', SLOTGATE_ADMIN_BIND: '127.0.0.1' }))).toMatchObject({
      adminEnabled: true,
      adminPort: 9200,
      adminBind: '127.0.0.1',
    });
    expect(expectExit(await loadConfig(['--admin-port=65536', 'redis:7000'], {}), 'error').stderr).toContain('admin-port');
  });

  it('takes drain-delay and drain-timeout as durations, and refuses a delay that does not fit in the timeout', async () => {
    expect(expectRun(await loadConfig(['--drain-delay', '0', '--drain-timeout', '2s', 'redis:7000'], {}))).toMatchObject({
      drainDelayMs: 0,
      drainTimeoutMs: 2000,
    });
    expect(expectRun(await loadConfig(['redis:7000'], { SLOTGATE_DRAIN_DELAY: '1500ms' }))).toMatchObject({ drainDelayMs: 1500 });
    const tooLong = expectExit(await loadConfig(['--drain-delay', '20s', 'redis:7000'], {}), 'error');
    expect(tooLong.stderr).toContain('drain-delay (20s) must be shorter than drain-timeout (10s)');
    expect(expectExit(await loadConfig(['--drain-timeout', '0', 'redis:7000'], {}), 'error').stderr).toContain('drain-timeout');
    expect(expectExit(await loadConfig(['--help'], {}), 'help').stdout).toMatch(/--drain-delay[\s\S]*--drain-timeout/);
  });

  it('requires at least one seed to run', async () => {
    const result = expectExit(await loadConfig([], {}), 'error');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no seed nodes');
  });
});

describe('loadConfig precedence: defaults < file < env < flags', () => {
  it('lets each layer override the one below, field by field', async () => {
    const config = await file(
      'slotgate.yaml',
      ['seeds:', '  - file-a:7000', '  - file-b:7001', 'port: 1000', 'connections-per-node: 3', 'refresh-interval: 10s', 'bind: 127.0.0.1', 'proto-max-bulk-len: 64kb'].join('\n'),
    );
    const env = { SLOTGATE_PORT: '2000', SLOTGATE_CONNECTIONS_PER_NODE: '4', SLOTGATE_PROTO_MAX_BULK_LEN: '1mb' };
    const cfg = expectRun(await loadConfig(['--config', config, '--port', '3000'], env));
    expect(cfg.port).toBe(3000); // flag
    expect(cfg.connectionsPerNode).toBe(4); // env
    expect(cfg.protoMaxBulkLen).toBe(1024 * 1024); // env
    expect(cfg.refreshIntervalMs).toBe(10_000); // file
    expect(cfg.bind).toBe('127.0.0.1'); // file
    expect(cfg.seeds).toEqual(['file-a:7000', 'file-b:7001']); // file
    expect(cfg.maxRedirects).toBe(5); // default
  });

  it('replaces seeds as a whole: env over file, arguments and --seeds over env', async () => {
    const config = await file('c.yaml', 'seeds: [file:1]\n');
    const env = { SLOTGATE_SEEDS: 'env-a:1, env-b:2' };
    expect(expectRun(await loadConfig(['--config', config], env)).seeds).toEqual(['env-a:1', 'env-b:2']);
    expect(expectRun(await loadConfig(['--config', config, 'cli:1'], env)).seeds).toEqual(['cli:1']);
    expect(expectRun(await loadConfig(['--seeds', 'a:1,b:2'], env)).seeds).toEqual(['a:1', 'b:2']);
    expect(expectRun(await loadConfig(['x:1', '[::1]:2', '--seeds', 'y:3'], {})).seeds).toEqual(['x:1', '[::1]:2', 'y:3']);
  });

  it('keeps the last of a repeated flag', async () => {
    expect(expectRun(await loadConfig(['a:1', '--port', '1', '--port', '2'], {})).port).toBe(2);
  });

  it('treats empty env vars as unset', async () => {
    expect(expectRun(await loadConfig(['a:1'], { SLOTGATE_PORT: '', SLOTGATE_SEEDS: '' })).port).toBe(7777);
  });

  it('ignores a Kubernetes service-link SLOTGATE_PORT with a warning', async () => {
    const result = await loadConfig(['a:1'], { SLOTGATE_PORT: 'tcp://10.0.0.1:7777' });
    if (result.kind !== 'run') throw new Error(result.stderr);
    expect(result.config.port).toBe(7777);
    expect(result.warnings.join()).toContain('SLOTGATE_PORT');
  });
});

describe('loadConfig sizes and durations', () => {
  it('parses units from flags, env and file', async () => {
    const config = await file('c.yaml', 'connect-timeout: 200ms\nclient-query-buffer-limit: 4096\n');
    const cfg = expectRun(
      await loadConfig(['a:1', '--config', config, '--proto-max-bulk-len', '1gb', '--request-timeout', '1m'], {
        SLOTGATE_REFRESH_INTERVAL: '30s',
      }),
    );
    expect(cfg.protoMaxBulkLen).toBe(1024 ** 3);
    expect(cfg.requestTimeoutMs).toBe(60_000);
    expect(cfg.refreshIntervalMs).toBe(30_000);
    expect(cfg.connectTimeoutMs).toBe(200);
    expect(cfg.clientQueryBufferLimit).toBe(4096);
  });

  it('reports every bad value at once, naming where it came from', async () => {
    const config = await file('c.yaml', 'max-redirects: lots\n');
    const result = expectExit(
      await loadConfig(['a:1', '--config', config, '--proto-max-bulk-len', '1.5gb', '--port', '65536'], {
        SLOTGATE_REQUEST_TIMEOUT: 'soon',
        SLOTGATE_LOG_LEVEL: 'loud',
      }),
      'error',
    );
    expect(result.exitCode).toBe(1);
    expect(result.errors).toHaveLength(5);
    expect(result.stderr).toContain('--proto-max-bulk-len: expected a size');
    expect(result.stderr).toContain('--port: must be between 0 and 65535, got 65536');
    expect(result.stderr).toContain('SLOTGATE_REQUEST_TIMEOUT: expected a duration');
    expect(result.stderr).toContain('SLOTGATE_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent');
    expect(result.stderr).toContain(`${config}: max-redirects: expected a non-negative integer`);
  });
});

describe('loadConfig secrets', () => {
  it('reads <name>-file from flags, env and file, trimmed', async () => {
    const pass = await file('pass', 'client-secret\n');
    const backend = await file('backend', '  node-secret  \n');
    await file('user', 'ignored');
    const cfg = expectRun(
      await loadConfig(['a:1', '--requirepass-file', pass], { SLOTGATE_BACKEND_PASSWORD_FILE: backend }),
    );
    expect(cfg.requirepass).toBe('client-secret');
    expect(cfg.backendPassword).toBe('node-secret');
  });

  it('resolves a relative -file path in the YAML file from the YAML file’s folder', async () => {
    await file('secret.txt', 'from-yaml\n');
    const config = await file('c.yaml', 'seeds: [a:1]\nrequirepass-file: secret.txt\n');
    expect(expectRun(await loadConfig(['--config', config], {})).requirepass).toBe('from-yaml');
  });

  it('lets a higher layer override a secret in either form', async () => {
    const pass = await file('pass', 'from-file');
    const cfg = expectRun(await loadConfig(['a:1', '--requirepass', 'from-flag'], { SLOTGATE_REQUIREPASS_FILE: pass }));
    expect(cfg.requirepass).toBe('from-flag');
  });

  it('rejects a missing or empty secret file, and both forms in one source', async () => {
    const empty = await file('empty', '\n');
    const pass = await file('pass', 'x');
    const missing = expectExit(await loadConfig(['a:1', '--requirepass-file', join(dir, 'nope')], {}), 'error');
    expect(missing.stderr).toContain('--requirepass-file: cannot read');
    expect(missing.stderr).toContain('no such file');
    const blank = expectExit(await loadConfig(['a:1'], { SLOTGATE_REQUIREPASS_FILE: empty }), 'error');
    expect(blank.stderr).toContain('is empty');
    const both = expectExit(await loadConfig(['a:1', '--requirepass', 'y', '--requirepass-file', pass], {}), 'error');
    expect(both.stderr).toContain('both set requirepass');
  });
});

describe('loadConfig rejects bad input', () => {
  it('rejects an unknown flag', async () => {
    const result = expectExit(await loadConfig(['a:1', '--bogus', 'x'], {}), 'error');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Unknown argument: bogus');
    expect(result.stdout).toBe('');
  });

  it('rejects camelCase spellings, --no-* negation and a flag without its value', async () => {
    expect(expectExit(await loadConfig(['a:1', '--connectionsPerNode', '3'], {}), 'error').stderr).toContain('Unknown argument');
    expect(expectExit(await loadConfig(['a:1', '--no-port'], {}), 'error').stderr).toContain('Unknown argument');
    expect(expectExit(await loadConfig(['a:1', '--port'], {}), 'error').stderr).toContain('Not enough arguments');
  });

  it('rejects an unknown YAML key', async () => {
    const config = await file('c.yaml', 'seeds: [a:1]\nconections-per-node: 3\n');
    const result = expectExit(await loadConfig(['--config', config], {}), 'error');
    expect(result.stderr).toContain('unknown option "conections-per-node"');
  });

  it('rejects invalid YAML, a non-mapping document and a missing file', async () => {
    const broken = await file('broken.yaml', 'seeds:\n  - [::1]:7000\n');
    expect(expectExit(await loadConfig(['--config', broken], {}), 'error').stderr).toContain(broken);
    const list = await file('list.yaml', '- a:1\n');
    expect(expectExit(await loadConfig(['--config', list], {}), 'error').stderr).toContain('expected a mapping');
    expect(expectExit(await loadConfig(['a:1', '--config', join(dir, 'nope.yaml')], {}), 'error').stderr).toContain(
      'no such file',
    );
  });

  it('rejects bad seeds from every source', async () => {
    expect(expectExit(await loadConfig(['localhost'], {}), 'error').stderr).toContain('seed "localhost" must be host:port');
    expect(expectExit(await loadConfig(['h:0'], {}), 'error').stderr).toContain('port between 1 and 65535');
    expect(expectExit(await loadConfig([], { SLOTGATE_SEEDS: 'a:1,::1:7000' }), 'error').stderr).toContain(
      'SLOTGATE_SEEDS: seed "::1:7000": write an IPv6 address in brackets',
    );
  });
});

describe('loadConfig help and version', () => {
  it('returns help listing every option once, exit 0', async () => {
    const result = expectExit(await loadConfig(['--help'], {}), 'help');
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('slotgate [options] SEED...');
    for (const flag of [...OPTIONS.map((o) => o.name), 'requirepass-file', 'backend-password-file', 'config', 'check-config', 'version']) {
      // Option lines only: the epilogue may mention a flag in prose.
      const occurrences = result.stdout.match(new RegExp(`^ +(?:-\\w, )?--${flag} `, 'gm')) ?? [];
      expect(occurrences, flag).toHaveLength(1);
    }
    expect(result.stdout).toContain('[default: 512mb]');
    expect(result.stdout).toContain('SLOTGATE_CONNECTIONS_PER_NODE');
  });

  it('prefers help over other errors', async () => {
    expect((await loadConfig(['-h', '--bogus'], {})).kind).toBe('help');
  });

  it('returns the package.json version, exit 0', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = expectExit(await loadConfig(['--version'], {}), 'version');
    expect(result).toMatchObject({ exitCode: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });
});

describe('loadConfig --check-config', () => {
  it('prints the resolved config as YAML with secrets redacted, exit 0', async () => {
    const pass = await file('pass', 'client-secret');
    const result = expectExit(
      await loadConfig(['--check-config', 'a:1', '--requirepass-file', pass, '--backend-user', 'proxy'], {
        SLOTGATE_BACKEND_PASSWORD: 'node-secret',
        SLOTGATE_REFRESH_INTERVAL: '1500',
      }),
      'check-config',
    );
    expect(result.exitCode).toBe(0);
    expect(result.errors).toEqual([]);
    expect(result.stdout).not.toContain('secret');
    const doc = parseYaml(result.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      seeds: ['a:1'],
      port: 7777,
      'backend-user': 'proxy',
      'backend-password': '(redacted)',
      requirepass: '(redacted)',
      'refresh-interval': '1500ms',
      'proto-max-bulk-len': '512mb',
    });
  });

  it('output without secrets loads back as a config file', async () => {
    const check = expectExit(await loadConfig(['--check-config', 'a:1', '--max-clients', '5', '--connect-timeout', '90s'], {}), 'check-config');
    const config = await file('resolved.yaml', check.stdout);
    const cfg = expectRun(await loadConfig(['--config', config], {}));
    expect(cfg).toEqual(expectRun(await loadConfig(['a:1', '--max-clients', '5', '--connect-timeout', '90s'], {})));
  });

  it('prints the errors and exits 1 when invalid, including missing seeds', async () => {
    const result = expectExit(await loadConfig(['--check-config', '--max-args', '0'], {}), 'check-config');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no seed nodes');
    expect(result.stderr).toContain('--max-args: must be at least 1');
    expect(parseYaml(result.stdout)).toMatchObject({ 'max-args': 1048576 });
  });
});

describe('loadConfig threads', () => {
  it('defaults to the CPUs this process may use, shown resolved by --check-config', async () => {
    const check = expectExit(await loadConfig(['--check-config', 'a:1'], {}), 'check-config');
    expect(parseYaml(check.stdout)).toMatchObject({ threads: detectCpuCount() });
  });

  it('is set by flag, env and file, an integer of at least 1', async () => {
    expect(expectRun(await loadConfig(['a:1', '--threads', '3'], {})).threads).toBe(3);
    expect(expectRun(await loadConfig(['a:1'], { SLOTGATE_THREADS: '1' })).threads).toBe(1);
    const yaml = await file('threads.yaml', 'threads: 4\nseeds: [a:1]\n');
    expect(expectRun(await loadConfig(['--config', yaml], {})).threads).toBe(4);
    for (const bad of ['0', '1.5', 'two', '-1']) {
      const result = expectExit(await loadConfig(['a:1', '--threads', bad], {}), 'error');
      expect(result.stderr).toMatch(/--threads/);
    }
  });

  it('needs a restart to change (not PROXY CONFIG SET, not a reload)', () => {
    const spec = OPTIONS.find((o) => o.name === 'threads')!;
    expect(spec.runtime).toBeUndefined();
    expect(spec.reloadable).toBeUndefined();
  });
});

describe('redactConfig', () => {
  it('replaces set secrets only and leaves the original untouched', async () => {
    const cfg = expectRun(await loadConfig(['a:1', '--requirepass', 'hunter2', '--backend-user', 'proxy'], {}));
    const redacted = redactConfig(cfg);
    expect(redacted.requirepass).toBe('(redacted)');
    expect(redacted.backendPassword).toBeUndefined();
    expect(redacted.backendUser).toBe('proxy');
    expect(JSON.stringify(redacted)).not.toContain('hunter2');
    expect(cfg.requirepass).toBe('hunter2');
  });
});
