/** The machine a benchmark ran on, and bench/RESULTS.md, where `--write` prepends its table. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Machine {
  date: string;
  commit: string;
  cores: number;
  cpuModel: string;
  node: string;
  redis: string;
}

export async function machine(): Promise<Machine> {
  const commit = await run('git', ['rev-parse', '--short', 'HEAD']).then((r) => r.stdout.trim()).catch(() => 'unknown');
  const redis = await run('redis-server', ['--version'])
    .then((r) => /v=(\S+)/.exec(r.stdout)?.[1] ?? 'unknown')
    .catch(() => 'unknown');
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    commit,
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'cpu',
    node: process.version,
    redis,
  };
}

export function describeMachine(m: Machine): string {
  return `${m.date}, commit ${m.commit}, ${m.cores} cores (${m.cpuModel}), Node ${m.node}, Redis ${m.redis}`;
}

/** bench/RESULTS.md of the checkout, from a module in dist/bench/<dir>/. */
export function resultsFile(fromModuleUrl: string): string {
  return path.resolve(path.dirname(new URL(fromModuleUrl).pathname), '../../../bench/RESULTS.md');
}

/** Puts `table` before the first `### ` section of `file` (newest first); creates the file if needed. */
export function prependResults(file: string, table: string): void {
  let existing: string;
  try {
    existing = fs.readFileSync(file, 'utf8');
  } catch {
    existing = '# Benchmark results\n\nProduced by `npm run bench -- --write`; newest first.\n\n';
  }
  const marker = existing.indexOf('### ');
  fs.writeFileSync(file, marker < 0 ? existing + table + '\n' : existing.slice(0, marker) + table + '\n' + existing.slice(marker));
}
