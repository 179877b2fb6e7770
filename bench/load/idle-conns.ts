/**
 * Idle connections benchmark: does slotgate keep its throughput, and how much memory does it
 * spend, with 10,000 idle client connections open next to 100 active ones? Starts its own
 * cluster, slotgate (`--max-clients 20000`) and a standalone redis-server (the reference: the
 * same measurement straight to one Redis), and for each of the two:
 *
 *   1. redis-benchmark SET/GET, -c 100, -P 1 and -P 16, fixed -n, no idle connections;
 *   2. opens 10,000 idle connections from this process (paced, bounded in time), samples RSS;
 *   3. the same redis-benchmark runs again;
 *   4. every idle connection must answer a PING; then they are closed.
 *
 *   npm run bench:idle -- [--idle 10000] [--p1-requests 200000] [--p16-requests 1000000]
 *                         [--clients 100] [--base-port 13401] [--proxy-port 13779] [--write] [--quick]
 *
 * Needs ~2 x 10,000 file descriptors (this process and the server each hold one per
 * connection): `npm run bench:idle` raises the soft limit to the hard one in a shell first.
 * Client, servers and the benchmark share the machine's cores: figures are noisy; what matters
 * is the ratio with/without idle connections, next to Redis' own ratio from the same run.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalCluster, type LocalCluster } from '../../src/tools/local-cluster.js';
import { parseFlags } from '../support/flags.js';
import { stopChild } from '../support/child.js';
import { closeAll, openFilesLimit, openIdle, pingAll } from '../support/idle-conns.js';
import { processRss as vmRss } from '../support/process-cpu.js';
import { redisBenchmark } from '../support/redis-benchmark.js';
import { prependResults, resultsFile } from '../support/results-file.js';
import { waitForPing } from '../support/slotgate.js';

const run = promisify(execFile);

interface Options {
  idle: number;
  p1Requests: number;
  p16Requests: number;
  clients: number;
  basePort: number;
  proxyPort: number;
  write: boolean;
  maxSeconds: number;
  /** A smoke run: 1,000 idle connections, short redis-benchmark runs. */
  quick: boolean;
}

function parseArgs(argv: string[]): Options {
  const o = parseFlags(argv, { idle: 10_000, p1Requests: 200_000, p16Requests: 1_000_000, clients: 100, basePort: 13401, proxyPort: 13779, write: false, maxSeconds: 1200, quick: false });
  return o.quick ? { ...o, idle: 1_000, p1Requests: 20_000, p16Requests: 100_000 } : o;
}

/** redis-benchmark SET and GET; rps of each. */
async function benchmark(port: number, pipeline: number, requests: number, clients: number): Promise<{ set: number; get: number }> {
  const r = await redisBenchmark({ port, tests: ['set', 'get'], requests, clients, pipeline });
  const rps = (name: string): number => {
    const x = r.get(name);
    if (!x) throw new Error(`no ${name} in redis-benchmark output`);
    return x.rps;
  };
  return { set: rps('SET'), get: rps('GET') };
}

interface TargetResult {
  name: string;
  without: { p1: { set: number; get: number }; p16: { set: number; get: number } };
  with: { p1: { set: number; get: number }; p16: { set: number; get: number } };
  rssWithout: number;
  rssWith: number;
  connectMs: number;
  pingOk: number;
}

