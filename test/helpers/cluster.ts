// Access to the cluster that test/helpers/global-setup.ts starts once per run.

import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { startLocalCluster, type LocalCluster, type LocalClusterOptions } from '../../src/tools/local-cluster.js';

export { masterPorts, startLocalCluster, waitForClusterOk } from '../../src/tools/local-cluster.js';
export type { LocalCluster } from '../../src/tools/local-cluster.js';

/** The first port of this run's test clusters (the shared one's; others are offsets from it). */
export function testBasePort(): number {
  return Number(process.env.SLOTGATE_TEST_BASE_PORT ?? 21001);
}

/**
 * A cluster of one test file's own, for tests that change it (flush it, move slots, fail nodes
 * over): 3 masters at the test base port + `offset`, in a temporary folder named after `name`.
 */
export function startOwnCluster(name: string, offset: number, options: Partial<LocalClusterOptions> = {}): Promise<LocalCluster> {
  return startLocalCluster({
    masters: 3,
    replicasPerMaster: 0,
    basePort: testBasePort() + offset,
    dir: path.join(os.tmpdir(), `slotgate-${name}-${process.pid}`),
    ...options,
  });
}

/** host:port of every node (masters and replicas) of the shared cluster. */
export function sharedClusterSeeds(): string[] {
  return inject('clusterSeeds');
}

/** A master of a test cluster, with a direct client and the slots it owns. */
export interface Master {
  id: string;
  port: number;
  client: Redis;
  slots: number[];
}

/** The masters as the node on `port` sees them (CLUSTER SHARDS), each with a direct client. */
export async function readMasters(port: number): Promise<Master[]> {
  const probe = new Redis({ port, host: '127.0.0.1', protocol: 2 });
  const shards = (await probe.call('CLUSTER', 'SHARDS')) as unknown[][];
  probe.disconnect();
  const out: Master[] = [];
  for (const shard of shards) {
    const slotsRanges = shard[shard.indexOf('slots') + 1] as number[];
    const nodes = shard[shard.indexOf('nodes') + 1] as unknown[][];
    const master = nodes.find((n) => n[n.indexOf('role') + 1] === 'master')!;
    const slots: number[] = [];
    for (let i = 0; i < slotsRanges.length; i += 2) for (let s = Number(slotsRanges[i]); s <= Number(slotsRanges[i + 1]); s++) slots.push(s);
    const mport = Number(master[master.indexOf('port') + 1]);
    out.push({ id: String(master[master.indexOf('id') + 1]), port: mport, slots, client: new Redis({ port: mport, host: '127.0.0.1', protocol: 2 }) });
  }
  return out;
}

/** Moves one slot from `from` to `to` the way redis-cli --cluster reshard does. `midway` runs after the first key batch moved. */
export async function moveSlot(
  masters: Master[],
  slot: number,
  from: Master,
  to: Master,
  midway?: (movedKeys: string[]) => Promise<void>,
): Promise<void> {
  await to.client.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id);
  await from.client.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id);
  let first = true;
  for (let round = 0; round < 1000; round++) {
    const keys = (await from.client.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '4')) as string[];
    if (keys.length === 0) break;
    await from.client.call('MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys);
    if (first && midway) await midway(keys);
    first = false;
  }
  // Target first, then source, then the rest, as redis-cli --cluster reshard does: the other
  // order lets the source say "MOVED to target" while the target still says "MOVED to source".
  for (const m of [to, from, ...masters.filter((x) => x !== to && x !== from)]) {
    await m.client.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
  }
}
