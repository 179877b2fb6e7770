/**
 * Memory per idle client connection: RSS (summed over the process tree, for slotgate's
 * workers) before and after opening `count` connections that send nothing; then every one must
 * still answer PING.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { closeAll, openIdle, pingAll } from '../support/idle-conns.js';
import { treeRss } from '../support/process-cpu.js';

export interface IdleResult {
  target: string;
  count: number;
  rssBefore: number;
  rssWith: number;
  connectMs: number;
  answered: number;
}

export async function measureIdle(target: string, port: number, pid: number, count: number, log: (s: string) => void): Promise<IdleResult> {
  await sleep(500);
  const rssBefore = treeRss(pid);
  const { sockets, ms } = await openIdle(port, count, 120_000);
  try {
    await sleep(1000);
    const rssWith = treeRss(pid);
    const answered = await pingAll(sockets, 10_000);
    const r = { target, count, rssBefore, rssWith, connectMs: ms, answered };
    log(`  ${target}: ${count} idle connections in ${ms} ms, RSS ${mib(rssBefore)} -> ${mib(rssWith)} MiB, ${answered} answered PING`);
    return r;
  } finally {
    closeAll(sockets);
    await sleep(500);
  }
}

export const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

export function idleTable(results: IdleResult[]): string[] {
  const count = results[0]?.count ?? 0;
  return [
    `| target | RSS before (MiB) | RSS with ${count} idle clients (MiB) | KiB per idle connection | connect time (ms) | answering PING after |`,
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.target} | ${mib(r.rssBefore)} | ${mib(r.rssWith)} | ${((r.rssWith - r.rssBefore) / r.count / 1024).toFixed(1)} | ${r.connectMs} | ${r.answered} / ${r.count} |`),
  ];
}
