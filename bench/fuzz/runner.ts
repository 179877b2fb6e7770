/**
 * Sends the seeded fuzz cases (bench/fuzz/cases.ts) to a running slotgate over many connections
 * and checks what comes back, while a control connection keeps writing and reading values it
 * checks, and slotgate's memory is sampled. Used by the `npm run fuzz` command (bench/fuzz/run.ts)
 * and, with fewer cases, by test/integration/fuzz.test.ts.
 *
 * A connection gets a few cases, written one write at a time, after a canary (SET and GET of a
 * key of its own, split at random too: its two replies are known). Then it half-closes and reads
 * until slotgate closes it (slotgate answers what it read before the half-close, but lets a
 * client that is blocked, subscribed or in MULTI go at once, dropping what it still owed it; every
 * fourth connection waits for its replies before the half-close, and the canary is answered before
 * the cases). A connection slotgate closes early (a protocol error) is replaced: the
 * cases not yet written go to the next connection. What a connection received must be well-formed
 * RESP, every error Redis-style (`-ERR ...`), nothing after a protocol error, and it must be
 * closed within `closeTimeoutMs` of the half-close (else slotgate hangs).
 */
import net from 'node:net';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { canary, generateCases, type CaseKind, type CaseLimits, type FuzzCase, DEFAULT_CASE_LIMITS } from './cases.js';
import { RespChecker, isRedisStyleError } from './resp-check.js';

export interface FuzzOptions {
  host?: string;
  port: number;
  seed: number;
  cases: number;
  /** Connections open at once. */
  concurrency?: number;
  /** Most cases on one connection (each gets 1..this many). */
  casesPerConnection?: number;
  limits?: CaseLimits;
  /** slotgate's resident memory in bytes now (VmRSS), or null if it cannot be read. */
  sampleRss: () => number | null;
  rssIntervalMs?: number;
  /** False once slotgate's process is gone. */
  alive?: () => boolean;
  /** After the half-close, slotgate must close the connection within this. */
  closeTimeoutMs?: number;
  /** Every fourth connection waits until no reply came for this long before its half-close. */
  lingerMs?: number;
  /** One control round trip (4 requests) must be answered within this. */
  controlTimeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface FuzzStats {
  cases: number;
  casesByKind: Record<string, number>;
  connections: number;
  bytesSent: number;
  repliesReceived: number;
  errorsReplied: number;
  protocolErrors: number;
  /** Connections slotgate closed before the fuzzer had written all it meant to. */
  closesBySlotgate: number;
  /** Connections whose last reply was cut at the fuzzer's half-close (allowed when blocked, subscribed or in MULTI). */
  cutByHalfClose: number;
  /** The most frequent error texts (digits masked), with counts. */
  topErrors: [string, number][];
  rss: { first: number; peak: number; last: number; firstQuarterMean: number; lastQuarterMean: number; samples: number };
  control: { ok: number; failed: number };
  durationMs: number;
  failures: string[];
  /** More failures than `failures` holds. */
  failureCount: number;
}

const MAX_FAILURES_KEPT = 50;

class Shared {
  readonly failures: string[] = [];
  failureCount = 0;
  readonly errorTexts = new Map<string, number>();
  connections = 0;
  casesSent = 0;
  readonly casesByKind: Record<string, number> = {};
  bytesSent = 0;
  replies = 0;
  errors = 0;
  protocolErrors = 0;
  closesBySlotgate = 0;
  cutByHalfClose = 0;

  fail(why: string): void {
    this.failureCount++;
    if (this.failures.length < MAX_FAILURES_KEPT) this.failures.push(why);
  }

  countError(text: string): void {
    const key = text.slice(0, 80).replace(/[0-9]+/g, 'N');
    this.errorTexts.set(key, (this.errorTexts.get(key) ?? 0) + 1);
  }
}

/** Pulls cases: first those a closed connection did not get to, then new ones. */
class CaseQueue {
  private readonly leftovers: FuzzCase[] = [];
  private readonly source: Generator<FuzzCase>;
  private exhausted = false;

