/**
 * Load benchmark: redis-benchmark against slotgate and against the cluster directly
 * (`redis-benchmark --cluster`), in the same run, alternating, on a local cluster this script
 * starts. Prints throughput ratios and slotgate's own CPU time per request.
 *
 *   npm run bench -- [--rounds 3] [--p1-requests 500000] [--p16-requests 1000000] [--masters 3] [--write]
 *                    [--mget-only] [--mget-requests 200000] [--threads N] [--compare-threads] [--quick]
 *                    [--base-port 22001] [--proxy-port 22777] [--slotgate path/to/dist/src/main.js]
 *
 * `--threads N` is passed to slotgate (default 1: one process, as the earlier figures). slotgate's
 * CPU per request is summed over its process tree (primary and workers). `--compare-threads`
 * runs only a comparison of two slotgate processes, `--threads 1` and `--threads 2`, alternating
 * with the direct cluster (bench/load/compare-threads.ts). `--quick`: one round of short runs.
 *
 * Cross-slot MGET (10 random keys, so 10 slots) through slotgate is compared with the same MGET
 * on one standalone redis-server in the same run (`--mget-only` runs just that part).
 *
 * `--masters 1` measures slotgate in front of a single node owning every slot (one link).
 *
 * Two references are measured in the same run: a minimal Node proxy (bench/load/minimal-proxy.ts,
 * the least any Node proxy must do: frame, hash, forward, reorder; none of the correctness),
 * alternating with slotgate and the cluster, and a Node server that only answers +PONG (the cost
 * of the client-side reads and writes alone).
 *
 * Client, proxy and servers share this machine's cores, so absolute figures are noisy; the ratio
 * from the same run and the proxy's CPU per request are what to compare. `redis-benchmark
 * --cluster` rounds its run time to steps of about 250 ms, so every run lasts several seconds:
 * 500,000 requests at -P 1 (about 5 s direct) and 1,000,000 at -P 16.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { startLocalCluster } from '../../src/tools/local-cluster.js';
import { stopTree } from '../support/child.js';
import { parseFlags } from '../support/flags.js';
import { treeCpuSeconds } from '../support/process-cpu.js';
import { redisBenchmarkOne } from '../support/redis-benchmark.js';
import { benchmark, measureProxy, median } from './measure.js';
import { describeMachine, machine, prependResults, resultsFile } from '../support/results-file.js';
import { slotgateMain, spawnSlotgate, supportsThreads, waitForPing, waitForSet } from '../support/slotgate.js';
import { compareThreads } from './compare-threads.js';

export interface Options {
  rounds: number;
  p1Requests: number;
  p16Requests: number;
  masters: number;
  clients: number;
  basePort: number;
  proxyPort: number;
  write: boolean;
  /** Only the cross-slot MGET cases (quicker). */
  mgetOnly: boolean;
  mgetRequests: number;
  /** slotgate's `--threads`; 0 = not passed. */
  threads: number;
  compareThreads: boolean;
  quick: boolean;
  /** Another slotgate build's dist/src/main.js ('' = this checkout's). */
  slotgate: string;
}

function parseArgs(argv: string[]): Options {
  const o = parseFlags(argv, {
    rounds: 3, p1Requests: 500_000, p16Requests: 1_000_000, masters: 3, clients: 50, basePort: 22001, proxyPort: 22777,
    write: false, mgetOnly: false, mgetRequests: 200_000, threads: 0, compareThreads: false, quick: false, slotgate: '',
  });
  return o.quick ? { ...o, rounds: 1, p1Requests: 50_000, p16Requests: 200_000, mgetRequests: 20_000 } : o;
}

/** MGET of 10 random keys: each `__rand_int__` is drawn on its own, so the keys fall in 10 slots (but for rare collisions). */
const MGET_10 = ['MGET', ...Array.from({ length: 10 }, () => 'key:__rand_int__')];

async function mgetBenchmark(port: number, pipeline: number, requests: number, clients: number): Promise<number> {
  return (await redisBenchmarkOne({ port, command: MGET_10, requests, clients, pipeline })).rps;
}

