import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { slotOf } from '../../src/cluster/key-slot.js';
import { encodeCommand } from '../../src/resp/encode.js';
import type { LocalCluster } from '../../src/tools/local-cluster.js';
import type { SlotgateConfig } from '../../src/config/config.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { startOwnCluster } from '../helpers/cluster.js';
import { proxyClient, proxyCounter, startTestProxy } from '../helpers/proxy.js';
import { runRedisCli } from '../helpers/redis-cli.js';
import { eventually } from '../helpers/eventually.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { collectReplies } from '../helpers/collect-replies.js';
import { TestCa, type CertFiles } from '../helpers/tls-certs.js';

// A cluster whose nodes speak only TLS (plain ports closed, TLS on the bus and replication, client
// certificates required), slotgate in front of it with TLS to the nodes, and its own TLS port.

const dir = path.join(os.tmpdir(), `slotgate-tls-certs-${process.pid}`);
let ca: TestCa;
let otherCa: TestCa;
let nodeCert: CertFiles;
let proxyCert: CertFiles;
let clientCert: CertFiles;
let rogueCert: CertFiles;
let cluster: LocalCluster;
let proxy: ProxyServer;
const cleanup = cleanupAfterEach();

beforeAll(async () => {
  ca = await TestCa.create(path.join(dir, 'ca'), 'test-ca');
  otherCa = await TestCa.create(path.join(dir, 'other-ca'), 'other-ca');
  nodeCert = await ca.issue('node', 1);
  proxyCert = await ca.issue('slotgate', 2);
  clientCert = await ca.issue('client', 3);
  rogueCert = await otherCa.issue('rogue', 4);
  cluster = await startOwnCluster('tls', 1000, { tls: { ...nodeCert, caFile: ca.certFile } });
  proxy = await startTestProxy(cluster.seeds, { ...tlsConfig(proxyCert), ...backendConfig(clientCert) });
});

afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
  await fsp.rm(dir, { recursive: true, force: true });
});

function tlsConfig(cert: CertFiles): Partial<SlotgateConfig> {
  return { tlsPort: 0, tlsCertFile: cert.certFile, tlsKeyFile: cert.keyFile, tlsCaCertFile: ca.certFile };
}

function backendConfig(cert: CertFiles): Partial<SlotgateConfig> {
  return { backendTls: true, backendTlsCaCertFile: ca.certFile, backendTlsCertFile: cert.certFile, backendTlsKeyFile: cert.keyFile };
}

/** ioredis' `tls` options for a client that trusts the test CA and shows `cert`. */
function clientTls(cert: CertFiles | null): tls.ConnectionOptions {
  return {
    ca: fs.readFileSync(ca.certFile),
    ...(cert !== null ? { cert: fs.readFileSync(cert.certFile), key: fs.readFileSync(cert.keyFile) } : {}),
  };
}

function tlsClient(port: number, cert: CertFiles | null = clientCert, protocol: 2 | 3 = 2): Redis {
  const client = new Redis({ host: '127.0.0.1', port, protocol, maxRetriesPerRequest: 0, tls: clientTls(cert) });
  cleanup(() => client.disconnect());
  return client;
}

interface TlsOutcome {
  /** What the server sent back to a PING. */
  reply: string;
  /** The connection's error, if any (handshake refused, certificate not trusted). */
  error: string | null;
  serial: string | null;
  fingerprint: string | null;
  /** The server closed the connection (rather than the 2 s bound running out). */
  closed: boolean;
}

/** One raw TLS connection: handshake, PING, whatever comes back until close or 2 s. */
function pingOverTls(port: number, options: tls.ConnectionOptions): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    const outcome: TlsOutcome = { reply: '', error: null, serial: null, fingerprint: null, closed: false };
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(done, 2000);
    socket.on('end', () => (outcome.closed = true));
    socket.on('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      outcome.serial = cert.serialNumber;
      outcome.fingerprint = cert.fingerprint256;
      socket.write('PING\r\n');
    });
    socket.on('data', (d: Buffer) => {
      outcome.reply += d.toString();
      if (outcome.reply.endsWith('\r\n')) done();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      outcome.error = e.code ?? e.message;
      outcome.closed = true;
    });
    socket.on('close', done);
  });
}

