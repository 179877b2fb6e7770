/** The scaling benchmark's markdown table: one row per (matrix row, test), medians over rounds. */
import { configKey, keyspace, type MatrixRow } from './matrix.js';
import { TESTS, type ConfigSamples, type Sample } from './measure.js';

const median = (xs: number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const size = (bytes: number): string => (bytes >= 1024 ? `${bytes / 1024} KB` : `${bytes} B`);
const ms = (x: number): string => (x < 10 ? x.toFixed(3) : x.toFixed(1));

function cells(samples: Sample[]): { rps: number; p50: number; p99: number; cpu: number; requests: number } {
  return {
    rps: median(samples.map((s) => s.rps)),
    p50: median(samples.map((s) => s.p50Ms)),
    p99: median(samples.map((s) => s.p99Ms)),
    cpu: median(samples.map((s) => s.cpuUs)),
    requests: median(samples.map((s) => s.requests)),
  };
}

export function scaleTable(rows: MatrixRow[], results: Map<string, ConfigSamples>): string[] {
  const out = [
    '| rows | clients | -P | value | keys | masters | threads | test | requests direct / slotgate | direct rps | slotgate rps | slotgate/direct | direct p50 / p99 ms | slotgate p50 / p99 ms | slotgate CPU us/request |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { group, config: c } of rows) {
    const r = results.get(configKey(c));
    if (!r) continue;
    for (const test of TESTS) {
      const d = cells(r[test].direct);
      const s = cells(r[test].slotgate);
      out.push(
        `| ${group} | ${c.clients} | ${c.pipeline} | ${size(c.valueSize)} | ${keyspace(c.valueSize)} | ${c.masters} | ${c.threads ?? 'n/a'} | ${test.toUpperCase()} | ` +
          `${d.requests} / ${s.requests} | ${d.rps.toFixed(0)} | ${s.rps.toFixed(0)} | ${(s.rps / d.rps).toFixed(2)} | ` +
          `${ms(d.p50)} / ${ms(d.p99)} | ${ms(s.p50)} / ${ms(s.p99)} | ${s.cpu.toFixed(2)} |`,
      );
    }
  }
  return out;
}