async function measureTarget(name: string, port: number, pid: number, o: Options): Promise<TargetResult> {
  const pass = async (): Promise<TargetResult['without']> => {
    const p1 = await benchmark(port, 1, o.p1Requests, o.clients);
    const p16 = await benchmark(port, 16, o.p16Requests, o.clients);
    console.log(`  ${name}: -P 1 SET ${p1.set.toFixed(0)} GET ${p1.get.toFixed(0)} rps; -P 16 SET ${p16.set.toFixed(0)} GET ${p16.get.toFixed(0)} rps`);
    return { p1, p16 };
  };
  console.log(`${name}: without idle connections`);
  const without = await pass();
  await sleep(500);
  const rssWithout = vmRss(pid);
  console.log(`${name}: opening ${o.idle} idle connections ...`);
  const { sockets, ms } = await openIdle(port, o.idle, 120_000);
  await sleep(1000);
  const rssWith = vmRss(pid);
  console.log(`${name}: ${o.idle} idle connections in ${ms} ms; RSS ${(rssWithout / 2 ** 20).toFixed(1)} -> ${(rssWith / 2 ** 20).toFixed(1)} MiB`);
  const withIdle = await pass();
  const pingOk = await pingAll(sockets, 10_000);
  console.log(`${name}: ${pingOk} of ${sockets.length} idle connections answered PING`);
  closeAll(sockets);
  await sleep(1000);
  return { name, without, with: withIdle, rssWithout, rssWith, connectMs: ms, pingOk };
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const limit = openFilesLimit();
  if (limit < o.idle + 1000) {
    console.error(`open files limit ${limit} is below ${o.idle + 1000}: run through \`npm run bench:idle\` (raises it to \`ulimit -Hn\`) or raise it yourself`);
    return 2;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotgate-idle-'));
  const here = path.dirname(new URL(import.meta.url).pathname);
  let cluster: LocalCluster | null = null;
  const children: ChildProcess[] = [];
  const deadline = setTimeout(() => {
    console.error(`idle-conns: over --max-seconds ${o.maxSeconds}, stopping`);
    void Promise.all(children.map(stopChild)).then(() => cluster?.stop()).then(() => process.exit(1));
  }, o.maxSeconds * 1000);
  try {
    console.log(`starting a 3-master cluster on ${o.basePort}+, slotgate on ${o.proxyPort}, a standalone redis-server on ${o.basePort + 50}`);
    cluster = await startLocalCluster({ masters: 3, replicasPerMaster: 0, basePort: o.basePort, dir: path.join(dir, 'cluster') });
    const log = fs.openSync(path.join(dir, 'slotgate.log'), 'a');
    const proxy = spawn(
      process.execPath,
      [path.resolve(here, '../../src/main.js'), '--threads', '1', '--port', String(o.proxyPort), '--bind', '127.0.0.1', '--admin-port', '0', '--admin-bind', '127.0.0.1', '--max-clients', '20000', '--log-level', 'warn', ...cluster.seeds],
      { stdio: ['ignore', log, log] },
    );
    children.push(proxy);
    const standalonePort = o.basePort + 50;
    const standalone = spawn('redis-server', ['--port', String(standalonePort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '20000', '--dir', dir], { stdio: 'ignore' });
    children.push(standalone);
    await waitForPing(o.proxyPort);
    await waitForPing(standalonePort);
    const results: TargetResult[] = [];
    results.push(await measureTarget('slotgate', o.proxyPort, proxy.pid!, o));
    results.push(await measureTarget('redis (standalone)', standalonePort, standalone.pid!, o));

    const commit = await run('git', ['rev-parse', '--short', 'HEAD']).then((r) => r.stdout.trim()).catch(() => 'unknown');
    const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
    const rows: string[] = [];
    for (const r of results) {
      for (const [p, key] of [[1, 'p1'], [16, 'p16']] as const) {
        for (const t of ['set', 'get'] as const) {
          const a = r.without[key][t];
          const b = r.with[key][t];
          rows.push(`| ${r.name} | ${t.toUpperCase()} | ${p} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(b / a).toFixed(2)} |`);
        }
      }
    }
    const mem = results.map(
      (r) =>
        `| ${r.name} | ${mib(r.rssWithout)} | ${mib(r.rssWith)} | ${(((r.rssWith - r.rssWithout) / o.idle) / 1024).toFixed(1)} | ${r.connectMs} | ${r.pingOk} / ${o.idle} |`,
    );
    const table = [
      `### ${new Date().toISOString().slice(0, 10)}, idle connections, commit ${commit}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version}`,
      '',
      `${o.idle} idle client connections next to redis-benchmark's ${o.clients} (64-byte values, random keys, -n ${o.p1Requests} at -P 1, ${o.p16Requests} at -P 16), through slotgate (3 masters) and straight to one standalone redis-server, in the same run. One run on a noisy 2-core machine shared with redis-benchmark and the servers: single figures, not medians.`,
      '',
      '| target | test | -P | rps, no idle | rps, with idle | with/without |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      '| target | RSS no idle (MiB) | RSS with idle (MiB) | KiB per idle connection | connect time of the idle connections (ms) | idle connections answering PING after |',
      '|---|---|---|---|---|---|',
      ...mem,
      '',
    ].join('\n');
    console.log('\n' + table);
    if (o.write) {
      prependResults(resultsFile(import.meta.url), table);
      console.log(`written to ${resultsFile(import.meta.url)}`);
    }
    const failed = results.filter((r) => r.pingOk !== o.idle);
    return failed.length === 0 ? 0 : 1;
  } finally {
    clearTimeout(deadline);
    for (const c of children) await stopChild(c);
    await cluster?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
