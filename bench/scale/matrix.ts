/**
 * The scaling benchmark's matrix: a base case (50 clients, -P 1, 64-byte values, 3 masters,
 * one worker) and rows that change one dimension at a time.
 */
export type Group = 'clients' | 'pipeline' | 'size' | 'masters' | 'threads';
export const GROUPS: Group[] = ['clients', 'pipeline', 'size', 'masters', 'threads'];

export interface Config {
  clients: number;
  pipeline: number;
  valueSize: number;
  masters: number;
  /** slotgate's `--threads`; undefined when the build has no such option. */
  threads: number | undefined;
}

export interface MatrixRow {
  group: Group | 'base';
  config: Config;
}

export interface MatrixOptions {
  quick: boolean;
  /** Only this group (and the base case it is compared with); '' for all. */
  only: string;
  /** Thread counts to compare; [undefined] when `--threads` is missing. */
  threadCounts: (number | undefined)[];
}

/** Keys are random over this many; fewer for big values, so the data set stays near 256 MiB. */
export function keyspace(valueSize: number): number {
  return Math.min(100_000, Math.floor((256 * 2 ** 20) / valueSize));
}

export function configKey(c: Config): string {
  return `c${c.clients} P${c.pipeline} d${c.valueSize} m${c.masters} t${c.threads ?? '-'}`;
}

/** Rows in table order: the base case, then group by group the values that differ from it. */
export function buildMatrix(o: MatrixOptions): MatrixRow[] {
  const base: Config = { clients: 50, pipeline: 1, valueSize: 64, masters: 3, threads: o.threadCounts[0] };
  const values: Record<Group, number[]> = o.quick
    ? { clients: [1, 1000], pipeline: [128], size: [100 * 1024], masters: [6], threads: [] } // the extremes, briefly
    : { clients: [1, 10, 200, 1000], pipeline: [16, 128], size: [16, 1024, 100 * 1024], masters: [6], threads: [] };
  const rows: MatrixRow[] = [{ group: 'base', config: base }];
  for (const group of GROUPS) {
    if (o.only !== '' && o.only !== group) continue;
    if (group === 'threads') {
      for (const threads of o.threadCounts.slice(1)) rows.push({ group, config: { ...base, threads } });
      continue;
    }
    const field = ({ clients: 'clients', pipeline: 'pipeline', size: 'valueSize', masters: 'masters' } as const)[group];
    for (const v of values[group]) rows.push({ group, config: { ...base, [field]: v } });
  }
  return rows;
}

/** Each distinct config once, in measuring order: by cluster, then by value size (one pre-fill each). */
export function measurementOrder(rows: MatrixRow[]): Config[] {
  const unique = [...new Map(rows.map((r) => [configKey(r.config), r.config])).values()];
  const rank = (c: Config): number => c.masters * 1e9 + (c.valueSize === 64 ? 0 : c.valueSize);
  return unique.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map(({ c }) => c);
}

/** Thread counts for the workers rows: 1, 2, 4, ... and the core count itself. */
export function threadCounts(cores: number): number[] {
  const counts: number[] = [];
  for (let t = 1; t < cores && counts.length < 16; t *= 2) counts.push(t);
  counts.push(cores);
  return counts;
}