/** Keys whose slots are owned by every master of the 3-master cluster (one per slot range). */
const SPREAD_KEYS = ['tls:a', 'tls:b', 'tls:c', 'tls:d', 'tls:e', 'tls:f', 'tls:g', 'tls:h'];

describe('TLS to the nodes and on the client port', () => {
  it('serves redis-cli --tls on the TLS port: SET/GET across slots and a cross-slot MGET', async () => {
    // redis-cli --cluster create gives 3 masters the slots 0-5460, 5461-10922 and 10923-16383.
    const slots = new Set(SPREAD_KEYS.map((k) => (slotOf(k) < 5461 ? 0 : slotOf(k) < 10923 ? 1 : 2)));
    expect(slots.size).toBe(3); // the keys reach all three masters
    const tlsArgs = ['--tls', '--cacert', ca.certFile, '--cert', clientCert.certFile, '--key', clientCert.keyFile];
    const input = SPREAD_KEYS.map((k) => `SET ${k} v-${k}\n`).join('') + SPREAD_KEYS.map((k) => `GET ${k}\n`).join('') + `MGET ${SPREAD_KEYS.join(' ')}\n`;
    const out = await runRedisCli([...tlsArgs, '-h', '127.0.0.1', '-p', String(proxy.tlsPort)], input);
    expect(out.stderr).toBe('');
    const values = SPREAD_KEYS.map((k) => `v-${k}`);
    expect(out.stdout.trim().split('\n')).toEqual([...SPREAD_KEYS.map(() => 'OK'), ...values, ...values]);
  });

  it('serves ioredis with tls options (RESP2 and RESP3), and the plain port alongside', async () => {
    for (const protocol of [2, 3] as const) {
      const client = tlsClient(proxy.tlsPort!, clientCert, protocol);
      const prefix = `io${protocol}`;
      const pipeline = client.pipeline();
      for (let i = 0; i < 200; i++) pipeline.set(`${prefix}:${i}`, `value-${i}`);
      const results = await pipeline.exec();
      expect(results?.every(([err, r]) => err === null && r === 'OK')).toBe(true);
      const keys = Array.from({ length: 200 }, (_, i) => `${prefix}:${i}`);
      expect(await client.mget(...keys)).toEqual(keys.map((_, i) => `value-${i}`));
      // A transaction and a blocking call go on dedicated node links, over TLS too.
      expect(await client.multi().set(`{${prefix}}x`, '1').incr(`{${prefix}}x`).exec()).toEqual([
        [null, 'OK'],
        [null, 2],
      ]);
      await client.rpush(`${prefix}:list`, 'item');
      expect(await client.blpop(`${prefix}:list`, 1)).toEqual([`${prefix}:list`, 'item']);
    }
    const plain = proxyClient(proxy);
    cleanup(() => plain.disconnect());
    expect(await plain.get('io2:7')).toBe('value-7');
    // The cluster's own COMMAND was read over TLS too (a query connection of its own).
    expect(String(await plain.call('PROXY', 'INFO'))).toContain('command_table:cluster');
    expect(await proxyCounter(plain, 'covered_slots')).toBe(16384);
  });

  it('holds back a TLS client that does not read its replies, then answers everything in order', async () => {
    const maxPending = 100;
    const bounded = await startTestProxy(cluster.seeds, { ...tlsConfig(proxyCert), ...backendConfig(clientCert), clientMaxPending: maxPending });
    cleanup(() => bounded.close());
    const observer = tlsClient(bounded.tlsPort!);
    const value = 'x'.repeat(16 * 1024);
    const keys = SPREAD_KEYS.map((k) => `${k}:big`);
    for (const k of keys) await observer.set(k, `${k}:${value}`);
    const count = 2000; // 32 MB of replies: far more than socket buffers hold

    const socket = tls.connect({ host: '127.0.0.1', port: bounded.tlsPort!, ...clientTls(clientCert) });
    cleanup(() => socket.destroy());
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    socket.pause(); // read nothing for now
    socket.write(Buffer.concat(Array.from({ length: count }, (_, i) => encodeCommand(['GET', keys[i % keys.length]!]))));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await proxyCounter(observer, 'pending_requests')).toBeLessThanOrEqual(maxPending);
    expect(await proxyCounter(observer, 'client_query_bytes')).toBeGreaterThan(0);
    expect(await proxyCounter(observer, 'client_output_bytes')).toBeLessThan(2 * maxPending * 17 * 1024);
    expect(await observer.get(keys[0]!)).toBe(`${keys[0]}:${value}`);

    const replies = await collectReplies(socket, count, 30_000);
    const expected = (i: number): string => {
      const k = keys[i % keys.length]!;
      return `$${k.length + 1 + value.length}\r\n${k}:${value}\r\n`;
    };
    expect(replies.length).toBe(count);
    expect(replies.findIndex((r, i) => r !== expected(i))).toBe(-1);
  });

  it('refuses a client without a certificate, one whose certificate another CA signed, and is refused by a client trusting another CA', async () => {
    const good = await pingOverTls(proxy.tlsPort!, clientTls(clientCert));
    expect(good.reply).toBe('+PONG\r\n');
    const noCert = await pingOverTls(proxy.tlsPort!, clientTls(null));
    expect(noCert).toMatchObject({ reply: '', closed: true });
    const rogue = await pingOverTls(proxy.tlsPort!, clientTls(rogueCert));
    // TLS 1.3 finishes the client's side of the handshake first: the refusal is the server's close.
    expect(rogue).toMatchObject({ reply: '', closed: true });
    const wrongTrust = await pingOverTls(proxy.tlsPort!, { ...clientTls(clientCert), ca: fs.readFileSync(otherCa.certFile) });
    expect(wrongTrust.reply).toBe('');
    expect(wrongTrust.error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
  });

  it('with tls-auth-clients optional lets a client without a certificate in, but refuses an untrusted one; with no, asks for none', async () => {
    const optional = await startTestProxy(cluster.seeds, { ...tlsConfig(proxyCert), tlsAuthClients: 'optional', ...backendConfig(clientCert) });
    cleanup(() => optional.close());
    expect((await pingOverTls(optional.tlsPort!, clientTls(null))).reply).toBe('+PONG\r\n');
    expect((await pingOverTls(optional.tlsPort!, clientTls(clientCert))).reply).toBe('+PONG\r\n');
    expect((await pingOverTls(optional.tlsPort!, clientTls(rogueCert))).reply).toBe('');
    const none = await startTestProxy(cluster.seeds, { ...tlsConfig(proxyCert), tlsCaCertFile: undefined, tlsAuthClients: 'no', ...backendConfig(clientCert) });
    cleanup(() => none.close());
    expect((await pingOverTls(none.tlsPort!, clientTls(null))).reply).toBe('+PONG\r\n');
  });

  it('with tls-only listens on the TLS port alone; tls-protocols bounds the TLS versions', async () => {
    const only = await startTestProxy(cluster.seeds, { ...tlsConfig(proxyCert), tlsOnly: true, tlsProtocols: 'TLSv1.3', ...backendConfig(clientCert) });
    cleanup(() => only.close());
    expect(only.port).toBe(only.tlsPort);
    const client = tlsClient(only.tlsPort!);
    expect(await client.set('tls:b', 'only')).toBe('OK');
    expect(String(await client.call('PROXY', 'INFO'))).toContain(`tcp_port:${only.tlsPort}`);
    const old = await pingOverTls(only.tlsPort!, { ...clientTls(clientCert), maxVersion: 'TLSv1.2' });
    expect(old).toMatchObject({ reply: '', closed: true });
    expect(old.error).toMatch(/VERSION|PROTOCOL/);
    // TLS 1.2 alone: a client offering 1.2 and 1.3 gets 1.2.
    const twelve = await startTestProxy(cluster.seeds, { ...tlsConfig(proxyCert), tlsProtocols: 'TLSv1.2', ...backendConfig(clientCert) });
    cleanup(() => twelve.close());
    const socket = tls.connect({ host: '127.0.0.1', port: twelve.tlsPort!, ...clientTls(clientCert) });
    cleanup(() => socket.destroy());
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    expect(socket.getProtocol()).toBe('TLSv1.2');
  });

  it('checks the nodes\' certificates against backend-tls-servername, unless backend-tls-verify-hostname is no', async () => {
    const named = async (servername: string, verify: 'yes' | 'no'): Promise<string | null> => {
      const p = await startTestProxy(cluster.seeds, {
        ...backendConfig(clientCert),
        backendTlsServername: servername,
        backendTlsVerifyHostname: verify,
        requestTimeoutMs: 1000,
      });
      cleanup(() => p.close());
      const client = proxyClient(p);
      client.on('error', () => {});
      cleanup(() => client.disconnect());
      return client.get('tls:a').catch((e: Error) => e.message);
    };
    expect(await tlsClient(proxy.tlsPort!).set('tls:a', 'v-tls:a')).toBe('OK');
    // The nodes' certificate names 127.0.0.1 and localhost.
    expect(await named('localhost', 'yes')).toBe('v-tls:a');
    // Refused at the handshake: no node gives the topology (only the name differs from the next).
    expect(await named('redis.example', 'yes')).toMatch(/CLUSTERDOWN/);
    expect(await named('redis.example', 'no')).toBe('v-tls:a');
  });

  it('fails requests with a clear error when the nodes refuse slotgate (no client certificate)', async () => {
    const refused = await startTestProxy(cluster.seeds, {
      backendTls: true,
      backendTlsCaCertFile: ca.certFile,
      requestTimeoutMs: 1000,
      connectTimeoutMs: 500,
    });
    cleanup(() => refused.close());
    const client = proxyClient(refused);
    client.on('error', () => {});
    cleanup(() => client.disconnect());
    await expect(client.get('tls:a')).rejects.toThrow(/CLUSTERDOWN/);
  });
});

