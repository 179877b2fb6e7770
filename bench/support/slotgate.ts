/**
 * slotgate as a child process for the benchmarks: the built `dist/src/main.js` on 127.0.0.1,
 * with its admin listener on a free port (so several can run side by side), and optionally
 * `--threads N` (worker processes under a primary; only on builds that have the option).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const run = promisify(execFile);

/** dist/src/main.js, from a module in dist/bench/<dir>/. */
export function slotgateMain(fromModuleUrl: string): string {
  return path.resolve(path.dirname(new URL(fromModuleUrl).pathname), '../../src/main.js');
}

export interface SlotgateOptions {
  main: string;
  port: number;
  seeds: string[];
  /** `--threads N`; left out when undefined. */
  threads?: number;
  /** Appended before the seeds (e.g. ['--max-clients', '20000']). */
  extraArgs?: string[];
  /** stdout and stderr go here (appended); inherited when undefined. */
  logFile?: string;
}

export function spawnSlotgate(o: SlotgateOptions): ChildProcess {
  const args = [o.main, '--port', String(o.port), '--bind', '127.0.0.1', '--admin-port', '0', '--admin-bind', '127.0.0.1', '--log-level', 'warn'];
  if (o.threads !== undefined) args.push('--threads', String(o.threads));
  args.push(...(o.extraArgs ?? []), ...o.seeds);
  if (o.logFile === undefined) return spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const log = fs.openSync(o.logFile, 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  return child;
}

/** Whether this build knows `--threads` (`--threads 1 --check-config SEED` exits 0). */
export async function supportsThreads(main: string, seed: string): Promise<boolean> {
  try {
    await run(process.execPath, [main, '--threads', '1', '--check-config', seed], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Waits until `port` answers PING through redis-cli; throws after `maxMs`. */
export async function waitForPing(port: number, maxMs = 10_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    try {
      const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { timeout: 2_000 });
      if (stdout.trim() === 'PONG') return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`nothing answers PING on ${port} within ${maxMs} ms`);
}

/** Waits until `port` accepts a SET (slotgate has the cluster's topology); throws after `maxMs`. */
export async function waitForSet(port: number, maxMs = 10_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    try {
      const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'SET', 'bench:ready', '1'], { timeout: 2_000 });
      if (stdout.trim() === 'OK') return;
    } catch {
      // not ready yet
    }
    await sleep(100);
  }
  throw new Error(`no SET answered on ${port} within ${maxMs} ms`);
}
