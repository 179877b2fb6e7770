import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Where cgroup v2 says how much CPU time this cgroup may use per period. */
export const CGROUP_CPU_MAX = '/sys/fs/cgroup/cpu.max';

/**
 * The number of CPUs the process may really use: `available` (os.availableParallelism(), which
 * already honours the affinity mask) capped by the cgroup v2 quota `cpuMax` (the text of
 * cpu.max: "<quota> <period>", or "max <period>" for no cap; null when there is no such file).
 * A quota of 1.5 CPUs counts as 2: the second worker still gets half a core, and a pod limited to
 * 500m still runs one. Pure, so the rules are unit-tested; always at least 1.
 */
export function cpuCount(available: number, cpuMax: string | null): number {
  const cpus = Math.max(1, Math.floor(available));
  if (cpuMax === null) return cpus;
  const [quotaText, periodText] = cpuMax.trim().split(/\s+/);
  if (quotaText === undefined || quotaText === 'max') return cpus;
  const quota = Number(quotaText);
  const period = periodText === undefined ? 100000 : Number(periodText);
  // Anything unreadable leaves the CPU count alone rather than guessing a lower one.
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return cpus;
  return Math.max(1, Math.min(cpus, Math.ceil(quota / period)));
}

/** cpuCount for this process: availableParallelism and this cgroup's cpu.max (absent on cgroup v1 or outside Linux). */
export function detectCpuCount(): number {
  let cpuMax: string | null = null;
  try {
    cpuMax = readFileSync(CGROUP_CPU_MAX, 'utf8');
  } catch {
    cpuMax = null;
  }
  return cpuCount(os.availableParallelism(), cpuMax);
}