/**
 * Cross-slot MGET through slotgate (split per slot, merged) against the same MGET on one
 * standalone redis-server, where no split is needed: the cost of splitting and merging.
 */
async function measureMget(o: Options, proxyPid: number, standalonePort: number): Promise<string[]> {
  // The keys exist on both sides: 100,000 SETs of 64-byte values with the same key names.
  for (const [port, cluster] of [[o.proxyPort, false], [standalonePort, false]] as const) {
    await benchmark(port, cluster, 'set', 16, 300_000, o.clients);
  }
  const rows: string[] = [];
  for (const pipeline of [1, 16]) {
    const requests = pipeline === 1 ? o.mgetRequests : o.mgetRequests * 2;
    const direct: number[] = [];
    const proxied: number[] = [];
    const cpuUs: number[] = [];
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? ['direct', 'proxy'] : ['proxy', 'direct'];
      for (const target of order) {
        if (target === 'direct') direct.push(await mgetBenchmark(standalonePort, pipeline, requests, o.clients));
        else {
          const before = treeCpuSeconds(proxyPid);
          proxied.push(await mgetBenchmark(o.proxyPort, pipeline, requests, o.clients));
          cpuUs.push(((treeCpuSeconds(proxyPid) - before) * 1e6) / requests);
        }
      }
      console.log(`round ${round + 1} MGET 10 keys -P ${pipeline}: standalone ${direct.at(-1)?.toFixed(0)} rps, slotgate ${proxied.at(-1)?.toFixed(0)} rps ${cpuUs.at(-1)?.toFixed(2)} us CPU/request`);
    }
    const d = median(direct);
    const p = median(proxied);
    rows.push(`| MGET 10 keys in 10 slots (direct = one standalone node) | ${pipeline} | ${requests} | ${d.toFixed(0)} | ${p.toFixed(0)} | ${(p / d).toFixed(2)} | ${median(cpuUs).toFixed(2)} | | |`);
  }
  return rows;
}