describe('certificate reload', () => {
  it('applies new backend certificate files to new node connections only, and keeps the loaded ones after a bad file', async () => {
    const files = await copyCert(clientCert, 'backend-live');
    // No idle dedicated links: a BLPOP opens a new node connection.
    const reloading = await startTestProxy(cluster.seeds, { ...backendConfig(files), privateLinksIdle: 0, requestTimeoutMs: 1000 });
    cleanup(() => reloading.close());
    const resp2 = proxyClient(reloading);
    resp2.on('error', () => {});
    cleanup(() => resp2.disconnect());
    expect(await resp2.set('reload:a', '1')).toBe('OK');

    // A file that is not PEM: the reload is refused and the loaded certificate stays in use, so
    // the RESP3 links (opened on the first RESP3 request) connect.
    await fsp.writeFile(files.certFile, 'not a certificate\n');
    reloading.reloadTls();
    const resp3 = proxyClient(reloading, { protocol: 3 });
    resp3.on('error', () => {});
    cleanup(() => resp3.disconnect());
    expect(await resp3.get('reload:a')).toBe('1');

    // A certificate the nodes do not trust: open links keep working, a new one fails.
    await installCert(rogueCert, files);
    reloading.reloadTls();
    expect(await resp2.get('reload:a')).toBe('1');
    expect(await resp3.get('reload:a')).toBe('1');
    await expect(resp2.blpop('reload:list', 0.2)).rejects.toThrow(/slotgate: connection to 127\.0\.0\.1:\d+ lost \(.*(alert|certificate)/);

    await installCert(clientCert, files);
    reloading.reloadTls();
    await resp2.rpush('reload:list', 'x');
    await eventually(async () => (await resp2.blpop('reload:list', 0.2).catch(() => null)) !== null, 10_000);
  });

  it('on SIGHUP serves new client certificate files to new connections while open ones keep working', async () => {
    const files = await copyCert(proxyCert, 'front-live');
    const slotgate = await spawnSlotgate([
      '--bind', '127.0.0.1', '--port', '0', '--admin-port', '0', '--tls-port', '0', '--log-level', 'info',
      '--tls-cert-file', files.certFile, '--tls-key-file', files.keyFile, '--tls-ca-cert-file', ca.certFile,
      '--backend-tls', '--backend-tls-ca-cert-file', ca.certFile,
      '--backend-tls-cert-file', clientCert.certFile, '--backend-tls-key-file', clientCert.keyFile,
      ...cluster.seeds,
    ]);
    cleanup(() => slotgate.stop());
    const before = await pingOverTls(slotgate.tlsPort, clientTls(clientCert));
    expect(before.serial).toBe('02');
    const old = tlsClient(slotgate.tlsPort);
    expect(await old.set('hup:a', 'before')).toBe('OK');

    await installCert(await ca.issue('slotgate-renewed', 0x42), files);
    slotgate.child.kill('SIGHUP');
    await eventually(() => slotgate.log().includes('TLS certificates reloaded'), 5000);

    const after = await pingOverTls(slotgate.tlsPort, clientTls(clientCert));
    expect(after.reply).toBe('+PONG\r\n');
    expect(after.serial).toBe('42');
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(await old.get('hup:a')).toBe('before');
    // A key that is not PEM: the reload is refused (logged), the loaded certificate still served.
    await fsp.writeFile(files.keyFile, 'not a key\n');
    slotgate.child.kill('SIGHUP');
    await eventually(() => slotgate.log().includes('TLS certificates not reloaded'), 5000);
    expect((await pingOverTls(slotgate.tlsPort, clientTls(clientCert))).serial).toBe('42');
    expect(slotgate.child.exitCode).toBeNull(); // SIGHUP no longer ends the process
    // The log names the files, never their contents.
    expect(slotgate.log()).not.toContain('PRIVATE KEY');
  });
});

let copies = 0;

/** A copy of `cert` at paths the test may overwrite. */
async function copyCert(cert: CertFiles, name: string): Promise<CertFiles> {
  const target = { certFile: path.join(dir, `${name}-${++copies}.crt`), keyFile: path.join(dir, `${name}-${copies}.key`) };
  await installCert(cert, target);
  return target;
}

async function installCert(from: CertFiles, to: CertFiles): Promise<void> {
  await fsp.copyFile(from.certFile, to.certFile);
  await fsp.copyFile(from.keyFile, to.keyFile);
}

interface SpawnedSlotgate {
  child: ChildProcess;
  tlsPort: number;
  log(): string;
  stop(): Promise<void>;
}

/** slotgate's own entry point (dist/src/main.js) as a child process; resolves once it listens. */
async function spawnSlotgate(args: string[]): Promise<SpawnedSlotgate> {
  const main = path.resolve('dist/src/main.js');
  // drain-delay 0: `stop` waits for the exit, and nothing is left to drain by then.
  const child = spawn(process.execPath, [main, '--threads', '1', '--drain-delay', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let tlsPort = 0;
  await eventually(() => {
    const match = /"tlsPort":(\d+)[^\n]*"msg":"listening"/.exec(output);
    if (match !== null) tlsPort = Number(match[1]);
    if (child.exitCode !== null) throw new Error(`slotgate exited: ${output}`);
    return tlsPort > 0;
  }, 10_000);
  return {
    child,
    tlsPort,
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
