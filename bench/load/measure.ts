/** The load benchmark's runs (bench/load/run.ts and compare-threads.ts): redis-benchmark rps and a proxy's CPU per request. */
import { treeCpuSeconds } from '../support/process-cpu.js';
import { redisBenchmarkOne } from '../support/redis-benchmark.js';

/** redis-benchmark's rps for one -t test, 64-byte values, keys random over 100,000. */
export async function benchmark(port: number, cluster: boolean, test: string, pipeline: number, requests: number, clients: number): Promise<number> {
  return (await redisBenchmarkOne({ port, cluster, tests: [test], requests, clients, pipeline })).rps;
}

/** Runs one test against a proxy process; [rps, CPU us per request over its process tree]. */
export async function measureProxy(pid: number, port: number, test: string, pipeline: number, requests: number, clients: number): Promise<[number, number]> {
  const before = treeCpuSeconds(pid);
  const rps = await benchmark(port, false, test, pipeline, requests, clients);
  return [rps, ((treeCpuSeconds(pid) - before) * 1e6) / requests];
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
