/**
 * Scaling benchmark: how slotgate's throughput, latency and CPU per request change with the
 * client count, pipeline depth, value size, cluster size and worker count, each against the
 * direct cluster (`redis-benchmark --cluster`) in the same run, alternating who goes first; and
 * its memory per idle client connection next to one redis-server's. Starts its own clusters
 * (masters only: 3, and 6 for the cluster-size rows) and slotgate processes.
 *
 *   npm run bench:scale -- [--quick] [--rounds 3] [--only clients|pipeline|size|masters|threads|idle]
 *                          [--write] [--base-port 18001] [--seconds 3] [--idle 10000]
 *                          [--max-seconds 1800] [--slotgate dist/src/main.js]
 *
 * Ports: 3-master cluster base+0..2, 6-master cluster base+10..15 (cluster bus: port + 10000),
 * slotgate processes base+100.., the standalone redis-server base+200.
 * Base case (measured once, first row): 50 clients, -P 1, 64-byte values (keys random over 100,000, pre-filled for GET;
 * fewer keys for 100 KB values), 3 masters, one worker. Worker rows: `--threads 1, 2, 4, ...,
 * cores` when the build has the option (`--threads 1 --check-config` exits 0); else slotgate
 * runs without it and the table says n/a. CPU and RSS are summed over slotgate's process tree.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startLocalCluster, type LocalCluster } from '../../src/tools/local-cluster.js';
import { parseFlags } from '../support/flags.js';
import { stopTree } from '../support/child.js';
import { openFilesLimit } from '../support/idle-conns.js';
import { redisBenchmark } from '../support/redis-benchmark.js';
import { describeMachine, machine, prependResults, resultsFile } from '../support/results-file.js';
import { slotgateMain, spawnSlotgate, supportsThreads, waitForPing, waitForSet } from '../support/slotgate.js';
import { buildMatrix, configKey, GROUPS, keyspace, measurementOrder, threadCounts, type Config } from './matrix.js';
import { measureConfig, type ConfigSamples, type Timing } from './measure.js';
import { idleTable, measureIdle, type IdleResult } from './idle.js';
import { scaleTable } from './table.js';

const run = promisify(execFile);
const log = (s: string): void => console.log(s);

function parseArgs(argv: string[]) {
  const f = parseFlags(argv, { quick: false, rounds: 0, only: '', write: false, basePort: 18001, seconds: 0, idle: 0, maxSeconds: 0, slotgate: '' });
  if (f.only !== '' && f.only !== 'idle' && !(GROUPS as string[]).includes(f.only)) throw new Error(`--only must be one of ${[...GROUPS, 'idle'].join(', ')}`);
  return {
    ...f,
    rounds: f.rounds || (f.quick ? 1 : 3),
    seconds: f.seconds || (f.quick ? 0.5 : 3),
    minRequests: f.quick ? 2_000 : 20_000,
    idle: f.idle || (f.quick ? 2_000 : 10_000),
    maxSeconds: f.maxSeconds || (f.quick ? 300 : 1800),
    slotgate: f.slotgate || slotgateMain(import.meta.url),
  };
}
type Options = ReturnType<typeof parseArgs>;

/** Empties every master and SETs values of `valueSize` over the keyspace (5 x as many random SETs: ~99 % of keys). */
async function prefill(cluster: LocalCluster, valueSize: number): Promise<void> {
  for (const n of cluster.nodes) await run('redis-cli', ['-h', '127.0.0.1', '-p', String(n.port), 'FLUSHALL'], { timeout: 30_000 });
  const keys = keyspace(valueSize);
  await redisBenchmark({ port: cluster.nodes[0].port, cluster: true, tests: ['set'], requests: 5 * keys, clients: 50, pipeline: 16, dataSize: valueSize, keyspace: keys, timeoutMs: 300_000 });
}

class Processes {
  private children: ChildProcess[] = [];
  private slotgates = new Map<string, { port: number; pid: number }>();
  private nextPort: number;

  constructor(private o: Options, private dir: string) {
    this.nextPort = o.basePort + 100;
  }

  /** The slotgate in front of `cluster` with `threads` for `purpose`, started on first use. */
  async slotgate(cluster: LocalCluster, threads: number | undefined, purpose = 'load'): Promise<{ port: number; pid: number }> {
    const key = `${cluster.nodes[0].port} ${threads ?? '-'} ${purpose}`;
    let sg = this.slotgates.get(key);
    if (sg === undefined) {
      const port = this.nextPort++;
      log(`starting slotgate on ${port} (threads ${threads ?? 'n/a'}) in front of ${cluster.nodes.length} masters`);
      const child = spawnSlotgate({ main: this.o.slotgate, port, seeds: cluster.seeds, threads, extraArgs: ['--max-clients', '20000'], logFile: path.join(this.dir, `slotgate-${port}.log`) });
      this.children.push(child);
      await waitForSet(port, 20_000);
      sg = { port, pid: child.pid! };
      this.slotgates.set(key, sg);
    }
    return sg;
  }

