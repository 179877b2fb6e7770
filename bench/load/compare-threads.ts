/**
 * `npm run bench -- --compare-threads`: slotgate with `--threads 1` and with `--threads 2`
 * (two processes on proxy-port+10 and +11, in front of the same cluster), GET and SET at -P 1
 * and -P 16, each against the direct cluster, the three targets rotating who goes first per
 * round. Acceptance: with threads 2 never slower than threads 1.
 */
import type { LocalCluster } from '../../src/tools/local-cluster.js';
import { stopTree } from '../support/child.js';
import { describeMachine, machine } from '../support/results-file.js';
import { spawnSlotgate, waitForSet } from '../support/slotgate.js';
import { benchmark, measureProxy, median } from './measure.js';
import type { Options } from './run.js';

interface Series {
  rps: number[];
  cpuUs: number[];
}

export async function compareThreads(o: Options, cluster: LocalCluster, main: string): Promise<string> {
  const directPort = cluster.nodes[0].port;
  const direct = (test: string, pipeline: number, requests: number): Promise<number> =>
    // redis-benchmark --cluster refuses a one-node cluster; that node holds every key anyway.
    benchmark(directPort, o.masters > 1, test, pipeline, requests, o.clients);
  const proxies = [1, 2].map((threads, i) => ({ threads, port: o.proxyPort + 10 + i, child: spawnSlotgate({ main, port: o.proxyPort + 10 + i, seeds: cluster.seeds.slice(0, 1), threads }) }));
  try {
    for (const p of proxies) await waitForSet(p.port, 20_000);
    console.log('pre-filling the keys for GET');
    await direct('set', 16, 500_000);
    const cases = [1, 16].flatMap((pipeline) => ['set', 'get'].map((test) => ({ test, pipeline, requests: pipeline === 1 ? o.p1Requests : o.p16Requests })));
    const results = cases.map(() => ({ direct: [] as number[], t1: { rps: [], cpuUs: [] } as Series, t2: { rps: [], cpuUs: [] } as Series }));
    const targets = ['direct', 't1', 't2'] as const;
    for (let round = 0; round < o.rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const [i, c] of cases.entries()) {
        const r = results[i];
        for (const target of order) {
          if (target === 'direct') {
            r.direct.push(await direct(c.test, c.pipeline, c.requests));
            continue;
          }
          const p = proxies[target === 't1' ? 0 : 1];
          const [rps, cpu] = await measureProxy(p.child.pid!, p.port, c.test, c.pipeline, c.requests, o.clients);
          r[target].rps.push(rps);
          r[target].cpuUs.push(cpu);
        }
        console.log(
          `round ${round + 1} ${c.test.toUpperCase()} -P ${c.pipeline}: direct ${r.direct.at(-1)?.toFixed(0)} rps, ` +
            `threads 1 ${r.t1.rps.at(-1)?.toFixed(0)} rps ${r.t1.cpuUs.at(-1)?.toFixed(2)} us CPU/request, ` +
            `threads 2 ${r.t2.rps.at(-1)?.toFixed(0)} rps ${r.t2.cpuUs.at(-1)?.toFixed(2)} us`,
        );
      }
    }
    let worst = Infinity;
    const rows = cases.map((c, i) => {
      const r = results[i];
      const d = median(r.direct);
      const t1 = median(r.t1.rps);
      const t2 = median(r.t2.rps);
      worst = Math.min(worst, t2 / t1);
      return `| ${c.test.toUpperCase()} | ${c.pipeline} | ${c.requests} | ${d.toFixed(0)} | ${t1.toFixed(0)} | ${(t1 / d).toFixed(2)} | ${median(r.t1.cpuUs).toFixed(2)} | ${t2.toFixed(0)} | ${(t2 / d).toFixed(2)} | ${median(r.t2.cpuUs).toFixed(2)} | ${(t2 / t1).toFixed(2)} |`;
    });
    return [
      `### ${describeMachine(await machine())}, slotgate --threads 1 against --threads 2, ${o.masters} masters, ${o.clients} clients, 64-byte values, medians of ${o.rounds} rotating rounds`,
      '',
      '| test | -P | requests | direct cluster rps | threads 1 rps | threads 1/direct | threads 1 CPU us/request | threads 2 rps | threads 2/direct | threads 2 CPU us/request | threads 2/threads 1 |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Threads 2 never slower than threads 1: ${worst >= 1 ? 'yes' : 'NO'} (lowest threads 2/threads 1: ${worst.toFixed(2)}). CPU is summed over each slotgate's process tree.`,
      '',
    ].join('\n');
  } finally {
    for (const p of proxies) await stopTree(p.child);
  }
}
