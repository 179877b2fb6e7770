/**
 * Runs redis-benchmark with `--csv` and parses its result lines by the CSV header, so every
 * benchmark reads throughput and latency percentiles the same way.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BenchmarkRun {
  port: number;
  host?: string;
  /** `redis-benchmark --cluster`: one thread per master, keys routed by the client. */
  cluster?: boolean;
  /** `-t` tests (e.g. ['set', 'get']); or `command` for a custom one. */
  tests?: string[];
  /** A custom command (`__rand_int__` placeholders allowed) instead of `tests`. */
  command?: string[];
  requests: number;
  clients: number;
  pipeline: number;
  /** `-d` value size in bytes. Default 64. */
  dataSize?: number;
  /** `-r` keyspace. Default 100,000. */
  keyspace?: number;
  /** Kills redis-benchmark after this long. Default 300 s. */
  timeoutMs?: number;
}

export interface BenchmarkResult {
  rps: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Wall time of the whole redis-benchmark process, start to exit. */
  wallMs: number;
}

/** One result per test, keyed by the CSV's test name in upper case ("GET", "SET", "MGET (...)"). */
export async function redisBenchmark(r: BenchmarkRun): Promise<Map<string, BenchmarkResult>> {
  const args = [
    '-h', r.host ?? '127.0.0.1', '-p', String(r.port),
    '-n', String(Math.round(r.requests)), '-c', String(r.clients), '-P', String(r.pipeline),
    '-d', String(r.dataSize ?? 64), '-r', String(r.keyspace ?? 100_000), '--csv',
  ];
  if (r.cluster) args.push('--cluster');
  if (r.command) args.push(...r.command);
  else args.push('-t', (r.tests ?? ['get']).join(','));
  const started = Date.now();
  const { stdout } = await run('redis-benchmark', args, { maxBuffer: 1 << 24, timeout: r.timeoutMs ?? 300_000 });
  return parseCsv(stdout, Date.now() - started);
}

/** Runs one test; its result (throws if the output has none). */
export async function redisBenchmarkOne(r: BenchmarkRun): Promise<BenchmarkResult> {
  const results = await redisBenchmark(r);
  const wanted = (r.command?.[0] ?? r.tests?.[0] ?? 'get').toUpperCase();
  const found = [...results].find(([name]) => name === wanted || name.startsWith(`${wanted} `));
  if (!found) throw new Error(`no ${wanted} in redis-benchmark's output (got ${[...results.keys()].join(', ')})`);
  return found[1];
}

/** redis-benchmark 7's CSV: a header ("test","rps","avg_latency_ms",...,"p50_latency_ms",...) then one line per test. */
export function parseCsv(stdout: string, wallMs: number): Map<string, BenchmarkResult> {
  const lines = stdout.trim().split('\n').filter((l) => l.startsWith('"'));
  const header = lines.find((l) => l.startsWith('"test"'));
  if (!header) throw new Error(`no CSV header in redis-benchmark output: ${stdout.slice(0, 500)}`);
  const columns = JSON.parse(`[${header}]`) as string[];
  const column = (name: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`redis-benchmark CSV has no ${name} column: ${header}`);
    return i;
  };
  const [rps, avg, p50, p99] = ['rps', 'avg_latency_ms', 'p50_latency_ms', 'p99_latency_ms'].map(column);
  const out = new Map<string, BenchmarkResult>();
  for (const line of lines) {
    if (line === header) continue;
    const f = JSON.parse(`[${line}]`) as string[];
    out.set(String(f[0]).toUpperCase(), { rps: Number(f[rps]), avgMs: Number(f[avg]), p50Ms: Number(f[p50]), p99Ms: Number(f[p99]), wallMs });
  }
  return out;
}
