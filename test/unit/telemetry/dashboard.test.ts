import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SLOTGATE_METRICS } from '../../../src/telemetry/metrics.js';

// The Grafana dashboard must only query series slotgate exports (the integration test checks
// that every name of SLOTGATE_METRICS is on /metrics), so a renamed metric cannot leave it blank.
const DASHBOARD = new URL('../../../k8s/grafana/slotgate-dashboard.json', import.meta.url);

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

/** PromQL words that are not metric names. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** The metric names an expression selects: identifiers that are not functions, keywords, labels or durations. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range selectors
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ''); // grouping labels
  const names: string[] = [];
  // Not after a digit or a name character: `5m` in `offset 5m`, `e3` in `1e3` are no names.
  for (const match of bare.matchAll(/(?<![\w:.])[a-zA-Z_:][\w:]*(\s*\()?/g)) {
    if (match[1] !== undefined) continue; // a function call
    if (KEYWORDS.has(match[0])) continue;
    names.push(match[0]);
  }
  return names;
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { title: string; panels: Panel[] };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('finds metric names in PromQL (the checker itself)', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, command) (rate(slotgate_x_bucket{a="b(c)"}[$__rate_interval])))')).toEqual([
      'slotgate_x_bucket',
    ]);
    expect(metricNames('sum(up) / count(node_boot_time_seconds offset 5m)')).toEqual(['up', 'node_boot_time_seconds']);
  });

  it('has panels with queries', () => {
    expect(dashboard.title).toBe('slotgate');
    expect(exprs.length).toBeGreaterThanOrEqual(10);
  });

  it('queries only metrics slotgate exports', () => {
    const exported = new Set<string>(SLOTGATE_METRICS);
    for (const { panel, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        const base = exported.has(name) ? name : name.replace(HISTOGRAM_SUFFIX, '');
        expect(exported.has(base), `${panel}: ${name} in ${expr}`).toBe(true);
        if (base !== name) expect(base, `${name}: only histograms have _bucket/_sum/_count`).toBe('slotgate_command_duration_seconds');
      }
    }
  });

  it('covers the key metrics: requests, errors, latency, clients, upstream errors, redirects, slots, readiness', () => {
    const used = new Set(exprs.flatMap(({ expr }) => metricNames(expr)));
    for (const name of [
      'slotgate_commands_total',
      'slotgate_command_duration_seconds_bucket',
      'slotgate_client_connections',
      'slotgate_upstream_errors_total',
      'slotgate_redirections_total',
      'slotgate_slots_covered',
      'slotgate_ready',
    ]) {
      expect(used, name).toContain(name);
    }
    expect(exprs.some(({ expr }) => expr.includes('result="error"'))).toBe(true);
    expect(exprs.some(({ expr }) => expr.startsWith('histogram_quantile(0.99'))).toBe(true);
    expect(exprs.some(({ expr }) => expr.startsWith('histogram_quantile(0.5'))).toBe(true);
  });
});
