/**
 * One config of the scaling benchmark: GET and SET through slotgate and straight to the cluster
 * (`redis-benchmark --cluster`), alternating which goes first. Each run is sized by time: a
 * probe (doubling as warm-up) estimates the rate, then the measured run gets enough requests for
 * `seconds` (at least `minRequests`), because redis-benchmark --cluster rounds its run time to
 * ~250 ms steps and short runs would read the step, not the cluster.
 */
import { redisBenchmarkOne, type BenchmarkResult } from '../support/redis-benchmark.js';
import { treeCpuSeconds } from '../support/process-cpu.js';
import { keyspace, type Config } from './matrix.js';

export interface Target {
  name: 'direct' | 'slotgate';
  port: number;
  /** Use `--cluster` (the direct target). */
  cluster: boolean;
  /** Whose process tree's CPU is counted (slotgate). */
  pid?: number;
}

export interface Sample extends BenchmarkResult {
  requests: number;
  /** CPU us per request over the target's process tree; NaN without a pid. */
  cpuUs: number;
}

export interface Timing {
  seconds: number;
  minRequests: number;
  /** No run starts after this (ms since the epoch). */
  deadline: number;
}

export const TESTS = ['set', 'get'] as const;
export type Test = (typeof TESTS)[number];

const MAX_REQUESTS = 50_000_000;
const PROBE_ATTEMPTS = 4;

function runOnce(t: Target, c: Config, test: Test, requests: number, timing: Timing): Promise<BenchmarkResult> {
  if (Date.now() > timing.deadline) throw new Error('over --max-seconds: stopping');
  return redisBenchmarkOne({
    port: t.port, cluster: t.cluster, tests: [test], requests, clients: c.clients, pipeline: c.pipeline,
    dataSize: c.valueSize, keyspace: keyspace(c.valueSize), timeoutMs: Math.max(60_000, timing.seconds * 20_000),
  });
}

/**
 * Requests for about `timing.seconds` on this target: probes with growing counts until one lasts
 * a third of that (at least 400 ms), so the ~250 ms steps of --cluster skew the estimate little.
 */
export async function sizeRun(t: Target, c: Config, test: Test, timing: Timing): Promise<number> {
  const probeMs = Math.max(400, (timing.seconds * 1000) / 3);
  let n = c.valueSize >= 16_384 ? 1_000 : Math.max(2_000, 20 * c.clients) * Math.min(c.pipeline, 16);
  for (let attempt = 1; ; attempt++) {
    const r = await runOnce(t, c, test, n, timing);
    const ms = Math.max(r.wallMs, 1);
    if (ms >= probeMs || attempt >= PROBE_ATTEMPTS) {
      // redis-benchmark's own rate (its wall time also counts connecting, e.g. ~1 s for 1000 clients).
      const rate = r.rps > 0 && Number.isFinite(r.rps) ? r.rps : (n / ms) * 1000;
      return Math.round(Math.min(MAX_REQUESTS, Math.max(timing.minRequests, rate * timing.seconds)));
    }
    n = Math.min(MAX_REQUESTS, n * Math.min(16, Math.ceil((probeMs * 1.5) / ms)));
  }
}

/** One measured run; CPU summed over the target's process tree (slotgate and any workers). */
export async function measure(t: Target, c: Config, test: Test, requests: number, timing: Timing): Promise<Sample> {
  const before = t.pid === undefined ? 0 : treeCpuSeconds(t.pid);
  const r = await runOnce(t, c, test, requests, timing);
  const cpuUs = t.pid === undefined ? NaN : ((treeCpuSeconds(t.pid) - before) * 1e6) / requests;
  return { ...r, requests, cpuUs };
}

export type ConfigSamples = Record<Test, Record<Target['name'], Sample[]>>;

/** `rounds` rounds of SET and GET on both targets; `offset` alternates who goes first across configs too. */
export async function measureConfig(c: Config, targets: [Target, Target], rounds: number, offset: number, timing: Timing, log: (s: string) => void): Promise<ConfigSamples> {
  const samples: ConfigSamples = { set: { direct: [], slotgate: [] }, get: { direct: [], slotgate: [] } };
  const sizes = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    const order = (round + offset) % 2 === 0 ? targets : ([targets[1], targets[0]] as const);
    for (const test of TESTS) {
      for (const t of order) {
        const key = `${t.name} ${test}`;
        if (!sizes.has(key)) sizes.set(key, await sizeRun(t, c, test, timing));
        const s = await measure(t, c, test, sizes.get(key)!, timing);
        samples[test][t.name].push(s);
        const cpu = Number.isNaN(s.cpuUs) ? '' : `, ${s.cpuUs.toFixed(2)} us CPU/request`;
        log(`  round ${round + 1} ${test.toUpperCase()} ${t.name}: ${s.rps.toFixed(0)} rps (${s.requests} requests, ${(s.wallMs / 1000).toFixed(1)} s), p50 ${s.p50Ms} ms p99 ${s.p99Ms} ms${cpu}`);
      }
    }
  }
  return samples;
}
