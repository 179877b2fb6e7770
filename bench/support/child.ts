import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { processTree } from './process-cpu.js';

export function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (!isAlive(child) || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (isAlive(child) && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * stopChild, then the processes that were under it (workers of a primary, by the PIDs read
 * before the stop): SIGKILL for any still alive 5 s later, so no worker outlives a benchmark.
 */
export async function stopTree(child: ChildProcess): Promise<void> {
  const below = child.pid === undefined ? [] : processTree(child.pid).slice(1);
  await stopChild(child);
  const deadline = Date.now() + 5000;
  let alive = below.filter(pidAlive);
  for (let i = 0; alive.length > 0 && i < 100 && Date.now() < deadline; i++) {
    await sleep(50);
    alive = alive.filter(pidAlive);
  }
  for (const pid of alive) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Whether a process (any, not only a child) still runs: it takes signals and is not a zombie
 * waiting for its parent to reap it (its /proc stat state is Z).
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}
