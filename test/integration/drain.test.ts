import { readFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { TestCa } from '../helpers/tls-certs.js';
import { sharedClusterSeeds, testBasePort } from '../helpers/cluster.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { eventually } from '../helpers/eventually.js';
import { httpGet, rawConnect, refused, spawnSlotgate, type SlotgateProcess } from '../helpers/slotgate-process.js';

// The real `slotgate` command (dist/src/main.js) in front of the shared cluster, stopped with
// signals. Its ports: RESP at the test base + 340.., admin at + 970.. (one pair per test).

const cleanup = cleanupAfterEach();
const readPem = (file: string): Buffer => readFileSync(file);
let next = 0;

async function start(extra: string[]): Promise<{ slotgate: SlotgateProcess; port: number; adminPort: number; n: number }> {
  const n = next++;
  const port = testBasePort() + 340 + n;
  const adminPort = testBasePort() + 970 + n;
  const args = ['--threads', '1', '--bind', '127.0.0.1', '--port', String(port), '--admin-bind', '127.0.0.1', '--admin-port', String(adminPort), ...extra];
  const slotgate = await spawnSlotgate([...args, ...sharedClusterSeeds()], { adminPort });
  cleanup(() => slotgate.kill());
  return { slotgate, port, adminPort, n };
}

/** Waits until `count` clients are blocked at their nodes (their dedicated links lent), through PROXY INFO on a connection of its own. */
async function blockedAtNode(port: number, count: number): Promise<void> {
  const probe = await rawConnect(port);
  await eventually(async () => {
    const before = probe.received().length;
    probe.send(['PROXY', 'INFO']);
    await eventually(() => probe.received().length > before && probe.received().endsWith('\r\n\r\n'));
    return new RegExp(`private_links_lent:${count}\r\n`).test(probe.received().slice(before));
  });
  probe.socket.destroy();
  await probe.closed;
}

/** RESP replies for `n` pipelined SETs: how many `+OK` there are, and whether the bytes end at a reply's end. */
function okReplies(text: string): { count: number; whole: boolean } {
  const count = text.split('+OK\r\n').length - 1;
  return { count, whole: text === '+OK\r\n'.repeat(count) };
}

describe('graceful drain (SIGTERM, SIGINT)', () => {
  it('fails /readyz at once, serves old and new clients during drain-delay, then refuses connections, answers requests in flight, closes and exits 0', async () => {
    const { slotgate, port, adminPort } = await start(['--drain-delay', '1500ms', '--drain-timeout', '8s']);
    const idle = await rawConnect(port);
    const blocked = await rawConnect(port);
    // In flight across the whole drain-delay: the node answers it (nil) 3 s after it was sent.
    blocked.send(['BLPOP', `drain:empty:${Date.now()}`, '3']);
    const sentAt = Date.now();
    await blockedAtNode(port, 1);

    const signalledAt = Date.now();
    slotgate.signal('SIGTERM');
    await slotgate.waitForLog('drain: not ready');
    const readyz = await httpGet(adminPort, '/readyz');
    expect(readyz.status).toBe(503);
    expect(JSON.parse(readyz.body)).toMatchObject({ ready: false, reason: 'draining' });

    // Still served during the delay: an open client, and a client that connects now.
    idle.send(['PING']);
    await idle.waitFor(/^\+PONG\r\n$/);
    const late = await rawConnect(port);
    late.send(['SET', 'drain:late', 'v'], ['GET', 'drain:late']);
    await late.waitFor(/^\+OK\r\n\$1\r\nv\r\n$/);

    // After the delay: the listener is closed, idle clients are closed at once, the blocked one
    // gets its reply first.
    const listenersClosed = await slotgate.waitForLog('drain: listeners closed', 5000);
    expect(listenersClosed).toMatchObject({ clients: 3, withRequestsInFlight: 1 });
    expect(await refused(port)).toBe(true);
    const idleClosed = await idle.closed;
    expect(idleClosed.how).toBe('end');
    expect((await late.closed).how).toBe('end');
    expect(idleClosed.at - signalledAt).toBeGreaterThanOrEqual(1400);
    expect(idleClosed.at - signalledAt).toBeLessThan(4000); // at once after the delay (slack for a busy machine)

    const blockedClosed = await blocked.closed;
    expect(blocked.received()).toBe('*-1\r\n'); // the BLPOP's own reply, then the close
    expect(blockedClosed.how).toBe('end');
    expect(blockedClosed.at - sentAt).toBeGreaterThanOrEqual(2900);

    const exit = await slotgate.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(8000);
    const done = await slotgate.waitForLog('drain: node links closed');
    expect(done).toMatchObject({ closed: 3, cut: 0 });
  });

  it('answers pipelined requests in flight when the drain starts (drain-delay 0), whole replies only, then closes', async () => {
    const { slotgate, port } = await start(['--drain-delay', '0', '--drain-timeout', '10s']);
    const client = await rawConnect(port);
    const n = 50_000;
    const value = 'x'.repeat(32);
    let pipeline = '';
    for (let i = 0; i < n; i++) pipeline += `*3\r\n$3\r\nSET\r\n$${String(i).length + 9}\r\ndrain:pl:${i}\r\n$32\r\n${value}\r\n`;
    client.socket.write(pipeline);
    await client.waitFor(/\+OK\r\n/, 5000); // the first replies are out: the rest are on their way
    slotgate.signal('SIGTERM');
    const closed = await client.closed;
    expect(closed.how).toBe('end');
    const { count, whole } = okReplies(client.received());
    expect(whole).toBe(true); // only +OK replies, none cut in the middle
    expect(count).toBeGreaterThan(0);
    const drained = await slotgate.waitForLog('drain: listeners closed');
    if (count < n) expect(drained.withRequestsInFlight).toBe(1); // what was started was answered
    expect((await slotgate.exited).code).toBe(0);
  });

  it('closes subscribed clients and clients inside MULTI at once when the listeners close; the transaction never runs', async () => {
    const { slotgate, port } = await start(['--drain-delay', '200ms', '--drain-timeout', '5s']);
    const subscriber = await rawConnect(port);
    subscriber.send(['SUBSCRIBE', 'drain:channel']);
    await subscriber.waitFor(/drain:channel\r\n:1\r\n$/);
    const key = `drain:multi:${Date.now()}`;
    const tx = await rawConnect(port);
    tx.send(['MULTI'], ['SET', key, 'applied']);
    await tx.waitFor(/^\+OK\r\n\+QUEUED\r\n$/);
    const signalledAt = Date.now();
    slotgate.signal('SIGTERM');
    expect((await subscriber.closed).how).toBe('end');
    expect((await tx.closed).how).toBe('end');
    expect(Date.now() - signalledAt).toBeLessThan(2000);
    expect((await slotgate.exited).code).toBe(0);

    // The queued SET never ran: checked through another slotgate.
    const other = await start(['--drain-delay', '0']);
    const check = await rawConnect(other.port);
    check.send(['EXISTS', key]);
    await check.waitFor(/^:0\r\n$/);
    check.socket.destroy();
  });

  it('cuts clients still open at drain-timeout (BLPOP key 0), says how many in the log, and exits 0 within the bound', async () => {
    const { slotgate, port } = await start(['--drain-delay', '300ms', '--drain-timeout', '1500ms']);
    const forever = await rawConnect(port);
    forever.send(['BLPOP', `drain:never:${Date.now()}`, '0']);
    await blockedAtNode(port, 1);
    const signalledAt = Date.now();
    slotgate.signal('SIGTERM');
    const closed = await forever.closed;
    expect(forever.received()).toBe(''); // no reply: it never came
    expect(closed.at - signalledAt).toBeGreaterThanOrEqual(1400);
    const exit = await slotgate.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(3000);
    expect(await slotgate.waitForLog('drain-timeout reached')).toMatchObject({ cut: 1 });
    expect(await slotgate.waitForLog('drain: node links closed')).toMatchObject({ closed: 0, cut: 1 });
  });

  it('exits at once (code 1) on a second signal during the drain; SIGINT drains like SIGTERM', async () => {
    const { slotgate, port } = await start(['--drain-delay', '20s', '--drain-timeout', '30s']);
    const client = await rawConnect(port);
    slotgate.signal('SIGINT');
    expect(await slotgate.waitForLog('drain: not ready')).toMatchObject({ signal: 'SIGINT' });
    const secondAt = Date.now();
    slotgate.signal('SIGTERM');
    const exit = await slotgate.exited;
    expect(exit.code).toBe(1);
    expect(exit.at - secondAt).toBeLessThan(1000);
    expect(slotgate.logs().some((l) => l.msg.includes('second signal'))).toBe(true);
    await client.closed;
  });

  it('counts the clients a drain closed in slotgate_drain_closes_total', async () => {
    const { slotgate, port, adminPort } = await start(['--drain-delay', '800ms', '--drain-timeout', '5s']);
    const clients = await Promise.all([rawConnect(port), rawConnect(port)]);
    const blocked = await rawConnect(port);
    blocked.send(['BLPOP', `drain:count:${Date.now()}`, '2']);
    await blockedAtNode(port, 1);
    slotgate.signal('SIGTERM');
    await slotgate.waitForLog('drain: listeners closed', 5000);
    for (const c of clients) await c.closed;
    // The admin listener answers until the end: two closed so far, the blocked one still open.
    // (A client may see its close a moment before slotgate counts it: read until it is counted.)
    let metrics = '';
    const counted = async (): Promise<boolean> => /^slotgate_drain_closes_total 2$/m.test((metrics = (await httpGet(adminPort, '/metrics')).body));
    await eventually(counted, 1000).catch(() => undefined);
    expect(metrics).toMatch(/^slotgate_drain_closes_total 2$/m);
    expect(metrics).toMatch(/^slotgate_ready 0$/m);
    await blocked.closed;
    expect((await slotgate.exited).code).toBe(0);
  });

  it('drains TLS clients the same way, and closes the TLS listener too', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-drain-tls-'));
    cleanup(() => fsp.rm(dir, { recursive: true, force: true }));
    const ca = await TestCa.create(dir, 'drain-ca');
    const cert = await ca.issue('drain-proxy', 7);
    const tlsPort = testBasePort() + 359;
    const { slotgate, port } = await start([
      '--tls-port', String(tlsPort), '--tls-cert-file', cert.certFile, '--tls-key-file', cert.keyFile, '--tls-auth-clients', 'no',
      '--drain-delay', '300ms', '--drain-timeout', '5s',
    ]);
    const connectTls = (): Promise<tls.TLSSocket> =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({ port: tlsPort, host: '127.0.0.1', ca: [readPem(ca.certFile)] }, () => resolve(socket));
        socket.once('error', reject);
      });
    const socket = await connectTls();
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    const closedAt = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
    socket.write('*3\r\n$5\r\nBLPOP\r\n$15\r\ndrain:tls:empty\r\n$1\r\n1\r\n');
    const sentAt = Date.now();
    await blockedAtNode(port, 1);
    slotgate.signal('SIGTERM');
    await slotgate.waitForLog('drain: listeners closed', 5000);
    expect(await refused(tlsPort)).toBe(true);
    expect(await refused(port)).toBe(true);
    expect((await closedAt) - sentAt).toBeGreaterThanOrEqual(900);
    expect(received).toBe('*-1\r\n');
    expect((await slotgate.exited).code).toBe(0);
  });
});