  standalone(port: number): ChildProcess {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '20000', '--dir', this.dir], { stdio: 'ignore' });
    this.children.push(child);
    return child;
  }

  async stopAll(): Promise<void> {
    for (const c of this.children) await stopTree(c);
    this.children = [];
    this.slotgates.clear();
  }
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const timing: Timing = { seconds: o.seconds, minRequests: o.minRequests, deadline: started + o.maxSeconds * 1000 };
  const cores = os.availableParallelism();
  const threadsOk = await supportsThreads(o.slotgate, '127.0.0.1:1');
  const counts = threadsOk ? threadCounts(cores) : [undefined];
  log(threadsOk ? `threads: ${counts.join(', ')} (${cores} cores)` : 'threads: n/a (option missing)');

  const rows = o.only === 'idle' ? [] : buildMatrix({ quick: o.quick, only: o.only, threadCounts: counts });
  const configs = measurementOrder(rows);
  const withIdle = o.only === '' || o.only === 'idle';
  const needFiles = Math.max(withIdle ? o.idle : 0, ...configs.map((c) => c.clients)) + 500;
  if (openFilesLimit() < needFiles) {
    log(`open files limit ${openFilesLimit()} is below ${needFiles}: run through \`npm run bench:scale\` (raises it to \`ulimit -Hn\`)`);
    return 2;
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotgate-scale-'));
  const procs = new Processes(o, dir);
  let cluster: LocalCluster | null = null;
  const hardStop = setTimeout(() => {
    console.error(`bench:scale: over --max-seconds ${o.maxSeconds} + 60, stopping`);
    void procs.stopAll().then(() => cluster?.stop()).then(() => process.exit(1));
  }, (o.maxSeconds + 60) * 1000);
  const results = new Map<string, ConfigSamples>();
  let idle: IdleResult[] = [];
  try {
    for (const masters of [3, 6]) {
      const mine = configs.filter((c) => c.masters === masters);
      if (mine.length === 0 && !(masters === 3 && withIdle)) continue;
      const basePort = o.basePort + (masters === 3 ? 0 : 10);
      log(`starting a ${masters}-master cluster on ${basePort}+`);
      cluster = await startLocalCluster({ masters, replicasPerMaster: 0, basePort, dir: path.join(dir, `cluster-${masters}`) });
      let filled = -1;
      for (const c of mine) {
        if (c.valueSize !== filled) {
          log(`pre-filling ${keyspace(c.valueSize)} keys of ${c.valueSize} bytes`);
          await prefill(cluster, c.valueSize);
          filled = c.valueSize;
        }
        const sg = await procs.slotgate(cluster, c.threads);
        log(`${configKey(c)} (${((Date.now() - started) / 1000).toFixed(0)} s so far)`);
        const targets = [
          { name: 'direct' as const, port: cluster.nodes[0].port, cluster: true },
          { name: 'slotgate' as const, port: sg.port, cluster: false, pid: sg.pid },
        ] as const;
        results.set(configKey(c), await measureConfig(c, [targets[0], targets[1]], o.rounds, results.size, timing, log));
      }
      if (masters === 3 && withIdle) idle = await idleRows(o, procs, cluster, counts);
      await procs.stopAll();
      await cluster.stop();
      cluster = null;
    }
    const m = await machine();
    const elapsed = ((Date.now() - started) / 60_000).toFixed(1);
    const table = [
      `### ${describeMachine(m)}: scaling benchmark${o.quick ? ' (--quick smoke run)' : ''}`,
      '',
      `\`npm run bench:scale${process.argv.slice(2).length ? ' -- ' + process.argv.slice(2).join(' ') : ''}\`, ${elapsed} min. One dimension at a time from the base (50 clients, -P 1, 64 B, 3 masters, ` +
        `${counts[0] === undefined ? 'threads: n/a (option missing)' : 'threads 1'}); slotgate against the direct cluster (\`redis-benchmark --cluster\`) in the same run, ` +
        `alternating who goes first; medians of ${o.rounds} round(s), each run sized for ~${o.seconds} s by a probe (at least ${o.minRequests} requests). ` +
        'Client, proxy and servers share the cores: compare the ratio and the CPU per request (user+sys over slotgate\'s process tree), not absolute rps.',
      '',
      ...scaleTable(rows, results),
      ...(idle.length ? ['', `Memory per idle client connection (RSS over the process tree, ${o.idle} idle connections, then a PING on each):`, '', ...idleTable(idle)] : []),
      '',
    ].join('\n');
    log('\n' + table);
    if (o.write) {
      prependResults(resultsFile(import.meta.url), table);
      log(`written to ${resultsFile(import.meta.url)}`);
    }
    return 0;
  } finally {
    clearTimeout(hardStop);
    await procs.stopAll();
    await cluster?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Idle connections to fresh slotgate processes (one worker and the most workers) and to one standalone redis-server. */
async function idleRows(o: Options, procs: Processes, cluster: LocalCluster, counts: (number | undefined)[]): Promise<IdleResult[]> {
  log(`idle connections: ${o.idle} per target`);
  const out: IdleResult[] = [];
  for (const threads of [...new Set([counts[0], counts.at(-1)])]) {
    // A fresh process: one that has served the load rows keeps heap it would reuse for the connections.
    const sg = await procs.slotgate(cluster, threads, 'idle');
    out.push(await measureIdle(`slotgate (threads ${threads ?? 'n/a'})`, sg.port, sg.pid, o.idle, log));
  }
  const port = o.basePort + 200;
  const standalone = procs.standalone(port);
  await waitForPing(port);
  out.push(await measureIdle('redis-server (standalone)', port, standalone.pid!, o.idle, log));
  return out;
}

process.exitCode = await main();