/** Prints the table and, with --write, puts it first in bench/RESULTS.md. */
function emit(table: string, write: boolean): void {
  console.log('\n' + table);
  if (write) {
    prependResults(resultsFile(import.meta.url), table);
    console.log(`written to ${resultsFile(import.meta.url)}`);
  }
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const slotgate = o.slotgate || slotgateMain(import.meta.url);
  const hasThreads = await supportsThreads(slotgate, '127.0.0.1:1');
  if ((o.threads > 0 || o.compareThreads) && !hasThreads) {
    console.log('threads: n/a (option missing): this slotgate build has no --threads');
    return 2;
  }
  const dir = path.join(os.tmpdir(), `slotgate-bench-${process.pid}`);
  console.log(`starting a ${o.masters}-master cluster on ${o.basePort}+ ...`);
  const cluster = await startLocalCluster({ masters: o.masters, replicasPerMaster: 0, basePort: o.basePort, dir });
  if (o.compareThreads) {
    try {
      emit(await compareThreads(o, cluster, slotgate), o.write);
      return 0;
    } finally {
      await cluster.stop();
    }
  }
  const here = path.dirname(new URL(import.meta.url).pathname);
  // One process (threads 1) unless told otherwise, as bench/RESULTS.md's earlier figures were
  // measured (older builds, --slotgate, have no such option); CPU per request is summed over
  // slotgate's process tree either way.
  const proxy = spawnSlotgate({ main: slotgate, port: o.proxyPort, seeds: cluster.seeds.slice(0, 1), threads: o.threads > 0 ? o.threads : hasThreads ? 1 : undefined });
  const pongPort = o.proxyPort + 1;
  const pong = spawn(process.execPath, [path.resolve(here, 'pong-server.js'), String(pongPort)], { stdio: 'ignore' });
  const directPort = cluster.nodes[0].port;
  const minimalPort = o.proxyPort + 2;
  const minimal = spawn(process.execPath, [path.resolve(here, 'minimal-proxy.js'), String(minimalPort), String(directPort)], { stdio: 'inherit' });
  const standalonePort = o.basePort + 50;
  const standalone = spawn('redis-server', ['--port', String(standalonePort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const children: ChildProcess[] = [proxy, pong, minimal, standalone];
  try {
    await waitForSet(o.proxyPort);
    await waitForPing(standalonePort);
    const mgetRows = await measureMget(o, proxy.pid!, standalonePort);
    const cases = (o.mgetOnly ? [] : [
      { test: 'set', pipeline: 1, requests: o.p1Requests },
      { test: 'get', pipeline: 1, requests: o.p1Requests },
      { test: 'set', pipeline: 16, requests: o.p16Requests },
      { test: 'get', pipeline: 16, requests: o.p16Requests },
    ]);
    const results = cases.map(() => ({ direct: [] as number[], proxy: [] as number[], cpuUs: [] as number[], minimal: [] as number[], minimalCpuUs: [] as number[] }));
    const measure = (pid: number, port: number, c: (typeof cases)[number]): Promise<[number, number]> => measureProxy(pid, port, c.test, c.pipeline, c.requests, o.clients);
    const targets = ['direct', 'proxy', 'minimal'];
    for (let round = 0; round < o.rounds; round++) {
      for (const [i, c] of cases.entries()) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        const r = results[i];
        for (const target of order) {
          if (target === 'direct') {
            // redis-benchmark --cluster refuses a one-node cluster; that node holds every key anyway.
            r.direct.push(await benchmark(directPort, o.masters > 1, c.test, c.pipeline, c.requests, o.clients));
          } else if (target === 'proxy') {
            const [rps, cpu] = await measure(proxy.pid!, o.proxyPort, c);
            r.proxy.push(rps);
            r.cpuUs.push(cpu);
          } else {
            const [rps, cpu] = await measure(minimal.pid!, minimalPort, c);
            r.minimal.push(rps);
            r.minimalCpuUs.push(cpu);
          }
        }
        console.log(
          `round ${round + 1} ${c.test.toUpperCase()} -P ${c.pipeline}: direct ${r.direct.at(-1)?.toFixed(0)} rps, ` +
            `slotgate ${r.proxy.at(-1)?.toFixed(0)} rps ${r.cpuUs.at(-1)?.toFixed(2)} us CPU/request, ` +
            `minimal proxy ${r.minimal.at(-1)?.toFixed(0)} rps ${r.minimalCpuUs.at(-1)?.toFixed(2)} us`,
        );
      }
    }
    const rows = cases.map((c, i) => {
      const r = results[i];
      const d = median(r.direct);
      const p = median(r.proxy);
      const m = median(r.minimal);
      return `| ${c.test.toUpperCase()} | ${c.pipeline} | ${c.requests} | ${d.toFixed(0)} | ${p.toFixed(0)} | ${(p / d).toFixed(2)} | ${median(r.cpuUs).toFixed(2)} | ${(m / d).toFixed(2)} | ${median(r.minimalCpuUs).toFixed(2)} |`;
    });
    // The Node floor: a server that only reads requests and writes +PONG, measured the same way.
    const floor: string[] = [];
    for (const pipeline of o.mgetOnly ? [] : [1, 16]) {
      const requests = pipeline === 1 ? o.p1Requests : o.p16Requests;
      const cpu: number[] = [];
      for (let round = 0; round < o.rounds; round++) {
        cpu.push((await measureProxy(pong.pid!, pongPort, 'ping_mbulk', pipeline, requests, o.clients))[1]);
      }
      floor.push(`| PING (Node floor: slotgate's socket I/O, no upstream) | ${pipeline} | ${requests} | | | | ${median(cpu).toFixed(2)} | | |`);
    }
    const threads = `, slotgate --threads ${o.threads > 0 ? o.threads : 1}`;
    const table = [
      `### ${describeMachine(await machine())}, ${o.masters} masters, ${o.clients} clients, 64-byte values${threads}, medians of ${o.rounds} alternating rounds`,
      '',
      '| test | -P | requests | direct cluster rps | slotgate rps | slotgate/direct | slotgate CPU us/request | minimal proxy/direct | minimal proxy CPU us/request |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      ...floor,
      ...mgetRows,
      '',
    ].join('\n');
    emit(table, o.write);
    return 0;
  } finally {
    for (const c of children) await stopTree(c);
    await cluster.stop();
  }
}

process.exitCode = await main();
