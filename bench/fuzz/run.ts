/**
 * The fuzzer as a command: starts its own local cluster and its own slotgate process, sends the
 * seeded hostile cases (bench/fuzz/cases.ts) through bench/fuzz/runner.ts, prints a summary
 * table and exits 1 on any failure (a crash, a hang, a reply that is not RESP or not a Redis-style
 * error, a wrong answer on the control connection, memory over the bound or growing).
 *
 *   npm run fuzz -- [--cases 100000] [--seed 1] [--concurrency 64] [--base-port 13201]
 *                   [--proxy-port 13777] [--max-rss-mb 512] [--rss-growth-mb 96] [--max-seconds 1800]
 *
 * Memory bound: slotgate idles at about 60-80 MB RSS. What a fuzz connection can make it hold is
 * bounded by what it sends (a case is at most about 70 KB; lengths that are declared but never
 * sent must cost nothing), so 64 connections account for a few MB at once; 512 MB leaves room
 * for V8's heap growth under load and is far below what one 2 GB declared length, or a leak over
 * 100,000 connections, would cost. Growth: the mean RSS of the run's last quarter may exceed the
 * first quarter's by at most 96 MB (the heap settling after start-up; a per-connection leak of
 * even 1 KB over 50,000+ connections would show as a steady climb).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalCluster, type LocalCluster } from '../../src/tools/local-cluster.js';
import { mib, pingOnce, runFuzz, summaryTable, verdict } from './runner.js';
import { parseFlags } from '../support/flags.js';
import { isAlive, stopChild } from '../support/child.js';

interface Options {
  cases: number;
  seed: number;
  concurrency: number;
  basePort: number;
  proxyPort: number;
  maxRssMb: number;
  rssGrowthMb: number;
  maxSeconds: number;
}

function parseArgs(argv: string[]): Options {
  return parseFlags(argv, { cases: 100_000, seed: 1, concurrency: 64, basePort: 13201, proxyPort: 13777, maxRssMb: 512, rssGrowthMb: 96, maxSeconds: 1800 });
}

/** VmRSS of a process in bytes, from /proc; null once it is gone. */
export function vmRss(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}


async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotgate-fuzz-'));
  const here = path.dirname(new URL(import.meta.url).pathname);
  let cluster: LocalCluster | null = null;
  let proxy: ChildProcess | null = null;
  // Bounded in time whatever happens: the processes are stopped in `finally`.
  const deadline = setTimeout(() => {
    console.error(`fuzz: over --max-seconds ${o.maxSeconds}, stopping`);
    process.exitCode = 1;
    void cleanup().then(() => process.exit(1));
  }, o.maxSeconds * 1000);
  const cleanup = async (): Promise<void> => {
    if (proxy !== null) await stopChild(proxy);
    if (cluster !== null) await cluster.stop();
    proxy = null;
    cluster = null;
  };
  try {
    console.log(`fuzz: starting a 3-master cluster on ${o.basePort}+ ...`);
    cluster = await startLocalCluster({ masters: 3, replicasPerMaster: 0, basePort: o.basePort, dir: path.join(dir, 'cluster') });
    const logFile = path.join(dir, 'slotgate.log');
    const out = fs.openSync(logFile, 'a');
    proxy = spawn(
      process.execPath,
      [path.resolve(here, '../../src/main.js'), '--threads', '1', '--port', String(o.proxyPort), '--bind', '127.0.0.1', '--admin-port', '0', '--admin-bind', '127.0.0.1', '--log-level', 'warn', ...cluster.seeds],
      { stdio: ['ignore', out, out] },
    );
    fs.closeSync(out);
    const child = proxy;
    const pid = child.pid!;
    for (let i = 0; i < 100 && !(await pingOnce('127.0.0.1', o.proxyPort, 500)); i++) await sleep(100);
    console.log(`fuzz: slotgate pid ${pid} on ${o.proxyPort} (log ${logFile}); ${o.cases} cases, seed ${o.seed}, ${o.concurrency} connections at once`);
    const stats = await runFuzz({
      port: o.proxyPort,
      seed: o.seed,
      cases: o.cases,
      concurrency: o.concurrency,
      sampleRss: () => vmRss(pid),
      alive: () => isAlive(child),
      log: (line) => console.log(line),
    });
    const problems = verdict(stats, { maxBytes: o.maxRssMb * 2 ** 20, growthBytes: o.rssGrowthMb * 2 ** 20 }, o.cases);
    console.log('\n' + summaryTable(stats, o.seed));
    console.log(`\nbound: peak RSS under ${mib(o.maxRssMb * 2 ** 20)}, last quarter within ${mib(o.rssGrowthMb * 2 ** 20)} of the first`);
    if (!isAlive(child)) console.log(`slotgate exited: code ${child.exitCode}, signal ${child.signalCode}; log ${logFile}`);
    if (problems.length > 0) {
      console.log(`\nFAILED (${problems.length}):`);
      for (const p of problems.slice(0, 60)) console.log(`  - ${p}`);
      return 1;
    }
    console.log('\nOK');
    return 0;
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
}

process.exitCode = await main();