  constructor(seed: number, count: number, limits: CaseLimits) {
    this.source = generateCases(seed, count, limits);
  }

  take(n: number): FuzzCase[] {
    const out = this.leftovers.splice(0, n);
    while (out.length < n && !this.exhausted) {
      const next = this.source.next();
      if (next.done) this.exhausted = true;
      else out.push(next.value);
    }
    return out;
  }

  giveBack(cases: FuzzCase[]): void {
    this.leftovers.push(...cases);
  }

  get empty(): boolean {
    return this.exhausted && this.leftovers.length === 0;
  }
}

function encodeBulk(v: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n')]);
}

function multibulk(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) parts.push(encodeBulk(typeof a === 'string' ? Buffer.from(a, 'latin1') : a));
  return Buffer.concat(parts);
}

/** Writes `data`, waiting for the socket to drain when its buffer is full. */
async function write(socket: net.Socket, data: Buffer): Promise<void> {
  if (socket.write(data)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Resolves once `lingerMs` pass without a new reply byte and no reply half-received (or `maxMs` in all, or `stop()`). */
async function quiet(checker: RespChecker, lingerMs: number, maxMs: number, stop: () => boolean): Promise<void> {
  const end = Date.now() + maxMs;
  let seen = -1;
  let since = Date.now();
  while (!stop() && Date.now() < end) {
    const now = checker.replies.length * 1e9 + checker.pendingBytes;
    if (now !== seen) {
      seen = now;
      since = Date.now();
    } else if (checker.pendingBytes === 0 && Date.now() - since >= lingerMs) return;
    await sleep(10);
  }
}

/** One fuzz connection: canary, cases, half-close, read to the end, check. */
async function runConnection(o: Required<Pick<FuzzOptions, 'host' | 'port' | 'seed' | 'closeTimeoutMs' | 'lingerMs'>>, n: number, cases: FuzzCase[], queue: CaseQueue, s: Shared): Promise<void> {
  s.connections++;
  const socket = net.connect({ host: o.host, port: o.port });
  socket.setNoDelay(true);
  const checker = new RespChecker();
  let closed = false;
  let serverEnded = false;
  let halfClosed = false;
  const closedPromise = new Promise<void>((resolve) => socket.once('close', () => {
    closed = true;
    resolve();
  }));
  socket.on('data', (d: Buffer) => checker.feed(d));
  socket.on('end', () => (serverEnded = true));
  let socketError: string | null = null;
  socket.on('error', (e: NodeJS.ErrnoException) => (socketError = e.code ?? e.message));
  const connected = await new Promise<boolean>((resolve) => {
    socket.once('connect', () => resolve(true));
    socket.once('close', () => resolve(false));
  });
  const ids = cases.map((c) => c.id);
  if (!connected) {
    s.fail(`connection ${n} (cases ${ids.join(',')}): could not connect: ${socketError}`);
    queue.giveBack(cases);
    return;
  }
  // The canary is answered before the cases are sent: a case may leave the client blocked,
  // subscribed or in MULTI, and slotgate then drops what it still owes at the half-close.
  const can = canary(o.seed, n);
  for (const w of can.writes) {
    await write(socket, w);
    s.bytesSent += w.length;
    await yieldToLoop();
  }
  const canaryDeadline = Date.now() + o.closeTimeoutMs;
  while (checker.replies.length < 2 && checker.broken === null && !closed && Date.now() < canaryDeadline) await sleep(1);
  let written = 0;
  for (const c of cases) {
    if (closed || serverEnded) break;
    for (const w of c.writes) {
      if (closed || serverEnded) break;
      await write(socket, w);
      s.bytesSent += w.length;
      // Separate writes, so slotgate usually reads them separately.
      await yieldToLoop();
    }
    written++;
    s.casesSent++;
    s.casesByKind[c.kind] = (s.casesByKind[c.kind] ?? 0) + 1;
  }
  if (written < cases.length) {
    s.closesBySlotgate++;
    queue.giveBack(cases.slice(written));
  } else if (serverEnded || closed) {
    s.closesBySlotgate++;
  }
  // Every fourth connection waits for its replies to stop before the half-close, so that the
  // replies to the valid commands among its cases are read and checked too.
  if (!closed && n % 4 === 0) await quiet(checker, o.lingerMs, o.closeTimeoutMs, () => closed);
  if (!closed) {
    socket.end();
    halfClosed = true;
  }
  const timedOut = await Promise.race([closedPromise.then(() => false), sleep(o.closeTimeoutMs).then(() => true)]);
  const where = `connection ${n} (cases ${ids.slice(0, written).join(',')})`;
  if (timedOut) {
    s.fail(`${where}: not closed ${o.closeTimeoutMs} ms after the ${halfClosed ? 'half-close' : 'last write'} (hang?); ${checker.replies.length} replies, ${checker.pendingBytes} bytes of an unfinished one`);
    socket.destroy();
  }
  if (checker.broken !== null) s.fail(`${where}: reply is not RESP: ${checker.broken}`);
  const replies = checker.replies;
  const protocolError = replies.findIndex((r) => r.type === '-' && r.text.startsWith('ERR Protocol error'));
  if (checker.pendingBytes > 0 && checker.broken === null) {
    // A client blocked, subscribed or in MULTI is let go at once at its half-close (a reply
    // being written may be cut, as Redis' would be); when slotgate closes on its own, the last
    // reply must be whole.
    if (halfClosed && protocolError < 0) s.cutByHalfClose++;
    else s.fail(`${where}: closed in the middle of a reply: ${checker.pendingBytes} bytes`);
  }
  s.replies += replies.length;
  // The canary: SET answered +OK, GET with its value, byte for byte.
  const expectedGet = encodeBulk(Buffer.from(can.value, 'latin1')).toString('latin1');
  if (replies.length < 2 || replies[0].head !== '+OK\r\n' || replies[1].head !== expectedGet) {
    s.fail(`${where}: canary answered ${JSON.stringify(replies.slice(0, 2).map((r) => r.head))}, expected +OK and ${JSON.stringify(expectedGet)}`);
  }
  for (const text of checker.errors) {
    s.errors++;
    s.countError(text);
    if (!isRedisStyleError(text)) s.fail(`${where}: error reply not Redis-style: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (protocolError >= 0) {
    s.protocolErrors++;
    if (protocolError !== replies.length - 1) {
      s.fail(`${where}: ${replies.length - 1 - protocolError} replies after the protocol error: ${JSON.stringify(replies[protocolError + 1].head)}`);
    }
  }
}

/** SET/GET/MSET/MGET of the control keys with values it checks, until `stop()`. */
function controlLoop(o: Required<Pick<FuzzOptions, 'host' | 'port' | 'seed' | 'controlTimeoutMs'>>, s: Shared): { stop: () => Promise<{ ok: number; failed: number }> } {
  let stopping = false;
  let ok = 0;
  let failed = 0;
  const done = (async () => {
    let socket: net.Socket | null = null;
    let checker = new RespChecker();
    let rng = o.seed >>> 0;
    const next = (): number => (rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0);
    const value = (): Buffer => {
      const b = Buffer.allocUnsafe(1 + (next() % 40));
      for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
      return b;
    };
    for (let round = 0; !stopping; round++) {
      if (socket === null) {
        checker = new RespChecker();
        const sock = net.connect({ host: o.host, port: o.port });
        sock.setNoDelay(true);
        sock.on('data', (d: Buffer) => checker.feed(d));
        sock.on('error', () => {});
        const up = await new Promise<boolean>((resolve) => {
          sock.once('connect', () => resolve(true));
          sock.once('close', () => resolve(false));
        });
        if (!up) {
          failed += 4;
          s.fail(`control: could not connect (round ${round})`);
          await sleep(200);
          continue;
        }
        socket = sock;
        socket.once('close', () => (socket = null));
      }
      const [a, b, k, va, vb, v] = [`ctl:a:${round % 50}`, `ctl:b:${round % 37}`, `ctl:k:${round % 61}`, value(), value(), value()];
      const before = checker.replies.length;
      const expected = [
        '+OK\r\n',
        '+OK\r\n',
        encodeBulk(v).toString('latin1'),
        `*3\r\n${[va, vb, v].map((x) => encodeBulk(x).toString('latin1')).join('')}`,
      ];
      socket.write(Buffer.concat([multibulk(['MSET', a, va, b, vb]), multibulk(['SET', k, v]), multibulk(['GET', k]), multibulk(['MGET', a, b, k])]));
      const deadline = Date.now() + o.controlTimeoutMs;
      while (checker.replies.length < before + 4 && checker.broken === null && socket !== null && Date.now() < deadline) await sleep(1);
      const got = checker.replies.slice(before, before + 4).map((r) => r.head);
      if (got.length === 4 && got.every((g, i) => g === expected[i]) && checker.broken === null) ok += 4;
      else {
        const good = got.filter((g, i) => g === expected[i]).length;
        ok += good;
        failed += 4 - good;
        s.fail(`control round ${round}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}${checker.broken ? ` (${checker.broken})` : ''}`);
        (socket as net.Socket | null)?.destroy();
        socket = null;
      }
      // Keep replies from piling up in memory.
      if (checker.replies.length > 1000) checker.replies.splice(0, checker.replies.length);
      await sleep(1);
    }
    (socket as net.Socket | null)?.destroy();
  })();
  return {
    stop: async () => {
      stopping = true;
      await done;
      return { ok, failed };
    },
  };
}

/** One PING on a new connection, answered +PONG within `timeoutMs`. */
export async function pingOnce(host: string, port: number, timeoutMs = 5000): Promise<boolean> {
  const socket = net.connect({ host, port });
  socket.on('error', () => {});
  const checker = new RespChecker();
  socket.on('data', (d: Buffer) => checker.feed(d));
  socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
  const deadline = Date.now() + timeoutMs;
  while (checker.replies.length === 0 && Date.now() < deadline && !socket.destroyed) await sleep(5);
  socket.destroy();
  return checker.replies[0]?.head === '+PONG\r\n';
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzStats> {
  const o = {
    host: '127.0.0.1',
    concurrency: 64,
    casesPerConnection: 8,
    limits: DEFAULT_CASE_LIMITS,
    rssIntervalMs: 250,
    alive: () => true,
    closeTimeoutMs: 10_000,
    lingerMs: 100,
    controlTimeoutMs: 5_000,
    log: () => {},
    ...options,
  };
  const started = Date.now();
  const s = new Shared();
  const queue = new CaseQueue(o.seed, o.cases, o.limits);
  const rssSamples: number[] = [];
  const sample = (): void => {
    const rss = o.sampleRss();
    if (rss !== null) rssSamples.push(rss);
  };
  sample();
  let lastLog = Date.now();
  const sampler = setInterval(() => {
    sample();
    if (!o.alive()) s.fail('slotgate process is gone');
    if (Date.now() - lastLog >= 5000) {
      lastLog = Date.now();
      o.log(`  ${s.casesSent} cases, ${s.connections} connections, ${(s.bytesSent / 1e6).toFixed(1)} MB sent, RSS ${((rssSamples.at(-1) ?? 0) / 2 ** 20).toFixed(0)} MiB, ${s.failureCount} failures`);
    }
  }, o.rssIntervalMs);
  const control = controlLoop(o, s);
  // A per-connection case count from its own seeded sequence, so runs repeat.
  let pickState = (o.seed ^ 0x9e3779b9) >>> 0;
  const pickCount = (): number => {
    pickState = (Math.imul(pickState, 1664525) + 1013904223) >>> 0;
    return 1 + (pickState % o.casesPerConnection);
  };
  let connectionNo = 0;
  const worker = async (): Promise<void> => {
    // Bounded: a case is only given back after it was taken from a connection that closed early.
    while (!queue.empty && o.alive() && s.failureCount < 1000) {
      const cases = queue.take(pickCount());
      if (cases.length === 0) break;
      await runConnection(o, connectionNo++, cases, queue, s);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const controlResult = await control.stop();
  clearInterval(sampler);
  sample();
  if (!o.alive()) s.fail('slotgate process is gone at the end');
  else if (!(await pingOnce(o.host, o.port))) s.fail('slotgate does not answer PING at the end');
  const q = Math.max(1, Math.floor(rssSamples.length / 4));
  return {
    cases: s.casesSent,
    casesByKind: s.casesByKind,
    connections: s.connections,
    bytesSent: s.bytesSent,
    repliesReceived: s.replies,
    errorsReplied: s.errors,
    protocolErrors: s.protocolErrors,
    closesBySlotgate: s.closesBySlotgate,
    cutByHalfClose: s.cutByHalfClose,
    topErrors: [...s.errorTexts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12),
    rss: {
      first: rssSamples[0] ?? 0,
      peak: Math.max(0, ...rssSamples),
      last: rssSamples.at(-1) ?? 0,
      firstQuarterMean: mean(rssSamples.slice(0, q)),
      lastQuarterMean: mean(rssSamples.slice(-q)),
      samples: rssSamples.length,
    },
    control: controlResult,
    durationMs: Date.now() - started,
    failures: s.failures,
    failureCount: s.failureCount,
  };
}

export interface RssBound {
  /** Peak RSS must stay under this. */
  maxBytes: number;
  /** The last quarter's mean may exceed the first quarter's by at most this. */
  growthBytes: number;
}

/** The failures of a run, the memory bound and the control connection included. */
export function verdict(stats: FuzzStats, bound: RssBound, expectedCases: number): string[] {
  const out = [...stats.failures];
  if (stats.failureCount > stats.failures.length) out.push(`... and ${stats.failureCount - stats.failures.length} more failures`);
  if (stats.cases < expectedCases) out.push(`only ${stats.cases} of ${expectedCases} cases were sent`);
  if (stats.control.failed > 0) out.push(`control connection: ${stats.control.failed} wrong or missing answers`);
  if (stats.control.ok === 0) out.push('control connection: no answer at all');
  if (stats.rss.samples > 0 && stats.rss.peak > bound.maxBytes) out.push(`peak RSS ${mib(stats.rss.peak)} over the bound ${mib(bound.maxBytes)}`);
  if (stats.rss.samples > 0 && stats.rss.lastQuarterMean - stats.rss.firstQuarterMean > bound.growthBytes) {
    out.push(`RSS grew from ${mib(stats.rss.firstQuarterMean)} (first quarter's mean) to ${mib(stats.rss.lastQuarterMean)} (last quarter's), more than ${mib(bound.growthBytes)}`);
  }
  return out;
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The summary table. */
export function summaryTable(stats: FuzzStats, seed: number): string {
  const rows: [string, string][] = [
    ['seed', String(seed)],
    ['cases', String(stats.cases)],
    ['cases by kind', Object.entries(stats.casesByKind).sort().map(([k, v]) => `${k} ${v}`).join(', ')],
    ['connections', String(stats.connections)],
    ['bytes sent', `${stats.bytesSent} (${mib(stats.bytesSent)})`],
    ['replies received', String(stats.repliesReceived)],
    ['errors replied', String(stats.errorsReplied)],
    ['protocol errors (connection closed)', String(stats.protocolErrors)],
    ['closes by slotgate before the last case', String(stats.closesBySlotgate)],
    ['last reply cut by the half-close', String(stats.cutByHalfClose)],
    ['RSS first / peak / last', `${mib(stats.rss.first)} / ${mib(stats.rss.peak)} / ${mib(stats.rss.last)}`],
    ['RSS mean, first / last quarter', `${mib(stats.rss.firstQuarterMean)} / ${mib(stats.rss.lastQuarterMean)} (${stats.rss.samples} samples)`],
    ['control ops ok / failed', `${stats.control.ok} / ${stats.control.failed}`],
    ['failures', String(stats.failureCount)],
    ['duration', `${(stats.durationMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v} |`);
  lines.push('', 'most frequent errors:', ...stats.topErrors.map(([t, n]) => `  ${String(n).padStart(7)}  ${t}`));
  return lines.join('\n');
}

export type { CaseKind };
