/**
 * CPU time and memory of a process and everything under it, from /proc. slotgate may fork
 * worker processes under a primary (`--threads N`): they are found through
 * /proc/PID/task/TID/children, recursively, and summed. A child that exits between two reads
 * takes its CPU time with it (its parent's cutime only counts it once reaped), so a worker
 * restarted during a measurement is under-counted.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const CLOCK_TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const MAX_PROCESSES = 10_000;

/** `pid` and all its descendants that are alive now (bounded by MAX_PROCESSES). */
export function processTree(pid: number): number[] {
  const seen: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && seen.length < MAX_PROCESSES) {
    const p = queue.shift()!;
    if (seen.includes(p)) continue;
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // gone
    }
    seen.push(p);
    for (const tid of tasks) {
      try {
        const children = fs.readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (children !== '') queue.push(...children.split(/\s+/).map(Number));
      } catch {
        // the thread or process ended meanwhile
      }
    }
  }
  return seen;
}

/** user+sys CPU seconds of one process (0 when it is gone). */
export function processCpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
}

/** user+sys CPU seconds summed over `pid`'s process tree. */
export function treeCpuSeconds(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + processCpuSeconds(p), 0);
}

/** VmRSS of one process in bytes (0 when it is gone). */
export function processRss(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** VmRSS summed over `pid`'s process tree, in bytes (shared pages are counted once per process). */
export function treeRss(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + processRss(p), 0);
}
