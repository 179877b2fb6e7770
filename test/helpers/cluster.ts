// Access to the cluster that test/helpers/global-setup.ts starts once per run.

import { inject } from 'vitest';
import { Redis } from 'ioredis';

export { masterPorts, startLocalCluster, waitForClusterOk } from '../../src/tools/local-cluster.js';
export type { LocalCluster } from '../../src/tools/local-cluster.js';

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
