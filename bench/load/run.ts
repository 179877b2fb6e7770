/**
 * Load benchmark: redis-benchmark against slotgate and against the cluster directly
 * (`redis-benchmark --cluster`), in the same run, alternating, on a local cluster this script
 * starts. Prints throughput ratios and slotgate's own CPU time per request.
 *
 *   npm run bench -- [--rounds 3] [--p1-requests 500000] [--p16-requests 1000000] [--masters 3] [--write]
 *                    [--mget-only] [--mget-requests 200000]
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
import { spawn, execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalCluster } from '../../src/tools/local-cluster.js';

const run = promisify(execFile);

interface Options {
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
}

function parseArgs(argv: string[]): Options {
  const o: Options = { rounds: 3, p1Requests: 500_000, p16Requests: 1_000_000, masters: 3, clients: 50, basePort: 22001, proxyPort: 22777, write: false, mgetOnly: false, mgetRequests: 200_000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    switch (flag) {
      case '--rounds': o.rounds = value; i++; break;
      case '--p1-requests': o.p1Requests = value; i++; break;
      case '--p16-requests': o.p16Requests = value; i++; break;
      case '--masters': o.masters = value; i++; break;
      case '--clients': o.clients = value; i++; break;
      case '--base-port': o.basePort = value; i++; break;
      case '--proxy-port': o.proxyPort = value; i++; break;
      case '--write': o.write = true; break;
      case '--mget-only': o.mgetOnly = true; break;
      case '--mget-requests': o.mgetRequests = value; i++; break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  return o;
}

/** user+sys CPU seconds of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function benchmark(port: number, cluster: boolean, test: string, pipeline: number, requests: number, clients: number): Promise<number> {
  const args = ['-p', String(port), '-t', test, '-n', String(requests), '-c', String(clients), '-d', '64', '-r', '100000', '-P', String(pipeline), '--csv'];
  if (cluster) args.push('--cluster');
  return requestsPerSecond(args, `"${test.toUpperCase()}"`);
}

/** Runs redis-benchmark with `args` (ending in --csv); the rps of the CSV line starting with `linePrefix`. */
async function requestsPerSecond(args: string[], linePrefix: string): Promise<number> {
  const { stdout } = await run('redis-benchmark', args, { maxBuffer: 1 << 24 });
  // CSV: "test","rps","avg_latency_ms",...
  const line = stdout.trim().split('\n').find((l) => l.startsWith(linePrefix));
  if (!line) throw new Error(`no result in redis-benchmark output: ${stdout}`);
  return Number(JSON.parse(`[${line}]`)[1]);
}

/** MGET of 10 random keys: each `__rand_int__` is drawn on its own, so the keys fall in 10 slots (but for rare collisions). */
const MGET_10 = ['MGET', ...Array.from({ length: 10 }, () => 'key:__rand_int__')];

function mgetBenchmark(port: number, pipeline: number, requests: number, clients: number): Promise<number> {
  const args = ['-p', String(port), '-n', String(requests), '-c', String(clients), '-r', '100000', '-P', String(pipeline), '--csv', ...MGET_10];
  return requestsPerSecond(args, '"MGET');
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
          const before = cpuSeconds(proxyPid);
          proxied.push(await mgetBenchmark(o.proxyPort, pipeline, requests, o.clients));
          cpuUs.push(((cpuSeconds(proxyPid) - before) * 1e6) / requests);
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

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const dir = path.join(os.tmpdir(), `slotgate-bench-${process.pid}`);
  console.log(`starting a ${o.masters}-master cluster on ${o.basePort}+ ...`);
  const cluster = await startLocalCluster({ masters: o.masters, replicasPerMaster: 0, basePort: o.basePort, dir });
  const here = path.dirname(new URL(import.meta.url).pathname);
  const main = path.resolve(here, '../../src/main.js');
  // One process (threads 1), as bench/RESULTS.md's figures were measured: CPU per request is read
  // from this PID.
  const proxy = spawn(process.execPath, [main, '--threads', '1', '--port', String(o.proxyPort), '--bind', '127.0.0.1', '--log-level', 'warn', ...cluster.seeds.slice(0, 1)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const pongPort = o.proxyPort + 1;
  const pong = spawn(process.execPath, [path.resolve(here, 'pong-server.js'), String(pongPort)], { stdio: 'ignore' });
  const directPort = cluster.nodes[0].port;
  const minimalPort = o.proxyPort + 2;
  const minimal = spawn(process.execPath, [path.resolve(here, 'minimal-proxy.js'), String(minimalPort), String(directPort)], { stdio: 'inherit' });
  const standalonePort = o.basePort + 50;
  const standalone = spawn('redis-server', ['--port', String(standalonePort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await run('redis-cli', ['-p', String(o.proxyPort), 'SET', 'bench:ready', '1']);
        break;
      } catch {
        await sleep(100);
      }
    }
    for (let i = 0; i < 100; i++) {
      try {
        await run('redis-cli', ['-p', String(standalonePort), 'PING']);
        break;
      } catch {
        await sleep(100);
      }
    }
    const mgetRows = await measureMget(o, proxy.pid!, standalonePort);
    const cases = (o.mgetOnly ? [] : [
      { test: 'set', pipeline: 1, requests: o.p1Requests },
      { test: 'get', pipeline: 1, requests: o.p1Requests },
      { test: 'set', pipeline: 16, requests: o.p16Requests },
      { test: 'get', pipeline: 16, requests: o.p16Requests },
    ]);
    const results = cases.map(() => ({ direct: [] as number[], proxy: [] as number[], cpuUs: [] as number[], minimal: [] as number[], minimalCpuUs: [] as number[] }));
    /** Runs one case against a proxy process; returns [rps, its CPU us per request]. */
    const measure = async (pid: number, port: number, c: (typeof cases)[number]): Promise<[number, number]> => {
      const before = cpuSeconds(pid);
      const rps = await benchmark(port, false, c.test, c.pipeline, c.requests, o.clients);
      return [rps, ((cpuSeconds(pid) - before) * 1e6) / c.requests];
    };
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
        const before = cpuSeconds(pong.pid!);
        await benchmark(pongPort, false, 'ping_mbulk', pipeline, requests, o.clients);
        cpu.push(((cpuSeconds(pong.pid!) - before) * 1e6) / requests);
      }
      floor.push(`| PING (Node floor: slotgate's socket I/O, no upstream) | ${pipeline} | ${requests} | | | | ${median(cpu).toFixed(2)} | | |`);
    }
    const commit = await run('git', ['rev-parse', '--short', 'HEAD']).then((r) => r.stdout.trim()).catch(() => 'unknown');
    const table = [
      `### ${new Date().toISOString().slice(0, 10)}, commit ${commit}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version}, ${o.masters} masters, ${o.clients} clients, 64-byte values, medians of ${o.rounds} alternating rounds`,
      '',
      '| test | -P | requests | direct cluster rps | slotgate rps | slotgate/direct | slotgate CPU us/request | minimal proxy/direct | minimal proxy CPU us/request |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      ...floor,
      ...mgetRows,
      '',
    ].join('\n');
    console.log('\n' + table);
    if (o.write) {
      const file = path.resolve(here, '../../../bench/RESULTS.md');
      mkdirSync(path.dirname(file), { recursive: true });
      let existing = '';
      try {
        existing = readFileSync(file, 'utf8');
      } catch {
        existing = '# Benchmark results\n\nProduced by `npm run bench -- --write`; newest first.\n\n';
      }
      const marker = existing.indexOf('### ');
      writeFileSync(file, marker < 0 ? existing + table + '\n' : existing.slice(0, marker) + table + '\n' + existing.slice(marker));
      console.log(`written to ${file}`);
    }
  } finally {
    proxy.kill('SIGTERM');
    pong.kill('SIGTERM');
    minimal.kill('SIGTERM');
    standalone.kill('SIGTERM');
    await cluster.stop();
  }
}

await main();
